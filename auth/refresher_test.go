package auth

import (
	"context"
	"encoding/json"
	"net/http"
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

	_, err = JSONRefresher(c, JSONEndpoint{URL: "/garbage"})(context.Background(), cur)
	assert.EqualError(t, err, "auth: parse token response: invalid JSON at offset 1")

	_, err = JSONRefresher(c, JSONEndpoint{URL: "/empty", Parse: func([]byte) (*oauth2.Token, error) {
		return &oauth2.Token{}, nil
	}})(context.Background(), cur)
	assert.EqualError(t, err, "auth: refresh response: no access token")
}
