package axios_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-resty/resty/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
)

// The default adapter builds the *http.Request itself and sends it through
// Resty().GetClient(): these tests pin what it sends.

// seenRequest is what a server saw of one request.
type seenRequest struct {
	header http.Header
	host   string
}

// recordServer answers 200 and keeps the headers of every request.
func recordServer(t *testing.T) (*httptest.Server, func() []seenRequest) {
	var mu sync.Mutex
	var seen []seenRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, seenRequest{header: r.Header.Clone(), host: r.Host})
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return srv, func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]seenRequest(nil), seen...)
	}
}

// axios in Node sends no User-Agent once a caller removed it; nor does this
// client: not resty's, not Go's.
func TestUserAgent(t *testing.T) {
	srv, seen := recordServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	removeUA := c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		if cfg.Meta["dropUA"] == true {
			cfg.Headers.Del("User-Agent")
		}
		return cfg, nil
	}, nil)

	_, err := c.Get(ctx, "/default")
	require.NoError(t, err)
	_, err = c.Get(ctx, "/own", axios.Config{Headers: http.Header{"User-Agent": {"my-app/2"}}})
	require.NoError(t, err)
	resp, err := c.Get(ctx, "/removed", axios.Config{Meta: map[string]any{"dropUA": true}})
	require.NoError(t, err)
	_, err = c.Get(ctx, "/empty", axios.Config{Headers: http.Header{"User-Agent": {""}}})
	require.NoError(t, err)
	c.Interceptors.Request.Eject(removeUA)
	c.Defaults.Headers.Del("User-Agent")
	_, err = c.Get(ctx, "/removed-from-defaults")
	require.NoError(t, err)

	got := seen()
	require.Len(t, got, 5)
	assert.Equal(t, []string{"axios-go/1"}, got[0].header["User-Agent"])
	assert.Equal(t, []string{"my-app/2"}, got[1].header["User-Agent"])
	for _, i := range []int{2, 3, 4} {
		_, has := got[i].header["User-Agent"]
		assert.False(t, has, "request %d: no User-Agent at all, got %q", i, got[i].header["User-Agent"])
	}
	_, has := resp.Config.Headers["User-Agent"]
	assert.False(t, has, "the request's Config is left as the interceptor made it")
}

// Basic credentials go on the request sent, not into the Config, so a retry
// of the Config, or an interceptor reading it, sees the headers the caller
// and the interceptors set.
func TestBasicAuthStaysOutOfTheConfig(t *testing.T) {
	srv, seen := recordServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	resp, err := c.Get(ctx, "/", axios.Config{Auth: &axios.BasicAuth{Username: "u", Password: "p"}})
	require.NoError(t, err)

	assert.Equal(t, []string{"Basic dTpw"}, seen()[0].header["Authorization"])
	assert.Equal(t, "Basic dTpw", resp.Request.Header.Get("Authorization"), "the request sent carries it")
	assert.Empty(t, resp.Config.Headers.Get("Authorization"))
}

// A Host header names the virtual host, as resty and axios in Node do.
func TestHostHeaderSetsTheRequestsHost(t *testing.T) {
	srv, seen := recordServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	_, err := c.Get(ctx, "/", axios.Config{Headers: http.Header{"Host": {"tenant.example"}}})
	require.NoError(t, err)
	assert.Equal(t, "tenant.example", seen()[0].host)
}

func TestInvalidMethodIsBadOptionValue(t *testing.T) {
	srv, seen := recordServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	_, err := c.Request(ctx, axios.Config{Method: "BAD METHOD", URL: "/"})
	axErr, ok := axios.AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
	assert.Empty(t, seen())
}

// Resty's request-level settings belong to resty's request path, which the
// Client does not use: none of them reaches a request.
func TestRestyRequestLevelSettingsAreNotUsed(t *testing.T) {
	srv, seen := recordServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	hooked := false
	c.Resty().
		SetHeader("X-From-Resty", "1").
		SetBaseURL("http://elsewhere.invalid").
		SetAuthToken("resty-token").
		SetPathParam("id", "7").
		SetQueryParam("from", "resty").
		OnBeforeRequest(func(*resty.Client, *resty.Request) error { hooked = true; return nil })

	resp, err := c.Get(ctx, "/users/{id}")
	require.NoError(t, err)

	got := seen()
	require.Len(t, got, 1)
	assert.Empty(t, got[0].header.Get("X-From-Resty"))
	assert.Empty(t, got[0].header.Get("Authorization"))
	assert.Equal(t, "/users/%7Bid%7D", resp.Request.URL.EscapedPath(), "the path is sent as given")
	assert.Empty(t, resp.Request.URL.RawQuery)
	assert.False(t, hooked)
}

// The default redirect policy follows 10 redirects and fails the 11th with
// ERR_FR_TOO_MANY_REDIRECTS, as axios's follow-redirects; a request's own
// MaxRedirects changes that request alone, also while others run.
func TestRedirectPolicies(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		_, _ = fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/hop/"), &n)
		if n == 0 {
			_, _ = io.WriteString(w, "landed")
			return
		}
		http.Redirect(w, r, fmt.Sprint("/hop/", n-1), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	resp, err := c.Get(ctx, "/hop/10")
	require.NoError(t, err)
	assert.Equal(t, "landed", string(resp.Data))
	_, err = c.Get(ctx, "/hop/11")
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeTooManyRedirects, axErr.Code)

	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int][]string{}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			limit := []int{0, 2, 12, axios.NoRedirects}[i%4]
			_, err := c.Get(ctx, "/hop/11", axios.Config{MaxRedirects: limit})
			code := "ok"
			if axErr, ok := axios.AsError(err); ok {
				code = axErr.Code
			}
			mu.Lock()
			codes[limit] = append(codes[limit], code)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for limit, want := range map[int]string{0: axios.CodeTooManyRedirects, 2: axios.CodeTooManyRedirects, 12: "ok", axios.NoRedirects: axios.CodeBadResponse} {
		assert.Equal(t, []string{want, want, want, want, want}, codes[limit], "MaxRedirects %d", limit)
	}
}

// The root package builds requests itself: no resty request, hook or
// middleware appears in its code (test files aside).
func TestNoRestyRequestPath(t *testing.T) {
	banned := map[string]bool{
		"R": true, "NewRequest": true, "SetPreRequestHook": true, "OnBeforeRequest": true,
		"OnAfterResponse": true, "OnError": true, "OnSuccess": true, "OnInvalid": true, "OnPanic": true,
		"SetRedirectPolicy": true, "AddRetryCondition": true, "AddRetryHook": true, "SetRetryCount": true,
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		require.NoError(t, err)
		f, err := parser.ParseFile(fset, name, src, 0)
		require.NoError(t, err)
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && banned[sel.Sel.Name] {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "http" {
					return true // http.NewRequest is net/http's
				}
				t.Errorf("%s: %s is resty's request path", fset.Position(call.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
	assert.Positive(t, checked)
}
