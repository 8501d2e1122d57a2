// Package redistest runs a throwaway redis-server for tests and examples: its
// own process on a free loopback port, with persistence off and its files in
// a temporary directory, stopped and restarted at will to simulate Redis going
// down and coming back.
//
// It needs the redis-server binary on PATH (Debian and Ubuntu:
// apt-get install redis-server). Without it, [Start] skips the test, or fails
// it when the CI environment variable is set, so a CI machine that lacks the
// binary cannot pass by skipping.
package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
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

// ErrNotInstalled is wrapped by the error [StartProcess] returns when
// redis-server is not on PATH.
var ErrNotInstalled = errors.New("redistest: redis-server not found on PATH; install it (apt-get install redis-server)")

// readyTimeout bounds how long a start waits for the server to answer PING.
const readyTimeout = 10 * time.Second

// Server is a redis-server process listening on Addr. Its methods are safe for
// concurrent use.
type Server struct {
	// Addr is the server's "127.0.0.1:port". It stays the same across Stop
	// and Restart, so clients reconnect to the restarted server.
	Addr string

	bin    string
	dir    string
	ownDir bool // dir was made by StartProcess and is removed by Close
	port   int
	extra  []string // more redis-server arguments, such as a cluster node's

	mu      sync.Mutex
	proc    *process // nil while stopped
	clients []*redis.Client
	closed  bool
}

type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been waited for
}

// Start starts a redis-server for the test and registers a cleanup that
// closes the clients from [Server.Client], kills the server and waits for it
// to exit. If redis-server is not on PATH, Start skips the test, or fails it
// when the environment variable CI is non-empty.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		const msg = "redistest: redis-server not found on PATH; install it (apt-get install redis-server)"
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s: CI is set, so the Redis tests must run", msg)
		}
		tb.Skipf("%s to run this test", msg)
	}
	s, err := start(bin, tb.TempDir(), false)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// StartProcess starts a redis-server outside a test, for examples and demos.
// The caller must call [Server.Close], which also removes its temporary
// directory. The error wraps [ErrNotInstalled] when redis-server is not on
// PATH.
func StartProcess() (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotInstalled, err)
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	s, err := start(bin, dir, true)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func start(bin, dir string, ownDir bool, extra ...string) (*Server, error) {
	s := &Server{bin: bin, dir: dir, ownDir: ownDir, extra: extra}
	// A free port can be taken by someone else between our probe and the
	// server's bind; then the server exits at once, and another port is tried.
	var err error
	for range 3 {
		var port int
		if port, err = freePort(); err != nil {
			continue
		}
		s.port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		var p *process
		if p, err = s.launch(); err == nil {
			s.proc = p
			return s, nil
		}
	}
	return nil, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts redis-server on s.port and waits until it answers PING.
func (s *Server) launch() (*process, error) {
	logPath := filepath.Join(s.dir, "redis.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--daemonize", "no",
	}
	cmd := exec.Command(s.bin, append(args, s.extra...)...)
	// An *os.File needs no copying goroutine, and the log survives a failed
	// start for the error message.
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	err = cmd.Start()
	logf.Close()
	if err != nil {
		return nil, fmt.Errorf("redistest: start %s: %w", s.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-p.done:
			return nil, fmt.Errorf("redistest: redis-server on %s exited during start: %s", s.Addr, logTail(logPath))
		default:
		}
		if ours(s.Addr, p.cmd.Process.Pid) == nil {
			return p, nil
		}
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("redistest: redis-server on %s did not answer PING within %v: %s", s.Addr, readyTimeout, logTail(logPath))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// ping sends one inline PING and expects +PONG, without a client library, so
// that readiness checks leave no connection pool behind.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("redistest: PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// ours reports whether the server answering on addr is the process pid:
// another package's redis-server may have taken the port between our probe
// for a free one and our server's bind, and it would answer PING too.
func ours(addr string, pid int) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("INFO server\r\n")); err != nil {
		return err
	}
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(head), "$"))
	if err != nil || !strings.HasPrefix(head, "$") {
		return fmt.Errorf("redistest: INFO answered %q", strings.TrimSpace(head))
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	if !strings.Contains(string(body), "\nprocess_id:"+strconv.Itoa(pid)+"\r") {
		return fmt.Errorf("redistest: another redis-server answers on %s", addr)
	}
	return nil
}

func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = "..." + s[len(s)-2000:]
	}
	if s == "" {
		return "(empty log)"
	}
	return s
}

// Client returns a new client for the server. The server closes it in
// [Server.Close] (for [Start], at the end of the test). Clients survive
// Stop and Restart and reconnect by themselves.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr:        s.Addr,
		DialTimeout: time.Second,
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients = append(s.clients, c)
	return c
}

// Stop kills the server and waits for it to exit, simulating Redis going
// down; the data is lost, as persistence is off. Clients stay open and fail
// until [Server.Restart]. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

// Restart starts the server again on the same address, stopping it first if
// it runs, and waits until it answers PING. The new server starts empty.
func (s *Server) Restart() error {
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("redistest: Restart after Close")
	}
	if s.proc != nil { // a concurrent Restart won
		return nil
	}
	p, err := s.launch()
	if err != nil {
		return err
	}
	s.proc = p
	return nil
}

// Close closes the clients from [Server.Client], stops the server and, for a
// server from [StartProcess], removes its directory. Calling it again does
// nothing.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	clients := s.clients
	s.clients = nil
	s.mu.Unlock()

	var errs []error
	for _, c := range clients {
		if err := c.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
			errs = append(errs, err)
		}
	}
	s.Stop()
	if s.ownDir {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}
