package auth

import (
	"errors"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// tokenState is the current token as requests carry it. Requests read an
// immutable snapshot ([current]) with one atomic load and no lock; it is
// replaced only by the holder of the flight's turn, or by the first load of
// the store, under mu.
//
// It also recognizes the header values of its recent tokens, so that a
// refused request's header says which token it carried without a per-request
// record: see recognize.
type tokenState struct {
	cur atomic.Pointer[current] // nil until the store was first read

	mu     sync.Mutex // guards gen, recent and n, and orders writes of cur
	gen    uint64
	recent [recentKept]recentToken // ring of the last tokens set, newest at n%recentKept
	n      uint64                  // tokens set so far

	seed   maphash.Seed
	format func(*oauth2.Token) string
	before time.Duration // Options.RefreshBefore, after defaults
}

// recentKept is how many of its latest tokens a tokenState recognizes in a
// request's header. A header that carries one of them is the
// Authenticator's own; any other is the caller's.
const recentKept = 64

// recentToken is one of the latest tokens, kept as a hash of its header
// value so the tokens themselves do not stay in memory.
type recentToken struct {
	sum    uint64
	gen    uint64 // 0: an empty slot
	repeat bool
}

// current is one state of the token; never changed once published. A
// request that carries it is told apart from one that carried another by
// gen.
type current struct {
	tok       *oauth2.Token // owned by the Authenticator; nil: none
	header    string        // the header value; "" when tok is nil
	gen       uint64        // raised at each change
	since     time.Time     // when this process got tok
	fromStore bool          // read from the store (at first use, or adopted), not handed over by a refresh or SetToken
	unsaved   bool          // saving tok failed: the store holds an older token, or none
	repeat    bool          // header equals a recent token's: requests carry this snapshot in Meta
	dueAt     time.Time     // when a proactive refresh is due; zero: never
}

func newTokenState(format func(*oauth2.Token) string, before time.Duration) *tokenState {
	return &tokenState{seed: maphash.MakeSeed(), format: format, before: before}
}

// sendable reports whether tok's header value can be sent: a value with CR,
// LF or another control character would fail every request that carries
// it, so such a token is refused before it is kept or stored.
func (s *tokenState) sendable(tok *oauth2.Token) bool {
	return tok != nil && tok.AccessToken != "" && validFieldValue(s.format(tok))
}

// validFieldValue reports whether v may be sent as a header's value (RFC
// 9110 section 5.5): no control character but HTAB. x/net's httpguts has
// the same check, but importing it would link golang.org/x/text into every
// program that imports auth.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// errUnsendable is the error for a token sendable refuses. It names no
// token.
var errUnsendable = errors.New("auth: the token holds characters a header cannot carry")

// load returns the current snapshot, or nil before the first load.
func (s *tokenState) load() *current { return s.cur.Load() }

// set publishes tok (owned by the caller from now on; nil: none) as the
// current token, with a new generation, and returns the snapshot.
func (s *tokenState) set(tok *oauth2.Token, fromStore, unsaved bool) *current {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setLocked(tok, fromStore, unsaved)
}

// setFirst publishes what the store held at first use, unless a token was
// set meanwhile (a SetToken that won the race is newer).
func (s *tokenState) setFirst(tok *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur.Load() == nil {
		s.setLocked(tok, true, false)
	}
}

func (s *tokenState) setLocked(tok *oauth2.Token, fromStore, unsaved bool) *current {
	s.gen++
	c := &current{tok: tok, gen: s.gen, since: timeNow(), fromStore: fromStore, unsaved: unsaved && tok != nil}
	if tok != nil {
		c.header = s.format(tok)
		sum := maphash.String(s.seed, c.header)
		c.repeat = s.knownLocked(sum)
		s.n++
		s.recent[s.n%recentKept] = recentToken{sum: sum, gen: c.gen, repeat: c.repeat}
	}
	c.dueAt = c.refreshAt(s.before, false)
	s.cur.Store(c)
	return c
}

// markSaved records that tok, the current token whose save had failed, is
// now in the store. Nothing else changes: same token, same generation.
func (s *tokenState) markSaved(tok *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cur.Load(); c != nil && c.tok == tok && c.unsaved {
		saved := *c
		saved.unsaved = false
		s.cur.Store(&saved)
	}
}

func (s *tokenState) knownLocked(sum uint64) bool {
	for _, t := range s.recent {
		if t.gen != 0 && t.sum == sum {
			return true
		}
	}
	return false
}

// ours reports whether h is the header value of one of the recent tokens:
// lock-free for the current one, the common case.
func (s *tokenState) ours(h string) bool {
	if c := s.cur.Load(); c != nil && c.header == h {
		return h != ""
	}
	if h == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.knownLocked(maphash.String(s.seed, h))
}

// recognize returns the generation of the token a request sent with header
// value h carried, when it carried no snapshot in its Meta: the newest
// recent token with that header whose requests are not marked (a marked
// one's requests say which they carried), or failing that the newest
// marked one. ok is false when h is none of the recent tokens'.
func (s *tokenState) recognize(h string) (gen uint64, ok bool) {
	if h == "" {
		return 0, false
	}
	if c := s.cur.Load(); c != nil && !c.repeat && c.header == h {
		return c.gen, true
	}
	sum := maphash.String(s.seed, h)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := uint64(0); i < recentKept && i < s.n; i++ {
		t := s.recent[(s.n-i)%recentKept]
		if t.gen == 0 || t.sum != sum {
			continue
		}
		if !t.repeat {
			return t.gen, true
		}
		if !ok {
			gen, ok = t.gen, true
		}
	}
	return gen, ok
}

// olderOwn reports whether tok is one of this process's earlier tokens,
// not the current one.
func (s *tokenState) olderOwn(tok *oauth2.Token, cur *current) bool {
	if tok == nil || tok.AccessToken == "" {
		return false
	}
	gen, ok := s.recognize(s.format(tok))
	return ok && gen < cur.gen
}

// due reports whether c's token should be refreshed before it is sent.
// force (TokenSource) also counts an expired token when proactive refresh
// is off.
func (s *tokenState) due(c *current, force bool) bool {
	return s.dueAt(c, force, timeNow())
}

// dueAt is due at the time now.
func (s *tokenState) dueAt(c *current, force bool, now time.Time) bool {
	at := c.dueAt
	if force && s.before < 0 {
		at = c.refreshAt(s.before, true)
	}
	return !at.IsZero() && !now.Before(at)
}

// refreshAt returns when c's token is due for a proactive refresh; zero:
// never. That is before ahead of its Expiry, at most half its lifetime as
// seen here, so short-lived tokens are not refreshed on every request.
//
// A token that was already expired when it arrived from a refresh or
// SetToken (a server clock behind ours, a JWT exp read without expires_in)
// is never due: its refresh would bring another such token, once per
// request; a 401 refreshes it if the server refuses it. One read from the
// store may have expired since it was saved: it is due.
func (c *current) refreshAt(before time.Duration, force bool) time.Time {
	tok := c.tok
	if tok == nil || tok.Expiry.IsZero() {
		return time.Time{}
	}
	life := tok.Expiry.Sub(c.since)
	if life <= 0 && !c.fromStore {
		return time.Time{}
	}
	window := before
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
