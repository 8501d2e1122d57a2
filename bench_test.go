package axios_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/axiosgo/axios"
	"github.com/go-resty/resty/v2"
)

// The benchmarks compare one GET through this client against raw resty and
// raw net/http, on a RoundTripper that never touches the network and on a
// loopback httptest server. Ratios in docs/benchmarks.md come from one run:
//
//	go test -run '^$' -bench . -benchmem -count 5 .

const benchBody = `{"id":1,"name":"kim"}`

// staticTransport answers every request with the same small JSON body.
type staticTransport struct{}

func (staticTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return &http.Response{
		StatusCode:    200,
		Status:        "200 OK",
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(benchBody)),
		ContentLength: int64(len(benchBody)),
		Request:       req,
	}, nil
}

func benchTargets(b *testing.B) map[string]struct {
	url string
	rt  http.RoundTripper
} {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchBody)
	}))
	b.Cleanup(srv.Close)
	return map[string]struct {
		url string
		rt  http.RoundTripper
	}{
		"nonet":    {"http://bench.test/users/1", staticTransport{}},
		"loopback": {srv.URL + "/users/1", &http.Transport{MaxIdleConnsPerHost: 64}},
	}
}

func BenchmarkGet(b *testing.B) {
	for name, tg := range benchTargets(b) {
		b.Run(name+"/nethttp", func(b *testing.B) {
			hc := &http.Client{Transport: tg.rt}
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, tg.url, nil)
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.ReadAll(resp.Body)
				_ = resp.Body.Close()
			}
		})
		// net/http sending the headers every axios request carries by default
		// (Accept, Accept-Encoding, User-Agent): the floor for any client
		// that sends them through an http.Client, which copies a request's
		// headers.
		b.Run(name+"/nethttp-default-headers", func(b *testing.B) {
			hc := &http.Client{Transport: tg.rt}
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, tg.url, nil)
				req.Header = http.Header{
					"Accept":          {"application/json, text/plain, */*"},
					"Accept-Encoding": {"gzip, deflate, br, zstd"},
					"User-Agent":      {"axios-go/1"},
				}
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.ReadAll(resp.Body)
				_ = resp.Body.Close()
			}
		})
		// net/http sending a single header, its value shared by every
		// request: the least any client pays for sending one header through
		// an http.Client (a map for the request, and the copy http.Client
		// makes of it for redirects).
		b.Run(name+"/nethttp-one-header", func(b *testing.B) {
			hc := &http.Client{Transport: tg.rt}
			accept := []string{"application/json, text/plain, */*"}
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, tg.url, nil)
				req.Header = http.Header{"Accept": accept}
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.ReadAll(resp.Body)
				_ = resp.Body.Close()
			}
		})
		b.Run(name+"/resty", func(b *testing.B) {
			rc := resty.New().SetTransport(tg.rt)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rc.R().SetContext(context.Background()).Get(tg.url); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/axios", func(b *testing.B) {
			c := axios.Create(axios.Config{})
			c.Resty().SetTransport(tg.rt)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Get(context.Background(), tg.url); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/axios-2-noop-interceptors", func(b *testing.B) {
			c := axios.Create(axios.Config{})
			c.Resty().SetTransport(tg.rt)
			c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) { return cfg, nil }, nil)
			c.Interceptors.Response.Use(func(_ context.Context, r *axios.Response) (*axios.Response, error) { return r, nil }, nil)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Get(context.Background(), tg.url); err != nil {
					b.Fatal(err)
				}
			}
		})
		if t, ok := tg.rt.(*http.Transport); ok {
			b.Cleanup(t.CloseIdleConnections)
		}
	}
}

// BenchmarkClientOwnWork is what a request costs the client beyond building
// and sending the *http.Request: the config merge, the chain, dispatch and
// the status check, with an adapter that answers at once.
func BenchmarkClientOwnWork(b *testing.B) {
	c := axios.Create(axios.Config{Adapter: func(_ context.Context, cfg *axios.Config) (*axios.Response, error) {
		return &axios.Response{Status: http.StatusOK, Config: cfg}, nil
	}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(context.Background(), "http://bench.test/users/1"); err != nil {
			b.Fatal(err)
		}
	}
}
