package interceptors_test

// Cases a review pass found the ready-made interceptors getting wrong:
// each test shows what a user hits.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/interceptors"
)

// A Config.Adapter returns an error "only when no response arrived" (see
// axios.Adapter). The core classifies it ERR_NETWORK, with no *http.Request
// (a custom adapter builds none the core can see) and no Response, which
// DefaultRetryPolicy takes for "failed before it was sent" and never
// retries: with a custom adapter, Retry never retries a network error.
func TestRetryRetriesANetworkErrorOfACustomAdapter(t *testing.T) {
	var calls atomic.Int32
	c := newClient(t, "http://api.test")
	c.Defaults.Adapter = func(_ context.Context, cfg *axios.Config) (*axios.Response, error) {
		if calls.Add(1) == 1 {
			return nil, errors.New("read tcp 10.0.0.1:443: connection reset by peer")
		}
		return &axios.Response{Status: http.StatusOK, Data: []byte("ok")}, nil
	}
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)

	resp, err := c.Get(context.Background(), "/items")

	require.NoError(t, err, "a GET whose adapter got no response is a transient network error")
	assert.Equal(t, "ok", string(resp.Data))
	assert.EqualValues(t, 2, calls.Load())
}

// A PUT (idempotent, so retried by default) of a one-shot reader larger than
// the 1 MiB the core keeps for replay gets a 503. The retry's body cannot
// be read again: the error says so (ERR_BAD_OPTION_VALUE) and carries the
// server's 503, which a bare resend error would lose.
func TestRetryThatCannotResendTheBodyReturnsTheServersAnswer(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("PUT", mockBase+"/upload", func(req *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, req.Body)
		return httpmock.NewStringResponse(http.StatusServiceUnavailable, "busy"), nil
	})
	var s sleeps
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: s.sleep}).Install(c)
	body := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), 2<<20))) // a pipe-like reader, 2 MiB

	_, err := c.Put(context.Background(), "/upload", body)

	axErr := requireStatus(t, err, http.StatusServiceUnavailable)
	assert.Equal(t, "busy", string(axErr.Response.Data))
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
	assert.ErrorIs(t, err, axios.ErrNotReplayable)
	assert.Equal(t, 1, mock.GetTotalCallCount())
}

// RetryOptions says "MinWait and MaxWait bound the backoff"; Backoff returns
// a wait "between min and max". A MaxWait below the default MinWait (100ms)
// is not honoured: the unset MinWait becomes 100ms, DefaultBackoff raises max
// to min, and every wait is 50-100ms.
func TestRetryMaxWaitBelowTheDefaultMinWaitBoundsEveryWait(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/items", httpmock.NewStringResponder(http.StatusServiceUnavailable, ""))
	var s sleeps
	interceptors.NewRetry(interceptors.RetryOptions{MaxWait: 10 * time.Millisecond, Sleep: s.sleep}).Install(c)

	_, err := c.Get(context.Background(), "/items")
	requireStatus(t, err, http.StatusServiceUnavailable)

	waits := s.waits()
	require.Len(t, waits, 3)
	for i, w := range waits {
		assert.LessOrEqual(t, w, 10*time.Millisecond, "wait %d: MaxWait is 10ms", i+1)
	}
}

// Identity-aware proxies send the caller's identity as a signed JWT in a
// header whose name has none of IsSecretHeader's parts: Google IAP's
// X-Goog-Iap-Jwt-Assertion, Cloudflare Access's Cf-Access-Jwt-Assertion. A
// service that forwards it logs a bearer credential. The Logger already
// treats "jwt" and "assertion" as secret in query parameter names, but not
// in header names.
func TestLoggerRedactsJWTAssertionHeaders(t *testing.T) {
	const jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/me", httpmock.NewStringResponder(200, ""))
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l, interceptors.LogRequestHeaders()).Install(c)

	_, err := c.Get(context.Background(), "/me", axios.Config{Headers: http.Header{
		"X-Goog-Iap-Jwt-Assertion": {jwt},
		"Cf-Access-Jwt-Assertion":  {jwt},
	}})
	require.NoError(t, err)

	assert.NotContains(t, sink.String(), jwt)
}

// The core ends a ResponseStream request when its stream is closed (its
// Timeout, and the body readers it holds, last until then: see Config.Data).
// Loading counts it out as soon as the headers arrive, so a loading
// indicator goes off while a large download is still being read.
func TestLoadingCountsAStreamedResponseUntilItsBodyIsClosed(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/download" {
			return
		}
		_, _ = io.WriteString(w, "first chunk")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "rest")
	}))
	defer srv.Close()
	defer close(release)
	c := newClient(t, srv.URL)
	f := newFlagLog()
	f.loading.Install(c)

	resp, err := c.Get(context.Background(), "/download", axios.Config{ResponseType: axios.ResponseStream})
	require.NoError(t, err)
	defer resp.Body.Close()

	assert.Equal(t, 1, f.loading.InFlight(), "the body is still being downloaded")
	calls, _ := f.snapshot()
	assert.Equal(t, []bool{true}, calls, "the flag stays on until the stream is closed")

	// Another request starts and ends meanwhile: the stream stays counted.
	_, err = c.Get(context.Background(), "/other")
	require.NoError(t, err)
	assert.Equal(t, 1, f.loading.InFlight(), "the stream is still open")

	require.NoError(t, resp.Body.Close())
	require.NoError(t, resp.Body.Close(), "a second Close counts nothing")
	assert.Equal(t, 0, f.loading.InFlight())
	calls, _ = f.snapshot()
	assert.Equal(t, []bool{true, false}, calls)
}

// A StatusHandler "returns a response to recover the request with". One
// built without a Config (the natural &axios.Response{Status: 200, Data: ...})
// leaves Loading, installed after it as the package doc says, unable to find
// the request's ticket: the request stays counted for as long as any other
// request is in flight, so a busy client's indicator never goes off.
func TestLoadingEndsARequestAStatusHookRecoveredWithoutAConfig(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	interceptors.OnStatus(func(context.Context, *axios.Error) (*axios.Response, error) {
		return &axios.Response{Status: http.StatusOK, Data: []byte(`{"items":[]}`)}, nil
	}, http.StatusNotFound).Install(c)
	loading := interceptors.NewLoading(nil)
	loading.Install(c)

	slow := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), "/slow")
		slow <- err
	}()
	<-started
	_, err := c.Get(context.Background(), "/gone")
	require.NoError(t, err)

	inFlight := loading.InFlight()
	close(release)
	require.NoError(t, <-slow)
	assert.Equal(t, 1, inFlight, "only /slow is in flight once /gone has returned")
}
