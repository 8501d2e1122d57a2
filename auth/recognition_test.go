package auth

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/storage"
)

// The tests of how the Authenticator knows which token a request carried:
// by its header, among the last tokens it set, and by a mark in Meta only
// where a header repeats.

// A ported interceptor (seed 002) copies the stored token into the header
// before the Authenticator's first use. The header is ours, whoever set it:
// the store is loaded first, so it is recognized, and its 401 refreshed.
func TestAHeaderCopiedFromTheStoreBeforeFirstUseIsOurs(t *testing.T) {
	ctx := context.Background()
	store := storage.NewMemory()
	require.NoError(t, store.Save(ctx, tokenWith("t1", time.Time{})))
	c, mock := newMockClient()
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if bearerOf(r) == "t2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	var calls atomic.Int64
	a := newAuth(t, Options{Store: store, Refresh: counted(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("t2", time.Time{}), nil
	}, &calls)})
	a.Install(c)
	// Registered after Install, so it runs before AttachHeader, as a
	// ported interceptor added later does.
	c.Interceptors.Request.Use(func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
		if tok, err := store.Load(ctx); err == nil {
			cfg.Headers.Set("Authorization", "Bearer "+tok.AccessToken)
		}
		return cfg, nil
	}, nil)

	resp, err := c.Get(ctx, "/x")
	require.NoError(t, err, "the stored token's 401 is refreshed and retried")
	assert.Equal(t, "ok", string(resp.Data))
	assert.EqualValues(t, 1, calls.Load())
}

// An interceptor that runs after AttachHeader deletes the header of the
// first attempt. Its late 401, after a refresh that happened while it was on
// the wire, is retried with the current token at no second refresh: an
// attempt without a token counts as sent with an older one.
func TestLate401OfAnAttemptWhoseHeaderWasRemovedCostsNoSecondRefresh(t *testing.T) {
	c, mock := newMockClient()
	arrived := make(chan struct{})
	release := make(chan struct{})
	var sent []string
	var mu sync.Mutex
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		sent = append(sent, bearerOf(r))
		mu.Unlock()
		if bearerOf(r) == "" {
			close(arrived)
			<-release // the refresh to t2 happens while this attempt is on the wire
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		}
		return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
	})
	// Registered before Install: runs after AttachHeader. It strips the
	// header of the first attempt only.
	var a *Authenticator
	c.Interceptors.Request.Use(func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
		if a.retriesOf(ctx) == 0 {
			cfg.Headers.Del("Authorization")
		}
		return cfg, nil
	}, nil)
	var calls atomic.Int64
	var n atomic.Int64
	a = newAuth(t, Options{Refresh: counted(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith(fmt.Sprintf("t%d", n.Add(1)+1), time.Time{}), nil
	}, &calls)})
	login(t, a, c, tokenWith("t1", time.Time{}))

	done := make(chan error)
	go func() {
		_, err := c.Get(context.Background(), "/x")
		done <- err
	}()
	<-arrived
	tok, err := a.Refresh(context.Background())
	require.NoError(t, err)
	require.Equal(t, "t2", tok.AccessToken)
	close(release)

	require.NoError(t, <-done)
	assert.EqualValues(t, 1, calls.Load(), "the late 401 cost no second refresh")
	assert.Equal(t, []string{"", "t2"}, sent)
}

// The Refresher hands back the same access token (a server that does not
// rotate it). A 401 of a request sent before that refresh, arriving after
// it ended, starts no second refresh: it was sent at an older generation,
// though its header is the current one's. Requests sent with the repeated
// token say so in Meta.
func TestLate401AfterARefreshToTheSameTokenCostsNoSecondRefresh(t *testing.T) {
	c, mock := newMockClient()
	arrived := make(chan struct{})
	release := make(chan struct{})
	var first, refuse atomic.Bool
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if first.CompareAndSwap(false, true) {
			close(arrived)
			<-release
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		}
		if refuse.CompareAndSwap(true, false) {
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		}
		return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
	})
	var calls atomic.Int64
	a := newAuth(t, Options{Refresh: counted(func(_ context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("t1", time.Time{}), nil
	}, &calls)})
	login(t, a, c, tokenWith("t1", time.Time{}))

	done := make(chan error)
	go func() {
		_, err := c.Get(context.Background(), "/x")
		done <- err
	}()
	<-arrived
	_, err := a.Refresh(context.Background())
	require.NoError(t, err)
	close(release)

	require.NoError(t, <-done)
	assert.EqualValues(t, 1, calls.Load(), "the late 401 cost no second refresh")

	// A request sent with the repeated token says so: its 401 is a refusal
	// of the current token, and is refreshed.
	refuse.Store(true)
	resp, err := c.Get(context.Background(), "/y")
	require.NoError(t, err)
	assert.EqualValues(t, 2, calls.Load())
	assert.IsType(t, &current{}, resp.Config.Meta[metaSent], "the retry, with a repeated token again, is marked")
}

// The last 64 tokens are tokens: a Logout (or a failed refresh) between
// them takes no place among them.
func TestTheLast64TokensAreCountedAcrossLogouts(t *testing.T) {
	ctx := context.Background()
	c, mock := newMockClient()
	headerEcho(mock, "Authorization")
	a := newAuth(t, Options{Refresh: nopRefresh})
	login(t, a, c, tokenWith("t0", time.Time{}))
	first, err := c.Get(ctx, "/x")
	require.NoError(t, err)
	const cycles = 40
	for i := 1; i <= cycles; i++ {
		require.NoError(t, a.Logout(ctx))
		require.NoError(t, a.SetToken(ctx, tokenWith(fmt.Sprintf("t%d", i), time.Time{})))
	}
	resp, err := c.Request(ctx, *first.Config)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("Bearer t%d", cycles), string(resp.Data), "%d tokens later: still ours", cycles)
}

// A Config re-sent from the Response of a retried request is a new request:
// the retry count rides on the ctx, not on the Config, so its 401 is
// refreshed too.
func TestAConfigResentFromARetriedResponseIsANewRequest(t *testing.T) {
	ctx := context.Background()
	c, mock := newMockClient()
	var good atomic.Value
	good.Store("t2")
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if bearerOf(r) == good.Load().(string) {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	var n atomic.Int64
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith(fmt.Sprintf("t%d", n.Add(1)+1), time.Time{}), nil
	}})
	login(t, a, c, tokenWith("t1", time.Time{}))
	resp, err := c.Get(ctx, "/x")
	require.NoError(t, err)
	require.EqualValues(t, 1, a.Stats().Refreshes)

	good.Store("t3") // the server revokes t2
	resp, err = c.Request(ctx, *resp.Config)
	require.NoError(t, err, "a new request's 401 is refreshed")
	assert.Equal(t, "ok", string(resp.Data))
}
