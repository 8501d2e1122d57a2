package axios_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
)

// The connection layer is resty's: what is set on Resty() below the request
// (transport, TLS, proxy, cookie jar, root certificates) applies to every
// request the Client builds and sends.

// recordingTransport answers every request itself and keeps what it got.
type recordingTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, req)
	rt.mu.Unlock()
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(http.NoBody), Request: req,
	}, nil
}

func TestRestySetTransportCarriesEveryRequest(t *testing.T) {
	rt := &recordingTransport{}
	c := newClient(t, axios.Config{BaseURL: "http://api.test"})
	c.Resty().SetTransport(rt)

	_, err := c.Get(ctx, "/a")
	require.NoError(t, err)
	_, err = c.Post(ctx, "/b", "x", axios.Config{MaxRedirects: 3}) // a request with its own redirect policy too
	require.NoError(t, err)

	require.Len(t, rt.reqs, 2)
	assert.Equal(t, "http://api.test/a", rt.reqs[0].URL.String())
	assert.Equal(t, http.MethodPost, rt.reqs[1].Method)
}

// httpmock's per-test transport, the recipe the README shows, also for a
// request with its own redirect limit.
func TestHTTPMockTransportOnResty(t *testing.T) {
	mock := httpmock.NewMockTransport()
	c := newClient(t, axios.Config{BaseURL: "http://api.test"})
	c.Resty().SetTransport(mock)
	mock.RegisterResponder("GET", "http://api.test/me", httpmock.NewStringResponder(200, "kim"))

	for _, cfg := range []axios.Config{{}, {MaxRedirects: axios.NoRedirects}} {
		resp, err := c.Get(ctx, "/me", cfg)
		require.NoError(t, err)
		assert.Equal(t, "kim", string(resp.Data))
	}
	assert.Equal(t, 2, mock.GetTotalCallCount())
}

func tlsServer(t *testing.T) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "over TLS")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRestySetTLSClientConfigIsUsed(t *testing.T) {
	srv := tlsServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	_, err := c.Get(ctx, "/")
	axErr, ok := axios.AsError(err)
	require.True(t, ok, "an unknown certificate fails: %v", err)
	assert.Equal(t, axios.CodeNetwork, axErr.Code)

	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c.Resty().SetTLSClientConfig(&tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
	resp, err := c.Get(ctx, "/")
	require.NoError(t, err)
	assert.Equal(t, "over TLS", string(resp.Data))
}

func TestRestySetRootCertificateIsUsed(t *testing.T) {
	srv := tlsServer(t)
	path := filepath.Join(t.TempDir(), "root.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	c.Resty().SetRootCertificate(path)

	resp, err := c.Get(ctx, "/", axios.Config{MaxRedirects: 5})
	require.NoError(t, err)
	assert.Equal(t, "over TLS", string(resp.Data))
}

// An httptest server acting as an HTTP proxy: a request for an http:// URL
// reaches it with the absolute URL as its request target.
func TestRestySetProxyIsUsed(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.RequestURI)
		mu.Unlock()
		_, _ = io.WriteString(w, "via proxy to "+r.Host)
	}))
	t.Cleanup(proxy.Close)
	c := newClient(t, axios.Config{BaseURL: "http://upstream.test"})
	c.Resty().SetProxy(proxy.URL)

	resp, err := c.Get(ctx, "/x", axios.Config{Params: map[string][]string{"q": {"1"}}})
	require.NoError(t, err)
	assert.Equal(t, "via proxy to upstream.test", string(resp.Data))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"http://upstream.test/x?q=1"}, seen)
}

// A cookie jar set on Resty() keeps cookies, also across the redirects of a
// request with its own redirect limit (sent through a copy of the
// http.Client, which shares the jar).
func TestRestySetCookieJarKeepsCookies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/"})
		case "/hop":
			http.SetCookie(w, &http.Cookie{Name: "hop", Value: "h1", Path: "/"})
			http.Redirect(w, r, "/me", http.StatusFound)
		default:
			var names []string
			for _, ck := range r.Cookies() {
				names = append(names, ck.Name+"="+ck.Value)
			}
			_, _ = io.WriteString(w, joinSorted(names))
		}
	}))
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	c.Resty().SetCookieJar(jar)

	_, err = c.Get(ctx, "/login")
	require.NoError(t, err)
	resp, err := c.Get(ctx, "/me")
	require.NoError(t, err)
	assert.Equal(t, "session=s1", string(resp.Data))

	resp, err = c.Get(ctx, "/hop", axios.Config{MaxRedirects: 2})
	require.NoError(t, err)
	assert.Equal(t, "hop=h1 session=s1", string(resp.Data))
}

func joinSorted(s []string) string {
	slices.Sort(s)
	return strings.Join(s, " ")
}

// CloseIdleConnections closes the keep-alive connection a request left
// idle: the server sees it close.
func TestCloseIdleConnectionsClosesIdleKeepAlives(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			select {
			case closed <- struct{}{}:
			default:
			}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	_, err := c.Get(ctx, "/")
	require.NoError(t, err)
	select {
	case <-closed:
		t.Fatal("the connection closed before CloseIdleConnections")
	case <-time.After(20 * time.Millisecond):
	}

	c.CloseIdleConnections()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the idle connection was not closed")
	}
}
