package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisAddr returns the Redis to use: REDIS_ADDR, or a redis-server of the
// example's own, which stop kills. Call stop on every way out, errors
// included, or the server outlives the example.
func redisAddr(ctx context.Context) (addr string, stop func(), err error) {
	if addr := os.Getenv("REDIS_ADDR"); addr != "" {
		return addr, func() {}, nil
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, errors.New("needs Redis: set REDIS_ADDR=host:port, or install redis-server" +
			" (apt-get install redis-server, brew install redis) and this example starts its own")
	}
	return startRedis(ctx, bin)
}

// startRedis runs redis-server on a free loopback port, with persistence
// off (nothing is written to disk), and waits until it answers PING.
func startRedis(ctx context.Context, bin string) (addr string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	var out bytes.Buffer // its log, shown if it fails to start
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = orphanKill()
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop = func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(ctx).Err() != nil {
		select {
		case <-exited: // the port was taken after all, or a bad flag
			return "", nil, fmt.Errorf("redis-server exited at start: %s", strings.TrimSpace(out.String()))
		case <-ctx.Done():
			stop()
			return "", nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("redis-server on %s did not answer PING within 10s", addr)
		}
	}
	return addr, stop, nil
}

// freePort asks the kernel for a free loopback port. Another program can
// take it before redis-server binds it; then redis-server exits and
// startRedis says so.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
