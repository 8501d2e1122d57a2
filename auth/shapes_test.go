package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/storage"
)

// TestTransientRefreshFailureKeepsTheSession: a token endpoint answering
// 503 for a second fails the waiting requests, but logs nobody out: the
// token and its refresh token are kept, the refresher is tried at most once
// a second, and the next try after the outage succeeds with the original
// refresh token.
func TestTransientRefreshFailureKeepsTheSession(t *testing.T) {
	const n = 20
	ctx := context.Background()
	clock := useFakeClock(t)
	srv := newServer(t, authtest.Options{Now: clock.Now, Rotate: true})
	c := newClient(t, srv)
	var failures atomic.Int64
	store := storage.NewMemory()
	a := newAuth(t, Options{
		Store:     store,
		Refresh:   OAuth2(&oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}),
		OnFailure: func(context.Context, error) { failures.Add(1) },
	})
	first := srv.Issue("demo")
	login(t, a, c, first)
	srv.Revoke()
	srv.FailRefresh(1000, http.StatusServiceUnavailable) // every refresh fails until reset

	for _, err := range get(c, ctx, "/api/x", n) {
		require.ErrorIs(t, err, ErrRefreshFailed)
		assert.NotErrorIs(t, err, ErrRefused, "a 503 is no refusal")
		var re *oauth2.RetrieveError
		require.ErrorAs(t, err, &re, "one errors.As reaches the refresher's own error")
		assert.Equal(t, http.StatusServiceUnavailable, re.Response.StatusCode)
	}
	calls := srv.RefreshCalls()
	assert.EqualValues(t, 1, calls, "%d waiters, one refresh", n)

	// Inside the backoff the last failure comes back at once.
	for range 5 {
		_, err := c.Get(ctx, "/api/x")
		require.ErrorIs(t, err, ErrRefreshFailed)
	}
	assert.Equal(t, calls, srv.RefreshCalls(), "no attempt inside the backoff")

	clock.Advance(time.Second)
	_, err := c.Get(ctx, "/api/x")
	require.ErrorIs(t, err, ErrRefreshFailed, "still down: a second attempt")
	assert.LessOrEqual(t, srv.RefreshCalls(), int64(3))

	srv.FailRefresh(0, 0) // the endpoint is back
	clock.Advance(maxBackoff)
	_, err = c.Get(ctx, "/api/x")
	require.NoError(t, err, "refreshed with the original refresh token")
	assert.LessOrEqual(t, srv.RefreshCalls(), int64(3))
	assert.EqualValues(t, 1, srv.Refreshes())
	assert.EqualValues(t, 0, srv.InvalidGrants())
	assert.Zero(t, failures.Load(), "never logged out")
	assert.EqualValues(t, 2, a.Stats().Failures, "every failed refresh is counted")
	stored, err := store.Load(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, first.RefreshToken, stored.RefreshToken, "the rotated refresh token is saved")
}

// TestRefusedRefreshLogsOut: invalid_grant from an OAuth2 endpoint is a
// refusal: tokens cleared, OnFailure once with an error wrapping ErrRefused.
func TestRefusedRefreshLogsOut(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, authtest.Options{})
	c := newClient(t, srv)
	var onFailure []error
	a := newAuth(t, Options{
		Refresh:   OAuth2(&oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}),
		OnFailure: func(_ context.Context, err error) { onFailure = append(onFailure, err) },
	})
	login(t, a, c, srv.Issue("demo"))
	srv.Revoke()
	srv.RevokeRefresh()

	_, err := c.Get(ctx, "/api/x")
	require.ErrorIs(t, err, ErrRefreshFailed)
	require.ErrorIs(t, err, ErrRefused)
	require.Len(t, onFailure, 1)
	assert.ErrorIs(t, onFailure[0], ErrRefused)
	_, err = a.Token(ctx)
	assert.ErrorIs(t, err, storage.ErrNoToken, "logged out")
}

// TestServiceLoginIsOneFlight: a service with Login and no token: 100
// concurrent first requests share one token call; after a logout the next
// request logs in again.
func TestServiceLoginIsOneFlight(t *testing.T) {
	const n = 100
	ctx := context.Background()
	c, mock := newMockClient()
	var logins atomic.Int64
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Authorization") == "Bearer svc-1" || r.Header.Get("Authorization") == "Bearer svc-2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	release := make(chan struct{})
	a := newAuth(t, Options{Login: func(context.Context) (*oauth2.Token, error) {
		n := logins.Add(1)
		<-release
		return &oauth2.Token{AccessToken: "svc-" + string(rune('0'+n)), TokenType: "Bearer"}, nil
	}})
	a.Install(c)

	done := make(chan []error)
	go func() { done <- get(c, ctx, "/x", n) }()
	eventually(t, waiting(a, n), "every first request to wait for the login")
	close(release)
	for _, err := range <-done {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, logins.Load(), "%d first requests, one token call", n)
	assert.EqualValues(t, n, mock.GetCallCountInfo()["NO_RESPONDER"])

	require.NoError(t, a.Logout(ctx))
	_, err := c.Get(ctx, "/x")
	require.NoError(t, err, "after a logout the next request logs in again")
	assert.EqualValues(t, 2, logins.Load())
}

// TestServiceWithoutRefreshLogsInAgainOnRefusal: with Login and no Refresh
// a refused token is replaced by Login.
func TestServiceWithoutRefreshLogsInAgainOnRefusal(t *testing.T) {
	ctx := context.Background()
	c, mock := newMockClient()
	var current atomic.Value
	current.Store("svc-1")
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Authorization") == "Bearer "+current.Load().(string) {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	var logins atomic.Int64
	a := newAuth(t, Options{Login: func(context.Context) (*oauth2.Token, error) {
		logins.Add(1)
		return &oauth2.Token{AccessToken: current.Load().(string), TokenType: "Bearer"}, nil
	}})
	a.Install(c)
	_, err := c.Get(ctx, "/x")
	require.NoError(t, err)
	current.Store("svc-2") // the server rotated the service's token
	_, err = c.Get(ctx, "/x")
	require.NoError(t, err)
	assert.EqualValues(t, 2, logins.Load())
	assert.EqualValues(t, 0, a.Stats().Failures)
}

func TestNewNeedsRefreshOrLogin(t *testing.T) {
	_, err := New(Options{})
	require.EqualError(t, err, "auth: Options.Refresh or Options.Login is required")
	_, err = New(Options{Login: func(context.Context) (*oauth2.Token, error) { return nil, errors.New("x") }})
	require.NoError(t, err)
}

// TestRawTokenFormatIsRecognized: a token sent raw in a custom header is
// still the Authenticator's own: a stale one is retried with the current
// token, and a refused current one is refreshed.
func TestRawTokenFormatIsRecognized(t *testing.T) {
	ctx := context.Background()
	c, mock := newMockClient()
	var seen []string
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		h := r.Header.Get("Xc-Auth")
		seen = append(seen, h)
		if h == "t2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	var calls atomic.Int64
	a := newAuth(t, Options{
		Header: "xc-auth",
		Format: RawToken,
		Refresh: counted(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
			return tokenWith("t2", time.Time{}), nil
		}, &calls),
	})
	login(t, a, c, tokenWith("t1", time.Time{}))
	resp, err := c.Get(ctx, "/x")
	require.NoError(t, err)
	assert.Equal(t, []string{"t1", "t2"}, seen, "the raw token, refused, then refreshed")
	assert.EqualValues(t, 1, calls.Load())

	// A Config re-sent with the old raw token in its header: it is ours,
	// replaced by the current one, not kept as the caller's own.
	old := *resp.Config
	old.Headers = old.Headers.Clone()
	old.Headers.Set("Xc-Auth", "t1")
	_, err = c.Request(ctx, old)
	require.NoError(t, err)
	assert.Equal(t, "t2", seen[len(seen)-1])
	assert.EqualValues(t, 1, calls.Load())
}

// TestClientCredentialsRefusalWrapsErrRefused: a token endpoint that
// answers 401 invalid_client refuses the service's credentials.
func TestClientCredentialsRefusalWrapsErrRefused(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, "http://idp.test/token", httpmock.NewStringResponder(http.StatusUnauthorized, `{"error":"invalid_client","error_description":"secret s3cr3t is wrong"}`).HeaderSet(http.Header{"Content-Type": {"application/json"}}))
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: mock})
	login := ClientCredentials(clientCredentialsConfig("http://idp.test/token"))
	_, err := login(ctx)
	require.ErrorIs(t, err, ErrRefused)
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid_client", re.ErrorCode)
	assert.NotContains(t, err.Error(), "s3cr3t", "the server's description stays out of the text")
	assert.EqualError(t, err, `auth: client credentials: status 401, error "invalid_client"`)
}

// TestOAuth2ErrorQuotesOnlyKnownCodes: the error field is the server's; one
// that echoes its input must not reach an error string.
func TestOAuth2ErrorQuotesOnlyKnownCodes(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodPost, "http://idp.test/token", httpmock.NewStringResponder(http.StatusBadRequest, `{"error":"refresh-secret-r1"}`).HeaderSet(http.Header{"Content-Type": {"application/json"}}))
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: mock})
	_, err := OAuth2(&oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: "http://idp.test/token"}})(ctx, tokenWith("a", time.Time{}))
	require.ErrorIs(t, err, ErrRefused, "a 400 refuses")
	assert.NotContains(t, err.Error(), "refresh-secret")
	var ae *axios.Error
	assert.False(t, errors.As(err, &ae))
}

func clientCredentialsConfig(tokenURL string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: "svc", ClientSecret: "s3cr3t", TokenURL: tokenURL}
}

// TestIsRetryMarksThePairsRetry: a request interceptor sees the first
// attempt unmarked and the retry after the refresh marked.
func TestIsRetryMarksThePairsRetry(t *testing.T) {
	c, mock := newMockClient()
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if bearerOf(r) == "t2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("t2", time.Time{}), nil
	}})
	login(t, a, c, tokenWith("t1", time.Time{}))
	var marks []bool
	c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		marks = append(marks, IsRetry(cfg))
		return cfg, nil
	}, nil)
	_, err := c.Get(context.Background(), "/x")
	require.NoError(t, err)
	assert.Equal(t, []bool{false, true}, marks)
	assert.False(t, IsRetry(&axios.Config{}))
}

// TestTokenGoesOnlyToItsOrigins: the installing client's BaseURL origin and
// Options.Hosts get the token; an absolute URL on another host gets none,
// not even one copied into its Config, and its 401 is passed on without a
// refresh.
func TestTokenGoesOnlyToItsOrigins(t *testing.T) {
	ctx := context.Background()
	c, mock := newMockClient() // BaseURL http://api.test
	var seen []string
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.URL.Host+"="+r.Header.Get("Authorization"))
		if r.URL.Host == "third.test" {
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		}
		return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
	})
	var calls atomic.Int64
	a := newAuth(t, Options{
		Hosts:   []string{"https://files.test", "cdn.test"},
		Refresh: counted(nopRefresh, &calls),
	})
	login(t, a, c, tokenWith("t1", time.Time{}))

	for _, u := range []string{"/me", "http://API.test:80/x", "https://files.test/f", "http://cdn.test:8080/c", "http://files.test/f", "http://third.test/x"} {
		_, err := c.Get(ctx, u)
		if u == "http://third.test/x" {
			ae, ok := axios.AsError(err)
			require.True(t, ok)
			assert.Equal(t, http.StatusUnauthorized, ae.Status(), "another origin's 401 is passed on")
			continue
		}
		require.NoError(t, err, u)
	}
	assert.Equal(t, []string{
		"api.test=Bearer t1",
		"API.test:80=Bearer t1",
		"files.test=Bearer t1",
		"cdn.test:8080=Bearer t1",
		"files.test=", // http, not https: another origin
		"third.test=",
	}, seen)
	assert.Zero(t, calls.Load(), "no refresh for another origin's refusal")

	// A token copied into the Config by hand is still not sent elsewhere.
	_, _ = c.Get(ctx, "http://third.test/y", axios.Config{Headers: http.Header{"Authorization": {"Bearer t1"}}})
	assert.Equal(t, "third.test=", seen[len(seen)-1])
}

// TestNoBaseURLAndNoHostsSendsTheTokenEverywhere: as axios does; the docs
// call it a risk.
func TestNoBaseURLAndNoHostsSendsTheTokenEverywhere(t *testing.T) {
	mock := httpmock.NewMockTransport()
	headerEcho(mock, "Authorization")
	c := axios.Create(axios.Config{})
	c.Resty().SetTransport(mock)
	a := newAuth(t, Options{Refresh: nopRefresh})
	login(t, a, c, tokenWith("t1", time.Time{}))
	resp, err := c.Get(context.Background(), "http://anywhere.test/x")
	require.NoError(t, err)
	assert.Equal(t, "Bearer t1", string(resp.Data))
}

// TestPoisonedTokenIsNeverKept: an access token with CR/LF from a refresh
// answer is refused (the refresh fails, transiently: the old token is
// kept), SetToken refuses one, and one found in the store counts as none.
func TestPoisonedTokenIsNeverKept(t *testing.T) {
	ctx := context.Background()
	clock := useFakeClock(t)
	c, mock := newMockClient()
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if bearerOf(r) == "good2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	next := "bad\r\nX-Injected: 1"
	store := storage.NewMemory()
	a := newAuth(t, Options{Store: store, Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith(next, time.Time{}), nil
	}})
	login(t, a, c, tokenWith("good1", time.Time{}))

	_, err := c.Get(ctx, "/x")
	require.ErrorIs(t, err, ErrRefreshFailed)
	require.ErrorIs(t, err, errUnsendable)
	assert.NotContains(t, err.Error(), "bad")
	tok, err := a.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "good1", tok.AccessToken, "the old token is kept")
	stored, err := store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "good1", stored.AccessToken, "nothing poisoned was stored")

	next = "good2"
	clock.Advance(time.Second)
	_, err = c.Get(ctx, "/x")
	require.NoError(t, err, "the next try after the backoff succeeds")

	assert.ErrorIs(t, a.SetToken(ctx, tokenWith("a\nb", time.Time{})), errUnsendable)

	poisoned := storage.NewMemory()
	require.NoError(t, poisoned.Save(ctx, tokenWith("x\ry", time.Time{})))
	b := newAuth(t, Options{Store: poisoned, Refresh: nopRefresh})
	_, err = b.Token(ctx)
	assert.ErrorIs(t, err, storage.ErrNoToken, "a poisoned stored token counts as none")
}

// TestCrossOriginRedirectNeverCarriesTheToken: a custom-named token header
// is dropped on a redirect to another origin (net/http forwards it), kept
// on a redirect within the origin.
func TestCrossOriginRedirectNeverCarriesTheToken(t *testing.T) {
	var elsewhere, home atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Store(r.Header.Get("X-Auth-Token"))
	}))
	defer other.Close()
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusFound)
		case "/near":
			http.Redirect(w, r, api.URL+"/landed", http.StatusFound)
		case "/landed":
			home.Store(r.Header.Get("X-Auth-Token"))
		}
	}))
	defer api.Close()
	c := axios.Create(axios.Config{BaseURL: api.URL})
	defer c.CloseIdleConnections()
	a := newAuth(t, Options{Header: "X-Auth-Token", Format: RawToken, Refresh: nopRefresh})
	login(t, a, c, tokenWith("t1", time.Time{}))

	_, err := c.Get(context.Background(), "/away")
	require.NoError(t, err)
	assert.Equal(t, "", elsewhere.Load(), "not carried to another origin")
	_, err = c.Get(context.Background(), "/near")
	require.NoError(t, err)
	assert.Equal(t, "t1", home.Load(), "kept within the origin")
}

// TestClientCredentialsServiceAgainstAuthtest: a service with
// auth.ClientCredentials and no Refresh: 100 concurrent first requests make
// one token call; after every token is revoked, one more.
func TestClientCredentialsServiceAgainstAuthtest(t *testing.T) {
	const n = 100
	ctx := context.Background()
	srv := newServer(t, authtest.Options{Clients: map[string]string{"svc": "s3cr3t"}})
	c := newClient(t, srv)
	a := newAuth(t, Options{Login: ClientCredentials(&clientcredentials.Config{
		ClientID: "svc", ClientSecret: "s3cr3t", TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader,
	})})
	a.Install(c)
	for _, err := range get(c, ctx, "/api/x", n) {
		require.NoError(t, err)
	}
	t.Logf("%d first requests: %d token calls", n, srv.ClientCredentialsCalls())
	assert.EqualValues(t, 1, srv.ClientCredentialsCalls())

	srv.Revoke()
	for _, err := range get(c, ctx, "/api/x", n) {
		require.NoError(t, err)
	}
	t.Logf("after revocation: %d token calls, %d refusals seen", srv.ClientCredentialsCalls(), srv.Denied())
	assert.EqualValues(t, 2, srv.ClientCredentialsCalls())
}
