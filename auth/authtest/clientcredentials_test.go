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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

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

// clientContext makes x/oauth2 use the server's client.
func clientContext(srv *authtest.Server) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
}

var authStyles = []struct {
	name  string
	style oauth2.AuthStyle
}{
	{"in header", oauth2.AuthStyleInHeader},
	{"in params", oauth2.AuthStyleInParams},
	{"auto-detect", oauth2.AuthStyleAutoDetect},
}

func TestClientCredentialsTokenIsAcceptedByTheAPI(t *testing.T) {
	for _, as := range authStyles {
		t.Run(as.name, func(t *testing.T) {
			const id, secret = "billing svc", "s3cret&more:colon"
			srv := newServer(t, authtest.Options{Clients: map[string]string{id: secret, "other": "x"}})
			cfg := &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: srv.URL + "/oauth/token", AuthStyle: as.style}

			tok, err := cfg.Token(clientContext(srv))
			require.NoError(t, err)
			assert.Equal(t, "Bearer", tok.Type())
			assert.Empty(t, tok.RefreshToken, "RFC 6749 section 4.4.3: no refresh token")
			assert.WithinDuration(t, time.Now().Add(authtest.DefaultAccessTTL), tok.Expiry, 5*time.Second)
			assert.Nil(t, tok.Extra("scope"), "no scope asked for, none answered")

			r := api(t, srv, "/api/reports", tok.AccessToken)
			require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
			assert.Equal(t, id, r.JSON(t)["user"], "the client id is the token's user")
			c, err := srv.Verify(tok.AccessToken)
			require.NoError(t, err)
			assert.Equal(t, id, c.Subject)

			assert.EqualValues(t, 1, srv.ClientCredentialsCalls())
			assert.EqualValues(t, 1, srv.Logins(), "a client credentials grant is a login")
			assert.EqualValues(t, 0, srv.RefreshCalls(), "and not a refresh call")
		})
	}
}

func TestClientCredentialsResponse(t *testing.T) {
	srv := newServer(t, authtest.Options{Clients: map[string]string{"svc": "pw"}, AccessTTL: 90 * time.Second})
	grant := url.Values{"grant_type": {"client_credentials"}}

	r := mustTokenCall(t, srv, grant, "svc", "pw")
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", r.Header.Get("Pragma"))
	m := r.JSON(t)
	assert.ElementsMatch(t, []string{"access_token", "token_type", "expires_in"}, keys(m))
	assert.Equal(t, "Bearer", m["token_type"])
	assert.Equal(t, float64(90), m["expires_in"])

	grant.Set("scope", "invoices:read invoices:write")
	r = mustTokenCall(t, srv, withClient(grant, "svc", "pw"))
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, "invoices:read invoices:write", r.JSON(t)["scope"], "the scope asked for is granted")

	cfg := &clientcredentials.Config{ClientID: "svc", ClientSecret: "pw", TokenURL: srv.TokenURL(), Scopes: []string{"a", "b"}}
	tok, err := cfg.Token(clientContext(srv))
	require.NoError(t, err)
	assert.Equal(t, "a b", tok.Extra("scope"))
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestClientCredentialsWrongCredentialsIsInvalidClient(t *testing.T) {
	srv := newServer(t, authtest.Options{Clients: map[string]string{"svc": "pw"}})
	ctx := clientContext(srv)
	calls := int64(0)
	for _, as := range authStyles {
		for _, creds := range [][2]string{{"svc", "wrong"}, {"nobody", "pw"}, {"svc", ""}} {
			t.Run(fmt.Sprint(as.name, " ", creds), func(t *testing.T) {
				cfg := &clientcredentials.Config{ClientID: creds[0], ClientSecret: creds[1], TokenURL: srv.TokenURL(), AuthStyle: as.style}
				_, err := cfg.Token(ctx)
				var re *oauth2.RetrieveError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, "invalid_client", re.ErrorCode)
				assert.Equal(t, http.StatusUnauthorized, re.Response.StatusCode)
				assert.Equal(t, `Basic realm="authtest"`, re.Response.Header.Get("WWW-Authenticate"), "RFC 6749 section 5.2")

				calls++
				if as.style == oauth2.AuthStyleAutoDetect {
					calls++ // x/oauth2 tries the header, then the form fields
				}
				assert.Equal(t, calls, srv.ClientCredentialsCalls())
			})
		}
	}

	r := mustTokenCall(t, srv, url.Values{"grant_type": {"client_credentials"}})
	assert.Equal(t, http.StatusUnauthorized, r.Status, "no credentials at all")
	assert.Equal(t, map[string]any{"error": "invalid_client"}, r.JSON(t))
	assert.Equal(t, `Basic realm="authtest"`, r.Header.Get("WWW-Authenticate"))
	assert.Equal(t, calls+1, srv.ClientCredentialsCalls())
	assert.EqualValues(t, 0, srv.Logins())
}

// With no client registered, the client credentials grant is refused: only a
// registered (confidential) client may use it, RFC 6749 section 4.4.
func TestClientCredentialsWithoutClientsIsInvalidClient(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	r := mustTokenCall(t, srv, url.Values{"grant_type": {"client_credentials"}}, "svc", "pw")
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "invalid_client", r.JSON(t)["error"])
	assert.Contains(t, r.JSON(t)["error_description"], "Options.Clients")
	assert.Equal(t, `Basic realm="authtest"`, r.Header.Get("WWW-Authenticate"))

	cfg := &clientcredentials.Config{ClientID: "svc", ClientSecret: "pw", TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}
	_, err := cfg.Token(clientContext(srv))
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid_client", re.ErrorCode)
	assert.EqualValues(t, 2, srv.ClientCredentialsCalls())
}

func TestClientCredentialsWithClientID(t *testing.T) {
	srv := newServer(t, authtest.Options{ClientID: "app", ClientSecret: "pw"})
	cfg := &clientcredentials.Config{ClientID: "app", ClientSecret: "pw", TokenURL: srv.TokenURL()}
	tok, err := cfg.Token(clientContext(srv))
	require.NoError(t, err)
	assert.Equal(t, "app", api(t, srv, "/api/me", tok.AccessToken).JSON(t)["user"])
}

func TestClientCredentialsBadRequests(t *testing.T) {
	srv := newServer(t, authtest.Options{Clients: map[string]string{"svc": "pw"}})

	r := mustTokenCall(t, srv, url.Values{"grant_type": {"client_credentials"}, "scope": {"a", "b"}}, "svc", "pw")
	assert.Equal(t, http.StatusBadRequest, r.Status, "RFC 6749 section 3.2: a parameter sent twice")
	assert.Equal(t, "invalid_request", r.JSON(t)["error"])
	assert.EqualValues(t, 1, srv.ClientCredentialsCalls())

	r = mustTokenCall(t, srv, url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, "svc", "pw")
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Equal(t, "unsupported_grant_type", r.JSON(t)["error"])
	assert.EqualValues(t, 1, srv.ClientCredentialsCalls())
	assert.EqualValues(t, 0, srv.Logins())
}

func TestClientCredentialsFaults(t *testing.T) {
	srv := newServer(t, authtest.Options{Clients: map[string]string{"svc": "pw"}})
	grant := url.Values{"grant_type": {"client_credentials"}}
	refresh := srv.Issue("demo").RefreshToken
	srv.ResetCounters()

	// Injected failures answer without looking at the credentials, and
	// refresh faults and client credentials faults stay apart.
	srv.FailClientCredentials(2, http.StatusServiceUnavailable)
	srv.FailRefresh(1, http.StatusInternalServerError)
	for range 2 {
		r := mustTokenCall(t, srv, grant, "svc", "pw")
		assert.Equal(t, http.StatusServiceUnavailable, r.Status)
		assert.Equal(t, map[string]any{"error": "temporarily_unavailable"}, r.JSON(t))
		assert.Equal(t, "no-cache", r.Header.Get("Pragma"))
	}
	assert.Equal(t, http.StatusOK, mustTokenCall(t, srv, grant, "svc", "pw").Status)
	r := mustTokenCall(t, srv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, "svc", "pw")
	assert.Equal(t, http.StatusInternalServerError, r.Status, "the refresh fault was left for a refresh call")

	srv.FailClientCredentials(1, http.StatusUnauthorized)
	r = mustTokenCall(t, srv, grant, "svc", "pw")
	assert.Equal(t, http.StatusUnauthorized, r.Status)
	assert.Equal(t, "invalid_client", r.JSON(t)["error"])
	assert.Equal(t, `Basic realm="authtest"`, r.Header.Get("WWW-Authenticate"))

	srv.FailClientCredentials(3, http.StatusInternalServerError)
	srv.FailClientCredentials(0, 0)
	assert.Equal(t, http.StatusOK, mustTokenCall(t, srv, grant, "svc", "pw").Status, "FailClientCredentials(0, _) cancels")

	cfg := &clientcredentials.Config{ClientID: "svc", ClientSecret: "pw", TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}
	srv.DropClientCredentials(1)
	_, err := cfg.Token(clientContext(srv))
	require.Error(t, err, "the connection was closed without an answer")
	var re *oauth2.RetrieveError
	assert.NotErrorAs(t, err, &re)
	_, err = cfg.Token(clientContext(srv))
	require.NoError(t, err)

	assert.EqualValues(t, 7, srv.ClientCredentialsCalls())
	assert.EqualValues(t, 3, srv.Logins())
	assert.EqualValues(t, 1, srv.RefreshCalls())
}

func TestClientCredentialsDelay(t *testing.T) {
	srv := newServer(t, authtest.Options{Clients: map[string]string{"svc": "pw"}})
	cfg := &clientcredentials.Config{ClientID: "svc", ClientSecret: "pw", TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader}
	const delay = 40 * time.Millisecond
	srv.SetClientCredentialsDelay(delay)

	start := time.Now()
	_, err := cfg.Token(clientContext(srv))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), delay)

	// A caller that gives up ends the server's sleep too.
	srv.SetClientCredentialsDelay(time.Hour)
	ctx, cancel := context.WithTimeout(clientContext(srv), 10*time.Millisecond)
	defer cancel()
	_, err = cfg.Token(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	srv.SetClientCredentialsDelay(0)
	start = time.Now()
	_, err = cfg.Token(clientContext(srv))
	require.NoError(t, err)
	assert.Less(t, time.Since(start), time.Second)
	assert.EqualValues(t, 3, srv.ClientCredentialsCalls())
}

func TestConcurrentClientCredentialsGrants(t *testing.T) {
	clients := map[string]string{"a": "1", "b": "2", "c": "3"}
	srv := newServer(t, authtest.Options{Clients: clients})
	ids := []string{"a", "b", "c"}
	styles := []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams}

	const n = 300
	var wg sync.WaitGroup
	toks := make([]*oauth2.Token, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := ids[i%len(ids)]
			secret := clients[id]
			if i%5 == 0 {
				secret = "wrong"
			}
			cfg := &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: srv.TokenURL(), AuthStyle: styles[i%len(styles)]}
			tok, err := cfg.Token(clientContext(srv))
			if i%5 == 0 {
				var re *oauth2.RetrieveError
				if assert.ErrorAs(t, err, &re) {
					assert.Equal(t, "invalid_client", re.ErrorCode)
				}
				return
			}
			if assert.NoError(t, err) {
				toks[i] = tok
			}
		}()
	}
	wg.Wait()

	seen := make(map[string]bool)
	for i, tok := range toks {
		if i%5 == 0 {
			continue
		}
		require.NotNil(t, tok, "grant %d", i)
		assert.False(t, seen[tok.AccessToken], "grant %d: a token issued twice", i)
		seen[tok.AccessToken] = true
		r := api(t, srv, "/api/x", tok.AccessToken)
		require.Equal(t, http.StatusOK, r.Status)
		assert.Equal(t, ids[i%len(ids)], r.JSON(t)["user"])
	}
	assert.EqualValues(t, n, srv.ClientCredentialsCalls())
	assert.EqualValues(t, n-n/5, srv.Logins())
}
