package interceptors

import (
	"context"
	"slices"

	"github.com/axiosgo/axios"
)

// StatusHandler handles a request that failed with a chosen status. It
// returns a response to recover the request with, an error to fail it with
// instead, or (nil, nil) to pass err on as it is. It may be called from many
// goroutines at once, and must not change err.
type StatusHandler func(ctx context.Context, err *axios.Error) (*axios.Response, error)

// StatusHook runs a [StatusHandler] for requests rejected with chosen
// statuses, as an app's response interceptor alerts "page not found" on a
// 404. Other failures pass by untouched.
//
// Install it after the interceptors that retry (see the package doc), so it
// sees each request's final outcome; the handler runs once for it, however
// many retries nest chains around it. A StatusHook is safe for concurrent
// use, provided its handler is.
type StatusHook struct {
	handler  StatusHandler
	statuses []int
	key      string
}

// OnStatus returns a StatusHook that runs handler for requests rejected with
// one of statuses, or with any status when none is given. A rejected status
// is one the request's ValidateStatus refused (by default, outside 2xx):
// not an accepted status whose body failed (over MaxContentLength, cut
// off), nor a failure after a refused attempt (a Retry wait canceled).
// OnStatus panics if handler is nil.
func OnStatus(handler StatusHandler, statuses ...int) *StatusHook {
	if handler == nil {
		panic("interceptors: OnStatus: nil handler")
	}
	return &StatusHook{handler: handler, statuses: slices.Clone(statuses), key: metaKey("axios.status")}
}

// Install registers the StatusHook on c as a response interceptor.
func (s *StatusHook) Install(c *axios.Client) {
	c.Interceptors.Response.Use(nil, s.handle)
}

func (s *StatusHook) handle(ctx context.Context, err error) (*axios.Response, error) {
	// A retry through the instance runs the chain again, nested inside the
	// first one, so the same final error reaches the StatusHook of every
	// enclosing chain: claim lets the innermost run the handler, and the
	// enclosing ones pass the error on.
	axErr, ok := axios.AsError(err)
	if !ok || !rejectedStatus(axErr) {
		return nil, err
	}
	if len(s.statuses) > 0 && !slices.Contains(s.statuses, axErr.Response.Status) {
		return nil, err
	}
	if !s.claim(axErr) {
		return nil, err
	}
	resp, herr := s.handler(ctx, axErr)
	switch {
	case herr != nil:
		return nil, herr
	case resp != nil:
		return resp, nil
	}
	return nil, err
}

// rejectedStatus reports whether e is a status the request's ValidateStatus
// refused, not another failure that carries a response: a body over
// MaxContentLength or cut off, or a wait canceled after a refused attempt.
func rejectedStatus(e *axios.Error) bool {
	if e.Response == nil || (e.Code != axios.CodeBadRequest && e.Code != axios.CodeBadResponse) {
		return false
	}
	status := e.Response.Status
	if e.Config != nil && e.Config.ValidateStatus != nil {
		return !e.Config.ValidateStatus(status)
	}
	return status < 200 || status >= 300
}

// claim marks the response as handled in its Config's Meta, and reports
// whether it was not handled before. The mark is the *Response itself, so a
// Config sent again later, which carries the mark along, is handled anew.
func (s *StatusHook) claim(axErr *axios.Error) bool {
	cfg := axErr.Config
	if cfg == nil {
		cfg = axErr.Response.Config
	}
	if cfg == nil {
		return true
	}
	if seen, ok := cfg.Meta[s.key].(*axios.Response); ok && seen == axErr.Response {
		return false
	}
	setMeta(cfg, s.key, axErr.Response)
	return true
}
