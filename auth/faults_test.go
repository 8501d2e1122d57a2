package auth

// Behaviour under concurrency and faults found missing by a review pass:
// each test names what the contract (shared/DESIGN.md, docs/auth.md)
// promises.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
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

// TestOwnRefreshIsNotBlockedByItsOwnPendingSave: a refreshed token whose
// save keeps failing (a full disk under a File store) is saved again in the
// background, holding the store's lock "until it lands or a newer token
// replaces it". The newer token can only come from this process's next
// refresh, and that refresh waits for the very lock the background save
// holds: it fails at RefreshTimeout, and every request after the token's
// expiry with it, though the process holds a good refresh token in memory.
func TestOwnRefreshIsNotBlockedByItsOwnPendingSave(t *testing.T) {
	ctx := context.Background()
	store := &saveFailingLockingStore{lockingStore: newLockingStore()}
	var calls atomic.Int64
	a := newAuth(t, Options{Store: store, RefreshBefore: -1, RefreshTimeout: 300 * time.Millisecond,
		Refresh: func(_ context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
			n := calls.Add(1)
			return tokenWith([]string{"", "t2", "t3"}[n], time.Time{}), nil
		}})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	t.Cleanup(func() {
		store.failSaves.Store(0) // the disk has room again: the background save lands
		eventually(t, func() bool { return !store.held.Load() }, "the background save to release the lock")
	})

	store.failSaves.Store(1 << 30) // every save fails from now on
	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, "t2", tok.AccessToken)

	// t2 is refused in its turn: this process must be able to refresh it.
	tok, err = a.Refresh(ctx)
	require.NoError(t, err, "the refresh waited for the lock its own background save holds")
	assert.Equal(t, "t3", tok.AccessToken)
	assert.EqualValues(t, 2, calls.Load())
}

// TestATakenOverSaveResumesWhenTheRefreshFails: the refresh that took the
// lock over from a background save fails transiently, so the unsaved token
// stays current; its save goes on in the background and lands once the
// store works again.
func TestATakenOverSaveResumesWhenTheRefreshFails(t *testing.T) {
	ctx := context.Background()
	store := &saveFailingLockingStore{lockingStore: newLockingStore()}
	var calls atomic.Int64
	a := newAuth(t, Options{Store: store, RefreshBefore: -1, RefreshTimeout: time.Second,
		Refresh: func(_ context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
			if calls.Add(1) == 2 {
				return nil, errors.New("token endpoint down")
			}
			return tokenWith("t2", time.Time{}), nil
		}})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	store.failSaves.Store(1 << 30)
	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, "t2", tok.AccessToken)

	_, err = a.Refresh(ctx)
	require.ErrorIs(t, err, ErrRefreshFailed)
	cur, err := a.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "t2", cur.AccessToken, "a transient failure keeps the token")

	store.failSaves.Store(0)
	eventually(t, func() bool {
		stored, err := store.Memory.Load(ctx)
		return err == nil && stored.AccessToken == "t2" && !store.held.Load()
	}, "t2 saved in the background, and the lock released")
}

// TestAfterARefusedRefreshTheNextRequestLogsIn: docs/auth.md, on a refused
// refresh: "the store is cleared, the cached token dropped ... Later
// requests go without a token (or, with Login, log in again)". The refusal
// starts the transient-failure backoff all the same, so for the next second
// (up to 4s) every request of a service with Refresh and Login fails at once
// with the stale refusal instead of logging in.
func TestAfterARefusedRefreshTheNextRequestLogsIn(t *testing.T) {
	ctx := context.Background()
	useFakeClock(t) // the clock stands still: the backoff, if any, lasts
	c, mock := newMockClient()
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Authorization") == "Bearer fresh" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	var logins atomic.Int64
	a := newAuth(t, Options{
		Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
			return nil, errors.Join(errors.New("refresh token expired"), ErrRefused)
		},
		Login: func(context.Context) (*oauth2.Token, error) {
			logins.Add(1)
			return &oauth2.Token{AccessToken: "fresh", TokenType: "Bearer"}, nil
		},
	})
	login(t, a, c, tokenWith("old", time.Time{}))

	_, err := c.Get(ctx, "/x")
	require.ErrorIs(t, err, ErrRefused, "the refresh token was refused: logged out")
	_, err = a.Token(ctx)
	require.ErrorIs(t, err, errNoToken)

	_, err = c.Get(ctx, "/x")
	require.NoError(t, err, "with Login, the next request logs in again")
	assert.EqualValues(t, 1, logins.Load())
}

// TestTokenIsNotSentWhereAnAbsoluteURLIsJoinedToAnotherBaseURL: with
// AllowAbsoluteURLs false (axios's allowAbsoluteUrls, the hardening against
// CVE-2025-27152), the core joins an absolute URL to BaseURL, so the request
// goes to BaseURL's origin. The pair judges the absolute URL's origin
// instead: a request whose own BaseURL is a third party and whose URL names
// the API carries the token to the third party.
func TestTokenIsNotSentWhereAnAbsoluteURLIsJoinedToAnotherBaseURL(t *testing.T) {
	ctx := context.Background()
	c, mock := newMockClient() // BaseURL http://api.test: the token's only origin
	var seen []string
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.URL.Host+"="+r.Header.Get("Authorization"))
		return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
	})
	a := newAuth(t, Options{Refresh: nopRefresh})
	login(t, a, c, tokenWith("t1", time.Time{}))

	no := false
	_, err := c.Get(ctx, "http://api.test/x", axios.Config{BaseURL: "http://third.test", AllowAbsoluteURLs: &no})
	require.NoError(t, err)
	require.Len(t, seen, 1)
	assert.Equal(t, "third.test=", seen[0], "the request went to third.test: it must not carry the token")
}

// TestOnRefreshMaySetTheTokenWhileAnotherRefreshRuns: OnRefresh "may call
// SetToken or Logout" with its ctx, since it runs after the refresh's turn
// ended. Its ctx is still marked as the refresh's own, so when another turn
// has started meanwhile SetToken fails at once with errOwnRefresh ("it would
// wait for itself") instead of waiting for that turn, which does not depend
// on the hook at all.
func TestOnRefreshMaySetTheTokenWhileAnotherRefreshRuns(t *testing.T) {
	ctx := context.Background()
	var calls, hooks atomic.Int64
	secondIn, secondGo := make(chan struct{}), make(chan struct{})
	inHook, hookGo := make(chan struct{}), make(chan struct{})
	hookErr := make(chan error, 1)
	var a *Authenticator
	a = newAuth(t, Options{
		RefreshBefore: -1,
		Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
			if calls.Add(1) == 2 {
				close(secondIn)
				<-secondGo
				return tokenWith("t3", time.Time{}), nil
			}
			return tokenWith("t2", time.Time{}), nil
		},
		OnRefresh: func(hctx context.Context, _ *oauth2.Token) {
			if hooks.Add(1) != 1 {
				return
			}
			close(inHook)
			<-hookGo
			hookErr <- a.SetToken(hctx, tokenWith("from-hook", time.Time{}))
		},
	})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))

	first := make(chan error, 1)
	go func() { _, err := a.Refresh(ctx); first <- err }()
	<-inHook // the first turn has ended; its hook runs
	second := make(chan error, 1)
	go func() { _, err := a.Refresh(ctx); second <- err }()
	<-secondIn // a second turn is under way
	close(hookGo)

	// Either SetToken returns at once, or it waits for the second turn, as
	// it should: then three wait (the first Refresh for its hook, the second
	// for its turn, SetToken for the turn after it).
	var err error
	var returned bool
	eventually(t, func() bool {
		select {
		case err = <-hookErr:
			returned = true
			return true
		default:
			return a.Stats().Waiting == 3
		}
	}, "SetToken to return or to wait for the second turn")
	close(secondGo)
	if !returned {
		err = <-hookErr
	}
	require.NoError(t, <-second)
	require.NoError(t, <-first)
	assert.NoError(t, err, "SetToken from OnRefresh waits for the other turn, as from any goroutine")
}

// TestARefreshedJWTWithAnExpInMillisecondsIsSaved: a token server that puts
// milliseconds in a JWT's exp (a common slip: Date.now() in JavaScript) makes
// ParseTokenResponse read an Expiry some 50,000 years away, which the
// module's own File and Redis stores cannot encode (JSON times stop at year
// 9999). Every save of the refreshed token fails, and keepSaving retries it
// for ever, holding the store's lock: no process sharing the store, this one
// included, can refresh again. A nonsensical exp must not become an Expiry
// the stores refuse.
func TestARefreshedJWTWithAnExpInMillisecondsIsSaved(t *testing.T) {
	ctx := context.Background()
	clock := useFakeClock(t)
	expMillis := clock.Now().Add(time.Hour).UnixMilli()
	at := rawJWT(`{"alg":"HS256","typ":"JWT"}`, `{"sub":"demo","exp":`+strconv.FormatInt(expMillis, 10)+`}`, "c2ln")
	store := storage.NewFile(filepath.Join(t.TempDir(), "token.json"))
	a := newAuth(t, Options{Store: store, Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return ParseTokenResponse([]byte(`{"access_token":"` + at + `","refresh_token":"r2"}`))
	}})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	t.Cleanup(func() { _ = a.Logout(ctx) }) // stops the background save, if any

	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, at, tok.AccessToken)
	assert.Zero(t, a.Stats().SaveFails, "the refreshed token could not be saved")
	stored, err := store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "r2", stored.RefreshToken, "the rotated refresh token is in the store")
}

// TestRefusedRequestWhoseBodyCannotBeResentKeepsItsRefusal: a POST of a
// one-shot reader longer than the 1 MiB the core keeps is refused with 401;
// the token is refreshed, but the body cannot be sent again. The error says
// so (ERR_BAD_OPTION_VALUE, as for any resend) and carries the refused
// response, so the caller also learns what the server said.
func TestRefusedRequestWhoseBodyCannotBeResentKeepsItsRefusal(t *testing.T) {
	ctx := context.Background()
	c, mock := newMockClient()
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		return httpmock.NewStringResponse(http.StatusUnauthorized, "expired"), nil
	})
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("t2", time.Time{}), nil
	}})
	login(t, a, c, tokenWith("t1", time.Time{}))
	body := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), 2<<20))) // one-shot, 2 MiB

	_, err := c.Post(ctx, "/upload", body)
	axErr, ok := axios.AsError(err)
	require.True(t, ok, "%v", err)
	assert.ErrorIs(t, err, axios.ErrNotReplayable)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
	assert.Contains(t, axErr.Message, "could not be read again")
	assert.Equal(t, http.StatusUnauthorized, axErr.Status())
	assert.Equal(t, "expired", string(axErr.Response.Data))
	assert.Equal(t, 1, mock.GetTotalCallCount(), "nothing was resent")
	tok, err := a.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "t2", tok.AccessToken, "the refresh happened; the next request carries t2")
}
