package axios

import (
	"context"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// RequestFulfilled runs before a request is sent, with the request's own
// merged Config: it may change cfg in place and return it, or return another
// Config. An error skips the request and goes to the next interceptor's
// [RequestRejected], then to the response interceptors' rejected handlers.
// It may be called from many goroutines at once.
type RequestFulfilled func(ctx context.Context, cfg *Config) (*Config, error)

// RequestRejected receives the error of an earlier request interceptor. A
// Config recovers the chain; an error passes it on. It may be called from
// many goroutines at once.
type RequestRejected func(ctx context.Context, err error) (*Config, error)

// ResponseFulfilled receives a response that ValidateStatus accepted, or a
// response an earlier handler recovered with. It returns the response for the
// next stage (a new one, or resp changed), or an error that goes to the next
// [ResponseRejected]. A returned response without a Config goes on as a
// copy with resp's.
// It may be called from many goroutines at once.
type ResponseFulfilled func(ctx context.Context, resp *Response) (*Response, error)

// ResponseRejected receives a failed request's error: an [*Error] for a
// rejected status or a transport failure, or whatever an earlier handler
// returned. A response recovers the chain (one without a Config goes on as
// a copy with the failed request's); an error passes it on. Retry the
// way axios code does, through the instance: return c.Request(ctx, *axErr.Config).
// It may be called from many goroutines at once.
type ResponseRejected func(ctx context.Context, err error) (*Response, error)

// Order is the order request interceptors run in.
type Order int32

const (
	// LIFO runs the last registered request interceptor first, as axios does.
	LIFO Order = iota
	// FIFO runs request interceptors in registration order.
	FIFO
)

// InterceptorOption configures one interceptor at Use.
type InterceptorOption func(*interceptorOptions)

type interceptorOptions struct {
	runWhen func(cfg *Config) bool
}

// RunWhen skips the interceptor for requests whose config pred rejects, as
// axios's runWhen. pred sees the config as it stands when the interceptor's
// turn comes; a response interceptor sees the config of the response or error.
func RunWhen(pred func(cfg *Config) bool) InterceptorOption {
	return func(o *interceptorOptions) { o.runWhen = pred }
}

type handler[F, R any] struct {
	id        int
	fulfilled F
	rejected  R
	runWhen   func(cfg *Config) bool
}

// manager is a copy-on-write list: Use and Eject publish a new slice, and a
// request reads one snapshot with a single atomic load, so the chain a
// request runs never changes under it and the hot path takes no lock.
type manager[F, R any] struct {
	mu     sync.Mutex
	nextID int
	list   atomic.Pointer[[]handler[F, R]]
}

func (m *manager[F, R]) use(f F, r R, opts []InterceptorOption) int {
	var o interceptorOptions
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nextID++
	var cur []handler[F, R]
	if p := m.list.Load(); p != nil {
		cur = *p
	}
	next := make([]handler[F, R], len(cur), len(cur)+1)
	copy(next, cur)
	next = append(next, handler[F, R]{id: m.nextID, fulfilled: f, rejected: r, runWhen: o.runWhen})
	m.list.Store(&next)
	return m.nextID
}

func (m *manager[F, R]) eject(id int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.list.Load()
	if p == nil {
		return
	}
	i := slices.IndexFunc(*p, func(h handler[F, R]) bool { return h.id == id })
	if i < 0 {
		return
	}
	next := slices.Delete(slices.Clone(*p), i, i+1)
	m.list.Store(&next)
}

func (m *manager[F, R]) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.list.Store(nil)
}

func (m *manager[F, R]) snapshot() []handler[F, R] {
	if m == nil {
		return nil
	}
	if p := m.list.Load(); p != nil {
		return *p
	}
	return nil
}

// RequestInterceptors is a client's ordered list of request interceptors, as
// axios's instance.interceptors.request. All methods are safe for concurrent
// use, including while requests run: each request runs the list as it was
// when the request started.
type RequestInterceptors struct {
	m     manager[RequestFulfilled, RequestRejected]
	order atomic.Int32
}

// Use adds an interceptor and returns its id for [RequestInterceptors.Eject].
// Either handler may be nil, which passes the outcome through. Ids are never
// reused, not even after Clear.
func (ri *RequestInterceptors) Use(f RequestFulfilled, r RequestRejected, opts ...InterceptorOption) int {
	return ri.m.use(f, r, opts)
}

// Eject removes the interceptor with id. An unknown or already ejected id
// does nothing.
func (ri *RequestInterceptors) Eject(id int) { ri.m.eject(id) }

// Clear removes every interceptor.
func (ri *RequestInterceptors) Clear() { ri.m.clear() }

// Len returns the number of interceptors.
func (ri *RequestInterceptors) Len() int { return len(ri.m.snapshot()) }

// SetOrder sets the order the interceptors run in; the default is [LIFO].
func (ri *RequestInterceptors) SetOrder(o Order) { ri.order.Store(int32(o)) }

// ResponseInterceptors is a client's ordered list of response interceptors,
// as axios's instance.interceptors.response. They run in registration order.
// All methods are safe for concurrent use, including while requests run: each
// request runs the list as it was when the request started.
type ResponseInterceptors struct {
	m manager[ResponseFulfilled, ResponseRejected]
}

// Use adds an interceptor and returns its id for [ResponseInterceptors.Eject].
// Either handler may be nil, which passes the outcome through. Ids are never
// reused, not even after Clear.
func (ri *ResponseInterceptors) Use(f ResponseFulfilled, r ResponseRejected, opts ...InterceptorOption) int {
	return ri.m.use(f, r, opts)
}

// Eject removes the interceptor with id. An unknown or already ejected id
// does nothing.
func (ri *ResponseInterceptors) Eject(id int) { ri.m.eject(id) }

// Clear removes every interceptor.
func (ri *ResponseInterceptors) Clear() { ri.m.clear() }

// Len returns the number of interceptors.
func (ri *ResponseInterceptors) Len() int { return len(ri.m.snapshot()) }

func (ri *RequestInterceptors) snapshot() ([]handler[RequestFulfilled, RequestRejected], Order) {
	if ri == nil {
		return nil, LIFO
	}
	return ri.m.snapshot(), Order(ri.order.Load())
}

func (ri *ResponseInterceptors) snapshot() []handler[ResponseFulfilled, ResponseRejected] {
	if ri == nil {
		return nil
	}
	return ri.m.snapshot()
}

func errNilConfig(cfg *Config) error {
	return &Error{Message: "a request interceptor returned a nil *Config and no error", Code: CodeBadOptionValue, Config: cfg}
}

func errNilResponse(cfg *Config) error {
	return &Error{Message: "a response interceptor returned a nil *Response and no error", Code: CodeBadOptionValue, Config: cfg}
}

// chain is one run of a request through its stages, as axios's promise
// chain: the request interceptors, dispatch, then the response interceptors.
// step is the stage running now, so that a panic in it becomes that stage's
// outcome and the run goes on with the next stage; the deferred recover is
// paid once per run, not once per handler.
type chain struct {
	client *Client
	reqs   []handler[RequestFulfilled, RequestRejected]
	order  Order
	resps  []handler[ResponseFulfilled, ResponseRejected]

	step      int       // reqs, then dispatch at len(reqs), then resps
	inRunWhen bool      // the stage is asking its RunWhen predicate
	cfg       *Config   // the request's config as the request interceptors left it
	resp      *Response // the outcome: resp or err
	err       error
	// dispatched is what the adapter returned, whose stream the caller
	// closes when the chain ends in an error.
	dispatched *Response
	// sent reports that dispatch ran; holds are the one-shot readers it
	// sent, which this run keeps open until it ends (see endBody).
	sent, held bool
	holds      []*onceSource
}

// run runs the stages from ch.step on and reports whether it reached the
// end; false means a stage panicked, and run should be called again.
func (ch *chain) run(ctx context.Context) (finished bool) {
	defer func() {
		if !finished {
			ch.fail(recover())
		}
	}()
	n := len(ch.reqs)
	for ; ch.step < n; ch.step++ {
		ch.request(ctx, ch.requestHandler(ch.step))
	}
	if ch.step == n {
		if ch.err == nil {
			ch.sent = true
			ch.resp, ch.err = ch.client.dispatch(ctx, ch.cfg)
			ch.dispatched = ch.resp
		}
		ch.step++
	}
	if ch.sent && !ch.held {
		// Before the response interceptors, whose retries send the same
		// readers inside this run.
		ch.held = true
		ch.holds = holdOneShot(ch.cfg)
	}
	for ; ch.step <= n+len(ch.resps); ch.step++ {
		ch.response(ctx, &ch.resps[ch.step-n-1])
	}
	return true
}

func (ch *chain) requestHandler(step int) *handler[RequestFulfilled, RequestRejected] {
	if ch.order == LIFO {
		return &ch.reqs[len(ch.reqs)-1-step]
	}
	return &ch.reqs[step]
}

// request runs one request interceptor over (ch.cfg, ch.err).
func (ch *chain) request(ctx context.Context, h *handler[RequestFulfilled, RequestRejected]) {
	if h.runWhen != nil {
		ch.inRunWhen = true
		skip := !h.runWhen(ch.cfg)
		ch.inRunWhen = false
		if skip {
			return
		}
	}
	if ch.err == nil {
		if h.fulfilled == nil {
			return
		}
		next, e := h.fulfilled(ctx, ch.cfg)
		switch {
		case e != nil:
			ch.err = e
		case next == nil:
			ch.err = errNilConfig(ch.cfg)
		default:
			ch.cfg = next
		}
		return
	}
	if h.rejected == nil {
		return
	}
	next, e := h.rejected(ctx, ch.err)
	switch {
	case e != nil:
		ch.err = e
	case next != nil:
		ch.cfg, ch.err = next, nil
	default:
		ch.err = errNilConfig(ch.cfg)
	}
}

// response runs one response interceptor over (ch.resp, ch.err).
func (ch *chain) response(ctx context.Context, h *handler[ResponseFulfilled, ResponseRejected]) {
	if h.runWhen != nil {
		if cfg := configOf(ch.resp, ch.err); cfg != nil {
			ch.inRunWhen = true
			skip := !h.runWhen(cfg)
			ch.inRunWhen = false
			if skip {
				return
			}
		}
	}
	if ch.err == nil {
		if h.fulfilled == nil {
			return
		}
		next, e := h.fulfilled(ctx, ch.resp)
		switch {
		case e != nil:
			ch.resp, ch.err = nil, e
		case next == nil:
			ch.resp, ch.err = nil, errNilResponse(ch.resp.Config)
		default:
			if next.Config == nil {
				// A copy: the handler may return one Response for many.
				cp := *next
				cp.Config, next = ch.resp.Config, &cp
			}
			ch.resp = next
		}
		return
	}
	if h.rejected == nil {
		return
	}
	next, e := h.rejected(ctx, ch.err)
	switch {
	case e != nil:
		ch.err = e
	case next != nil:
		if next.Config == nil {
			cp := *next
			cp.Config, next = configOf(nil, ch.err), &cp
		}
		ch.resp, ch.err = next, nil
	default:
		ch.err = errNilResponse(configOf(nil, ch.err))
	}
}

// fail makes the panic p the outcome of the stage at ch.step, and moves on
// to the next stage. The error carries the request's Config, so the
// interceptors after it know which request failed.
func (ch *chain) fail(p any) {
	n := len(ch.reqs)
	var what string
	cfg := ch.cfg
	switch {
	case ch.step < n:
		what = ch.handlerName("request", ch.requestHandler(ch.step).id)
	case ch.step == n:
		what = "dispatch"
		if cfg.Adapter != nil {
			what = "Config.Adapter"
		}
	default:
		what = ch.handlerName("response", ch.resps[ch.step-n-1].id)
		cfg = configOf(ch.resp, ch.err)
	}
	pe := &PanicError{What: what, Value: p, Stack: debug.Stack()}
	ch.resp, ch.err = nil, &Error{Message: pe.message(), Code: CodeBadOptionValue, Config: cfg, Err: pe}
	ch.inRunWhen = false
	ch.step++
}

func (ch *chain) handlerName(list string, id int) string {
	part := "the fulfilled handler"
	switch {
	case ch.inRunWhen:
		part = "the RunWhen predicate"
	case ch.err != nil:
		part = "the rejected handler"
	}
	return part + " of " + list + " interceptor " + strconv.Itoa(id)
}

func configOf(resp *Response, err error) *Config {
	if resp != nil {
		return resp.Config
	}
	if e, ok := AsError(err); ok {
		return e.Config
	}
	return nil
}

// endBody ends the run's holds on the one-shot readers it sent, or hands
// them to the response's stream, which may still be uploading (full
// duplex); a Config never sent has its readers closed.
func (ch *chain) endBody() {
	switch {
	case !ch.sent:
		closeUnsent(ch.cfg)
	case len(ch.holds) == 0:
	case ch.err == nil && ch.resp != nil && ch.resp.Body != nil:
		ch.resp.Body = &releaseOnClose{ReadCloser: ch.resp.Body, holds: ch.holds}
	default:
		for _, s := range ch.holds {
			s.release()
		}
	}
}
