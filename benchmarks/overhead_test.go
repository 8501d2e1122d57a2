package benchmarks_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/interceptors"
)

// BenchmarkOverhead is the per-request cost of one GET of a small JSON body,
// for each client a user might pick, on two targets:
//
//   - nonet: a RoundTripper that answers from memory, so the numbers are
//     the client's own work and nothing else;
//   - loopback: an httptest server on 127.0.0.1 with keep-alive, the
//     cheapest real network there is.
//
// The clients:
//
//   - nethttp: http.Client, the body read with io.ReadAll;
//   - resty: resty v2 with its defaults, as a user of resty writes it;
//   - oauth2: http.Client over x/oauth2's Transport with a valid static token;
//   - axios: this client, no interceptors;
//   - axios-auth: this client with the auth pair only (valid token);
//   - axios-stack: the auth pair, the Loading tracker and two no-op
//     interceptors (one request, one response), token valid, so no refresh
//     happens: what a typical app installs.
//
// Besides ns/op (wall time) each reports cpu-ns/op: the CPU time the whole
// process used per request (getrusage), the garbage collector's work on the
// other cores included and time spent descheduled excluded, so it is the
// steadier of the two on a shared machine. On loopback it includes the
// server's work, the same for every client.
//
// No timing is asserted; the benchmarks check that every request succeeded
// and that no refresh happened, so they run in CI at -benchtime=1x.
func BenchmarkOverhead(b *testing.B) {
	for _, tg := range targets(b) {
		for _, cl := range clients {
			b.Run(tg.name+"/"+cl.name, func(b *testing.B) {
				rt := tg.transport(b)
				get := cl.build(b, rt)
				ctx := context.Background()
				b.ReportAllocs()
				cpu0, ok := processCPU()
				for b.Loop() {
					if err := get(ctx, tg.url); err != nil {
						b.Fatal(err)
					}
				}
				if cpu1, _ := processCPU(); ok {
					b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
				}
			})
		}
	}
}

// benchBody is the answer of both targets: a small JSON object, as an API
// returns for GET /users/1.
const benchBody = `{"id":1,"name":"kim","email":"kim@example.com"}`

type target struct {
	name      string
	url       string
	transport func(b *testing.B) http.RoundTripper
}

func targets(b *testing.B) []target {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, benchBody)
	}))
	b.Cleanup(srv.Close)
	return []target{
		{
			name:      "nonet",
			url:       "http://api.test/users/1",
			transport: func(*testing.B) http.RoundTripper { return memoryTransport{} },
		},
		{
			name: "loopback",
			url:  srv.URL + "/users/1",
			transport: func(b *testing.B) http.RoundTripper {
				// Each client gets its own pool, so none inherits another's
				// warm connections.
				t := &http.Transport{MaxIdleConnsPerHost: 16}
				b.Cleanup(t.CloseIdleConnections)
				return t
			},
		},
	}
}

// memoryTransport answers every request with benchBody, without a network.
// It is what the clients' own work is measured on.
type memoryTransport struct{}

func (memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
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

// getFunc sends one GET of url and reads the whole body.
type getFunc func(ctx context.Context, url string) error

type client struct {
	name  string
	build func(b *testing.B, rt http.RoundTripper) getFunc
}

var clients = []client{
	{"nethttp", func(_ *testing.B, rt http.RoundTripper) getFunc {
		return netHTTPGet(&http.Client{Transport: rt})
	}},
	{"resty", func(_ *testing.B, rt http.RoundTripper) getFunc {
		rc := resty.New().SetTransport(rt)
		return func(ctx context.Context, url string) error {
			resp, err := rc.R().SetContext(ctx).Get(url)
			if err == nil && resp.StatusCode() != http.StatusOK {
				err = errors.New(resp.Status())
			}
			return err
		}
	}},
	{"oauth2", func(_ *testing.B, rt http.RoundTripper) getFunc {
		src := oauth2.StaticTokenSource(validToken())
		return netHTTPGet(&http.Client{Transport: &oauth2.Transport{Source: src, Base: rt}})
	}},
	{"axios", func(_ *testing.B, rt http.RoundTripper) getFunc {
		return axiosGet(newAxios(rt))
	}},
	{"axios-auth", func(b *testing.B, rt http.RoundTripper) getFunc {
		c := newAxios(rt)
		a := newAuth(b)
		a.Install(c)
		login(b, a)
		return axiosGet(c)
	}},
	{"axios-stack", func(b *testing.B, rt http.RoundTripper) getFunc {
		c := newAxios(rt)
		a := newAuth(b)
		// The order the interceptors package doc gives: the auth pair,
		// then the app's own, then Loading last.
		a.Install(c)
		c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) { return cfg, nil }, nil)
		c.Interceptors.Response.Use(func(_ context.Context, r *axios.Response) (*axios.Response, error) { return r, nil }, nil)
		loading := interceptors.NewLoading(nil)
		loading.Install(c)
		login(b, a)
		b.Cleanup(func() {
			if n := loading.InFlight(); n != 0 {
				b.Errorf("Loading reports %d requests in flight after the run", n)
			}
		})
		return axiosGet(c)
	}},
}

func netHTTPGet(hc *http.Client) getFunc {
	return func(ctx context.Context, url string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, err = io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = errors.New(resp.Status)
		}
		return err
	}
}

func newAxios(rt http.RoundTripper) *axios.Client {
	c := axios.Create(axios.Config{})
	c.Resty().SetTransport(rt)
	return c
}

func axiosGet(c *axios.Client) getFunc {
	return func(ctx context.Context, url string) error {
		_, err := c.Get(ctx, url)
		return err
	}
}

func validToken() *oauth2.Token {
	return &oauth2.Token{
		AccessToken:  "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkZW1vIn0.c2lnbmF0dXJl",
		TokenType:    "Bearer",
		RefreshToken: "refresh-1",
		Expiry:       time.Now().Add(time.Hour),
	}
}

// newAuth returns an Authenticator whose Refresher fails the benchmark: the
// token stays valid for the whole run, so a refresh would be a bug.
func newAuth(b *testing.B) *auth.Authenticator {
	a, err := auth.New(auth.Options{
		Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
			return nil, errors.New("benchmarks: unexpected refresh: the token is valid")
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if s := a.Stats(); s.Refreshes+s.Failures+s.Retries != 0 {
			b.Errorf("the token was valid, yet the Authenticator refreshed or retried: %+v", s)
		}
	})
	return a
}

func login(b *testing.B, a *auth.Authenticator) {
	if err := a.SetToken(context.Background(), validToken()); err != nil {
		b.Fatal(err)
	}
}
