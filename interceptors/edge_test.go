package interceptors_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/interceptors"
	"github.com/axiosgo/axios/storage"
)

// Edge cases. A header whose name contains "key" (Azure's
// Ocp-Apim-Subscription-Key, Cloudflare's X-Auth-Key) is a secret.
func TestLoggerRedactsKeyNamedRequestHeaders(t *testing.T) {
	const secret = "k3y-s3cr3t"
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/x", httpmock.NewStringResponder(200, ""))
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l, interceptors.LogRequestHeaders()).Install(c)

	_, err := c.Get(context.Background(), "/x", axios.Config{Headers: http.Header{
		"Ocp-Apim-Subscription-Key": {secret + "-azure"},
		"X-Auth-Key":                {secret + "-cloudflare"},
	}})
	require.NoError(t, err)

	assert.NotContains(t, sink.String(), secret)
}

// A redirect's Location header may carry an OAuth code or token: its URL is
// logged redacted, as the Logger logs URLs.
func TestLoggerRedactsSecretsInTheLocationHeader(t *testing.T) {
	const secret = "oauth-c0de-value"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://app.example/cb?code="+secret+"&state=s1")
		w.WriteHeader(http.StatusFound)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l, interceptors.LogResponseHeaders()).Install(c)

	resp, err := c.Get(context.Background(), "/authorize", axios.Config{
		MaxRedirects:   axios.NoRedirects,
		ValidateStatus: func(int) bool { return true },
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, resp.Status)

	assert.NotContains(t, sink.String(), secret)
}

// The user information of a URL is redacted also when the URL cannot be
// built (an unsupported scheme): tokens go there, as in https://TOKEN@host.
func TestLoggerRedactsUserInfoOfAnUnsendableURL(t *testing.T) {
	const secret = "ghp_t0k3nInUserInfo"
	c, mock := mockClient(t)
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l).Install(c)

	_, err := c.Get(context.Background(), "ftp://"+secret+"@files.example/report.csv")
	require.Error(t, err)
	assert.Zero(t, mock.GetTotalCallCount())

	assert.NotContains(t, sink.String(), secret)
}

// A Retry-After of more seconds than an int64 holds is cut to
// MaxRetryAfter, not ignored for the short backoff.
func TestRetryCapsAHugeRetryAfterInsteadOfIgnoringIt(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/limited",
		httpmock.NewStringResponder(429, "").HeaderSet(http.Header{"Retry-After": {"100000000000000000000"}}).
			Then(httpmock.NewStringResponder(200, "")))
	var s sleeps
	interceptors.NewRetry(interceptors.RetryOptions{MaxRetryAfter: 5 * time.Second, Sleep: s.sleep}).Install(c)

	_, err := c.Get(context.Background(), "/limited")

	require.NoError(t, err)
	assert.Equal(t, []time.Duration{5 * time.Second}, s.waits())
}

// A 200 whose body failed (over MaxContentLength) carries a Response, but
// its status was accepted: OnStatus passes it by.
func TestOnStatusIgnoresAnAcceptedStatusWhoseBodyFailed(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/big", httpmock.NewStringResponder(200, "0123456789abcdef"))
	var seen []int
	interceptors.OnStatus(func(_ context.Context, err *axios.Error) (*axios.Response, error) {
		seen = append(seen, err.Status())
		return nil, nil
	}).Install(c)

	_, err := c.Get(context.Background(), "/big", axios.Config{MaxContentLength: 4})
	require.Error(t, err)
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	require.Equal(t, axios.CodeBadResponse, axErr.Code)

	assert.Empty(t, seen, "status 200 was accepted by ValidateStatus; the failure is the body's")
}

// Retry and the real auth pair: a request that waited for a refresh that
// failed fails with auth.ErrRefreshFailed before it is sent. Retry's
// default policy does not send it again (the user is logged out by then):
// the caller gets ErrRefreshFailed, not a retry's 401.
func TestRetryDoesNotResendARequestWhoseRefreshFailed(t *testing.T) {
	c, mock := mockClient(t)
	var mu sync.Mutex
	var sentAuth []string
	mock.RegisterResponder("GET", mockBase+"/me", func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		sentAuth = append(sentAuth, req.Header.Get("Authorization"))
		mu.Unlock()
		return httpmock.NewStringResponse(401, ""), nil
	})
	store := storage.NewMemory()
	// An expired token in the store: its first use refreshes before sending.
	require.NoError(t, store.Save(context.Background(), &oauth2.Token{AccessToken: "old", RefreshToken: "r", TokenType: "Bearer", Expiry: time.Now().Add(-time.Minute)}))
	errRevoked := errors.New("refresh token revoked")
	a, err := auth.New(auth.Options{
		Store:   store,
		Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) { return nil, errRevoked },
	})
	require.NoError(t, err)
	a.Install(c)
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)

	_, err = c.Get(context.Background(), "/me")

	assert.ErrorIs(t, err, auth.ErrRefreshFailed)
	assert.ErrorIs(t, err, errRevoked)
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, sentAuth, "the request is not sent once its refresh failed; sent with Authorization headers %q", sentAuth)
}
