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
// out: another goroutine's Lock on it waits for the holder's unlock, even
// though the lock is free in Redis.
func TestStoreHasOneHolderEvenAfterItsLeaseRanOut(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client()
	s := redisstore.New(rdb, "token")
	ctx := t.Context()

	unlockStale, err := s.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, rdb.Del(ctx, s.LockKey()).Err()) // the lease runs out

	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	unlock2, err := s.Lock(wctx)
	if err == nil {
		_ = unlock2(ctx)
	}
	require.ErrorIs(t, err, context.DeadlineExceeded, "a second holder on the Store while the first has not unlocked")

	require.ErrorIs(t, unlockStale(ctx), storage.ErrLockExpired)
	unlock2, err = s.Lock(ctx)
	require.NoError(t, err, "the unlock let the next holder in")
	require.NoError(t, unlock2(ctx))
}
