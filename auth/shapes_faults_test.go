package auth

// The auth package's shapes (Transport, TokenSource, Login, refreshers,
// Hosts, header formats), as a review pass found them wanting.

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
)

// idleCloser is a base RoundTripper that counts CloseIdleConnections, as
// *http.Transport has it.
type idleCloser struct {
	http.RoundTripper
	closed atomic.Int64
}

func (c *idleCloser) CloseIdleConnections() { c.closed.Add(1) }

// TestTransportPassesCloseIdleConnectionsToItsBase: http.Client's
// CloseIdleConnections reaches its Transport only when the Transport has the
// method; the pair's RoundTripper has none, so the base's idle connections
// are never closed through the client.
func TestTransportPassesCloseIdleConnectionsToItsBase(t *testing.T) {
	base := &idleCloser{RoundTripper: httpmock.NewMockTransport()}
	a := newAuth(t, Options{Refresh: nopRefresh})
	hc := &http.Client{Transport: a.Transport(base)}
	hc.CloseIdleConnections()
	assert.EqualValues(t, 1, base.closed.Load(), "the client's CloseIdleConnections reaches the base transport")
}

// TestTransportTakesARequestWithANilHeader: http.Transport accepts a
// request whose Header is nil; the pair's RoundTripper panics writing the
// token into the clone's nil map.
func TestTransportTakesARequestWithANilHeader(t *testing.T) {
	mock := httpmock.NewMockTransport()
	headerEcho(mock, "Authorization")
	a := newAuth(t, Options{Refresh: nopRefresh})
	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", time.Time{})))
	u, err := url.Parse("http://api.test/x")
	require.NoError(t, err)

	var resp *http.Response
	require.NotPanics(t, func() {
		resp, err = a.Transport(mock).RoundTrip(&http.Request{Method: http.MethodGet, URL: u})
	})
	require.NoError(t, err)
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "Bearer t1", string(got))
}

// TestTransportKeepsACallersHeaderSetUnderANonCanonicalKey:
// net/http's documented way to send a non-canonical key is to assign to the
// map directly. The caller's own credential under "authorization" is not
// seen (Header.Get canonicalizes), so the token is added as a second
// Authorization field next to it.
func TestTransportKeepsACallersHeaderSetUnderANonCanonicalKey(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		var all []string
		for k, v := range r.Header {
			if strings.EqualFold(k, "Authorization") {
				all = append(all, v...)
			}
		}
		return httpmock.NewStringResponse(http.StatusOK, strings.Join(all, "|")), nil
	})
	a := newAuth(t, Options{Refresh: nopRefresh})
	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", time.Time{})))
	req, err := http.NewRequest(http.MethodGet, "http://api.test/x", nil)
	require.NoError(t, err)
	req.Header["authorization"] = []string{"Basic bWU6cHc="}

	resp, err := a.Transport(mock).RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "Basic bWU6cHc=", string(got), "the caller's own credential alone, no second Authorization field")
}

// TestJSONRefresherTakesInvalidGrantIn200AsARefusal: the contract
// (DESIGN.md, ErrRefused's doc) says JSONRefresher wraps ErrRefused for
// invalid_grant, as OAuth2 does (x/oauth2 turns a 200 carrying "error" into
// a RetrieveError). JSONRefresher parses the 200 as a token response
// without access_token: a transient failure, so a dead refresh token is
// retried every 1-4 s forever and OnFailure never runs.
func TestJSONRefresherTakesInvalidGrantIn200AsARefusal(t *testing.T) {
	c, mock := newMockClient()
	mock.RegisterResponder(http.MethodPost, "http://api.test/refresh",
		httpmock.NewStringResponder(http.StatusOK, `{"error":"invalid_grant","error_description":"refresh token revoked"}`))
	_, err := JSONRefresher(c, JSONEndpoint{URL: "/refresh"})(context.Background(), &oauth2.Token{AccessToken: "a", RefreshToken: "r"})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrRefused, "invalid_grant refuses the refresh token")
}

// TestTokenSourceOfALoginServiceLogsIn: a service with Login
// (ClientCredentials) and no Refresh is logged in by its first request, but
// TokenSource(a).Token() with no token fails with ErrNoToken without ever
// calling Login, so a gRPC credential or oauth2.Transport built on it never
// gets a token (x/oauth2's clientcredentials TokenSource fetches one).
// Refresh(ctx) on the same Authenticator does log in.
func TestTokenSourceOfALoginServiceLogsIn(t *testing.T) {
	var logins atomic.Int64
	a := newAuth(t, Options{Login: func(context.Context) (*oauth2.Token, error) {
		logins.Add(1)
		return tokenWith("svc", time.Now().Add(time.Hour)), nil
	}})
	tok, err := TokenSource(a).Token()
	require.NoError(t, err)
	assert.Equal(t, "svc", tok.AccessToken)
	assert.EqualValues(t, 1, logins.Load())
}

// TestHostsEntryWithAPort: "api.example.com:8443" is neither an
// origin (no scheme) nor matched as a host name (it is compared with the
// request's Hostname(), port stripped), so it silently matches nothing:
// New accepts it, and the API on that port never gets the token.
func TestHostsEntryWithAPort(t *testing.T) {
	mock := httpmock.NewMockTransport()
	headerEcho(mock, "Authorization")
	c := axios.Create(axios.Config{})
	c.Resty().SetTransport(mock)
	a := newAuth(t, Options{Refresh: nopRefresh, Hosts: []string{"api.example.com:8443"}})
	login(t, a, c, tokenWith("t1", time.Time{}))
	resp, err := c.Get(context.Background(), "https://api.example.com:8443/x")
	require.NoError(t, err)
	assert.Equal(t, "Bearer t1", string(resp.Data))
}

// TestHostsRefusesAnEntryThatCouldNeverMatch: requests carry an IDN in its
// ASCII (xn--) form, and the pair does not convert (that would link
// x/net/idna and x/text into every program): New refuses a Unicode entry
// with an error that says which form to give, rather than accept an entry
// that silently matches nothing. The xn-- form works.
func TestHostsRefusesAnEntryThatCouldNeverMatch(t *testing.T) {
	for _, h := range []string{"https://bücher.example", "bücher.example", "ftp://files.example"} {
		_, err := New(Options{Refresh: nopRefresh, Hosts: []string{h}})
		require.Error(t, err, h)
		assert.Contains(t, err.Error(), "Options.Hosts")
	}
	_, err := New(Options{Refresh: nopRefresh, Hosts: []string{"https://bücher.example"}})
	assert.Contains(t, err.Error(), "xn--")

	mock := httpmock.NewMockTransport()
	headerEcho(mock, "Authorization")
	c := axios.Create(axios.Config{})
	c.Resty().SetTransport(mock)
	a := newAuth(t, Options{Refresh: nopRefresh, Hosts: []string{"https://xn--bcher-kva.example"}})
	login(t, a, c, tokenWith("t1", time.Time{}))
	resp, err := c.Get(context.Background(), "https://xn--bcher-kva.example/x")
	require.NoError(t, err)
	assert.Equal(t, "Bearer t1", string(resp.Data))
}
