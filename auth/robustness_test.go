// Tests of the refresh core at its edges: failed saves on a shared store,
// a Logout racing the end of a refresh, a panicking Refresher.

package auth

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// saveFailingLockingStore is a lockingStore (a shared store, as File or
// Redis) whose next failSaves Saves fail, as a disk that is full for a
// moment or a Redis that is briefly down.
type saveFailingLockingStore struct {
	*lockingStore
	failSaves atomic.Int64
}

func (s *saveFailingLockingStore) Save(ctx context.Context, tok *oauth2.Token) error {
	for n := s.failSaves.Load(); n > 0; n = s.failSaves.Load() {
		if s.failSaves.CompareAndSwap(n, n-1) {
			return errors.New("storage: save: device busy")
		}
	}
	return s.lockingStore.Save(ctx, tok)
}

// A refreshed token the shared store failed to save is still used in this
// process. The next refresh reloads the store under its lock and finds the
// token this process refreshed away from (its refresh token spent under
// rotation): not another process's refresh, so it is not adopted, and the
// current token is refreshed.
func TestRefreshAfterASaveFailureDoesNotBringBackTheOldToken(t *testing.T) {
	ctx := context.Background()
	store := &saveFailingLockingStore{lockingStore: newLockingStore()}
	var calls atomic.Int64
	a := newAuth(t, Options{Store: store, RefreshBefore: -1, Refresh: func(_ context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		n := calls.Add(1)
		return tokenWith([]string{"", "t2", "t3"}[n], time.Time{}), nil
	}})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))

	store.failSaves.Store(1)
	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, "t2", tok.AccessToken)
	require.EqualValues(t, 1, a.Stats().SaveFails)

	// t2 is refused in its turn: refresh again.
	tok, err = a.Refresh(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, "t1", tok.AccessToken, "the token refreshed away from (its refresh token spent) came back")
	assert.EqualValues(t, 2, calls.Load(), "t2 should have been refreshed with its own refresh token")
	assert.Zero(t, a.Stats().Adopted, "no other process refreshed: nothing to adopt")
}

// SetToken's copy is used even when the save fails. With a shared store
// that still holds the previous session's token, the first refresh
// refreshes the login's token, and does not adopt the stored one.
func TestSetTokenWhoseSaveFailedIsNotReplacedByTheStoresOldToken(t *testing.T) {
	ctx := context.Background()
	store := &saveFailingLockingStore{lockingStore: newLockingStore()}
	require.NoError(t, store.Memory.Save(ctx, tokenWith("previous-session", time.Time{})))
	var got atomic.Pointer[string]
	a := newAuth(t, Options{Store: store, Refresh: func(_ context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		rt := cur.RefreshToken
		got.Store(&rt)
		return tokenWith("login-2", time.Time{}), nil
	}})
	store.failSaves.Store(1)
	require.Error(t, a.SetToken(ctx, tokenWith("login", time.Time{})), "the save failed; the copy is used")
	cur, err := a.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "login", cur.AccessToken)

	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	assert.Equal(t, "login-2", tok.AccessToken, "the previous session's token was adopted in place of the login's refresh")
	if p := got.Load(); assert.NotNil(t, p, "the Refresher was never called") {
		assert.Equal(t, "r-login", *p)
	}
}

// The refresh releases its turn before OnRefresh, so that the hook may call
// Logout or SetToken, and resumes its waiters after it. A Logout in that
// window must not be undone: the waiters resume with the token as it is
// then, none, not with the refreshed one.
func TestNoRequestCarriesTheRefreshedTokenAfterLogoutReturned(t *testing.T) {
	ctx := context.Background()
	c, mock := newMockClient()
	headerEcho(mock, "Authorization")
	release := make(chan struct{})
	inHook := make(chan struct{})
	hookRelease := make(chan struct{})
	a := newAuth(t, Options{
		Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
			<-release
			return tokenWith("refreshed", time.Time{}), nil
		},
		OnRefresh: func(context.Context, *oauth2.Token) {
			close(inHook)
			<-hookRelease
		},
	})
	login(t, a, c, tokenWith("t1", time.Time{}))

	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		_, _ = a.Refresh(ctx)
	}()
	eventually(t, waiting(a, 1), "the refresh to start")
	sent := make(chan string, 1)
	go func() {
		resp, err := c.Get(ctx, "/x")
		if err != nil {
			sent <- "error: " + err.Error()
			return
		}
		sent <- string(resp.Data)
	}()
	eventually(t, waiting(a, 2), "the request to wait in AttachHeader")
	close(release)
	select {
	case <-inHook:
	case <-time.After(5 * time.Second):
		t.Fatal("OnRefresh never ran")
	}

	logout := make(chan error, 1)
	go func() { logout <- a.Logout(ctx) }()
	loggedOutFirst := false
	select {
	case err := <-logout:
		require.NoError(t, err)
		loggedOutFirst = true
	case <-time.After(300 * time.Millisecond):
	}
	close(hookRelease)
	if !loggedOutFirst {
		select {
		case err := <-logout:
			require.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("Logout never returned")
		}
	}
	var header string
	select {
	case header = <-sent:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting request never resumed")
	}
	<-refreshed
	if loggedOutFirst {
		assert.NotEqual(t, "Bearer refreshed", header, "Logout had returned, yet the request went out with the refreshed token")
	}
}

// The Refresher runs on a goroutine of the Authenticator's, where no caller
// could recover its panic: a panicking Refresher fails the refresh, and
// every waiter, instead of the process.
func TestPanickingRefresherFailsTheRefreshNotTheProcess(t *testing.T) {
	ctx := context.Background()
	var failures atomic.Int64
	a := newAuth(t, Options{
		Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
			panic("refresher bug")
		},
		OnFailure: func(context.Context, error) { failures.Add(1) },
	})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	done := make(chan error, 1)
	go func() {
		_, err := a.Refresh(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrRefreshFailed)
		assert.ErrorContains(t, err, "the Refresher panicked: refresher bug")
	case <-time.After(5 * time.Second):
		t.Fatal("the waiter hangs")
	}
	assert.Zero(t, failures.Load(), "a panic is a transient failure, not a refusal: no logout")
	assert.EqualValues(t, 1, a.Stats().Failures)
	tok, err := a.Token(ctx)
	require.NoError(t, err, "the token is kept")
	assert.Equal(t, "t1", tok.AccessToken)
}

// SetToken's save fails on an empty shared store. The first refresh finds
// the store empty because of that, not because another process logged
// out: it refreshes, and nobody is logged out.
func TestSetTokenWhoseSaveFailedOnAnEmptyStoreIsRefreshedNotLoggedOut(t *testing.T) {
	ctx := context.Background()
	store := &saveFailingLockingStore{lockingStore: newLockingStore()}
	var failures, calls atomic.Int64
	a := newAuth(t, Options{
		Store: store,
		Refresh: counted(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
			return tokenWith("login-2", time.Time{}), nil
		}, &calls),
		OnFailure: func(context.Context, error) { failures.Add(1) },
	})
	store.failSaves.Store(1)
	require.Error(t, a.SetToken(ctx, tokenWith("login", time.Time{})))
	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	assert.Equal(t, "login-2", tok.AccessToken)
	assert.EqualValues(t, 1, calls.Load())
	assert.Zero(t, failures.Load())
	saved, err := store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "login-2", saved.AccessToken, "the refreshed token is saved")
}
