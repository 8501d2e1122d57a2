// Command redis-worker ports seed 002, a Node integration that keeps the API's
// access and refresh tokens in Redis: a request interceptor reads the token
// from Redis and sets the headers, and a response interceptor answers the
// API's 403 for an expired token by marking the request with _retry,
// refreshing (which stores the new pair in Redis) and sending the request
// again through the instance.
//
//	go run ./examples/redis-worker                 # starts its own redis-server
//	go run ./examples/redis-worker -workers 8 -redis 127.0.0.1:6379
//
// Here the pair is auth.Authenticator over storage.NewRedis, with 403 as the
// refresh status. The seed runs in one process; this runs -workers OS
// processes (this program started again with a hidden flag) sharing one
// token in Redis, against a server that rotates refresh tokens, so a second
// refresh with the same refresh token would fail. The token is revoked before
// the workers start: they all hit 403, and one refresh serves them all,
// because the Authenticator takes the store's Redis lock and re-reads the
// token before it refreshes.
//
// Without -redis it starts a redis-server of its own on a free loopback port,
// in a temporary directory, and kills it at exit; without redis-server on the
// PATH it says how to install one and exits non-zero. The last line is the
// summary, e.g. "4 workers, 400 requests, 400 succeeded, 1 refresh"; the
// program exits non-zero unless every request succeeded with one refresh.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
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
	"github.com/axiosgo/axios/internal/redistest"
	"github.com/axiosgo/axios/storage"
)

var (
	workers   = flag.Int("workers", 4, "number of worker processes")
	requests  = flag.Int("requests", 100, "requests per worker")
	redisAddr = flag.String("redis", "", "Redis address host:port (default: start a redis-server)")

	// Set by the parent when it starts a worker; not in -help.
	workerID  = flag.Int("worker", 0, "")
	serverURL = flag.String("server", "", "")
	tokenKey  = flag.String("key", "", "")
)

var hidden = map[string]bool{"worker": true, "server": true, "key": true}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [-workers N] [-requests N] [-redis host:port]\n", os.Args[0])
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
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
	addr := *redisAddr
	if addr == "" {
		rs, err := redistest.StartProcess()
		if errors.Is(err, redistest.ErrNotInstalled) {
			fmt.Fprintln(os.Stderr, "redis-worker: needs Redis: install redis-server (apt-get install redis-server,"+
				" brew install redis) or pass -redis host:port")
			os.Exit(2)
		}
		if err != nil {
			return err
		}
		defer rs.Close()
		addr = rs.Addr
		fmt.Printf("started redis-server on %s\n", addr)
	}
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
	store := storage.NewRedis(rdb, key)
	defer store.Clear(context.WithoutCancel(ctx))
	tok, err := login(ctx, srv.URL)
	if err != nil {
		return err
	}
	if err := store.Save(ctx, tok); err != nil {
		return err
	}
	srv.Revoke()
	fmt.Printf("token saved in Redis under %s, then revoked: every worker will get 403\n", key)

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	results := make([]result, *workers)
	errs := make([]error, *workers)
	var wg sync.WaitGroup
	for i := range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = startWorker(ctx, exe, i+1, srv.URL, addr, key)
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
	}
	n := *workers * *requests
	fmt.Printf("server: %d refresh call, %d invalid_grant\n", srv.RefreshCalls(), srv.InvalidGrants())
	fmt.Printf("%d workers, %d requests, %d succeeded, %d refresh\n", *workers, n, total.Succeeded, srv.Refreshes())
	if total.Succeeded != int64(n) || srv.Refreshes() != 1 || srv.InvalidGrants() != 0 {
		return errors.New("want every request to succeed with exactly one refresh")
	}
	return nil
}

// startWorker runs this program again as worker id and reads its result.
func startWorker(ctx context.Context, exe string, id int, server, addr, key string) (result, error) {
	cmd := exec.CommandContext(ctx, exe,
		"-worker", strconv.Itoa(id), "-server", server, "-redis", addr, "-key", key,
		"-requests", strconv.Itoa(*requests))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	var r result
	sc := bufio.NewScanner(stdout)
	got := sc.Scan() && json.Unmarshal(sc.Bytes(), &r) == nil
	if err := cmd.Wait(); err != nil {
		return r, err
	}
	if !got {
		return r, errors.New("no result line")
	}
	return r, nil
}

// login is the integration's login, before the seed's code runs.
func login(ctx context.Context, server string) (*oauth2.Token, error) {
	api := axios.Create(axios.Config{BaseURL: server})
	defer api.Resty().GetClient().CloseIdleConnections()
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
	rdb := redis.NewClient(&redis.Options{Addr: *redisAddr})
	defer rdb.Close()

	// The seed's request interceptor sets Accept and a form Content-Type
	// on every request: here Accept is a default, and the Content-Type
	// follows the body (url.Values is sent as a form).
	api := axios.Create(axios.Config{
		BaseURL: *serverURL,
		Timeout: 10 * time.Second,
		Headers: http.Header{"Accept": {"application/json"}},
	})
	defer api.Resty().GetClient().CloseIdleConnections()

	// The seed's refreshAccessToken calls the auth service; this one is the
	// standard refresh_token grant at /oauth/token.
	authn, err := auth.New(auth.Options{
		Store:       storage.NewRedis(rdb, *tokenKey),
		StatusCodes: []int{http.StatusForbidden},
		Refresh: auth.OAuth2(&oauth2.Config{
			Endpoint: oauth2.Endpoint{TokenURL: *serverURL + "/oauth/token"},
		}),
	})
	if err != nil {
		return err
	}
	authn.Install(api)

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
