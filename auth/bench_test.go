package auth

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
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
