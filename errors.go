package axios

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Error codes carried by [Error.Code]. The strings are axios's, so code ported
// from JavaScript can compare against the same values.
const (
	// CodeBadRequest is a response whose status ValidateStatus rejected, in
	// 400–499, or a URL whose scheme is not http or https (axios's
	// "Unsupported protocol").
	CodeBadRequest = "ERR_BAD_REQUEST"
	// CodeBadResponse is any other rejected status (5xx, 3xx with redirects off),
	// a response body over Config.MaxContentLength, or one that its
	// Content-Encoding does not decode.
	CodeBadResponse = "ERR_BAD_RESPONSE"
	// CodeNetwork is a request that got no response: refused, reset, DNS failure.
	CodeNetwork = "ERR_NETWORK"
	// CodeCanceled is a request whose context was canceled.
	CodeCanceled = "ERR_CANCELED"
	// CodeConnAborted is a request that ran past Config.Timeout.
	CodeConnAborted = "ECONNABORTED"
	// CodeTimedOut is a request whose context's own deadline passed.
	CodeTimedOut = "ETIMEDOUT"
	// CodeInvalidURL is a URL that could not be built or parsed.
	CodeInvalidURL = "ERR_INVALID_URL"
	// CodeTooManyRedirects is a redirect chain longer than Config.MaxRedirects.
	CodeTooManyRedirects = "ERR_FR_TOO_MANY_REDIRECTS"
	// CodeBadOptionValue is a Config value, or an interceptor's result, that
	// cannot be used; also a panic in an interceptor or in Config.Adapter
	// (see [PanicError]), which is a bug in code the caller supplied, not a
	// failure a retry could fix.
	CodeBadOptionValue = "ERR_BAD_OPTION_VALUE"
)

// Error is the error every request made through a [Client] fails with, as
// axios's AxiosError. Response is set when a response arrived (a rejected
// status); Request when one was built. Err is the cause, reachable through
// errors.Is and errors.As.
//
// An Error is a value handed to one caller; interceptors may read it and may
// return a new one, but should not change it while another goroutine reads it.
type Error struct {
	Message  string
	Code     string
	Config   *Config
	Request  *http.Request
	Response *Response
	Err      error
}

// Error returns "axios: " followed by the message. It never includes header
// values or a request body, so tokens do not leak into logs through it.
func (e *Error) Error() string {
	if e == nil {
		return "axios: <nil>"
	}
	return "axios: " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Status returns the response's status code, or 0 when no response arrived.
func (e *Error) Status() int {
	if e == nil || e.Response == nil {
		return 0
	}
	return e.Response.Status
}

// ErrNotSent is wrapped by the error of a request that failed before it was
// sent, so that sending it again cannot help: the auth pair's, when the
// token the request waited for could not be refreshed. A request
// interceptor that gives up on a request may wrap it too.
// The interceptors package's DefaultRetryPolicy never retries such an
// error.
var ErrNotSent = errors.New("axios: the request was not sent")

// ErrNotReplayable is wrapped by the error of a resend (a retry, the auth
// pair's resend after a refresh, a 307 or 308 redirect) whose body could
// not be read again: more than the 1 MiB kept of a one-shot io.Reader was
// sent the first time. Its code is [CodeBadOptionValue]. An interceptor
// that resends may return the first attempt's error instead.
var ErrNotReplayable = errors.New("axios: request body could not be read again")

// IsAxiosError reports whether err is, or wraps, an [*Error]: errors.As
// with an *Error target, as [AsError] does.
func IsAxiosError(err error) bool {
	_, ok := AsError(err)
	return ok
}

// IsCancel reports whether err comes from a canceled context, as axios's
// isCancel reports an aborted request. It is errors.Is(err,
// context.Canceled): every [CodeCanceled] error this module makes wraps
// context.Canceled (see [ContextError]).
func IsCancel(err error) bool {
	return errors.Is(err, context.Canceled)
}

// AsError returns the [*Error] in err's chain, if there is one: ok is false
// for a typed nil *Error too, so e is never nil when ok.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok && e != nil
}

// ContextError returns the [*Error] of a request described by cfg whose
// context ended with err (ctx.Err(), or an error that wraps it):
// [CodeCanceled] "canceled" for context.Canceled, [CodeTimedOut] "context
// deadline exceeded" for context.DeadlineExceeded. Its Err is err, so
// errors.Is(result, err) holds; an err that wraps neither is taken as a
// cancellation and joined with context.Canceled, so [IsCancel] holds for
// every CodeCanceled result. Interceptors that wait (for a refresh, a
// backoff) use it when ctx ends the wait, and may prefix Message and set
// Request and Response. A request past its own Config.Timeout is
// [CodeConnAborted] instead, which only the core tells apart.
func ContextError(cfg *Config, err error) *Error {
	e := &Error{Message: "canceled", Code: CodeCanceled, Config: cfg, Err: err}
	switch {
	case errors.Is(err, context.Canceled):
	case errors.Is(err, context.DeadlineExceeded):
		e.Message, e.Code = "context deadline exceeded", CodeTimedOut
	case err == nil:
		e.Err = context.Canceled
	default:
		e.Err = errors.Join(context.Canceled, err)
	}
	return e
}

// PanicError is a panic recovered on a request's own goroutine: in an
// interceptor's handler or RunWhen predicate, in Config.Adapter, or in
// another of the Config's functions called during dispatch (a progress
// callback too, even one net/http calls on its own goroutine). The request
// fails with an [*Error] of [CodeBadOptionValue] whose Err is the PanicError,
// and that error goes on through the rest of the chain as a rejection does:
// the next rejected handlers see it, so interceptors that count requests
// (interceptors.Loading) still count this one out. It has the shape of
// auth.PanicError.
type PanicError struct {
	What  string // what panicked, e.g. "the fulfilled handler of request interceptor 2"
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack
}

// Error names what panicked and the panic's value, not the stack.
func (e *PanicError) Error() string { return "axios: " + e.message() }

func (e *PanicError) message() string { return fmt.Sprintf("%s panicked: %v", e.What, e.Value) }

func statusError(resp *Response) *Error {
	code := CodeBadResponse
	if resp.Status >= 400 && resp.Status < 500 {
		code = CodeBadRequest
	}
	return &Error{
		Message:  "Request failed with status code " + strconv.Itoa(resp.Status),
		Code:     code,
		Config:   resp.Config,
		Request:  resp.Request,
		Response: resp,
	}
}
