package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/interceptors"
)

func TestRetryRetriesA503ThenSucceedsWithAJitteredBackoff(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/items",
		httpmock.NewStringResponder(503, "").Then(httpmock.NewStringResponder(503, "")).Then(httpmock.NewStringResponder(200, "ok")))
	var s sleeps
	interceptors.NewRetry(interceptors.RetryOptions{MinWait: 100 * time.Millisecond, Sleep: s.sleep}).Install(c)

	resp, err := c.Get(context.Background(), "/items")

	require.NoError(t, err)
	assert.Equal(t, "ok", string(resp.Data))
	assert.Equal(t, 3, mock.GetTotalCallCount())
	assert.Equal(t, 3, interceptors.Attempt(resp.Config))
	waits := s.waits()
	require.Len(t, waits, 2)
	assert.GreaterOrEqual(t, waits[0], 50*time.Millisecond)
	assert.LessOrEqual(t, waits[0], 100*time.Millisecond)
	assert.GreaterOrEqual(t, waits[1], 100*time.Millisecond, "the second wait doubles")
	assert.LessOrEqual(t, waits[1], 200*time.Millisecond)
}

func TestDefaultRetryPolicyRetriesTransientFailuresOfIdempotentMethods(t *testing.T) {
	for _, tc := range []struct {
		name    string
		method  string
		respond httpmock.Responder
		opts    interceptors.RetryOptions
		calls   int
	}{
		{"GET 429", "GET", httpmock.NewStringResponder(429, ""), interceptors.RetryOptions{}, 2},
		{"GET 502", "GET", httpmock.NewStringResponder(502, ""), interceptors.RetryOptions{}, 2},
		{"HEAD 503", "HEAD", httpmock.NewStringResponder(503, ""), interceptors.RetryOptions{}, 2},
		{"PUT 504", "PUT", httpmock.NewStringResponder(504, ""), interceptors.RetryOptions{}, 2},
		{"DELETE network error", "DELETE", httpmock.NewErrorResponder(&connReset{}), interceptors.RetryOptions{}, 2},
		{"OPTIONS 503", "OPTIONS", httpmock.NewStringResponder(503, ""), interceptors.RetryOptions{}, 2},
		{"GET 500 is not transient", "GET", httpmock.NewStringResponder(500, ""), interceptors.RetryOptions{}, 1},
		{"GET 404", "GET", httpmock.NewStringResponder(404, ""), interceptors.RetryOptions{}, 1},
		{"GET 401 is the auth pair's", "GET", httpmock.NewStringResponder(401, ""), interceptors.RetryOptions{}, 1},
		{"POST 503 is not idempotent", "POST", httpmock.NewStringResponder(503, ""), interceptors.RetryOptions{}, 1},
		{"PATCH network error is not idempotent", "PATCH", httpmock.NewErrorResponder(&connReset{}), interceptors.RetryOptions{}, 1},
		{"POST 503 opted in", "POST", httpmock.NewStringResponder(503, ""), interceptors.RetryOptions{RetryNonIdempotent: true}, 2},
		{"PATCH 429 opted in", "PATCH", httpmock.NewStringResponder(429, ""), interceptors.RetryOptions{RetryNonIdempotent: true}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mock := mockClient(t)
			mock.RegisterResponder(tc.method, mockBase+"/r",
				tc.respond.Then(httpmock.NewStringResponder(200, "")))
			opts := tc.opts
			opts.Sleep = new(sleeps).sleep
			interceptors.NewRetry(opts).Install(c)

			_, err := c.Request(context.Background(), axios.Config{Method: tc.method, URL: "/r"})

			assert.Equal(t, tc.calls, mock.GetTotalCallCount())
			assert.Equal(t, tc.calls == 2, err == nil, "err: %v", err)
		})
	}
}

func TestRetryResendsTheSameBodyForAnOptedInPost(t *testing.T) {
	c, mock := mockClient(t)
	var mu sync.Mutex
	var bodies []string
	mock.RegisterResponder("POST", mockBase+"/upload", func(req *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		n := len(bodies)
		mu.Unlock()
		if n == 1 {
			return httpmock.NewStringResponse(503, ""), nil
		}
		return httpmock.NewStringResponse(201, ""), nil
	})
	interceptors.NewRetry(interceptors.RetryOptions{RetryNonIdempotent: true, Sleep: new(sleeps).sleep}).Install(c)

	// A plain io.Reader is read once; the core keeps its bytes for the retry.
	_, err := c.Post(context.Background(), "/upload", io.MultiReader(strings.NewReader("payload")))

	require.NoError(t, err)
	assert.Equal(t, []string{"payload", "payload"}, bodies)
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	defer interceptors.SetTimeNow(func() time.Time { return now })()
	for _, tc := range []struct {
		name, header string
		max          time.Duration
		want         time.Duration
	}{
		{"seconds", "7", 0, 7 * time.Second},
		{"zero seconds", "0", 0, 0},
		{"HTTP date", now.Add(12 * time.Second).Format(http.TimeFormat), 0, 12 * time.Second},
		{"HTTP date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0, 0},
		{"capped at the default 30s", "3600", 0, 30 * time.Second},
		{"capped at MaxRetryAfter", now.Add(time.Hour).Format(http.TimeFormat), 5 * time.Second, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mock := mockClient(t)
			mock.RegisterResponder("GET", mockBase+"/limited",
				httpmock.NewStringResponder(429, "").HeaderSet(http.Header{"Retry-After": {tc.header}}).
					Then(httpmock.NewStringResponder(200, "")))
			var s sleeps
			interceptors.NewRetry(interceptors.RetryOptions{MaxRetryAfter: tc.max, Sleep: s.sleep}).Install(c)

			_, err := c.Get(context.Background(), "/limited")

			require.NoError(t, err)
			assert.Equal(t, []time.Duration{tc.want}, s.waits())
		})
	}
}

func TestRetryFallsBackToBackoffForAnUnreadableRetryAfter(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/limited",
		httpmock.NewStringResponder(503, "").HeaderSet(http.Header{"Retry-After": {"soon"}}).
			Then(httpmock.NewStringResponder(200, "")))
	var s sleeps
	interceptors.NewRetry(interceptors.RetryOptions{MinWait: time.Second, Sleep: s.sleep}).Install(c)

	_, err := c.Get(context.Background(), "/limited")

	require.NoError(t, err)
	require.Len(t, s.waits(), 1)
	assert.GreaterOrEqual(t, s.waits()[0], 500*time.Millisecond)
	assert.LessOrEqual(t, s.waits()[0], time.Second)
}

func TestRetryGivesUpAfterMaxRetriesWithTheLastError(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/down",
		httpmock.NewStringResponder(503, "first").Then(httpmock.NewStringResponder(503, "second")).Then(httpmock.NewStringResponder(502, "last")))
	var s sleeps
	var retries []int
	interceptors.NewRetry(interceptors.RetryOptions{
		MaxRetries: 2,
		Sleep:      s.sleep,
		OnRetry: func(_ context.Context, _ *axios.Error, retry int, _ time.Duration) {
			retries = append(retries, retry)
		},
	}).Install(c)

	_, err := c.Get(context.Background(), "/down")

	axErr := requireStatus(t, err, 502)
	assert.Equal(t, "last", string(axErr.Response.Data))
	assert.Equal(t, 3, mock.GetTotalCallCount())
	assert.Equal(t, []int{1, 2}, retries)
	assert.Len(t, s.waits(), 2)
}

func TestRetryWithDefaultsRetriesThreeTimes(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/down", httpmock.NewStringResponder(503, ""))
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)

	_, err := c.Get(context.Background(), "/down")

	requireStatus(t, err, 503)
	assert.Equal(t, 4, mock.GetTotalCallCount())
}

func TestRetryWithNegativeMaxRetriesNeverRetries(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/down", httpmock.NewStringResponder(503, ""))
	interceptors.NewRetry(interceptors.RetryOptions{MaxRetries: -1, Sleep: new(sleeps).sleep}).Install(c)

	_, err := c.Get(context.Background(), "/down")

	requireStatus(t, err, 503)
	assert.Equal(t, 1, mock.GetTotalCallCount())
}

func TestRetryWaitEndsWithTheContext(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/down", httpmock.NewStringResponder(503, "busy"))
	// The real sleeper, with a wait far longer than the test.
	interceptors.NewRetry(interceptors.RetryOptions{MinWait: time.Hour, MaxWait: time.Hour}).Install(c)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)

	start := time.Now()
	_, err := c.Get(ctx, "/down")

	assert.Less(t, time.Since(start), 10*time.Second)
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, axios.IsCancel(err))
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeCanceled, axErr.Code)
	assert.Contains(t, axErr.Error(), "interceptors: retry: canceled while waiting")
	assert.Equal(t, 503, axErr.Status(), "the last response is kept")
	assert.Equal(t, "busy", string(axErr.Response.Data))
	assert.NotNil(t, axErr.Config)
	assert.Equal(t, 1, mock.GetTotalCallCount(), "no attempt after the context ended")
}

func TestRetryWaitPastTheDeadlineIsATimeout(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/down", httpmock.NewStringResponder(503, ""))
	interceptors.NewRetry(interceptors.RetryOptions{MinWait: time.Hour, MaxWait: time.Hour}).Install(c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()

	_, err := c.Get(ctx, "/down")

	require.ErrorIs(t, err, context.DeadlineExceeded)
	axErr, _ := axios.AsError(err)
	require.NotNil(t, axErr)
	assert.Equal(t, axios.CodeTimedOut, axErr.Code)
}

func TestRetryRetriesATimedOutGet(t *testing.T) {
	c, mock := mockClient(t)
	var calls int
	var mu sync.Mutex
	mock.RegisterResponder("GET", mockBase+"/slow", func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			<-req.Context().Done()
			return nil, req.Context().Err()
		}
		return httpmock.NewStringResponse(200, "fast"), nil
	})
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)

	resp, err := c.Get(context.Background(), "/slow", axios.Config{Timeout: 20 * time.Millisecond})

	require.NoError(t, err)
	assert.Equal(t, "fast", string(resp.Data))
	assert.Equal(t, 2, calls)
}

func TestRetryPolicyCanBeWrappedAndCanStopWithItsOwnError(t *testing.T) {
	errGiveUp := errors.New("maintenance window")
	policy := func(ctx context.Context, err *axios.Error) (bool, error) {
		switch err.Status() {
		case http.StatusInternalServerError:
			return true, nil
		case http.StatusServiceUnavailable:
			if err.Response.Headers.Get("X-Maintenance") != "" {
				return false, errGiveUp
			}
		}
		return interceptors.DefaultRetryPolicy(ctx, err)
	}
	t.Run("an added status is retried", func(t *testing.T) {
		c, mock := mockClient(t)
		mock.RegisterResponder("GET", mockBase+"/x", httpmock.NewStringResponder(500, "").Then(httpmock.NewStringResponder(200, "")))
		interceptors.NewRetry(interceptors.RetryOptions{Policy: policy, Sleep: new(sleeps).sleep}).Install(c)
		_, err := c.Get(context.Background(), "/x")
		require.NoError(t, err)
		assert.Equal(t, 2, mock.GetTotalCallCount())
	})
	t.Run("the default still applies", func(t *testing.T) {
		c, mock := mockClient(t)
		mock.RegisterResponder("GET", mockBase+"/x", httpmock.NewStringResponder(503, "").Then(httpmock.NewStringResponder(200, "")))
		interceptors.NewRetry(interceptors.RetryOptions{Policy: policy, Sleep: new(sleeps).sleep}).Install(c)
		_, err := c.Get(context.Background(), "/x")
		require.NoError(t, err)
		assert.Equal(t, 2, mock.GetTotalCallCount())
	})
	t.Run("an error stops and replaces", func(t *testing.T) {
		c, mock := mockClient(t)
		mock.RegisterResponder("GET", mockBase+"/x", httpmock.NewStringResponder(503, "").HeaderSet(http.Header{"X-Maintenance": {"1"}}))
		interceptors.NewRetry(interceptors.RetryOptions{Policy: policy, Sleep: new(sleeps).sleep}).Install(c)
		_, err := c.Get(context.Background(), "/x")
		require.ErrorIs(t, err, errGiveUp)
		assert.Equal(t, 1, mock.GetTotalCallCount())
	})
}

func TestRetryGoesThroughTheInstanceWithMetaAndHeaders(t *testing.T) {
	c, mock := mockClient(t)
	var mu sync.Mutex
	var seen []string
	mock.RegisterResponder("GET", mockBase+"/x", func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		seen = append(seen, req.Header.Get("X-Attempt")+" "+req.Header.Get("X-Trace")+" "+req.Header.Get("X-Mine"))
		n := len(seen)
		mu.Unlock()
		if n < 3 {
			return httpmock.NewStringResponse(503, ""), nil
		}
		return httpmock.NewStringResponse(200, ""), nil
	})
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		cfg.Headers.Set("X-Attempt", strings.Repeat("#", interceptors.Attempt(cfg)))
		cfg.Headers.Set("X-Mine", fmt.Sprint(cfg.Meta["mine"]))
		return cfg, nil
	}, nil)

	_, err := c.Get(context.Background(), "/x", axios.Config{Headers: http.Header{"X-Trace": {"t-1"}}, Meta: map[string]any{"mine": 1}})

	require.NoError(t, err)
	assert.Equal(t, []string{"# t-1 1", "## t-1 1", "### t-1 1"}, seen, "every attempt runs the request interceptors again")
}

func TestDefaultBackoffGrowsWithJitterAndIsCapped(t *testing.T) {
	lo, hi := 100*time.Millisecond, time.Second
	for range 200 {
		for retry, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 80: time.Second} {
			d := interceptors.DefaultBackoff(lo, hi, retry)
			require.GreaterOrEqual(t, d, ceiling/2, "retry %d", retry)
			require.LessOrEqual(t, d, ceiling, "retry %d", retry)
		}
	}
	var distinct = map[time.Duration]bool{}
	for range 50 {
		distinct[interceptors.DefaultBackoff(lo, hi, 3)] = true
	}
	assert.Greater(t, len(distinct), 1, "jittered")
}

func TestRetryLeavesErrorsWithoutAConfigAlone(t *testing.T) {
	c, mock := mockClient(t)
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)
	c.Interceptors.Request.Use(func(context.Context, *axios.Config) (*axios.Config, error) {
		return nil, errPlain
	}, nil)

	_, err := c.Get(context.Background(), "/x")

	require.ErrorIs(t, err, errPlain)
	assert.Zero(t, mock.GetTotalCallCount())
}
