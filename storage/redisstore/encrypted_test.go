package redisstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/redisstore"
	"github.com/axiosgo/axios/storage/storagetest"
)

// storage.NewEncrypted over a Redis store: what Redis, its operator and its
// backups see is the sealed envelope, and the lock and its fence are the
// Redis store's.

func encryptionKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func newEncrypted(t *testing.T, inner storage.TokenStore, keys ...[]byte) storage.TokenStore {
	t.Helper()
	s, err := storage.NewEncrypted(inner, keys...)
	require.NoError(t, err)
	return s
}

func TestEncryptedContract(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	storagetest.Run(t, func(t *testing.T) storage.TokenStore {
		return newEncrypted(t, redisstore.New(rdb, "token:"+t.Name()), encryptionKey(1))
	})
}

func TestEncryptedRedisValueHoldsNoToken(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	s := newEncrypted(t, redisstore.New(rdb, "app:token"), encryptionKey(1))
	require.NoError(t, s.Save(ctx, secret))

	raw, err := rdb.Get(ctx, "app:token").Bytes()
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "s3cr3t")
	assert.NotContains(t, string(raw), "Bearer")
	assert.NotContains(t, string(raw), "2030", "the expiry must be sealed too")
	var env map[string]any
	require.NoError(t, json.Unmarshal(raw, &env), "the key must hold the Redis store's JSON")
	assert.Equal(t, "", env["refresh_token"])
	assert.True(t, strings.HasPrefix(env["access_token"].(string), "axios.enc.v1."))

	got, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, secret, got)
}

func TestEncryptedPlaintextOrForeignKeyValueIsErrCorrupt(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	plain := redisstore.New(rdb, "token")
	require.NoError(t, plain.Save(ctx, secret), "saved before encryption was turned on")

	s := newEncrypted(t, redisstore.New(rdb, "token"), encryptionKey(1))
	tok, err := s.Load(ctx)
	require.ErrorIs(t, err, storage.ErrCorrupt)
	assert.Nil(t, tok)
	assert.NotContains(t, err.Error(), "s3cr3t")

	require.NoError(t, s.Save(ctx, secret))
	_, err = newEncrypted(t, redisstore.New(rdb, "token"), encryptionKey(2)).Load(ctx)
	require.ErrorIs(t, err, storage.ErrCorrupt)
	assert.NotContains(t, err.Error(), "s3cr3t")
}

func TestEncryptedLockIsTheRedisStoresLock(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	ctx := t.Context()
	inner := redisstore.New(rdb, "token")
	s := newEncrypted(t, inner, encryptionKey(1))
	locker, ok := s.(storage.Locker)
	require.True(t, ok, "over a Redis store, which is a Locker")

	unlock, err := locker.Lock(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), rdb.Exists(ctx, inner.LockKey()).Val(), "the lock must be the Redis store's lock key")

	// Another process, encrypted or not, waits for it.
	other := newEncrypted(t, redisstore.New(srv.Client(), "token"), encryptionKey(1)).(storage.Locker)
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = other.Lock(wctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)

	// The holder's save is fenced, and lands while the lease is its own.
	require.NoError(t, s.Save(ctx, secret))
	got, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, secret, got)

	// Once the lease is lost, the fence's error comes through unchanged.
	require.NoError(t, rdb.Del(ctx, inner.LockKey()).Err())
	require.ErrorIs(t, s.Save(ctx, named("late")), storage.ErrLockExpired)
	require.ErrorIs(t, unlock(ctx), storage.ErrLockExpired)
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, secret, got, "the late save must not have landed")

	unlock, err = other.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, unlock(ctx))
}
