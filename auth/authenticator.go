package auth

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
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

// Options configures an [Authenticator]. Only Refresh is required; every
// other zero value picks the default named on its field. The Authenticator
// copies Options in [New]; changing them afterwards has no effect.
type Options struct {
	// Store keeps the token between requests and, when it is also a
	// storage.Locker, lets several processes share it (see docs/storage.md).
	// nil: storage.NewMemory().
	Store storage.TokenStore

	// Refresh turns the current token into a new one. It is required.
	Refresh Refresher

	// StatusCodes are the response statuses that mean "the access token was
	// refused"; nil: {401}. Seed 002's API answers 403.
	StatusCodes []int

	// ShouldRefresh, when set, decides instead of StatusCodes whether a
	// failed request's error means the token was refused. It sees only
	// errors that carry a response, and may be called from many goroutines
	// at once.
	ShouldRefresh func(err *axios.Error) bool

	// Header is the request header the token is sent in; "": "Authorization".
	// Its value is "<Type> <AccessToken>", Type as oauth2.Token.Type gives it.
	Header string

	// RefreshBefore makes the refresh proactive: a token that expires within
	// RefreshBefore is refreshed before it is sent. The window is at most
	// half the token's lifetime as this process saw it, so tokens shorter
	// lived than RefreshBefore are not refreshed on every request, and a
	// token that was already expired when this process's refresh or
	// SetToken handed it over (a server clock behind this one's) is not
	// refreshed proactively at all: a 401 refreshes it if the server
	// refuses it.
	// 0: 30s; negative: never proactively (a 401 still refreshes).
	RefreshBefore time.Duration

	// RefreshTimeout bounds one refresh, including waiting for the store's
	// lock and the Refresher's requests. The refresh runs on its own context, never on a
	// caller's, so one caller giving up never fails it for the others.
	// Saving the new token gets a RefreshTimeout of its own, so a Refresher
	// that used most of it does not leave a rotated token unsaved.
	// 0: 30s.
	RefreshTimeout time.Duration

	// MaxRetries is how many times one request is retried after a refresh
	// (or with a newer token) before its refused status is returned as it
	// is; 0: 1. It bounds the work a server that refuses every token causes.
	MaxRetries int

	// OnRefresh, when set, is called after each refresh this process made
	// (not for a token adopted from a shared store that another process
	// refreshed), after the token is saved and before the waiting requests
	// resume. The refresh's turn has ended by then, so it may call SetToken
	// or Logout; the waiting requests resume with the token as it is after
	// it. Its ctx carries no deadline; requests made with it never wait for
	// a refresh.
	OnRefresh func(ctx context.Context, tok *oauth2.Token)

	// OnFailure, when set, is called once per failed refresh that logged
	// the user out, after the cached token was dropped and the store
	// cleared, and before the waiting requests resume with the error. Its
	// ctx is as OnRefresh's.
	//
	// It is not called when a shared store (a storage.Locker) could not be
	// locked or read again under its lock: the store may be briefly down,
	// or another process held the lock past RefreshTimeout, and it may hold
	// a good token. Then the waiting requests still fail with an error
	// wrapping ErrRefreshFailed and the cause, but the token is kept, in
	// memory and in the store, and the next refused request tries again.
	OnFailure func(ctx context.Context, err error)
}

// Stats are an [Authenticator]'s counters since [New].
type Stats struct {
	Refreshes int64 // successful refreshes this process made
	Adopted   int64 // refreshes that found a newer token in a shared store instead
	Failures  int64 // failed refreshes that logged the user out (not a shared store's outage)
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
	store         storage.TokenStore
	refresh       Refresher
	statusCodes   []int
	shouldRefresh func(*axios.Error) bool
	header        string
	before        time.Duration
	timeout       time.Duration
	maxRetries    int
	onRefresh     func(context.Context, *oauth2.Token)
	onFailure     func(context.Context, error)

	// installed is the client HandleError retries through when it is
	// called directly rather than through Install's closure.
	installed atomic.Pointer[axios.Client]

	// loadMu makes concurrent first uses load the store once.
	loadMu sync.Mutex
	// loaded is set, under mu, once the store was read or a token set: the
	// per-request path reads it without a lock.
	loaded atomic.Bool
	// fast is what AttachHeader needs when no refresh is under way, or nil
	// while one is; written under mu, read without it.
	fast atomic.Pointer[fastState]

	// mu guards everything below. The shape is seed 001's: isRefreshing and
	// the subscribers waiting for that refresh live under one lock, so a
	// request either starts the refresh or joins it, never both, never
	// neither.
	mu           sync.Mutex
	token        *oauth2.Token           // the current token, owned here; nil: none
	since        time.Time               // when this process got token
	fromStore    bool                    // token was read from the store (loaded or adopted), not handed over by a refresh or SetToken
	unsaved      bool                    // saving token failed: the store holds an older token of this process's, or none
	generation   uint64                  // bumped each time token changes
	sent         *sentToken              // header value and generation of token, made once per token
	issued       [issuedKept]issuedToken // the last tokens set, newest at issuedN%issuedKept
	issuedN      uint64                  // tokens set so far
	isRefreshing bool                    // a refresh (or SetToken, Logout) holds the turn
	subscribers  []chan result           // waiting for the turn under way to end, and any that left

	// waiting counts the subscribers still waiting. One whose ctx ended
	// leaves its buffered channel in subscribers rather than searching the
	// list for it under mu (N leaving together would cost N²); the turn's
	// end sends into it like the others and drops the list.
	waiting atomic.Int64

	refreshes, adopted, failures, retries, saveFails atomic.Int64

	seed maphash.Seed // for issuedToken.sum
}

// result is what a turn hands each subscriber: the token after it (nil when
// there is none), its generation, and the refresh's error.
type result struct {
	tok  *oauth2.Token
	gen  uint64
	sent *sentToken
	err  error
}

// New returns an Authenticator for opts. It fails, rather than panics, when
// opts.Refresh is nil or a duration or count is negative where that has no
// meaning.
func New(opts Options) (*Authenticator, error) {
	if opts.Refresh == nil {
		return nil, errors.New("auth: Options.Refresh is required")
	}
	if opts.RefreshTimeout < 0 {
		return nil, fmt.Errorf("auth: Options.RefreshTimeout must not be negative, got %v", opts.RefreshTimeout)
	}
	if opts.MaxRetries < 0 {
		return nil, fmt.Errorf("auth: Options.MaxRetries must not be negative, got %d", opts.MaxRetries)
	}
	a := &Authenticator{
		store:         opts.Store,
		refresh:       opts.Refresh,
		statusCodes:   slices.Clone(opts.StatusCodes),
		shouldRefresh: opts.ShouldRefresh,
		header:        http.CanonicalHeaderKey(opts.Header),
		before:        opts.RefreshBefore,
		timeout:       opts.RefreshTimeout,
		maxRetries:    opts.MaxRetries,
		onRefresh:     opts.OnRefresh,
		onFailure:     opts.OnFailure,
		seed:          maphash.MakeSeed(),
	}
	if a.store == nil {
		a.store = storage.NewMemory()
	}
	if a.statusCodes == nil {
		a.statusCodes = []int{http.StatusUnauthorized}
	}
	if a.header == "" {
		a.header = DefaultHeader
	}
	if a.before == 0 {
		a.before = DefaultRefreshBefore
	}
	if a.timeout == 0 {
		a.timeout = DefaultRefreshTimeout
	}
	if a.maxRetries == 0 {
		a.maxRetries = DefaultMaxRetries
	}
	return a, nil
}

// Install registers the pair on c: AttachHeader as a request interceptor
// and HandleError as a response interceptor's rejected handler, whose
// retries go through c, so a retry runs c's whole chain again as axios's
// `return api(originalRequest)` does. Install it once per client, before
// the client's first request; one Authenticator may serve several clients.
func (a *Authenticator) Install(c *axios.Client) {
	a.installed.Store(c)
	c.Interceptors.Request.Use(a.AttachHeader, nil)
	c.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		return a.handleError(ctx, c, err)
	})
}

// SetToken makes tok the current token, after a login: it waits for a
// refresh under way to end, saves tok to the store (under the store's lock
// when it is a storage.Locker, so another process's refresh in flight
// cannot overwrite it) and caches a copy, and requests waiting for a token
// resume with it. The copy is used even when the save or the lock fails;
// the error says so. A nil ctx means context.Background().
func (a *Authenticator) SetToken(ctx context.Context, tok *oauth2.Token) error {
	ctx = orBackground(ctx)
	if tok == nil || tok.AccessToken == "" {
		return errors.New("auth: SetToken: no access token (use Logout to remove the token)")
	}
	if err := a.takeTurn(ctx); err != nil {
		return err
	}
	own := cloneToken(tok)
	var err error
	lockErr := a.underStoreLock(ctx, func() { err = a.store.Save(ctx, own) })
	subs, r := a.publish(own, false, err != nil, nil)
	resume(subs, r)
	if err != nil {
		return errors.Join(fmt.Errorf("auth: save token: %w", err), lockErr)
	}
	return lockErr
}

// underStoreLock runs f holding the store's lock when the store is a
// storage.Locker, so that a login or logout never lands inside another
// process's refresh, whose save would undo it. A lock that cannot be taken
// is reported, and f runs anyway: this process's login or logout does not
// wait for the store to come back.
func (a *Authenticator) underStoreLock(ctx context.Context, f func()) error {
	locker, ok := a.store.(storage.Locker)
	if !ok {
		f()
		return nil
	}
	unlock, err := locker.Lock(ctx)
	f()
	if err != nil {
		return fmt.Errorf("auth: lock store: %w", err)
	}
	uctx, cancel := a.cleanupContext(ctx)
	defer cancel()
	_ = unlock(uctx) // a lease that outlived us expires on its own
	return nil
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
	a.mu.Lock()
	tok := a.token
	a.mu.Unlock()
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
	a.mu.Lock()
	if !a.isRefreshing && a.token == nil {
		a.mu.Unlock()
		return nil, errNoToken
	}
	ch := a.joinLocked()
	a.mu.Unlock()
	r, err := a.wait(ctx, ch)
	switch {
	case err != nil:
		return nil, err
	case r.err != nil:
		return nil, r.err
	case r.tok == nil:
		return nil, errNoToken
	}
	return cloneToken(r.tok), nil
}

// Logout forgets the token: it waits for a refresh under way to end, clears
// the store and drops the cached copy. Requests waiting for a token resume
// without one. OnFailure is not called. A nil ctx means
// context.Background().
func (a *Authenticator) Logout(ctx context.Context) error {
	ctx = orBackground(ctx)
	if err := a.takeTurn(ctx); err != nil {
		return err
	}
	var err error
	lockErr := a.underStoreLock(ctx, func() { err = a.store.Clear(ctx) })
	a.endTurn(nil, nil)
	if err != nil {
		return errors.Join(fmt.Errorf("auth: clear token: %w", err), lockErr)
	}
	return lockErr
}

// Stats returns the Authenticator's counters. It is cheap and safe to call
// at any time; the counters are read one by one, not as a snapshot.
func (a *Authenticator) Stats() Stats {
	return Stats{
		Refreshes: a.refreshes.Load(),
		Adopted:   a.adopted.Load(),
		Failures:  a.failures.Load(),
		Retries:   a.retries.Load(),
		Waiting:   a.waiting.Load(),
		SaveFails: a.saveFails.Load(),
	}
}

// ensureLoaded reads the store the first time a token is needed. Later
// requests use the cached copy: no store round trip per request.
func (a *Authenticator) ensureLoaded(ctx context.Context) error {
	if a.loaded.Load() {
		return nil
	}
	a.loadMu.Lock()
	defer a.loadMu.Unlock()
	if a.loaded.Load() {
		return nil
	}
	tok, err := a.store.Load(ctx)
	if errors.Is(err, storage.ErrNoToken) {
		tok, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("auth: load token: %w", err)
	}
	if tok != nil && tok.AccessToken == "" {
		tok = nil
	}
	a.mu.Lock()
	if !a.loaded.Load() { // SetToken may have won the race; its token is newer.
		a.setLocked(tok, true)
	}
	a.mu.Unlock()
	return nil
}

// setLocked makes tok (owned by the Authenticator) the current token:
// fromStore when it was read from the store, at first use or adopted from
// another process, else it has just arrived.
func (a *Authenticator) setLocked(tok *oauth2.Token, fromStore bool) {
	a.loaded.Store(true)
	a.token = tok
	a.since = timeNow()
	a.fromStore = fromStore
	a.unsaved = false
	a.generation++
	a.sent = &sentToken{gen: a.generation}
	if tok != nil {
		a.sent.header = a.headerValue(tok)
		sum := maphash.String(a.seed, a.sent.header)
		// The same header as a kept token's (a refresh that handed back the
		// same access token): the header no longer says which of them a
		// request carried, so requests sent with this one say it in Meta.
		a.sent.mark = a.issuedSumLocked(sum)
		a.issuedN++
		a.issued[a.issuedN%issuedKept] = issuedToken{sum: sum, gen: a.generation, mark: a.sent.mark}
	}
	a.publishFastLocked()
}

// issuedKept is how many of the last tokens it set an Authenticator
// recognizes in a request's header: a header that carries one of them is
// its own (replaced by the current token, and refreshed on a 401); any
// other is the caller's.
const issuedKept = 64

// issuedToken is one of the last tokens, as issuedBy recognizes it: a hash
// of its header value, so that the tokens themselves are not kept.
type issuedToken struct {
	sum  uint64 // maphash of the header value, with Authenticator.seed
	gen  uint64 // 0: an empty slot
	mark bool   // requests sent with it carry their sentToken in Meta
}

// issuedBy reports whether h is the header value of one of the last
// issuedKept tokens. It is lock-free for the current token, the common case.
func (a *Authenticator) issuedBy(h string) bool {
	if f := a.fast.Load(); f != nil && f.sent.header == h {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return h != "" && a.issuedSumLocked(maphash.String(a.seed, h))
}

func (a *Authenticator) issuedSumLocked(sum uint64) bool {
	for _, t := range a.issued {
		if t.gen != 0 && t.sum == sum {
			return true
		}
	}
	return false
}

// issuedByLocked returns the generation of the token that a request sent
// with header value h and no sentToken in its Meta carried: the newest of
// the last issuedKept tokens with that header whose requests are not
// marked. ok is false when h is none of theirs.
func (a *Authenticator) issuedByLocked(h string) (gen uint64, ok bool) {
	if h == "" {
		return 0, false
	}
	if a.sent != nil && !a.sent.mark && a.sent.header == h {
		return a.sent.gen, true
	}
	sum := maphash.String(a.seed, h)
	for i := uint64(0); i < issuedKept && i < a.issuedN; i++ {
		t := a.issued[(a.issuedN-i)%issuedKept]
		if t.gen == 0 || t.sum != sum {
			continue
		}
		if !t.mark {
			return t.gen, true
		}
		if !ok {
			gen, ok = t.gen, true // only marked ones: the newest (its Meta was dropped)
		}
	}
	return gen, ok
}

// fastState lets AttachHeader send the current token without taking mu.
type fastState struct {
	sent      *sentToken
	refreshAt time.Time // zero: never proactively
}

// publishFastLocked refreshes a.fast after the token or isRefreshing changed.
func (a *Authenticator) publishFastLocked() {
	if a.isRefreshing {
		a.fast.Store(nil)
		return
	}
	a.fast.Store(&fastState{sent: a.sent, refreshAt: a.refreshAtLocked(false)})
}

// sentToken is a token as requests carry it: its header value, made once
// per token, and its generation. One is shared by every request sent with
// the same token.
type sentToken struct {
	gen    uint64
	header string // "" when there was no token
	mark   bool   // the header repeats a kept token's: requests record this in Meta
}

// expiringLocked reports whether the current token should be refreshed
// before it is sent: see refreshAtLocked.
func (a *Authenticator) expiringLocked(force bool) bool {
	at := a.refreshAtLocked(force)
	return !at.IsZero() && !timeNow().Before(at)
}

// refreshAtLocked returns when the current token is due for a proactive
// refresh; zero: never. That is RefreshBefore ahead of its Expiry, at most
// half its lifetime as seen here, so short-lived tokens are not refreshed on
// every request. force (TokenSource) also refreshes an expired token when
// RefreshBefore is negative.
//
// A token that was already expired when it arrived from a refresh or
// SetToken (a server clock behind ours, a JWT exp read without expires_in)
// is never due: its refresh would bring another such token, once per
// request. It is sent, and a 401 refreshes it if the server refuses it. One
// read from the store, at first use or adopted from another process, may
// have expired since it was saved: it is due.
func (a *Authenticator) refreshAtLocked(force bool) time.Time {
	tok := a.token
	if tok == nil || tok.Expiry.IsZero() {
		return time.Time{}
	}
	life := tok.Expiry.Sub(a.since)
	if life <= 0 && !a.fromStore {
		return time.Time{}
	}
	window := a.before
	if window < 0 {
		if !force {
			return time.Time{}
		}
		window = 0
	}
	if life > 0 && window > life/2 {
		window = life / 2
	}
	return tok.Expiry.Add(-window)
}

func (a *Authenticator) headerValue(tok *oauth2.Token) string {
	return tok.Type() + " " + tok.AccessToken
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
