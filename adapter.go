package axios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// Adapter sends one request described by cfg and returns its response, as
// axios's adapters do. The client calls it after the request interceptors,
// with ctx bounded by cfg.Timeout, and applies ValidateStatus to what it
// returns, so an Adapter returns any status as a Response and an error only
// when no response arrived. It may be called from many goroutines at once,
// and must not keep cfg after it returns. A nil Config.Adapter uses the
// default adapter, which builds the *http.Request itself and sends it through
// the client's *http.Client (see [Client.Resty]).
type Adapter func(ctx context.Context, cfg *Config) (*Response, error)

// defaultMaxRedirects matches net/http's default policy.
const defaultMaxRedirects = 10

var errTooManyRedirects = errors.New("maximum number of redirects exceeded")

// errBodyTooLarge is the cause of a body over Config.MaxContentLength.
var errBodyTooLarge = errors.New("response body exceeds MaxContentLength")

// newResty builds the resty client whose *http.Client a Client sends
// through. Everything is set here, before any request: resty's setters race
// with requests in flight (resty issues #383, #564).
func newResty() *resty.Client {
	rc := resty.New()
	// resty.New keeps a cookie jar; axios on a server does not, and a jar
	// on the shared Default client would send one caller's session cookie
	// with another caller's requests. Users who want one set it on Resty().
	rc.SetCookieJar(nil)
	// resty.New leaves CheckRedirect nil: net/http's policy, whose error
	// after 10 redirects nothing could tell from a network error.
	rc.GetClient().CheckRedirect = redirectPolicy(defaultMaxRedirects, nil)
	return rc
}

// redirectPolicy is a CheckRedirect that follows up to limit redirects (0:
// the default; negative: none, the 3xx is returned as it is) to http and
// https URLs, and then asks before, if set.
func redirectPolicy(limit int, before func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	if limit == 0 {
		limit = defaultMaxRedirects
	}
	return func(req *http.Request, via []*http.Request) error {
		if limit < 0 {
			return http.ErrUseLastResponse
		}
		if len(via) > limit {
			return errTooManyRedirects
		}
		if s := req.URL.Scheme; s != "http" && s != "https" {
			return &refusedRedirect{msg: "redirect to unsupported protocol " + strconv.Quote(s+":")}
		}
		dropCredentials(req, via[0].URL)
		if before == nil {
			return nil
		}
		err := before(req, via)
		if err == nil || errors.Is(err, http.ErrUseLastResponse) {
			return err
		}
		return &refusedRedirect{msg: "redirect refused by BeforeRedirect: " + err.Error(), err: err}
	}
}

// dropCredentials removes the credentials from req, a redirect of a request
// to from, when it goes to another origin (scheme, host or port), as the
// fetch standard does; an upgrade from http to https on the same host and
// default ports keeps them. net/http drops them only for another host name,
// and keeps them for its subdomains and other ports.
func dropCredentials(req *http.Request, from *url.URL) {
	to := req.URL
	same := strings.EqualFold(to.Hostname(), from.Hostname())
	switch {
	case same && to.Scheme == from.Scheme && portOf(to) == portOf(from):
		return
	case same && from.Scheme == "http" && to.Scheme == "https" && portOf(from) == "80" && portOf(to) == "443":
		return
	}
	for _, k := range [...]string{"Authorization", "Proxy-Authorization", "Cookie", "Cookie2"} {
		req.Header.Del(k)
	}
}

// portOf is u's port, or its scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// refusedRedirect is a redirect that is not followed, and that a retry
// would only meet again: ERR_BAD_REQUEST, as a URL of that scheme or a
// request its BeforeRedirect refuses would be.
type refusedRedirect struct {
	msg string
	err error // BeforeRedirect's, if it refused
}

func (e *refusedRedirect) Error() string { return e.msg }
func (e *refusedRedirect) Unwrap() error { return e.err }

// send is the default adapter: it builds the request from cfg and sends it
// through the resty client's *http.Client.
func (c *Client) send(ctx context.Context, cfg *Config) (*Response, error) {
	var trace *timingTrace
	if cfg.Timings {
		trace = &timingTrace{start: time.Now()}
		ctx = trace.withTrace(ctx)
	}
	req, err := newRequest(ctx, cfg)
	if err != nil {
		return nil, err
	}
	hc := c.Resty().GetClient()
	if cfg.MaxRedirects != 0 || cfg.BeforeRedirect != nil {
		// A copy with this request's own policy; the Transport, and so the
		// connections, are shared.
		own := *hc
		own.CheckRedirect = redirectPolicy(cfg.MaxRedirects, cfg.BeforeRedirect)
		hc = &own
	}
	if srcs, _ := oneShotSources(cfg); len(srcs) > 0 {
		stop := context.AfterFunc(ctx, func() {
			for _, s := range srcs {
				s.interrupt()
			}
		})
		defer stop()
	}
	start := time.Now()
	raw, err := hc.Do(req)
	if err != nil || cfg.ResponseType != ResponseStream {
		// A stream's upload may go on while it is read (full duplex).
		endProgress(req.Body)
	}
	if err == nil {
		if pe := panicOf(req.Body); pe != nil {
			// The server answered before net/http saw the read error the
			// panic became: the request still fails with it.
			err = pe
		}
	}
	if err != nil {
		if raw != nil && raw.Body != nil {
			_ = raw.Body.Close()
		}
		return nil, &Error{Message: err.Error(), Config: cfg, Request: req, Err: err}
	}

	resp := &Response{
		Status:     raw.StatusCode,
		StatusText: statusText(raw),
		Headers:    raw.Header,
		Config:     cfg,
		Request:    raw.Request,
		Proto:      raw.Proto,
	}
	if trace != nil {
		resp.Timings = trace.result()
	}
	if resp.Request == nil {
		resp.Request = req
	}
	// Progress counts the bytes as they arrive, before decoding, as axios
	// does: Total is the Content-Length, which counts the same bytes.
	var rd io.ReadCloser = raw.Body
	if cfg.OnDownloadProgress != nil {
		rd = &progressReader{rc: raw.Body, total: raw.ContentLength, fn: cfg.OnDownloadProgress}
	}
	length := raw.ContentLength
	if raw.Body == http.NoBody || cfg.Method == http.MethodHead {
		length = 0 // HEAD reports the resource's length, not the body's
	}
	if codings := contentCodings(resp.Request, raw, length); codings != nil {
		rd = newDecodeReader(rd, codings)
		// They describe the bytes on the wire, not the decoded ones:
		// net/http's Transport drops them too when it decodes.
		raw.Header.Del("Content-Encoding")
		raw.Header.Del("Content-Length")
		length = -1
	}
	if cfg.ResponseType == ResponseStream {
		resp.Body = rd
		resp.Duration = time.Since(start)
		return resp, nil
	}
	resp.Data, err = readBody(rd, length, cfg.MaxContentLength)
	_ = rd.Close()
	resp.Duration = time.Since(start)
	if err != nil {
		e := &Error{Message: err.Error(), Config: cfg, Request: resp.Request, Response: resp, Err: err}
		if errors.Is(err, errBadEncoding) {
			e.Code = CodeBadResponse
		}
		return nil, e
	}
	return resp, nil
}

// newRequest builds the *http.Request cfg describes: its URL, headers, body
// and Basic credentials. It changes cfg only as [Config.Data] says (a read
// io.Reader's bytes, a default Content-Type); what belongs to this attempt
// alone (Basic credentials, the User-Agent marker) goes into a copy of the
// headers, so a retry of cfg starts from what the caller and the
// interceptors set.
func newRequest(ctx context.Context, cfg *Config) (*http.Request, error) {
	fullURL, err := buildURL(cfg, false)
	if err != nil {
		return nil, urlFailure(cfg, err)
	}
	body, err := encodeBody(cfg)
	if err != nil {
		return nil, &Error{Message: err.Error(), Code: CodeBadOptionValue, Config: cfg, Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, cfg.Method, fullURL, nil)
	if err != nil {
		if isParseError(err) {
			return nil, &Error{Message: "invalid URL: " + causeText(err), Code: CodeInvalidURL, Config: cfg, Err: err}
		}
		return nil, &Error{Message: err.Error(), Code: CodeBadOptionValue, Config: cfg, Err: err}
	}
	if body != nil {
		switch {
		case body.n == 0:
			req.Body, req.ContentLength = http.NoBody, 0
		case body.n < 0:
			// A stream: chunked, unless the caller gave its length (net/http
			// sends req.ContentLength, never a Content-Length header).
			req.Body, req.ContentLength, req.GetBody = body, -1, body.again
			if n, err := strconv.ParseInt(cfg.Headers.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
				req.ContentLength = n
				body.n = n // the upload progress's Total
			}
		default:
			req.Body, req.ContentLength, req.GetBody = body, body.n, body.again
		}
	}

	if cfg.Headers == nil {
		cfg.Headers = make(http.Header)
	}
	h := cfg.Headers
	_, hasUA := h["User-Agent"]
	if !hasUA || cfg.Auth != nil {
		h = h.Clone()
		if !hasUA {
			// A caller removed it: send none, as axios does, rather than
			// Go's. net/http omits a User-Agent whose value is empty.
			h["User-Agent"] = []string{""}
		}
	}
	req.Header = h
	if host := h["Host"]; len(host) > 0 && host[0] != "" {
		// net/http ignores a Host header; the field is what it sends.
		req.Host = host[0]
	}
	if cfg.Auth != nil {
		req.SetBasicAuth(cfg.Auth.Username, cfg.Auth.Password)
	}
	return req, nil
}

func statusText(raw *http.Response) string {
	// raw.Status is "404 Not Found"; keep the server's words.
	if i := strings.IndexByte(raw.Status, ' '); i >= 0 && i+1 < len(raw.Status) {
		return raw.Status[i+1:]
	}
	return http.StatusText(raw.StatusCode)
}

const maxPrealloc = 1 << 20

// readBody reads r whole, in one allocation when the length is known. limit
// > 0 caps it.
func readBody(r io.Reader, length, limit int64) ([]byte, error) {
	if limit > 0 {
		if length > limit {
			return nil, errBodyTooLarge
		}
		r = io.LimitReader(r, limit+1)
	}
	if length == 0 {
		return nil, nil
	}
	// Trust a declared length only so far: a server may declare gigabytes
	// and send a few bytes.
	size := int64(512)
	if length > 0 {
		size = min(length+1, maxPrealloc) // +1 so reading EOF needs no growth
	}
	buf := make([]byte, 0, size)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
	if limit > 0 && int64(len(buf)) > limit {
		return nil, errBodyTooLarge
	}
	return buf, nil
}

// progressReader reports download progress as the body is read.
type progressReader struct {
	rc     io.ReadCloser
	total  int64
	loaded int64
	fn     func(Progress)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	if n > 0 {
		p.loaded += int64(n)
		if perr := report("Config.OnDownloadProgress", p.fn, Progress{Loaded: p.loaded, Total: p.total, Bytes: n}); perr != nil {
			return 0, perr
		}
	}
	return n, err
}

// report calls a progress callback, turning its panic into a read error:
// an upload's runs on net/http's goroutine, where a panic would take the
// process down, and a download's mid-body, where it would leave the body
// open. The request fails with an [*Error] whose Err is the [*PanicError].
func report(what string, fn func(Progress), p Progress) (err *PanicError) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{What: what, Value: v, Stack: debug.Stack()}
		}
	}()
	fn(p)
	return nil
}

func (p *progressReader) Close() error { return p.rc.Close() }

// classify turns an adapter's failure into an [*Error] with axios's code.
// parent is the caller's context; ctx is parent bounded by cfg.Timeout.
func classify(parent, ctx context.Context, cfg *Config, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Message: err.Error(), Config: cfg, Err: err}
	} else if e.Code != "" && e.Code != CodeNetwork {
		return err
	}
	if e.Config == nil {
		e.Config = cfg
	}
	var ended error // the caller's context's end, if that is what failed
	var replay *replayError
	var panicked *PanicError
	var refused *refusedRedirect
	switch {
	case errors.Is(err, context.Canceled) || parent.Err() == context.Canceled:
		ended = context.Canceled
	case parent.Err() == context.DeadlineExceeded:
		ended = context.DeadlineExceeded
	}
	switch {
	case ended != nil:
		ce := ContextError(cfg, withCause(ended, e.Err))
		e.Code, e.Message, e.Err = ce.Code, ce.Message, ce.Err
	case cfg.Timeout > 0 && (ctx.Err() == context.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded)):
		e.Code, e.Message = CodeConnAborted, "timeout of "+cfg.Timeout.String()+" exceeded"
		e.Err = withCause(context.DeadlineExceeded, e.Err)
	case isParseError(err):
		e.Code, e.Message = CodeInvalidURL, "invalid URL: "+causeText(err)
	case errors.Is(err, errTooManyRedirects):
		e.Code, e.Message = CodeTooManyRedirects, "Maximum number of redirects exceeded"
	case errors.As(err, &refused):
		e.Code, e.Message = CodeBadRequest, refused.Error()
	case errors.As(err, &panicked):
		e.Code, e.Message = CodeBadOptionValue, panicked.message()
	case errors.As(err, &replay):
		// A redirect's GetBody: the body could not be sent again.
		e.Code, e.Message = CodeBadOptionValue, replay.Error()
	case errors.Is(err, errBodyTooLarge):
		e.Code, e.Message = CodeBadResponse, fmt.Sprintf("maxContentLength size of %d exceeded", cfg.MaxContentLength)
	default:
		e.Code, e.Message = CodeNetwork, "Network Error: "+causeText(err)
	}
	return e
}

// withCause returns err, joined with sentinel unless it already wraps it.
func withCause(sentinel, err error) error {
	switch {
	case err == nil:
		return sentinel
	case errors.Is(err, sentinel):
		return err
	}
	return errors.Join(sentinel, err)
}

// isParseError reports whether err is url.Parse's failure.
func isParseError(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue) && ue.Op == "parse"
}

// causeText is err's text without the URL a *url.Error repeats, since a URL
// may carry a token in its query.
func causeText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Op == "parse" {
			return ue.Err.Error()
		}
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
