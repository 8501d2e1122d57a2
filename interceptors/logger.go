package interceptors

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/axiosgo/axios"
)

// Logger logs one line per request attempt through a *slog.Logger: method,
// URL, status (0 when no response arrived), duration and [Attempt] number,
// plus the error code and message on failure; headers only with
// [LogRequestHeaders] or [LogResponseHeaders].
//
// Secrets never reach the output: credential headers (those
// [axios.IsSecretHeader] names, and those given to [LogRedactHeaders]), the
// values of query parameters named like secrets ([LogRedactParams] adds
// names), and a URL's user information are logged as "REDACTED", also in
// the URLs of the Location, Content-Location and Referer headers;
// docs/interceptors.md lists the names. A token sent in a header of another
// name, such as an auth.Authenticator's Options.Header, is redacted once the
// name is given to LogRedactHeaders:
//
//	interceptors.NewLogger(l, interceptors.LogRequestHeaders(),
//		interceptors.LogRedactHeaders(authn.HeaderName()))
//
// Errors are logged with err.Error(), which for the core's errors holds no
// header value, body or query.
//
// Install it before the other interceptors (see the package doc), so it
// logs every attempt, retries included, exactly once. A Logger is safe for
// concurrent use and may be installed on several clients.
type Logger struct {
	log           *slog.Logger
	level         slog.Level
	errLevel      slog.Level
	reqHeaders    bool
	respHeaders   bool
	secretParams  map[string]bool
	secretHeaders map[string]bool
	key           string
}

// LoggerOption configures a [Logger] at [NewLogger].
type LoggerOption func(*Logger)

// LogLevel sets the level of successful attempts; the default is
// slog.LevelInfo.
func LogLevel(l slog.Level) LoggerOption { return func(lg *Logger) { lg.level = l } }

// LogErrorLevel sets the level of failed attempts; the default is
// slog.LevelWarn.
func LogErrorLevel(l slog.Level) LoggerOption { return func(lg *Logger) { lg.errLevel = l } }

// LogRequestHeaders adds the request's headers to each line, as a group
// named request_headers, with secrets redacted.
func LogRequestHeaders() LoggerOption { return func(lg *Logger) { lg.reqHeaders = true } }

// LogResponseHeaders adds the response's headers to each line, as a group
// named response_headers, with secrets redacted.
func LogResponseHeaders() LoggerOption { return func(lg *Logger) { lg.respHeaders = true } }

// LogRedactParams redacts the values of query parameters with these names
// (case-insensitive), besides the ones a Logger always redacts.
func LogRedactParams(names ...string) LoggerOption {
	return func(lg *Logger) {
		for _, n := range names {
			lg.secretParams[strings.ToLower(n)] = true
		}
	}
}

// LogRedactHeaders redacts the values of headers with these names
// (case-insensitive), besides the ones a Logger always redacts
// ([axios.IsSecretHeader]). Give it the header an API key or token is sent
// in when its name says nothing of it, such as an auth.Authenticator's
// HeaderName().
func LogRedactHeaders(names ...string) LoggerOption {
	return func(lg *Logger) {
		for _, n := range names {
			lg.secretHeaders[strings.ToLower(n)] = true
		}
	}
}

// Redacted replaces a secret's value in a Logger's output.
const Redacted = "REDACTED"

// NewLogger returns a Logger writing to l (nil: slog.Default()).
func NewLogger(l *slog.Logger, opts ...LoggerOption) *Logger {
	if l == nil {
		l = slog.Default()
	}
	lg := &Logger{
		log:           l,
		level:         slog.LevelInfo,
		errLevel:      slog.LevelWarn,
		secretParams:  map[string]bool{},
		secretHeaders: map[string]bool{},
		key:           metaKey("axios.log"),
	}
	for _, o := range opts {
		if o != nil {
			o(lg)
		}
	}
	return lg
}

// Install registers the Logger on c: a request interceptor that notes when
// the attempt starts, and a response interceptor that logs the outcome and
// passes it on unchanged.
func (lg *Logger) Install(c *axios.Client) {
	c.Interceptors.Request.Use(lg.start, nil)
	c.Interceptors.Response.Use(
		func(ctx context.Context, resp *axios.Response) (*axios.Response, error) {
			lg.logOutcome(ctx, resp, nil)
			return resp, nil
		},
		func(ctx context.Context, err error) (*axios.Response, error) {
			lg.logOutcome(ctx, nil, err)
			return nil, err
		},
	)
}

// logRecord is one attempt's state, kept in its Config's Meta. cfg ties it
// to the attempt: a retry's Config carries its predecessor's record, which
// tells start the attempt number and tells logOutcome it is not this
// attempt's.
type logRecord struct {
	cfg     *axios.Config
	start   time.Time
	attempt int
	logged  atomic.Bool
}

// start runs last among the request interceptors, when the Logger is
// installed first: it times the attempt from just before dispatch and the
// response side, which runs first, sees each attempt's own outcome before a
// retry replaces it. A retry nested inside an outer chain is recognised by
// its record (see logRecord), so a different order never logs an attempt
// twice.
func (lg *Logger) start(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
	attempt := Attempt(cfg)
	if prev, ok := cfg.Meta[lg.key].(*logRecord); ok && prev.attempt >= attempt {
		attempt = prev.attempt + 1
	}
	if attempt > 1 {
		setMeta(cfg, AttemptKey, attempt)
	}
	setMeta(cfg, lg.key, &logRecord{cfg: cfg, start: time.Now(), attempt: attempt})
	return cfg, nil
}

func (lg *Logger) logOutcome(ctx context.Context, resp *axios.Response, err error) {
	cfg := outcomeConfig(resp, err)
	var rec *logRecord
	if cfg != nil {
		if r, ok := cfg.Meta[lg.key].(*logRecord); ok && r.cfg == cfg {
			if !r.logged.CompareAndSwap(false, true) {
				return // an inner chain (a retry) logged this attempt already
			}
			rec = r
		}
	}
	level, msg := lg.level, "request"
	if err != nil {
		level, msg = lg.errLevel, "request failed"
	}
	if !lg.log.Enabled(ctx, level) {
		return
	}

	var axErr *axios.Error
	if err != nil {
		axErr, _ = axios.AsError(err)
		if axErr != nil && resp == nil {
			resp = axErr.Response
		}
	}
	attrs := make([]slog.Attr, 0, 9)
	if cfg != nil {
		attrs = append(attrs, slog.String("method", cfg.Method), slog.String("url", lg.configURL(cfg)))
	}
	status := 0
	if resp != nil {
		status = resp.Status
	}
	attrs = append(attrs, slog.Int("status", status))
	if rec != nil {
		attrs = append(attrs, slog.Duration("duration", time.Since(rec.start)), slog.Int("attempt", rec.attempt))
	} else {
		attrs = append(attrs, slog.Int("attempt", Attempt(cfg)))
	}
	if err != nil {
		if axErr != nil {
			attrs = append(attrs, slog.String("code", axErr.Code))
		}
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	if lg.reqHeaders {
		if h := requestHeaders(cfg, resp, axErr); h != nil {
			attrs = append(attrs, slog.Attr{Key: "request_headers", Value: lg.headerValue(h)})
		}
	}
	if lg.respHeaders && resp != nil && resp.Headers != nil {
		attrs = append(attrs, slog.Attr{Key: "response_headers", Value: lg.headerValue(resp.Headers)})
	}
	lg.log.LogAttrs(ctx, level, msg, attrs...)
}

// requestHeaders prefers the headers of the *http.Request that was sent,
// which include what the transport added (Basic credentials, Content-Type),
// over the Config's.
func requestHeaders(cfg *axios.Config, resp *axios.Response, axErr *axios.Error) http.Header {
	switch {
	case resp != nil && resp.Request != nil:
		return resp.Request.Header
	case axErr != nil && axErr.Request != nil:
		return axErr.Request.Header
	case cfg != nil:
		return cfg.Headers
	}
	return nil
}

// configURL is the URL cfg goes to, as the Logger logs it; path params
// are logged "REDACTED", as Config's Format hides them: a path segment may
// be a token.
func (lg *Logger) configURL(cfg *axios.Config) string {
	if len(cfg.PathParams) > 0 {
		cp := *cfg
		cp.PathParams = make(map[string]string, len(cfg.PathParams))
		for k := range cfg.PathParams {
			cp.PathParams[k] = Redacted
		}
		cfg = &cp
	}
	full, err := cfg.FullURL()
	if err != nil {
		return lg.redactURL(cfg.URL)
	}
	return lg.redactURL(full)
}

// redactURL returns rawURL as the Logger logs it: the values of secret query
// parameters replaced by "REDACTED", other parameters kept as they were
// encoded, the user information replaced by "REDACTED", and the fragment
// dropped (it is never sent, and OAuth's implicit flow puts tokens there).
// Unparseable input gives "<invalid URL>".
//
// It is axios.RedactURL's policy loosened for logs: axios.RedactURL drops
// the whole query, since an error message cannot know which parameters are
// secret; a Logger knows (its list and LogRedactParams), and keeps the
// others so a line still says which page was asked for.
func (lg *Logger) redactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<invalid URL>"
	}
	if u.User != nil {
		u.User = url.User(Redacted)
	}
	u.Fragment, u.RawFragment = "", ""
	u.RawQuery = lg.redactQuery(u.RawQuery)
	u.ForceQuery = false
	return u.String()
}

// redactQuery keeps the query's own encoding and order, replacing only the
// values of secret parameters. It splits on ';' as well as '&', since some
// servers do.
func (lg *Logger) redactQuery(q string) string {
	if q == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(q))
	for q != "" {
		i := strings.IndexAny(q, "&;")
		part, sep := q, ""
		if i >= 0 {
			part, sep, q = q[:i], q[i:i+1], q[i+1:]
		} else {
			q = ""
		}
		rawName, _, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			name = rawName
		}
		if lg.secretParam(name) {
			part = rawName + "=" + Redacted
		}
		b.WriteString(part)
		b.WriteString(sep)
	}
	return b.String()
}

// secretParamNames are query parameters redacted by exact name (lower case).
var secretParamNames = map[string]bool{
	"code": true, "key": true, "sig": true, "auth": true, "pwd": true,
}

// secretParamParts are substrings that make a query parameter's name
// secret: access_token, refresh_token, id_token, client_secret, apikey,
// jwt, client_assertion (RFC 7521), authorization...
var secretParamParts = []string{"token", "secret", "password", "passwd", "apikey", "api_key", "api-key", "signature", "credential", "session", "jwt", "authorization", "assertion"}

func (lg *Logger) secretParam(name string) bool {
	n := strings.ToLower(name)
	if secretParamNames[n] || lg.secretParams[n] {
		return true
	}
	return containsAny(n, secretParamParts)
}

func (lg *Logger) secretHeader(name string) bool {
	return axios.IsSecretHeader(name) || lg.secretHeaders[strings.ToLower(name)]
}

func containsAny(s string, parts []string) bool {
	for _, p := range parts {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// headerValue is h as a slog group, in key order, secrets redacted.
func (lg *Logger) headerValue(h http.Header) slog.Value {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		var v string
		switch {
		case lg.secretHeader(k):
			v = Redacted
		case urlHeaders[strings.ToLower(k)]:
			// A redirect's Location may carry an OAuth code or token.
			urls := make([]string, len(h[k]))
			for i, u := range h[k] {
				urls[i] = lg.redactURL(u)
			}
			v = strings.Join(urls, ", ")
		default:
			v = strings.Join(h[k], ", ")
		}
		attrs = append(attrs, slog.String(k, v))
	}
	return slog.GroupValue(attrs...)
}

// urlHeaders hold a URL, logged as redactURL gives it.
var urlHeaders = map[string]bool{"location": true, "content-location": true, "referer": true}
