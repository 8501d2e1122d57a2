package interceptors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/axiosgo/axios"
)

// RetryPolicy decides whether a failed request is retried, as
// go-retryablehttp's CheckRetry: true retries it; a non-nil error stops
// retrying and fails the request with that error instead of err. It is asked
// only about requests whose method may be retried (see
// [RetryOptions.RetryNonIdempotent]) and that have retries left. It may be
// called from many goroutines at once, and must not change err.
type RetryPolicy func(ctx context.Context, err *axios.Error) (bool, error)

// DefaultRetryPolicy retries what is likely to pass on a second try: a
// request that got no response ([axios.CodeNetwork], except a TLS
// certificate failure), one that ran past Config.Timeout
// ([axios.CodeConnAborted]), and the statuses 429, 502, 503 and 504. It never
// retries once ctx is done, never a canceled request or one whose own
// context's deadline passed, and never one that failed before it was sent
// (one that wraps [axios.ErrNotSent], as the auth pair's when the token's
// refresh failed), nor one whose body could not be sent again
// ([axios.ErrNotReplayable], though it may carry the 503 of the attempt
// before). Wrap it to add cases:
//
//	Policy: func(ctx context.Context, err *axios.Error) (bool, error) {
//		if err.Status() == http.StatusInternalServerError {
//			return true, nil
//		}
//		return interceptors.DefaultRetryPolicy(ctx, err)
//	},
func DefaultRetryPolicy(ctx context.Context, err *axios.Error) (bool, error) {
	if err == nil || ctx.Err() != nil || errors.Is(err, axios.ErrNotReplayable) {
		return false, nil
	}
	switch err.Code {
	case axios.CodeConnAborted:
		return true, nil
	case axios.CodeNetwork:
		// One that was never sent (a request interceptor gave up on it) is
		// not retried: sending it again cannot help.
		return !errors.Is(err, axios.ErrNotSent) && !certificateError(err), nil
	}
	switch err.Status() {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true, nil
	}
	return false, nil
}

// certificateError reports a TLS failure that a retry would only repeat.
func certificateError(err error) bool {
	var verr *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	return errors.As(err, &verr) || errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host)
}

// Backoff returns how long to wait before retry number retry (1 for the
// first), between min and max. It may be called from many goroutines at
// once.
type Backoff func(min, max time.Duration, retry int) time.Duration

// DefaultBackoff is exponential backoff with jitter: min for the first
// retry, doubling for each one after, capped at max, and then a random
// duration between half of that and all of it, so clients that failed
// together do not retry together.
func DefaultBackoff(min, max time.Duration, retry int) time.Duration {
	if max < min {
		max = min
	}
	d := max
	if shift := retry - 1; shift >= 0 && shift < 62 && min > 0 && min <= max>>shift {
		d = min << shift
	}
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// RetryOptions configures a [Retry]. The zero value retries idempotent
// requests 3 times, as [DefaultRetryPolicy] decides, with [DefaultBackoff]
// from 100ms to 10s, honouring a Retry-After of up to 30s.
type RetryOptions struct {
	// MaxRetries is how many times one request is retried; 0 means the
	// default, 3, and a negative value means none.
	MaxRetries int
	// MinWait and MaxWait bound the backoff; 0 means 100ms (or MaxWait, if
	// lower) and 10s.
	MinWait, MaxWait time.Duration
	// MaxRetryAfter caps the wait a response's Retry-After header asks for,
	// in seconds or as an HTTP date; 0 means 30s. A longer wait is cut to it.
	MaxRetryAfter time.Duration
	// Policy decides what is retried; nil means DefaultRetryPolicy.
	Policy RetryPolicy
	// Backoff computes the wait when the response has no Retry-After; nil
	// means DefaultBackoff.
	Backoff Backoff
	// RetryNonIdempotent lets POST, PATCH and other non-idempotent methods
	// be retried too. By default only GET, HEAD, OPTIONS, PUT, DELETE and
	// TRACE are, since a retried POST whose first attempt reached the server
	// may do its work twice.
	RetryNonIdempotent bool
	// Sleep waits d, or until ctx is done, returning ctx's error then; nil
	// uses a timer. Tests inject one so that they never really wait.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, if set, is called before each wait, with the retry's number
	// (1 for the first) and the wait; for metrics or logging.
	OnRetry func(ctx context.Context, err *axios.Error, retry int, wait time.Duration)
}

// Retry retries failed requests with backoff, through the client it is
// installed on: the retry is c.Request(ctx, *axErr.Config), so it runs the
// whole chain again (the auth pair's header included) and carries Meta
// along, with the [Attempt] number raised. After MaxRetries retries the
// last attempt's error is returned as it is. A wait that ctx ends fails
// with [axios.ContextError]'s error for ctx's error (CodeCanceled or
// CodeTimedOut), which keeps the last response and also wraps the last
// attempt's error.
//
// Install it after the auth pair and before a [StatusHook] (see the package
// doc). A Retry is safe for concurrent use and may be installed on several
// clients.
type Retry struct {
	maxRetries    int
	minWait       time.Duration
	maxWait       time.Duration
	maxRetryAfter time.Duration
	policy        RetryPolicy
	backoff       Backoff
	anyMethod     bool
	sleep         func(ctx context.Context, d time.Duration) error
	onRetry       func(ctx context.Context, err *axios.Error, retry int, wait time.Duration)
	key           string // Meta: retries made so far, an int
}

// NewRetry returns a Retry configured by opts.
func NewRetry(opts RetryOptions) *Retry {
	r := &Retry{
		maxRetries:    opts.MaxRetries,
		minWait:       opts.MinWait,
		maxWait:       opts.MaxWait,
		maxRetryAfter: opts.MaxRetryAfter,
		policy:        opts.Policy,
		backoff:       opts.Backoff,
		anyMethod:     opts.RetryNonIdempotent,
		sleep:         opts.Sleep,
		onRetry:       opts.OnRetry,
		key:           metaKey("axios.retry"),
	}
	switch {
	case r.maxRetries == 0:
		r.maxRetries = 3
	case r.maxRetries < 0:
		r.maxRetries = 0
	}
	if r.maxWait <= 0 {
		r.maxWait = 10 * time.Second
	}
	if r.minWait <= 0 {
		r.minWait = min(100*time.Millisecond, r.maxWait) // a MaxWait below the default bounds it too
	}
	if r.maxRetryAfter <= 0 {
		r.maxRetryAfter = 30 * time.Second
	}
	if r.policy == nil {
		r.policy = DefaultRetryPolicy
	}
	if r.backoff == nil {
		r.backoff = DefaultBackoff
	}
	if r.sleep == nil {
		r.sleep = sleep
	}
	return r
}

// Install registers the Retry on c as a response interceptor; retries go
// through c.
func (r *Retry) Install(c *axios.Client) {
	c.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		return r.handle(ctx, c, err)
	})
}

func (r *Retry) handle(ctx context.Context, c *axios.Client, err error) (*axios.Response, error) {
	axErr, ok := axios.AsError(err)
	if !ok || axErr.Config == nil {
		return nil, err
	}
	cfg := axErr.Config
	done, _ := cfg.Meta[r.key].(int)
	if done >= r.maxRetries || !r.anyMethod && !idempotent(cfg.Method) {
		return nil, err
	}
	retry, perr := r.policy(ctx, axErr)
	if perr != nil {
		return nil, perr
	}
	if !retry {
		return nil, err
	}

	wait, ok := retryAfter(axErr.Response, timeNow())
	if ok {
		wait = min(wait, r.maxRetryAfter)
	} else {
		wait = r.backoff(r.minWait, r.maxWait, done+1)
	}
	if r.onRetry != nil {
		r.onRetry(ctx, axErr, done+1, wait)
	}
	if werr := r.sleep(ctx, wait); werr != nil {
		return nil, waitError(axErr, wait, werr)
	}

	next := *cfg
	next.Meta = maps.Clone(cfg.Meta)
	if next.Meta == nil {
		next.Meta = make(map[string]any, 2)
	}
	next.Meta[r.key] = done + 1
	next.Meta[AttemptKey] = Attempt(cfg) + 1
	resp, rerr := c.Request(ctx, next)
	if e, ok := axios.AsError(rerr); ok && e.Response == nil && errors.Is(rerr, axios.ErrNotReplayable) {
		// The body could not be sent again: the error says so, and carries
		// the answer of the attempt before.
		c := *e
		c.Request, c.Response = axErr.Request, axErr.Response
		return nil, &c
	}
	return resp, rerr
}

func idempotent(method string) bool {
	switch method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	return false
}

// timeNow is the clock Retry-After dates are read against; tests replace it.
var timeNow = time.Now

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110, section 10.2.3). A date in the past means no wait.
func retryAfter(resp *axios.Response, now time.Time) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	v := strings.TrimSpace(resp.Headers.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v, "-") {
		return time.Duration(1<<63 - 1), true // more seconds than an int64 holds: MaxRetryAfter cuts it
	}
	if err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(time.Duration(1<<63-1)/time.Second) {
			return time.Duration(1<<63 - 1), true
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// waitError is the error of a request whose ctx ended while it waited to be
// retried. It keeps the Config, so the interceptors after Retry still know
// the request, and the last response, so a caller can still read it.
func waitError(last *axios.Error, wait time.Duration, err error) error {
	e := axios.ContextError(last.Config, err)
	e.Message = fmt.Sprintf("interceptors: retry: %s while waiting %s to retry (last attempt: %s)", e.Message, wait, last.Message)
	e.Request, e.Response = last.Request, last.Response
	e.Err = fmt.Errorf("%w (last attempt: %w)", e.Err, last)
	return e
}
