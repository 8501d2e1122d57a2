package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/redisstore"
)

// childEnv carries a child process's childConfig, as JSON. A process
// started with it runs one child of a multi-process storm instead of the
// harness (see main and TestMain).
const childEnv = "AXIOS_STORM_CHILD"

// childConfig is what one child process of a multi-process storm needs.
type childConfig struct {
	URL   string        `json:"url"`   // the authtest server
	Store string        `json:"store"` // redis, redis-cluster, file or memory
	Redis string        `json:"redis"` // redis address, or cluster addresses, comma-separated
	Key   string        `json:"key"`   // redis key, or file path
	Token *oauth2.Token `json:"token"` // the login, for a memory store
	N     int           `json:"n"`
	Conns int           `json:"conns"`
}

// childReport is a child's outcome, one JSON line on its stdout.
type childReport struct {
	Failures  int           `json:"failures"`
	FirstErr  string        `json:"first_err,omitempty"`
	Wall      time.Duration `json:"wall"`
	P50       time.Duration `json:"p50"`
	P99       time.Duration `json:"p99"`
	Refreshes int64         `json:"refreshes"` // refreshes this process made
	Adopted   int64         `json:"adopted"`   // tokens found in the shared store instead
	RefFailed int64         `json:"refresh_failures"`
}

// procsResult is one multi-process storm: procs processes, n requests each.
type procsResult struct {
	store         string
	procs, n      int
	refreshCalls  int64
	invalidGrants int64
	failures      int
	firstErr      string
	wall          time.Duration // from "go" to the last child's report
	p99           time.Duration // the worst child's p99
	refreshes     int64         // summed over the children
	adopted       int64
}

// redisFor returns the Redis address to use: o.redisAddr, or a
// redis-server started for the run, stopped by the returned func.
func redisFor(o options) (addr string, stop func(), err error) {
	if o.redisAddr != "" {
		return o.redisAddr, func() {}, nil
	}
	if o.store == "redis-cluster" {
		c, err := redistest.StartClusterProcess(3)
		if err != nil {
			return "", nil, fmt.Errorf("storm: -store redis-cluster without -redis: %w", err)
		}
		return strings.Join(c.Addrs, ","), func() { _ = c.Close() }, nil
	}
	s, err := redistest.StartProcess()
	if err != nil {
		return "", nil, fmt.Errorf("storm: -store redis without -redis: %w", err)
	}
	return s.Addr, func() { _ = s.Close() }, nil
}

// runProcs runs one storm across o.procs child processes of this program,
// n requests each, all sharing one authtest server with rotation on and,
// for store "redis" or "file", one token store with its lock. Store
// "memory" gives each process its own store: the case a shared store fixes.
func runProcs(ctx context.Context, store string, n int, o options, redisAddr string) (procsResult, error) {
	res := procsResult{store: store, procs: o.procs, n: n}
	srv := authtest.NewServer(authtest.Options{AccessTTL: 10 * time.Minute, Rotate: true})
	defer srv.Close()
	tok := srv.Issue(authtest.DefaultUser)
	cfg := childConfig{URL: srv.URL, Store: store, N: n, Conns: o.conns}
	switch store {
	case "redis", "redis-cluster":
		rdb := newRedis(store, redisAddr, 0)
		defer rdb.Close()
		cfg.Redis = redisAddr
		cfg.Key = fmt.Sprintf("axios-storm:%d:%d:%d", os.Getpid(), n, time.Now().UnixNano())
		st := redisstore.New(rdb, cfg.Key)
		if err := st.Save(ctx, tok); err != nil {
			return res, err
		}
		defer rdb.Del(context.Background(), st.Key(), st.LockKey())
	case "file":
		dir, err := os.MkdirTemp("", "axios-storm-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		cfg.Key = filepath.Join(dir, "token.json")
		if err := storage.NewFile(cfg.Key).Save(ctx, tok); err != nil {
			return res, err
		}
	case "memory":
		cfg.Token = tok
	default:
		return res, fmt.Errorf("storm: unknown -store %q (redis, redis-cluster, file or memory)", store)
	}
	env, err := json.Marshal(cfg)
	if err != nil {
		return res, err
	}
	exe, err := os.Executable()
	if err != nil {
		return res, err
	}

	type child struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	children := make([]*child, 0, o.procs)
	defer func() {
		for _, ch := range children {
			_ = ch.stdin.Close()
			_ = ch.cmd.Process.Kill()
			_ = ch.cmd.Wait()
		}
	}()
	for range o.procs {
		cmd := exec.CommandContext(ctx, exe)
		cmd.Env = append(os.Environ(), childEnv+"="+string(env))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return res, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return res, err
		}
		if err := cmd.Start(); err != nil {
			return res, err
		}
		children = append(children, &child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)})
	}
	// Every child loads the token and warms its connections first, so the
	// storm starts with all of them holding the token Revoke kills.
	for i, ch := range children {
		line, err := ch.out.ReadString('\n')
		if strings.TrimSpace(line) != "ready" {
			return res, fmt.Errorf("storm: child %d did not get ready: %q %v", i, line, err)
		}
	}
	srv.ResetCounters()
	srv.Revoke()
	t0 := time.Now()
	for _, ch := range children {
		if _, err := io.WriteString(ch.stdin, "go\n"); err != nil {
			return res, err
		}
	}
	for i, ch := range children {
		line, err := ch.out.ReadString('\n')
		if err != nil {
			return res, fmt.Errorf("storm: child %d: no report: %w", i, err)
		}
		var rep childReport
		if err := json.Unmarshal([]byte(line), &rep); err != nil {
			return res, fmt.Errorf("storm: child %d: bad report %q: %w", i, line, err)
		}
		res.failures += rep.Failures
		if res.firstErr == "" {
			res.firstErr = rep.FirstErr
		}
		res.p99 = max(res.p99, rep.P99)
		res.refreshes += rep.Refreshes
		res.adopted += rep.Adopted
	}
	res.wall = time.Since(t0)
	res.refreshCalls = srv.RefreshCalls()
	res.invalidGrants = srv.InvalidGrants()
	return res, nil
}

// runChild is one child process: it builds our client on the shared store,
// warms up, says "ready", waits for "go", sends its N requests at once and
// reports. Its exit status is 0 unless it could not run at all.
func runChild(raw string) int {
	if err := child(raw); err != nil {
		fmt.Fprintln(os.Stderr, "storm child:", err)
		return 1
	}
	return 0
}

func child(raw string) error {
	var cfg childConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		return err
	}
	ctx := context.Background()
	var st storage.TokenStore
	switch cfg.Store {
	case "redis", "redis-cluster":
		rdb := newRedis(cfg.Store, cfg.Redis, 4)
		defer rdb.Close()
		st = redisstore.New(rdb, cfg.Key)
	case "file":
		st = storage.NewFile(cfg.Key)
	case "memory":
		st = storage.NewMemory()
	default:
		return fmt.Errorf("unknown store %q", cfg.Store)
	}
	tr := newTransport(cfg.Conns)
	defer tr.CloseIdleConnections()
	c, err := newAxiosClient(cfg.URL, tr, st, cfg.Token, nil)
	if err != nil {
		return err
	}
	if w := burst(ctx, cfg.N, c.get); w.failures > 0 {
		return fmt.Errorf("warm-up: %d requests failed with a valid token: %w", w.failures, w.firstErr)
	}
	fmt.Println("ready")
	in := bufio.NewReader(os.Stdin)
	if line, err := in.ReadString('\n'); strings.TrimSpace(line) != "go" {
		return errors.Join(errors.New("no go from the parent"), err)
	}
	b := burst(ctx, cfg.N, c.get)
	s := c.authn.Stats()
	rep := childReport{
		Failures: b.failures, Wall: b.wall, P50: b.p50, P99: b.p99,
		Refreshes: s.Refreshes, Adopted: s.Adopted, RefFailed: s.Failures,
	}
	if b.firstErr != nil {
		rep.FirstErr = b.firstErr.Error()
	}
	out, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	fmt.Println(string(out))
	return nil
}

// summarizeProcs folds repeated multi-process storms into one row: the
// median wall time and p99, the worst of each count.
func summarizeProcs(runs []procsResult) procsResult {
	out := runs[0]
	walls := make([]time.Duration, len(runs))
	p99s := make([]time.Duration, len(runs))
	for i, r := range runs {
		walls[i], p99s[i] = r.wall, r.p99
		if i == 0 {
			continue
		}
		out.refreshCalls = max(out.refreshCalls, r.refreshCalls)
		out.invalidGrants = max(out.invalidGrants, r.invalidGrants)
		out.refreshes = max(out.refreshes, r.refreshes)
		out.adopted = min(out.adopted, r.adopted)
		if r.failures > out.failures {
			out.failures, out.firstErr = r.failures, r.firstErr
		}
	}
	out.wall, out.p99 = medianDuration(walls), medianDuration(p99s)
	return out
}

// newRedis returns a client for store "redis" (one server at addr) or
// "redis-cluster" (a ClusterClient on the comma-separated addr). A zero
// poolSize is go-redis's default (per node on a cluster).
func newRedis(store, addr string, poolSize int) redis.UniversalClient {
	if store == "redis-cluster" {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addr, ","), PoolSize: poolSize})
	}
	return redis.NewClient(&redis.Options{Addr: addr, PoolSize: poolSize})
}
