package interceptors_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/interceptors"
)

// flagLog records a Loading's onChange calls and checks, at each one, that
// the count agrees with the flag.
type flagLog struct {
	mu       sync.Mutex
	calls    []bool
	loading  *interceptors.Loading
	problems []string
}

func newFlagLog() *flagLog {
	f := new(flagLog)
	f.loading = interceptors.NewLoading(f.onChange)
	return f
}

func (f *flagLog) onChange(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.loading.InFlight()
	if n < 0 || (on && n == 0) || (!on && n != 0) {
		f.problems = append(f.problems, fmt.Sprintf("onChange(%v) with InFlight %d", on, n))
	}
	f.calls = append(f.calls, on)
}

func (f *flagLog) snapshot() ([]bool, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]bool(nil), f.calls...), append([]string(nil), f.problems...)
}

// requireSettled asserts the calls alternate, start with true and end
// with false, and that the count is back to zero.
func (f *flagLog) requireSettled(t *testing.T) []bool {
	t.Helper()
	calls, problems := f.snapshot()
	require.Empty(t, problems)
	require.NotEmpty(t, calls)
	require.Zero(t, len(calls)%2, "calls: %v", calls)
	for i, on := range calls {
		require.Equal(t, i%2 == 0, on, "call %d of %v", i, calls)
	}
	require.Zero(t, f.loading.InFlight())
	return calls
}

func TestLoadingAlternatesUnder100ConcurrentRequestsAThirdFailing(t *testing.T) {
	f := newFlagLog()
	var maxSeen, minSeen = 0, 1 << 30
	var seenMu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.loading.InFlight()
		seenMu.Lock()
		maxSeen, minSeen = max(maxSeen, n), min(minSeen, n)
		seenMu.Unlock()
		time.Sleep(5 * time.Millisecond)
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	f.loading.Install(c)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, path := context.Background(), "/ok"
			switch i % 6 {
			case 0, 3:
				path = "/fail"
			case 5:
				ctx = canceled
			}
			_, errs[i] = c.Get(ctx, path)
		}()
	}
	wg.Wait()

	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	assert.Equal(t, 34+16, failed, "a third fail with 500, a sixth are canceled")
	f.requireSettled(t)
	assert.GreaterOrEqual(t, minSeen, 1, "a request being served is in flight")
	assert.LessOrEqual(t, maxSeen, 100)
}

// attemptProbe is a responder that records Loading.InFlight while each
// attempt is on the wire.
type attemptProbe struct {
	mu       sync.Mutex
	inFlight []int
}

func (p *attemptProbe) wrap(l *interceptors.Loading, r httpmock.Responder) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		p.mu.Lock()
		p.inFlight = append(p.inFlight, l.InFlight())
		p.mu.Unlock()
		return r(req)
	}
}

func TestLoadingCountsARetriedRequestOnce(t *testing.T) {
	c, mock := mockClient(t)
	f := newFlagLog()
	var probe attemptProbe
	mock.RegisterResponder("GET", mockBase+"/flaky", probe.wrap(f.loading,
		httpmock.NewStringResponder(503, "").Then(httpmock.NewStringResponder(503, "")).Then(httpmock.NewStringResponder(200, ""))))
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)
	f.loading.Install(c)

	_, err := c.Get(context.Background(), "/flaky")
	require.NoError(t, err)

	assert.Equal(t, []int{1, 1, 1}, probe.inFlight, "each attempt is the same request")
	assert.Equal(t, []bool{true, false}, f.requireSettled(t))
}

func TestLoadingCountsRetryAndAuthLikeRetryOnce(t *testing.T) {
	c, mock := mockClient(t)
	f := newFlagLog()
	var probe attemptProbe
	mock.RegisterResponder("GET", mockBase+"/me", probe.wrap(f.loading,
		httpmock.NewStringResponder(503, "").Then(httpmock.NewStringResponder(401, "")).Then(httpmock.NewStringResponder(200, ""))))
	authLike(c, "fresh")
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)
	f.loading.Install(c)

	_, err := c.Get(context.Background(), "/me")
	require.NoError(t, err)

	assert.Equal(t, []int{1, 1, 1}, probe.inFlight)
	assert.Equal(t, []bool{true, false}, f.requireSettled(t))
}

func TestLoadingInstalledBeforeRetryTurnsOffBetweenAttemptsButSettles(t *testing.T) {
	c, mock := mockClient(t)
	f := newFlagLog()
	mock.RegisterResponder("GET", mockBase+"/flaky",
		httpmock.NewStringResponder(503, "").Then(httpmock.NewStringResponder(200, "")))
	f.loading.Install(c)
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)

	_, err := c.Get(context.Background(), "/flaky")
	require.NoError(t, err)

	assert.Equal(t, []bool{true, false, true, false}, f.requireSettled(t))
}

func TestLoadingEndsARequestThatFailedInALaterRequestInterceptor(t *testing.T) {
	for name, install := range map[string]func(c *axios.Client){
		"error with its Config": func(c *axios.Client) {
			interceptors.NewHeaders(func(context.Context, *axios.Config) (http.Header, error) { return nil, errPlain }).Install(c)
		},
		"plain error": func(c *axios.Client) {
			c.Interceptors.Request.Use(func(context.Context, *axios.Config) (*axios.Config, error) { return nil, errPlain }, nil)
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, mock := mockClient(t)
			f := newFlagLog()
			install(c)
			f.loading.Install(c) // registered last: its request side runs first

			_, err := c.Get(context.Background(), "/x")
			require.ErrorIs(t, err, errPlain)

			assert.Zero(t, mock.GetTotalCallCount())
			assert.Equal(t, []bool{true, false}, f.requireSettled(t))
		})
	}
}

func TestLoadingIgnoresARequestThatFailedBeforeReachingIt(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/x", httpmock.NewStringResponder(200, ""))
	f := newFlagLog()
	f.loading.Install(c)
	fail := true
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		if fail {
			return nil, errPlain
		}
		return cfg, nil
	}, nil) // registered last: runs before Loading's request side

	_, err := c.Get(context.Background(), "/x")
	require.ErrorIs(t, err, errPlain)
	calls, _ := f.snapshot()
	assert.Empty(t, calls, "it never started")
	assert.Zero(t, f.loading.InFlight())

	fail = false
	_, err = c.Get(context.Background(), "/x")
	require.NoError(t, err)
	assert.Equal(t, []bool{true, false}, f.requireSettled(t))
}

func TestLoadingNeverStrandsTheFlagWhenErrorsLoseTheirConfig(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	f := newFlagLog()
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		if cfg.URL == "/plain" {
			return nil, errPlain
		}
		return cfg, nil
	}, nil)
	f.loading.Install(c)

	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := "/ok"
			if i%2 == 0 {
				path = "/plain"
			}
			_, _ = c.Get(context.Background(), path)
		}()
	}
	wg.Wait()

	f.requireSettled(t)
}

func TestLoadingWithoutCallbackStillCounts(t *testing.T) {
	c, mock := mockClient(t)
	l := interceptors.NewLoading(nil)
	var during int
	mock.RegisterResponder("GET", mockBase+"/x", func(*http.Request) (*http.Response, error) {
		during = l.InFlight()
		return httpmock.NewStringResponse(200, ""), nil
	})
	l.Install(c)

	_, err := c.Get(context.Background(), "/x")
	require.NoError(t, err)
	assert.Equal(t, 1, during)
	assert.Zero(t, l.InFlight())
}

func TestLoadingCountsAConfigSentAgainAsANewRequest(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/x", httpmock.NewStringResponder(200, ""))
	f := newFlagLog()
	f.loading.Install(c)

	resp, err := c.Get(context.Background(), "/x")
	require.NoError(t, err)
	_, err = c.Request(context.Background(), *resp.Config)
	require.NoError(t, err)

	assert.Equal(t, []bool{true, false, true, false}, f.requireSettled(t))
}

func TestLoadingEndsRequestsWhoseInterceptorPanicked(t *testing.T) {
	boom := func() { panic("boom") }
	for name, tc := range map[string]struct {
		paths   []string
		install func(c *axios.Client)
	}{
		"request interceptor": {[]string{"/x", "/missing"}, func(c *axios.Client) {
			c.Interceptors.Request.Use(func(context.Context, *axios.Config) (*axios.Config, error) { boom(); return nil, nil }, nil)
		}},
		"response interceptor": {[]string{"/x"}, func(c *axios.Client) {
			c.Interceptors.Response.Use(func(context.Context, *axios.Response) (*axios.Response, error) { boom(); return nil, nil }, nil)
		}},
		"response rejected handler": {[]string{"/missing"}, func(c *axios.Client) {
			c.Interceptors.Response.Use(nil, func(context.Context, error) (*axios.Response, error) { boom(); return nil, nil })
		}},
	} {
		t.Run(name, func(t *testing.T) {
			c, mock := mockClient(t)
			mock.RegisterResponder("GET", mockBase+"/x", httpmock.NewStringResponder(200, "ok"))
			mock.RegisterResponder("GET", mockBase+"/missing", httpmock.NewStringResponder(404, ""))
			f := newFlagLog()
			tc.install(c)
			f.loading.Install(c) // registered last: its request side runs first, its response side last

			const n = 20
			errs := make([]error, n)
			panics := make([]any, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() { panics[i] = recover() }()
					_, errs[i] = c.Get(context.Background(), tc.paths[i%len(tc.paths)])
				}()
			}
			wg.Wait()

			assert.Zero(t, f.loading.InFlight(), "the loading indicator turned off")
			for i := range n {
				require.Nil(t, panics[i], "request %d: the panic escaped Client.Request", i)
				var pe *axios.PanicError
				require.ErrorAs(t, errs[i], &pe, "request %d", i)
				assert.Equal(t, "boom", pe.Value)
			}
			f.requireSettled(t)
		})
	}
}
