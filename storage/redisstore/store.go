package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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
// [Store.LockKey], renewed while it is held (see [Store.Lock]). While the
// Store holds its lock, its Save and Clear are fenced: they land only if the
// lease is still this Store's (see [Store.Save]).
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
	// fence is whether Save and Clear can check the lock: the script that
	// does reads the lock key and writes the token key, so both must be on
	// one server (see sameServer).
	fence bool

	// turn is a one-slot semaphore, full from a Lock until its unlock, so the
	// Store has at most one holder at a time, even once the holder's lease
	// ran out in Redis: a second holder would make the first one's saves
	// pass the fence again.
	turn chan struct{}
	mu   sync.Mutex
	held string // the lock key's value while this Store holds the lock, else ""
}

// New returns a [Store] that keeps the token under key in rdb, which can be
// a *redis.Client, *redis.ClusterClient or *redis.Ring. The caller keeps
// ownership of rdb and closes it when done.
func New(rdb redis.UniversalClient, key string) *Store {
	return &Store{
		rdb:    rdb,
		key:    key,
		locker: redislock.New(rdb),
		fence:  sameServer(rdb, key, lockKey(key)),
		turn:   make(chan struct{}, 1),
	}
}

// lockKey returns the lock key of key: "{key}:lock", or key+":lock" when
// key already holds a hash tag. Either way a Redis Cluster or a Ring hashes
// it as it hashes key, so both keys share a slot (a server). The one
// exception is a key with a '}' and no hash tag, such as "a{}b": no tag can
// name it, so its lock key is key+":lock", which only a single server keeps
// with it.
func lockKey(key string) string {
	if hasHashTag(key) || strings.IndexByte(key, '}') >= 0 {
		return key + ":lock"
	}
	return "{" + key + "}:lock"
}

// sameServer reports whether key and lock are always on one Redis server of
// rdb. A *redis.Client talks to one server (a failover client to its
// master). A Cluster or a Ring spreads keys over servers by the hash of a
// key's hash tag, or of the whole key when it has none; keys that hash the
// same part share a slot. A non-empty key always does with its lockKey but
// for the exception lockKey names.
func sameServer(rdb redis.UniversalClient, key, lock string) bool {
	if _, ok := rdb.(*redis.Client); ok {
		return true
	}
	return key != "" && hashed(key) == hashed(lock)
}

// hasHashTag reports whether key has a Redis Cluster hash tag: a non-empty
// part between its first '{' and the first '}' after it.
func hasHashTag(key string) bool {
	open := strings.IndexByte(key, '{')
	return open >= 0 && strings.IndexByte(key[open+1:], '}') > 0
}

// hashed returns the part of key that Redis Cluster (and go-redis's Ring)
// hashes to place it: its hash tag, or the whole key when it has none.
func hashed(key string) string {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if end := strings.IndexByte(key[open+1:], '}'); end > 0 {
			return key[open+1 : open+1+end]
		}
	}
	return key
}

// The fenced writes: KEYS[1] is the token key, KEYS[2] the lock key,
// ARGV[1] the holder's lock value. They return 0, writing nothing, when the
// lock key no longer holds that value.
var (
	fencedSet = redis.NewScript(`if redis.call("get", KEYS[2]) ~= ARGV[1] then return 0 end
redis.call("set", KEYS[1], ARGV[2])
return 1`)
	fencedDel = redis.NewScript(`if redis.call("get", KEYS[2]) ~= ARGV[1] then return 0 end
redis.call("del", KEYS[1])
return 1`)
)

// holding returns the lock value to fence a write with, or "" when the
// write is not fenced: the Store does not hold its lock, or cannot fence.
func (s *Store) holding() string {
	if !s.fence {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

func (s *Store) setHeld(value string) {
	s.mu.Lock()
	s.held = value
	s.mu.Unlock()
}

// fenced runs one of the fenced scripts with the holder's lock value held.
// A lease that ran out is an error wrapping storage.ErrLockExpired.
func (s *Store) fenced(ctx context.Context, op string, script *redis.Script, held string, args ...any) error {
	n, err := within(ctx, func(ctx context.Context) (int64, error) {
		return script.Run(ctx, s.rdb, []string{s.key, s.LockKey()}, append([]any{held}, args...)...).Int64()
	}, nil)
	switch {
	case err != nil:
		return fmt.Errorf("redisstore: %s: %w", op, err)
	case n == 0:
		return fmt.Errorf("redisstore: %s: refused, lock %q: %w (held longer than its %v lease; another holder may have written since)",
			op, s.LockKey(), storage.ErrLockExpired, s.lockTTL())
	}
	return nil
}

// Key returns the Redis key that holds the token.
func (s *Store) Key() string { return s.key }

// LockKey returns the Redis key of the lock: "{key}:lock", so that a Redis
// Cluster or a Ring puts it in the token key's hash slot, or key+":lock"
// when key already holds a hash tag (as "{myapp}:token" does). Earlier
// versions used key+":lock" for every key: while processes of both kinds
// share a key, they do not exclude each other.
func (s *Store) LockKey() string { return lockKey(s.key) }

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
//
// While the Store holds its lock (from a successful [Store.Lock] until its
// unlock), Save is fenced: one Lua script does the SET only if
// [Store.LockKey] still holds this Store's lease. Once the lease has run
// out, Save writes nothing and returns an error wrapping
// storage.ErrLockExpired, so a holder that stalled past its lease cannot
// overwrite the token a newer holder saved. Any other error (Redis
// unreachable) says nothing about the lease. Without the lock, Save is a
// plain SET. A Save from any goroutine is fenced while the Store holds the
// lock, not only the holder's.
//
// Fencing needs the token key and the lock key on one server, which
// [Store.LockKey] ensures on any client, a Cluster or a Ring included: the
// script runs in the token key's hash slot. (The one exception, a key with
// a '}' but no hash tag, stays unfenced on a Cluster or a Ring.)
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
	if held := s.holding(); held != "" {
		return s.fenced(ctx, "save", fencedSet, held, b)
	}
	if _, err := within(ctx, func(ctx context.Context) (string, error) {
		return s.rdb.Set(ctx, s.key, b, 0).Result()
	}, nil); err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	return nil
}

// Clear deletes the key. A missing key is not an error. While the Store
// holds its lock, Clear is fenced as [Store.Save] is: once the lease has
// run out it deletes nothing and returns an error wrapping
// storage.ErrLockExpired.
func (s *Store) Clear(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: clear: %w", err)
	}
	if held := s.holding(); held != "" {
		return s.fenced(ctx, "clear", fencedDel, held)
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
//
// op runs on a goroutine of its own, where a panic (a bug in a go-redis hook
// of the caller's client, say) could be recovered by nobody: within catches
// it and panics again on the caller's goroutine, or, once the caller has
// gone, hands abandoned an error instead.
func within[T any](ctx context.Context, op func(context.Context) (T, error), abandoned func(T, error)) (T, error) {
	type outcome struct {
		v        T
		err      error
		panicked any
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o = outcome{panicked: p, err: fmt.Errorf("redisstore: panic in a Redis call: %v", p)}
			}
			done <- o
		}()
		o.v, o.err = op(ctx)
	}()
	select {
	case o := <-done:
		if o.panicked != nil {
			panic(o.panicked)
		}
		return o.v, o.err
	case <-ctx.Done():
		if abandoned != nil {
			go func() {
				o := <-done
				safely(func() { abandoned(o.v, o.err) })
			}()
		}
		var zero T
		return zero, ctx.Err()
	}
}

// safely runs f, recovering a panic: for the Store's own goroutines (the
// renewal, the clean-up of an abandoned call), where a panic would end the
// process and nobody waits for f's outcome.
func safely(f func()) {
	defer func() { _ = recover() }()
	f()
}
