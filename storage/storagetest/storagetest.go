// Package storagetest is the contract suite for [storage.TokenStore] and
// [storage.Locker]. Run it on a store of your own to check it keeps the
// promises the auth package relies on:
//
//	func TestMyStore(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.TokenStore {
//			return mystore.New(t.Name()) // a fresh, empty store
//		})
//	}
//
// Run it with -race: part of the contract is that concurrent use is safe.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
)

// Sizes of the concurrency test: enough goroutines to interleave Saves and
// Loads under the race detector, few enough for a file store that syncs to
// disk on every Save.
const (
	goroutines      = 50
	opsPerGoroutine = 20
)

// lockWait bounds a Lock that the suite expects to fail because the lock is
// held; lockTimeout bounds one that it expects to succeed.
const (
	lockWait    = 100 * time.Millisecond
	lockTimeout = 10 * time.Second
)

// Run runs the contract suite as subtests of t. newStore must return a new,
// empty store each time it is called; it may register cleanups on the t it is
// given. Stores that share state between calls (a key in a shared Redis, a
// path in a shared directory) must use a fresh key or path per call, for
// instance derived from t.Name().
//
// When the store is also a [storage.Locker], Run checks the lock as well.
func Run(t *testing.T, newStore func(t *testing.T) storage.TokenStore) {
	t.Helper()
	t.Run("LoadEmptyGivesErrNoToken", func(t *testing.T) {
		s := newStore(t)
		tok, err := s.Load(t.Context())
		require.ErrorIs(t, err, storage.ErrNoToken)
		assert.Nil(t, tok)
	})
	t.Run("RoundTripKeepsFields", func(t *testing.T) {
		s := newStore(t)
		// time.Now carries a monotonic reading that no serialisation keeps:
		// Expiry must compare Equal, not ==.
		want := &oauth2.Token{
			AccessToken:  "access-round-trip",
			TokenType:    "Bearer",
			RefreshToken: "refresh-round-trip",
			Expiry:       time.Now().Add(time.Hour),
		}
		require.NoError(t, s.Save(t.Context(), want))
		got, err := s.Load(t.Context())
		require.NoError(t, err)
		assertSameToken(t, want, got)
	})
	t.Run("RoundTripKeepsZeroExpiry", func(t *testing.T) {
		s := newStore(t)
		want := &oauth2.Token{AccessToken: "access-no-expiry", TokenType: "Bearer"}
		require.NoError(t, s.Save(t.Context(), want))
		got, err := s.Load(t.Context())
		require.NoError(t, err)
		assertSameToken(t, want, got)
		assert.True(t, got.Expiry.IsZero(), "a token that never expires came back with Expiry %v", got.Expiry)
	})
	t.Run("SaveOverwrites", func(t *testing.T) {
		s := newStore(t)
		first, second := numbered(1), numbered(2)
		second.RefreshToken = "" // an overwrite must not keep the old refresh token
		require.NoError(t, s.Save(t.Context(), first))
		require.NoError(t, s.Save(t.Context(), second))
		got, err := s.Load(t.Context())
		require.NoError(t, err)
		assertSameToken(t, second, got)
	})
	t.Run("ClearThenLoadGivesErrNoToken", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Save(t.Context(), numbered(1)))
		require.NoError(t, s.Clear(t.Context()))
		_, err := s.Load(t.Context())
		require.ErrorIs(t, err, storage.ErrNoToken)
	})
	t.Run("ClearEmptyIsNotAnError", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Clear(t.Context()))
		require.NoError(t, s.Clear(t.Context()), "a second Clear")
		_, err := s.Load(t.Context())
		require.ErrorIs(t, err, storage.ErrNoToken)
	})
	t.Run("LoadedTokenIsACopy", func(t *testing.T) {
		s := newStore(t)
		saved := numbered(1)
		require.NoError(t, s.Save(t.Context(), saved))
		saved.AccessToken = "changed-after-save"

		got, err := s.Load(t.Context())
		require.NoError(t, err)
		assertSameToken(t, numbered(1), got)
		got.AccessToken = "changed-after-load"

		again, err := s.Load(t.Context())
		require.NoError(t, err)
		assertSameToken(t, numbered(1), again)
	})
	t.Run("ConcurrentSaveAndLoadSeeWholeTokens", func(t *testing.T) {
		s := newStore(t)
		ctx := t.Context()
		var wg sync.WaitGroup
		var loads, found atomic.Int64
		errs := make(chan error, goroutines*opsPerGoroutine)
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for op := range opsPerGoroutine {
					n := g*opsPerGoroutine + op
					if op%2 == 0 {
						if err := s.Save(ctx, numbered(n)); err != nil {
							errs <- fmt.Errorf("concurrent save: %w", err)
						}
						continue
					}
					tok, err := s.Load(ctx)
					loads.Add(1)
					switch {
					case errors.Is(err, storage.ErrNoToken):
					case err != nil:
						errs <- fmt.Errorf("concurrent load: %w", err)
					default:
						found.Add(1)
						if err := checkWhole(tok); err != nil {
							errs <- err
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		require.Equal(t, int64(goroutines*opsPerGoroutine/2), loads.Load())
		assert.Positive(t, found.Load(), "no Load saw any of the saved tokens")
	})
	t.Run("CanceledContextGivesError", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Save(t.Context(), numbered(1)))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		tok, err := s.Load(ctx)
		assert.ErrorIs(t, err, context.Canceled, "Load")
		assert.Nil(t, tok, "Load returned a token with its error")
		assert.ErrorIs(t, s.Save(ctx, numbered(2)), context.Canceled, "Save")
		assert.ErrorIs(t, s.Clear(ctx), context.Canceled, "Clear")

		got, err := s.Load(t.Context())
		require.NoError(t, err, "a canceled Clear must not have cleared the store")
		assertSameToken(t, numbered(1), got)
	})

	// Only a store that is a Locker has the lock's contract to keep; no
	// subtest is made, and none skipped, for one that is not.
	if _, ok := newStore(t).(storage.Locker); ok {
		t.Run("Locker", func(t *testing.T) {
			runLocker(t, func(t *testing.T) storage.Locker { return newStore(t).(storage.Locker) })
		})
	}
}

func runLocker(t *testing.T, newLocker func(t *testing.T) storage.Locker) {
	t.Run("LockExcludesSecondLock", func(t *testing.T) {
		l := newLocker(t)
		unlock := mustLock(t, l)
		defer unlock(context.WithoutCancel(t.Context()))

		start := time.Now() // before the ctx, whose deadline counts from its creation
		ctx, cancel := context.WithTimeout(t.Context(), lockWait)
		defer cancel()
		unlock2, err := l.Lock(ctx)
		if err == nil {
			_ = unlock2(t.Context())
			t.Fatal("a second Lock succeeded while the first was held")
		}
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Nil(t, unlock2, "a failed Lock returned an unlock function")
		assert.GreaterOrEqual(t, time.Since(start), lockWait, "the second Lock gave up before its ctx ended")
	})
	t.Run("UnlockLetsWaiterIn", func(t *testing.T) {
		l := newLocker(t)
		unlock := mustLock(t, l)

		got := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(t.Context(), lockTimeout)
			defer cancel()
			unlock2, err := l.Lock(ctx)
			if err == nil {
				err = unlock2(ctx)
			}
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("the waiter got the lock while it was held (err %v)", err)
		case <-time.After(lockWait):
		}
		require.NoError(t, unlock(t.Context()))
		select {
		case err := <-got:
			require.NoError(t, err, "the waiter did not get the lock after unlock")
		case <-time.After(lockTimeout + time.Second):
			t.Fatal("the waiter is still waiting after unlock")
		}
	})
	t.Run("UnlockTwiceIsHarmless", func(t *testing.T) {
		l := newLocker(t)
		unlock := mustLock(t, l)
		require.NoError(t, unlock(t.Context()))
		require.NoError(t, unlock(t.Context()), "a second unlock")
		unlock2 := mustLock(t, l)
		require.NoError(t, unlock2(t.Context()))
	})
	t.Run("CanceledContextGivesError", func(t *testing.T) {
		l := newLocker(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		unlock, err := l.Lock(ctx)
		if err == nil {
			_ = unlock(t.Context())
		}
		require.ErrorIs(t, err, context.Canceled)
		// The failed Lock must not have left the lock held.
		require.NoError(t, mustLock(t, l)(t.Context()))
	})
	t.Run("LockIsMutuallyExclusive", func(t *testing.T) {
		l := newLocker(t)
		const workers, rounds = 4, 5
		var inside, maxInside, total atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, workers*rounds)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					ctx, cancel := context.WithTimeout(t.Context(), lockTimeout)
					unlock, err := l.Lock(ctx)
					if err != nil {
						cancel()
						errs <- err
						return
					}
					storeMax(&maxInside, inside.Add(1))
					time.Sleep(time.Millisecond)
					inside.Add(-1)
					total.Add(1)
					if err := unlock(ctx); err != nil {
						errs <- err
					}
					cancel()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		assert.Equal(t, int64(1), maxInside.Load(), "holders of the lock overlapped")
		assert.Equal(t, int64(workers*rounds), total.Load())
	})
}

// storeMax raises m to n if n is larger.
func storeMax(m *atomic.Int64, n int64) {
	for {
		old := m.Load()
		if n <= old || m.CompareAndSwap(old, n) {
			return
		}
	}
}

func mustLock(t *testing.T, l storage.Locker) func(context.Context) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), lockTimeout)
	defer cancel()
	unlock, err := l.Lock(ctx)
	require.NoError(t, err)
	require.NotNil(t, unlock)
	return unlock
}

// expiryBase is a fixed instant with no monotonic reading, so numbered tokens
// are the same every time they are built.
var expiryBase = time.Date(2030, 1, 2, 3, 4, 5, 600_000_000, time.UTC)

// numbered returns token n. Every field carries n, so a token put together
// from the fields of two saved tokens is caught by checkWhole.
func numbered(n int) *oauth2.Token {
	s := strconv.Itoa(n)
	return &oauth2.Token{
		AccessToken:  "access-" + s,
		TokenType:    "Bearer-" + s,
		RefreshToken: "refresh-" + s,
		Expiry:       expiryBase.Add(time.Duration(n) * time.Second),
	}
}

// checkWhole reports a loaded token that is not exactly one numbered token.
// Its message names fields, never values, in keeping with the contract.
func checkWhole(tok *oauth2.Token) error {
	if tok == nil {
		return errors.New("load returned a nil token and a nil error")
	}
	n, err := strconv.Atoi(strings.TrimPrefix(tok.AccessToken, "access-"))
	if err != nil || !strings.HasPrefix(tok.AccessToken, "access-") {
		return errors.New("load returned an access token that was never saved")
	}
	want := numbered(n)
	if tok.TokenType != want.TokenType || tok.RefreshToken != want.RefreshToken || !tok.Expiry.Equal(want.Expiry) {
		return fmt.Errorf("load returned a mix of tokens: access token of #%d with other fields of another", n)
	}
	return nil
}

func assertSameToken(t *testing.T, want, got *oauth2.Token) {
	t.Helper()
	require.NotNil(t, got)
	assert.Equal(t, want.AccessToken, got.AccessToken, "AccessToken")
	assert.Equal(t, want.TokenType, got.TokenType, "TokenType")
	assert.Equal(t, want.RefreshToken, got.RefreshToken, "RefreshToken")
	assert.Truef(t, want.Expiry.Equal(got.Expiry), "Expiry: want %v, got %v", want.Expiry, got.Expiry)
}
