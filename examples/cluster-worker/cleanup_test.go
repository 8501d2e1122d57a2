//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/axiosgo/axios/internal/redistest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The example removes its token from the cluster in a deferred Clear ("the
// key has no expiry: a token left behind would stay in Redis"), also when
// Ctrl-C or the SIGTERM of timeout(1) or of a process manager ends it.
//
// To stop it mid-run deterministically, the test plays another process that
// holds the store's lock, so the example's refresh waits for it.
func TestTokenIsRemovedFromTheClusterOnInterrupt(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cluster := redistest.StartCluster(t, 3)
			rdb := cluster.Client()
			ctx := t.Context()

			dir := t.TempDir()
			bin := filepath.Join(dir, "cluster-worker")
			out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
			require.NoError(t, err, "go build: %s", out)

			stderr, err := os.Create(filepath.Join(dir, "stderr"))
			require.NoError(t, err)
			defer stderr.Close()
			r, w, err := os.Pipe()
			require.NoError(t, err)
			defer r.Close()
			cmd := exec.Command(bin)
			cmd.Env = append(os.Environ(), "REDIS_CLUSTER_ADDRS="+strings.Join(cluster.Addrs, ","))
			cmd.Stdout, cmd.Stderr = w, stderr
			err = cmd.Start()
			w.Close()
			require.NoError(t, err)
			exited := make(chan struct{})
			go func() { _ = cmd.Wait(); close(exited) }()
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-exited
			})

			// Another process's lock on the example's store, taken before the
			// example's first refresh.
			key := fmt.Sprintf("axios-example:cluster-worker:%d", cmd.Process.Pid)
			require.NoError(t, rdb.Set(ctx, "{"+key+"}:lock", "another-process", time.Minute).Err())

			sc := bufio.NewScanner(r)
			loaded := false
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "every worker has loaded the token") {
					loaded = true
					break
				}
			}
			require.True(t, loaded, "the example did not get to its run")
			require.Equal(t, int64(1), rdb.Exists(ctx, key).Val(), "the token should be in the cluster now")

			time.Sleep(100 * time.Millisecond) // its requests are waiting for the refresh
			require.NoError(t, cmd.Process.Signal(sig))
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				t.Fatalf("the example did not exit within 15s of %v", sig)
			}

			n, err := rdb.Exists(ctx, key).Result()
			require.NoError(t, err)
			assert.Zero(t, n, "after %v the example's token is still in the cluster under %s, with no expiry", sig, key)
		})
	}
}
