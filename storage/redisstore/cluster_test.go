package redisstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/redisstore"
	"github.com/axiosgo/axios/storage/storagetest"
)

// On a real 3-node Redis Cluster the store works unchanged: the conformance
// suite passes, the lock key shares the token key's hash slot (CLUSTER
// KEYSLOT), and a holder whose lease ran out cannot save.
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	rdb := c.Client()

	t.Run("Contract", func(t *testing.T) {
		storagetest.Run(t, func(t *testing.T) storage.TokenStore {
			return redisstore.New(rdb, "token:"+t.Name())
		})
	})

	t.Run("LockKeySharesTheSlot", func(t *testing.T) {
		ctx := t.Context()
		for _, key := range []string{"myapp:token", "{myapp}:token", "token", "a{b", "x:y:z"} {
			s := redisstore.New(rdb, key)
			slot := rdb.ClusterKeySlot(ctx, s.Key()).Val()
			assert.Equal(t, slot, rdb.ClusterKeySlot(ctx, s.LockKey()).Val(), "%q and %q", s.Key(), s.LockKey())
		}
	})

	t.Run("FencedSave", func(t *testing.T) {
		ctx := t.Context()
		a := redisstore.New(rdb, "myapp:token")
		b := redisstore.New(rdb, "myapp:token")
		unlock, err := a.Lock(ctx)
		require.NoError(t, err)
		require.NoError(t, a.Save(ctx, named("T1")))
		assertStored(t, b, named("T1"))
		require.NoError(t, rdb.Del(ctx, a.LockKey()).Err()) // the lease runs out
		unlockB, err := b.Lock(ctx)
		require.NoError(t, err)
		require.NoError(t, b.Save(ctx, named("T2")))
		assertLockLost(t, a.Save(ctx, named("T1")), "save")
		assertLockLost(t, a.Clear(ctx), "clear")
		assertStored(t, b, named("T2"))
		require.NoError(t, unlockB(ctx))
		require.ErrorIs(t, unlock(ctx), storage.ErrLockExpired)
		require.NoError(t, b.Clear(ctx))
	})
}
