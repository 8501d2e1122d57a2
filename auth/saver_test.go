package auth

// The background save (saver.go) and its interplay with SetToken, Logout
// and the store's lock, as a second review pass found them wanting.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
)

// gatedSaveStore is a store of one's own, no Locker (a database table, say):
// its first save of "t2" fails, and its second blocks (entered closed) until
// release is closed, then lands (landed closed). Every other save lands at
// once.
type gatedSaveStore struct {
	*storage.Memory
	t2Saves atomic.Int64
	entered chan struct{}
	release chan struct{}
	landed  chan struct{}
}

func newGatedSaveStore() *gatedSaveStore {
	return &gatedSaveStore{Memory: storage.NewMemory(),
		entered: make(chan struct{}), release: make(chan struct{}), landed: make(chan struct{})}
}

func (s *gatedSaveStore) Save(ctx context.Context, tok *oauth2.Token) error {
	if tok.AccessToken != "t2" {
		return s.Memory.Save(ctx, tok)
	}
	switch s.t2Saves.Add(1) {
	case 1:
		return errors.New("db: save: connection reset")
	case 2:
		close(s.entered)
		<-s.release
		defer close(s.landed)
	}
	return s.Memory.Save(ctx, tok)
}

// startSaveInFlight refreshes t1 into t2, whose save fails, and returns once
// the background save's next attempt of t2 is in flight.
func startSaveInFlight(t *testing.T, store *gatedSaveStore) *Authenticator {
	t.Helper()
	ctx := context.Background()
	a := newAuth(t, Options{Store: store, RefreshBefore: -1,
		Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) { return tokenWith("t2", time.Time{}), nil }})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	require.Equal(t, "t2", tok.AccessToken)
	select {
	case <-store.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the background save of t2 never tried again")
	}
	return a
}

// finish lets the save in flight land, while call (Logout or SetToken) runs:
// call may wait for that attempt (as a refresh's takeover does), or not.
func finish(t *testing.T, store *gatedSaveStore, call func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- call() }()
	returned := false
	var err error
	select {
	case err = <-done:
		returned = true
	case <-time.After(300 * time.Millisecond): // it waits for the attempt in flight
	}
	close(store.release)
	<-store.landed
	if !returned {
		err = <-done
	}
	require.NoError(t, err)
}

// TestLogoutIsNotUndoneByABackgroundSaveInFlight: Logout "clears the store
// and drops the cached copy". A background save of a refreshed token whose
// first save failed (keepSaving) is in flight when Logout runs: Logout does
// not wait for it (saver.mu is taken by a refresh's takeover only), clears
// the store, and then the save lands. The store holds t2 after the logout:
// the next process, or this one after a restart, is logged in again, with a
// live refresh token the user meant to drop.
func TestLogoutIsNotUndoneByABackgroundSaveInFlight(t *testing.T) {
	ctx := context.Background()
	store := newGatedSaveStore()
	a := startSaveInFlight(t, store)

	finish(t, store, func() error { return a.Logout(ctx) })

	_, err := a.Token(ctx)
	require.ErrorIs(t, err, storage.ErrNoToken, "logged out in memory")
	stored, err := store.Memory.Load(ctx)
	if !assert.ErrorIs(t, err, storage.ErrNoToken, "Logout cleared the store; the background save must not write after it") {
		t.Logf("the store holds %q after Logout", stored.AccessToken)
	}
}

// TestSetTokenIsNotOverwrittenByABackgroundSaveInFlight: the same race with
// SetToken after a login: the store ends with t2, older than the token in
// memory, which the next process (or a restart) loads instead of the login's.
func TestSetTokenIsNotOverwrittenByABackgroundSaveInFlight(t *testing.T) {
	ctx := context.Background()
	store := newGatedSaveStore()
	a := startSaveInFlight(t, store)

	finish(t, store, func() error { return a.SetToken(ctx, tokenWith("login", time.Time{})) })

	cur, err := a.Token(ctx)
	require.NoError(t, err)
	require.Equal(t, "login", cur.AccessToken)
	stored, err := store.Memory.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "login", stored.AccessToken, "the store holds an older token than memory")
}

// TestLogoutDoesNotWaitForItsOwnBackgroundSave: with a Locker store, a
// background save whose store keeps failing holds the store's lock between
// attempts, up to 2s apart. The next refresh takes that lock over
// (takeOverSave), but Logout and SetToken wait for it like any other
// holder's: a Logout with a 300ms deadline fails with "lock store: context
// deadline exceeded", though the only holder is this process's own save,
// which the logout ends anyway.
func TestLogoutDoesNotWaitForItsOwnBackgroundSave(t *testing.T) {
	ctx := context.Background()
	store := &saveFailingLockingStore{lockingStore: newLockingStore()}
	a := newAuth(t, Options{Store: store, RefreshBefore: -1,
		Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) { return tokenWith("t2", time.Time{}), nil }})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	t.Cleanup(func() {
		store.failSaves.Store(0)
		eventually(t, func() bool { return !store.held.Load() }, "the lock to be released")
	})

	store.failSaves.Store(1 << 30)
	_, err := a.Refresh(ctx)
	require.NoError(t, err)
	// Six failed attempts (the refresh's and five retries, 50+100+200+400+800ms):
	// the next wait is 1.6s.
	eventually(t, func() bool { return a.Stats().SaveFails >= 6 }, "the background save to fail six times")

	lctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = a.Logout(lctx)
	assert.NoError(t, err, "Logout waited %v for the lock its own background save holds", time.Since(start).Round(time.Millisecond))
}

// panicOnceStore panics in the given method, once, when armed.
type panicOnceStore struct {
	*storage.Memory
	mu      sync.Mutex
	panicIn string
}

func (s *panicOnceStore) arm(method string) {
	s.mu.Lock()
	s.panicIn = method
	s.mu.Unlock()
}

func (s *panicOnceStore) fire(method string) {
	s.mu.Lock()
	armed := s.panicIn == method
	if armed {
		s.panicIn = ""
	}
	s.mu.Unlock()
	if armed {
		panic("store bug in " + method)
	}
}

func (s *panicOnceStore) Save(ctx context.Context, tok *oauth2.Token) error {
	s.fire("Save")
	return s.Memory.Save(ctx, tok)
}

func (s *panicOnceStore) Clear(ctx context.Context) error {
	s.fire("Clear")
	return s.Memory.Clear(ctx)
}

// TestAPanickingStoreDoesNotWedgeSetTokenAndLogout: redisstore now re-raises
// a panic of a Redis call (a go-redis hook) on the caller's goroutine, so
// that auth's recover sees it. SetToken and Logout run the store on the
// caller's goroutine while they hold the flight's turn: the panic reaches
// the caller (an HTTP handler, whose server recovers it), but the turn is
// never released. From then on every SetToken, Logout and Refresh, and
// every request that needs a token, waits for ever.
func TestAPanickingStoreDoesNotWedgeSetTokenAndLogout(t *testing.T) {
	ctx := context.Background()
	store := &panicOnceStore{Memory: storage.NewMemory()}
	a := newAuth(t, Options{Store: store, RefreshBefore: -1,
		Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) { return tokenWith("t2", time.Time{}), nil }})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))

	store.arm("Clear")
	func() {
		defer func() { _ = recover() }() // as net/http's server recovers a handler's panic
		_ = a.Logout(ctx)
	}()

	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	err := a.SetToken(sctx, tokenWith("t3", time.Time{}))
	assert.NoError(t, err, "the turn the panicking Logout took was never released")
	_, err = a.Refresh(sctx)
	assert.NoError(t, err, "the turn the panicking Logout took was never released")
}

// panicOnReleaseStore is a Locker whose release panics once armed: a
// go-redis hook that panics on the EVALSHA of redislock's Release, which
// redisstore now re-raises on the goroutine that called the unlock.
type panicOnReleaseStore struct {
	*saveFailingLockingStore
	armed atomic.Bool
}

func (s *panicOnReleaseStore) Lock(ctx context.Context) (func(context.Context) error, error) {
	unlock, err := s.saveFailingLockingStore.Lock(ctx)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		if s.armed.CompareAndSwap(true, false) {
			panic("redis hook bug in Release")
		}
		return unlock(ctx)
	}, nil
}

const panicReleaseChildEnv = "AXIOS_AUTH_REVIEW2_RELEASE_PANIC_CHILD"

// TestAPanicInTheBackgroundSavesUnlockDoesNotKillTheProcess: DESIGN.md: "A
// panic in a Refresher, Login, hook or store is recovered and becomes that
// refresh's failure; it never takes the process down." The background save
// (saveLoop) releases the store's lock on a goroutine of its own with no
// recover: a store whose release panics (redisstore re-raises a go-redis
// hook's panic on the caller's goroutine since this change) ends the
// process. The scenario runs in a child process, which must exit cleanly.
func TestAPanicInTheBackgroundSavesUnlockDoesNotKillTheProcess(t *testing.T) {
	if os.Getenv(panicReleaseChildEnv) != "" {
		releasePanicScenario(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAPanicInTheBackgroundSavesUnlockDoesNotKillTheProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), panicReleaseChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "the child process died:\n%s", out)
	assert.NotContains(t, string(out), "panic: redis hook bug in Release")
}

func releasePanicScenario(t *testing.T) {
	ctx := context.Background()
	store := &panicOnReleaseStore{saveFailingLockingStore: &saveFailingLockingStore{lockingStore: newLockingStore()}}
	a := newAuth(t, Options{Store: store, RefreshBefore: -1,
		Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) { return tokenWith("t2", time.Time{}), nil }})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	store.failSaves.Store(1) // the refresh's save fails; the background save's first retry lands
	store.armed.Store(true)  // and its release panics
	_, err := a.Refresh(ctx)
	require.NoError(t, err)
	eventually(t, func() bool {
		stored, err := store.Memory.Load(ctx)
		return err == nil && stored.AccessToken == "t2"
	}, "the background save to land")
	time.Sleep(200 * time.Millisecond) // the release after it
}
