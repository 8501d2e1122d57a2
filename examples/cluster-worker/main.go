// Command cluster-worker shares one token between workers through a Redis
// Cluster: the same redisstore.New as on a single Redis, given a
// *redis.ClusterClient.
//
//	REDIS_CLUSTER_ADDRS=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 go run ./examples/cluster-worker
//
// REDIS_CLUSTER_ADDRS lists seed nodes of the cluster (any of them will do;
// the client finds the rest). Without it the example says what to set and
// exits 0; examples/smoke.sh starts a 3-node cluster to run it.
//
// Each worker has its own ClusterClient, store and Authenticator, and shares
// nothing with the others but the cluster, as separate processes or machines
// would (examples/redis-worker runs real processes). Against an authtest
// server that rotates refresh tokens, every worker loads the token, then the
// token is revoked and every worker's requests are refused at once. One
// worker refreshes; the others wait for the store's lock, re-read the token
// and adopt it. The lock key "{key}:lock" hashes to the token key's slot, so
// the lock and the token live on one node, and the store can check in one
// script that a save comes from the lock's holder.
//
// The last line is the summary, e.g. "cluster: 4 workers, 400 requests,
// 400 succeeded, 1 refresh"; the program exits non-zero unless every request
// succeeded with one refresh that every worker took part in.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
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

const (
	workers  = 4
	requests = 100 // per worker, all at once
)

func main() {
	var nodes []string
	for _, a := range strings.Split(os.Getenv("REDIS_CLUSTER_ADDRS"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			nodes = append(nodes, a)
		}
	}
	if len(nodes) == 0 {
		fmt.Println("cluster-worker: set REDIS_CLUSTER_ADDRS=host:port,host:port,... (nodes of a Redis Cluster) to run this example")
		return
	}
	if err := run(nodes); err != nil {
		fmt.Fprintln(os.Stderr, "cluster-worker:", err)
		os.Exit(1)
	}
}

func run(addrs []string) error {
	// Ctrl-C, a process manager's SIGTERM and a terminal's hang-up end the
	// run through ctx, so the deferred Clear removes the token.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 50*time.Second)
	defer cancel()

	// A loopback API that rotates refresh tokens: a second refresh with the
	// same refresh token would be refused with invalid_grant.
	srv := authtest.NewServer(authtest.Options{Rotate: true})
	defer srv.Close()

	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis cluster at %s: %w", strings.Join(addrs, ","), err)
	}

	// One key per run, so runs sharing a cluster never meet.
	key := fmt.Sprintf("axios-example:cluster-worker:%d", os.Getpid())
	store := redisstore.New(rdb, key)
	defer func() {
		// The key has no expiry: a token left behind would stay in Redis.
		if err := store.Clear(context.WithoutCancel(ctx)); err != nil {
			fmt.Fprintln(os.Stderr, "cluster-worker: removing the token:", err)
		}
	}()
	fmt.Printf("token key %s in slot %d, lock key %s in slot %d\n",
		store.Key(), rdb.ClusterKeySlot(ctx, store.Key()).Val(),
		store.LockKey(), rdb.ClusterKeySlot(ctx, store.LockKey()).Val())

	// Log in once (here the server issues the token directly) and put the
	// token where every worker finds it.
	if err := store.Save(ctx, srv.Issue(authtest.DefaultUser)); err != nil {
		return err
	}

	ws := make([]*worker, workers)
	for i := range ws {
		w, err := newWorker(ctx, addrs, srv.URL, key)
		if err != nil {
			return fmt.Errorf("worker %d: %w", i+1, err)
		}
		defer w.close()
		ws[i] = w
	}
	srv.Revoke()
	fmt.Println("every worker has loaded the token; revoked: every worker's requests are refused")

	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.send(ctx, requests)
		}()
	}
	wg.Wait()

	var succeeded int64
	for i, w := range ws {
		s := w.authn.Stats()
		fmt.Printf("worker %d: %d succeeded, %d failed, %d refresh, %d adopted from the cluster\n",
			i+1, w.ok.Load(), w.failed.Load(), s.Refreshes, s.Adopted)
		succeeded += w.ok.Load()
		if s.Refreshes+s.Adopted != 1 {
			return fmt.Errorf("worker %d took no part in the refresh (%d refreshes, %d adopted)", i+1, s.Refreshes, s.Adopted)
		}
	}
	fmt.Printf("server: %d refresh call, %d invalid_grant\n", srv.RefreshCalls(), srv.InvalidGrants())
	fmt.Printf("cluster: %d workers, %d requests, %d succeeded, %d refresh\n",
		workers, workers*requests, succeeded, srv.Refreshes())
	if succeeded != workers*requests || srv.Refreshes() != 1 || srv.InvalidGrants() != 0 {
		return errors.New("want every request to succeed with exactly one refresh")
	}
	return nil
}

// worker is what one process of a service would hold: a client with the
// auth pair over the token in the cluster.
type worker struct {
	rdb        *redis.ClusterClient
	api        *axios.Client
	authn      *auth.Authenticator
	ok, failed atomic.Int64
}

func newWorker(ctx context.Context, addrs []string, server, key string) (*worker, error) {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	api := axios.Create(axios.Config{BaseURL: server, Timeout: 10 * time.Second})
	authn, err := auth.New(auth.Options{
		Store: redisstore.New(rdb, key), // the same call as for a single Redis
		Refresh: auth.OAuth2(&oauth2.Config{
			Endpoint: oauth2.Endpoint{TokenURL: server + "/oauth/token"},
		}),
	})
	w := &worker{rdb: rdb, api: api, authn: authn}
	if err != nil {
		w.close()
		return nil, err
	}
	authn.Install(api)
	// Load the token now, so that every worker holds the one about to be
	// revoked.
	if _, err := authn.Token(ctx); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// send sends n requests at once and counts the outcomes.
func (w *worker) send(ctx context.Context, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.api.Get(ctx, "/api/me"); err != nil {
				w.failed.Add(1)
				fmt.Fprintln(os.Stderr, "cluster-worker:", err)
				return
			}
			w.ok.Add(1)
		}()
	}
	wg.Wait()
}

func (w *worker) close() {
	w.api.CloseIdleConnections()
	_ = w.rdb.Close()
}
