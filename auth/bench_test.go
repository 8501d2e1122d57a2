package auth

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
)

// BenchmarkWaitersLeavingTogether times n waiters whose contexts end at
// once (a burst of requests timing out during a slow refresh) leaving the
// queue: each leaving waiter must cost O(1), not a search of the queue.
func BenchmarkWaitersLeavingTogether(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				release := make(chan struct{})
				a, err := New(Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
					<-release
					return tokenWith("t2", time.Time{}), nil
				}})
				if err != nil {
					b.Fatal(err)
				}
				if err := a.SetToken(context.Background(), tokenWith("t1", time.Time{})); err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				wg.Add(n)
				for range n {
					go func() {
						defer wg.Done()
						_, _ = a.Refresh(ctx)
					}()
				}
				for a.Stats().Waiting < int64(n) {
					time.Sleep(time.Millisecond)
				}
				b.StartTimer()
				cancel()
				wg.Wait()
				b.StopTimer()
				close(release)
			}
		})
	}
}

// BenchmarkAttachHeader is the request half's cost with a valid token, the
// common case: alone, and from every core at once (the token snapshot is
// read without a lock). docs/benchmarks.md reports what it bought.
func BenchmarkAttachHeader(b *testing.B) {
	a, err := New(Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		b.Error("unexpected refresh: the token is valid")
		return nil, context.Canceled
	}})
	if err != nil {
		b.Fatal(err)
	}
	if err := a.SetToken(context.Background(), tokenWith("t1", time.Now().Add(time.Hour))); err != nil {
		b.Fatal(err)
	}
	// The config is reused: the header left by the last call carries the
	// current token, so each call replaces it, as a retry's does.
	attach := func(ctx context.Context, cfg *axios.Config) {
		if _, err := a.AttachHeader(ctx, cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		ctx, cfg := context.Background(), &axios.Config{Headers: http.Header{}}
		for b.Loop() {
			attach(ctx, cfg)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			ctx, cfg := context.Background(), &axios.Config{Headers: http.Header{}}
			for pb.Next() {
				attach(ctx, cfg)
			}
		})
	})
}

// BenchmarkProactiveWindow is the latency a request pays while its token
// is inside the RefreshBefore window and a proactive refresh is under way,
// against the same request with a token far from expiry, in the same run.
// The token is still valid, so the request is sent at once while one
// refresh runs in the background, held for the whole run. It reports p50
// and p99 per request; the two cases should match. No timing is asserted:
// it checks that exactly one refresh started and none finished.
func BenchmarkProactiveWindow(b *testing.B) {
	for _, inWindow := range []bool{false, true} {
		name := "valid"
		if inWindow {
			name = "refresh-under-way"
		}
		b.Run(name, func(b *testing.B) {
			clock := &fakeClock{t: time.Now()}
			old := timeNow
			timeNow = clock.Now
			defer func() { timeNow = old }()

			release := make(chan struct{})
			var started atomic.Int64
			a, err := New(Options{Refresh: func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
				started.Add(1)
				select {
				case <-release:
				case <-ctx.Done():
				}
				return nil, context.Canceled
			}})
			if err != nil {
				b.Fatal(err)
			}
			c := axios.Create(axios.Config{})
			c.Resty().SetTransport(okTransport{})
			a.Install(c)
			if err := a.SetToken(context.Background(), tokenWith("t1", clock.Now().Add(time.Hour))); err != nil {
				b.Fatal(err)
			}
			if inWindow {
				clock.Advance(time.Hour - 10*time.Second) // due, still valid; the clock then stands still
			}
			ctx := context.Background()
			lat := make([]time.Duration, 0, 1<<16)
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if _, err := c.Get(ctx, "http://api.test/users/1"); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
			}
			b.StopTimer()
			if inWindow { // the background refresh may not have reached the Refresher yet
				for deadline := time.Now().Add(5 * time.Second); started.Load() == 0 && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
			}
			n := started.Load()
			close(release)
			for !idle(a)() {
				time.Sleep(time.Millisecond)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2]), "p50-ns")
			b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
			if want := map[bool]int64{false: 0, true: 1}[inWindow]; n != want {
				b.Fatalf("%d refreshes started, want %d", n, want)
			}
			if s := a.Stats(); s.Refreshes != 0 || s.Retries != 0 {
				b.Fatalf("no refresh may finish and no request be retried: %+v", s)
			}
		})
	}
}

// okTransport answers every request with a small JSON body, from memory.
type okTransport struct{}

func (okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(`{"id":1}`)),
		ContentLength: 8,
		Request:       req,
	}, nil
}
