package interceptors_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/interceptors"
)

func ExampleNewLogger() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()

	// Drop the time and the duration, and name the server, so the output
	// is the same on every run.
	handler := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "duration":
				return slog.Attr{}
			case "url":
				return slog.String("url", strings.Replace(a.Value.String(), srv.URL, "http://api.example", 1))
			}
			return a
		},
	})
	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()
	interceptors.NewLogger(slog.New(handler), interceptors.LogRequestHeaders()).Install(api)

	ctx := context.Background()
	_, _ = api.Get(ctx, "/orders?page=2&access_token=abc123", axios.Config{
		Headers: http.Header{"Authorization": {"Bearer abc123"}},
	})
	_, _ = api.Get(ctx, "/missing")
	// Output:
	// level=INFO msg=request method=GET url="http://api.example/orders?page=2&access_token=REDACTED" status=200 attempt=1 request_headers.Accept="application/json, text/plain, */*" request_headers.Accept-Encoding="gzip, deflate, br, zstd" request_headers.Authorization=REDACTED request_headers.User-Agent=axios-go/1
	// level=WARN msg="request failed" method=GET url=http://api.example/missing status=404 attempt=1 code=ERR_BAD_REQUEST error="axios: Request failed with status code 404" request_headers.Accept="application/json, text/plain, */*" request_headers.Accept-Encoding="gzip, deflate, br, zstd" request_headers.User-Agent=axios-go/1
}

func ExampleNewLoading() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()

	// Seed 001 dispatches setLoading(true) and setLoading(false) to its
	// store; here the store is a print.
	loading := interceptors.NewLoading(func(on bool) { fmt.Println("loading:", on) })
	loading.Install(api) // last, after any interceptor that retries

	resp, err := api.Get(context.Background(), "/dashboard")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("status:", resp.Status, "in flight:", loading.InFlight())
	// Output:
	// loading: true
	// loading: false
	// status: 200 in flight: 0
}

func ExampleNewHeaders() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "usrId=%s project=%s", r.Header.Get("usrId"), r.Header.Get("x-smp-project-code"))
	}))
	defer srv.Close()
	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()

	// Seed 001 reads the signed-in user from localStorage; here, from ctx.
	type userKey struct{}
	type user struct{ ID, Tenant string }
	interceptors.NewHeaders(func(ctx context.Context, _ *axios.Config) (http.Header, error) {
		u, ok := ctx.Value(userKey{}).(user)
		if !ok {
			return nil, nil // signed out: no headers
		}
		return http.Header{"usrId": {u.ID}, "x-smp-project-code": {u.Tenant}}, nil
	}).Install(api)

	ctx := context.WithValue(context.Background(), userKey{}, user{ID: "u-17", Tenant: "acme"})
	resp, err := api.Get(ctx, "/projects")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(resp.Data))
	// Output:
	// usrId=u-17 project=acme
}

func ExampleStaticHeaders() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("X-Client"))
	}))
	defer srv.Close()
	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()
	interceptors.StaticHeaders(http.Header{"X-Client": {"web/2.3"}}).Install(api)

	ctx := context.Background()
	a, _ := api.Get(ctx, "/")
	b, _ := api.Get(ctx, "/", axios.Config{Headers: http.Header{"X-Client": {"cli/1.0"}}})
	fmt.Println(string(a.Data))
	fmt.Println(string(b.Data), "(the request's own value wins)")
	// Output:
	// web/2.3
	// cli/1.0 (the request's own value wins)
}

func ExampleOnStatus() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	}))
	defer srv.Close()
	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()

	// Seed 001: alert("page not found") on a 404, and pass the error on.
	interceptors.OnStatus(func(_ context.Context, err *axios.Error) (*axios.Response, error) {
		fmt.Println("page not found:", err.Config.URL)
		return nil, nil
	}, http.StatusNotFound).Install(api)

	_, err := api.Get(context.Background(), "/nowhere")
	fmt.Println(err)
	// Output:
	// page not found: /nowhere
	// axios: Request failed with status code 404
}

func ExampleNewRetry() {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 3 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ready")
	}))
	defer srv.Close()
	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()

	interceptors.NewRetry(interceptors.RetryOptions{
		MaxRetries: 5,
		MinWait:    10 * time.Millisecond,
		OnRetry: func(_ context.Context, err *axios.Error, retry int, wait time.Duration) {
			fmt.Printf("retry %d after %d, waiting %s\n", retry, err.Status(), wait)
		},
	}).Install(api)

	resp, err := api.Get(context.Background(), "/report")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(resp.Data), "on attempt", interceptors.Attempt(resp.Config))
	// Output:
	// retry 1 after 503, waiting 0s
	// retry 2 after 503, waiting 0s
	// ready on attempt 3
}
