package axios_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/axiosgo/axios"
)

// formServer answers with what it received: the body of a url-encoded
// form, or one line per part of a multipart one.
func formServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil { // not multipart: the body as it came
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s\n%s", r.Header.Get("Content-Type"), b)
			return
		}
		fmt.Fprintln(w, "multipart/form-data")
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			b, _ := io.ReadAll(p)
			if p.FileName() != "" {
				fmt.Fprintf(w, "%s: file %s (%s) %q\n", p.FormName(), p.FileName(), p.Header.Get("Content-Type"), b)
			} else {
				fmt.Fprintf(w, "%s: %s\n", p.FormName(), b)
			}
		}
	}))
}

// PostForm sends a map as multipart/form-data, its fields named as axios's
// postForm names them; url.Values goes url-encoded, as http.PostForm.
func ExampleClient_PostForm() {
	srv := formServer()
	defer srv.Close()
	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()
	ctx := context.Background()

	resp, err := api.PostForm(ctx, "/users", map[string]any{
		"user": map[string]any{"name": "kim", "roles": []string{"admin", "dev"}},
		"ids":  []int{1, 2},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(resp.Data))

	resp, err = api.PostForm(ctx, "/login", url.Values{"user": {"kim"}, "password": {"s3cret & more"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(resp.Data))
	// Output:
	// multipart/form-data
	// ids[]: 1
	// ids[]: 2
	// user[name]: kim
	// user[roles][0]: admin
	// user[roles][1]: dev
	// application/x-www-form-urlencoded
	// password=s3cret+%26+more&user=kim
}

// A map or a struct goes url-encoded when the Content-Type says so, as
// axios's transformRequest does: no JSON under a form's name.
func ExampleConfig_urlEncodedForm() {
	srv := formServer()
	defer srv.Close()
	api := axios.Create(axios.Config{
		BaseURL: srv.URL,
		Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
	})
	defer api.CloseIdleConnections()

	type filter struct {
		Query string   `json:"q"`
		Tags  []string `json:"tags,omitempty"`
		Page  int      `json:"page"`
	}
	resp, err := api.Post(context.Background(), "/search", filter{Query: "<go> & axios", Page: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(resp.Data))
	// Output:
	// application/x-www-form-urlencoded
	// q=%3Cgo%3E+%26+axios&page=2
}

// A FormData sends fields and files as multipart/form-data, in order, and
// streams the files: an *os.File is read while the request is written.
func ExampleFormData() {
	srv := formServer()
	defer srv.Close()
	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()

	form := axios.NewFormData()
	form.Append("title", "report")
	form.AppendFile("file", "report.csv", strings.NewReader("a,b\n1,2\n")) // or an *os.File
	form.AppendFile("data", "raw", strings.NewReader("\x00\x01"))

	resp, err := api.Post(context.Background(), "/upload", form)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(resp.Data))
	// Output:
	// multipart/form-data
	// title: report
	// file: file report.csv (text/csv; charset=utf-8) "a,b\n1,2\n"
	// data: file raw (application/octet-stream) "\x00\x01"
}
