package auth

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"
)

// ErrRefreshFailed is wrapped, with the cause, by the error of every request
// that waited for a refresh that failed, and by [Authenticator.Refresh]'s:
//
//	errors.Is(err, auth.ErrRefreshFailed) // the refresh failed
//	errors.Is(err, myRefresherErr)        // and why
var ErrRefreshFailed = errors.New("auth: refresh failed")

// refreshKey marks the context a refresh runs on. Its value is the
// Authenticator, so that a Refresher's own requests through a client with
// this Authenticator installed never wait for the refresh they are part of
// (axios-auth-refresh issues #120 and #152 are that deadlock), while another
// Authenticator's requests made with it still do.
type refreshKey struct{}

func (a *Authenticator) ownRefresh(ctx context.Context) bool {
	return ctx.Value(refreshKey{}) == a
}

// refreshed waits for the refresh under way, or starts one for seen when
// the caller judged that it needs one (mayStart). joined is false when
// there was nothing to wait for after all: the caller judges the state
// again.
func (a *Authenticator) refreshed(ctx context.Context, seen *current, mayStart bool) (r result, joined bool, err error) {
	ch, start := a.flight.join(a.state, seen, mayStart && seen.tok != nil)
	if ch == nil {
		return result{}, false, nil
	}
	if start {
		go a.runRefresh(seen)
	}
	r, err = a.flight.wait(ctx, ch)
	return r, true, err
}

// runRefresh is the turn that start handed its caller: one refresh, on its
// own goroutine and its own context bounded by RefreshTimeout, so no
// caller's cancellation reaches it.
func (a *Authenticator) runRefresh(seen *current) {
	base := context.WithValue(context.Background(), refreshKey{}, a)
	ctx, cancel := context.WithTimeout(base, a.timeout)
	defer cancel()

	tok, adopted, saved, err := a.refreshShared(ctx, seen)
	var unavail *unavailableError
	switch {
	case errors.As(err, &unavail):
		// Nothing was learnt about the token: keep it.
	case err != nil:
		a.state.set(nil, false, false)
	default:
		a.state.set(tok, adopted, !adopted && !saved)
	}
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrRefreshFailed, err)
	}
	subs := a.flight.release()

	// The turn has ended, so the hooks may call SetToken or Logout; the
	// waiters resume after them, with the token as it is then.
	hookCtx := context.WithoutCancel(ctx)
	switch {
	case unavail != nil:
	case err != nil:
		a.failures.Add(1)
		if a.onFailure != nil {
			a.onFailure(hookCtx, err)
		}
	case adopted:
		a.adopted.Add(1)
	default:
		a.refreshes.Add(1)
		if a.onRefresh != nil {
			a.onRefresh(hookCtx, cloneToken(tok))
		}
	}
	resume(subs, result{cur: a.state.load(), err: err})
}

// refreshShared refreshes seen's token, under the shared store's lock when
// there is one (see sharedStore.reload), and saves the result. A refresh
// that fails clears the store; one whose save fails is still used here
// (saved is false).
func (a *Authenticator) refreshShared(ctx context.Context, seen *current) (tok *oauth2.Token, adopted, saved bool, err error) {
	unlock, err := a.store.lock(ctx)
	if err != nil {
		return nil, false, false, unavailable(err)
	}
	defer unlock()
	p, err := a.store.reload(ctx, a.state, seen)
	if err != nil {
		return nil, false, false, err
	}
	if p.adopt != nil {
		return p.adopt, true, false, nil
	}
	tok, err = a.callRefresher(ctx, p.stale)
	if err != nil {
		a.store.clear(ctx) // the token is dropped from memory either way
		return nil, false, false, err
	}
	if err := a.store.save(ctx, tok); err != nil {
		a.saveFails.Add(1)
		return tok, false, false, nil
	}
	return tok, false, true, nil
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
