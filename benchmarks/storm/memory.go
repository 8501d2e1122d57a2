package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/storage"
)

// Where the requests of a memory measurement wait for the refresh.
const (
	// waitAfter401: every request was sent with the revoked token, got its
	// 401 and waits in the response interceptor, holding the refused
	// response. The worst case, and what most requests of a storm do.
	waitAfter401 = "after its 401"
	// waitBeforeSend: a refresh was under way when the requests started,
	// so they wait in the request interceptor and are sent once, with the
	// new token.
	waitBeforeSend = "before it is sent"
)

// memResult is the memory held while n requests wait for one refresh, per
// request, in bytes.
type memResult struct {
	mode         string
	n            int
	heapInuse    float64 // runtime.MemStats.HeapInuse: spans with live objects
	heapAlloc    float64 // HeapAlloc: the live objects themselves
	stackInuse   float64 // StackInuse: the waiting goroutines' stacks
	denied       int64   // requests that got a 401 before the measurement
	refreshCalls int64
	failures     int
	firstErr     error
}

// measureWaiting holds n requests of our client in the refresh queue and
// measures what they hold. The Refresher is held by a gate until all n are
// waiting (auth.Stats().Waiting), so the measurement never races a timer.
// mode says where they wait: for waitAfter401 a barrier in the transport
// lets the requests out only once all n were sent with the revoked token,
// so each gets a 401; for waitBeforeSend a refresh is started first.
//
// The baseline is taken just before the requests start, after two bursts
// of n with a valid token, so the connection pools on both sides are
// already as large as the storm makes them and are not counted; the
// goroutines are (each is a caller's request). Both readings follow two GCs.
func measureWaiting(ctx context.Context, n int, mode string, o options) (memResult, error) {
	srv := authtest.NewServer(serverOptions(clientAxios))
	defer srv.Close()
	tr := newTransport(o.conns)
	defer tr.CloseIdleConnections()
	gate := make(chan struct{})
	opened := false
	open := func() {
		if !opened {
			opened = true
			close(gate)
		}
	}
	defer open()
	bar := &barrier{base: tr}
	c, err := newAxiosClientRT(srv.URL, tr, bar, storage.NewMemory(), srv.Issue(authtest.DefaultUser), gate)
	if err != nil {
		return memResult{}, err
	}
	for range 2 {
		if w := burst(ctx, n, c.get); w.failures > 0 {
			return memResult{}, fmt.Errorf("storm: memory: %d requests failed with a valid token: %w", w.failures, w.firstErr)
		}
	}

	res := memResult{mode: mode, n: n}
	srv.ResetCounters()
	srv.Revoke()
	waiting := int64(n)
	var refreshDone chan error
	switch mode {
	case waitAfter401:
		bar.arm(n)
	case waitBeforeSend:
		refreshDone = make(chan error, 1)
		go func() {
			_, err := c.authn.Refresh(context.Background())
			refreshDone <- err
		}()
		waiting++
		if err := waitFor(ctx, o.timeout, func() bool { return c.authn.Stats().Waiting == 1 }); err != nil {
			return res, fmt.Errorf("storm: memory: the refresh did not start: %w", err)
		}
	default:
		return res, fmt.Errorf("storm: memory: unknown mode %q", mode)
	}

	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Add(n)
	defer func() {
		open()
		wg.Wait()
	}()
	before := memStats()
	if o.memProfile != "" && mode == waitAfter401 {
		// The baseline's profile, for go tool pprof -diff_base.
		if err := writeHeapProfile(o.memProfile + ".base"); err != nil {
			return res, err
		}
	}
	for i := range n {
		go func() {
			defer wg.Done()
			// Not ctx: a shared cancelable parent would hold a map entry for
			// each request in flight, which is the harness's cost, not the
			// client's. The refresh's own timeout bounds the wait.
			errs[i] = c.get(context.Background())
		}()
	}
	if err := waitFor(ctx, o.timeout, func() bool { return c.authn.Stats().Waiting >= waiting }); err != nil {
		return res, fmt.Errorf("storm: memory: %d of %d requests reached the refresh queue: %w", c.authn.Stats().Waiting, waiting, err)
	}
	during := memStats()
	res.denied = srv.Denied()
	if o.memProfile != "" && mode == waitAfter401 {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return res, err
		}
	}
	open()
	wg.Wait()
	if refreshDone != nil {
		if err := <-refreshDone; err != nil {
			return res, fmt.Errorf("storm: memory: refresh: %w", err)
		}
	}

	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	res.heapInuse = per(during.HeapInuse, before.HeapInuse)
	res.heapAlloc = per(during.HeapAlloc, before.HeapAlloc)
	res.stackInuse = per(during.StackInuse, before.StackInuse)
	res.refreshCalls = srv.RefreshCalls()
	for _, err := range errs {
		if err != nil {
			if res.failures == 0 {
				res.firstErr = err
			}
			res.failures++
		}
	}
	return res, nil
}

// waitFor polls cond every millisecond until it holds, ctx ends or limit
// passes.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", limit)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// barrier is a RoundTripper that, once armed with n, holds requests until n
// have arrived and then lets them all through: every one of them was built,
// and its token attached, before any answer came back.
type barrier struct {
	base http.RoundTripper

	mu      sync.Mutex
	want    int // 0: disarmed
	arrived int
	open    chan struct{}
}

func (b *barrier) arm(n int) {
	b.mu.Lock()
	b.want, b.arrived, b.open = n, 0, make(chan struct{})
	b.mu.Unlock()
}

func (b *barrier) RoundTrip(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	if b.want == 0 {
		b.mu.Unlock()
		return b.base.RoundTrip(req)
	}
	b.arrived++
	open := b.open
	if b.arrived == b.want {
		close(open)
		b.want = 0
	}
	b.mu.Unlock()
	select {
	case <-open:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return b.base.RoundTrip(req)
}

// writeHeapProfile writes the heap profile as it is now, while the
// requests wait: `go tool pprof -sample_index=inuse_space` then shows what
// each waiting request holds.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func memStats() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}
