package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage/redisstore"
)

// The unlock's ctx and a panic in a Redis call: what the Store promises
// beyond the storagetest suite.

// waitRedis waits until srv answers again after a CLIENT PAUSE, so that the
// goroutines of abandoned commands have ended before goleak looks.
func waitRedis(t *testing.T, srv *redistest.Server) {
	t.Helper()
	c := srv.Client()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return c.Ping(ctx).Err() == nil
	}, 10*time.Second, 50*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // the abandoned commands' replies come in
}

// storage.Locker: the unlock function is called "with a context that bounds
// the release", and the Store's doc promises that every method gives up when
// its ctx ends "also on a client made without ContextTimeoutEnabled". Load,
// Save, Clear and Lock keep that promise through within(); the unlock calls
// lock.Release(ctx) directly, so on a client built with go-redis's default
// options a slow Redis holds the unlock (and with it the Store's turn, and
// the auth package's refresh, which bounds the unlock with its cleanup
// timeout) for as long as Redis takes, up to ReadTimeout, not ctx. So the
// unlock goes through within() as well.
func TestUnlockGivesUpWhenCtxEnds(t *testing.T) {
	srv := redistest.Start(t)
	s := redisstore.New(srv.Client(), "token") // ContextTimeoutEnabled: false
	unlock, err := s.Lock(t.Context())
	require.NoError(t, err)
	defer waitRedis(t, srv)
	pauseRedis(t, srv, 2*time.Second)

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = unlock(ctx)
	elapsed := time.Since(start)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the unlock must fail with ctx's error once ctx ended; it returned after %v", elapsed)
	assert.Less(t, elapsed, time.Second, "the unlock returned %v after its 200ms ctx began (err %v)", elapsed, err)
}

// panickingHook is a go-redis hook with a bug, as a user's metrics or
// tracing hook can have.
type panickingHook struct{}

func (panickingHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (panickingHook) ProcessHook(redis.ProcessHook) redis.ProcessHook {
	return func(context.Context, redis.Cmder) error { panic("hook bug") }
}
func (panickingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A panic in the Redis call of a Store method (here a buggy go-redis hook on
// the caller's client) must reach the caller's goroutine, where the caller
// can recover it: the auth package recovers a store's panic and turns it
// into a failed refresh (docs/auth.md: "it never takes the process down").
// within() runs every Redis call on a goroutine of its own, where nobody
// could recover it; it hands the panic back to the caller. The child process
// below recovers around Load; without that it would crash.
func TestPanicInRedisCallReachesTheCaller(t *testing.T) {
	if os.Getenv("REDISSTORE_PANIC_CHILD") == "1" {
		rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
		defer rdb.Close()
		rdb.AddHook(panickingHook{})
		s := redisstore.New(rdb, "token")
		recovered := func() (p any) {
			defer func() { p = recover() }()
			_, _ = s.Load(context.Background())
			return nil
		}()
		fmt.Printf("recovered: %v\n", recovered)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPanicInRedisCallReachesTheCaller$", "-test.count=1")
	cmd.Env = append(os.Environ(), "REDISSTORE_PANIC_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the process died of a panic its caller recovers around Load:\n%s", out)
	assert.Contains(t, string(out), "recovered: hook bug")
}
