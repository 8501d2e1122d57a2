package auth

// Processes sharing a store, at the edges of the refresh: a login or a
// logout during another process's refresh, a lease that must outlive a slow
// refresh, an adopted token that is already expired. Unless said otherwise,
// "processes" are several Authenticators in this test process sharing one
// store (real storage.File or redisstore.Store values, each with its own lock
// handle), which runs the same code paths as separate OS processes.

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/redisstore"
)

const sharedWait = 5 * time.Second

func recvWithin[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(sharedWait):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// gatedRefresher is a Refresher that signals entered, then waits for release
// (or its ctx) and returns next.
func gatedRefresher(entered chan<- struct{}, release <-chan struct{}, next *oauth2.Token) Refresher {
	var once sync.Once
	return func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
		once.Do(func() { close(entered) })
		select {
		case <-release:
			return next, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// A Logout in process A while process B's refresh is in flight (B holds the
// store's lock, inside its Refresher). Logout takes the store's lock too, so
// its Clear lands after B's save, and the store ends empty: nobody is logged
// in again by B's refresh.
func TestLogoutIsNotUndoneByAnotherProcesssRefreshInFlight(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token.json")
	a := newAuth(t, Options{Store: storage.NewFile(path), Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return nil, errors.New("process A must not refresh")
	}})
	entered, release := make(chan struct{}), make(chan struct{})
	b := newAuth(t, Options{Store: storage.NewFile(path), RefreshTimeout: sharedWait,
		Refresh: gatedRefresher(entered, release, tokenWith("t2", time.Time{}))})

	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	_, err := b.Token(ctx) // B has loaded t1
	require.NoError(t, err)

	bDone := make(chan error, 1)
	go func() { _, err := b.Refresh(ctx); bDone <- err }()
	recvWithin(t, entered, "B's refresh to reach its Refresher (under the lock)")

	// The user logs out in A. (A Logout that took the lock would wait for B.)
	lctx, cancel := context.WithTimeout(ctx, sharedWait)
	defer cancel()
	logoutDone := make(chan error, 1)
	go func() { logoutDone <- a.Logout(lctx) }()
	select {
	case <-logoutDone:
		logoutDone <- nil // returned already: put a result back for below
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	require.NoError(t, recvWithin(t, bDone, "B's refresh"))
	require.NoError(t, recvWithin(t, logoutDone, "A's Logout"))

	_, err = storage.NewFile(path).Load(ctx)
	assert.ErrorIs(t, err, storage.ErrNoToken,
		"A's Logout returned, yet the shared store holds B's refreshed token: the logout was undone")

	// A new process on the same store is logged in.
	c := newAuth(t, Options{Store: storage.NewFile(path), Refresh: nopRefresh})
	_, err = c.Token(ctx)
	assert.ErrorIs(t, err, storage.ErrNoToken, "a process started after the Logout is logged in")
}

// A new login (SetToken, here as another user) in process A while process
// B's refresh of the previous session is in flight. SetToken takes the
// store's lock, so the login is saved after B's save, and A does not switch
// back to the previous user at its next refresh.
func TestLoginIsNotOverwrittenByAnotherProcesssRefreshInFlight(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	const key = "shared:login"
	var aRefreshed atomic.Pointer[string]
	a := newAuth(t, Options{Store: redisstore.New(rs.Client(), key), RefreshTimeout: sharedWait,
		Refresh: func(_ context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
			s := cur.AccessToken
			aRefreshed.Store(&s)
			return tokenWith(strings.Split(cur.AccessToken, "-")[0]+"-refreshed-by-A", time.Time{}), nil
		}})
	entered, release := make(chan struct{}), make(chan struct{})
	b := newAuth(t, Options{Store: redisstore.New(rs.Client(), key), RefreshTimeout: sharedWait,
		Refresh: gatedRefresher(entered, release, tokenWith("alice-2", time.Time{}))})

	require.NoError(t, a.SetToken(ctx, tokenWith("alice-1", time.Time{})))
	_, err := b.Token(ctx)
	require.NoError(t, err)

	bDone := make(chan error, 1)
	go func() { _, err := b.Refresh(ctx); bDone <- err }()
	recvWithin(t, entered, "B's refresh to reach its Refresher (under the lock)")

	sctx, cancel := context.WithTimeout(ctx, sharedWait)
	defer cancel()
	loginDone := make(chan error, 1)
	go func() { loginDone <- a.SetToken(sctx, tokenWith("bob-1", time.Time{})) }()
	select {
	case <-loginDone:
		loginDone <- nil
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	require.NoError(t, recvWithin(t, bDone, "B's refresh"))
	require.NoError(t, recvWithin(t, loginDone, "A's SetToken"))

	stored, err := redisstore.New(rs.Client(), key).Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "bob-1", stored.AccessToken, "the login that returned last was overwritten by the old session's refresh")

	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok.AccessToken, "bob-"),
		"process A logged in as bob and now holds %q (adopted the previous user's token)", tok.AccessToken)
}

// slowSaveRedis is a redisstore.Store (its Lock included) whose Save is slow:
// it waits for release or its ctx, as a loaded Redis would.
type slowSaveRedis struct {
	*redisstore.Store
	entered, release chan struct{}
	once             sync.Once
}

func (s *slowSaveRedis) Save(ctx context.Context, tok *oauth2.Token) error {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Store.Save(ctx, tok)
}

// The Redis lease is renewed while the lock is held: a refresh plus a slow
// save that together outlast LockTTL keep the lock, so another process waits
// and then adopts the refreshed token, never presenting the rotated refresh
// token again.
func TestLockIsKeptThroughASlowRefreshAndSave(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	srv := newServer(t, authtest.Options{Rotate: true})
	const (
		key     = "shared:lease"
		timeout = time.Second
		ttl     = 300 * time.Millisecond // shorter than the refresh alone, and than the refresh and its save
	)
	ra := &slowSaveRedis{Store: redisstore.New(rs.Client(), key), entered: make(chan struct{}), release: make(chan struct{})}
	ra.LockTTL = ttl
	rb := redisstore.New(rs.Client(), key)
	rb.LockTTL = ttl

	ca, cb := newClient(t, srv), newClient(t, srv)
	refreshA := seed000(ca)
	a := newAuth(t, Options{Store: ra, RefreshTimeout: timeout, Refresh: func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		select { // a slow token endpoint, within RefreshTimeout
		case <-time.After(400 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return refreshA(ctx, cur)
	}})
	a.Install(ca)
	var bFailures atomic.Int64
	b := newAuth(t, Options{Store: rb, RefreshTimeout: 5 * time.Second, Refresh: seed000(cb),
		OnFailure: func(context.Context, error) { bFailures.Add(1) }})
	b.Install(cb)

	require.NoError(t, rb.Save(ctx, srv.Issue("demo")))
	_, err := a.Token(ctx)
	require.NoError(t, err)
	_, err = b.Token(ctx)
	require.NoError(t, err)

	aDone := make(chan error, 1)
	go func() { _, err := a.Refresh(ctx); aDone <- err }()
	recvWithin(t, ra.entered, "A's Save (after its refresh)")
	time.Sleep(2 * ttl) // past the lease's first term
	assert.EqualValues(t, 1, rs.Client().Exists(ctx, rb.LockKey()).Val(), "A's lease was renewed")

	bDone := make(chan error, 1)
	go func() { _, err := b.Refresh(ctx); bDone <- err }()
	time.Sleep(100 * time.Millisecond)
	close(ra.release)
	require.NoError(t, recvWithin(t, aDone, "A's refresh"))
	assert.NoError(t, recvWithin(t, bDone, "B's refresh"))

	assert.EqualValues(t, 0, srv.InvalidGrants(), "the rotated refresh token was presented twice")
	assert.Zero(t, bFailures.Load(), "process B logged its user out")
	assert.EqualValues(t, 1, srv.RefreshCalls(), "one refresh per expiry")
	assert.EqualValues(t, 1, b.Stats().Adopted)
}

// A token adopted from another process may have expired since it was saved:
// it is refreshed before it is sent, also for a request that was waiting in
// AttachHeader for the refresh that adopted it.
func TestWaiterIsNotSentAnAdoptedExpiredToken(t *testing.T) {
	ctx := context.Background()
	store := newLockingStore()
	c, mock := newMockClient()
	headerEcho(mock, "Authorization")
	var calls atomic.Int64
	a := newAuth(t, Options{Store: store, RefreshTimeout: sharedWait, Refresh: counted(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("fresh", time.Now().Add(time.Hour)), nil
	}, &calls)})
	login(t, a, c, tokenWith("t1", time.Now().Add(time.Hour)))

	// Another process holds the lock while it refreshes.
	unlock, err := store.Lock(ctx)
	require.NoError(t, err)
	refreshDone := make(chan error, 1)
	go func() { _, err := a.Refresh(ctx); refreshDone <- err }()
	eventually(t, waiting(a, 1), "the refresh to start")
	type got struct {
		data string
		err  error
	}
	reqDone := make(chan got, 1)
	go func() {
		resp, err := c.Get(ctx, "/x")
		if err != nil {
			reqDone <- got{err: err}
			return
		}
		reqDone <- got{data: string(resp.Data)}
	}()
	eventually(t, waiting(a, 2), "the request to wait in AttachHeader")
	// The other process saved its token (which has expired since) and unlocks.
	require.NoError(t, store.Memory.Save(ctx, tokenWith("old", time.Now().Add(-time.Minute))))
	require.NoError(t, unlock(ctx))

	require.NoError(t, recvWithin(t, refreshDone, "the refresh"))
	g := recvWithin(t, reqDone, "the request")
	require.NoError(t, g.err)
	assert.NotEqual(t, "Bearer old", g.data, "the request was sent with the adopted token although it had expired")
}

// downAtSaveRedis is a redisstore.Store whose next failSaves Saves fail as
// if Redis were unreachable at that moment; its lock, lease renewal and
// fencing are the real store's.
type downAtSaveRedis struct {
	*redisstore.Store
	failSaves atomic.Int64
}

func (s *downAtSaveRedis) Save(ctx context.Context, tok *oauth2.Token) error {
	for n := s.failSaves.Load(); n > 0; n = s.failSaves.Load() {
		if s.failSaves.CompareAndSwap(n, n-1) {
			return errors.New("redisstore: save: dial tcp: connect: connection refused")
		}
	}
	return s.Store.Save(ctx, tok)
}

// TestProcessesSharingRedisWithRedisDownAtTheSave: two processes (each its
// own Store on one Redis key), rotation on. Redis is unreachable exactly at
// A's save of its refreshed token. A keeps the lock (its lease renewed) and
// retries the save until it lands; B, refused meanwhile, waits for the lock
// and adopts A's token: 1 refresh, 0 invalid_grant, no failure.
func TestProcessesSharingRedisWithRedisDownAtTheSave(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	srv := newServer(t, authtest.Options{Rotate: true})
	const key = "shared:downatsave"
	ra := &downAtSaveRedis{Store: redisstore.New(rs.Client(), key)}
	ra.LockTTL = 300 * time.Millisecond // the retries outlast it: the lease must be renewed
	rb := redisstore.New(rs.Client(), key)
	ca, cb := newClient(t, srv), newClient(t, srv)
	a := newAuth(t, Options{Store: ra, Refresh: seed000(ca)})
	b := newAuth(t, Options{Store: rb, Refresh: seed000(cb)})
	login(t, a, ca, srv.Issue("demo"))
	b.Install(cb)
	_, err := cb.Get(ctx, "/api/x")
	require.NoError(t, err, "B loads the shared token")

	srv.Revoke()
	ra.failSaves.Store(5)
	_, err = ca.Get(ctx, "/api/x")
	require.NoError(t, err, "A's refresh serves its request though Redis was down at the save")
	_, err = cb.Get(ctx, "/api/x")
	require.NoError(t, err, "B waits for A's lock and adopts the saved token")
	t.Logf("refresh calls %d, invalid_grant %d, A's failed saves %d, B adopted %d",
		srv.RefreshCalls(), srv.InvalidGrants(), a.Stats().SaveFails, b.Stats().Adopted)
	assert.EqualValues(t, 1, srv.RefreshCalls())
	assert.EqualValues(t, 0, srv.InvalidGrants())
	assert.EqualValues(t, 5, a.Stats().SaveFails)
	assert.EqualValues(t, 1, b.Stats().Adopted)
	assert.Zero(t, a.Stats().Failures+b.Stats().Failures)
}
