package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// flight is one refresh at a time and the requests that wait for it: the
// isRefreshing flag and subscribers list of the classic axios refresh
// interceptor. The first caller that needs a new token starts a turn and
// runs it; every caller that needs one meanwhile subscribes and waits; the
// turn's end resumes them all with one result. SetToken and Logout take
// the turn too, so they never interleave with a refresh.
type flight struct {
	mu           sync.Mutex // guards the fields up to busy
	isRefreshing bool
	subscribers  []chan result

	// After a failed turn no new one starts until retryAt: the callers
	// that need one fail at once with lastErr. fails counts the failures
	// in a row, for the backoff.
	lastErr error
	retryAt time.Time
	fails   int

	busy      atomic.Bool  // a turn that new requests wait for is under way (not a background one alone); read without the lock
	replacing atomic.Bool  // the turn is SetToken's or Logout's: the token is about to be replaced
	waiting   atomic.Int64 // subscribers still waiting
}

// underWay reports, without a lock, whether a turn that requests wait for
// is under way. A caller that acts on it judges again in join, under the
// lock.
func (f *flight) underWay() bool { return f.busy.Load() }

// result is what a turn hands each subscriber: the token state after it,
// and the turn's error.
type result struct {
	cur *current
	err error
}

// join subscribes to the turn under way. With none under way, it starts
// one and reports start (the caller must run it and release it) when the
// caller judged that seen, the token state, needs a refresh (mayStart) and
// seen is still the current state. Otherwise it returns a nil channel: the
// turn the caller saw has ended, and the caller judges the state again.
//
// In the backoff after a failed turn, a caller that would start one gets
// the failure instead.
func (f *flight) join(state *tokenState, seen *current, mayStart bool) (ch chan result, start bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.isRefreshing {
		if !mayStart || state.load() != seen {
			return nil, false, nil
		}
		if f.lastErr != nil && timeNow().Before(f.retryAt) {
			return nil, false, f.lastErr
		}
		f.isRefreshing, start = true, true
	}
	f.busy.Store(true) // a waiter: requests that start meanwhile wait too
	return f.subscribeLocked(), start, nil
}

// startBackground starts a turn nobody waits for (a proactive refresh of a
// token still valid), unless one is under way, the state is no longer seen,
// or a failure's backoff lasts. Requests go on without waiting for it.
func (f *flight) startBackground(state *tokenState, seen *current) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.isRefreshing || state.load() != seen || (f.lastErr != nil && timeNow().Before(f.retryAt)) {
		return false
	}
	f.isRefreshing = true
	return true
}

func (f *flight) subscribeLocked() chan result {
	// Buffered: the turn's end never blocks on a waiter that left.
	ch := make(chan result, 1)
	f.subscribers = append(f.subscribers, ch)
	f.waiting.Add(1)
	return ch
}

// take waits until no turn is under way and then holds one, for a caller
// that changes the token itself.
func (f *flight) take(ctx context.Context) error {
	for {
		f.mu.Lock()
		if !f.isRefreshing {
			f.isRefreshing = true
			f.busy.Store(true)
			f.replacing.Store(true)
			f.mu.Unlock()
			return nil
		}
		ch := f.subscribeLocked()
		f.busy.Store(true)
		f.mu.Unlock()
		if _, err := f.wait(ctx, ch); err != nil {
			return err
		}
	}
}

// wait blocks until the turn ch subscribed to ends, or ctx does. A waiter
// whose ctx ends leaves at once, in O(1): its channel stays in the list
// until the turn ends, so N waiters leaving together cost N, not N².
func (f *flight) wait(ctx context.Context, ch chan result) (result, error) {
	defer f.waiting.Add(-1)
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return result{}, ctx.Err()
	}
}

// release ends the turn and returns its subscribers, for [resume].
// Requests that start from now on see the token state as it is. A turn
// that failed with err starts the backoff: 1s, doubling with each failure
// in a row up to 4s.
func (f *flight) release(err error) []chan result {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.lastErr, f.retryAt = err, timeNow().Add(min(time.Second<<min(f.fails, 2), maxBackoff))
		f.fails++
	} else {
		f.lastErr, f.fails = nil, 0
	}
	subs := f.subscribers
	f.subscribers = nil
	f.isRefreshing = false
	f.busy.Store(false)
	f.replacing.Store(false)
	return subs
}

// maxBackoff bounds the wait between attempts while a failure lasts.
const maxBackoff = 4 * time.Second

func resume(subs []chan result, r result) {
	for _, ch := range subs {
		ch <- r // buffered: never blocks, even for a waiter that left
	}
}
