package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/auth/authtest"
)

// TestTransportSharesTheRefreshWithTheAxiosClient: 100 requests split over
// an axios client and an http.Client whose Transport is the pair, after
// every token was revoked: 1 refresh, 100 successes.
func TestTransportSharesTheRefreshWithTheAxiosClient(t *testing.T) {
	const n = 100
	ctx := context.Background()
	srv := newServer(t, authtest.Options{Rotate: true})
	c := newClient(t, srv)
	a := newAuth(t, Options{Refresh: seed000(c)})
	login(t, a, c, srv.Issue("demo"))
	hc := &http.Client{Transport: a.Transport(srv.Client().Transport)}
	srv.Revoke()

	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, err := c.Get(ctx, "/api/x")
				errs <- err
				return
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/y", nil)
			if err != nil {
				errs <- err
				return
			}
			resp, err := hc.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = assert.AnError
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		if assert.NoError(t, err) {
			ok++
		}
	}
	assert.Equal(t, n, ok)
	assert.EqualValues(t, 1, srv.Refreshes(), "one refresh for both kinds of client")
	assert.EqualValues(t, 0, srv.InvalidGrants())
}

// TestTransportReplaysABodyOnlyWhenItCan: a refused POST whose body has
// GetBody is sent again with the same bytes; one whose body cannot be
// replayed gets the refusal back as it is, never an empty resend.
func TestTransportReplaysABodyOnlyWhenItCan(t *testing.T) {
	mock := httpmock.NewMockTransport()
	var bodies []string
	var mu sync.Mutex
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Header.Get("Authorization")+" "+string(b))
		mu.Unlock()
		if bearerOf(r) == "t2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, "no"), nil
	})
	var calls atomic.Int64
	a := newAuth(t, Options{Refresh: counted(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("t2", time.Time{}), nil
	}, &calls)})
	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", time.Time{})))
	hc := &http.Client{Transport: a.Transport(mock)}

	req, err := http.NewRequest(http.MethodPost, "http://api.test/x", bytes.NewReader([]byte("payload")))
	require.NoError(t, err)
	require.NotNil(t, req.GetBody)
	resp, err := hc.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, []string{"Bearer t1 payload", "Bearer t2 payload"}, bodies)
	assert.Empty(t, req.Header.Get("Authorization"), "the caller's request is not modified")

	// A body with no GetBody: after the refresh a resend would be empty.
	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", time.Time{})))
	bodies = nil
	req, err = http.NewRequest(http.MethodPost, "http://api.test/x", io.NopCloser(strings.NewReader("once")))
	require.NoError(t, err)
	req.GetBody = nil
	resp, err = hc.Do(req)
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the refusal as it is")
	assert.Equal(t, "no", string(got))
	assert.Equal(t, []string{"Bearer t1 once"}, bodies, "sent once, never empty")
}

// TestTransportFailedRefreshIsAnError: the waiting RoundTrip fails with
// ErrRefreshFailed and the cause; the refused response is closed.
func TestTransportFailedRefreshIsAnError(t *testing.T) {
	mock := httpmock.NewMockTransport()
	mock.RegisterNoResponder(httpmock.NewStringResponder(http.StatusUnauthorized, ""))
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return nil, ErrRefused
	}})
	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", time.Time{})))
	hc := &http.Client{Transport: a.Transport(mock)}
	_, err := hc.Get("http://api.test/x")
	require.ErrorIs(t, err, ErrRefreshFailed)
	require.ErrorIs(t, err, ErrRefused)
}

// TestTransportWithAnOAuth2StyleGeneratedClient: code that builds its
// requests itself and only takes an *http.Client (as generated OpenAPI
// clients do) gets the token and the refresh.
func TestTransportWithAnOAuth2StyleGeneratedClient(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	c := newClient(t, srv)
	a := newAuth(t, Options{Refresh: seed000(c)})
	login(t, a, c, srv.Issue("demo"))
	srv.Revoke()
	api := generatedClient{base: srv.URL, hc: &http.Client{Transport: a.Transport(srv.Client().Transport)}}
	user, err := api.Echo(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "demo", user)
	assert.EqualValues(t, 1, srv.Refreshes())
}

// generatedClient is the shape of an OpenAPI-generated client.
type generatedClient struct {
	base string
	hc   *http.Client
}

func (g generatedClient) Echo(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/api/echo", nil)
	if err != nil {
		return "", err
	}
	resp, err := g.hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		User string `json:"user"`
	}
	return out.User, json.NewDecoder(resp.Body).Decode(&out)
}
