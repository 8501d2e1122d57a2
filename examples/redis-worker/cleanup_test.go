//go:build linux

package main

import (
	"bufio"
	"net"
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
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startExample builds this example and runs it with no REDIS_ADDR, so that
// it starts a redis-server of its own, in a process group of its own (as a
// shell job is). It returns the command, the address of its redis-server
// (from its "Redis at" line) and a scanner of the rest of its stdout. The
// cleanup kills the whole group, so nothing the test started outlives it.
func startExample(t *testing.T, args ...string) (*exec.Cmd, <-chan struct{}, string, *bufio.Scanner) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not on the PATH, and CI is set: .ci/run installs it")
		}
		t.Skip("redis-server is not on the PATH")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "redis-worker")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	require.NoError(t, err)
	t.Cleanup(func() { stderr.Close() })
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "REDIS_ADDR=")
	// *os.Files: no copying goroutine, so Wait never waits for a worker
	// that holds one.
	cmd.Stdout, cmd.Stderr = w, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	w.Close()
	require.NoError(t, err)
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL) // the example, its workers and its redis-server
		<-exited
	})

	sc := bufio.NewScanner(r)
	require.True(t, sc.Scan(), "no first line from the example")
	addr, ok := strings.CutPrefix(sc.Text(), "Redis at ")
	require.True(t, ok, "first line %q", sc.Text())
	require.True(t, answers(addr), "the example's redis-server does not answer at %s", addr)
	return cmd, exited, addr, sc
}

// answers reports whether something accepts connections at addr.
func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// waitExit waits for the example to exit, at most 10s.
func waitExit(t *testing.T, exited <-chan struct{}) {
	t.Helper()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the example did not exit within 10s")
	}
}

// gone reports whether nothing answers at addr any more, within 3s.
func gone(addr string) bool {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if !answers(addr) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// A terminal that hangs up (an SSH session that drops, a closed terminal
// window) sends SIGHUP to the job's process group. redis-server ignores
// SIGHUP; the example handles it as it does Ctrl-C, so its deferred stop
// ends the server.
func TestRedisServerDoesNotOutliveAHangUp(t *testing.T) {
	cmd, exited, addr, sc := startExample(t, "-workers", "1", "-requests", "1000000")
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "every worker has loaded the token") {
	}
	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGHUP))
	waitExit(t, exited)
	assert.True(t, gone(addr), "the example exited on SIGHUP, but its redis-server still answers at %s", addr)
}

// A parent killed outright (SIGKILL, the OOM killer, timeout -s KILL) runs
// no cleanup: the kernel ends the example's redis-server (Pdeathsig).
func TestRedisServerDoesNotOutliveAKill(t *testing.T) {
	cmd, exited, addr, _ := startExample(t, "-workers", "1", "-requests", "1000000")
	require.NoError(t, cmd.Process.Kill())
	waitExit(t, exited)
	assert.True(t, gone(addr), "the example was killed, but its redis-server still answers at %s", addr)
}
