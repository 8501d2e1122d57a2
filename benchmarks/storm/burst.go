package main

import (
	"context"
	"slices"
	"sync"
	"time"
)

// burstResult is what one burst of concurrent requests did.
type burstResult struct {
	n        int
	wall     time.Duration // from the release of the first request to the end of the last
	p50, p99 time.Duration // of each request's own latency
	failures int
	firstErr error
}

// burst sends n requests at once: n goroutines are started and parked
// first, then released together, so the burst measures the requests, not
// the starting of goroutines.
func burst(ctx context.Context, n int, get func(context.Context) error) burstResult {
	lat := make([]time.Duration, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(n)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			t0 := time.Now()
			errs[i] = get(ctx)
			lat[i] = time.Since(t0)
		}()
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	r := burstResult{n: n, wall: time.Since(t0)}
	for _, err := range errs {
		if err != nil {
			if r.failures == 0 {
				r.firstErr = err
			}
			r.failures++
		}
	}
	r.p50, r.p99 = percentile(lat, 50), percentile(lat, 99)
	return r
}

// percentile returns the p-th percentile of d by the nearest-rank method.
// It sorts d.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	rank := (len(d)*p + 99) / 100 // ceil(n·p/100), 1-based
	return d[max(rank, 1)-1]
}

// medianDuration returns the median of d; it sorts d.
func medianDuration(d []time.Duration) time.Duration {
	return percentile(d, 50)
}

// medianFloat returns the median of v (the lower one of an even count)
// without changing v.
func medianFloat(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
