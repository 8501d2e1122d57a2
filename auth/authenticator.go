package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/storage"
)

// Defaults of [Options].
const (
	DefaultHeader         = "Authorization"
	DefaultRefreshBefore  = 30 * time.Second
	DefaultRefreshTimeout = 30 * time.Second
	DefaultMaxRetries     = 1
)

// Options configures an [Authenticator]. Refresh or Login is required;
// every other zero value picks the default named on its field. [New] copies
// Options; changing them afterwards has no effect. docs/auth.md describes
// each option's part in a refresh.
type Options struct {
	// Store keeps the token between requests; nil: storage.NewMemory(). A
	// store that is also a storage.Locker may be shared by processes: they
	// refresh once per expiry (see docs/storage.md).
	Store storage.TokenStore

	// Refresh turns the current token into a new one. Required unless
	// Login is set.
	Refresh Refresher

	// Login obtains a token when none is held: at first use, after a
	// logout, or, when Refresh is nil, when the token expires or is
	// refused. It runs as the one refresh every waiting request shares.
	// [ClientCredentials] is the Login of a service. Its error wraps
	// [ErrRefused] when the server refused the credentials.
	Login func(ctx context.Context) (*oauth2.Token, error)

	// StatusCodes are the statuses that mean the token was refused, used
	// by the default ShouldRefresh; nil: {401}.
	StatusCodes []int

	// ShouldRefresh decides whether a failed request's error means the
	// token was refused; nil: its status is one of StatusCodes. It sees
	// only errors that carry a response, and may be called from many
	// goroutines at once.
	ShouldRefresh func(err *axios.Error) bool

	// Header is the request header the token is sent in; "": "Authorization".
	Header string

	// Hosts are where the token may go besides the origin of the BaseURL
	// of each client the pair is installed on: origins
	// ("https://api.example.com"), host names with a port
	// ("api.example.com:8443", either scheme) or bare host names
	// ("api.example.com", any scheme and port), in ASCII (an IDN in its
	// xn-- form); New refuses an entry that could never match. A request to any other origin is sent without
	// the token, and its refusal is never refreshed. With no BaseURL and
	// no Hosts every origin gets the token, as axios does: a risk when
	// requests may go to third parties (docs/auth.md).
	Hosts []string

	// Format is the header's value for a token; nil: "<Type> <AccessToken>".
	// [RawToken] sends the access token alone. A request whose header holds
	// one of the recent tokens formatted so is known as the Authenticator's
	// own, and refreshed when refused.
	Format func(tok *oauth2.Token) string

	// RefreshBefore makes the refresh proactive: a token that expires
	// within RefreshBefore (at most half its lifetime) is refreshed before
	// it is sent. 0: 30s; negative: never proactively.
	RefreshBefore time.Duration

	// RefreshTimeout bounds one refresh, from waiting for the store's lock
	// to the Refresher's answer; saving the new token gets as long again.
	// The refresh runs on its own context (see RefreshContext), so a
	// caller giving up never fails it for the others. 0: 30s.
	RefreshTimeout time.Duration

	// RefreshContext makes the context a refresh (or login) runs on from
	// the context of the request that started it, for the values it should
	// carry, such as a trace span (otelaxios.RefreshContext). Its
	// cancellation and deadline are dropped: RefreshTimeout bounds the
	// refresh. nil, or a nil result: a context with none of the request's
	// values, so no request-scoped value (an httptrace, a transaction)
	// reaches a refresh that every waiting request shares.
	RefreshContext func(ctx context.Context) context.Context

	// MaxRetries is how many times one request is retried after a refresh
	// (or with a newer token) before its refusal is returned as it is.
	// 0: 1; negative: never.
	MaxRetries int

	// OnRefresh is called after each refresh this process made (not for a
	// token adopted from a shared store), once the token is saved and
	// before the waiting requests resume. It may call SetToken or Logout.
	// Its ctx has no deadline, and requests made with it never wait for a
	// refresh.
	OnRefresh func(ctx context.Context, tok *oauth2.Token)

	// OnFailure is called once per failed refresh that logged the user
	// out, after the token was dropped and the store cleared, before the
	// waiting requests resume with the error. It is not called when a
	// shared store could not be locked or read: the token is kept then.
	// Its ctx is as OnRefresh's.
	OnFailure func(ctx context.Context, err error)
}

// Stats are an [Authenticator]'s counters since [New].
type Stats struct {
	Refreshes int64 // successful refreshes this process made
	Adopted   int64 // refreshes that found a newer token in a shared store instead
	Failures  int64 // failed refreshes (and logins), refused or transient
	Retries   int64 // requests resent after a refresh or with a newer token
	Waiting   int64 // goroutines waiting for a refresh right now
	SaveFails int64 // refreshed tokens the store failed to save (kept in memory)
}

// Authenticator is the auth interceptor pair: [Authenticator.AttachHeader]
// sends the current token with every request, and
// [Authenticator.HandleError] refreshes it when the server refuses it and
// retries the request. However many requests need a new token at the same
// moment, one refresh runs, and every one of them resumes with its result.
//
// An Authenticator is safe for concurrent use by any number of goroutines
// and clients. Make one with [New] and register it with
// [Authenticator.Install].
type Authenticator struct {
	refresh       Refresher
	login         func(context.Context) (*oauth2.Token, error)
	shouldRefresh func(*axios.Error) bool
	header        string
	timeout       time.Duration
	maxRetries    int
	onRefresh     func(context.Context, *oauth2.Token)
	onFailure     func(context.Context, error)
	refreshCtx    func(context.Context) context.Context

	scope         *scope                                     // where the token may go
	redirectGuard func(*http.Request, []*http.Request) error // dropOnCrossOrigin, made once
	store         sharedStore                                // the store, and the protocol of processes sharing it
	state         *tokenState                                // the current token as requests carry it
	flight        flight                                     // the one refresh at a time, and its waiters
	loadMu        sync.Mutex                                 // guards loading
	loading       *firstLoad                                 // the first read of the store under way, if any
	saveMu        sync.Mutex                                 // guards saver
	saver         *saver                                     // the background save holding the store's lock, if any

	// installed is the client HandleError retries through when it is
	// called directly rather than through Install's closure.
	installed atomic.Pointer[axios.Client]

	refreshes, adopted, failures, retries, saveFails atomic.Int64
}

// New returns an Authenticator for opts. It fails, rather than panics, when
// opts has neither Refresh nor Login, or RefreshTimeout is negative.
func New(opts Options) (*Authenticator, error) {
	if opts.Refresh == nil && opts.Login == nil {
		return nil, errors.New("auth: Options.Refresh or Options.Login is required")
	}
	if err := checkHosts(opts.Hosts); err != nil {
		return nil, err
	}
	if opts.RefreshTimeout < 0 {
		return nil, fmt.Errorf("auth: Options.RefreshTimeout must not be negative, got %v", opts.RefreshTimeout)
	}
	a := &Authenticator{
		refresh:       opts.Refresh,
		login:         opts.Login,
		shouldRefresh: opts.ShouldRefresh,
		header:        http.CanonicalHeaderKey(opts.Header),
		timeout:       opts.RefreshTimeout,
		maxRetries:    opts.MaxRetries,
		onRefresh:     opts.OnRefresh,
		onFailure:     opts.OnFailure,
		refreshCtx:    opts.RefreshContext,
	}
	if a.shouldRefresh == nil {
		codes := slices.Clone(opts.StatusCodes)
		if codes == nil {
			codes = []int{http.StatusUnauthorized}
		}
		a.shouldRefresh = func(e *axios.Error) bool { return slices.Contains(codes, e.Status()) }
	}
	if a.header == "" {
		a.header = DefaultHeader
	}
	if a.timeout == 0 {
		a.timeout = DefaultRefreshTimeout
	}
	switch {
	case a.maxRetries == 0:
		a.maxRetries = DefaultMaxRetries
	case a.maxRetries < 0:
		a.maxRetries = 0
	}
	before := opts.RefreshBefore
	if before == 0 {
		before = DefaultRefreshBefore
	}
	store := opts.Store
	if store == nil {
		store = storage.NewMemory()
	}
	a.store = newSharedStore(store, a.timeout)
	a.scope = newScope(slices.Clone(opts.Hosts))
	a.redirectGuard = a.dropOnCrossOrigin
	format := opts.Format
	if format == nil {
		format = bearer
	}
	a.state = newTokenState(format, before)
	return a, nil
}

// bearer is the default header value of tok: "<Type> <AccessToken>".
func bearer(tok *oauth2.Token) string { return tok.Type() + " " + tok.AccessToken }

// RawToken is a [Options.Format] that sends the access token alone, for
// APIs that take it in a header of their own ("X-Auth-Token: <token>").
func RawToken(tok *oauth2.Token) string { return tok.AccessToken }

// Install registers the pair on c: AttachHeader as a request interceptor
// and HandleError as a response interceptor's rejected handler, whose
// retries go through c, so a retry runs c's whole chain again as axios's
// `return api(originalRequest)` does. The origin of c's BaseURL joins
// where the token may go (Options.Hosts). Install it once per client,
// before the client's first request; one Authenticator may serve several
// clients.
func (a *Authenticator) Install(c *axios.Client) {
	a.installed.Store(c)
	a.scope.add(c.Defaults.BaseURL)
	c.Interceptors.Request.Use(a.AttachHeader, nil)
	c.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		return a.handleError(ctx, c, err)
	})
}

// SetToken makes tok the current token, after a login. It waits for a
// refresh under way to end, saves a copy to the store (under the store's
// lock when it is a storage.Locker) and uses it; requests waiting for a
// token resume with it. The copy is used even when the save or the lock
// fails; the error says so. A nil ctx means context.Background().
func (a *Authenticator) SetToken(ctx context.Context, tok *oauth2.Token) error {
	ctx = orBackground(ctx)
	if tok == nil || tok.AccessToken == "" {
		return errors.New("auth: SetToken: no access token (use Logout to remove the token)")
	}
	if !a.state.sendable(tok) {
		return errUnsendable
	}
	own := cloneToken(tok)
	err, lockErr := a.replace(ctx, own, func(ctx context.Context) error { return a.store.Save(ctx, own) })
	if err != nil {
		return errors.Join(fmt.Errorf("auth: save token: %w", err), lockErr)
	}
	return lockErr
}

// Logout forgets the token: it waits for a refresh under way to end, clears
// the store and drops the cached copy. Requests waiting for a token resume
// without one. OnFailure is not called. A nil ctx means
// context.Background().
func (a *Authenticator) Logout(ctx context.Context) error {
	ctx = orBackground(ctx)
	err, lockErr := a.replace(ctx, nil, a.store.Clear)
	if err != nil {
		return errors.Join(fmt.Errorf("auth: clear token: %w", err), lockErr)
	}
	return lockErr
}

// replace makes tok (nil: none) the current token for SetToken and Logout:
// it takes the flight's turn, runs write holding the store's lock (taken
// over from a background save, after its attempt in flight, so that save
// never lands after write), and ends the turn with tok current however
// write ends. A lock that cannot be taken is lockErr, and write runs
// anyway; a panic of the store is write's error, a *PanicError. When the
// turn cannot be taken (ctx ended, or called from a Refresher), nothing
// changes and that error is lockErr.
func (a *Authenticator) replace(ctx context.Context, tok *oauth2.Token, write func(context.Context) error) (err, lockErr error) {
	if err := a.takeTurn(ctx); err != nil {
		return nil, err
	}
	err = recovered("the store", func() error {
		unlock := a.takeOverSave()
		if unlock == nil {
			var lerr error
			if unlock, lerr = a.store.lock(ctx); lerr != nil {
				lockErr, unlock = fmt.Errorf("auth: %w", lerr), func() {}
			}
		}
		defer unlock()
		return write(ctx)
	})
	a.endTurn(a.state.set(tok, false, tok != nil && err != nil))
	return err, lockErr
}

// takeTurn holds the flight's turn for SetToken and Logout, so they never
// interleave with a refresh's store writes. Called from a Refresher it
// fails instead of waiting for itself.
func (a *Authenticator) takeTurn(ctx context.Context) error {
	if a.ownRefresh(ctx) && a.flight.underWay() {
		return errOwnRefresh
	}
	return a.flight.take(ctx)
}

func (a *Authenticator) endTurn(cur *current) {
	resume(a.flight.release(nil), result{cur: cur})
}

// Token returns a copy of the current token, loading it from the store on
// first use. It does not refresh; [TokenSource] does. With no token it
// returns an error wrapping storage.ErrNoToken. A nil ctx means
// context.Background().
func (a *Authenticator) Token(ctx context.Context) (*oauth2.Token, error) {
	ctx = orBackground(ctx)
	if err := a.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	tok := a.state.load().tok
	if tok == nil {
		return nil, errNoToken
	}
	return cloneToken(tok), nil
}

// Refresh refreshes the token now and returns a copy of the new one, as a
// 401 would. A refresh already under way is joined, not repeated. A ctx
// that ends first returns its error; the refresh goes on for the others.
// Called from within the Refresher (with the ctx it was given) it fails
// instead of waiting for itself. A nil ctx means context.Background().
func (a *Authenticator) Refresh(ctx context.Context) (*oauth2.Token, error) {
	ctx = orBackground(ctx)
	if a.ownRefresh(ctx) {
		return nil, errOwnRefresh
	}
	if err := a.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	for {
		cur := a.state.load()
		if cur.tok == nil && !a.canObtain(cur) && !a.flight.underWay() {
			return nil, errNoToken
		}
		r, joined, err := a.refreshed(ctx, cur, true)
		switch {
		case !joined:
			continue
		case err != nil:
			return nil, err
		case r.err != nil:
			return nil, r.err
		case r.cur.tok == nil:
			return nil, errNoToken
		}
		return cloneToken(r.cur.tok), nil
	}
}

// Stats returns the Authenticator's counters. It is cheap and safe to call
// at any time; the counters are read one by one, not as a snapshot.
func (a *Authenticator) Stats() Stats {
	return Stats{
		Refreshes: a.refreshes.Load(),
		Adopted:   a.adopted.Load(),
		Failures:  a.failures.Load(),
		Retries:   a.retries.Load(),
		Waiting:   a.flight.waiting.Load(),
		SaveFails: a.saveFails.Load(),
	}
}

// ensureLoaded reads the store the first time a token is needed; later
// requests use the cached copy, with no store round trip. Concurrent first
// uses share one read, which runs on its own context bounded by
// RefreshTimeout, so each caller waits for it only as long as its own ctx
// lets it (then it gets ctx's error), and one caller giving up fails it for
// nobody. A read that failed is tried again by the next use.
func (a *Authenticator) ensureLoaded(ctx context.Context) error {
	if a.state.load() != nil {
		return nil
	}
	a.loadMu.Lock()
	if a.state.load() != nil {
		a.loadMu.Unlock()
		return nil
	}
	l := a.loading
	if l == nil {
		l = &firstLoad{done: make(chan struct{})}
		a.loading = l
		go a.runLoad(l)
	}
	a.loadMu.Unlock()
	select {
	case <-l.done:
		return l.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// firstLoad is the first read of the store; err is set before done closes.
type firstLoad struct {
	done chan struct{}
	err  error
}

func (a *Authenticator) runLoad(l *firstLoad) {
	ctx, cancel := context.WithTimeout(context.Background(), a.timeout)
	defer cancel()
	var tok *oauth2.Token
	err := recovered("the store's Load", func() (err error) {
		tok, err = a.store.Load(ctx)
		return err
	})
	if errors.Is(err, storage.ErrNoToken) {
		tok, err = nil, nil
	}
	if err != nil {
		l.err = fmt.Errorf("auth: load token: %w", err)
	} else {
		if !a.state.sendable(tok) {
			tok = nil // empty, or poisoned by whoever wrote it: as good as none
		}
		a.state.setFirst(tok)
	}
	a.loadMu.Lock()
	a.loading = nil
	a.loadMu.Unlock()
	close(l.done)
}

// PanicError is a panic in code the Authenticator called on a goroutine of
// its own, where no caller could recover it: a Refresher, Login, a hook, a
// store. It becomes that refresh's (or load's) failure, a transient one,
// instead of taking the process down.
type PanicError struct {
	What  string // what panicked, e.g. "the Refresher"
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack
}

// Error names what panicked and the panic's value, not the stack.
func (e *PanicError) Error() string { return fmt.Sprintf("auth: %s panicked: %v", e.What, e.Value) }

// recovered runs f and turns its panic into a *PanicError.
func recovered(what string, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{What: what, Value: p, Stack: debug.Stack()}
		}
	}()
	return f()
}

// orBackground lets every entry point take a nil ctx, as Client.Request
// does.
func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// cloneToken copies tok so that neither the caller nor the Authenticator
// can change the other's copy. The extra fields map is shared; it is
// read-only in x/oauth2.
func cloneToken(tok *oauth2.Token) *oauth2.Token {
	if tok == nil {
		return nil
	}
	c := *tok
	return &c
}

var (
	// errNoToken is what Token, Refresh and TokenSource return when there is
	// no token: the user has not logged in, or was logged out.
	errNoToken = fmt.Errorf("auth: no token (log in and call SetToken): %w", storage.ErrNoToken)
	// errOwnRefresh guards against a Refresher waiting for its own refresh
	// (axios-auth-refresh issues #120 and #152).
	errOwnRefresh = errors.New("auth: Refresh called with the refresh's own context: it would wait for itself")
)
