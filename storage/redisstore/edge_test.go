package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/redisstore"
)

// Edge cases: JSON of another shape, a key of another Redis type, a Redis too
// slow for the caller's ctx.

// JSON objects that are not the token shape the stores write. ErrCorrupt's
// doc: "the stored data is not a token this package wrote: invalid JSON, or
// JSON of another shape"; docs/storage.md: "A value that is not a token of
// this shape makes Load return an error that wraps storage.ErrCorrupt".
var otherShapes = map[string]string{
	"camelCase":    `{"accessToken":"s3cr3t-access","refreshToken":"s3cr3t-refresh"}`,
	"empty object": `{}`,
	"unrelated":    `{"name":"my-app","version":3}`,
}

func TestLoadJSONOfAnotherShapeIsCorrupt(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	for name, content := range otherShapes {
		t.Run(name, func(t *testing.T) {
			key := "k:" + name
			require.NoError(t, rdb.Set(t.Context(), key, content, 0).Err())
			tok, err := redisstore.New(rdb, key).Load(t.Context())
			require.ErrorIs(t, err, storage.ErrCorrupt, "JSON of another shape must be ErrCorrupt, got token %+v", tok)
			assert.Nil(t, tok)
		})
	}
}

// Store's doc: Load returns "an error wrapping storage.ErrCorrupt when it
// holds something else than a token"; a hash is something else than a token.
func TestLoadWrongTypeIsCorrupt(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	require.NoError(t, rdb.HSet(t.Context(), "k", "access_token", "s3cr3t").Err())
	s := redisstore.New(rdb, "k")
	tok, err := s.Load(t.Context())
	require.Error(t, err)
	assert.Nil(t, tok)
	assert.NotErrorIs(t, err, storage.ErrNoToken)
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.ErrorIs(t, err, storage.ErrCorrupt, "a key holding a hash holds something else than a token: %v", err)
}

// pauseRedis makes the server hold every client's commands for d, as an
// overloaded Redis, or one busy with a slow command, does.
func pauseRedis(t *testing.T, srv *redistest.Server, d time.Duration) {
	t.Helper()
	admin := srv.Client()
	require.NoError(t, admin.Do(t.Context(), "CLIENT", "PAUSE", d.Milliseconds(), "ALL").Err())
}

// Locker: "Lock blocks until it holds the lock or ctx ends, in which case it
// returns an error wrapping ctx.Err()", also on a client built with
// go-redis's default options (ContextTimeoutEnabled false), where go-redis
// would wait for its ReadTimeout while Redis is slow. The lock the abandoned
// attempt obtains once Redis answers is released: nobody holds it.
func TestLockGivesUpWhenCtxEnds(t *testing.T) {
	srv := redistest.Start(t)
	s := redisstore.New(srv.Client(), "token")
	warm, err := s.Lock(t.Context()) // loads the scripts and warms the pool
	require.NoError(t, err)
	require.NoError(t, warm(t.Context()))
	pauseRedis(t, srv, 2*time.Second)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	unlock, err := s.Lock(ctx)
	elapsed := time.Since(start)
	if err == nil {
		_ = unlock(context.Background())
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Lock must fail with ctx's error once ctx ended; it returned after %v", elapsed)
	assert.Less(t, elapsed, time.Second, "Lock returned %v after its 200ms ctx began (err %v)", elapsed, err)
	assert.Eventually(t, func() bool {
		n, err := srv.Client().Exists(context.Background(), s.LockKey()).Result()
		return err == nil && n == 0
	}, 10*time.Second, 50*time.Millisecond, "the lock obtained after Lock gave up is released")
}

// TokenStore: Load, Save and Clear "give up when ctx ends".
func TestLoadGivesUpWhenCtxEnds(t *testing.T) {
	srv := redistest.Start(t)
	s := redisstore.New(srv.Client(), "token")
	require.NoError(t, s.Save(t.Context(), &oauth2.Token{AccessToken: "a"}))
	pauseRedis(t, srv, 2*time.Second)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Load(ctx)
	elapsed := time.Since(start)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Load must fail with ctx's error once ctx ended; it returned after %v", elapsed)
	assert.Less(t, elapsed, time.Second, "Load returned %v after its 200ms ctx began (err %v)", elapsed, err)
}
