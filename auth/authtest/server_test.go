package authtest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/auth/authtest"
)

func TestLoginIssuesTokenPair(t *testing.T) {
	srv := newServer(t, authtest.Options{})

	r := login(t, srv, authtest.DefaultUser, authtest.DefaultPassword)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	tok := parseTokenResponse(t, r)
	assert.NotEmpty(t, tok.Refresh)
	assert.Equal(t, float64(60), tok.ExpiresIn, "expires_in is the default TTL in seconds")

	c, err := srv.Verify(tok.Access)
	require.NoError(t, err)
	assert.Equal(t, "demo", c.Subject)
	assert.Equal(t, srv.URL, c.Issuer)
	assert.Equal(t, time.Minute, c.ExpiresAt.Sub(c.IssuedAt))
	assert.EqualValues(t, 1, srv.Logins())
}

func TestLoginRejectsBadCredentials(t *testing.T) {
	srv := newServer(t, authtest.Options{Users: map[string]string{"alice": "pw"}})

	for _, creds := range [][2]string{{"alice", "wrong"}, {"demo", "secret"}, {"", ""}} {
		r := login(t, srv, creds[0], creds[1])
		assert.Equal(t, http.StatusUnauthorized, r.Status)
		assert.Equal(t, "invalid_credentials", r.JSON(t)["error"])
	}
	r := mustSend(t, srv, http.MethodPost, "/login", strings.NewReader("{not json"))
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "invalid_request", r.JSON(t)["error"])

	r = mustSend(t, srv, http.MethodGet, "/login", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status)

	assert.Equal(t, http.StatusOK, login(t, srv, "alice", "pw").Status)
	assert.EqualValues(t, 1, srv.Logins())
}

func TestProtectedRouteEchoesRequest(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	tok := srv.Issue("alice")

	r := mustSend(t, srv, http.MethodPut, "/api/items/7?x=1", strings.NewReader(`{"n":1}`),
		"Authorization", "Bearer "+tok.AccessToken)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, map[string]any{
		"path": "/api/items/7", "method": "PUT", "query": "x=1", "user": "alice", "body": `{"n":1}`,
	}, r.JSON(t))
	assert.Equal(t, "1", r.Header.Get("X-Request-Count"))

	r = mustSend(t, srv, http.MethodDelete, "/api/items/7", nil, "Authorization", "bearer "+tok.AccessToken)
	require.Equal(t, http.StatusOK, r.Status, "the scheme is case-insensitive")
	assert.Equal(t, "2", r.Header.Get("X-Request-Count"))

	assert.EqualValues(t, 2, srv.Served())
	assert.EqualValues(t, 2, srv.Requests())
	assert.EqualValues(t, 0, srv.Denied())
}

func TestProtectedRouteDeniesBadTokens(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, authtest.Options{Now: clock.Now})
	other := newServer(t, authtest.Options{Now: clock.Now})

	expired := srv.Issue("demo").AccessToken
	clock.Advance(2 * time.Minute)
	revoked := srv.Issue("demo").AccessToken
	srv.Revoke()
	valid := srv.Issue("demo").AccessToken
	foreign := other.Issue("demo").AccessToken

	tests := []struct {
		name, authorization, description string
	}{
		{"missing", "", "missing bearer token"},
		{"basic scheme", "Basic ZGVtbzpzZWNyZXQ=", "missing bearer token"},
		{"garbage", "Bearer not-a-jwt", "token malformed or badly signed"},
		{"signed by another server", "Bearer " + foreign, "token malformed or badly signed"},
		{"tampered", "Bearer " + valid[:len(valid)-2] + "xx", "token malformed or badly signed"},
		{"expired", "Bearer " + expired, "token expired"},
		{"revoked", "Bearer " + revoked, "token revoked"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustSend(t, srv, http.MethodPost, "/api/anything", strings.NewReader("payload"),
				"Authorization", tt.authorization)
			assert.Equal(t, http.StatusUnauthorized, r.Status)
			assert.Equal(t, tt.description, r.JSON(t)["error_description"])
			assert.Equal(t, "invalid_token", r.JSON(t)["error"])
			if tt.description == "missing bearer token" {
				assert.Equal(t, `Bearer realm="authtest"`, r.Header.Get("WWW-Authenticate"), "RFC 6750 section 3.1: no error code without credentials")
			} else {
				assert.Contains(t, r.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`)
			}
			requireNoToken(t, r.Body, expired, revoked, valid, foreign)
			assert.EqualValues(t, i+1, srv.Denied())
		})
	}
	assert.Equal(t, http.StatusOK, api(t, srv, "/api/ok", valid).Status)
	assert.EqualValues(t, 1, srv.Served())
}

func TestDenyStatus403(t *testing.T) {
	srv := newServer(t, authtest.Options{DenyStatus: http.StatusForbidden})
	tok := srv.Issue("demo")
	srv.Revoke()

	r := api(t, srv, "/api/x", tok.AccessToken)
	assert.Equal(t, http.StatusForbidden, r.Status)
	assert.Equal(t, "invalid_token", r.JSON(t)["error"])

	srv.SetDenyStatus(0)
	assert.Equal(t, http.StatusUnauthorized, api(t, srv, "/api/x", tok.AccessToken).Status)
	srv.SetDenyStatus(419)
	assert.Equal(t, 419, api(t, srv, "/api/x", tok.AccessToken).Status)
	assert.EqualValues(t, 3, srv.Denied())
}

func TestStatusRouteAnswersTheCodeAfterAuth(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	tok := srv.Issue("demo").AccessToken

	for _, code := range []int{200, 201, 204, 401, 404, 500, 503} {
		r := api(t, srv, fmt.Sprintf("/api/status/%d", code), tok)
		assert.Equal(t, code, r.Status)
	}
	assert.Equal(t, http.StatusBadRequest, api(t, srv, "/api/status/99", tok).Status)
	assert.Equal(t, http.StatusBadRequest, api(t, srv, "/api/status/abc", tok).Status)
	assert.Equal(t, http.StatusUnauthorized, api(t, srv, "/api/status/200", "bad").Status)

	assert.EqualValues(t, 3, srv.Served(), "only the 2xx answers are served")
	assert.EqualValues(t, 1, srv.Denied(), "/api/status/401 is not a denial")
}

func TestSlowRouteSleepsAndHonoursContext(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	tok := srv.Issue("demo").AccessToken

	start := time.Now()
	r := api(t, srv, "/api/slow?ms=30", tok)
	require.Equal(t, http.StatusOK, r.Status)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	assert.Equal(t, "ms=30", r.JSON(t)["query"])

	assert.Equal(t, http.StatusBadRequest, api(t, srv, "/api/slow?ms=x", tok).Status)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/slow?ms=60000", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	_, err = srv.Client().Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualValues(t, 1, srv.Served())
}

func TestEnvelopeRoute(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	r := mustSend(t, srv, http.MethodPost, "/api/envelope", strings.NewReader("hi"),
		"Authorization", "Bearer "+srv.Issue("demo").AccessToken)
	require.Equal(t, http.StatusOK, r.Status)
	m := r.JSON(t)
	assert.Equal(t, "OK", m["resultCode"])
	assert.Equal(t, map[string]any{"path": "/api/envelope", "method": "POST", "user": "demo", "body": "hi"}, m["data"])
}

func TestRefreshWithoutRotationReturnsSameRefreshToken(t *testing.T) {
	for _, rf := range refreshers {
		t.Run(rf.name, func(t *testing.T) {
			srv := newServer(t, authtest.Options{})
			first := srv.Issue("demo")

			for i := range 3 {
				r, err := rf.call(t, srv, first.RefreshToken)
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
				tok := rf.parse(t, r)
				assert.Equal(t, first.RefreshToken, tok.Refresh)
				assert.NotEqual(t, first.AccessToken, tok.Access)
				assert.Equal(t, float64(60), tok.ExpiresIn)
				assert.Equal(t, http.StatusOK, api(t, srv, "/api/me", tok.Access).Status)
				assert.EqualValues(t, i+1, srv.Refreshes())
			}
			assert.EqualValues(t, 3, srv.RefreshCalls())
			assert.EqualValues(t, 0, srv.InvalidGrants())
		})
	}
}

func TestRotationRejectsReusedRefreshToken(t *testing.T) {
	for _, rf := range refreshers {
		t.Run(rf.name, func(t *testing.T) {
			srv := newServer(t, authtest.Options{Rotate: true})
			first := srv.Issue("demo")

			r, err := rf.call(t, srv, first.RefreshToken)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			second := rf.parse(t, r)
			assert.NotEqual(t, first.RefreshToken, second.Refresh)

			r, err = rf.call(t, srv, first.RefreshToken)
			require.NoError(t, err)
			assertInvalidGrant(t, rf, r)
			requireNoToken(t, r.Body, first.RefreshToken, first.AccessToken, second.Access, second.Refresh)

			r, err = rf.call(t, srv, second.Refresh)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.Status, "the rotated token works once")

			r, err = rf.call(t, srv, "never-issued")
			require.NoError(t, err)
			assertInvalidGrant(t, rf, r)

			assert.EqualValues(t, 4, srv.RefreshCalls())
			assert.EqualValues(t, 2, srv.Refreshes())
			assert.EqualValues(t, 2, srv.InvalidGrants())
		})
	}
}

// assertInvalidGrant checks an invalid_grant answer in the endpoint's shape.
func assertInvalidGrant(t *testing.T, rf refresher, r result) {
	t.Helper()
	if rf.name == "bearer /auth/refresh" {
		assert.Equal(t, http.StatusUnauthorized, r.Status)
		assert.Equal(t, map[string]any{"resultCode": "UNAUTHORIZED"}, r.JSON(t))
		return
	}
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "invalid_grant", r.JSON(t)["error"])
}

func TestConcurrentRefreshesWithOneRotatedTokenSucceedOnce(t *testing.T) {
	srv := newServer(t, authtest.Options{Rotate: true})
	refresh := srv.Issue("demo").RefreshToken

	const n = 100
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := refreshers[0].call(t, srv, refresh)
			if assert.NoError(t, err) {
				statuses[i] = r.Status
			}
		}()
	}
	wg.Wait()

	ok := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			ok++
		}
	}
	assert.Equal(t, 1, ok)
	assert.EqualValues(t, n, srv.RefreshCalls())
	assert.EqualValues(t, 1, srv.Refreshes())
	assert.EqualValues(t, n-1, srv.InvalidGrants())
}

func TestRevokeRejectsOldAccessTokenButRefreshedOneWorks(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	old := srv.Issue("demo")
	require.Equal(t, http.StatusOK, api(t, srv, "/api/a", old.AccessToken).Status)

	srv.Revoke()
	r := api(t, srv, "/api/a", old.AccessToken)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "token revoked", r.JSON(t)["error_description"])

	r, err := refreshers[0].call(t, srv, old.RefreshToken)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.Status, "Revoke leaves refresh tokens valid")
	fresh := parseTokenResponse(t, r)
	assert.Equal(t, http.StatusOK, api(t, srv, "/api/a", fresh.Access).Status)
	assert.Equal(t, http.StatusUnauthorized, api(t, srv, "/api/a", old.AccessToken).Status)
}

func TestRevokeRefreshInvalidatesRefreshTokens(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	tok := srv.Issue("demo")
	srv.RevokeRefresh()

	for _, rf := range refreshers {
		r, err := rf.call(t, srv, tok.RefreshToken)
		require.NoError(t, err)
		assertInvalidGrant(t, rf, r)
	}
	assert.EqualValues(t, 3, srv.InvalidGrants())
	assert.Equal(t, http.StatusOK, api(t, srv, "/api/a", tok.AccessToken).Status, "access tokens are not affected")

	r, err := refreshers[0].call(t, srv, srv.Issue("demo").RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.Status, "tokens issued afterwards work")
}

func TestFakeClockExpiresAccessTokenWithoutSleeping(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, authtest.Options{Now: clock.Now, AccessTTL: 10 * time.Minute})
	tok := srv.Issue("demo")
	assert.Equal(t, clock.Now().Add(10*time.Minute), tok.Expiry)
	assert.EqualValues(t, 600, tok.ExpiresIn)

	clock.Advance(10*time.Minute - time.Millisecond)
	require.Equal(t, http.StatusOK, api(t, srv, "/api/a", tok.AccessToken).Status)

	clock.Advance(time.Millisecond)
	r := api(t, srv, "/api/a", tok.AccessToken)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "token expired", r.JSON(t)["error_description"])
	_, err := srv.Verify(tok.AccessToken)
	assert.ErrorIs(t, err, authtest.ErrTokenExpired)

	r, err = refreshers[0].call(t, srv, tok.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, api(t, srv, "/api/a", parseTokenResponse(t, r).Access).Status)
}

func TestSubSecondAccessTTL(t *testing.T) {
	clock := newFakeClock()
	clock.Advance(700 * time.Millisecond) // not on a whole second
	srv := newServer(t, authtest.Options{Now: clock.Now, AccessTTL: 250 * time.Millisecond})
	tok := srv.Issue("demo")
	assert.EqualValues(t, 1, tok.ExpiresIn, "expires_in is never 0, which would read as no expiry")

	// A JWT library reading exp (as the auth package does) sees the
	// fractional NumericDate, truncated to its precision.
	var rc jwt.RegisteredClaims
	_, _, err := jwt.NewParser().ParseUnverified(tok.AccessToken, &rc)
	require.NoError(t, err)
	require.NotNil(t, rc.ExpiresAt)
	assert.Equal(t, tok.Expiry.Truncate(time.Second).Unix(), rc.ExpiresAt.Unix())

	clock.Advance(200 * time.Millisecond)
	assert.Equal(t, http.StatusOK, api(t, srv, "/api/a", tok.AccessToken).Status)
	clock.Advance(50 * time.Millisecond)
	assert.Equal(t, http.StatusUnauthorized, api(t, srv, "/api/a", tok.AccessToken).Status)
}

func TestTokensMintedTogetherDiffer(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, authtest.Options{Now: clock.Now})
	a, b := srv.Issue("demo"), srv.Issue("demo")
	assert.NotEqual(t, a.AccessToken, b.AccessToken)
	assert.NotEqual(t, a.RefreshToken, b.RefreshToken)

	ca, err := authtest.ParseClaims(a.AccessToken)
	require.NoError(t, err)
	cb, err := authtest.ParseClaims(b.AccessToken)
	require.NoError(t, err)
	assert.NotEqual(t, ca.ID, cb.ID)
	assert.Equal(t, ca.ExpiresAt, cb.ExpiresAt)
	assert.EqualValues(t, 2, srv.Logins())
}

func TestParseClaimsWithoutServer(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(t, authtest.Options{Now: clock.Now, AccessTTL: 90 * time.Second})
	tok := srv.Issue("bob")
	clock.Advance(time.Hour) // ParseClaims does not check expiry

	c, err := authtest.ParseClaims(tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "bob", c.Subject)
	assert.True(t, c.ExpiresAt.Equal(tok.Expiry))
	assert.Equal(t, 90*time.Second, c.ExpiresAt.Sub(c.IssuedAt))
	exp, err := c.GetExpirationTime()
	require.NoError(t, err)
	assert.Equal(t, tok.Expiry.Unix(), exp.Unix(), "other JWT readers see exp")

	_, err = authtest.ParseClaims("nope")
	assert.ErrorIs(t, err, authtest.ErrTokenInvalid)
	_, err = srv.Verify(tok.AccessToken)
	assert.ErrorIs(t, err, authtest.ErrTokenExpired)
	assert.NotContains(t, err.Error(), tok.AccessToken)
}

func TestFailRefreshThenSuccess(t *testing.T) {
	for _, rf := range refreshers {
		t.Run(rf.name, func(t *testing.T) {
			srv := newServer(t, authtest.Options{Rotate: true})
			tok := srv.Issue("demo")
			srv.FailRefresh(2, http.StatusInternalServerError)

			for range 2 {
				r, err := rf.call(t, srv, tok.RefreshToken)
				require.NoError(t, err)
				assert.Equal(t, http.StatusInternalServerError, r.Status)
				requireNoToken(t, r.Body, tok.RefreshToken, tok.AccessToken)
			}
			r, err := rf.call(t, srv, tok.RefreshToken)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.Status, "an injected failure leaves the refresh token usable")

			assert.EqualValues(t, 3, srv.RefreshCalls())
			assert.EqualValues(t, 1, srv.Refreshes())
			assert.EqualValues(t, 0, srv.InvalidGrants())
		})
	}
}

func TestFailRefreshBodies(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	refresh := srv.Issue("demo").RefreshToken
	tests := []struct {
		rf     refresher
		status int
		want   map[string]any
	}{
		{refreshers[0], 400, map[string]any{"error": "invalid_grant"}},
		{refreshers[0], 401, map[string]any{"error": "unauthorized"}},
		{refreshers[0], 500, map[string]any{"error": "server_error"}},
		{refreshers[0], 503, map[string]any{"error": "temporarily_unavailable"}},
		{refreshers[1], 401, map[string]any{"resultCode": "UNAUTHORIZED"}},
		{refreshers[1], 500, map[string]any{"resultCode": "INTERNAL_SERVER_ERROR"}},
		{refreshers[2], 400, map[string]any{"error": "invalid_grant"}},
		{refreshers[2], 401, map[string]any{"error": "invalid_client"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.rf.name, " ", tt.status), func(t *testing.T) {
			srv.FailRefresh(1, tt.status)
			r, err := tt.rf.call(t, srv, refresh)
			require.NoError(t, err)
			assert.Equal(t, tt.status, r.Status)
			assert.Equal(t, tt.want, r.JSON(t))
		})
	}
	assert.EqualValues(t, 0, srv.InvalidGrants(), "injected failures are not counted as invalid grants")
	assert.EqualValues(t, 0, srv.Refreshes())
	assert.EqualValues(t, len(tests), srv.RefreshCalls())

	srv.FailRefresh(5, 500)
	srv.FailRefresh(0, 0)
	r, err := refreshers[0].call(t, srv, refresh)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.Status, "FailRefresh(0, _) cancels pending failures")
}

func TestDropRefreshClosesConnectionThenSucceeds(t *testing.T) {
	for _, rf := range refreshers {
		t.Run(rf.name, func(t *testing.T) {
			srv := newServer(t, authtest.Options{})
			tok := srv.Issue("demo")
			srv.DropRefresh(1)

			_, err := rf.call(t, srv, tok.RefreshToken)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), tok.RefreshToken)

			r, err := rf.call(t, srv, tok.RefreshToken)
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, r.Status)
			assert.EqualValues(t, 2, srv.RefreshCalls())
			assert.EqualValues(t, 1, srv.Refreshes())
		})
	}
}

func TestRefreshDelayIsHonoured(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	tok := srv.Issue("demo")
	const delay = 40 * time.Millisecond
	srv.SetRefreshDelay(delay)

	start := time.Now()
	r, err := refreshers[0].call(t, srv, tok.RefreshToken)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, r.Status)
	assert.GreaterOrEqual(t, time.Since(start), delay)

	// A caller that gives up ends the server's sleep too.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	srv.SetRefreshDelay(time.Hour)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/auth/refresh", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.RefreshToken)
	_, err = srv.Client().Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	srv.SetRefreshDelay(0)
	start = time.Now()
	_, err = refreshers[0].call(t, srv, tok.RefreshToken)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), time.Second)
}

func TestCloseDoesNotWaitForSleepingRequests(t *testing.T) {
	srv := authtest.NewServer(authtest.Options{})
	t.Cleanup(srv.Close) // in case of an early failure; Close is idempotent
	tok := srv.Issue("demo")
	srv.SetRefreshDelay(time.Hour)

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := refreshers[0].call(t, srv, tok.RefreshToken)
		errs <- err
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := send(t, srv, http.MethodGet, "/api/slow?ms=3600000", nil, "Authorization", "Bearer "+tok.AccessToken)
		errs <- err
	}()
	require.Eventually(t, func() bool { return srv.RefreshCalls() == 1 && srv.Requests() == 1 },
		5*time.Second, time.Millisecond)

	start := time.Now()
	srv.Close()
	wg.Wait()
	assert.Less(t, time.Since(start), 2*time.Second)
	close(errs)
	for err := range errs {
		assert.Error(t, err, "an aborted request gets no answer")
	}
	srv.Close() // a second Close is harmless
}

func TestOAuth2TokenSourceRefreshesThroughTokenEndpoint(t *testing.T) {
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams, oauth2.AuthStyleAutoDetect} {
		t.Run(fmt.Sprint("auth style ", style), func(t *testing.T) {
			srv := newServer(t, authtest.Options{Rotate: true, ClientID: "my app", ClientSecret: "s3cret&more"})
			cfg := &oauth2.Config{
				ClientID:     "my app",
				ClientSecret: "s3cret&more",
				Endpoint:     oauth2.Endpoint{TokenURL: srv.TokenURL(), AuthStyle: style},
			}
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())

			old := srv.Issue("demo")
			old.Expiry = time.Now().Add(-time.Second) // x/oauth2 judges expiry by the real clock
			tok, err := cfg.TokenSource(ctx, old).Token()
			require.NoError(t, err)

			assert.NotEqual(t, old.AccessToken, tok.AccessToken)
			assert.NotEqual(t, old.RefreshToken, tok.RefreshToken)
			assert.Equal(t, "Bearer", tok.Type())
			assert.WithinDuration(t, time.Now().Add(time.Minute), tok.Expiry, 5*time.Second)
			assert.Equal(t, http.StatusOK, api(t, srv, "/api/me", tok.AccessToken).Status)
			assert.EqualValues(t, 1, srv.Refreshes())

			// The rotated-out token is now refused, and x/oauth2 reports it as RFC 6749 says.
			_, err = cfg.TokenSource(ctx, old).Token()
			var re *oauth2.RetrieveError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "invalid_grant", re.ErrorCode)
			assert.EqualValues(t, 1, srv.InvalidGrants())
		})
	}
}

func TestOAuthTokenEndpointErrors(t *testing.T) {
	srv := newServer(t, authtest.Options{ClientID: "app", ClientSecret: "pw"})
	refresh := srv.Issue("demo").RefreshToken
	post := func(form url.Values, basic ...string) result {
		t.Helper()
		h := []string{"Content-Type", "application/x-www-form-urlencoded"}
		if len(basic) == 2 {
			req, _ := http.NewRequest("", "/", nil)
			req.SetBasicAuth(basic[0], basic[1])
			h = append(h, "Authorization", req.Header.Get("Authorization"))
		}
		return mustSend(t, srv, http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()), h...)
	}
	grant := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
	with := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}

	tests := []struct {
		name   string
		r      result
		status int
		code   string
	}{
		{"no client credentials", post(grant), 401, "invalid_client"},
		{"wrong secret in header", post(grant, "app", "nope"), 401, "invalid_client"},
		{"wrong secret in form", post(with(grant, "client_id", "app", "client_secret", "nope")), 401, "invalid_client"},
		{"unsupported grant", post(with(grant, "grant_type", "authorization_code"), "app", "pw"), 400, "unsupported_grant_type"},
		{"no grant type", post(url.Values{"refresh_token": {refresh}}, "app", "pw"), 400, "invalid_request"},
		{"no refresh token", post(url.Values{"grant_type": {"refresh_token"}}, "app", "pw"), 400, "invalid_request"},
		{"unknown refresh token", post(with(grant, "refresh_token", "bogus"), "app", "pw"), 400, "invalid_grant"},
		{"good, header", post(grant, "app", "pw"), 200, ""},
		{"good, form", post(with(grant, "client_id", "app", "client_secret", "pw")), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.status, tt.r.Status, "%s", tt.r.Body)
			if tt.code != "" {
				assert.Equal(t, tt.code, tt.r.JSON(t)["error"])
				requireNoToken(t, tt.r.Body, refresh)
			}
			if tt.status == 401 {
				assert.NotEmpty(t, tt.r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	assert.EqualValues(t, len(tests), srv.RefreshCalls())
	assert.EqualValues(t, 2, srv.Refreshes())
	assert.EqualValues(t, 1, srv.InvalidGrants())
}

func TestOAuth2PasswordGrantIsALogin(t *testing.T) {
	srv := newServer(t, authtest.Options{ClientID: "app", ClientSecret: "pw"})
	cfg := &oauth2.Config{ClientID: "app", ClientSecret: "pw", Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL()}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())

	tok, err := cfg.PasswordCredentialsToken(ctx, "demo", "secret")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, api(t, srv, "/api/me", tok.AccessToken).Status)

	_, err = cfg.PasswordCredentialsToken(ctx, "demo", "wrong")
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid_grant", re.ErrorCode)

	assert.EqualValues(t, 1, srv.Logins())
	assert.EqualValues(t, 0, srv.RefreshCalls(), "a password grant is not a refresh")
}

func TestThousandConcurrentProtectedRequests(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	stale := srv.Issue("demo").AccessToken
	srv.Revoke()
	fresh := srv.Issue("demo").AccessToken

	const n = 1000
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := fresh
			if i%10 == 0 {
				tok = stale
			}
			body := fmt.Sprintf("request %d", i)
			r, err := send(t, srv, http.MethodPost, fmt.Sprintf("/api/item/%d", i), strings.NewReader(body),
				"Authorization", "Bearer "+tok)
			if !assert.NoError(t, err) {
				return
			}
			statuses[i] = r.Status
			if r.Status == http.StatusOK {
				assert.Equal(t, body, r.JSON(t)["body"])
			}
		}()
	}
	wg.Wait()

	for i, s := range statuses {
		want := http.StatusOK
		if i%10 == 0 {
			want = http.StatusUnauthorized
		}
		require.Equal(t, want, s, "request %d", i)
	}
	assert.EqualValues(t, n, srv.Requests())
	assert.EqualValues(t, n-n/10, srv.Served())
	assert.EqualValues(t, n/10, srv.Denied())
}

func TestResetCounters(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	tok := srv.Issue("demo")
	api(t, srv, "/api/a", tok.AccessToken)
	api(t, srv, "/api/a", "bad")
	_, err := refreshers[0].call(t, srv, tok.RefreshToken)
	require.NoError(t, err)
	_, err = refreshers[0].call(t, srv, "bad")
	require.NoError(t, err)
	r := mustSend(t, srv, http.MethodPost, "/oauth/token", strings.NewReader("grant_type=client_credentials"),
		"Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.EqualValues(t, 1, srv.ClientCredentialsCalls())

	srv.ResetCounters()
	for name, got := range map[string]int64{
		"RefreshCalls": srv.RefreshCalls(), "Refreshes": srv.Refreshes(), "InvalidGrants": srv.InvalidGrants(),
		"Denied": srv.Denied(), "Served": srv.Served(), "Logins": srv.Logins(), "Requests": srv.Requests(),
		"ClientCredentialsCalls": srv.ClientCredentialsCalls(),
	} {
		assert.Zero(t, got, name)
	}
	assert.Equal(t, http.StatusOK, api(t, srv, "/api/a", tok.AccessToken).Status, "tokens survive a reset")
}

func TestErrorResponsesNeverContainTokens(t *testing.T) {
	srv := newServer(t, authtest.Options{Rotate: true, ClientID: "app", ClientSecret: "pw"})
	tok := srv.Issue("demo")
	_, err := refreshers[0].call(t, srv, tok.RefreshToken)
	require.NoError(t, err)
	srv.Revoke()
	secrets := []string{tok.AccessToken, tok.RefreshToken}

	var bodies []result
	bodies = append(bodies, api(t, srv, "/api/x", tok.AccessToken))
	for _, rf := range refreshers {
		r, err := rf.call(t, srv, tok.RefreshToken) // reused under rotation, or no client credentials
		require.NoError(t, err)
		bodies = append(bodies, r)
	}
	srv.FailRefresh(3, 500)
	for _, rf := range refreshers {
		r, err := rf.call(t, srv, tok.RefreshToken)
		require.NoError(t, err)
		bodies = append(bodies, r)
	}
	for _, r := range bodies {
		assert.GreaterOrEqual(t, r.Status, 400)
		requireNoToken(t, r.Body, secrets...)
		for _, vs := range r.Header {
			for _, v := range vs {
				for _, s := range secrets {
					assert.False(t, strings.Contains(v, s), "a token leaked into a header")
				}
			}
		}
	}
}
