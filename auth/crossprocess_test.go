package auth

// Cross-process tests: several OS processes share one Redis or File store and
// one authtest server that rotates refresh tokens. Each process re-executes
// this test binary, whose TestMain then runs runCrossProcessChild instead of
// the tests, with its part described by the environment variable crossEnv, and holds its own Authenticator, as separate
// deployments of one service would. With the store's Locker, the processes
// refresh once between them; the control hides the Locker and shows the same
// setup refreshing once per process, which rotation turns into invalid_grant.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/redisstore"
)

const (
	// crossEnv carries a child's crossSpec, as JSON. Its presence is what
	// makes TestMain run the child's work instead of the tests.
	crossEnv = "AXIOS_AUTH_CROSSPROCESS_CHILD"
	// crossResultPrefix starts the one stdout line that holds a child's
	// crossResult, among the test binary's own output.
	crossResultPrefix = "CROSSPROCESS-RESULT "
	// crossRefreshDelay holds every refresh at the server, so with the Locker
	// all the other processes wait for the lock while one refreshes, and
	// without it every process's refresh is in flight at once.
	crossRefreshDelay = 200 * time.Millisecond
	// crossDeadline bounds one run of children, from start to exit; they are
	// killed when it passes. A run normally takes one to two seconds.
	crossDeadline = 25 * time.Second
	// crossChildDeadline bounds a child's own work, shorter than
	// crossDeadline so a stuck child reports before it is killed.
	crossChildDeadline = 15 * time.Second
	// crossGoFile is created by the parent in crossSpec.Dir to fire every
	// child at once; each child creates "ready-<id>" there first.
	crossGoFile = "go"
)

// crossSpec is one child's part, passed in crossEnv.
type crossSpec struct {
	ID         int    `json:"id"`
	Server     string `json:"server"`     // authtest URL
	Store      string `json:"store"`      // "redis" or "file"
	RedisAddr  string `json:"redis_addr"` // Store "redis"
	RedisKey   string `json:"redis_key"`  // Store "redis"
	FilePath   string `json:"file_path"`  // Store "file"
	Locker     bool   `json:"locker"`     // false: the control, Lock hidden
	Goroutines int    `json:"goroutines"` // concurrent requests to fire
	Dir        string `json:"dir"`        // the start barrier's directory
}

// crossResult is what a child reports on its crossResultPrefix line.
type crossResult struct {
	ID        int            `json:"id"`
	Loaded    string         `json:"loaded"` // fingerprint of the token loaded from the store
	Successes int            `json:"successes"`
	Failures  int            `json:"failures"`
	Errors    map[string]int `json:"errors"` // distinct error text -> count
	Stats     Stats          `json:"stats"`  // the child Authenticator's
}

// tokenStoreOnly hides the Locker of the store it wraps: its method set is
// TokenStore's alone, so the Authenticator refreshes without the lock.
type tokenStoreOnly struct{ storage.TokenStore }

var (
	_ storage.Locker = (*redisstore.Store)(nil)
	_ storage.Locker = (*storage.File)(nil)
)

// fingerprint identifies an access token in test output without showing it.
func fingerprint(access string) string {
	sum := sha256.Sum256([]byte(access))
	return hex.EncodeToString(sum[:6])
}

func TestCrossProcessRedisRefreshesOnce(t *testing.T) {
	rs := redistest.Start(t) // skips locally without redis-server; fails under CI
	store := redisstore.New(rs.Client(), "crossprocess:token")
	const procs, goroutines = 4, 100
	srv, results := runCrossProcess(t, store, crossSpec{
		Store: "redis", RedisAddr: rs.Addr, RedisKey: store.Key(), Locker: true, Goroutines: goroutines,
	}, procs)
	assertRefreshedOnce(t, srv, results, procs, goroutines)
}

func TestCrossProcessFileRefreshesOnce(t *testing.T) {
	store := storage.NewFile(filepath.Join(t.TempDir(), "token.json"))
	const procs, goroutines = 3, 100
	srv, results := runCrossProcess(t, store, crossSpec{
		Store: "file", FilePath: store.Path(), Locker: true, Goroutines: goroutines,
	}, procs)
	assertRefreshedOnce(t, srv, results, procs, goroutines)
}

// The control: the same runs with the Locker hidden must fail the
// assertions above, so those assertions can fail. Every process refreshes
// with the refresh token it loaded; rotation lets exactly one of them use it
// and answers the others invalid_grant, whichever order they arrive in, and
// each process whose refresh failed logs its user out.
func TestCrossProcessWithoutLockerRefreshesOncePerProcess(t *testing.T) {
	const goroutines = 100
	t.Run("redis", func(t *testing.T) {
		rs := redistest.Start(t)
		store := redisstore.New(rs.Client(), "crossprocess:token")
		const procs = 4
		srv, results := runCrossProcess(t, store, crossSpec{
			Store: "redis", RedisAddr: rs.Addr, RedisKey: store.Key(), Locker: false, Goroutines: goroutines,
		}, procs)
		assertRefreshedPerProcess(t, srv, results, procs, goroutines)
	})
	t.Run("file", func(t *testing.T) {
		store := storage.NewFile(filepath.Join(t.TempDir(), "token.json"))
		const procs = 3
		srv, results := runCrossProcess(t, store, crossSpec{
			Store: "file", FilePath: store.Path(), Locker: false, Goroutines: goroutines,
		}, procs)
		assertRefreshedPerProcess(t, srv, results, procs, goroutines)
	})
}

func assertRefreshedOnce(t *testing.T, srv *authtest.Server, results []crossResult, procs, goroutines int) {
	t.Helper()
	total := procs * goroutines
	successes, failures, refreshes, adopted := crossTotals(results)
	assert.EqualValues(t, 1, srv.RefreshCalls(), "one refresh call for %d processes", procs)
	assert.EqualValues(t, 1, srv.Refreshes())
	assert.EqualValues(t, 0, srv.InvalidGrants(), "the rotated refresh token was never presented twice")
	assert.Equal(t, total, successes, "every request succeeded")
	assert.Zero(t, failures, "errors: %v", errorsOf(results))
	assert.EqualValues(t, total, srv.Served())
	assert.EqualValues(t, 1, refreshes, "one process refreshed")
	assert.EqualValues(t, procs-1, adopted, "every other process adopted its token from the store")
	for _, r := range results {
		assert.Zero(t, r.Stats.Failures, "child %d logged out", r.ID)
	}
	t.Logf("%d processes x %d goroutines: refresh calls %d, refreshes %d, invalid_grant %d, denied %d, served %d; "+
		"children: %d successes, %d failures, %d refreshed, %d adopted",
		procs, goroutines, srv.RefreshCalls(), srv.Refreshes(), srv.InvalidGrants(), srv.Denied(), srv.Served(),
		successes, failures, refreshes, adopted)
}

func assertRefreshedPerProcess(t *testing.T, srv *authtest.Server, results []crossResult, procs, goroutines int) {
	t.Helper()
	successes, failures, refreshes, adopted := crossTotals(results)
	assert.Greater(t, srv.RefreshCalls(), int64(1), "without the Locker the processes must refresh more than once")
	assert.Positive(t, srv.InvalidGrants(), "rotation must refuse the refresh token presented again")
	assert.Positive(t, failures, "a process whose refresh was refused must fail its requests")
	// The exact outcome, which rotation makes independent of timing.
	assert.EqualValues(t, procs, srv.RefreshCalls(), "one refresh call per process")
	assert.EqualValues(t, 1, srv.Refreshes())
	assert.EqualValues(t, procs-1, srv.InvalidGrants())
	assert.Equal(t, goroutines, successes, "only the process whose refresh won succeeded")
	assert.Equal(t, (procs-1)*goroutines, failures)
	assert.EqualValues(t, 1, refreshes)
	assert.Zero(t, adopted, "no Locker, no reload, nothing adopted")
	var loggedOut int64
	for _, r := range results {
		loggedOut += r.Stats.Failures
	}
	assert.EqualValues(t, procs-1, loggedOut, "every other process's refresh failed")
	// A request waiting for the refused refresh fails with it (JSONRefresher's
	// error names the status; InvalidGrants says it was invalid_grant); one
	// whose 401 came back after that has no token left to retry with and
	// fails with the 401.
	for _, r := range results {
		for msg := range r.Errors {
			refused := strings.Contains(msg, ErrRefreshFailed.Error()) && strings.HasSuffix(msg, "status code 400")
			loggedOut := !strings.Contains(msg, ErrRefreshFailed.Error()) && strings.HasSuffix(msg, "status code 401")
			assert.True(t, refused || loggedOut, "child %d: unexpected error %q", r.ID, msg)
		}
	}
	t.Logf("control, %d processes x %d goroutines: refresh calls %d, refreshes %d, invalid_grant %d, denied %d, served %d; "+
		"children: %d successes, %d failures, %d refreshed; errors: %v",
		procs, goroutines, srv.RefreshCalls(), srv.Refreshes(), srv.InvalidGrants(), srv.Denied(), srv.Served(),
		successes, failures, refreshes, errorsOf(results))
}

func crossTotals(results []crossResult) (successes, failures int, refreshes, adopted int64) {
	for _, r := range results {
		successes += r.Successes
		failures += r.Failures
		refreshes += r.Stats.Refreshes
		adopted += r.Stats.Adopted
	}
	return
}

func errorsOf(results []crossResult) map[string]int {
	all := make(map[string]int)
	for _, r := range results {
		for msg, n := range r.Errors {
			all[msg] += n
		}
	}
	return all
}

// child is one re-executed test binary.
type child struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer // written by exec's goroutines until Wait returns
	err            error        // Wait's, once done is closed
	done           chan struct{}
}

// runCrossProcess starts an authtest server with rotation, logs in and saves
// the token to store, and runs procs children on it (spec says how to open
// the same store). Once every child has loaded the token, it revokes the
// access token and fires them all at once. It returns the server, for its
// counters, and each child's result, after every child has exited 0.
func runCrossProcess(t *testing.T, store storage.TokenStore, spec crossSpec, procs int) (*authtest.Server, []crossResult) {
	t.Helper()
	srv := newServer(t, authtest.Options{Rotate: true})
	srv.SetRefreshDelay(crossRefreshDelay)
	tok := srv.Issue(authtest.DefaultUser)
	require.NoError(t, store.Save(context.Background(), tok))
	spec.Server, spec.Dir = srv.URL, t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), crossDeadline)
	defer cancel()
	var children []*child
	var stopOnce sync.Once
	// stop kills the children still running and waits for all of them, so
	// exec's goroutines have ended and the buffers may be read.
	stop := func() {
		stopOnce.Do(func() {
			cancel()
			for _, c := range children {
				<-c.done
			}
		})
	}
	defer stop()
	// fail stops the children and fails the test with everything they said.
	fail := func(format string, args ...any) {
		t.Helper()
		stop()
		var b strings.Builder
		for i, c := range children {
			fmt.Fprintf(&b, "\n--- child %d (%v)\nstdout:\n%s\nstderr:\n%s", i, c.err, c.stdout.String(), c.stderr.String())
		}
		t.Fatalf("%s%s", fmt.Sprintf(format, args...), b.String())
	}

	for i := range procs {
		s := spec
		s.ID = i
		b, err := json.Marshal(s)
		require.NoError(t, err)
		c := &child{done: make(chan struct{})}
		c.cmd = exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.timeout=20s")
		c.cmd.Env = append(os.Environ(), crossEnv+"="+string(b))
		c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
		c.cmd.WaitDelay = 5 * time.Second
		if err := c.cmd.Start(); err != nil {
			fail("start child %d: %v", i, err)
		}
		children = append(children, c)
		go func() {
			c.err = c.cmd.Wait()
			close(c.done)
		}()
	}

	// The barrier: every child has loaded the logged-in token from the store
	// and waits for the go file.
	for ready := 0; ready < procs; {
		ready = 0
		for i, c := range children {
			select {
			case <-c.done:
				fail("child %d exited before it was ready", i)
			default:
			}
			if _, err := os.Stat(filepath.Join(spec.Dir, fmt.Sprintf("ready-%d", i))); err == nil {
				ready++
			}
		}
		if ctx.Err() != nil {
			fail("children not ready within %v: %d of %d", crossDeadline, ready, procs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	srv.Revoke() // the token every child holds is refused from now on
	require.NoError(t, os.WriteFile(filepath.Join(spec.Dir, crossGoFile), nil, 0o600))

	for _, c := range children {
		<-c.done // CommandContext kills it at the deadline
	}
	stop()
	want := fingerprint(tok.AccessToken)
	results := make([]crossResult, procs)
	for i, c := range children {
		if c.err != nil {
			fail("child %d failed: %v", i, c.err)
		}
		line, ok := resultLine(c.stdout.String())
		if !ok {
			fail("child %d printed no result line", i)
		}
		if err := json.Unmarshal([]byte(line), &results[i]); err != nil {
			fail("child %d: bad result %q: %v", i, line, err)
		}
		if results[i].Loaded != want {
			fail("child %d loaded token %s from the store, the parent saved %s", i, results[i].Loaded, want)
		}
	}
	return srv, results
}

func resultLine(out string) (string, bool) {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), crossResultPrefix); ok {
			return line, true
		}
	}
	return "", false
}

// runCrossProcessChild is the child process of the TestCrossProcess* tests,
// which re-execute the test binary with crossEnv set: TestMain runs it
// instead of the tests, so no test skips in the parent's run. Its result
// goes to stdout; the parent tests make the assertions. It exits non-zero,
// saying why on stderr, when it cannot do its part.
func runCrossProcessChild(raw string) int {
	failed := false
	t := childT{failed: &failed}
	defer func() {
		if p := recover(); p != nil && p != errChildFailed {
			panic(p)
		}
	}()
	crossProcessChild(t, raw)
	if failed {
		return 1
	}
	if err := goleak.Find(); err != nil { // as the package's TestMain checks the tests
		fmt.Fprintln(os.Stderr, "cross-process child:", err)
		return 1
	}
	return 0
}

// childT is the require.TestingT of the child process: a failure is printed
// and ends the child's work.
type childT struct{ failed *bool }

var errChildFailed = errors.New("cross-process child failed")

func (c childT) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cross-process child: "+format+"\n", args...)
	*c.failed = true
}

func (c childT) FailNow() {
	*c.failed = true
	panic(errChildFailed)
}

func (c childT) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	c.FailNow()
}

func crossProcessChild(t childT, raw string) {
	var spec crossSpec
	require.NoError(t, json.Unmarshal([]byte(raw), &spec))
	ctx, cancel := context.WithTimeout(context.Background(), crossChildDeadline)
	defer cancel()

	var store storage.TokenStore
	switch spec.Store {
	case "redis":
		rdb := redis.NewClient(&redis.Options{Addr: spec.RedisAddr, DialTimeout: time.Second})
		defer rdb.Close()
		store = redisstore.New(rdb, spec.RedisKey)
	case "file":
		store = storage.NewFile(spec.FilePath)
	default:
		t.Fatalf("unknown store %q", spec.Store)
	}
	if _, ok := store.(storage.Locker); !ok {
		t.Fatalf("%T is not a storage.Locker", store)
	}
	if !spec.Locker {
		store = tokenStoreOnly{store}
	}

	tr := &http.Transport{MaxIdleConnsPerHost: spec.Goroutines, IdleConnTimeout: 10 * time.Second}
	defer tr.CloseIdleConnections() // the package's goleak check runs in the child too
	c := axios.Create(axios.Config{BaseURL: spec.Server})
	c.Resty().SetTransport(tr)
	a, err := New(Options{Store: store, Refresh: seed000(c), RefreshTimeout: 10 * time.Second})
	require.NoError(t, err)
	a.Install(c)

	// First use: the Authenticator loads the token the parent saved.
	tok, err := a.Token(ctx)
	require.NoError(t, err, "load the logged-in token from the shared store")
	res := crossResult{ID: spec.ID, Loaded: fingerprint(tok.AccessToken), Errors: make(map[string]int)}

	dir := spec.Dir
	require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("ready-%d", spec.ID)), nil, 0o600))
	for {
		if _, err := os.Stat(filepath.Join(dir, crossGoFile)); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("barrier: %v", err)
		}
		if ctx.Err() != nil {
			t.Fatalf("barrier: no go within %v", crossChildDeadline)
		}
		time.Sleep(time.Millisecond)
	}

	start := make(chan struct{})
	errs := make([]error, spec.Goroutines)
	var wg sync.WaitGroup
	for i := range spec.Goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = c.Get(ctx, fmt.Sprintf("/api/crossprocess/%d/%d", spec.ID, i))
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			res.Successes++
		} else {
			res.Failures++
			res.Errors[err.Error()]++
		}
	}
	res.Stats = a.Stats()
	b, err := json.Marshal(res)
	require.NoError(t, err)
	fmt.Printf("%s%s\n", crossResultPrefix, b)
}
