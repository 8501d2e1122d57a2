package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bsm/redislock"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/internal/tokenjson"
	"github.com/axiosgo/axios/storage"
)

// DefaultLockTTL is the lease of a [Store] lock when [Store.LockTTL] is zero.
// The lease is renewed while the lock is held, so it bounds only how long a
// process that dies holding the lock blocks the others: under a minute.
const DefaultLockTTL = 45 * time.Second

var errNilToken = errors.New("redisstore: save: nil token (use Clear to remove the token)")

var (
	_ storage.TokenStore = (*Store)(nil)
	_ storage.Locker     = (*Store)(nil)
)

// Store is a storage.TokenStore and storage.Locker that keeps the token as
// JSON under one Redis key, with no Redis expiry. Lock is a lease on
// [Store.LockKey], renewed while it is held (see [Store.Lock]).
//
// Load returns storage.ErrNoToken when the key does not exist and an error
// wrapping storage.ErrCorrupt when it holds something else than a token. A
// Redis failure (unreachable, timeout, auth) is returned wrapped, as in
// "redisstore: load: dial tcp 127.0.0.1:6379: connect: connection refused",
// and is never storage.ErrNoToken; the client reconnects by itself, so the
// store works again once Redis is back. Every method gives up when its ctx
// ends, also on a client made without ContextTimeoutEnabled.
//
// Store is safe for concurrent use by multiple goroutines, and by any number
// of processes sharing the key. Set LockTTL before the first use; the store
// does not close the client.
type Store struct {
	// LockTTL is the lease of the lock taken by Lock, renewed every
	// LockTTL/3 while it is held: a holder that dies (or loses Redis for
	// longer than LockTTL) frees the lock after at most LockTTL. Zero means
	// DefaultLockTTL.
	LockTTL time.Duration

	rdb    redis.UniversalClient
	key    string
	locker *redislock.Client

	// turn is a one-slot semaphore, full from a Lock until its unlock, so the
	// Store has at most one holder at a time, even once the holder's lease
	// ran out in Redis.
	turn chan struct{}
}

// New returns a [Store] that keeps the token under key in rdb, which can be
// a *redis.Client, *redis.ClusterClient or *redis.Ring. The caller keeps
// ownership of rdb and closes it when done.
func New(rdb redis.UniversalClient, key string) *Store {
	return &Store{rdb: rdb, key: key, locker: redislock.New(rdb), turn: make(chan struct{}, 1)}
}

// Key returns the Redis key that holds the token.
func (s *Store) Key() string { return s.key }

// LockKey returns the Redis key of the lock, Key()+":lock".
func (s *Store) LockKey() string { return s.key + ":lock" }

// Load reads the token from the key. It returns storage.ErrNoToken when the
// key does not exist.
func (s *Store) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	b, err := within(ctx, func(ctx context.Context) ([]byte, error) {
		return s.rdb.Get(ctx, s.key).Bytes()
	}, nil)
	if errors.Is(err, redis.Nil) {
		return nil, storage.ErrNoToken
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && strings.HasPrefix(rerr.Error(), "WRONGTYPE") {
		return nil, fmt.Errorf("redisstore: key %q: %w: it holds another Redis type", s.key, storage.ErrCorrupt)
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	tok, err := tokenjson.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("redisstore: key %q: %w: %w", s.key, storage.ErrCorrupt, err)
	}
	return tok, nil
}

// Save writes tok to the key with one SET, which Redis applies atomically.
// A nil tok is an error; use [Store.Clear] to remove the token.
func (s *Store) Save(ctx context.Context, tok *oauth2.Token) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	if tok == nil {
		return errNilToken
	}
	b, err := tokenjson.Encode(tok)
	if err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	if _, err := within(ctx, func(ctx context.Context) (string, error) {
		return s.rdb.Set(ctx, s.key, b, 0).Result()
	}, nil); err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	return nil
}

// Clear deletes the key. A missing key is not an error.
func (s *Store) Clear(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: clear: %w", err)
	}
	if _, err := within(ctx, func(ctx context.Context) (int64, error) {
		return s.rdb.Del(ctx, s.key).Result()
	}, nil); err != nil {
		return fmt.Errorf("redisstore: clear: %w", err)
	}
	return nil
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
