package interceptors

import (
	"context"
	"io"
	"sync"
	"sync/atomic"

	"github.com/axiosgo/axios"
)

// Loading tracks the requests in flight on a client, for a loading
// indicator: it calls onChange(true) when the first request starts, and
// onChange(false) when the last one ends, however it ends (a response, a
// rejected status, a network error, a cancellation, a request interceptor's
// error, a panicking interceptor: see [axios.PanicError]). A retry through
// the instance ([Retry], the auth pair) is the same request, counted once.
// A streamed response (axios.ResponseStream) ends when its Body is closed,
// as the core's request does: a body never closed keeps the flag on. A flag set and cleared per request, as apps often
// write it, goes off when the first of two concurrent requests ends.
//
// onChange calls strictly alternate, starting with true, and are made one at
// a time with Loading's lock held: onChange must return quickly, may call
// [Loading.InFlight], and must not send a request through the client
// synchronously (that would wait for the lock it holds).
//
// Install it last, before the client's first request (see the package doc):
// the flag then stays on through a retry's backoff and a token refresh. A
// Loading is safe for concurrent use; docs/interceptors.md explains how it
// counts.
type Loading struct {
	onChange func(loading bool)
	key      string

	mu       sync.Mutex
	chains   int    // chains between the request side and the response side
	count    int    // open tickets: requests in flight
	streams  int    // of which streamed responses not yet closed
	gen      uint64 // a ticket of an older generation is closed
	inFlight atomic.Int64
}

// loadingTicket is one logical request's entry in a Loading's count. Its
// fields are guarded by the Loading's mu.
//
// The rule, since a retry through the instance runs the whole chain again,
// nested inside the first chain's response interceptors:
//
//   - Entering (request side): a request whose Meta holds no open ticket of
//     this Loading is a new request: it is counted and a ticket stored in its
//     Meta. The ticket is a pointer, so the copy of Meta a retry carries to
//     its next attempt refers to the same ticket, and the retry joins it.
//   - Leaving (response side): the chain lets go of the ticket found in its
//     outcome's Config; when the last chain holding it lets go, the request
//     is uncounted. The outermost chain, which finishes last, ends it.
//   - Both sides run once in every chain, whatever happened before them (the
//     request side has a rejected handler too), so Loading knows how many
//     chains are between its two sides. When none is, no request can be in
//     flight: every ticket is closed and the count set to zero. An outcome
//     whose error carries no Config (a plain error from a request
//     interceptor) can thus delay the count going to zero while other
//     requests run, but never strand it.
type loadingTicket struct {
	gen    uint64
	holds  int // chains of this request between Loading's two sides
	closed bool
}

// NewLoading returns a Loading that reports the 0→1 and 1→0 transitions of
// the count of requests in flight to onChange (nil: none; use InFlight).
func NewLoading(onChange func(loading bool)) *Loading {
	return &Loading{onChange: onChange, key: metaKey("axios.loading")}
}

// InFlight returns the number of requests in flight now. It never blocks.
func (l *Loading) InFlight() int { return int(l.inFlight.Load()) }

// Install registers the Loading on c: a request interceptor that counts a
// request in, and a response interceptor that counts it out and passes the
// outcome on unchanged.
func (l *Loading) Install(c *axios.Client) {
	// The response side first: a request that starts between the two Use
	// calls then has the response side without the request side, which
	// costs nothing, never the other way round, which would hold the count up.
	c.Interceptors.Response.Use(
		func(_ context.Context, resp *axios.Response) (*axios.Response, error) {
			l.leave(outcomeConfig(resp, nil), resp)
			return resp, nil
		},
		func(_ context.Context, err error) (*axios.Response, error) {
			l.leave(outcomeConfig(nil, err), nil)
			return nil, err
		},
	)
	c.Interceptors.Request.Use(
		func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
			l.enter(cfg, true)
			return cfg, nil
		},
		func(_ context.Context, err error) (*axios.Config, error) {
			// An earlier request interceptor failed: the chain still passes
			// through the response side, so it is counted as a chain; it is a
			// request in flight only if it is a retry of one.
			l.enter(outcomeConfig(nil, err), false)
			return nil, err
		},
	)
}

// ticketLocked returns cfg's ticket if it is open.
func (l *Loading) ticketLocked(cfg *axios.Config) *loadingTicket {
	if cfg == nil {
		return nil
	}
	t, ok := cfg.Meta[l.key].(*loadingTicket)
	if !ok || t.closed || t.gen != l.gen {
		return nil
	}
	return t
}

func (l *Loading) enter(cfg *axios.Config, canStart bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.chains++
	t := l.ticketLocked(cfg)
	if t == nil {
		if !canStart {
			return
		}
		t = &loadingTicket{gen: l.gen}
		setMeta(cfg, l.key, t)
		l.addLocked(1)
	}
	t.holds++
}

// leave lets go of cfg's ticket. When resp is the last chain's response and
// a stream (axios.ResponseStream), the request goes on until the stream is
// closed: the ticket stays counted, out of the tickets that can lose their
// way, and resp.Body is wrapped to end it on Close.
func (l *Loading) leave(cfg *axios.Config, resp *axios.Response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.chains > 0 {
		l.chains--
	}
	if t := l.ticketLocked(cfg); t != nil {
		t.holds--
		if t.holds <= 0 {
			t.closed = true
			if resp != nil && resp.Body != nil {
				l.streams++
				resp.Body = &loadingStream{ReadCloser: resp.Body, l: l}
			} else {
				l.addLocked(-1)
			}
		}
	}
	if l.chains == 0 {
		// No chain is inside: tickets still open lost their way out (an
		// error without a Config). Close them all; open streams stay.
		l.gen++
		if n := l.count - l.streams; n > 0 {
			l.addLocked(-n)
		}
	}
}

// loadingStream is a streamed response's body: its Close ends the request
// in the Loading's count, once.
type loadingStream struct {
	io.ReadCloser
	l    *Loading
	once sync.Once
}

func (s *loadingStream) Close() error {
	err := s.ReadCloser.Close()
	s.once.Do(func() {
		s.l.mu.Lock()
		defer s.l.mu.Unlock()
		s.l.streams--
		s.l.addLocked(-1)
	})
	return err
}

// addLocked changes the count by d and reports a 0↔non-zero transition.
// Calling onChange with mu held is what makes the calls alternate: the next
// transition cannot be computed until this one is reported.
func (l *Loading) addLocked(d int) {
	before := l.count
	l.count += d
	l.inFlight.Store(int64(l.count))
	if l.onChange == nil {
		return
	}
	switch {
	case before == 0 && l.count > 0:
		l.onChange(true)
	case before > 0 && l.count == 0:
		l.onChange(false)
	}
}
