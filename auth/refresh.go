package auth

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
)

// ErrRefreshFailed is wrapped, with the cause, by the error of every request
// that waited for a refresh that failed, and by [Authenticator.Refresh]'s:
//
//	errors.Is(err, auth.ErrRefreshFailed) // the refresh failed
//	errors.Is(err, myRefresherErr)        // and why
//
// The user is logged out then, unless a shared store could not be locked or
// read (see [Options.OnFailure]).
var ErrRefreshFailed = errors.New("auth: refresh failed")

// refreshKey marks the context a refresh runs on. Its value is the
// Authenticator, so a Refresher's own requests through a client with this
// Authenticator installed never wait for the refresh they are part of
// (axios-auth-refresh issues #120 and #152 are that deadlock), while another
// Authenticator's requests made with it still do.
type refreshKey struct{}

func (a *Authenticator) ownRefresh(ctx context.Context) bool {
	return ctx.Value(refreshKey{}) == a
}

// joinLocked subscribes to the refresh under way, or starts one and
// subscribes to it, as seed 001's interceptor does: the first request that
// needs a new token sets isRefreshing and refreshes; every other request
// pushes itself onto subscribers. Here the first one waits on its channel
// like the rest, so it can leave on its own ctx without failing the
// refresh. a.mu must be held.
func (a *Authenticator) joinLocked() chan result {
	ch := a.subscribeLocked()
	if !a.isRefreshing {
		a.isRefreshing = true
		a.fast.Store(nil)
		go a.runRefresh(cloneToken(a.token))
	}
	return ch
}

// subscribeLocked adds a subscriber to the turn under way. a.mu must be
// held; the caller must then wait on the channel.
func (a *Authenticator) subscribeLocked() chan result {
	ch := make(chan result, 1) // buffered: the turn's end never blocks on a waiter that left
	a.subscribers = append(a.subscribers, ch)
	a.waiting.Add(1)
	return ch
}

// wait blocks until the turn ch subscribed to ends, or ctx does. A caller
// whose ctx ends leaves the queue at once with ctx's error, in O(1): its
// channel stays in subscribers until the turn ends. The others keep waiting
// and the refresh goes on.
func (a *Authenticator) wait(ctx context.Context, ch chan result) (result, error) {
	defer a.waiting.Add(-1)
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return result{}, ctx.Err()
	}
}

// takeTurn waits until no refresh is under way and then holds the turn
// itself, so SetToken and Logout never interleave with a refresh's store
// writes, and requests that arrive meanwhile wait for their outcome.
func (a *Authenticator) takeTurn(ctx context.Context) error {
	for {
		a.mu.Lock()
		if !a.isRefreshing {
			a.isRefreshing = true
			a.fast.Store(nil)
			a.mu.Unlock()
			return nil
		}
		if a.ownRefresh(ctx) {
			a.mu.Unlock()
			return errOwnRefresh
		}
		ch := a.subscribeLocked()
		a.mu.Unlock()
		if _, err := a.wait(ctx, ch); err != nil {
			return err
		}
	}
}

// endTurn makes tok (owned by the Authenticator; nil: none) the current
// token, releases the turn, and returns the subscribers to resume with r.
// New requests see the new token at once; the subscribers are resumed by
// the caller, after the hooks.
func (a *Authenticator) endTurn(tok *oauth2.Token, err error) {
	subs, r := a.publish(tok, false, false, err)
	resume(subs, r)
}

// publish makes tok the current token (fromStore: adopted from a shared
// store; unsaved: the store failed to save it), ends the turn, and returns
// the subscribers to resume with err.
func (a *Authenticator) publish(tok *oauth2.Token, fromStore, unsaved bool, err error) ([]chan result, result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.setLocked(tok, fromStore)
	a.unsaved = unsaved && tok != nil
	return a.releaseLocked(err)
}

// keep ends the turn with the current token unchanged (same generation, so
// no request sent with it counts as stale) and err for the subscribers.
func (a *Authenticator) keep(err error) ([]chan result, result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.releaseLocked(err)
}

func (a *Authenticator) releaseLocked(err error) ([]chan result, result) {
	subs := a.subscribers
	a.subscribers = nil
	a.isRefreshing = false
	a.publishFastLocked()
	return subs, a.resultLocked(err)
}

// resultLocked is what a subscriber resumes with: the token as it is now.
func (a *Authenticator) resultLocked(err error) result {
	return result{tok: a.token, gen: a.generation, sent: a.sent, err: err}
}

func resume(subs []chan result, r result) {
	for _, ch := range subs {
		ch <- r // buffered: never blocks, even for a waiter that left
	}
}

// refreshOutcome is how a refresh ended.
type refreshOutcome int

const (
	refreshDone        refreshOutcome = iota // this process refreshed the token
	refreshAdopted                           // another process had: its token was taken from the store
	refreshFailed                            // the user is logged out
	refreshUnavailable                       // the shared store could not be locked or read: the token is kept
)

// runRefresh is the one refresh of a turn. It runs on its own goroutine and
// its own context, bounded by RefreshTimeout, so no caller's cancellation
// reaches it.
func (a *Authenticator) runRefresh(stale *oauth2.Token) {
	base := context.WithValue(context.Background(), refreshKey{}, a)
	ctx, cancel := context.WithTimeout(base, a.timeout)
	defer cancel()

	tok, outcome, saved, err := a.refreshShared(ctx, stale)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	var subs []chan result
	if outcome == refreshUnavailable {
		// Nothing was learnt about the token: another process may have
		// saved a good one. Dropping ours would leave this process without
		// a token, and, with the store read once, never reading it again.
		subs, _ = a.keep(err)
	} else {
		subs, _ = a.publish(tok, outcome == refreshAdopted, outcome == refreshDone && !saved, err)
	}

	hookCtx := context.WithoutCancel(ctx)
	switch outcome {
	case refreshFailed:
		a.failures.Add(1)
		if a.onFailure != nil {
			a.onFailure(hookCtx, err)
		}
	case refreshAdopted:
		a.adopted.Add(1)
	case refreshDone:
		a.refreshes.Add(1)
		if a.onRefresh != nil {
			a.onRefresh(hookCtx, cloneToken(tok))
		}
	}
	// The turn ended before the hooks, so that they may call SetToken or
	// Logout. The waiters resume with the token as it is now: one that a
	// Logout meanwhile dropped is not handed out.
	a.mu.Lock()
	r := a.resultLocked(err)
	a.mu.Unlock()
	resume(subs, r)
}

// refreshShared refreshes stale. When the store is a storage.Locker, the
// refresh happens under the store's lock, after reloading the token: if
// another process already replaced the token this one saw fail, that token
// is adopted and Refresh is not called. So processes sharing a store
// refresh once per expiry, which refresh-token rotation needs.
//
// What the store holds is not adopted when it cannot be another process's
// refresh: when saving the current token failed (the store holds an older
// token, or none, because of that), or when it is one of this process's
// earlier tokens. The current token is refreshed instead.
//
// On a failure the store is cleared (the user is logged out), except when
// the lock could not be taken or the token not reloaded: then
// another process may hold a good token in the store, and a later refresh
// finds it.
func (a *Authenticator) refreshShared(ctx context.Context, stale *oauth2.Token) (tok *oauth2.Token, outcome refreshOutcome, saved bool, err error) {
	if locker, ok := a.store.(storage.Locker); ok {
		unlock, err := locker.Lock(ctx)
		if err != nil {
			return nil, refreshUnavailable, false, fmt.Errorf("lock store: %w", err)
		}
		defer func() {
			uctx, cancel := a.cleanupContext(ctx)
			_ = unlock(uctx) // a lease that outlived us expires on its own
			cancel()
		}()
		stored, err := a.store.Load(ctx)
		a.mu.Lock()
		unsaved := a.unsaved // the store never got the current token
		older := err == nil && a.olderOwnLocked(stored)
		a.mu.Unlock()
		switch {
		case err != nil && !errors.Is(err, storage.ErrNoToken):
			return nil, refreshUnavailable, false, fmt.Errorf("reload token: %w", err)
		case unsaved:
			// Saving the current token failed, so what the store holds (or
			// its being empty) does not come from it: refresh ours.
		case err != nil:
			return nil, refreshFailed, false, errNoToken // another process logged out
		case stored.AccessToken == "" || (stale != nil && stored.AccessToken == stale.AccessToken):
			stale = stored // the same access token; its refresh token is the newest
		case older:
			// One this process had before, written back by someone: not
			// another process's refresh. Adopting it would bring back a
			// token (and a refresh token) already replaced.
		default:
			return stored, refreshAdopted, false, nil
		}
	}
	tok, err = a.callRefresher(ctx, stale)
	if err != nil {
		cctx, cancel := a.cleanupContext(ctx)
		_ = a.store.Clear(cctx) // the token is dropped from memory either way
		cancel()
		return nil, refreshFailed, false, err
	}
	// The Refresher may have used most of ctx; a rotated refresh token that
	// is not saved is lost to the other processes, so the save gets its own
	// RefreshTimeout, as the unlock and Clear do.
	sctx, cancel := a.cleanupContext(ctx)
	defer cancel()
	if err := a.store.Save(sctx, tok); err != nil {
		// The new token is good: keep using it in this process.
		a.saveFails.Add(1)
		return tok, refreshDone, false, nil
	}
	return tok, refreshDone, true, nil
}

// olderOwnLocked reports whether tok is one of this process's earlier
// tokens, not the current one: recognized by its header among the last
// tokens set. a.mu must be held.
func (a *Authenticator) olderOwnLocked(tok *oauth2.Token) bool {
	if tok == nil || tok.AccessToken == "" {
		return false
	}
	gen, ok := a.issuedByLocked(a.headerValue(tok))
	return ok && gen < a.generation
}

// callRefresher calls the Refresher and gives up on it when ctx ends, so
// the waiting requests are resumed at RefreshTimeout even if the Refresher
// ignores its ctx.
func (a *Authenticator) callRefresher(ctx context.Context, stale *oauth2.Token) (*oauth2.Token, error) {
	if stale == nil {
		return nil, errNoToken
	}
	type outcome struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		// A panic here, on a goroutine of ours, could be recovered by no
		// caller: it fails the refresh instead of the process.
		defer func() {
			if p := recover(); p != nil {
				done <- outcome{err: fmt.Errorf("auth: the Refresher panicked: %v", p)}
			}
		}()
		tok, err := a.refresh(ctx, cloneToken(stale))
		done <- outcome{tok, err}
	}()
	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("refresh timeout of %v exceeded: %w", a.timeout, ctx.Err())
	}
	if o.err != nil {
		return nil, o.err
	}
	if o.tok == nil || o.tok.AccessToken == "" {
		return nil, errors.New("auth: the Refresher returned no access token")
	}
	tok := cloneToken(o.tok)
	if tok.RefreshToken == "" {
		// As x/oauth2: a server that does not rotate may leave it out.
		tok.RefreshToken = stale.RefreshToken
	}
	return tok, nil
}

// cleanupContext bounds the store writes that must happen even when the
// refresh's own deadline has passed or is about to.
func (a *Authenticator) cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), a.timeout)
}
