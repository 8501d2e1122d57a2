package axios_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/axiosgo/axios"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests in this file port axios's test/specs/interceptors.spec.js and
// tests/unit/core/InterceptorManager.test.js. Each names the case it mirrors.
// The spec's "synchronous" cases have no Go counterpart: interceptors are
// plain function calls on the caller's goroutine, so there is nothing to
// schedule (see docs/interceptors.md).

var ctx = context.Background()

func setHeader(k, v string) axios.RequestFulfilled {
	return func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		cfg.Headers.Set(k, v)
		return cfg, nil
	}
}

// echoOf returns a function that takes a call's results and decodes the echo.
func echoOf(t *testing.T) func(*axios.Response, error) echo {
	return func(resp *axios.Response, err error) echo {
		t.Helper()
		e, err := axios.JSON[echo](resp, err)
		require.NoError(t, err)
		return e
	}
}

// interceptors.spec: "should add a request interceptor (asynchronous by default)".
func TestRequestInterceptorAddsHeader(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	c.Interceptors.Request.Use(setHeader("test", "added by interceptor"), nil)

	e := echoOf(t)(c.Get(ctx, "/foo"))
	assert.Equal(t, []string{"added by interceptor"}, e.Headers["Test"])
}

// interceptors.spec: "should execute request interceptor based on runWhen
// function" and "should not execute request interceptor if runWhen function
// returns false".
func TestRunWhen(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	onlyGet := axios.RunWhen(func(cfg *axios.Config) bool { return cfg.Method == http.MethodGet })
	c.Interceptors.Request.Use(setHeader("test", "special get headers"), nil, onlyGet)

	get := echoOf(t)(c.Get(ctx, "/foo"))
	assert.Equal(t, []string{"special get headers"}, get.Headers["Test"], "runWhen true: applied")

	post := echoOf(t)(c.Post(ctx, "/foo", nil))
	assert.NotContains(t, post.Headers, "Test", "runWhen false: skipped")
}

// interceptors.spec: "should add a request interceptor that returns a new
// config object".
func TestRequestInterceptorReturnsNewConfig(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		return &axios.Config{BaseURL: cfg.BaseURL, URL: "/bar", Method: http.MethodPost}, nil
	}, nil)

	e := echoOf(t)(c.Get(ctx, "/foo"))
	assert.Equal(t, http.MethodPost, e.Method)
	assert.Equal(t, "/bar", e.Path)
}

// interceptors.spec: "should add multiple request interceptors".
func TestThreeRequestInterceptorsAllApply(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	c.Interceptors.Request.Use(setHeader("test1", "1"), nil)
	c.Interceptors.Request.Use(setHeader("test2", "2"), nil)
	c.Interceptors.Request.Use(setHeader("test3", "3"), nil)

	e := echoOf(t)(c.Get(ctx, "/foo"))
	assert.Equal(t, []string{"1"}, e.Headers["Test1"])
	assert.Equal(t, []string{"2"}, e.Headers["Test2"])
	assert.Equal(t, []string{"3"}, e.Headers["Test3"])
}

// Request interceptors run last-registered first, as axios's default
// (Axios.js unshifts them), and in registration order after SetOrder(FIFO).
func TestRequestInterceptorOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order *axios.Order
		want  string
	}{
		{"default is LIFO", nil, "321"},
		{"FIFO", ptr(axios.FIFO), "123"},
		{"LIFO set explicitly", ptr(axios.LIFO), "321"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, axios.Config{Adapter: okAdapter})
			if tc.order != nil {
				c.Interceptors.Request.SetOrder(*tc.order)
			}
			var mu sync.Mutex
			var got strings.Builder
			for _, n := range []string{"1", "2", "3"} {
				c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
					mu.Lock()
					got.WriteString(n)
					mu.Unlock()
					return cfg, nil
				}, nil)
			}
			_, err := c.Get(ctx, "http://example.test/")
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.String())
		})
	}
}

func ptr[T any](v T) *T { return &v }

// okAdapter answers 200 with the body "ok" without any network.
func okAdapter(_ context.Context, cfg *axios.Config) (*axios.Response, error) {
	return &axios.Response{Status: 200, StatusText: "OK", Data: []byte("ok"), Config: cfg}, nil
}

func statusAdapter(status int) axios.Adapter {
	return func(_ context.Context, cfg *axios.Config) (*axios.Response, error) {
		return &axios.Response{Status: status, StatusText: http.StatusText(status), Data: []byte("stuff"), Config: cfg}, nil
	}
}

func appendData(s string) axios.ResponseFulfilled {
	return func(_ context.Context, resp *axios.Response) (*axios.Response, error) {
		resp.Data = append(resp.Data, s...)
		return resp, nil
	}
}

// interceptors.spec: "should add a response interceptor".
func TestResponseInterceptorChangesData(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: statusAdapter(200)})
	c.Interceptors.Response.Use(appendData(" - modified by interceptor"), nil)

	resp, err := c.Get(ctx, "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, "stuff - modified by interceptor", string(resp.Data))
}

// interceptors.spec: "should add a response interceptor that returns a new
// data object".
func TestResponseInterceptorReturnsNewResponse(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: statusAdapter(200)})
	c.Interceptors.Response.Use(func(_ context.Context, _ *axios.Response) (*axios.Response, error) {
		return &axios.Response{Status: 299, Data: []byte("new")}, nil
	}, nil)

	resp, err := c.Get(ctx, "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, 299, resp.Status)
	assert.Equal(t, "new", string(resp.Data))
}

// interceptors.spec, "given you add 2 response interceptors": "then each
// interceptor is executed", "then they are executed in the order they were
// added", "then only the last interceptor's result is returned", "then every
// interceptor receives the result of it's predecessor".
func TestResponseInterceptorsRunInRegistrationOrder(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: statusAdapter(200)})
	var seen []string
	for _, n := range []string{"1", "2", "3"} {
		c.Interceptors.Response.Use(func(_ context.Context, resp *axios.Response) (*axios.Response, error) {
			seen = append(seen, string(resp.Data))
			return &axios.Response{Status: 200, Data: append(append([]byte(nil), resp.Data...), n...), Config: resp.Config}, nil
		}, nil)
	}

	resp, err := c.Get(ctx, "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, []string{"stuff", "stuff1", "stuff12"}, seen, "each sees its predecessor's result, in order")
	assert.Equal(t, "stuff123", string(resp.Data), "the last one wins")
}

// interceptors.spec, "and when the fulfillment-interceptor throws": "then the
// following fulfillment-interceptor is not called", "then the following
// rejection-interceptor is called", "once caught, another following
// fulfill-interceptor is called again (just as in a promise chain)".
func TestFulfilledErrorSkipsToRejectedWhichRecovers(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: statusAdapter(200)})
	boom := errors.New("throwing interceptor")
	var calls []string
	c.Interceptors.Response.Use(func(_ context.Context, _ *axios.Response) (*axios.Response, error) {
		calls = append(calls, "f1 throws")
		return nil, boom
	}, nil)
	c.Interceptors.Response.Use(func(_ context.Context, r *axios.Response) (*axios.Response, error) {
		calls = append(calls, "f2 must not run")
		return r, nil
	}, nil)
	c.Interceptors.Response.Use(nil, func(_ context.Context, err error) (*axios.Response, error) {
		calls = append(calls, "r3 catches")
		assert.ErrorIs(t, err, boom)
		return &axios.Response{Status: 200, Data: []byte("recovered")}, nil
	})
	c.Interceptors.Response.Use(func(_ context.Context, r *axios.Response) (*axios.Response, error) {
		calls = append(calls, "f4 runs again")
		return r, nil
	}, nil)

	resp, err := c.Get(ctx, "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, "recovered", string(resp.Data))
	assert.Equal(t, []string{"f1 throws", "r3 catches", "f4 runs again"}, calls)
}

// A request interceptor's error skips dispatch and reaches the response
// interceptors' rejected handlers, as the rest of axios's promise chain.
func TestRequestInterceptorErrorSkipsDispatch(t *testing.T) {
	dispatched := false
	c := newClient(t, axios.Config{Adapter: func(ctx context.Context, cfg *axios.Config) (*axios.Response, error) {
		dispatched = true
		return okAdapter(ctx, cfg)
	}})
	boom := errors.New("no token")
	c.Interceptors.Request.Use(func(context.Context, *axios.Config) (*axios.Config, error) { return nil, boom }, nil)
	var got error
	c.Interceptors.Response.Use(nil, func(_ context.Context, err error) (*axios.Response, error) {
		got = err
		return nil, err
	})

	_, err := c.Get(ctx, "http://example.test/")
	assert.ErrorIs(t, err, boom)
	assert.ErrorIs(t, got, boom)
	assert.False(t, dispatched)
}

// A request interceptor's rejected handler can recover the chain with a config.
func TestRequestRejectedRecovers(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: okAdapter})
	// LIFO: the second registered runs first and fails; the first recovers.
	c.Interceptors.Request.Use(nil, func(context.Context, error) (*axios.Config, error) {
		return &axios.Config{URL: "http://example.test/recovered", Adapter: okAdapter}, nil
	})
	c.Interceptors.Request.Use(func(context.Context, *axios.Config) (*axios.Config, error) {
		return nil, errors.New("fails")
	}, nil)

	resp, err := c.Get(ctx, "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, "http://example.test/recovered", resp.Config.URL)
}

// A handler that returns neither a value nor an error is a bug in the
// handler; the request fails with a clear error instead of a nil response.
func TestNilResultsAreErrors(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: okAdapter})
	c.Interceptors.Request.Use(func(context.Context, *axios.Config) (*axios.Config, error) { return nil, nil }, nil)
	_, err := c.Get(ctx, "http://example.test/")
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)

	c2 := newClient(t, axios.Config{Adapter: okAdapter})
	c2.Interceptors.Response.Use(func(context.Context, *axios.Response) (*axios.Response, error) { return nil, nil }, nil)
	_, err = c2.Get(ctx, "http://example.test/")
	axErr, ok = axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
}

// interceptors.spec: "should allow removing interceptors".
func TestEjectMiddleOfThree(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: statusAdapter(200)})
	c.Interceptors.Response.Use(appendData("1"), nil)
	id := c.Interceptors.Response.Use(appendData("2"), nil)
	c.Interceptors.Response.Use(appendData("3"), nil)
	c.Interceptors.Response.Eject(id)

	resp, err := c.Get(ctx, "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, "stuff13", string(resp.Data))
	assert.Equal(t, 2, c.Interceptors.Response.Len())
}

// interceptors.spec: "should execute interceptors before transformers": an
// interceptor that changes Data changes what is encoded and sent.
func TestInterceptorChangesDataBeforeEncoding(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		cfg.Data = map[string]string{"baz": "quux"}
		return cfg, nil
	}, nil)

	e := echoOf(t)(c.Post(ctx, "/foo", map[string]string{"foo": "bar"}))
	assert.JSONEq(t, `{"baz":"quux"}`, e.Body)
	assert.Equal(t, []string{"application/json"}, e.Headers["Content-Type"])
}

// interceptors.spec: "should modify base URL in request interceptor".
func TestInterceptorChangesBaseURL(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: "http://unreachable.invalid/"})
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		cfg.BaseURL = srv.URL + "/rewritten/"
		return cfg, nil
	}, nil)

	e := echoOf(t)(c.Get(ctx, "/foo"))
	assert.Equal(t, "/rewritten/foo", e.Path)
}

// interceptors.spec: "should clear all request interceptors" and "should
// clear all response interceptors"; InterceptorManager.test: clear.
func TestClearLeavesNone(t *testing.T) {
	c := axios.Create(axios.Config{})
	c.Interceptors.Request.Use(setHeader("a", "1"), nil)
	c.Interceptors.Request.Use(setHeader("b", "2"), nil)
	c.Interceptors.Response.Use(appendData("x"), nil)
	c.Interceptors.Request.Clear()
	c.Interceptors.Response.Clear()
	assert.Equal(t, 0, c.Interceptors.Request.Len())
	assert.Equal(t, 0, c.Interceptors.Response.Len())
}

// InterceptorManager.test: use returns an id, eject removes by it; 10,000
// Use+Eject pairs leave nothing behind.
func TestTenThousandUseEjectPairsLeaveNothing(t *testing.T) {
	var m axios.RequestInterceptors
	for range 10_000 {
		id := m.Use(setHeader("a", "1"), nil)
		m.Eject(id)
	}
	assert.Equal(t, 0, m.Len())
	var r axios.ResponseInterceptors
	for range 10_000 {
		r.Eject(r.Use(appendData("x"), nil))
	}
	assert.Equal(t, 0, r.Len())
}

// A stale id never removes a later interceptor, and ids are never reused,
// not even after Clear (axios reuses array indexes; we do not).
func TestStaleIDNeverRemovesLaterInterceptor(t *testing.T) {
	var m axios.ResponseInterceptors
	first := m.Use(appendData("1"), nil)
	m.Eject(first)
	second := m.Use(appendData("2"), nil)
	assert.NotEqual(t, first, second)

	m.Eject(first) // stale: must not touch the second
	assert.Equal(t, 1, m.Len())

	m.Clear()
	third := m.Use(appendData("3"), nil)
	assert.Greater(t, third, second, "ids keep growing after Clear")
	m.Eject(second) // stale again
	assert.Equal(t, 1, m.Len())
	m.Eject(12345) // unknown
	assert.Equal(t, 1, m.Len())
}

// The chain is a snapshot taken when the request starts: an interceptor
// added or ejected during a request changes later requests only.
func TestChainIsSnapshotAtRequestStart(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: statusAdapter(200)})
	var lateID int
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		if lateID == 0 {
			lateID = c.Interceptors.Response.Use(appendData(" late"), nil)
		}
		return cfg, nil
	}, nil)
	earlyID := c.Interceptors.Response.Use(appendData(" early"), nil)
	c.Interceptors.Response.Use(func(_ context.Context, r *axios.Response) (*axios.Response, error) {
		c.Interceptors.Response.Eject(earlyID) // ejecting mid-chain changes nothing now
		return r, nil
	}, nil)

	first, err := c.Get(ctx, "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, "stuff early", string(first.Data), "the interceptor added during the request did not run")

	second, err := c.Get(ctx, "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, "stuff late", string(second.Data), "the next request sees both changes")
}

// Use and Eject while requests run are safe under -race.
func TestUseAndEjectDuringRequestsIsRaceFree(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: okAdapter})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			c.Interceptors.Request.Eject(c.Interceptors.Request.Use(setHeader("x", "1"), nil))
			c.Interceptors.Response.Eject(c.Interceptors.Response.Use(appendData("x"), nil))
		}
	}()
	var failures int
	var mu sync.Mutex
	var reqs sync.WaitGroup
	for range 50 {
		reqs.Add(1)
		go func() {
			defer reqs.Done()
			for range 20 {
				if _, err := c.Get(ctx, "http://example.test/"); err != nil {
					mu.Lock()
					failures++
					mu.Unlock()
				}
			}
		}()
	}
	reqs.Wait()
	close(stop)
	wg.Wait()
	assert.Zero(t, failures)
}

// A non-2xx status is an *Error that reaches the first response
// interceptor's rejected handler, which can recover.
func TestRejectedStatusReachesResponseRejected(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: statusAdapter(404)})
	var status int
	c.Interceptors.Response.Use(nil, func(_ context.Context, err error) (*axios.Response, error) {
		axErr, ok := axios.AsError(err)
		require.True(t, ok)
		status = axErr.Status()
		return &axios.Response{Status: 200, Data: []byte("fallback")}, nil
	})

	resp, err := c.Get(ctx, "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, 404, status)
	assert.Equal(t, "fallback", string(resp.Data))
}

// errors.As reaches *axios.Error through any wrapping by interceptors.
func TestErrorsAsThroughWrapping(t *testing.T) {
	c := newClient(t, axios.Config{Adapter: statusAdapter(500)})
	c.Interceptors.Response.Use(nil, func(_ context.Context, err error) (*axios.Response, error) {
		return nil, errors.Join(errors.New("context"), errors.New("wrapped: "+err.Error()), err)
	})
	c.Interceptors.Response.Use(nil, func(_ context.Context, err error) (*axios.Response, error) {
		return nil, &wrapErr{err}
	})

	_, err := c.Get(ctx, "http://example.test/")
	var axErr *axios.Error
	require.ErrorAs(t, err, &axErr)
	assert.Equal(t, axios.CodeBadResponse, axErr.Code)
	assert.Equal(t, 500, axErr.Status())
	assert.True(t, axios.IsAxiosError(err))
}

type wrapErr struct{ err error }

func (w *wrapErr) Error() string { return "outer: " + w.err.Error() }
func (w *wrapErr) Unwrap() error { return w.err }

// A response interceptor retries through the instance, as axios code does:
// the retry runs the whole chain again.
func TestRetryThroughInstanceRunsWholeChain(t *testing.T) {
	var calls int
	var mu sync.Mutex
	c := newClient(t, axios.Config{Adapter: func(_ context.Context, cfg *axios.Config) (*axios.Response, error) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			return &axios.Response{Status: 401, Config: cfg}, nil
		}
		return &axios.Response{Status: 200, Data: []byte(cfg.Headers.Get("Authorization")), Config: cfg}, nil
	}})
	var reqRuns int
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		reqRuns++
		return cfg, nil
	}, nil)
	c.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		axErr, ok := axios.AsError(err)
		if !ok || axErr.Status() != 401 || axErr.Config.Meta["_retry"] == true {
			return nil, err
		}
		retry := *axErr.Config
		retry.Meta = map[string]any{"_retry": true}
		retry.Headers = retry.Headers.Clone()
		retry.Headers.Set("Authorization", "Bearer new")
		return c.Request(ctx, retry)
	})

	resp, err := c.Get(ctx, "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, "Bearer new", string(resp.Data))
	assert.Equal(t, 2, calls)
	assert.Equal(t, 2, reqRuns, "the retry ran the request interceptors again")
}
