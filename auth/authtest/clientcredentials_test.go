package authtest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios/auth/authtest"
)

// tokenCall posts form to /oauth/token, with HTTP Basic client credentials
// when basic holds an id and a secret (form-encoded, as x/oauth2 sends them).
func tokenCall(t *testing.T, srv *authtest.Server, form url.Values, basic ...string) (result, error) {
	t.Helper()
	h := []string{"Content-Type", "application/x-www-form-urlencoded"}
	if len(basic) == 2 {
		req, err := http.NewRequest(http.MethodPost, "/", nil)
		require.NoError(t, err)
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
		h = append(h, "Authorization", req.Header.Get("Authorization"))
	}
	return send(t, srv, http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()), h...)
}

func mustTokenCall(t *testing.T, srv *authtest.Server, form url.Values, basic ...string) result {
	t.Helper()
	r, err := tokenCall(t, srv, form, basic...)
	require.NoError(t, err)
	return r
}

// withClient returns form with the client_id and client_secret fields set.
func withClient(form url.Values, id, secret string) url.Values {
	out := url.Values{"client_id": {id}, "client_secret": {secret}}
	for k, vs := range form {
		out[k] = vs
	}
	return out
}

// Options.Clients and Options.ClientID register the clients that the
// refresh_token and password grants then require.
func TestClientsAuthenticateTheOAuthTokenGrants(t *testing.T) {
	srv := newServer(t, authtest.Options{
		Clients:  map[string]string{"svc": "pw", "web app": "s3cret&more", "app": "replaced"},
		ClientID: "app", ClientSecret: "a",
	})
	password := url.Values{"grant_type": {"password"}, "username": {"demo"}, "password": {"secret"}}
	refresh := func() url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {srv.Issue("demo").RefreshToken}}
	}

	for _, c := range [][2]string{{"svc", "pw"}, {"web app", "s3cret&more"}, {"app", "a"}} {
		assert.Equal(t, http.StatusOK, mustTokenCall(t, srv, refresh(), c[0], c[1]).Status, "%s in the header", c[0])
		assert.Equal(t, http.StatusOK, mustTokenCall(t, srv, withClient(refresh(), c[0], c[1])).Status, "%s in the form", c[0])
		assert.Equal(t, http.StatusOK, mustTokenCall(t, srv, password, c[0], c[1]).Status, "%s, password grant", c[0])
	}
	for name, r := range map[string]result{
		"no credentials":                   mustTokenCall(t, srv, refresh()),
		"wrong secret":                     mustTokenCall(t, srv, refresh(), "svc", "nope"),
		"another client's secret":          mustTokenCall(t, srv, withClient(refresh(), "svc", "a")),
		"unknown client":                   mustTokenCall(t, srv, refresh(), "who", "pw"),
		"Clients entry ClientID overrides": mustTokenCall(t, srv, refresh(), "app", "replaced"),
		"password grant, no credentials":   mustTokenCall(t, srv, password),
	} {
		assert.Equal(t, http.StatusUnauthorized, r.Status, name)
		assert.Equal(t, "invalid_client", r.JSON(t)["error"], name)
		assert.Equal(t, `Basic realm="authtest"`, r.Header.Get("WWW-Authenticate"), name)
	}
}

// With no client registered (an empty id does not register one), the
// refresh_token and password grants need no client authentication.
func TestNoClientsNoClientAuthentication(t *testing.T) {
	srv := newServer(t, authtest.Options{Clients: map[string]string{"": ""}})
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {srv.Issue("demo").RefreshToken}}
	assert.Equal(t, http.StatusOK, mustTokenCall(t, srv, form).Status)
	assert.Equal(t, http.StatusOK, mustTokenCall(t, srv, form, "any", "thing").Status)
}
