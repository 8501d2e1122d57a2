package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
)

// DefaultLockTTL is the lease of a [Redis] lock when [Redis.LockTTL] is zero.
// The lease is renewed while the lock is held, so it bounds only how long a
// process that dies holding the lock blocks the others: under a minute.
const DefaultLockTTL = 45 * time.Second

// Bounds of the exponential backoff between attempts of a waiting
// [Redis.Lock]: 16ms keeps a short wait short, 512ms keeps hundreds of waiting
// processes from hammering Redis during a refresh.
const (
	redisLockMinBackoff = 16 * time.Millisecond
	redisLockMaxBackoff = 512 * time.Millisecond
)

// Redis is a [TokenStore] and [Locker] that keeps the token as JSON under one
// Redis key, for tokens shared by processes on several machines. The JSON has
// the fields access_token, token_type, refresh_token and, for a token that
// expires, expiry (RFC 3339); other fields of oauth2.Token are not stored.
// The key has no Redis expiry.
//
// Lock is a lease on the key Key()+":lock", taken with
// github.com/bsm/redislock: SET NX with a random value and a TTL of
// [Redis.LockTTL], released by a script that deletes the key only if it still
// holds that value, so an unlock never releases a lock someone else took after
// the lease ran out. While the lock is held its lease is renewed every
// LockTTL/3, however long the holder takes; call the unlock Lock returns, or
// the lock is held until the process ends. A waiting Lock retries with
// exponential backoff (16ms to 512ms) until it gets the lock or ctx ends.
//
// Errors: Load returns [ErrNoToken] when the key does not exist and an error
// wrapping [ErrCorrupt] when it holds something else than a token. A Redis
// failure (unreachable, timeout, auth) is returned wrapped, as in
// "storage: redis load: dial tcp 127.0.0.1:6379: connect: connection refused";
// it is never [ErrNoToken]. The client reconnects by itself, so the store
// works again once Redis is back.
//
// Every method gives up when its ctx ends, also on a client made without
// ContextTimeoutEnabled, where go-redis itself waits for its ReadTimeout; a
// lock obtained after its Lock gave up is released at once.
//
// Redis is safe for concurrent use by multiple goroutines, and by any number
// of processes sharing the key. Set LockTTL before the first use; the store
// does not close the client.
type Redis struct {
	// LockTTL is the lease of the lock taken by Lock, renewed every
	// LockTTL/3 while it is held: a holder that dies (or loses Redis for
	// longer than LockTTL) frees the lock after at most LockTTL. Zero means
	// DefaultLockTTL.
	LockTTL time.Duration

	rdb    redis.UniversalClient
	key    string
	locker *redislock.Client
}

// NewRedis returns a [Redis] store that keeps the token under key in rdb,
// which can be a *redis.Client, *redis.ClusterClient or *redis.Ring. The
// caller keeps ownership of rdb and closes it when done.
func NewRedis(rdb redis.UniversalClient, key string) *Redis {
	return &Redis{rdb: rdb, key: key, locker: redislock.New(rdb)}
}

// Key returns the Redis key that holds the token.
func (r *Redis) Key() string { return r.key }

// LockKey returns the Redis key of the lock, Key()+":lock".
func (r *Redis) LockKey() string { return r.key + ":lock" }

// Load reads the token from the key. It returns [ErrNoToken] when the key
// does not exist.
func (r *Redis) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: redis load: %w", err)
	}
	b, err := within(ctx, func(ctx context.Context) ([]byte, error) {
		return r.rdb.Get(ctx, r.key).Bytes()
	}, nil)
	if errors.Is(err, redis.Nil) {
		return nil, ErrNoToken
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "WRONGTYPE") {
		return nil, fmt.Errorf("storage: redis key %q: %w: it holds another Redis type", r.key, ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: redis load: %w", err)
	}
	tok, err := decodeToken(b)
	if err != nil {
		return nil, fmt.Errorf("storage: redis key %q: %w", r.key, err)
	}
	return tok, nil
}

// Save writes tok to the key with one SET, which Redis applies atomically.
// A nil tok is an error; use [Redis.Clear] to remove the token.
func (r *Redis) Save(ctx context.Context, tok *oauth2.Token) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: redis save: %w", err)
	}
	if tok == nil {
		return errNilToken
	}
	b, err := encodeToken(tok)
	if err != nil {
		return fmt.Errorf("storage: redis save: %w", err)
	}
	if _, err := within(ctx, func(ctx context.Context) (string, error) {
		return r.rdb.Set(ctx, r.key, b, 0).Result()
	}, nil); err != nil {
		return fmt.Errorf("storage: redis save: %w", err)
	}
	return nil
}

// Clear deletes the key. A missing key is not an error.
func (r *Redis) Clear(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: redis clear: %w", err)
	}
	if _, err := within(ctx, func(ctx context.Context) (int64, error) {
		return r.rdb.Del(ctx, r.key).Result()
	}, nil); err != nil {
		return fmt.Errorf("storage: redis clear: %w", err)
	}
	return nil
}

// Lock takes the lease on LockKey(), waiting with exponential backoff until it
// is free or ctx ends. A Redis failure while trying is returned at once. The
// returned unlock releases the lease if this call still holds it; if the lease
// had run out, unlock returns an error wrapping [ErrLockExpired] and leaves
// whoever holds the key now alone.
func (r *Redis) Lock(ctx context.Context) (func(context.Context) error, error) {
	ttl := r.LockTTL
	if ttl <= 0 {
		ttl = DefaultLockTTL
	}
	key := r.LockKey()
	// The waiting loop is ours rather than redislock's RetryStrategy option:
	// with a ctx that has no deadline, redislock gives up after one TTL, while
	// Locker promises to wait until ctx ends.
	backoff := redislock.ExponentialBackoff(redisLockMinBackoff, redisLockMaxBackoff)
	var timer *time.Timer
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("storage: redis lock %q: %w", key, err)
		}
		lock, err := r.obtain(ctx, key, ttl)
		if err == nil {
			return r.unlockFunc(lock, ttl, r.keepAlive(lock, ttl)), nil
		}
		if !errors.Is(err, redislock.ErrNotObtained) {
			return nil, fmt.Errorf("storage: redis lock %q: %w", key, err)
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
			return nil, fmt.Errorf("storage: redis lock %q: %w", key, ctx.Err())
		case <-timer.C:
		}
	}
}

// obtain tries the lock once, giving up when ctx ends. A lock that the
// attempt obtains after that is released at once: the caller does not hold
// it.
func (r *Redis) obtain(ctx context.Context, key string, ttl time.Duration) (*redislock.Lock, error) {
	return within(ctx, func(ctx context.Context) (*redislock.Lock, error) {
		return r.locker.Obtain(ctx, key, ttl, nil)
	}, func(lock *redislock.Lock, err error) {
		if err == nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ttl)
			_ = lock.Release(rctx)
			cancel()
		}
	})
}

// within runs op, and returns ctx's error when ctx ends first. go-redis
// honours ctx's deadline only on a client made with ContextTimeoutEnabled;
// otherwise it waits for its own ReadTimeout, which a store promising to
// give up when ctx ends cannot. The abandoned op ends at that timeout, and
// its outcome goes to abandoned, when not nil.
func within[T any](ctx context.Context, op func(context.Context) (T, error), abandoned func(T, error)) (T, error) {
	type outcome struct {
		v   T
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		v, err := op(ctx)
		done <- outcome{v, err}
	}()
	select {
	case o := <-done:
		return o.v, o.err
	case <-ctx.Done():
		if abandoned != nil {
			go func() {
				o := <-done
				abandoned(o.v, o.err)
			}()
		}
		var zero T
		return zero, ctx.Err()
	}
}

// keepAlive renews the lease every ttl/3 while the lock is held, so a
// holder that takes longer than ttl (a slow refresh, then its save) keeps
// it; ttl only bounds how long the lock outlives a holder that died. The
// returned stop ends the renewing and reports whether the lease was lost
// (taken over after Redis was unreachable for a whole ttl).
func (r *Redis) keepAlive(lock *redislock.Lock, ttl time.Duration) (stop func() (lost bool)) {
	done := make(chan struct{})
	var lost atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
			_, err := within(ctx, func(ctx context.Context) (struct{}, error) {
				return struct{}{}, lock.Refresh(ctx, ttl, nil)
			}, nil)
			cancel()
			if errors.Is(err, redislock.ErrNotObtained) {
				lost.Store(true)
				return
			}
			// Another error (Redis briefly down): the lease may still be
			// ours; try again at the next tick.
		}
	}()
	return func() bool {
		close(done)
		wg.Wait()
		return lost.Load()
	}
}

func (r *Redis) unlockFunc(lock *redislock.Lock, ttl time.Duration, stop func() bool) func(context.Context) error {
	var once sync.Once
	return func(ctx context.Context) error {
		var err error
		once.Do(func() {
			stop()
			err = lock.Release(ctx)
		})
		switch {
		case err == nil:
			return nil
		case errors.Is(err, redislock.ErrLockNotHeld):
			return fmt.Errorf("storage: redis unlock %q: %w (held longer than its %v lease)", lock.Key(), ErrLockExpired, ttl)
		default:
			return fmt.Errorf("storage: redis unlock %q: %w", lock.Key(), err)
		}
	}
}
