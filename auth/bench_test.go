package auth

import (
	"context"
	"fmt"
	"net/http"
	"sync"
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
