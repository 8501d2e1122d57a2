package axios_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/axiosgo/axios"
)

// FuzzConfig feeds arbitrary URLs, methods, headers and params through
// config merging and URL building. Nothing may panic; a URL that builds must
// parse as an absolute http(s) URL; the request's header wins; the defaults
// never change. The seed corpus runs in every `go test`.
func FuzzConfig(f *testing.F) {
	f.Add("http://h/api/", "/users", "get", "X-A", "1", "q", "v")
	f.Add("", "//cdn.example/x?a=1", "post", "usrId", "7", "a", "2")
	f.Add("http://h", "http://[::1", "PATCH", "", "", "", "")
	f.Add("https://h:8443/a b", "../x#f", "délété", "Content-Type", "text/plain", "access_token", "s3cr3t")
	f.Add("http://h/%zz", "?x", "", "x\x00y", "\r\n", "k", "v&w=1")
	f.Fuzz(func(t *testing.T, base, rawURL, method, hk, hv, pk, pv string) {
		var seen *axios.Config
		c := axios.Create(axios.Config{
			BaseURL: base,
			Headers: http.Header{"X-Base": {"b"}},
			Params:  url.Values{"base": {"1"}},
			Adapter: func(_ context.Context, cfg *axios.Config) (*axios.Response, error) {
				seen = cfg
				return &axios.Response{Status: 200, Config: cfg}, nil
			},
		})
		cfg := axios.Config{Method: method, URL: rawURL, Headers: http.Header{}, Params: url.Values{pk: {pv}}}
		if hk != "" {
			cfg.Headers[hk] = []string{hv}
		}
		_, err := c.Request(context.Background(), cfg)
		if err != nil {
			if !axios.IsAxiosError(err) {
				t.Fatalf("error is not an *axios.Error: %v", err)
			}
			return
		}
		if got := seen.Headers.Values(hk); hk != "" && (len(got) != 1 || got[0] != hv) {
			t.Fatalf("request header %q = %q, want [%q]", hk, got, hv)
		}
		if c.Defaults.Headers.Get("X-Base") != "b" || len(c.Defaults.Headers) != 4 || c.Defaults.Params.Encode() != "base=1" {
			t.Fatalf("defaults changed: %v %v", c.Defaults.Headers, c.Defaults.Params)
		}
		full, err := seen.FullURL()
		if err != nil {
			return
		}
		u, err := url.Parse(full)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("FullURL gave %q: %v", full, err)
		}
		if pk != "" && !u.Query().Has(pk) {
			t.Fatalf("param %q lost from %q", pk, full)
		}
	})
}
