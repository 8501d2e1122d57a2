package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrClusterToolsNotInstalled is wrapped by the error [StartClusterProcess]
// returns when redis-server or redis-cli is not on PATH.
var ErrClusterToolsNotInstalled = errors.New("redistest: redis-server or redis-cli not found on PATH; install them (apt-get install redis-server redis-tools)")

// clusterTimeout bounds how long a cluster start waits for every node to
// report cluster_state:ok.
const clusterTimeout = 30 * time.Second

// Cluster is a Redis Cluster of masters without replicas, each its own
// redis-server process on a free loopback port. Its methods are safe for
// concurrent use.
type Cluster struct {
	// Addrs are the nodes' "127.0.0.1:port".
	Addrs []string

	nodes  []*Server
	dir    string
	ownDir bool

	mu      sync.Mutex
	clients []*redis.ClusterClient
	closed  bool
}

// StartCluster starts a Redis Cluster of n masters (at least 3, as
// redis-cli --cluster create requires) with no replicas for the test, waits
// until every node reports cluster_state:ok, and registers a cleanup that
// closes the clients from [Cluster.Client] and stops every node. If
// redis-server or redis-cli is not on PATH, StartCluster skips the test, or
// fails it when the environment variable CI is non-empty.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	server, cli, err := clusterTools()
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%v: CI is set, so the Redis Cluster tests must run", err)
		}
		tb.Skipf("%v to run this test", err)
	}
	c, err := startCluster(server, cli, tb.TempDir(), false, n)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// StartClusterProcess starts a Redis Cluster as [StartCluster] does, outside
// a test. The caller must call [Cluster.Close], which also removes its
// temporary directory. The error wraps [ErrClusterToolsNotInstalled] when
// redis-server or redis-cli is not on PATH.
func StartClusterProcess(n int) (*Cluster, error) {
	server, cli, err := clusterTools()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redistest-cluster-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	c, err := startCluster(server, cli, dir, true, n)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func clusterTools() (server, cli string, err error) {
	server, err1 := exec.LookPath("redis-server")
	cli, err2 := exec.LookPath("redis-cli")
	if err := errors.Join(err1, err2); err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrClusterToolsNotInstalled, err)
	}
	return server, cli, nil
}

func startCluster(server, cli, dir string, ownDir bool, n int) (c *Cluster, err error) {
	if n < 3 {
		return nil, fmt.Errorf("redistest: a cluster needs at least 3 masters, not %d", n)
	}
	c = &Cluster{dir: dir, ownDir: ownDir}
	defer func() {
		if err != nil {
			c.ownDir = false // the caller removes dir
			_ = c.Close()
		}
	}()
	for i := range n {
		ndir := filepath.Join(dir, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(ndir, 0o700); err != nil {
			return nil, fmt.Errorf("redistest: %w", err)
		}
		// The cluster bus listens on its own free port: the default,
		// port+10000, can be taken, or past 65535.
		var s *Server
		for range 3 {
			var bus int
			if bus, err = freePort(); err != nil {
				continue
			}
			if s, err = start(server, ndir, false,
				"--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(ndir, "nodes.conf"),
				"--cluster-port", strconv.Itoa(bus),
				"--cluster-node-timeout", "5000",
			); err == nil {
				break
			}
		}
		if err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("redistest: redis-cli %s: %w: %s", strings.Join(args, " "), err, tail(string(out)))
	}
	if err := c.waitOK(ctx, n); err != nil {
		return nil, err
	}
	return c, nil
}

// waitOK waits until every node reports cluster_state:ok and knows all n
// nodes, so a client's first CLUSTER SLOTS sees the whole cluster.
func (c *Cluster) waitOK(ctx context.Context, n int) error {
	for _, s := range c.nodes {
		rdb := redis.NewClient(&redis.Options{Addr: s.Addr, DialTimeout: time.Second, MaxRetries: -1})
		var info string
		for {
			var err error
			info, err = rdb.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok\r") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(n)+"\r") {
				break
			}
			select {
			case <-ctx.Done():
				_ = rdb.Close()
				return fmt.Errorf("redistest: cluster node %s not ok within %v: %v %s", s.Addr, clusterTimeout, err, tail(info))
			case <-time.After(50 * time.Millisecond):
			}
		}
		_ = rdb.Close()
	}
	return nil
}

func tail(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	return s
}

// Client returns a new cluster client for the cluster. The cluster closes it
// in [Cluster.Close] (for [StartCluster], at the end of the test).
func (c *Cluster) Client() *redis.ClusterClient {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:       c.Addrs,
		DialTimeout: time.Second,
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clients = append(c.clients, rdb)
	return rdb
}

// Close closes the clients from [Cluster.Client], stops every node and, for
// a cluster from [StartClusterProcess], removes its directory. Calling it
// again does nothing.
func (c *Cluster) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	clients := c.clients
	c.clients = nil
	c.mu.Unlock()

	var errs []error
	for _, rdb := range clients {
		if err := rdb.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for _, s := range c.nodes {
		errs = append(errs, s.Close())
	}
	if c.ownDir {
		errs = append(errs, os.RemoveAll(c.dir))
	}
	return errors.Join(errs...)
}
