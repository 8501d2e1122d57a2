package axios_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiosgo/axios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rawPathServer answers with the request's path as sent (still escaped) and
// its raw query, "path?query".
func rawPathServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.EscapedPath()+"?"+r.URL.RawQuery)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPathParamsAreEscapedSegments(t *testing.T) {
	srv := rawPathServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL + "/orgs/{org}", PathParams: map[string]string{"org": "acme"}})

	for _, tc := range []struct {
		id, want string
	}{
		{"42", "/orgs/acme/users/42/posts"},
		{"a/b", "/orgs/acme/users/a%2Fb/posts"},
		{"..", "/orgs/acme/users/%2E%2E/posts"},
		{".", "/orgs/acme/users/%2E/posts"},
		{"José Ü", "/orgs/acme/users/Jos%C3%A9%20%C3%9C/posts"},
		{"?x=1#f", "/orgs/acme/users/%3Fx=1%23f/posts"},
	} {
		resp, err := c.Get(ctx, "/users/{id}/posts", axios.Config{
			PathParams: map[string]string{"id": tc.id},
			Params:     url.Values{"page": {"2"}}, // resty re-encoded the braces once Params were set
		})
		require.NoError(t, err, tc.id)
		assert.Equal(t, tc.want+"?page=2", string(resp.Data), "id %q", tc.id)
	}
}

// A placeholder in the query is filled query-escaped: "&" and "=" in a
// value cannot add a parameter.
func TestPathParamInTheQueryIsOneValue(t *testing.T) {
	srv := rawPathServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	resp, err := c.Get(ctx, "/search/{kind}?q={q}&page=1", axios.Config{
		PathParams: map[string]string{"kind": "a&b", "q": "x&admin=1 +"},
	})
	require.NoError(t, err)
	assert.Equal(t, "/search/a&b?q=x%26admin%3D1+%2B&page=1", string(resp.Data))
}

func TestPathParamWithoutValueFails(t *testing.T) {
	srv := rawPathServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	_, err := c.Get(ctx, "/users/{id}/{rest}", axios.Config{PathParams: map[string]string{"id": "1"}})
	axErr, ok := axios.AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
	assert.Contains(t, err.Error(), `"rest"`)

	// Without PathParams, braces are the caller's business: sent escaped.
	resp, err := c.Get(ctx, "/odata/{x}")
	require.NoError(t, err)
	assert.Equal(t, "/odata/%7Bx%7D?", string(resp.Data))
}

func TestPathParamsMergePerKey(t *testing.T) {
	srv := rawPathServer(t)
	defaults := map[string]string{"v": "v1", "org": "acme"}
	c := newClient(t, axios.Config{BaseURL: srv.URL + "/{v}", PathParams: defaults})

	resp, err := c.Get(ctx, "/{org}", axios.Config{PathParams: map[string]string{"org": "other"}})
	require.NoError(t, err)
	assert.Equal(t, "/v1/other?", string(resp.Data))
	assert.Equal(t, map[string]string{"v": "v1", "org": "acme"}, defaults, "the instance's map is untouched")
}

func TestParamsSerializer(t *testing.T) {
	srv := rawPathServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL, ParamsSerializer: axios.BracketParams})

	resp, err := c.Get(ctx, "/s?fixed=1", axios.Config{Params: url.Values{
		"ids": {"1", "2"}, "q": {"a b,c:d$"}, "tag": {"x&y"}, "empty": nil,
	}})
	require.NoError(t, err)
	assert.Equal(t, "/s?fixed=1&ids[]=1&ids[]=2&q=a+b,c:d$&tag=x%26y", string(resp.Data))

	// A request's own serializer wins; nil keeps the instance's.
	upper := func(v url.Values) string { return strings.ToUpper(v.Encode()) }
	resp, err = c.Get(ctx, "/s", axios.Config{Params: url.Values{"a": {"b"}}, ParamsSerializer: upper})
	require.NoError(t, err)
	assert.Equal(t, "/s?A=B", string(resp.Data))
}

func TestBracketParamsMatchesAxios(t *testing.T) {
	// What axios 1.x's buildURL writes for the same params.
	for _, tc := range []struct {
		in   url.Values
		want string
	}{
		{url.Values{"ids": {"1", "2", "3"}}, "ids[]=1&ids[]=2&ids[]=3"},
		{url.Values{"a": {"1"}, "b": {"x y"}}, "a=1&b=x+y"},
		{url.Values{"q": {"é/?#&=+"}}, "q=%C3%A9%2F%3F%23%26%3D%2B"},
		{url.Values{"keep": {"-_.!~*'()"}}, "keep=-_.!~*'()"},
		{url.Values{}, ""},
	} {
		assert.Equal(t, tc.want, axios.BracketParams(tc.in), "%v", tc.in)
	}
}

func TestAllowAbsoluteURLsFalseKeepsBaseURLHost(t *testing.T) {
	api := rawPathServer(t)
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { otherHits.Add(1) }))
	t.Cleanup(other.Close)

	no, yes := false, true
	c := newClient(t, axios.Config{BaseURL: api.URL + "/api", AllowAbsoluteURLs: &no,
		Headers: http.Header{"Authorization": {"Bearer secret"}}})

	for _, userURL := range []string{other.URL + "/steal", "//" + strings.TrimPrefix(other.URL, "http://") + "/steal"} {
		resp, err := c.Get(ctx, userURL)
		require.NoError(t, err, userURL)
		assert.True(t, strings.HasPrefix(string(resp.Data), "/api/"), "joined to BaseURL as axios does: %s", resp.Data)
	}
	assert.Zero(t, otherHits.Load(), "the user-supplied host was never contacted")

	// A request may allow it again for itself.
	_, err := c.Get(ctx, other.URL+"/ok", axios.Config{AllowAbsoluteURLs: &yes})
	require.NoError(t, err)
	assert.Equal(t, int32(1), otherHits.Load())

	u, err := c.GetURI(axios.Config{URL: "https://elsewhere.example/x"})
	require.NoError(t, err)
	assert.Equal(t, api.URL+"/api/https://elsewhere.example/x", u)
}

func TestGetURIMergesDefaults(t *testing.T) {
	c := axios.Create(axios.Config{
		BaseURL:    "https://api.example/v1/",
		Params:     url.Values{"key": {"k"}},
		PathParams: map[string]string{"org": "acme"},
	})
	u, err := c.GetURI(axios.Config{URL: "/{org}/users/{id}", PathParams: map[string]string{"id": "a b"}, Params: url.Values{"page": {"2"}}})
	require.NoError(t, err)
	assert.Equal(t, "https://api.example/v1/acme/users/a%20b?key=k&page=2", u)

	_, err = c.GetURI(axios.Config{URL: "/{missing}"})
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)

	u, err = axios.GetURI(axios.Config{URL: "http://h/x", Params: url.Values{"a": {"1"}}})
	require.NoError(t, err)
	assert.Equal(t, "http://h/x?a=1", u)
}

func TestUnsupportedSchemeIsBadRequest(t *testing.T) {
	c := newClient(t, axios.Config{})
	for _, u := range []string{"ftp://h/x", "file:///etc/passwd", "gopher://h/?token=secret"} {
		_, err := c.Get(ctx, u)
		axErr, ok := axios.AsError(err)
		require.True(t, ok, "%q: %v", u, err)
		assert.Equal(t, axios.CodeBadRequest, axErr.Code, "%q, as axios's Unsupported protocol", u)
		assert.Contains(t, err.Error(), "unsupported protocol")
		assert.NotContains(t, err.Error(), "secret")
		_, err = c.GetURI(axios.Config{URL: u})
		axErr, ok = axios.AsError(err)
		require.True(t, ok)
		assert.Equal(t, axios.CodeBadRequest, axErr.Code)
	}
}

func TestNoTimeoutOverridesInstanceTimeout(t *testing.T) {
	srv := slowServer(t, 150*time.Millisecond)
	c := newClient(t, axios.Config{BaseURL: srv.URL, Timeout: 30 * time.Millisecond})

	_, err := c.Get(ctx, "/")
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	require.Equal(t, axios.CodeConnAborted, axErr.Code, "the instance's timeout applies")

	resp, err := c.Get(ctx, "/", axios.Config{Timeout: axios.NoTimeout})
	require.NoError(t, err, "one long request opts out, as axios's timeout: 0")
	assert.Equal(t, 200, resp.Status)
}

func TestMaxContentLengthMinusOneOverridesInstance(t *testing.T) {
	big := strings.Repeat("x", 4096)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, big) }))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL, MaxContentLength: 1024})

	_, err := c.Get(ctx, "/")
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeBadResponse, axErr.Code)

	resp, err := c.Get(ctx, "/", axios.Config{MaxContentLength: -1})
	require.NoError(t, err)
	assert.Len(t, resp.Data, len(big))
}

func TestResponseBytesOverridesInstanceStream(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL, ResponseType: axios.ResponseStream})

	resp, err := c.Get(ctx, "/")
	require.NoError(t, err)
	require.NotNil(t, resp.Body)
	require.NoError(t, resp.Body.Close())

	resp, err = c.Get(ctx, "/", axios.Config{ResponseType: axios.ResponseBytes})
	require.NoError(t, err)
	assert.Nil(t, resp.Body)
	assert.Contains(t, string(resp.Data), `"method":"GET"`)
}

func TestRequestRemovesInstanceHeaderAndParam(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL,
		Headers: http.Header{"X-Tenant": {"t1"}},
		Params:  url.Values{"debug": {"1"}, "keep": {"y"}}})

	got, err := axios.JSON[echo](c.Get(ctx, "/"))
	require.NoError(t, err)
	assert.Equal(t, []string{"t1"}, got.Headers["X-Tenant"])

	got, err = axios.JSON[echo](c.Get(ctx, "/", axios.Config{
		Headers: http.Header{"X-Tenant": nil, "User-Agent": nil},
		Params:  url.Values{"debug": nil},
	}))
	require.NoError(t, err)
	assert.NotContains(t, got.Headers, "X-Tenant", "a key with no values removes the instance's header")
	assert.NotContains(t, got.Headers, "User-Agent", "and sends no Go User-Agent in its place")
	assert.Equal(t, "keep=y", got.Query)
}

func TestResponseProto(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	resp, err := c.Get(ctx, "/")
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.1", resp.Proto)
	assert.Nil(t, resp.Timings, "timings are opt-in")

	h2 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	h2.EnableHTTP2 = true
	h2.StartTLS()
	t.Cleanup(h2.Close)
	c2 := newClient(t, axios.Config{BaseURL: h2.URL})
	c2.Resty().SetTransport(h2.Client().Transport)
	resp, err = c2.Get(ctx, "/")
	require.NoError(t, err)
	assert.Equal(t, "HTTP/2.0", resp.Proto)
	assert.Equal(t, "HTTP/2.0", string(resp.Data))
}

func TestTimingsOverTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(20 * time.Millisecond)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c := newClient(t, axios.Config{BaseURL: srv.URL, Timings: true})
	c.Resty().SetTLSClientConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})

	resp, err := c.Get(ctx, "/")
	require.NoError(t, err)
	tm := resp.Timings
	require.NotNil(t, tm)
	assert.False(t, tm.Reused)
	assert.Zero(t, tm.DNS, "an IP address needs no lookup")
	assert.Positive(t, tm.Connect)
	assert.Positive(t, tm.TLS)
	assert.GreaterOrEqual(t, tm.Wait, 20*time.Millisecond, "the server's sleep is its wait")
	assert.GreaterOrEqual(t, tm.FirstByte, tm.Wait)
	assert.LessOrEqual(t, tm.FirstByte, resp.Duration)
	assert.Equal(t, strings.TrimPrefix(srv.URL, "https://"), tm.RemoteAddr)

	resp, err = c.Get(ctx, "/")
	require.NoError(t, err)
	assert.True(t, resp.Timings.Reused, "the second request reuses the connection")
	assert.Zero(t, resp.Timings.Connect)
	assert.Zero(t, resp.Timings.TLS)
	assert.Contains(t, fmt.Sprint(resp), "Timings:", "a printed Response shows them")
}
