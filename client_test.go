package axios_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiosgo/axios"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each request works on its own merged copy of the config: 100 concurrent
// requests whose interceptor changes headers, params and Meta leave Defaults
// untouched, and no request sees another's header.
func TestConcurrentRequestsAreIsolated(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{
		BaseURL: srv.URL,
		Headers: http.Header{"X-Base": {"base"}},
		Params:  url.Values{"p": {"base"}},
		Meta:    map[string]any{"k": "base"},
	})
	before := snapshotDefaults(c.Defaults)
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		id := cfg.Meta["id"].(string)
		cfg.Headers.Set("X-Req", id)
		cfg.Headers.Add("X-Base", id) // appending must not reach the defaults' slice
		cfg.Params.Set("req", id)
		cfg.Meta["k"] = id
		return cfg, nil
	}, nil)

	var wg sync.WaitGroup
	var bad atomic.Int32
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprint(i)
			resp, err := c.Get(ctx, "/x", axios.Config{Meta: map[string]any{"id": id}})
			e, err := axios.JSON[echo](resp, err)
			if err != nil || e.Headers["X-Req"][0] != id || len(e.Headers["X-Req"]) != 1 ||
				strings.Join(e.Headers["X-Base"], ",") != "base,"+id || e.Query != "p=base&req="+id ||
				resp.Config.Meta["k"] != id {
				bad.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, bad.Load(), "requests that saw another request's values")
	assert.Equal(t, before, snapshotDefaults(c.Defaults), "Defaults changed")
}

func snapshotDefaults(cfg axios.Config) string {
	b, _ := json.Marshal(map[string]any{"h": cfg.Headers, "p": cfg.Params, "m": cfg.Meta})
	return string(b)
}

// BaseURL and URL are joined as axios's combineURLs and isAbsoluteURL; params
// merge into the URL's own query.
func TestFullURL(t *testing.T) {
	for _, tc := range []struct {
		base, url string
		params    url.Values
		want      string
	}{
		{"http://h/api/", "/users", nil, "http://h/api/users"},
		{"http://h/api", "users", nil, "http://h/api/users"},
		{"http://h/api//", "users", nil, "http://h/api/users"},
		{"http://h/api", "", nil, "http://h/api"},
		{"http://h/api", "https://other.example/x", nil, "https://other.example/x"},
		{"http://h/api", "//cdn.example/x", nil, "http://cdn.example/x"},
		{"", "http://h/x?a=1", url.Values{"b": {"2"}}, "http://h/x?a=1&b=2"},
		{"http://h", "/x", url.Values{"q": {"a b&c"}}, "http://h/x?q=a+b%26c"},
		{"http://h", "/x?a=1#frag", url.Values{"b": {"2"}}, "http://h/x?a=1&b=2#frag"},
	} {
		cfg := axios.Config{BaseURL: tc.base, URL: tc.url, Params: tc.params}
		got, err := cfg.FullURL()
		require.NoError(t, err, "%+v", tc)
		assert.Equal(t, tc.want, got, "%+v", tc)
	}
}

func TestMalformedURLIsInvalidURL(t *testing.T) {
	c := newClient(t, axios.Config{})
	for _, u := range []string{"http://[::1", "/relative/without/base", "", "http://h/%zz?access_token=secret"} {
		_, err := c.Get(ctx, u)
		axErr, ok := axios.AsError(err)
		require.True(t, ok, "%q: %v", u, err)
		assert.Equal(t, axios.CodeInvalidURL, axErr.Code, "%q", u)
		assert.NotContains(t, err.Error(), "secret")
		_, err = (&axios.Config{URL: u}).FullURL()
		assert.True(t, axios.IsAxiosError(err), "FullURL rejects %q too", u)
	}
}

type user struct {
	Name string `json:"name"`
}

// Maps and structs go as JSON, url.Values as a form, bytes, strings and
// readers as given.
func TestBodyKinds(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	for _, tc := range []struct {
		name  string
		data  any
		body  string
		ctype string
	}{
		{"map", map[string]int{"a": 1}, `{"a":1}`, "application/json"},
		{"struct", user{Name: "kim"}, `{"name":"kim"}`, "application/json"},
		{"form", url.Values{"a": {"1"}, "b": {"x y"}}, "a=1&b=x+y", "application/x-www-form-urlencoded"},
		{"bytes", []byte{0x01, 0x02}, "\x01\x02", "application/octet-stream"},
		{"string", "hello", "hello", "text/plain; charset=utf-8"},
		{"reader", io.MultiReader(strings.NewReader("he"), strings.NewReader("llo")), "hello", "application/octet-stream"},
		{"seeker", strings.NewReader("seek"), "seek", "application/octet-stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := echoOf(t)(c.Post(ctx, "/", tc.data))
			assert.Equal(t, tc.body, e.Body)
			assert.Equal(t, []string{tc.ctype}, e.Headers["Content-Type"])
			length := []string{fmt.Sprint(len(tc.body))}
			if tc.name == "reader" {
				length = nil // a stream of unknown length goes chunked
			}
			assert.Equal(t, length, e.Headers["Content-Length"])
		})
	}
	t.Run("caller's content type wins", func(t *testing.T) {
		e := echoOf(t)(c.Post(ctx, "/", `{"raw":true}`, axios.Config{Headers: http.Header{"Content-Type": {"application/json"}}}))
		assert.Equal(t, []string{"application/json"}, e.Headers["Content-Type"])
	})
	t.Run("GET with a body sends it", func(t *testing.T) {
		e := echoOf(t)(c.Request(ctx, axios.Config{URL: "/", Data: "q"}))
		assert.Equal(t, "GET", e.Method)
		assert.Equal(t, "q", e.Body)
	})
	t.Run("unencodable data", func(t *testing.T) {
		_, err := c.Post(ctx, "/", map[string]any{"f": func() {}})
		axErr, ok := axios.AsError(err)
		require.True(t, ok)
		assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
	})
}

// An io.Reader body is read once, so a retry through the instance sends the
// same bytes; resty v2 on its own resends a drained reader as an empty body.
// A file (io.ReadSeeker) is rewound instead of copied, and not closed.
func TestRetrySendsSameBodyFromReader(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		n := len(bodies)
		mu.Unlock()
		if n%2 == 1 {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	c.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		axErr, ok := axios.AsError(err)
		if ok && axErr.Status() == 401 {
			return c.Request(ctx, *axErr.Config)
		}
		return nil, err
	})

	_, err := c.Post(ctx, "/", io.MultiReader(strings.NewReader("once "), strings.NewReader("only")))
	require.NoError(t, err)

	path := filepath.Join(t.TempDir(), "upload")
	require.NoError(t, os.WriteFile(path, []byte("HEADERfile body"), 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Seek(6, io.SeekStart) // a body that starts mid-file keeps its start
	require.NoError(t, err)
	_, err = c.Put(ctx, "/", f)
	require.NoError(t, err)
	_, err = f.Seek(0, io.SeekStart)
	assert.NoError(t, err, "the file is still open")

	assert.Equal(t, []string{"once only", "once only", "file body", "file body"}, bodies)
}

func TestStatusErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		_, _ = fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/"), &code)
		w.Header().Set("X-Why", "because")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"error":"nope"}`)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	for _, tc := range []struct {
		status int
		code   string
		text   string
	}{
		{404, axios.CodeBadRequest, "Not Found"},
		{401, axios.CodeBadRequest, "Unauthorized"},
		{500, axios.CodeBadResponse, "Internal Server Error"},
		{503, axios.CodeBadResponse, "Service Unavailable"},
	} {
		_, err := c.Get(ctx, fmt.Sprint("/", tc.status))
		var axErr *axios.Error
		require.ErrorAs(t, err, &axErr)
		assert.Equal(t, tc.code, axErr.Code)
		assert.Equal(t, tc.status, axErr.Status())
		require.NotNil(t, axErr.Response)
		assert.Equal(t, tc.text, axErr.Response.StatusText)
		assert.JSONEq(t, `{"error":"nope"}`, string(axErr.Response.Data))
		assert.Equal(t, "because", axErr.Response.Headers.Get("X-Why"))
		assert.Equal(t, "/"+fmt.Sprint(tc.status), axErr.Config.URL)
		assert.NotNil(t, axErr.Request)
		assert.Equal(t, fmt.Sprintf("axios: Request failed with status code %d", tc.status), err.Error())
	}

	t.Run("custom ValidateStatus", func(t *testing.T) {
		resp, err := c.Get(ctx, "/404", axios.Config{ValidateStatus: func(s int) bool { return s < 500 }})
		require.NoError(t, err)
		assert.Equal(t, 404, resp.Status)
		_, err = c.Get(ctx, "/200", axios.Config{ValidateStatus: func(s int) bool { return s == 201 }})
		assert.Error(t, err)
	})
}

func TestRefusedConnectionIsNetworkError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c := newClient(t, axios.Config{})

	_, err = c.Get(ctx, "http://"+addr+"/x?access_token=secret-value")
	var axErr *axios.Error
	require.ErrorAs(t, err, &axErr)
	assert.Equal(t, axios.CodeNetwork, axErr.Code)
	assert.Nil(t, axErr.Response)
	assert.Zero(t, axErr.Status())
	assert.NotContains(t, err.Error(), "secret-value", "a token in the query never reaches the message")
	var opErr *net.OpError
	assert.ErrorAs(t, err, &opErr, "the cause stays reachable")
}

func slowServer(t *testing.T, d time.Duration) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTimeoutIsConnAborted(t *testing.T) {
	srv := slowServer(t, 2*time.Second)
	c := newClient(t, axios.Config{BaseURL: srv.URL, Timeout: 50 * time.Millisecond})

	start := time.Now()
	_, err := c.Get(ctx, "/")
	var axErr *axios.Error
	require.ErrorAs(t, err, &axErr)
	assert.Equal(t, axios.CodeConnAborted, axErr.Code)
	assert.Equal(t, "timeout of 50ms exceeded", axErr.Message)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, axios.IsCancel(err))
	assert.Less(t, time.Since(start), time.Second)
}

func TestContextDeadlineIsTimedOut(t *testing.T) {
	srv := slowServer(t, 2*time.Second)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()

	_, err := c.Get(dctx, "/")
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeTimedOut, axErr.Code)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestCanceledContextIsCanceled(t *testing.T) {
	srv := slowServer(t, 2*time.Second)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	cctx, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(30 * time.Millisecond); cancel() }()
	_, err := c.Get(cctx, "/")
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeCanceled, axErr.Code)
	assert.True(t, axios.IsCancel(err))
	assert.ErrorIs(t, err, context.Canceled)

	_, err = c.Get(cctx, "/") // already canceled: never dispatched
	assert.True(t, axios.IsCancel(err))
}

func TestBasicAuth(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	e := echoOf(t)(c.Get(ctx, "/", axios.Config{Auth: &axios.BasicAuth{Username: "janedoe", Password: "s00pers3cret"}}))
	assert.Equal(t, []string{"Basic amFuZWRvZTpzMDBwZXJzM2NyZXQ="}, e.Headers["Authorization"])
}

// Progress callbacks report loaded/total, and the last call has loaded equal
// to the size, both ways, for a 1 MiB body.
func TestProgressBothWays(t *testing.T) {
	const size = 1 << 20
	payload := bytes.Repeat([]byte("x"), size)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if n != size {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(size))
		_, _ = w.Write(payload)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	var up, down []axios.Progress
	resp, err := c.Post(ctx, "/", payload, axios.Config{
		OnUploadProgress:   func(p axios.Progress) { up = append(up, p) },
		OnDownloadProgress: func(p axios.Progress) { down = append(down, p) },
	})
	require.NoError(t, err)
	assert.Len(t, resp.Data, size)
	for name, ps := range map[string][]axios.Progress{"upload": up, "download": down} {
		require.NotEmpty(t, ps, name)
		last := ps[len(ps)-1]
		assert.Equal(t, int64(size), last.Loaded, name)
		assert.Equal(t, int64(size), last.Total, name)
		assert.InDelta(t, 1.0, last.Fraction(), 1e-9, name)
		for i := 1; i < len(ps); i++ {
			assert.Greater(t, ps[i].Loaded, ps[i-1].Loaded, name)
		}
	}
	assert.True(t, up[0].Upload)
	assert.False(t, down[0].Upload)
}

func TestMaxContentLength(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length: the limit is found while reading
		}
		_, _ = w.Write(bytes.Repeat([]byte("y"), 2048))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL, MaxContentLength: 1024})

	for _, p := range []string{"/sized", "/chunked"} {
		_, err := c.Get(ctx, p)
		axErr, ok := axios.AsError(err)
		require.True(t, ok, p)
		assert.Equal(t, axios.CodeBadResponse, axErr.Code, p)
		assert.Equal(t, "maxContentLength size of 1024 exceeded", axErr.Message)
	}
	resp, err := c.Get(ctx, "/sized", axios.Config{MaxContentLength: 4096})
	require.NoError(t, err)
	assert.Len(t, resp.Data, 2048)
}

func TestRedirectLimits(t *testing.T) {
	var hops atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/hop/", func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
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

	resp, err := c.Get(ctx, "/hop/3")
	require.NoError(t, err)
	assert.Equal(t, "landed", string(resp.Data))

	_, err = c.Get(ctx, "/hop/3", axios.Config{MaxRedirects: 2})
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeTooManyRedirects, axErr.Code)

	hops.Store(0)
	_, err = c.Get(ctx, "/hop/3", axios.Config{MaxRedirects: axios.NoRedirects})
	axErr, ok = axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, 302, axErr.Status(), "the 3xx itself, rejected by ValidateStatus")
	assert.Equal(t, int32(1), hops.Load())

	resp, err = c.Get(ctx, "/hop/3", axios.Config{MaxRedirects: axios.NoRedirects, ValidateStatus: func(s int) bool { return s < 400 }})
	require.NoError(t, err)
	assert.Equal(t, "/hop/2", resp.Headers.Get("Location"))
}

func TestJSONDecoding(t *testing.T) {
	mock := httpmock.NewMockTransport()
	c := newClient(t, axios.Config{BaseURL: "http://api.test"})
	c.Resty().SetTransport(mock)
	mock.RegisterResponder("GET", "http://api.test/me", httpmock.NewStringResponder(200, `{"name":"kim"}`))
	mock.RegisterResponder("GET", "http://api.test/bad", httpmock.NewStringResponder(200, `<html>`))

	u, err := axios.JSON[user](c.Get(ctx, "/me"))
	require.NoError(t, err)
	assert.Equal(t, "kim", u.Name)

	resp, err := c.Get(ctx, "/me")
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, resp.JSON(&m))
	assert.Equal(t, "kim", m["name"])

	_, err = axios.JSON[user](c.Get(ctx, "/bad"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decode JSON into axios_test.user from GET http://api.test/bad (status 200)")
	var syn *json.SyntaxError
	assert.ErrorAs(t, err, &syn)

	_, err = axios.JSON[user](c.Get(ctx, "/missing"))
	assert.True(t, axios.IsAxiosError(err), "a request error comes back as it is")
}

// httpmock works through a per-test mock transport on Resty(): the recipe
// the README shows.
func TestHTTPMockRecipe(t *testing.T) {
	mock := httpmock.NewMockTransport()
	c := axios.Create(axios.Config{BaseURL: "https://api.example.com"})
	c.Resty().SetTransport(mock)
	mock.RegisterResponder("POST", "https://api.example.com/users",
		httpmock.NewJsonResponderOrPanic(201, map[string]any{"id": 7}))

	resp, err := c.Post(ctx, "/users", map[string]string{"name": "kim"})
	require.NoError(t, err)
	assert.Equal(t, 201, resp.Status)
	assert.JSONEq(t, `{"id":7}`, string(resp.Data))
	assert.Equal(t, 1, mock.GetTotalCallCount())
}

func TestResponseStream(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(500)
			_, _ = io.WriteString(w, "broken")
			return
		}
		_, _ = io.WriteString(w, "streamed body")
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL, ResponseType: axios.ResponseStream, Timeout: 5 * time.Second})

	resp, err := c.Get(ctx, "/")
	require.NoError(t, err)
	require.NotNil(t, resp.Body)
	assert.Nil(t, resp.Data)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "streamed body", string(b))

	_, err = c.Get(ctx, "/fail")
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, "broken", string(axErr.Response.Data), "a rejected stream's body is read into the error")
	assert.Nil(t, axErr.Response.Body)
}

func TestPackageLevelCallsUseDefault(t *testing.T) {
	srv := echoServer(t)
	t.Cleanup(func() { axios.Default.CloseIdleConnections() })
	for _, call := range []func() (*axios.Response, error){
		func() (*axios.Response, error) { return axios.Get(ctx, srv.URL+"/get") },
		func() (*axios.Response, error) { return axios.Delete(ctx, srv.URL+"/delete") },
		func() (*axios.Response, error) { return axios.Options(ctx, srv.URL+"/options") },
		func() (*axios.Response, error) { return axios.Post(ctx, srv.URL+"/post", "b") },
		func() (*axios.Response, error) { return axios.Put(ctx, srv.URL+"/put", "b") },
		func() (*axios.Response, error) { return axios.Patch(ctx, srv.URL+"/patch", "b") },
		func() (*axios.Response, error) {
			return axios.Request(ctx, axios.Config{Method: "post", URL: srv.URL + "/post"})
		},
	} {
		e := echoOf(t)(call())
		assert.Equal(t, strings.ToUpper(strings.TrimPrefix(e.Path, "/")), e.Method)
	}
	resp, err := axios.Head(ctx, srv.URL+"/head")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	assert.Equal(t, "HEAD", resp.Request.Method)
}

// Nothing panics on odd input: a zero Client, a nil context.
func TestZeroClientAndNilContextDoNotPanic(t *testing.T) {
	srv := echoServer(t)
	var c axios.Client
	t.Cleanup(func() { c.CloseIdleConnections() })
	//lint:ignore SA1012 a nil context must not panic
	resp, err := c.Get(nil, srv.URL) //nolint:staticcheck
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
}

func TestAdapterErrorsAreClassified(t *testing.T) {
	boom := errors.New("adapter exploded")
	c := newClient(t, axios.Config{Adapter: func(context.Context, *axios.Config) (*axios.Response, error) { return nil, boom }})
	_, err := c.Get(ctx, "http://example.test/")
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeNetwork, axErr.Code)
	assert.ErrorIs(t, err, boom)
}

// No cookie jar: a session cookie one caller got is never sent with another
// caller's request, even through the shared Default client.
func TestNoCookiesCarriedBetweenRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "user-a-secret", Path: "/"})
			return
		}
		_, _ = io.WriteString(w, r.Header.Get("Cookie"))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { axios.Default.CloseIdleConnections() })

	_, err := axios.Get(ctx, srv.URL+"/login")
	require.NoError(t, err)
	resp, err := axios.Get(ctx, srv.URL+"/me")
	require.NoError(t, err)
	assert.Empty(t, string(resp.Data), "no cookie may be sent")
}

// A HEAD response's Content-Length describes the resource, not a body: it
// neither trips MaxContentLength nor sizes a buffer.
func TestHeadIgnoresContentLength(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "50000000")
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, "short") // the server lies: net/http reports the mismatch
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL, MaxContentLength: 1 << 20})

	resp, err := c.Head(ctx, "/big")
	require.NoError(t, err)
	assert.Empty(t, resp.Data)
	assert.Equal(t, "50000000", resp.Headers.Get("Content-Length"))
}

// A stream whose response interceptor fails is closed, not leaked.
func TestStreamClosedWhenResponseInterceptorFails(t *testing.T) {
	closed := make(chan struct{})
	c := newClient(t, axios.Config{ResponseType: axios.ResponseStream, Adapter: func(_ context.Context, cfg *axios.Config) (*axios.Response, error) {
		return &axios.Response{Status: 200, Config: cfg, Body: &closeSpy{Reader: strings.NewReader("x"), closed: closed}}, nil
	}})
	boom := errors.New("rejected by interceptor")
	c.Interceptors.Response.Use(func(context.Context, *axios.Response) (*axios.Response, error) { return nil, boom }, nil)

	_, err := c.Get(ctx, "http://example.test/")
	assert.ErrorIs(t, err, boom)
	select {
	case <-closed:
	default:
		t.Fatal("the stream was not closed")
	}
}

type closeSpy struct {
	io.Reader
	closed chan struct{}
}

func (c *closeSpy) Close() error { close(c.closed); return nil }
