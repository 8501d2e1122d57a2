package auth

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"time"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/storage"
)

// Keys of the per-request state kept in axios.Config.Meta; each request has
// its own Meta copy. The common request records nothing: its header says
// which token it carried (tokenState.recognize). Only a token whose header
// repeats a recent one's (a refresh that handed back the same access token)
// is recorded, as its *current.
const (
	metaSkip  = "auth.skip"  // bool: SkipAuthRefresh
	metaSent  = "auth.sent"  // *current: the token the attempt carried, when its header repeats an older one's
	metaRetry = "auth.retry" // bool: the pair's retry of a refused request
)

// IsRetry reports whether cfg is the auth pair's retry of a refused
// request, for a request interceptor that treats it apart (as
// axios-auth-refresh's onRetry): the retry runs the client's whole chain
// again.
func IsRetry(cfg *axios.Config) bool {
	v, _ := cfg.Meta[metaRetry].(bool)
	return v
}

// retriesKey is the context key of the number of retries HandleError made
// of the request under way. It travels with the retry's ctx, not its
// Config, so it holds when a Config is replaced (an Adapter that answers
// with one of its own) and a Config re-sent from a Response later is a new
// request, with retries of its own (the axios idiom marks the Config with
// _retry instead). It names the Authenticator, whose count it is.
type retriesKey struct{ a *Authenticator }

func (a *Authenticator) retriesOf(ctx context.Context) int {
	n, _ := ctx.Value(retriesKey{a}).(int)
	return n
}

// SkipAuthRefresh marks the request cfg describes so that a refused status
// is passed on rather than refreshed, and so that the request never waits
// for a refresh: for a login or refresh call, or a logout that must not log
// in again. The token is still attached. As axios-auth-refresh's
// skipAuthRefresh config flag; it sets a key in cfg.Meta.
func SkipAuthRefresh(cfg *axios.Config) {
	if cfg.Meta == nil {
		cfg.Meta = make(map[string]any, 1)
	}
	cfg.Meta[metaSkip] = true
}

func skipped(cfg *axios.Config) bool {
	v, _ := cfg.Meta[metaSkip].(bool)
	return v
}

// AttachHeader is the request half of the pair: it sets the header from
// the current token (loaded from the store on first use). A token due for
// a proactive refresh but still valid is sent while one refresh runs in
// the background; an expired one, or none when Login is set, first waits
// for that one refresh, as does every request while a refresh started by a
// refusal runs. With no token and no Login the request goes without one. A header the caller set is kept, unless it carries one of the
// Authenticator's recent tokens: then it is replaced by the current one.
// Requests marked with [SkipAuthRefresh], or made with a Refresher's ctx,
// never wait.
//
// Errors are [*axios.Error]s: CodeBadOptionValue wrapping the store's error
// when the first load fails; CodeCanceled or CodeTimedOut when ctx ends
// while it waits; one wrapping [ErrRefreshFailed] and the cause when the
// refresh fails. A nil ctx means context.Background(). It is safe for
// concurrent use.
func (a *Authenticator) AttachHeader(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
	ctx = orBackground(ctx)
	if cfg.Headers == nil {
		cfg.Headers = make(http.Header)
	}
	loadErr := a.ensureLoaded(ctx) // first, so a header copied from the store is known as ours
	if v := cfg.Headers[a.header]; len(v) > 0 && v[0] != "" && (loadErr != nil || !a.state.ours(v[0])) {
		return cfg, nil // the caller's own credential: it needs no token of ours
	}
	if !a.scope.allows(cfg) {
		a.setHeader(cfg, nil) // another origin: no token, not even one copied in
		return cfg, nil
	}
	if loadErr != nil {
		// An *axios.Error with the Config, so the interceptors after this
		// one (Loading, Logger) know which request failed.
		if ctx.Err() != nil {
			return nil, axios.ContextError(cfg, loadErr)
		}
		return nil, &axios.Error{Message: loadErr.Error(), Code: axios.CodeBadOptionValue, Config: cfg, Err: loadErr}
	}
	cur, waitErr, err := a.tokenToSend(ctx, func() bool { return a.mayWait(ctx, cfg) })
	switch {
	case waitErr != nil:
		return nil, axios.ContextError(cfg, waitErr)
	case err != nil:
		return nil, refreshError(nil, cfg, err)
	}
	a.setHeader(cfg, cur)
	return cfg, nil
}

// tokenToSend returns the token a request is to carry: the current one,
// after waiting for a refresh when it needs one and mayWait allows (judged
// only then: it may cost a Meta lookup). waitErr is ctx's error when the
// wait ended with it; err the refresh's failure.
func (a *Authenticator) tokenToSend(ctx context.Context, mayWait func() bool) (cur *current, waitErr, err error) {
	// A refresh may end with a token that is due at once (one adopted from
	// a shared store, saved long ago), so the token is judged again after
	// each wait, a few times at most.
	for waits := 0; ; {
		cur := a.state.load()
		if cur.dueAt.IsZero() && cur.tok != nil && !a.flight.underWay() {
			return cur, nil, nil // never due (no expiry): the common case needs no clock
		}
		now := timeNow()
		need := a.needsToken(cur, now)
		if !need && a.state.dueAt(cur, false, now) && a.flight.startBackground(a.state, cur) {
			// Still valid: sent as it is while one refresh runs behind it.
			go a.runRefresh(ctx, cur)
		}
		if (!need && !a.flight.underWay()) || waits == maxAttachWaits || !mayWait() {
			return cur, nil, nil
		}
		r, joined, werr := a.refreshed(ctx, cur, need)
		if !joined {
			continue
		}
		waits++
		if werr != nil {
			return nil, werr, nil
		}
		if r.err != nil {
			return nil, nil, r.err
		}
	}
}

// needsToken reports whether a request must wait for a new token before it
// is sent: the token has expired (and is due: one that arrived expired is
// sent), or there is none and Login can get one.
func (a *Authenticator) needsToken(cur *current, now time.Time) bool {
	if cur.tok == nil {
		return a.login != nil
	}
	return !cur.dueAt.IsZero() && !now.Before(cur.tok.Expiry)
}

// maxAttachWaits bounds the refreshes one request waits for before it is
// sent with whatever token there is then.
const maxAttachWaits = 3

func (a *Authenticator) mayWait(ctx context.Context, cfg *axios.Config) bool {
	return !skipped(cfg) && !a.ownRefresh(ctx)
}

// setHeader sends cur's token (none when cur has none). A token whose
// header repeats a recent one's is recorded in Meta, so HandleError knows
// which of them the attempt carried.
func (a *Authenticator) setHeader(cfg *axios.Config, cur *current) {
	if cur == nil || cur.header == "" {
		delete(cfg.Headers, a.header)
		delete(cfg.Meta, metaSent)
		return
	}
	if cur.repeat {
		if cfg.Meta == nil {
			cfg.Meta = make(map[string]any, 1)
		}
		cfg.Meta[metaSent] = cur
	} else {
		delete(cfg.Meta, metaSent) // a retry of an attempt that had one
	}
	// A slice per request: an interceptor may write into it, and that must
	// never reach another request's header.
	cfg.Headers[a.header] = []string{cur.header}
	if a.header != DefaultHeader {
		// The core drops Authorization on a redirect to another origin, but
		// forwards a header of any other name.
		cfg.BeforeRedirect = a.guardRedirect(cfg.BeforeRedirect)
	}
}

// guardRedirect returns a redirect check that drops the token's header on
// a redirect to another origin, then asks next, the request's own check.
// With none it is a method value made once, so the common request
// allocates nothing for it.
func (a *Authenticator) guardRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	if next == nil {
		return a.redirectGuard
	}
	return func(req *http.Request, via []*http.Request) error {
		if err := a.dropOnCrossOrigin(req, via); err != nil {
			return err
		}
		return next(req, via)
	}
}

func (a *Authenticator) dropOnCrossOrigin(req *http.Request, via []*http.Request) error {
	from, _ := originOf(via[0].URL)
	if to, _ := originOf(req.URL); to != from {
		req.Header.Del(a.header)
	}
	return nil
}

// HandleError is the response half of the pair, for a response
// interceptor's rejected handler. For a refused token (ShouldRefresh) it
// gets a newer token and retries the request, up to MaxRetries times: the
// current token, when the request carried an older one (so N concurrent
// refusals cost one refresh, and all N are retried); else the result of
// the refresh under way, or of one it starts. Any other error is passed
// on as it is. Installed, it retries through its client; called directly,
// through the client last passed to Install, and without Install it passes
// every error on.
//
// A refusal is passed on as it is for a request marked [SkipAuthRefresh],
// made with a Refresher's ctx, sent with the caller's own header, sent
// without a token when there still is none, or retried MaxRetries times.
// A waiting request whose ctx ends fails with CodeCanceled or CodeTimedOut;
// a failed refresh fails every waiting request with an [*axios.Error] that
// keeps the refused response and wraps [ErrRefreshFailed] and the cause. A
// nil ctx means context.Background(). It is safe for concurrent use.
func (a *Authenticator) HandleError(ctx context.Context, err error) (*axios.Response, error) {
	c := a.installed.Load()
	if c == nil {
		return nil, err
	}
	return a.handleError(orBackground(ctx), c, err)
}

func (a *Authenticator) handleError(ctx context.Context, c *axios.Client, err error) (*axios.Response, error) {
	axErr, ok := axios.AsError(err)
	if !ok || axErr.Response == nil || axErr.Config == nil || !a.shouldRefresh(axErr) {
		return nil, err
	}
	cfg := axErr.Config
	retries := a.retriesOf(ctx)
	if skipped(cfg) || a.ownRefresh(ctx) || retries >= a.maxRetries || !a.scope.allows(cfg) {
		return nil, err
	}
	if a.ensureLoaded(ctx) != nil {
		return nil, err // the store fails: no token to retry with
	}
	var header string
	if v := cfg.Headers[a.header]; len(v) > 0 {
		header = v[0]
	}

	var sent uint64 // the generation of the token the attempt carried
	if m, _ := cfg.Meta[metaSent].(*current); m != nil && header != "" && m.header == header {
		sent = m.gen
	} else if header != "" {
		gen, ours := a.state.recognize(header)
		if !ours {
			return nil, err // the caller's own credential was refused, not ours
		}
		sent = gen
	}
	next, waitErr, rerr := a.tokenToRetry(ctx, sent, header == "" && retries > 0)
	switch {
	case waitErr != nil:
		return nil, axios.ContextError(cfg, waitErr)
	case rerr != nil:
		return nil, refreshError(axErr, cfg, rerr)
	case next == nil:
		return nil, err
	}

	// The refused Config may have no Meta or Headers: the client's request
	// interceptors were cleared, or an Adapter answered with its own Config.
	retry := *cfg
	retry.Meta = maps.Clone(cfg.Meta)
	if retry.Meta == nil {
		retry.Meta = make(map[string]any, 1)
	}
	retry.Meta[metaRetry] = true
	retry.Headers = cfg.Headers.Clone()
	if retry.Headers == nil {
		retry.Headers = make(http.Header, 1)
	}
	a.setHeader(&retry, next)
	a.retries.Add(1)
	resp, rerr := c.Request(context.WithValue(ctx, retriesKey{a}, retries+1), retry)
	return resp, withRefusal(rerr, axErr)
}

// withRefusal returns err, the error of a resend, with the refused
// attempt's response when the resend failed because its body could not be
// read again: the caller learns why it was not resent and what the server
// said.
func withRefusal(err error, refused *axios.Error) error {
	e, ok := axios.AsError(err)
	if !ok || e.Response != nil || !errors.Is(err, axios.ErrNotReplayable) {
		return err
	}
	c := *e
	c.Request, c.Response = refused.Request, refused.Response
	return &c
}

// tokenToRetry returns the token to retry a refused request with, which
// carried the token of generation sent: the current one when it is newer
// (no refresh: the stale-token rule), else the result of the refresh under
// way or of one it starts. retriedBare is a request sent without a token
// and refused again after a retry with the current one: it is refreshed.
// next is nil when the refusal is to be passed on: there is no token and
// no Login, or a logout came meanwhile.
func (a *Authenticator) tokenToRetry(ctx context.Context, sent uint64, retriedBare bool) (next *current, waitErr, err error) {
	for {
		cur := a.state.load()
		if retriedBare {
			sent = cur.gen
		}
		// Someone refreshed since this request left: retry with that token.
		// (With none held now there is nothing to retry with but what a
		// turn can obtain.)
		stale := sent < cur.gen && cur.tok != nil
		if !a.flight.underWay() {
			if stale {
				return nonEmpty(cur), nil, nil
			}
			if !a.canObtain(cur) {
				return nil, nil, nil // no token to refresh: log in
			}
		}
		r, joined, werr := a.refreshed(ctx, cur, !stale)
		switch {
		case !joined:
			continue
		case werr != nil:
			return nil, werr, nil
		case r.err != nil && cur.tok == nil && errors.Is(r.err, storage.ErrNoToken):
			return nil, nil, nil // still no token anywhere: the refusal as it is
		case r.err != nil:
			return nil, nil, r.err
		}
		return nonEmpty(r.cur), nil, nil
	}
}

func nonEmpty(c *current) *current {
	if c.header == "" {
		return nil
	}
	return c
}

// refreshError is the error of a request whose refresh failed. It keeps the
// refused response and its code, when there is one, and wraps the refresh's
// error. A request that waited before it was sent has no status: its code
// is the cause's when the cause is an *axios.Error (the refresh request's
// own failure), else ERR_NETWORK, as a request that got no response. Its
// message names no token: the Refreshers and stores of this module never put
// one in an error.
func refreshError(refused *axios.Error, cfg *axios.Config, err error) error {
	e := &axios.Error{Message: err.Error(), Code: axios.CodeNetwork, Config: cfg, Err: err}
	var cause *axios.Error
	if refused == nil {
		e.Err = notSent{err} // it waited before it was sent
	}
	switch {
	case refused != nil:
		e.Code, e.Request, e.Response = refused.Code, refused.Request, refused.Response
	case errors.As(err, &cause) && cause.Code != "":
		e.Code = cause.Code
	}
	return e
}

// notSent wraps the error of a request that was never sent so that it also
// matches axios.ErrNotSent, its message unchanged.
type notSent struct{ error }

func (e notSent) Unwrap() error        { return e.error }
func (e notSent) Is(target error) bool { return target == axios.ErrNotSent }
