package redisstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/redisstore"
	"github.com/axiosgo/axios/storage/storagetest"
)

func TestContract(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	storagetest.Run(t, func(t *testing.T) storage.TokenStore {
		// One server for the whole suite: each subtest gets its own key.
		return redisstore.New(rdb, "token:"+t.Name())
	})
}

func TestStoresTokenAsJSONInOneKey(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	s := redisstore.New(rdb, "app:token")
	assert.Equal(t, "app:token", s.Key())
	assert.Equal(t, "{app:token}:lock", s.LockKey())
	assert.Equal(t, "{app}:token:lock", redisstore.New(rdb, "{app}:token").LockKey(), "a key with a hash tag keeps it")
	require.NoError(t, s.Save(ctx, secret))

	keys, err := rdb.Keys(ctx, "*").Result()
	require.NoError(t, err)
	assert.Equal(t, []string{"app:token"}, keys, "Save must write one key and nothing else")

	raw, err := rdb.Get(ctx, "app:token").Bytes()
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got), "the key must hold JSON")
	assert.Equal(t, map[string]any{
		"access_token":  "s3cr3t-access",
		"token_type":    "Bearer",
		"refresh_token": "s3cr3t-refresh",
		"expiry":        "2030-01-01T00:00:00Z",
	}, got)
	assert.Equal(t, time.Duration(-1), rdb.TTL(ctx, "app:token").Val(), "the token key must not expire")

	require.NoError(t, s.Clear(ctx))
	assert.Equal(t, int64(0), rdb.Exists(ctx, "app:token").Val(), "Clear must delete the key")
}

func TestCorruptValueIsErrCorrupt(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	require.NoError(t, rdb.Set(t.Context(), "k", "s3cr3t-not-json", 0).Err())
	tok, err := redisstore.New(rdb, "k").Load(t.Context())
	require.ErrorIs(t, err, storage.ErrCorrupt)
	assert.Nil(t, tok)
	assert.NotErrorIs(t, err, storage.ErrNoToken)
	assert.NotContains(t, err.Error(), "s3cr3t")
}

func TestRedisDownGivesClearErrorsAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	s := redisstore.New(rdb, "token")
	require.NoError(t, s.Save(t.Context(), secret))

	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tok, err := s.Load(ctx)
	require.Error(t, err)
	assert.Nil(t, tok)
	assert.NotErrorIs(t, err, storage.ErrNoToken, "Redis being down is not an empty store")
	assert.True(t, strings.HasPrefix(err.Error(), "redisstore: load: "), err.Error())
	assert.Contains(t, err.Error(), "connection refused")

	for name, err := range map[string]error{
		"save":  s.Save(ctx, secret),
		"clear": s.Clear(ctx),
		"lock":  lockErr(ctx, s),
	} {
		require.Error(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "+name), err.Error())
		assert.NotContains(t, err.Error(), "s3cr3t", name)
	}
	assert.NotContains(t, err.Error(), "s3cr3t")

	require.NoError(t, srv.Restart())
	// go-redis redials on its own; the first commands after a restart may
	// still meet the pool's memory of the failed dials.
	require.Eventually(t, func() bool { return s.Save(ctx, secret) == nil }, 10*time.Second, 50*time.Millisecond,
		"the store did not work again after Redis came back")
	got, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, secret.AccessToken, got.AccessToken)
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, unlock(ctx))
}

func lockErr(ctx context.Context, s *redisstore.Store) error {
	unlock, err := s.Lock(ctx)
	if err == nil {
		_ = unlock(ctx)
	}
	return err
}

func TestDefaultLockTTLOutlivesRefreshTimeout(t *testing.T) {
	const authRefreshTimeout = 30 * time.Second // auth.Options.RefreshTimeout's default
	require.Greater(t, redisstore.DefaultLockTTL, authRefreshTimeout)

	srv := redistest.Start(t)
	rdb := srv.Client()
	s := redisstore.New(rdb, "token")
	unlock, err := s.Lock(t.Context())
	require.NoError(t, err)
	ttl := rdb.PTTL(t.Context(), s.LockKey()).Val()
	assert.Greater(t, ttl, authRefreshTimeout, "lock key TTL")
	assert.LessOrEqual(t, ttl, redisstore.DefaultLockTTL, "lock key TTL")
	require.NoError(t, unlock(t.Context()))
	assert.Equal(t, int64(0), rdb.Exists(t.Context(), s.LockKey()).Val(), "unlock must delete the lock key")
}

func TestLockTTLIsConfigurable(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	s := redisstore.New(rdb, "token")
	s.LockTTL = 5 * time.Second
	unlock, err := s.Lock(t.Context())
	require.NoError(t, err)
	defer unlock(t.Context())
	ttl := rdb.PTTL(t.Context(), s.LockKey()).Val()
	assert.Greater(t, ttl, 4*time.Second)
	assert.LessOrEqual(t, ttl, 5*time.Second)
}

func TestLockExcludesOtherStoreValuesOnTheSameKey(t *testing.T) {
	srv := redistest.Start(t)
	// Two clients stand for two processes.
	a := redisstore.New(srv.Client(), "shared")
	b := redisstore.New(srv.Client(), "shared")
	unlock, err := a.Lock(t.Context())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = b.Lock(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, strings.HasPrefix(err.Error(), `redisstore: lock "{shared}:lock": `), err.Error())

	require.NoError(t, unlock(t.Context()))
	unlockB, err := b.Lock(t.Context())
	require.NoError(t, err)
	require.NoError(t, unlockB(t.Context()))
}

func TestLockWaitsPastItsTTLWhenCtxHasNoDeadline(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	// A holder that never unlocks, with a lease shorter than the waiter's:
	// redislock alone would give up after the waiter's TTL.
	start := time.Now() // before the SET: the holder's 600ms count from here at the latest
	require.NoError(t, rdb.Set(t.Context(), "{k}:lock", "someone-else", 600*time.Millisecond).Err())
	s := redisstore.New(rdb, "k")
	s.LockTTL = 200 * time.Millisecond
	unlock, err := s.Lock(context.WithoutCancel(t.Context()))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 400*time.Millisecond, "got the lock while someone else held it")
	require.NoError(t, unlock(t.Context()))
}

func TestUnlockAfterExpiryKeepsTheNewHoldersLock(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	slow := redisstore.New(rdb, "token")
	slow.LockTTL = 50 * time.Millisecond
	other := redisstore.New(rdb, "token")

	unlockSlow, err := slow.Lock(t.Context())
	require.NoError(t, err)
	// The lease runs out under the holder, as when Redis was unreachable
	// for longer than it and its renewals failed.
	require.NoError(t, rdb.Del(t.Context(), slow.LockKey()).Err())

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	unlockOther, err := other.Lock(ctx)
	require.NoError(t, err, "the expired lock did not free itself")

	err = unlockSlow(t.Context())
	require.ErrorIs(t, err, storage.ErrLockExpired)
	assert.True(t, strings.HasPrefix(err.Error(), "redisstore: unlock"), err.Error())
	assert.Equal(t, int64(1), rdb.Exists(t.Context(), other.LockKey()).Val(), "the late unlock released the new holder's lock")

	ctx2, cancel2 := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel2()
	_, err = slow.Lock(ctx2)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the lock must still be held by the new holder")
	require.NoError(t, unlockOther(t.Context()))
}

func TestWorksWithUniversalClient(t *testing.T) {
	srv := redistest.Start(t)
	u := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{srv.Addr}})
	t.Cleanup(func() { _ = u.Close() })
	s := redisstore.New(u, "token")
	require.NoError(t, s.Save(t.Context(), secret))
	got, err := s.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, secret.RefreshToken, got.RefreshToken)
}
