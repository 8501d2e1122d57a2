package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bsm/redislock"

	"github.com/axiosgo/axios/storage"
)

// Bounds of the exponential backoff between attempts of a waiting
// [Store.Lock]: 16ms keeps a short wait short, 512ms keeps hundreds of waiting
// processes from hammering Redis during a refresh.
const (
	lockMinBackoff = 16 * time.Millisecond
	lockMaxBackoff = 512 * time.Millisecond
)

// Lock takes the lease on LockKey(), waiting with exponential backoff (16ms
// to 512ms) until it is free or ctx ends; a lock obtained after Lock gave up
// is released at once. A Redis failure while trying is returned at once.
// Goroutines sharing one Store wait for each other in the process before
// they try Redis: a Store has one holder at a time, from Lock until its
// unlock, even after that holder's lease ran out.
//
// The lease lasts LockTTL and is renewed every LockTTL/3 until the returned
// unlock is called, however long the holder takes; without that call the
// lock is held until the process ends. Unlock releases the lease only if this
// call still holds it; if the lease had run out, unlock returns an error
// wrapping storage.ErrLockExpired and leaves whoever holds the key now alone.
//
// Until the unlock, the Store's Save and Clear are fenced by the lease: once
// it has run out they fail with storage.ErrLockExpired and write nothing
// (see [Store.Save]).
func (s *Store) Lock(ctx context.Context) (func(context.Context) error, error) {
	key := s.LockKey()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: lock %q: %w", key, err)
	}
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("redisstore: lock %q: %w", key, ctx.Err())
	}
	held := false
	defer func() {
		if !held { // an error, or a panic from a hook of the caller's client
			<-s.turn
		}
	}()
	unlock, err := s.lock(ctx, key)
	if err != nil {
		return nil, err
	}
	held = true
	return unlock, nil
}

// lockTTL is the lease of the lock: LockTTL, or DefaultLockTTL.
func (s *Store) lockTTL() time.Duration {
	if s.LockTTL <= 0 {
		return DefaultLockTTL
	}
	return s.LockTTL
}

// lock takes the lease for Lock, which holds the Store's turn.
func (s *Store) lock(ctx context.Context, key string) (func(context.Context) error, error) {
	ttl := s.lockTTL()
	// The waiting loop is ours rather than redislock's RetryStrategy option:
	// with a ctx that has no deadline, redislock gives up after one TTL, while
	// storage.Locker promises to wait until ctx ends.
	backoff := redislock.ExponentialBackoff(lockMinBackoff, lockMaxBackoff)
	var timer *time.Timer
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("redisstore: lock %q: %w", key, err)
		}
		lock, err := s.obtain(ctx, key, ttl)
		if err == nil {
			s.setHeld(lock.Token() + lock.Metadata()) // the lock key's value
			return s.unlockFunc(lock, ttl, keepAlive(lock, ttl)), nil
		}
		if !errors.Is(err, redislock.ErrNotObtained) {
			return nil, fmt.Errorf("redisstore: lock %q: %w", key, err)
		}
		wait := backoff.NextBackoff()
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("redisstore: lock %q: %w", key, ctx.Err())
		case <-timer.C:
		}
	}
}

// obtain tries the lock once, giving up when ctx ends. A lock that the
// attempt obtains after that is released at once: the caller does not hold
// it.
func (s *Store) obtain(ctx context.Context, key string, ttl time.Duration) (*redislock.Lock, error) {
	return within(ctx, func(ctx context.Context) (*redislock.Lock, error) {
		return s.locker.Obtain(ctx, key, ttl, nil)
	}, func(lock *redislock.Lock, err error) {
		if err == nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ttl)
			_ = lock.Release(rctx)
			cancel()
		}
	})
}

// keepAlive renews the lease every ttl/3 while the lock is held, so a
// holder that takes longer than ttl (a slow refresh, then its save) keeps
// it; ttl only bounds how long the lock outlives a holder that died. The
// returned stop ends the renewing without waiting for a renewal in flight
// (it ends within ttl/3, and racing the release is harmless: whichever
// comes second finds the lease gone). Once a renewal finds the lease lost
// (taken over after Redis was unreachable for a whole ttl) it stops
// renewing; the holder learns of the loss at its next fenced Save or Clear,
// or at its unlock.
func keepAlive(lock *redislock.Lock, ttl time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			err := errors.New("redisstore: renewal panicked")
			safely(func() {
				ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
				defer cancel()
				_, err = within(ctx, func(ctx context.Context) (struct{}, error) {
					return struct{}{}, lock.Refresh(ctx, ttl, nil)
				}, nil)
			})
			if errors.Is(err, redislock.ErrNotObtained) {
				return
			}
			// Another error (Redis briefly down): the lease may still be
			// ours; try again at the next tick.
		}
	}()
	return func() { close(done) }
}

// unlockFunc returns the unlock of a held lock: it stops the renewing,
// unfences the Store's writes, releases the lease and hands the Store's turn
// on, once; later calls return nil. The release gives up when ctx ends, as
// every Redis call of the Store does; the turn is handed on all the same,
// and the lease goes when the abandoned release lands or at its TTL.
func (s *Store) unlockFunc(lock *redislock.Lock, ttl time.Duration, stop func()) func(context.Context) error {
	var once sync.Once
	return func(ctx context.Context) error {
		var err error
		once.Do(func() {
			defer func() { <-s.turn }()
			stop()
			// Before the release: a write between the two would be fenced
			// by a lease that is no longer there.
			s.setHeld("")
			_, err = within(ctx, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, lock.Release(ctx)
			}, nil)
		})
		switch {
		case err == nil:
			return nil
		case errors.Is(err, redislock.ErrLockNotHeld):
			return fmt.Errorf("redisstore: unlock %q: %w (held longer than its %v lease)", lock.Key(), storage.ErrLockExpired, ttl)
		default:
			return fmt.Errorf("redisstore: unlock %q: %w", lock.Key(), err)
		}
	}
}
