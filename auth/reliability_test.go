package auth

import (
	"context"
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
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/storage"
)

// hangingStore's Load blocks until release is closed (or its ctx ends),
// like a Redis that hangs or a FIFO at a file store's path.
type hangingStore struct {
	*storage.Memory
	release chan struct{}
	loads   atomic.Int64
}

func (s *hangingStore) Load(ctx context.Context) (*oauth2.Token, error) {
	s.loads.Add(1)
	select {
	case <-s.release:
		return s.Memory.Load(ctx)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestFirstUsesShareOneLoadAndHonourTheirCtx: 10 concurrent first requests
// against a store that hangs share one Load and each gives up at its own
// ctx's deadline, together, not one after another; once the store answers,
// the next request uses its token.
func TestFirstUsesShareOneLoadAndHonourTheirCtx(t *testing.T) {
	const n = 10
	store := &hangingStore{Memory: storage.NewMemory(), release: make(chan struct{})}
	require.NoError(t, store.Memory.Save(context.Background(), tokenWith("t1", time.Time{})))
	c, mock := newMockClient()
	headerEcho(mock, "Authorization")
	a := newAuth(t, Options{Store: store, Refresh: nopRefresh})
	a.Install(c)

	const wait = 100 * time.Millisecond
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			_, errs[i] = c.Get(ctx, "/x")
		}()
	}
	wg.Wait()
	took := time.Since(start)
	for _, err := range errs {
		require.Error(t, err)
		ae, ok := axios.AsError(err)
		require.True(t, ok)
		assert.Equal(t, axios.CodeTimedOut, ae.Code, "the caller's own deadline")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	}
	assert.Less(t, took, 5*wait, "the %d first uses waited together, not one after another", n)
	assert.EqualValues(t, 1, store.loads.Load(), "one Load for all first uses")
	assert.Zero(t, mock.GetTotalCallCount(), "nothing sent without knowing the token")

	close(store.release)
	eventually(t, func() bool { return a.state.load() != nil }, "the load to finish")
	resp, err := c.Get(context.Background(), "/x")
	require.NoError(t, err)
	assert.Equal(t, "Bearer t1", string(resp.Data))
	assert.EqualValues(t, 1, store.loads.Load())
}

// panickingStore panics in the method named by panicIn.
type panickingStore struct {
	*storage.Memory
	mu      sync.Mutex
	panicIn string
}

func (s *panickingStore) set(method string) {
	s.mu.Lock()
	s.panicIn = method
	s.mu.Unlock()
}

func (s *panickingStore) panics(method string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.panicIn == method
}

func (s *panickingStore) Load(ctx context.Context) (*oauth2.Token, error) {
	if s.panics("Load") {
		panic("store bug in Load")
	}
	return s.Memory.Load(ctx)
}

func (s *panickingStore) Save(ctx context.Context, tok *oauth2.Token) error {
	if s.panics("Save") {
		panic("store bug in Save")
	}
	return s.Memory.Save(ctx, tok)
}

// TestPanickingStoreFailsTheRefreshNotTheProcess: a store that panics on
// the Authenticator's own goroutines fails the first load with a
// *PanicError carrying the value and the stack, and makes a refresh's save
// a failed save (the token kept in memory, saved later); the process goes
// on.
func TestPanickingStoreFailsTheRefreshNotTheProcess(t *testing.T) {
	ctx := context.Background()
	t.Run("Load", func(t *testing.T) {
		a := newAuth(t, Options{Store: &panickingStore{Memory: storage.NewMemory(), panicIn: "Load"}, Refresh: nopRefresh})
		_, err := a.Token(ctx)
		var pe *PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "store bug in Load", pe.Value)
		assert.NotEmpty(t, pe.Stack)
	})
	// A Save that panics after the Refresher answered is a failed save, not
	// a failed refresh: under rotation t1's refresh token is spent, so
	// dropping t2 would lose the session. t2 is used, and saved in the
	// background once the store works again.
	t.Run("Save", func(t *testing.T) {
		store := &panickingStore{Memory: storage.NewMemory()}
		c, mock := newMockClient()
		mock.RegisterResponder(http.MethodGet, "/x", func(r *http.Request) (*http.Response, error) {
			if r.Header.Get("Authorization") == "Bearer t2" {
				return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
			}
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		})
		var failures, refreshes atomic.Int64
		a := newAuth(t, Options{Store: store, Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
			refreshes.Add(1)
			return tokenWith("t2", time.Time{}), nil
		}, OnFailure: func(context.Context, error) { failures.Add(1) }})
		login(t, a, c, tokenWith("t1", time.Time{}))
		store.set("Save")
		resp, err := c.Get(ctx, "/x")
		require.NoError(t, err)
		assert.Equal(t, "ok", string(resp.Data))
		assert.Zero(t, failures.Load(), "no logout")
		assert.Equal(t, int64(1), refreshes.Load())
		tok, err := a.Token(ctx)
		require.NoError(t, err)
		assert.Equal(t, "t2", tok.AccessToken, "the refreshed token is kept")
		assert.Positive(t, a.Stats().SaveFails)

		store.set("")
		require.Eventually(t, func() bool {
			saved, err := store.Memory.Load(ctx)
			return err == nil && saved.AccessToken == "t2"
		}, 5*time.Second, 10*time.Millisecond, "the background save lands once the store works")
	})
}

// TestPanickingHooksDoNotTakeTheProcessDown: OnRefresh and OnFailure run on
// the refresh's goroutine; their panics are recovered and the waiters
// resume.
func TestPanickingHooksDoNotTakeTheProcessDown(t *testing.T) {
	ctx := context.Background()
	for _, refused := range []bool{false, true} {
		a := newAuth(t, Options{
			Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
				if refused {
					return nil, ErrRefused
				}
				return tokenWith("t2", time.Time{}), nil
			},
			OnRefresh: func(context.Context, *oauth2.Token) { panic("OnRefresh bug") },
			OnFailure: func(context.Context, error) { panic("OnFailure bug") },
		})
		require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
		tok, err := a.Refresh(ctx)
		if refused {
			require.ErrorIs(t, err, ErrRefused)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, "t2", tok.AccessToken)
	}
}

// TestLoggedOutProcessAdoptsATokenThatAppearsInTheSharedStore: process B
// finds the shared store empty at its refresh (a Redis without persistence
// restarted) and is logged out; process A then saves a good token there.
// B's next refused request reads the store again and adopts it, at most
// once a second while the store stays empty.
func TestLoggedOutProcessAdoptsATokenThatAppearsInTheSharedStore(t *testing.T) {
	ctx := context.Background()
	clock := useFakeClock(t)
	store := newLockingStore()
	c, mock := newMockClient()
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if bearerOf(r) == "a2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	var bFailures atomic.Int64
	b := newAuth(t, Options{Store: store, Refresh: nopRefresh, OnFailure: func(context.Context, error) { bFailures.Add(1) }})
	login(t, b, c, tokenWith("b1", time.Time{}))
	require.NoError(t, store.Memory.Clear(ctx)) // the store restarted empty

	_, err := c.Get(ctx, "/x")
	require.ErrorIs(t, err, ErrRefreshFailed, "B's refresh found the store empty")
	assert.EqualValues(t, 1, bFailures.Load(), "and B was logged out")

	// Still empty, inside the backoff: the refusal as it is, no store read.
	loads := store.loads.Load()
	_, err = c.Get(ctx, "/x")
	ae, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, http.StatusUnauthorized, ae.Status())
	assert.NotErrorIs(t, err, ErrRefreshFailed)
	assert.Equal(t, loads, store.loads.Load())

	// Empty on the next look too: no failure, no logout again.
	clock.Advance(time.Second)
	_, err = c.Get(ctx, "/x")
	ae, ok = axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, http.StatusUnauthorized, ae.Status())
	assert.EqualValues(t, 1, bFailures.Load())

	// Process A saves a good token.
	a := newAuth(t, Options{Store: store, Refresh: nopRefresh})
	require.NoError(t, a.SetToken(ctx, tokenWith("a2", time.Time{})))

	clock.Advance(maxBackoff)
	resp, err := c.Get(ctx, "/x")
	require.NoError(t, err, "B read the store again and adopted A's token")
	assert.Equal(t, "Bearer a2", resp.Config.Headers.Get("Authorization"))
	assert.EqualValues(t, 1, b.Stats().Adopted)
	assert.EqualValues(t, 1, bFailures.Load())
}

// TestRotatedTokenWhoseSaveFailsIsSavedWhenTheStoreHeals: with rotation on,
// the shared store fails the save of a refreshed token 3 times, then heals.
// The refresh still serves the request; the save is retried holding the
// store's lock until it lands, so the store ends with the newest token, and
// a restarted process (a new Authenticator on the same store) refreshes with
// the newest refresh token: 0 invalid_grant.
func TestRotatedTokenWhoseSaveFailsIsSavedWhenTheStoreHeals(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, authtest.Options{Rotate: true})
	store := &saveFailingLockingStore{lockingStore: newLockingStore()}
	c := newClient(t, srv)
	a := newAuth(t, Options{Store: store, Refresh: seed000(c)})
	login(t, a, c, srv.Issue("demo"))
	srv.Revoke()
	store.failSaves.Store(3)

	_, err := c.Get(ctx, "/api/x")
	require.NoError(t, err, "the refreshed token serves the request though its save failed")
	current, err := a.Token(ctx)
	require.NoError(t, err)
	eventually(t, func() bool {
		stored, err := store.Memory.Load(ctx)
		return err == nil && stored.RefreshToken == current.RefreshToken
	}, "the save to land once the store heals")
	eventually(t, func() bool { return !store.held.Load() }, "the lock to be released after the save")
	t.Logf("save attempts that failed: %d, then it landed", a.Stats().SaveFails)
	assert.EqualValues(t, 3, a.Stats().SaveFails)

	// A restart: a new process on the same store, tokens revoked again.
	restarted := newAuth(t, Options{Store: store, Refresh: seed000(c)})
	c2 := newClient(t, srv)
	restarted.Install(c2)
	srv.Revoke()
	_, err = c2.Get(ctx, "/api/x")
	require.NoError(t, err)
	assert.EqualValues(t, 0, srv.InvalidGrants(), "the restarted process presented the newest refresh token")
	assert.EqualValues(t, 2, srv.Refreshes())
}

// TestAnotherProcessWaitsForAFailedSaveToLand: two processes share a
// locking store; the store is down exactly at A's save. B's refresh waits
// for A's lock, which A holds until its save lands, then adopts A's token
// instead of presenting the spent refresh token: 0 invalid_grant.
func TestAnotherProcessWaitsForAFailedSaveToLand(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t, authtest.Options{Rotate: true})
	store := &saveFailingLockingStore{lockingStore: newLockingStore()}
	ca, cb := newClient(t, srv), newClient(t, srv)
	a := newAuth(t, Options{Store: store, Refresh: seed000(ca)})
	b := newAuth(t, Options{Store: store, Refresh: seed000(cb)})
	login(t, a, ca, srv.Issue("demo"))
	b.Install(cb)
	_, err := cb.Get(ctx, "/api/x") // B loads the shared token
	require.NoError(t, err)

	srv.Revoke()
	store.failSaves.Store(4)
	_, err = ca.Get(ctx, "/api/x") // A refreshes; its save fails
	require.NoError(t, err)
	_, err = cb.Get(ctx, "/api/x") // B is refused and refreshes: it waits for A's lock
	require.NoError(t, err)
	t.Logf("refreshes %d, adopted by B %d, invalid_grant %d", srv.Refreshes(), b.Stats().Adopted, srv.InvalidGrants())
	assert.EqualValues(t, 0, srv.InvalidGrants())
	assert.EqualValues(t, 1, srv.Refreshes(), "one refresh between the two processes")
	assert.EqualValues(t, 1, b.Stats().Adopted)
}

// TestSaveRetryStopsWhenANewerTokenReplacesIt: a Logout (or SetToken) while
// the save is being retried ends the retries; the rotated token is never
// written over the logout.
func TestSaveRetryStopsWhenANewerTokenReplacesIt(t *testing.T) {
	ctx := context.Background()
	store := &saveFailingLockingStore{lockingStore: newLockingStore()}
	c, mock := newMockClient()
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if bearerOf(r) == "t2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	a := newAuth(t, Options{Store: store, Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("t2", time.Time{}), nil
	}})
	login(t, a, c, tokenWith("t1", time.Time{}))
	store.failSaves.Store(1 << 30) // the store stays down for saves
	_, err := c.Get(ctx, "/x")
	require.NoError(t, err)
	require.NoError(t, a.Logout(ctx), "Logout waits for the lock, which the retries give up once they see the logout")
	_, err = store.Memory.Load(ctx)
	assert.ErrorIs(t, err, storage.ErrNoToken, "the rotated token was not written over the logout")
	eventually(t, func() bool { return !store.held.Load() }, "the lock to be free")
}
