package axios_test

// Cases a review pass of the core found wanting: each test shows what a user hits.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiosgo/axios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A pipe upload whose producer stalls must still end at Config.Timeout, or
// when the caller's context is canceled. net/http's RoundTrip waits for its
// writeLoop to stop before it returns an error, and unblocks a Read stuck in
// the body by closing it; the body's Close does nothing, so the request hangs
// until the producer writes again or closes the pipe.
func TestStalledPipeUploadEndsAtTimeoutOrCancel(t *testing.T) {
	for _, tc := range []struct {
		name string
		code string
		run  func(c *axios.Client, body io.Reader) error
	}{
		{"Timeout", axios.CodeConnAborted, func(c *axios.Client, body io.Reader) error {
			_, err := c.Post(context.Background(), "/", body, axios.Config{Timeout: 100 * time.Millisecond})
			return err
		}},
		{"cancel", axios.CodeCanceled, func(c *axios.Client, body io.Reader) error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(100*time.Millisecond, cancel)
			_, err := c.Post(ctx, "/", body)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
			}))
			defer srv.Close()
			c := newClient(t, axios.Config{BaseURL: srv.URL})
			pr, pw := io.Pipe()
			go func() { _, _ = pw.Write([]byte("first bytes, then the producer stalls")) }()

			done := make(chan error, 1)
			go func() { done <- tc.run(c, pr) }()
			select {
			case err := <-done:
				axErr, ok := axios.AsError(err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, tc.code, axErr.Code, axErr.Message)
			case <-time.After(2 * time.Second):
				_ = pw.Close() // let the request end, so the test does
				<-done
				t.Fatal("the request was still running 2s after it should have ended: only closing the pipe ended it")
			}
			_ = pw.Close()
		})
	}
}

// Basic credentials from Config.Auth must not follow a redirect to another
// origin. net/http drops Authorization only when the host name changes, so
// another port on the same host (another service) gets the password, as
// would http:// after https:// on the same host. axios's follow-redirects
// and the fetch spec drop it whenever the origin changes.
func TestBasicAuthIsNotSentToAnotherOriginOnRedirect(t *testing.T) {
	var seen atomic.Value
	seen.Store("<not reached>")
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("Authorization"))
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	}))
	defer api.Close()
	require.NotEqual(t, api.URL, other.URL)

	c := newClient(t, axios.Config{BaseURL: api.URL, Auth: &axios.BasicAuth{Username: "kim", Password: "s3cr3t"}})
	_, err := c.Get(context.Background(), "/")
	require.NoError(t, err)
	assert.Equal(t, "", seen.Load(), "the redirect to %s (another port) carried the Basic credentials", other.URL)
}

// A ResponseStream whose response interceptor fails, and whose next
// rejected handler recovers with a response of its own (a cached copy, a
// fallback), is a stream nobody can read or close: the handler that
// recovers sees only the error. Request closes the stream when the chain
// ends in an error, but not when it recovers, so the connection (and the
// Timeout's timer) stay held.
func TestStreamClosedWhenAResponseInterceptorRecoversFromItsOwnError(t *testing.T) {
	closed := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("the start of a long download"))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done(): // the client closed the stream
			close(closed)
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	c := newClient(t, axios.Config{BaseURL: srv.URL, ResponseType: axios.ResponseStream})
	c.Interceptors.Response.Use(func(ctx context.Context, resp *axios.Response) (*axios.Response, error) {
		return nil, errors.New("not the content type this client wants")
	}, nil)
	c.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		return &axios.Response{Status: http.StatusOK, Data: []byte("fallback")}, nil
	})

	resp, err := c.Get(context.Background(), "/")
	require.NoError(t, err)
	assert.Equal(t, "fallback", string(resp.Data))
	select {
	case <-closed:
	case <-time.After(time.Second):
		t.Fatal("the dispatched stream was never closed: its connection is held until the server gives up")
	}
}

// A deflate response (zlib-wrapped or raw) sent chunked, with its last chunk
// flushed before the terminating one, as a streaming compressor does: the
// decoder ends at the deflate stream's end, before the body's EOF, and the
// body is closed unread to its end, so net/http drops the keep-alive
// connection. Every such request dials a new one (gzip and zstd read on to
// EOF and keep it).
func TestDeflateResponseKeepsTheConnection(t *testing.T) {
	for _, tc := range []struct{ name, encoder string }{{"zlib", "zlib"}, {"raw", "flate"}} {
		t.Run(tc.name, func(t *testing.T) {
			body := encode(t, tc.encoder, plain)
			var dials atomic.Int32
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "deflate")
				_, _ = w.Write(body)
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond) // then the chunked body's end
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					dials.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			c := newClient(t, axios.Config{BaseURL: srv.URL})

			for range 2 {
				resp, err := c.Get(context.Background(), "/")
				require.NoError(t, err)
				require.Equal(t, plain, resp.Data)
			}
			assert.EqualValues(t, 1, dials.Load(), "connections opened for two sequential requests")
		})
	}
}

// gatedReader gives open bytes at once, then blocks until gate is closed,
// then gives more.
type gatedReader struct {
	open int
	gate chan struct{}
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.open > 0 {
		n := min(len(p), g.open)
		g.open -= n
		return n, nil
	}
	<-g.gate
	return len(p), nil
}

// OnUploadProgress must not be called once Request has returned. A server
// that answers before reading the whole upload (a 401, a 413) ends the
// request, while net/http's writeLoop goes on reading the body: each of its
// reads still reports progress, on another goroutine, after the caller has
// moved on (and, after an auth retry, alongside the retry's own reports).
func TestNoUploadProgressAfterRequestReturns(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized) // without reading the body
	}))
	defer srv.Close()
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	body := &gatedReader{open: 64 << 10, gate: make(chan struct{})}
	var returned atomic.Bool
	var late atomic.Int32
	_, err := c.Post(context.Background(), "/", body, axios.Config{
		Headers: http.Header{"Content-Length": {"1048576"}},
		OnUploadProgress: func(p axios.Progress) {
			if returned.Load() {
				late.Add(1)
			}
		},
	})
	returned.Store(true)
	require.Equal(t, http.StatusUnauthorized, statusOf(err))
	close(body.gate) // net/http's writeLoop, still in Read, goes on

	assert.Never(t, func() bool { return late.Load() > 0 }, 500*time.Millisecond, 10*time.Millisecond,
		"OnUploadProgress was called after Request returned")
}

func statusOf(err error) int {
	if e, ok := axios.AsError(err); ok {
		return e.Status()
	}
	return 0
}

// A stream sent with the caller's Content-Length (the documented way to send
// a pipe unchunked) has a known length: net/http sends it, and axios's
// upload progress takes its total from that header. OnUploadProgress says
// Total -1 ("unknown") instead, so Fraction stays 0 for the whole upload.
func TestUploadProgressTotalIsTheCallersContentLength(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write([]byte("0123456789"))
		_ = pw.Close()
	}()
	var last atomic.Pointer[axios.Progress]
	_, err := c.Post(context.Background(), "/", pr, axios.Config{
		Headers:          http.Header{"Content-Length": {"10"}},
		OnUploadProgress: func(p axios.Progress) { last.Store(&p) },
	})
	require.NoError(t, err)
	p := last.Load()
	require.NotNil(t, p, "no upload progress reported")
	assert.EqualValues(t, 10, p.Loaded)
	assert.EqualValues(t, 10, p.Total, "Total of a stream whose Content-Length the caller gave")
	assert.Equal(t, 1.0, p.Fraction())
}
