package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth/authtest"
)

func TestOAuth2RefresherUsesTheRefreshTokenGrant(t *testing.T) {
	srv := newServer(t, authtest.Options{Rotate: true, ClientID: "app", ClientSecret: "s3cret"})
	c := newClient(t, srv)
	cfg := &oauth2.Config{
		ClientID:     "app",
		ClientSecret: "s3cret",
		Endpoint:     oauth2.Endpoint{TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader},
	}
	refresh := OAuth2(cfg)
	var hadDeadline atomic.Bool
	a := newAuth(t, Options{Refresh: func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		_, ok := ctx.Deadline()
		hadDeadline.Store(ok)
		return refresh(context.WithValue(ctx, oauth2.HTTPClient, srv.Client()), cur)
	}})
	first := srv.Issue("demo")
	login(t, a, c, first)
	srv.Revoke()

	resp, err := c.Get(context.Background(), "/api/me")
	require.NoError(t, err)
	var echo struct{ User string }
	require.NoError(t, resp.JSON(&echo))
	assert.Equal(t, "demo", echo.User)
	assert.EqualValues(t, 1, srv.Refreshes())
	assert.True(t, hadDeadline.Load(), "the refresh context carries RefreshTimeout")

	tok, err := a.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, first.RefreshToken, tok.RefreshToken, "the rotated refresh token is kept")
	assert.False(t, tok.Expiry.IsZero(), "x/oauth2 sets Expiry from expires_in")

	// A refused grant fails the refresh with x/oauth2's error.
	srv.RevokeRefresh()
	srv.Revoke()
	_, err = c.Get(context.Background(), "/api/me")
	require.ErrorIs(t, err, ErrRefreshFailed)
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid_grant", re.ErrorCode)
}

func TestOAuth2RefresherNeedsARefreshToken(t *testing.T) {
	_, err := OAuth2(&oauth2.Config{})(context.Background(), &oauth2.Token{AccessToken: "a"})
	assert.ErrorIs(t, err, errNoRefreshToken)
}

func TestJSONRefresherSpeaksSeed000(t *testing.T) {
	srv := newServer(t, authtest.Options{Rotate: true})
	c := newClient(t, srv)
	first := srv.Issue("demo")
	tok, err := seed000(c)(context.Background(), first)
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, tok.AccessToken)
	assert.NotEqual(t, first.RefreshToken, tok.RefreshToken)
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.WithinDuration(t, time.Now().Add(authtest.DefaultAccessTTL), tok.Expiry, 5*time.Second)
	assert.EqualValues(t, 1, srv.Refreshes())
}

func TestJSONRefresherSpeaksSeed001(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	c := newClient(t, srv)
	a := newAuth(t, Options{Refresh: seed001(c)})
	login(t, a, c, srv.Issue("demo"))
	srv.Revoke()

	resp, err := c.Get(context.Background(), "/api/envelope")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.Status)
	assert.EqualValues(t, 1, srv.Refreshes(), "the refresh token went as the bearer credential and was accepted")
}

func TestJSONRefresherMarksItsRequestAndKeepsTheRefreshToken(t *testing.T) {
	c, mock := newMockClient()
	var skipped, hadDeadline bool
	var method string
	var body map[string]string
	c.Interceptors.Request.Use(func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
		skipped = cfg.Meta[metaSkip] == true
		_, hadDeadline = ctx.Deadline()
		return cfg, nil
	}, nil)
	mock.RegisterResponder(http.MethodPut, "http://api.test/token", func(r *http.Request) (*http.Response, error) {
		method = r.Method
		_ = json.NewDecoder(r.Body).Decode(&body)
		return httpmock.NewStringResponse(http.StatusOK, `{"access_token":"new","expires_in":"60"}`), nil
	})
	refresh := JSONRefresher(c, JSONEndpoint{
		URL:    "/token",
		Method: http.MethodPut,
		Body:   func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := refresh(ctx, &oauth2.Token{AccessToken: "old", RefreshToken: "keep-me"})
	require.NoError(t, err)
	assert.Equal(t, "new", tok.AccessToken)
	assert.Equal(t, "keep-me", tok.RefreshToken, "a response without refresh_token keeps the current one")
	assert.Equal(t, http.MethodPut, method)
	assert.Equal(t, map[string]string{"refresh_token": "keep-me"}, body)
	assert.True(t, skipped, "the refresh request is marked SkipAuthRefresh")
	assert.True(t, hadDeadline, "it is sent with the refresh's ctx")
}

func TestJSONRefresherErrors(t *testing.T) {
	c, mock := newMockClient()
	mock.RegisterResponder(http.MethodPost, "http://api.test/refused", httpmock.NewStringResponder(http.StatusBadRequest, `{"error":"invalid_grant"}`))
	mock.RegisterResponder(http.MethodPost, "http://api.test/garbage", httpmock.NewStringResponder(http.StatusOK, `<html>`))
	mock.RegisterResponder(http.MethodPost, "http://api.test/empty", httpmock.NewStringResponder(http.StatusOK, `{"resultCode":"OK","data":{}}`))
	cur := &oauth2.Token{AccessToken: "a", RefreshToken: "r"}

	_, err := JSONRefresher(c, JSONEndpoint{URL: "/refused"})(context.Background(), cur)
	ae, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, http.StatusBadRequest, ae.Status())
	assert.EqualError(t, err, "auth: refresh request: axios: Request failed with status code 400")
	assert.ErrorIs(t, err, ErrRefused, "a 400 refuses the refresh token")

	_, err = JSONRefresher(c, JSONEndpoint{URL: "/garbage"})(context.Background(), cur)
	assert.EqualError(t, err, "auth: parse token response: invalid JSON at offset 1")

	_, err = JSONRefresher(c, JSONEndpoint{URL: "/empty", Parse: func([]byte) (*oauth2.Token, error) {
		return &oauth2.Token{}, nil
	}})(context.Background(), cur)
	assert.EqualError(t, err, "auth: refresh response: no access token")
}

// TestRefreshErrorsDoNotEchoTheServersText: a token endpoint may echo the
// refresh token it refuses, in error_description or in a body that is not
// JSON, and x/oauth2's RetrieveError puts either in its text. The error a
// request fails with names the status and the error code only.
func TestRefreshErrorsDoNotEchoTheServersText(t *testing.T) {
	const (
		access  = "at-SECRET-0123456789"
		refresh = "rt-SECRET-9876543210"
	)
	answers := map[string]struct {
		status      int
		contentType string
		body        string
	}{
		"error_description": {http.StatusBadRequest, "application/json",
			`{"error":"invalid_grant","error_description":"refresh token ` + refresh + ` expired","error_uri":"https://x.test/?t=` + refresh + `"}`},
		"form error_description": {http.StatusBadRequest, "application/x-www-form-urlencoded",
			"error=invalid_grant&error_description=" + url.QueryEscape("refresh token "+refresh+" expired")},
		"HTML body":   {http.StatusBadRequest, "text/html", "<p>bad refresh token " + refresh + "</p>"},
		"body on 200": {http.StatusOK, "application/json", "not a token response: " + refresh},
	}
	refreshers := map[string]func(srv *httptest.Server, c *axios.Client) Refresher{
		"OAuth2": func(srv *httptest.Server, _ *axios.Client) Refresher {
			r := OAuth2(&oauth2.Config{ClientID: "app", Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token"}})
			return func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
				return r(context.WithValue(ctx, oauth2.HTTPClient, srv.Client()), t)
			}
		},
		"JSONRefresher": func(_ *httptest.Server, c *axios.Client) Refresher {
			return JSONRefresher(c, JSONEndpoint{
				URL:  "/token",
				Body: func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
			})
		},
	}
	for aname, answer := range answers {
		for rname, mk := range refreshers {
			t.Run(aname+"/"+rname, func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/token" {
						w.WriteHeader(http.StatusUnauthorized)
						return
					}
					w.Header().Set("Content-Type", answer.contentType)
					w.WriteHeader(answer.status)
					_, _ = io.WriteString(w, answer.body)
				}))
				t.Cleanup(srv.Close)
				c := axios.Create(axios.Config{BaseURL: srv.URL})
				c.Resty().SetTransport(srv.Client().Transport)
				a := newAuth(t, Options{Refresh: mk(srv, c)})
				login(t, a, c, &oauth2.Token{AccessToken: access, RefreshToken: refresh, TokenType: "Bearer"})

				_, err := c.Get(context.Background(), "/api/x")
				require.ErrorIs(t, err, ErrRefreshFailed)
				for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err.Error())} {
					assert.NotContains(t, text, "SECRET", "the error echoes the server's text")
				}
				var re *oauth2.RetrieveError
				if rname == "OAuth2" && answer.status != http.StatusOK {
					require.ErrorAs(t, err, &re, "x/oauth2's error stays reachable")
					assert.Contains(t, err.Error(), fmt.Sprintf("auth: oauth2 refresh: status %d, error %q", answer.status, re.ErrorCode))
				}
			})
		}
	}
}
