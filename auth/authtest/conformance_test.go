package authtest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios/auth/authtest"
)

func postForm(t *testing.T, srv *authtest.Server, body string) result {
	t.Helper()
	return mustSend(t, srv, http.MethodPost, "/oauth/token", strings.NewReader(body),
		"Content-Type", "application/x-www-form-urlencoded")
}

// RFC conformance and time-precision cases.

// The Expiry Issue reports is the token's own exp: the server's clock is
// read to the millisecond, as the JWT carries it, so the token is never
// refused before its Expiry (the auth package schedules refreshes by it).
func TestIssueExpiryMatchesServerExpiry(t *testing.T) {
	clock := newFakeClock()
	clock.Advance(500 * time.Microsecond) // time.Now is rarely on a whole millisecond
	srv := newServer(t, authtest.Options{Now: clock.Now, AccessTTL: time.Minute})
	tok := srv.Issue("demo")

	clock.Advance(tok.Expiry.Sub(clock.Now()) - time.Microsecond)
	require.True(t, clock.Now().Before(tok.Expiry))
	_, err := srv.Verify(tok.AccessToken)
	assert.NoError(t, err, "token refused while the server's clock is before the Expiry Issue returned")
	assert.Equal(t, http.StatusOK, api(t, srv, "/api/a", tok.AccessToken).Status)
}

// A token issued at the Unix epoch (a mock clock starting at time.Unix(0,
// 0)) carries iat 0, read back as 1970-01-01, not the zero time.Time.
func TestIssuedAtUnixEpochRoundTrips(t *testing.T) {
	epoch := time.Unix(0, 0)
	srv := newServer(t, authtest.Options{Now: func() time.Time { return epoch }, AccessTTL: time.Minute})
	c, err := authtest.ParseClaims(srv.Issue("demo").AccessToken)
	require.NoError(t, err)
	assert.True(t, c.IssuedAt.Equal(epoch), "iat %v, want %v", c.IssuedAt, epoch.UTC())
	assert.Equal(t, time.Minute, c.ExpiresAt.Sub(c.IssuedAt))
}

// A clock before 1970, off the second, still mints tokens whose times read
// back as they were (to the millisecond).
func TestTimesBefore1970RoundTrip(t *testing.T) {
	then := time.Unix(-2, 5e8) // 1969-12-31T23:59:58.5Z
	srv := newServer(t, authtest.Options{Now: func() time.Time { return then }, AccessTTL: time.Second})
	c, err := authtest.ParseClaims(srv.Issue("demo").AccessToken)
	require.NoError(t, err)
	assert.True(t, c.IssuedAt.Equal(then), "iat %v, want %v", c.IssuedAt, then.UTC())
	assert.True(t, c.ExpiresAt.Equal(then.Add(time.Second)), "exp %v", c.ExpiresAt)
}

// RFC 6749 section 5.1: the token response MUST carry Cache-Control: no-store
// "as well as the Pragma response header field with a value of no-cache".
func TestOAuthTokenResponsePragmaNoCache(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	tok := srv.Issue("demo")
	r := postForm(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}.Encode())
	require.Equal(t, http.StatusOK, r.Status)
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", r.Header.Get("Pragma"), "RFC 6749 section 5.1")
}

// RFC 6749 section 4.3.2: username and password are REQUIRED; section 5.2:
// a missing required parameter is invalid_request (the refresh_token grant
// already answers invalid_request for a missing refresh_token).
func TestPasswordGrantMissingParamsIsInvalidRequest(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	for name, form := range map[string]url.Values{
		"no username": {"grant_type": {"password"}, "password": {"secret"}},
		"no password": {"grant_type": {"password"}, "username": {"demo"}},
	} {
		r := postForm(t, srv, form.Encode())
		assert.Equal(t, http.StatusBadRequest, r.Status, name)
		assert.Equal(t, "invalid_request", r.JSON(t)["error"], name)
	}
}

// RFC 6749 section 3.2: request parameters MUST NOT be included more than
// once; section 5.2: invalid_request covers a request that "repeats a
// parameter".
func TestOAuthRepeatedParameterIsInvalidRequest(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	tok := srv.Issue("demo")
	r := postForm(t, srv, "grant_type=refresh_token&refresh_token="+url.QueryEscape(tok.RefreshToken)+"&refresh_token=other")
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "invalid_request", r.JSON(t)["error"])
}

// RefreshCalls counts calls to /oauth/token other than the password grant
// "successful or not", and FailRefresh/DropRefresh/SetRefreshDelay apply to
// every refresh call: a malformed form too, as /refresh does for a malformed
// body; a pending fault never leaks into a later call.
func TestMalformedOAuthFormIsARefreshCall(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	srv.FailRefresh(1, http.StatusServiceUnavailable)
	r := postForm(t, srv, "grant_type=refresh_token&refresh_token=%zz")
	assert.Equal(t, http.StatusServiceUnavailable, r.Status, "the pending injected failure answers this refresh call")
	assert.EqualValues(t, 1, srv.RefreshCalls())

	r = mustSend(t, srv, http.MethodPost, "/refresh", strings.NewReader(`{"refresh_token":"bogus"}`),
		"Content-Type", "application/json")
	assert.Equal(t, http.StatusBadRequest, r.Status, "the fault leaked into a later refresh call: %s", r.Body)
}

// RFC 6750 section 3.1: "If the request lacks any authentication
// information ..., the resource server SHOULD NOT include an error code or
// other error information."
func TestMissingBearerNoErrorCodeInChallenge(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	r := mustSend(t, srv, http.MethodGet, "/api/a", nil)
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	ch := r.Header.Get("WWW-Authenticate")
	assert.True(t, strings.HasPrefix(ch, "Bearer"), ch)
	assert.NotContains(t, ch, "error=", "RFC 6750 section 3.1")
}
