package interceptors

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/axiosgo/axios"
)

// Headers adds headers to every request: per-request values from a function
// ([NewHeaders]), such as a user id and a tenant code read from the
// signed-in user, or fixed ones ([StaticHeaders]).
//
// A header the request already has wins: the function's value is set only
// for keys the request's merged Config does not have, whether the caller set
// it on the request or the instance's Defaults did, so a caller can always
// send a different value for one request. [OverrideHeaders] reverses that.
// A retry through the instance resends the headers of the attempt before it,
// so without OverrideHeaders a retry keeps its first attempt's values.
//
// A Headers is safe for concurrent use, provided its function is.
type Headers struct {
	fn       func(ctx context.Context, cfg *axios.Config) (http.Header, error)
	override bool
}

// HeadersOption configures a [Headers].
type HeadersOption func(*Headers)

// OverrideHeaders makes the Headers' values replace those the request
// already has.
func OverrideHeaders() HeadersOption { return func(h *Headers) { h.override = true } }

// NewHeaders returns a Headers that asks fn for each request's headers. fn
// receives the request's merged Config, which it must not change, and may be
// called from many goroutines at once. Keys are canonicalized, and keys with
// no values are skipped. An error from fn fails the request with an
// [*axios.Error] whose message starts "interceptors: headers: " and which
// wraps fn's error (errors.Is reaches it); its code is the one
// [axios.ContextError] gives when fn's error is a context's, else
// CodeBadOptionValue. NewHeaders panics if fn is nil.
func NewHeaders(fn func(ctx context.Context, cfg *axios.Config) (http.Header, error), opts ...HeadersOption) *Headers {
	if fn == nil {
		panic("interceptors: NewHeaders: nil function")
	}
	h := &Headers{fn: fn}
	for _, o := range opts {
		if o != nil {
			o(h)
		}
	}
	return h
}

// StaticHeaders returns a Headers that adds a copy of hdr to every request;
// changing hdr afterwards changes nothing.
func StaticHeaders(hdr http.Header, opts ...HeadersOption) *Headers {
	fixed := canonical(hdr)
	return NewHeaders(func(context.Context, *axios.Config) (http.Header, error) { return fixed, nil }, opts...)
}

// Install registers the Headers on c as a request interceptor.
func (h *Headers) Install(c *axios.Client) {
	c.Interceptors.Request.Use(h.apply, nil)
}

func (h *Headers) apply(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
	add, err := h.fn(ctx, cfg)
	if err != nil {
		return nil, headersError(cfg, err)
	}
	if len(add) == 0 {
		return cfg, nil
	}
	if cfg.Headers == nil {
		cfg.Headers = make(http.Header, len(add))
	}
	for k, v := range add {
		if len(v) == 0 {
			continue
		}
		k = http.CanonicalHeaderKey(k)
		if !h.override && len(cfg.Headers[k]) > 0 {
			continue
		}
		// A copy: the request may append to its header, and fn's map (the
		// static one above) is shared by every request.
		cfg.Headers[k] = slices.Clone(v)
	}
	return cfg, nil
}

// headersError carries the request's Config, so response interceptors (the
// Logger, Loading) still know which request failed.
func headersError(cfg *axios.Config, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		e := axios.ContextError(cfg, err)
		e.Message = "interceptors: headers: " + err.Error()
		return e
	}
	return &axios.Error{Message: "interceptors: headers: " + err.Error(), Code: axios.CodeBadOptionValue, Config: cfg, Err: err}
}

func canonical(hdr http.Header) http.Header {
	out := make(http.Header, len(hdr))
	for k, v := range hdr {
		if len(v) > 0 {
			out[http.CanonicalHeaderKey(k)] = slices.Clone(v)
		}
	}
	return out
}
