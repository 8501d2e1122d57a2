package axios_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/axiosgo/axios"
)

// A large download goes to a file as it arrives: ResponseStream leaves the
// body in Response.Body, NoTimeout lifts the instance's timeout for this one
// request, and MaxContentLength -1 its size cap. Nothing holds the whole body
// in memory.
func Example_downloadToFile() {
	payload := strings.Repeat("axios-go ", 1<<17) // 1.1 MiB
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, payload)
	}))
	defer srv.Close()

	api := axios.Create(axios.Config{BaseURL: srv.URL, Timeout: 5 * time.Second, MaxContentLength: 1 << 20})
	defer api.CloseIdleConnections()

	resp, err := api.Get(context.Background(), "/files/{name}", axios.Config{
		PathParams:       map[string]string{"name": "backup.tar"},
		ResponseType:     axios.ResponseStream,
		Timeout:          axios.NoTimeout,
		MaxContentLength: -1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()

	dir, _ := os.MkdirTemp("", "download")
	defer os.RemoveAll(dir)
	f, _ := os.Create(filepath.Join(dir, "backup.tar"))
	defer f.Close()
	n, err := io.Copy(f, resp.Body)
	fmt.Println(n, err)

	want := sha256.Sum256([]byte(payload))
	_, _ = f.Seek(0, io.SeekStart)
	got := sha256.New()
	_, _ = io.Copy(got, f)
	fmt.Println("same bytes:", bytes.Equal(got.Sum(nil), want[:]))
	// Output:
	// 1179648 <nil>
	// same bytes: true
}

// GetURI is axios's getUri: the URL a Config would be sent to, with the
// instance's defaults merged, without sending anything.
func ExampleClient_GetURI() {
	api := axios.Create(axios.Config{
		BaseURL:          "https://api.example.com/v2",
		ParamsSerializer: axios.BracketParams,
	})
	u, err := api.GetURI(axios.Config{
		URL:        "/orgs/{org}/users",
		PathParams: map[string]string{"org": "acme corp"},
		Params:     url.Values{"ids": {"1", "2"}, "sort": {"name"}},
	})
	fmt.Println(u, err)
	// Output:
	// https://api.example.com/v2/orgs/acme%20corp/users?ids[]=1&ids[]=2&sort=name <nil>
}
