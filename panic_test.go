package axios_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
)

var errEarlier = errors.New("an earlier stage failed")

// A panicking handler rejects the request, as a throwing interceptor rejects
// axios's promise chain (lib/core/Axios.js): the panic becomes an *Error
// that the next rejected handlers see, never a panic out of Request.
func TestPanicInAStageBecomesARejection(t *testing.T) {
	cases := []struct {
		name  string
		what  string
		setup func(c *axios.Client)
	}{
		{"request fulfilled", "the fulfilled handler of request interceptor", func(c *axios.Client) {
			c.Interceptors.Request.Use(func(context.Context, *axios.Config) (*axios.Config, error) { panic("boom") }, nil)
		}},
		{"request rejected", "the rejected handler of request interceptor", func(c *axios.Client) {
			// LIFO: the second runs first, and its error reaches the first's
			// rejected handler.
			c.Interceptors.Request.Use(nil, func(context.Context, error) (*axios.Config, error) { panic("boom") })
			c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
				return nil, &axios.Error{Message: "earlier", Code: axios.CodeBadOptionValue, Config: cfg, Err: errEarlier}
			}, nil)
		}},
		{"request RunWhen", "the RunWhen predicate of request interceptor", func(c *axios.Client) {
			c.Interceptors.Request.Use(nil, nil, axios.RunWhen(func(*axios.Config) bool { panic("boom") }))
		}},
		{"adapter", "Config.Adapter", func(c *axios.Client) {
			c.Defaults.Adapter = func(context.Context, *axios.Config) (*axios.Response, error) { panic("boom") }
		}},
		{"response fulfilled", "the fulfilled handler of response interceptor", func(c *axios.Client) {
			c.Interceptors.Response.Use(func(context.Context, *axios.Response) (*axios.Response, error) { panic("boom") }, nil)
		}},
		{"response rejected", "the rejected handler of response interceptor", func(c *axios.Client) {
			c.Interceptors.Response.Use(func(_ context.Context, r *axios.Response) (*axios.Response, error) {
				return nil, &axios.Error{Message: "earlier", Code: axios.CodeBadOptionValue, Config: r.Config, Err: errEarlier}
			}, nil)
			c.Interceptors.Response.Use(nil, func(context.Context, error) (*axios.Response, error) { panic("boom") })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, axios.Config{BaseURL: "http://api.test", Adapter: okAdapter})
			// Registered first, so with LIFO it runs after the request
			// interceptors the case adds.
			var sawReq error
			c.Interceptors.Request.Use(nil, func(_ context.Context, err error) (*axios.Config, error) {
				sawReq = err
				return nil, err
			})
			tc.setup(c)
			var sawResp error
			c.Interceptors.Response.Use(nil, func(_ context.Context, err error) (*axios.Response, error) {
				sawResp = err
				return nil, err
			})

			var err error
			require.NotPanics(t, func() { _, err = c.Get(context.Background(), "/users") })

			axErr, ok := axios.AsError(err)
			require.True(t, ok, "want an *axios.Error, got %T: %v", err, err)
			assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
			require.NotNil(t, axErr.Config, "the error carries the request's Config")
			assert.Equal(t, "/users", axErr.Config.URL)
			assert.Nil(t, axErr.Response)
			var pe *axios.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "boom", pe.Value)
			assert.Contains(t, pe.What, tc.what)
			assert.Contains(t, string(pe.Stack), "panic_test.go", "the stack is the panicking goroutine's")
			assert.Contains(t, err.Error(), "panicked: boom")
			assert.NotContains(t, pe.Error(), "goroutine", "Error names the value, not the stack")

			assert.Same(t, err, sawResp, "the last response interceptor's rejected handler saw it")
			if tc.name == "request fulfilled" || tc.name == "request rejected" {
				assert.Same(t, err, sawReq, "the next request interceptor's rejected handler saw it")
			}
		})
	}
}

func TestRejectedHandlerRecoversFromAPanic(t *testing.T) {
	c := newClient(t, axios.Config{BaseURL: "http://api.test", Adapter: okAdapter})
	c.Interceptors.Response.Use(func(context.Context, *axios.Response) (*axios.Response, error) { panic("boom") }, nil)
	c.Interceptors.Response.Use(nil, func(_ context.Context, err error) (*axios.Response, error) {
		axErr, _ := axios.AsError(err)
		return &axios.Response{Status: http.StatusTeapot, Config: axErr.Config}, nil
	})

	resp, err := c.Get(context.Background(), "/users")

	require.NoError(t, err)
	assert.Equal(t, http.StatusTeapot, resp.Status)
}

func TestPanicWithAnErrorKeepsTheValue(t *testing.T) {
	cause := errors.New("cause")
	c := newClient(t, axios.Config{BaseURL: "http://api.test", Adapter: okAdapter})
	c.Interceptors.Request.Use(func(context.Context, *axios.Config) (*axios.Config, error) { panic(cause) }, nil)

	_, err := c.Get(context.Background(), "/users")

	var pe *axios.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Same(t, cause, pe.Value)
}

func TestConcurrentPanicsEachFailTheirOwnRequest(t *testing.T) {
	c := newClient(t, axios.Config{BaseURL: "http://api.test", Adapter: okAdapter})
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		if cfg.URL == "/panic" {
			panic("boom")
		}
		return cfg, nil
	}, nil)
	const n = 40
	var wg sync.WaitGroup
	errs := make([]error, n)
	panics := make([]any, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			url := "/ok"
			if i%2 == 0 {
				url = "/panic"
			}
			_, errs[i] = c.Get(context.Background(), url)
		}()
	}
	wg.Wait()
	for i := range n {
		require.Nil(t, panics[i], "request %d panicked", i)
		if i%2 == 0 {
			var pe *axios.PanicError
			assert.ErrorAs(t, errs[i], &pe, "request %d", i)
		} else {
			assert.NoError(t, errs[i], "request %d", i)
		}
	}
}

// closeTracker is a response body that records its Close.
type closeTracker struct {
	io.Reader
	closed atomic.Bool
}

func (b *closeTracker) Close() error { b.closed.Store(true); return nil }

// A progress callback that panics fails its request like any other
// function of the Config: an upload's, which net/http calls on its own
// goroutine where a panic would end the process, and a download's, which
// runs mid-body and must not leave the body open.
func TestPanicInAProgressCallbackFailsTheRequest(t *testing.T) {
	t.Run("upload", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
		}))
		t.Cleanup(srv.Close)
		c := newClient(t, axios.Config{BaseURL: srv.URL})
		t.Cleanup(c.CloseIdleConnections)
		var err error
		require.NotPanics(t, func() {
			_, err = c.Post(context.Background(), "/upload", bytes.Repeat([]byte("x"), 256<<10), axios.Config{
				OnUploadProgress: func(axios.Progress) { panic("boom") },
			})
		})
		ae, ok := axios.AsError(err)
		require.True(t, ok, "want an *axios.Error, got %T: %v", err, err)
		assert.Equal(t, axios.CodeBadOptionValue, ae.Code)
		var pe *axios.PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "Config.OnUploadProgress", pe.What)
		assert.Equal(t, "boom", pe.Value)
		assert.Contains(t, ae.Message, "Config.OnUploadProgress panicked: boom")
	})
	t.Run("upload answered anyway", func(t *testing.T) {
		// A transport that meets the read error but answers all the same,
		// as net/http does when the server's response wins the race.
		c := newClient(t, axios.Config{BaseURL: "http://api.test"})
		c.Resty().SetTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
			_, _ = r.Body.Read(make([]byte, 16))
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
		}))
		_, err := c.Post(context.Background(), "/upload", []byte("some bytes to send"), axios.Config{
			OnUploadProgress: func(axios.Progress) { panic("boom") },
		})
		var pe *axios.PanicError
		require.ErrorAs(t, err, &pe, "the panic is not lost because the server answered")
		assert.Equal(t, "Config.OnUploadProgress", pe.What)
		ae, ok := axios.AsError(err)
		require.True(t, ok)
		assert.Equal(t, axios.CodeBadOptionValue, ae.Code)
	})
	t.Run("download", func(t *testing.T) {
		body := &closeTracker{Reader: strings.NewReader(strings.Repeat("y", 64<<10))}
		c := newClient(t, axios.Config{BaseURL: "http://api.test"})
		c.Resty().SetTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: body, ContentLength: 64 << 10, Request: r}, nil
		}))
		var err error
		require.NotPanics(t, func() {
			_, err = c.Get(context.Background(), "/big", axios.Config{
				OnDownloadProgress: func(axios.Progress) { panic("boom") },
			})
		})
		ae, ok := axios.AsError(err)
		require.True(t, ok, "want an *axios.Error, got %T: %v", err, err)
		assert.Equal(t, axios.CodeBadOptionValue, ae.Code)
		var pe *axios.PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "Config.OnDownloadProgress", pe.What)
		assert.True(t, body.closed.Load(), "the response body was closed")
	})
}
