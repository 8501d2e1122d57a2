package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/axiosgo/axios/auth/authtest"
)

// memResult is the memory held while n requests wait for one refresh, per
// request, in bytes.
type memResult struct {
	n            int
	heapInuse    float64 // runtime.MemStats.HeapInuse: spans with live objects
	heapAlloc    float64 // HeapAlloc: the live objects themselves
	stackInuse   float64 // StackInuse: the waiting goroutines' stacks
	denied       int64   // requests that got their 401 before they waited; the rest waited before being sent
	refreshCalls int64
	failures     int
	firstErr     error
}

// measureWaiting holds n requests of our client in the refresh queue and
// measures what they hold: after Revoke, the n requests get their 401s and
// join the one refresh, whose Refresher is held by a gate until all n are
// waiting (auth.Stats().Waiting == n), so the measurement never races a
// timer. The baseline is taken just before the requests start, after two
// bursts of n with a valid token, so the connection pools on both sides are
// already as large as the storm makes them and are not counted; the
// goroutines are (each is a caller's request). Both readings follow two GCs.
func measureWaiting(ctx context.Context, n int, o options) (memResult, error) {
	srv := authtest.NewServer(serverOptions(clientAxios))
	defer srv.Close()
	tr := newTransport(o.conns)
	defer tr.CloseIdleConnections()
	gate := make(chan struct{})
	c, err := newClient(clientAxios, srv, tr, gate)
	if err != nil {
		return memResult{}, err
	}
	for range 2 {
		if w := burst(ctx, n, c.get); w.failures > 0 {
			return memResult{}, fmt.Errorf("storm: memory: %d requests failed with a valid token: %w", w.failures, w.firstErr)
		}
	}

	res := memResult{n: n}
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Add(n)
	srv.ResetCounters()
	srv.Revoke()
	before := memStats()
	for i := range n {
		go func() {
			defer wg.Done()
			// Not ctx: a shared cancelable parent would hold a map entry for
			// each request in flight, which is the harness's cost, not the
			// client's. The refresh's own timeout bounds the wait.
			errs[i] = c.get(context.Background())
		}()
	}
	opened := false
	defer func() {
		if !opened {
			close(gate)
		}
		wg.Wait()
	}()
	deadline := time.Now().Add(o.timeout)
	for c.authn.Stats().Waiting < int64(n) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return res, fmt.Errorf("storm: memory: only %d of %d requests reached the refresh queue in %v", c.authn.Stats().Waiting, n, o.timeout)
		}
		time.Sleep(time.Millisecond)
	}
	during := memStats()
	res.denied = srv.Denied()
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return res, err
		}
	}
	close(gate)
	opened = true
	wg.Wait()

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
