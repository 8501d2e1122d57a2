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
	ch, start, err := a.flight.join(a.state, seen, mayStart && a.canObtain(seen))
	if err != nil {
		return result{err: err}, true, nil // in the backoff of a failure
	}
	if ch == nil {
		return result{}, false, nil
	}
	if start {
		go a.runRefresh(ctx, seen)
	}
	r, err = a.flight.wait(ctx, ch)
	return r, true, err
}

// canObtain reports whether a turn could bring a token to replace seen's:
// a refresh of it, a login, or, with none held, one another process saved
// in a shared store.
func (a *Authenticator) canObtain(seen *current) bool {
	return seen.tok != nil || a.login != nil || a.store.locker != nil
}

// runRefresh is the turn that start handed its caller: one refresh (or
// login), on its own goroutine and its own context bounded by
// RefreshTimeout, made from from (the context of the caller that started
// the turn) by Options.RefreshContext, or from nothing: one caller giving
// up must not fail the refresh for the others.
//
// A refused refresh logs the user out: the token is dropped, the store
// cleared, OnFailure called. Any other failure keeps the token and its
// refresh token, and the flight refuses new attempts for a short backoff.
func (a *Authenticator) runRefresh(from context.Context, seen *current) {
	hookCtx := a.refreshBase(from)
	ctx, cancel := context.WithTimeout(context.WithValue(hookCtx, refreshKey{}, a), a.timeout)
	defer cancel()

	var tok *oauth2.Token
	var adopted, saved bool
	err := recovered("the store", func() (err error) {
		tok, adopted, saved, err = a.refreshShared(ctx, seen)
		return err
	})
	// With no token held, a shared store found empty again is no failure
	// and no logout; the backoff still spaces out the next look.
	nothing := seen.tok == nil && errors.Is(err, storage.ErrNoToken)
	refused := err != nil && !nothing && loggedOut(err)
	switch {
	case refused:
		a.state.set(nil, false, false)
	case err == nil:
		a.state.set(tok, adopted, !adopted && !saved)
	}
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrRefreshFailed, err)
		if !nothing {
			a.failures.Add(1)
		}
	}
	backoff := err
	if refused && a.refresh != nil && a.login != nil && seen.tok != nil {
		// The token was refused, not Login: the next turn logs in, at
		// once rather than after a failure's backoff.
		backoff = nil
	}
	subs := a.flight.release(backoff)

	// The turn has ended, so the hooks may call SetToken or Logout; the
	// waiters resume after them, with the token as it is then.
	// hookCtx is ctx without its deadline and without the mark of the
	// refresh's own context: the hooks run after the turn, so they may
	// wait for another one (SetToken, Logout, Refresh).
	switch {
	case refused:
		if a.onFailure != nil {
			a.safeHook(func() { a.onFailure(hookCtx, err) })
		}
	case err != nil:
	case adopted:
		a.adopted.Add(1)
	default:
		a.refreshes.Add(1)
		if a.onRefresh != nil {
			a.safeHook(func() { a.onRefresh(hookCtx, cloneToken(tok)) })
		}
	}
	resume(subs, result{cur: a.state.load(), err: err})
}

// refreshBase is what Options.RefreshContext makes of from, without its
// cancellation; context.Background() without the option, or when it
// returns nil or panics.
func (a *Authenticator) refreshBase(from context.Context) (base context.Context) {
	if a.refreshCtx == nil {
		return context.Background()
	}
	_ = recovered("Options.RefreshContext", func() error {
		if ctx := a.refreshCtx(context.WithoutCancel(from)); ctx != nil {
			base = context.WithoutCancel(ctx)
		}
		return nil
	})
	if base == nil {
		base = context.Background()
	}
	return base
}

// loggedOut reports whether a refresh's error ends the session: the server
// refused the credential, or there is none (another process logged out).
func loggedOut(err error) bool {
	return errors.Is(err, ErrRefused) || errors.Is(err, storage.ErrNoToken)
}

// safeHook runs a user's hook on the refresh's goroutine, where no caller
// could recover its panic: it must not take the process down, nor leave
// the waiters unresumed.
func (a *Authenticator) safeHook(f func()) {
	_ = recovered("a hook", func() error { f(); return nil })
}

// refreshShared refreshes seen's token, or logs in when there is none,
// under the shared store's lock when there is one (see
// sharedStore.reload), and saves the result. A refused refresh clears the
// store. A token whose save failed is still used here (saved is false),
// and its save is retried in the background, holding the lock, until it
// lands (see keepSaving).
func (a *Authenticator) refreshShared(ctx context.Context, seen *current) (tok *oauth2.Token, adopted, saved bool, err error) {
	// A background save of this process's token holds the lock: take it
	// over rather than wait for it, since only this turn can end it.
	unlock := a.takeOverSave()
	tookOver := unlock != nil
	if !tookOver {
		if unlock, err = a.store.lock(ctx); err != nil {
			return nil, false, false, err
		}
	}
	handedOff := false
	defer func() {
		switch {
		case handedOff:
		case tookOver && (err != nil || tok == nil) && !loggedOut(err) && a.state.load() == seen:
			// The turn failed (or panicked) and the token stays: so does
			// the need to save it.
			a.keepSaving(seen.tok, unlock)
		default:
			unlock()
		}
	}()
	p, err := a.store.reload(ctx, a.state, seen, a.login != nil)
	if err != nil {
		return nil, false, false, err
	}
	if p.adopt != nil {
		return p.adopt, true, false, nil
	}
	tok, err = a.obtain(ctx, p.stale)
	if err != nil {
		if loggedOut(err) {
			a.store.clear(ctx) // the token is dropped from memory too
		}
		return nil, false, false, err
	}
	// A Save that panics is a failed save, not a failed refresh: under
	// rotation the Refresher has already spent the old refresh token.
	if err := recovered("the store's Save", func() error { return a.store.save(ctx, tok) }); err != nil {
		a.saveFails.Add(1)
		if !errors.Is(err, storage.ErrLockExpired) {
			handedOff = true
			a.keepSaving(tok, unlock)
		}
		return tok, false, false, nil
	}
	return tok, false, true, nil
}

// obtain gets a new token: the Refresher's for stale, or Login's when
// there is no token to refresh or no Refresher. It gives up when ctx ends,
// so the waiting requests are resumed at RefreshTimeout even if the
// Refresher ignores its ctx, and a panic becomes the refresh's (transient)
// failure.
func (a *Authenticator) obtain(ctx context.Context, stale *oauth2.Token) (*oauth2.Token, error) {
	var call func() (*oauth2.Token, error)
	switch {
	case stale != nil && a.refresh != nil:
		call = func() (*oauth2.Token, error) { return a.refresh(ctx, cloneToken(stale)) }
	case a.login != nil:
		call = func() (*oauth2.Token, error) { return a.login(ctx) }
	default:
		return nil, errNoToken
	}
	type outcome struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan outcome, 1)
	what := "the Refresher"
	if stale == nil || a.refresh == nil {
		what = "Login"
	}
	go func() {
		var o outcome
		o.err = recovered(what, func() (err error) {
			o.tok, err = call()
			return err
		})
		done <- o
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
	if !a.state.sendable(o.tok) {
		return nil, errUnsendable // a malformed answer: transient, the old token is kept
	}
	tok := cloneToken(o.tok)
	if tok.RefreshToken == "" && stale != nil {
		// As x/oauth2: a server that does not rotate may leave it out.
		tok.RefreshToken = stale.RefreshToken
	}
	return tok, nil
}
