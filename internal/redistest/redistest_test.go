package redistest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestStartAnswersPingOnLoopback(t *testing.T) {
	s := Start(t)
	require.True(t, strings.HasPrefix(s.Addr, "127.0.0.1:"), "Addr %q is not loopback", s.Addr)

	rdb := s.Client()
	ctx := t.Context()
	require.NoError(t, rdb.Ping(ctx).Err())
	require.NoError(t, rdb.Set(ctx, "k", "v", 0).Err())
	assert.Equal(t, "v", rdb.Get(ctx, "k").Val())
}

func TestStartRunsWithoutPersistence(t *testing.T) {
	s := Start(t)
	cfg, err := s.Client().ConfigGet(t.Context(), "*").Result()
	require.NoError(t, err)
	assert.Equal(t, "", cfg["save"], "RDB snapshots must be off")
	assert.Equal(t, "no", cfg["appendonly"])
	assert.Equal(t, "127.0.0.1", cfg["bind"])
}

func TestStopTakesRedisDownAndRestartBringsItBack(t *testing.T) {
	s := Start(t)
	rdb := s.Client()
	ctx := t.Context()
	addr := s.Addr
	require.NoError(t, rdb.Set(ctx, "k", "v", 0).Err())

	s.Stop()
	assert.Error(t, ping(s.Addr), "server still answers after Stop")
	s.Stop() // idempotent

	require.NoError(t, s.Restart())
	assert.Equal(t, addr, s.Addr, "Restart must keep the address")
	require.Eventually(t, func() bool { return rdb.Ping(ctx).Err() == nil }, 10*time.Second, 50*time.Millisecond,
		"the client did not reconnect to the restarted server")
	assert.Equal(t, int64(0), rdb.Exists(ctx, "k").Val(), "a restarted server starts empty")
}

func TestTwoServersAreIndependent(t *testing.T) {
	a, b := Start(t), Start(t)
	require.NotEqual(t, a.Addr, b.Addr)
	ctx := t.Context()
	require.NoError(t, a.Client().Set(ctx, "k", "a", 0).Err())
	assert.Equal(t, int64(0), b.Client().Exists(ctx, "k").Val())
}

func TestStartProcessAndCloseRemoveEverything(t *testing.T) {
	s, err := StartProcess()
	require.NoError(t, err)
	dir := s.dir
	require.NoError(t, s.Client().Ping(t.Context()).Err())

	require.NoError(t, s.Close())
	assert.Error(t, ping(s.Addr), "server still answers after Close")
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "Close left %s behind", dir)
	require.NoError(t, s.Close(), "a second Close must do nothing")
	assert.Error(t, s.Restart(), "Restart after Close must fail")
}

func TestMissingBinarySkipsLocally(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "")
	tb := runFake(func(tb testing.TB) { Start(tb) })
	assert.True(t, tb.skipped, "Start did not skip without redis-server")
	assert.False(t, tb.failed)
	assert.Contains(t, tb.msg, "apt-get install redis-server")
}

func TestMissingBinaryFailsInCI(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "true")
	tb := runFake(func(tb testing.TB) { Start(tb) })
	assert.True(t, tb.failed, "Start must fail, not skip, under CI")
	assert.False(t, tb.skipped)
	assert.Contains(t, tb.msg, "apt-get install redis-server")
}

func TestStartProcessWithoutBinaryWrapsErrNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := StartProcess()
	assert.ErrorIs(t, err, ErrNotInstalled)
}

// fakeTB records how Start ends a test. Skipf and Fatalf stop the goroutine as
// the real ones do; everything else goes to the embedded nil TB and would
// panic, which is how this test notices Start doing more than expected.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func runFake(fn func(testing.TB)) *fakeTB {
	tb := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(tb)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		panic("fake test did not finish")
	}
	return tb
}

// The readiness check tells our redis-server from another one that took the
// port: it must be the process we started, not anything that answers.
func TestReadinessChecksTheServerIsOurs(t *testing.T) {
	s := Start(t)
	s.mu.Lock()
	pid := s.proc.cmd.Process.Pid
	s.mu.Unlock()
	assert.NoError(t, ours(s.Addr, pid))
	assert.ErrorContains(t, ours(s.Addr, pid+1), "another redis-server answers")
}

func TestStartClusterServesEverySlot(t *testing.T) {
	c := StartCluster(t, 3)
	require.Len(t, c.Addrs, 3)
	rdb := c.Client()
	ctx := t.Context()
	slots, err := rdb.ClusterSlots(ctx).Result()
	require.NoError(t, err)
	covered := 0
	for _, s := range slots {
		covered += s.End - s.Start + 1
	}
	assert.Equal(t, 16384, covered, "every slot is served")
	assert.Len(t, slots, 3, "three masters, no replicas")
	// Keys in different slots land on different nodes and read back.
	for i := range 20 {
		k := fmt.Sprintf("k%d", i)
		require.NoError(t, rdb.Set(ctx, k, i, 0).Err())
		assert.Equal(t, fmt.Sprint(i), rdb.Get(ctx, k).Val())
	}
}
