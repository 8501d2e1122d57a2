package auth

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/storage"
)

// unsignedJWT is a JWT with the given claims and a signature nobody checks.
func unsignedJWT(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("not the server's key"))
	require.NoError(t, err)
	return s
}

func TestParseTokenResponse(t *testing.T) {
	clock := useFakeClock(t)
	now := clock.Now()
	expJWT := unsignedJWT(t, jwt.MapClaims{"sub": "demo", "exp": now.Add(90 * time.Second).Unix()})
	noExpJWT := unsignedJWT(t, jwt.MapClaims{"sub": "demo"})

	ok := []struct {
		name, body string
		want       oauth2.Token
	}{
		{"standard", `{"access_token":"a","token_type":"Bearer","refresh_token":"r","expires_in":3600}`,
			oauth2.Token{AccessToken: "a", TokenType: "Bearer", RefreshToken: "r", ExpiresIn: 3600, Expiry: now.Add(time.Hour)}},
		{"token_type defaults to Bearer", `{"access_token":"a"}`,
			oauth2.Token{AccessToken: "a", TokenType: "Bearer"}},
		{"other token_type kept", `{"access_token":"a","token_type":"MAC"}`,
			oauth2.Token{AccessToken: "a", TokenType: "MAC"}},
		{"expires_in as a string", `{"access_token":"a","expires_in":"60"}`,
			oauth2.Token{AccessToken: "a", TokenType: "Bearer", ExpiresIn: 60, Expiry: now.Add(time.Minute)}},
		{"expires_in as a decimal", `{"access_token":"a","expires_in":60.0}`,
			oauth2.Token{AccessToken: "a", TokenType: "Bearer", ExpiresIn: 60, Expiry: now.Add(time.Minute)}},
		{"expires_in null: no expiry", `{"access_token":"a","expires_in":null}`,
			oauth2.Token{AccessToken: "a", TokenType: "Bearer"}},
		{"exp read from a JWT", `{"access_token":"` + expJWT + `"}`,
			oauth2.Token{AccessToken: expJWT, TokenType: "Bearer", Expiry: now.Add(90 * time.Second)}},
		{"expires_in wins over exp", `{"access_token":"` + expJWT + `","expires_in":10}`,
			oauth2.Token{AccessToken: expJWT, TokenType: "Bearer", ExpiresIn: 10, Expiry: now.Add(10 * time.Second)}},
		{"JWT without exp", `{"access_token":"` + noExpJWT + `"}`,
			oauth2.Token{AccessToken: noExpJWT, TokenType: "Bearer"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ParseTokenResponse([]byte(tc.body))
			require.NoError(t, err)
			assert.Equal(t, tc.want.AccessToken, tok.AccessToken)
			assert.Equal(t, tc.want.TokenType, tok.TokenType)
			assert.Equal(t, tc.want.RefreshToken, tok.RefreshToken)
			assert.Equal(t, tc.want.ExpiresIn, tok.ExpiresIn)
			assert.True(t, tc.want.Expiry.Equal(tok.Expiry), "expiry %v, want %v", tok.Expiry, tc.want.Expiry)
		})
	}

	tok, err := ParseTokenResponse([]byte(`{"access_token":"a","id_token":"i","scope":"x y"}`))
	require.NoError(t, err)
	assert.Equal(t, "i", tok.Extra("id_token"), "unknown fields are kept as extras")

	bad := []struct{ name, body, want string }{
		{"empty", ``, "auth: parse token response: invalid JSON at offset 0"},
		{"HTML", `<html>secret-token</html>`, "auth: parse token response: invalid JSON at offset 1"},
		{"array", `["secret-token"]`, "auth: parse token response: want a JSON object, got array"},
		{"no access_token", `{"refresh_token":"secret-token"}`, "auth: parse token response: no access_token"},
		{"access_token not a string", `{"access_token":12345}`, "auth: parse token response: field access_token: want string, got number"},
		{"expires_in garbage", `{"access_token":"secret-token","expires_in":"soon"}`, "auth: parse token response: expires_in: want a number"},
		{"expires_in an object", `{"access_token":"secret-token","expires_in":{}}`, "auth: parse token response: expires_in: want a number"},
		{"expires_in negative", `{"access_token":"secret-token","expires_in":-1}`, "auth: parse token response: expires_in: negative"},
		{"expires_in huge", `{"access_token":"secret-token","expires_in":1e300}`, "auth: parse token response: expires_in: out of range"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTokenResponse([]byte(tc.body))
			require.EqualError(t, err, tc.want)
			assert.NotContains(t, err.Error(), "secret-token")
		})
	}
}

func FuzzParseTokenResponse(f *testing.F) {
	for _, seed := range []string{
		`{"access_token":"a","token_type":"Bearer","refresh_token":"r","expires_in":3600}`,
		`{"access_token":"a","expires_in":"60"}`,
		`{"access_token":"a","expires_in":1e400}`,
		`{"access_token":"a.b.c"}`,
		`{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJzb29uIn0.x"}`,
		`{"access_token":"eyJhbGciOiJub25lIn0.eyJleHAiOjF9."}`,
		`{"access_token":"a","expires_in":"NaN"}`,
		`{"access_token":"a","expires_in":"-Inf"}`,
		`{"access_token":"","expires_in":1}`,
		`[]`, `null`, `"x"`, ``, `{`, `{"access_token":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := ParseTokenResponse(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "auth: parse token response: ") {
				t.Fatalf("error without the prefix: %q", err)
			}
			if len(body) > 8 && strings.Contains(err.Error(), string(body)) {
				t.Fatalf("error echoes the body: %q", err)
			}
			return
		}
		if tok.AccessToken == "" || tok.TokenType == "" {
			t.Fatalf("token without access token or type: %+v", tok)
		}
	})
}

func TestTokenSourceRefreshesAnExpiredToken(t *testing.T) {
	clock := useFakeClock(t)
	var calls atomic.Int64
	a := newAuth(t, Options{RefreshBefore: -1, Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		calls.Add(1)
		return tokenWith("t2", timeNow().Add(time.Hour)), nil
	}})
	ts := TokenSource(a)
	_, err := ts.Token()
	assert.ErrorContains(t, err, "storage: no token", "no token before login")

	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", clock.Now().Add(time.Minute))))
	tok, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, "t1", tok.AccessToken)

	clock.Advance(61 * time.Second)
	tok, err = ts.Token()
	require.NoError(t, err)
	assert.Equal(t, "t2", tok.AccessToken, "expired: refreshed even with RefreshBefore < 0")
	assert.EqualValues(t, 1, calls.Load())

	// x/oauth2 uses it as any TokenSource.
	mock := httpmock.NewMockTransport()
	mock.RegisterResponder(http.MethodGet, "http://api.test/x", func(r *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(http.StatusOK, bearerOf(r)), nil
	})
	hc := &http.Client{Transport: &oauth2.Transport{Source: ts, Base: mock}}
	resp, err := hc.Get("http://api.test/x")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "t2", string(body))
}

func TestTokenSourceRefreshesInsideRefreshBefore(t *testing.T) {
	clock := useFakeClock(t)
	var calls atomic.Int64
	a := newAuth(t, Options{RefreshBefore: 10 * time.Second, Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		calls.Add(1)
		return tokenWith("t2", timeNow().Add(time.Hour)), nil
	}})
	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", clock.Now().Add(time.Minute))))
	clock.Advance(45 * time.Second)
	tok, err := TokenSource(a).Token()
	require.NoError(t, err)
	assert.Equal(t, "t1", tok.AccessToken, "15s left, outside the 10s window")
	clock.Advance(6 * time.Second)
	tok, err = TokenSource(a).Token()
	require.NoError(t, err)
	assert.Equal(t, "t2", tok.AccessToken)
	assert.EqualValues(t, 1, calls.Load())
}

func TestShortLivedTokensAreNotRefreshedOnEveryRequest(t *testing.T) {
	// Tokens that live 10s with the default 30s RefreshBefore: the window
	// is capped at half the lifetime, 5s.
	clock := useFakeClock(t)
	var calls atomic.Int64
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		calls.Add(1)
		return tokenWith("next", timeNow().Add(10*time.Second)), nil
	}})
	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", clock.Now().Add(10*time.Second))))
	ts := TokenSource(a)
	for range 10 {
		_, err := ts.Token()
		require.NoError(t, err)
	}
	assert.EqualValues(t, 0, calls.Load())
	clock.Advance(5 * time.Second)
	_, err := ts.Token()
	require.NoError(t, err)
	assert.EqualValues(t, 1, calls.Load())
}

// TestTokenExpiredOnArrivalIsNotRefreshedPerRequest: a token whose Expiry
// has passed when it arrives (a server clock behind ours, or a JWT exp read
// without expires_in) would be refreshed before every request, each refresh
// bringing another such token. It is sent as it is, and a 401 refreshes it
// if the server refuses it. A token read from the store that has expired
// since is still refreshed before it is sent.
func TestTokenExpiredOnArrivalIsNotRefreshedPerRequest(t *testing.T) {
	ctx := context.Background()
	clock := useFakeClock(t)
	behind := func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("refreshed", timeNow().Add(-time.Minute)), nil
	}
	send := func(c *axios.Client, want string) {
		t.Helper()
		for range 10 {
			resp, err := c.Get(ctx, "/x")
			require.NoError(t, err)
			assert.Equal(t, "Bearer "+want, string(resp.Data))
		}
	}

	var calls atomic.Int64
	c, mock := newMockClient()
	headerEcho(mock, "Authorization")
	a := newAuth(t, Options{Refresh: counted(behind, &calls)})
	login(t, a, c, tokenWith("login", clock.Now().Add(-time.Minute)))
	send(c, "login")
	assert.EqualValues(t, 0, calls.Load(), "SetToken's token")

	_, err := a.Refresh(ctx)
	require.NoError(t, err)
	send(c, "refreshed")
	for range 10 {
		tok, err := TokenSource(a).Token()
		require.NoError(t, err)
		assert.Equal(t, "refreshed", tok.AccessToken)
	}
	assert.EqualValues(t, 1, calls.Load(), "a refresh's token")

	store := storage.NewMemory()
	require.NoError(t, store.Save(ctx, tokenWith("stored", clock.Now().Add(time.Hour))))
	clock.Advance(2 * time.Hour)
	calls.Store(0)
	c, mock = newMockClient()
	headerEcho(mock, "Authorization")
	newAuth(t, Options{Store: store, Refresh: counted(behind, &calls)}).Install(c)
	send(c, "refreshed")
	assert.EqualValues(t, 1, calls.Load(), "the stored token expired since: refreshed once, before it was sent")
}

// TestAdoptedExpiredTokenIsRefreshedBeforeItIsSent: a token adopted from a
// shared store was saved by another process at some time this one does not
// know, and may have expired since, as one loaded at start may. It is
// refreshed before it is sent, rather than spending the retry of the
// request that found it on a certain 401.
func TestAdoptedExpiredTokenIsRefreshedBeforeItIsSent(t *testing.T) {
	ctx := context.Background()
	clock := useFakeClock(t)
	store := newLockingStore()
	var calls atomic.Int64
	c, mock := newMockClient()
	headerEcho(mock, "Authorization")
	a := newAuth(t, Options{Store: store, Refresh: counted(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("fresh", timeNow().Add(time.Hour)), nil
	}, &calls)})
	login(t, a, c, tokenWith("t1", clock.Now().Add(time.Hour)))

	// Another process refreshed long ago; its token has expired since.
	require.NoError(t, store.Memory.Save(ctx, tokenWith("old", clock.Now().Add(-time.Minute))))
	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	assert.Equal(t, "old", tok.AccessToken, "adopted")
	assert.EqualValues(t, 0, calls.Load())

	resp, err := c.Get(ctx, "/x")
	require.NoError(t, err)
	assert.Equal(t, "Bearer fresh", string(resp.Data))
	assert.EqualValues(t, 1, calls.Load())
}
