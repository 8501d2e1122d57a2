package authtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/axiosgo/axios/auth/authtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is an injectable clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newServer(t *testing.T, opts authtest.Options) *authtest.Server {
	t.Helper()
	srv := authtest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

// result is an HTTP exchange's outcome, read in full.
type result struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r result) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// send makes a request through the server's client; headers alternate
// name, value.
func send(t *testing.T, srv *authtest.Server, method, path string, body io.Reader, headers ...string) (result, error) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	return result{resp.StatusCode, resp.Header, b}, nil
}

func mustSend(t *testing.T, srv *authtest.Server, method, path string, body io.Reader, headers ...string) result {
	t.Helper()
	r, err := send(t, srv, method, path, body, headers...)
	require.NoError(t, err)
	return r
}

func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return bytes.NewReader(b)
}

func api(t *testing.T, srv *authtest.Server, path, accessToken string) result {
	t.Helper()
	return mustSend(t, srv, http.MethodGet, path, nil, "Authorization", "Bearer "+accessToken)
}

func login(t *testing.T, srv *authtest.Server, user, password string) result {
	t.Helper()
	return mustSend(t, srv, http.MethodPost, "/login",
		jsonBody(t, map[string]string{"username": user, "password": password}),
		"Content-Type", "application/json")
}

// tokens is the part of a token response the tests look at, whichever of
// the three refresh endpoints answered it.
type tokens struct {
	Access, Refresh string
	ExpiresIn       float64
}

// refresher calls one of the server's refresh endpoints.
type refresher struct {
	name string
	call func(t *testing.T, srv *authtest.Server, refresh string) (result, error)
	// parse extracts the tokens from a 200 answer.
	parse func(t *testing.T, r result) tokens
}

func parseTokenResponse(t *testing.T, r result) tokens {
	t.Helper()
	m := r.JSON(t)
	require.Equal(t, "Bearer", m["token_type"])
	return tokens{m["access_token"].(string), m["refresh_token"].(string), m["expires_in"].(float64)}
}

var refreshers = []refresher{
	{
		name: "json /refresh",
		call: func(t *testing.T, srv *authtest.Server, refresh string) (result, error) {
			return send(t, srv, http.MethodPost, "/refresh",
				jsonBody(t, map[string]string{"refresh_token": refresh}), "Content-Type", "application/json")
		},
		parse: parseTokenResponse,
	},
	{
		name: "bearer /auth/refresh",
		call: func(t *testing.T, srv *authtest.Server, refresh string) (result, error) {
			return send(t, srv, http.MethodPost, "/auth/refresh", nil, "Authorization", "Bearer "+refresh)
		},
		parse: func(t *testing.T, r result) tokens {
			t.Helper()
			m := r.JSON(t)
			require.Equal(t, "OK", m["resultCode"])
			d := m["data"].(map[string]any)
			return tokens{d["accessToken"].(string), d["refreshToken"].(string), d["expiresIn"].(float64)}
		},
	},
	{
		name: "oauth /oauth/token",
		call: func(t *testing.T, srv *authtest.Server, refresh string) (result, error) {
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}
			return send(t, srv, http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()),
				"Content-Type", "application/x-www-form-urlencoded")
		},
		parse: parseTokenResponse,
	},
}

// requireNoToken fails if any of the tokens appears in body.
func requireNoToken(t *testing.T, body []byte, toks ...string) {
	t.Helper()
	for _, tok := range toks {
		if tok != "" {
			require.NotContains(t, string(body), tok, "a token leaked into a response body")
		}
	}
}
