package auth

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"

	"github.com/axiosgo/axios"
)

// Keys of the per-request state kept in axios.Config.Meta. The core gives
// each request its own Meta copy, so this state is never shared between
// requests.
//
// An attempt records nothing else: its header says which token it carried
// (see issuedByLocked), so the common request makes no Meta map. Only when
// a token's header repeats a kept one's (a refresh handed back the same
// access token) do its requests record which it was.
const (
	metaSkip = "auth.skip" // bool: SkipAuthRefresh
	metaSent = "auth.sent" // *sentToken: the token the attempt carried, when its header repeats an older one's
)

// retriesKey is the context key of the number of retries HandleError made
// of the request under way. It travels with the retry's ctx, not its
// Config, so it holds when a Config is replaced (an Adapter that answers
// with one of its own) and a Config re-sent from a Response later is a new
// request, with retries of its own. Seed 002 marks its Config with _retry.
// It names the Authenticator, whose count it is.
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

// AttachHeader is the request half of the pair. It sets the header from the
// current token, cached in memory (the first use loads it from the store;
// with no token the request is sent without the header). If a refresh is
// under way, or the token expires within RefreshBefore, it first waits for
// that one refresh. A header the caller set on purpose is kept (seed 001
// sends its refresh token that way); one that carries any of the last 64
// tokens the Authenticator set (the stored token included, once loaded) is
// its own, whoever set it: an earlier attempt, a Config re-sent from a
// Response, or a ported interceptor that copies the stored token. It is
// replaced by the current token.
//
// Requests marked with [SkipAuthRefresh], or made with the context a
// Refresher was given, never wait. A store that fails to load the token
// fails the request with an [*axios.Error] of code CodeBadOptionValue
// wrapping the store's error. A request whose ctx ends while it waits
// fails with an [*axios.Error] of code CodeCanceled (or CodeTimedOut)
// wrapping ctx's error; one whose refresh fails, with an *axios.Error
// wrapping [ErrRefreshFailed] and the cause. A nil ctx means
// context.Background(). It is safe for concurrent use.
func (a *Authenticator) AttachHeader(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
	ctx = orBackground(ctx)
	if cfg.Headers == nil {
		cfg.Headers = make(http.Header)
	}
	loadErr := a.ensureLoaded(ctx) // first, so a header copied from the store is known as ours
	if v := cfg.Headers[a.header]; len(v) > 0 && v[0] != "" && (loadErr != nil || !a.issuedBy(v[0])) {
		return cfg, nil // the caller's own credential: it needs no token of ours
	}
	if loadErr != nil {
		// An *axios.Error with the Config, so the interceptors after this
		// one (Loading, Logger) know which request failed.
		return nil, &axios.Error{Message: loadErr.Error(), Code: axios.CodeBadOptionValue, Config: cfg, Err: loadErr}
	}

	if f := a.fast.Load(); f != nil && (f.refreshAt.IsZero() || timeNow().Before(f.refreshAt)) {
		a.setHeader(cfg, f.sent)
		return cfg, nil
	}
	mayWait := !skipped(cfg) && !a.ownRefresh(ctx)
	// A refresh may end with a token that is due at once: one adopted from
	// a shared store, saved by another process long ago. So after each wait
	// the token is judged again, a few times at most.
	for waits := 0; ; waits++ {
		a.mu.Lock()
		if !mayWait || waits == maxAttachWaits || (!a.isRefreshing && !a.expiringLocked(false)) {
			sent := a.sent
			a.mu.Unlock()
			a.setHeader(cfg, sent)
			return cfg, nil
		}
		ch := a.joinLocked()
		a.mu.Unlock()

		r, err := a.wait(ctx, ch)
		if err != nil {
			return nil, waitError(cfg, err)
		}
		if r.err != nil {
			return nil, refreshError(nil, cfg, r.err)
		}
	}
}

// maxAttachWaits bounds the refreshes one request waits for before it is
// sent with whatever token there is then.
const maxAttachWaits = 3

// setHeader sends sent's token (nil or without a header: none). A token
// whose header repeats a kept one's is recorded in Meta, so HandleError
// knows which of them the attempt carried; any other needs no record.
func (a *Authenticator) setHeader(cfg *axios.Config, sent *sentToken) {
	if sent == nil || sent.header == "" {
		delete(cfg.Headers, a.header)
		delete(cfg.Meta, metaSent)
		return
	}
	if sent.mark {
		if cfg.Meta == nil {
			cfg.Meta = make(map[string]any, 1)
		}
		cfg.Meta[metaSent] = sent
	} else {
		delete(cfg.Meta, metaSent) // a retry of an attempt that had one
	}
	// A slice per request: an interceptor may write into it, and that must
	// never reach another request's header.
	cfg.Headers[a.header] = []string{sent.header}
}

// HandleError is the response half of the pair, for a response
// interceptor's rejected handler. For a refused status (StatusCodes, or
// ShouldRefresh) it gets a newer token and retries the request through the
// client, up to MaxRetries times; any other error is passed on as it is.
// Registered by [Authenticator.Install], it retries through the client it
// was installed on; called directly, through the client last passed to
// Install, and without Install it passes every error on.
//
// The newer token comes from:
//   - the refresh under way, which it joins;
//   - else the current token, if the request was sent with an older one: no
//     refresh, so N concurrent 401s cost one refresh and every one of the N
//     is retried (axios-auth-refresh retries only the first: its issue #307);
//   - else a refresh it starts, which the others then join.
//
// A request sent without a token (there was none yet, or an interceptor
// removed it) is retried with the current one, as one sent with an older
// token is; refused again, it is refreshed. The retry count travels with
// the retry's ctx, so a Config re-sent later from a Response is a new
// request.
//
// The refused status is passed on as it is for a request marked with
// [SkipAuthRefresh], made with a Refresher's context, sent with a header the
// caller set (one that carries none of the last 64 tokens the
// Authenticator set), sent without a token when there still is none, or
// already retried MaxRetries times. A waiting request whose ctx ends fails
// at once with an [*axios.Error] wrapping ctx's error; a failed refresh
// fails every waiting request with an *axios.Error that keeps the refused
// response and wraps [ErrRefreshFailed] and the cause. A nil ctx means
// context.Background(). It is safe for concurrent use.
func (a *Authenticator) HandleError(ctx context.Context, err error) (*axios.Response, error) {
	c := a.installed.Load()
	if c == nil {
		return nil, err
	}
	return a.handleError(orBackground(ctx), c, err)
}

func (a *Authenticator) handleError(ctx context.Context, c *axios.Client, err error) (*axios.Response, error) {
	axErr, ok := axios.AsError(err)
	if !ok || axErr.Response == nil || axErr.Config == nil || !a.refusedToken(axErr) {
		return nil, err
	}
	cfg := axErr.Config
	retries := a.retriesOf(ctx)
	if skipped(cfg) || a.ownRefresh(ctx) || retries >= a.maxRetries {
		return nil, err
	}
	if a.ensureLoaded(ctx) != nil {
		return nil, err // the store fails: no token to retry with
	}
	var header string
	if v := cfg.Headers[a.header]; len(v) > 0 {
		header = v[0]
	}

	a.mu.Lock()
	var sent uint64 // the generation of the token the attempt carried
	if m, _ := cfg.Meta[metaSent].(*sentToken); m != nil && header != "" && m.header == header {
		sent = m.gen
	} else if header != "" {
		gen, ours := a.issuedByLocked(header)
		if !ours {
			a.mu.Unlock()
			return nil, err // the caller's own credential was refused, not ours
		}
		sent = gen
	}
	// Else sent without a token: there was none yet, an interceptor removed
	// it, or the Config does not show it (the request went past AttachHeader,
	// or an Adapter answered with a Config of its own). The first time, as
	// if with a token older than any: retried with the current one. Refused
	// again after that retry, as if with the current one: refreshed.
	if header == "" && retries > 0 {
		sent = a.generation
	}
	var next *sentToken // the token to retry with
	switch {
	case !a.isRefreshing && sent < a.generation:
		// Stale token rule: someone refreshed since this request left.
		next = a.sent
		a.mu.Unlock()
	case !a.isRefreshing && a.token == nil:
		a.mu.Unlock()
		return nil, err // no token to refresh: log in
	default:
		ch := a.joinLocked()
		a.mu.Unlock()
		r, werr := a.wait(ctx, ch)
		if werr != nil {
			return nil, waitError(cfg, werr)
		}
		if r.err != nil {
			return nil, refreshError(axErr, cfg, r.err)
		}
		next = r.sent
	}
	if next == nil || next.header == "" {
		return nil, err // logged out meanwhile
	}

	// The refused Config may have no Meta or Headers: the client's request
	// interceptors were cleared, or an Adapter answered with its own Config.
	retry := *cfg
	retry.Meta = maps.Clone(cfg.Meta)
	retry.Headers = cfg.Headers.Clone()
	if retry.Headers == nil {
		retry.Headers = make(http.Header, 1)
	}
	a.setHeader(&retry, next)
	a.retries.Add(1)
	return c.Request(context.WithValue(ctx, retriesKey{a}, retries+1), retry)
}

func (a *Authenticator) refusedToken(e *axios.Error) bool {
	if a.shouldRefresh != nil {
		return a.shouldRefresh(e)
	}
	return slices.Contains(a.statusCodes, e.Status())
}

// waitError is the error of a request whose own ctx ended while it waited
// for a refresh, with axios's code for it so axios.IsCancel holds.
func waitError(cfg *axios.Config, err error) error {
	e := &axios.Error{Message: "canceled", Code: axios.CodeCanceled, Config: cfg, Err: err}
	if errors.Is(err, context.DeadlineExceeded) {
		e.Message, e.Code = "context deadline exceeded", axios.CodeTimedOut
	}
	return e
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
	switch {
	case refused != nil:
		e.Code, e.Request, e.Response = refused.Code, refused.Request, refused.Response
	case errors.As(err, &cause) && cause.Code != "":
		e.Code = cause.Code
	}
	return e
}
