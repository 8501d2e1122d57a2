package axios_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/axiosgo/axios"
)

type User struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func usersServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/me":
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"id":1,"name":"kim","tenant":%q}`, r.Header.Get("X-Tenant"))
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			_, _ = w.Write(b)
		default:
			http.NotFound(w, r)
		}
	}))
}

// Create an instance, add a request interceptor, and decode JSON into a type.
func Example() {
	srv := usersServer()
	defer srv.Close()

	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()
	api.Interceptors.Request.Use(func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
		cfg.Headers.Set("X-Tenant", "acme")
		return cfg, nil
	}, nil)

	me, err := axios.JSON[User](api.Get(context.Background(), "/me"))
	fmt.Println(me.Name, err)

	_, err = api.Get(context.Background(), "/missing")
	var axErr *axios.Error
	if errors.As(err, &axErr) {
		fmt.Println(axErr.Code, axErr.Status(), axErr.Response.StatusText)
	}
	// Output:
	// kim <nil>
	// ERR_BAD_REQUEST 404 Not Found
}

// A response interceptor sees every failure first. Here it turns a 404 into
// an empty result, as seed 001's client handles "page not found".
func ExampleResponseInterceptors_Use() {
	srv := usersServer()
	defer srv.Close()
	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()

	api.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		if axErr, ok := axios.AsError(err); ok && axErr.Status() == http.StatusNotFound {
			return &axios.Response{Status: http.StatusOK, Data: []byte("null"), Config: axErr.Config}, nil
		}
		return nil, err
	})

	resp, err := api.Get(context.Background(), "/missing")
	fmt.Println(resp.Status, string(resp.Data), err)
	// Output: 200 null <nil>
}

// Request interceptors run last-registered first, as axios; SetOrder(FIFO)
// runs them in registration order.
func ExampleRequestInterceptors_SetOrder() {
	api := axios.Create(axios.Config{Adapter: func(ctx context.Context, cfg *axios.Config) (*axios.Response, error) {
		return &axios.Response{Status: 200, Config: cfg}, nil
	}})
	for _, name := range []string{"first", "second"} {
		api.Interceptors.Request.Use(func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
			fmt.Println(name)
			return cfg, nil
		}, nil)
	}
	_, _ = api.Get(context.Background(), "http://example.test/")
	api.Interceptors.Request.SetOrder(axios.FIFO)
	_, _ = api.Get(context.Background(), "http://example.test/")
	// Output:
	// second
	// first
	// first
	// second
}

// RunWhen limits an interceptor to the requests it is for.
func ExampleRunWhen() {
	srv := usersServer()
	defer srv.Close()
	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()
	api.Interceptors.Request.Use(func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
		cfg.Data = "rewritten"
		return cfg, nil
	}, nil, axios.RunWhen(func(cfg *axios.Config) bool { return cfg.Method == http.MethodPut }))

	post, _ := api.Post(context.Background(), "/echo", "original")
	put, _ := api.Put(context.Background(), "/echo", "original")
	fmt.Println(string(post.Data), string(put.Data))
	// Output: original rewritten
}

// Config.FullURL joins BaseURL and URL as axios does and adds Params.
func ExampleConfig_FullURL() {
	cfg := axios.Config{BaseURL: "https://api.example.com/v1/", URL: "/users?active=1", Params: map[string][]string{"page": {"2"}}}
	u, _ := cfg.FullURL()
	fmt.Println(u)
	// Output: https://api.example.com/v1/users?active=1&page=2
}
