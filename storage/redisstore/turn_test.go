package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/redisstore"
)

// One Store has one holder at a time, also after the holder's lease ran
// out: another goroutine's Lock on it waits for the holder's unlock. Were it
// let in, the Store would hold the lock again, and the stale holder's save
// would pass the fence.
func TestStoreHasOneHolderEvenAfterItsLeaseRanOut(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	s := redisstore.New(rdb, "token")
	other := redisstore.New(srv.Client(), "token")
	ctx := t.Context()

	unlockStale, err := s.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, rdb.Del(ctx, s.LockKey()).Err()) // the lease runs out
	unlockOther, err := other.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, other.Save(ctx, named("T2")))
	require.NoError(t, unlockOther(ctx)) // the lock is free in Redis

	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	unlock2, err := s.Lock(wctx)
	if err == nil {
		_ = unlock2(ctx)
	}
	require.ErrorIs(t, err, context.DeadlineExceeded, "a second holder on the Store while the first has not unlocked")
	assertLockLost(t, s.Save(ctx, named("T1")), "save")
	assertStored(t, other, named("T2"))

	require.ErrorIs(t, unlockStale(ctx), storage.ErrLockExpired)
	unlock2, err = s.Lock(ctx)
	require.NoError(t, err, "the unlock let the next holder in")
	require.NoError(t, unlock2(ctx))
}
