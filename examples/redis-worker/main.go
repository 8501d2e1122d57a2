// Command redis-worker ports seed 002, a Node integration that keeps the API's
// access and refresh tokens in Redis: a request interceptor reads the token
// from Redis and sets the headers, and a response interceptor answers the
// API's 403 for an expired token by marking the request with _retry,
// refreshing (which stores the new pair in Redis) and sending the request
// again through the instance.
//
//	go run ./examples/redis-worker                 # starts its own redis-server
//	REDIS_ADDR=127.0.0.1:6379 go run ./examples/redis-worker -workers 8
//
// Here the pair is auth.Authenticator over redisstore.New, with 403 as the
// refresh status. The seed runs in one process; this runs -workers OS
// processes (this program started again with a hidden flag) sharing one
// token in Redis, against a server that rotates refresh tokens, so a second
// refresh with the same refresh token would fail. Each worker loads the
// token and says it is ready; then the token is revoked and the workers are
// let go: they all hit 403, and one refresh serves them all, because the
// Authenticator takes the store's Redis lock and re-reads the token before
// it refreshes. One worker refreshes; every other adopts its token.
//
// With REDIS_ADDR unset it starts a redis-server of its own on a free
// loopback port, with persistence off, and kills it at exit (redis.go);
// without redis-server on the PATH it says what to install or set and exits
// non-zero. The last line is the summary, e.g. "4 workers, 400 requests,
// 400 succeeded, 1 refresh"; the program exits non-zero unless every
// request succeeded with one refresh that every worker took part in
// (refreshed or adopted).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/storage/redisstore"
)

var (
	workers  = flag.Int("workers", 4, "number of worker processes")
	requests = flag.Int("requests", 100, "requests per worker")

	// Set by the parent when it starts a worker; not in -help.
	workerID  = flag.Int("worker", 0, "")
	serverURL = flag.String("server", "", "")
	tokenKey  = flag.String("key", "", "")
)

var hidden = map[string]bool{"worker": true, "server": true, "key": true}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: [REDIS_ADDR=host:port] %s [-workers N] [-requests N]\n", os.Args[0])
		flag.VisitAll(func(f *flag.Flag) {
			if hidden[f.Name] {
				return
			}
			usage := f.Usage
			if f.DefValue != "" {
				usage += " (default " + f.DefValue + ")"
			}
			fmt.Fprintf(flag.CommandLine.Output(), "  -%s\t%s\n", f.Name, usage)
		})
	}
	flag.Parse()
	// Ctrl-C, a process manager's SIGTERM and a terminal's hang-up all end
	// the run through ctx, so the deferred cleanups (the token key, the
	// redis-server) run.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	ctx, cancel := context.WithTimeout(ctx, 50*time.Second)
	var err error
	if *workerID > 0 {
		err = worker(ctx)
	} else {
		err = parent(ctx)
	}
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redis-worker:", err)
		os.Exit(1)
	}
}

// result is what a worker reports to the parent, as one JSON line.
type result struct {
	Succeeded int64 `json:"succeeded"`
	Failed    int64 `json:"failed"`
	Retried   int64 `json:"retried"`   // requests sent again after a 403
	Refreshes int64 `json:"refreshes"` // refreshes this worker made
	Adopted   int64 `json:"adopted"`   // refreshes another worker had made already
}

func parent(ctx context.Context) error {
	if *workers < 1 || *requests < 1 {
		return errors.New("-workers and -requests must be at least 1")
	}
	addr, stopRedis, err := redisAddr(ctx)
	if err != nil {
		return err
	}
	defer stopRedis()
	fmt.Printf("Redis at %s\n", addr)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s: %w", addr, err)
	}

	// Seed 002's API: 403 for a bad token. Rotation makes a duplicate
	// refresh fail, so one refresh across all workers is visible.
	srv := authtest.NewServer(authtest.Options{DenyStatus: http.StatusForbidden, Rotate: true})
	defer srv.Close()

	// Log in once and put the token where every worker finds it.
	key := fmt.Sprintf("axios-example:redis-worker:%d", os.Getpid())
	store := redisstore.New(rdb, key)
	defer func() {
		// The key has no expiry: a token left behind would stay in Redis.
		if err := store.Clear(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintln(os.Stderr, "redis-worker: removing the token from Redis:", err)
		}
	}()
	tok, err := login(ctx, srv.URL)
	if err != nil {
		return err
	}
	if err := store.Save(ctx, tok); err != nil {
		return err
	}
	fmt.Printf("token saved in Redis under %s\n", key)

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	procs := make([]*workerProc, *workers)
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.kill()
			}
		}
	}()
	for i := range *workers {
		p, err := startWorker(ctx, exe, i+1, srv.URL, addr, key)
		if err != nil {
			return fmt.Errorf("worker %d: %w", i+1, err)
		}
		procs[i] = p
	}
	// Every worker has loaded the token: revoke it, then let them go.
	srv.Revoke()
	fmt.Println("every worker has loaded the token; revoked: every worker gets 403")
	results := make([]result, *workers)
	errs := make([]error, *workers)
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = p.run()
		}()
	}
	wg.Wait()

	var total result
	for i, r := range results {
		if errs[i] != nil {
			return fmt.Errorf("worker %d: %w", i+1, errs[i])
		}
		fmt.Printf("worker %d: %d succeeded, %d failed, %d retried after a 403, %d refresh, %d adopted from Redis\n",
			i+1, r.Succeeded, r.Failed, r.Retried, r.Refreshes, r.Adopted)
		total.Succeeded += r.Succeeded
		total.Failed += r.Failed
		if r.Refreshes+r.Adopted != 1 {
			return fmt.Errorf("worker %d took no part in the refresh (%d refreshes, %d adopted)", i+1, r.Refreshes, r.Adopted)
		}
	}
	n := *workers * *requests
	fmt.Printf("server: %d refresh call, %d invalid_grant\n", srv.RefreshCalls(), srv.InvalidGrants())
	fmt.Printf("%d workers, %d requests, %d succeeded, %d refresh\n", *workers, n, total.Succeeded, srv.Refreshes())
	if total.Succeeded != int64(n) || srv.Refreshes() != 1 || srv.InvalidGrants() != 0 {
		return errors.New("want every request to succeed with exactly one refresh")
	}
	return nil
}

// workerProc is a worker process that has said it is ready.
type workerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
}

// startWorker runs this program again as worker id and waits until it has
// loaded the token.
func startWorker(ctx context.Context, exe string, id int, server, addr, key string) (*workerProc, error) {
	cmd := exec.CommandContext(ctx, exe,
		"-worker", strconv.Itoa(id), "-server", server, "-key", key,
		"-requests", strconv.Itoa(*requests))
	cmd.Env = append(os.Environ(), "REDIS_ADDR="+addr)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &workerProc{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	if !p.out.Scan() || p.out.Text() != "ready" {
		p.kill()
		return nil, fmt.Errorf("did not get ready: %v", p.scanErr())
	}
	return p, nil
}

// run lets the worker go and reads its result.
func (p *workerProc) run() (result, error) {
	var r result
	if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
		return r, err
	}
	p.stdin.Close()
	if !p.out.Scan() {
		err := p.scanErr()
		if werr := p.cmd.Wait(); werr != nil {
			err = werr
		}
		return r, fmt.Errorf("no result line: %v", err)
	}
	if err := json.Unmarshal(p.out.Bytes(), &r); err != nil {
		return r, fmt.Errorf("result line: %w", err)
	}
	return r, p.cmd.Wait()
}

func (p *workerProc) scanErr() error {
	if err := p.out.Err(); err != nil {
		return err
	}
	return io.EOF
}

// kill stops a worker that has not finished (the parent failed early).
func (p *workerProc) kill() {
	if p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// login is the integration's login, before the seed's code runs.
func login(ctx context.Context, server string) (*oauth2.Token, error) {
	api := axios.Create(axios.Config{BaseURL: server})
	defer api.CloseIdleConnections()
	resp, err := api.Post(ctx, "/login", map[string]string{
		"username": authtest.DefaultUser, "password": authtest.DefaultPassword,
	})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return auth.ParseTokenResponse(resp.Data)
}

// worker is one process of the integration: the seed's axiosApiInstance,
// with the token in Redis.
func worker(ctx context.Context) error {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")}) // set by the parent
	defer rdb.Close()

	// The seed's request interceptor sets Accept and a form Content-Type
	// on every request: here Accept is a default, and the Content-Type
	// follows the body (url.Values is sent as a form).
	api := axios.Create(axios.Config{
		BaseURL: *serverURL,
		Timeout: 10 * time.Second,
		Headers: http.Header{"Accept": {"application/json"}},
	})
	defer api.CloseIdleConnections()

	// The seed's refreshAccessToken calls the auth service; this one is the
	// standard refresh_token grant at /oauth/token.
	authn, err := auth.New(auth.Options{
		Store:       redisstore.New(rdb, *tokenKey),
		StatusCodes: []int{http.StatusForbidden},
		Refresh: auth.OAuth2(&oauth2.Config{
			Endpoint: oauth2.Endpoint{TokenURL: *serverURL + "/oauth/token"},
		}),
	})
	if err != nil {
		return err
	}
	authn.Install(api)

	// Load the token from Redis, say so, and wait for the parent's go.
	if _, err := authn.Token(ctx); err != nil {
		return err
	}
	fmt.Println("ready")
	if line, _ := bufio.NewReader(os.Stdin).ReadString('\n'); line != "go\n" {
		return errors.New("the parent went away before saying go")
	}

	jobs := make(chan int)
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				// The seed's `await axiosApiInstance.post(url, data)`.
				form := url.Values{"worker": {strconv.Itoa(*workerID)}, "job": {strconv.Itoa(j)}}
				if _, err := api.Post(ctx, "/api/jobs", form); err != nil {
					failed.Add(1)
					fmt.Fprintf(os.Stderr, "worker %d: %v\n", *workerID, err)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	for j := range *requests {
		jobs <- j
	}
	close(jobs)
	wg.Wait()

	s := authn.Stats()
	return json.NewEncoder(os.Stdout).Encode(result{
		Succeeded: ok.Load(), Failed: failed.Load(), Retried: s.Retries, Refreshes: s.Refreshes, Adopted: s.Adopted,
	})
}
