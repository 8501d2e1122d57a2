package axios

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config describes one request, or, as [Client.Defaults], what every request
// of a client starts from. Each call merges the client's defaults and its own
// Config into a fresh copy (defaults < instance < request), so an interceptor
// that changes a header, a param or a Meta key changes that request alone.
//
// Scalars and functions: the request's value wins when it is not the zero
// value. Headers, Params and Meta: merged key by key, the request's keys over
// the instance's.
//
// A Config prints (fmt) and logs (log/slog) with its credentials redacted:
// see [Config.Format].
type Config struct {
	// Method is the HTTP method; "" means GET. It is upper-cased when the
	// request is sent, also when a request interceptor set it.
	Method string
	// URL is the request's URL, absolute or relative to BaseURL.
	URL string
	// BaseURL is joined to a relative URL as axios joins them: exactly one
	// slash between the two. An absolute or protocol-relative URL wins,
	// unless AllowAbsoluteURLs says no.
	BaseURL string
	// AllowAbsoluteURLs, set to false, joins every URL to BaseURL, absolute
	// or not, as axios's allowAbsoluteUrls: false does: a URL a user
	// supplied ("https://elsewhere/x") cannot take the request, and its
	// credentials, off BaseURL's host. nil: the instance's; neither set:
	// true. It has no effect without a BaseURL.
	AllowAbsoluteURLs *bool
	// Headers are sent with the request; merged per key, request over
	// instance (a key with no values removes the instance's, as axios's
	// null does).
	Headers http.Header
	// Params are added to the URL's query, after any query the URL already
	// has; merged per key, request over instance (a key with no values
	// removes the instance's).
	Params url.Values
	// PathParams fill the URL's "{name}" placeholders (BaseURL's too), each
	// value path-escaped, so "a/b" stays one segment and "." or ".." cannot
	// climb out of it (in the query, query-escaped, so "a&b=c" stays one
	// value). With PathParams set, a placeholder left without a
	// value fails the request with [CodeBadOptionValue] rather than being
	// sent as "%7Bname%7D". Merged per key, request over instance.
	PathParams map[string]string
	// ParamsSerializer writes Params as the query string; nil:
	// url.Values.Encode (keys sorted). [BracketParams] writes axios's
	// default "ids[]=1&ids[]=2" form.
	ParamsSerializer func(url.Values) string
	// Data is the body. nil sends none; []byte, string, json.RawMessage and
	// a *bytes.Buffer are sent as given. url.Values is a form, url-encoded
	// (multipart when the Content-Type says multipart/form-data). A
	// *FormData is multipart/form-data, streamed (see [FormData]).
	//
	// An io.Reader is streamed as the request is written, never read whole
	// first. An io.ReadSeeker (a file) is sent from where it is to its end,
	// with a Content-Length, and read again from there for a retry. Any
	// other reader (a pipe) is sent chunked, unless a Content-Length header
	// gives its length, and its first 1 MiB is kept: a retry of this
	// request (a copy of its Config sent through the instance, as the auth
	// pair's after a 401, or a 307 redirect) resends those bytes, and fails
	// with [CodeBadOptionValue] when more was read, rather than send a
	// partial body. Such a reader that is an io.Closer is closed when the
	// request ends, retries sent inside it included (with ResponseStream,
	// when the stream is closed), as net/http closes a request's body, so
	// the goroutine that feeds a pipe sees its Write fail. A file, even one
	// that cannot seek, is never closed.
	//
	// Anything else (a map, a struct) is encoded as JSON, as JSON.stringify
	// does (no HTML escaping), unless the Content-Type says
	// application/x-www-form-urlencoded or multipart/form-data: then it is
	// sent as that form, as axios does, its fields named as axios's
	// toFormData names them: a nested object's as a[b]=1, a flat array's
	// at the top as ids[]=1&ids[]=2, deeper arrays' and arrays of objects'
	// by index as a[b][0]=1; nulls are left out, and struct fields are
	// named as encoding/json names them. A value that cannot be encoded
	// (a func, a channel, a bare number under a form type) fails with
	// [CodeBadOptionValue]. The Content-Type follows the kind unless a
	// header sets it. Data set in the instance's defaults is shared by its
	// requests, not copied.
	Data any
	// Timeout bounds the request from dispatch until its body is read.
	// 0: the instance's, or none; [NoTimeout]: none, whatever the instance
	// says (axios's timeout: 0 on one request). Exceeding it fails with
	// [CodeConnAborted].
	Timeout time.Duration
	// ValidateStatus decides which statuses succeed; nil: 200 <= status < 300.
	ValidateStatus func(status int) bool
	// Auth sends HTTP Basic credentials.
	Auth *BasicAuth
	// Meta carries per-request data for interceptors, as custom config keys
	// do in axios (such as the _retry mark axios code sets on a request it
	// resends after a 401). Merged per key; the values are shared, not
	// copied.
	Meta map[string]any
	// ResponseType "" (the instance's, or bytes) and [ResponseBytes] read
	// the body into Response.Data; [ResponseStream] leaves it in
	// Response.Body for the caller to read and close.
	ResponseType ResponseType
	// MaxContentLength caps the response body in bytes, counted after
	// decoding (see [Response]). 0: the instance's, or no limit; -1: no
	// limit, whatever the instance says. A longer body fails with
	// [CodeBadResponse] as soon as it passes the cap, so a small compressed
	// body that would decode to gigabytes stops there. A ResponseStream body
	// is the caller's to bound, as in axios.
	MaxContentLength int64
	// MaxRedirects caps the redirects followed: 0 means up to 10 (net/http's
	// own default policy stops at the 10th); [NoRedirects] returns the 3xx
	// response itself. A longer chain fails with [CodeTooManyRedirects].
	MaxRedirects int
	// BeforeRedirect, when set, is called before each redirect is followed,
	// after the MaxRedirects check, with the next request (whose headers it
	// may change: drop a credential bound for another origin) and those
	// before it; an error stops there and fails the request with
	// [CodeBadRequest] wrapping it (http.ErrUseLastResponse returns the 3xx
	// instead), as does a redirect to a scheme other than http and https.
	// It runs on the request's goroutine.
	BeforeRedirect func(req *http.Request, via []*http.Request) error
	// OnUploadProgress is called as the body is sent.
	OnUploadProgress func(Progress)
	// OnDownloadProgress is called as the response body is read. It counts
	// the bytes as they arrive, before decoding, and its Total is the
	// Content-Length, which counts the same bytes, as in axios.
	OnDownloadProgress func(Progress)
	// Adapter sends the request; nil uses the client's resty client.
	Adapter Adapter
	// Timings, when true on the request or the instance, fills
	// Response.Timings with where the time went (DNS, connect, TLS, the
	// server's wait), as the default adapter's httptrace saw it.
	Timings bool

	// body is what the attempts of this request share about an io.Reader
	// Data (where a file started, the bytes kept of a pipe), so that a retry
	// of a copy of this Config sends the same bytes.
	body *bodyState
}

// NoTimeout, as a request's Config.Timeout, sends it with no timeout even
// when the instance has one, as axios's timeout: 0 on one request does.
const NoTimeout time.Duration = -1

// NoRedirects, as Config.MaxRedirects, follows no redirect: a 3xx response is
// returned (and judged by ValidateStatus) as it is, like axios's maxRedirects: 0.
const NoRedirects = -1

// BasicAuth is a user name and password for HTTP Basic authentication.
type BasicAuth struct {
	Username string
	Password string
}

// ResponseType says how the response body is delivered.
type ResponseType string

const (
	// ResponseBytes reads the body into Response.Data: the default, and the
	// way for one request to undo an instance's ResponseStream.
	ResponseBytes ResponseType = "bytes"
	// ResponseStream leaves the body unread in Response.Body, for large
	// downloads.
	ResponseStream ResponseType = "stream"
)

// Progress reports a transfer's state to OnUploadProgress and
// OnDownloadProgress.
type Progress struct {
	Loaded int64 // bytes so far
	Total  int64 // expected bytes, or -1 when unknown
	Bytes  int   // bytes in this step
	Upload bool
}

// Fraction returns Loaded/Total in [0, 1], or 0 when Total is unknown.
func (p Progress) Fraction() float64 {
	if p.Total <= 0 {
		return 0
	}
	return float64(p.Loaded) / float64(p.Total)
}

// mergeConfig returns a fresh copy of base overlaid with req. Maps are copied
// so the result shares no mutable state with either.
func mergeConfig(base, req *Config) *Config {
	out := new(Config)
	*out = *req
	if out.Method == "" {
		out.Method = base.Method
	}
	out.Method = upperMethod(out.Method)
	if out.URL == "" {
		out.URL = base.URL
	}
	if out.BaseURL == "" {
		out.BaseURL = base.BaseURL
	}
	out.Headers = mergeHeader(base.Headers, req.Headers)
	out.Params = mergeValues(base.Params, req.Params)
	if len(base.PathParams) > 0 {
		out.PathParams = mergeMap(base.PathParams, req.PathParams)
	} else if req.PathParams != nil {
		out.PathParams = maps.Clone(req.PathParams)
	}
	if out.ParamsSerializer == nil {
		out.ParamsSerializer = base.ParamsSerializer
	}
	if out.AllowAbsoluteURLs == nil {
		out.AllowAbsoluteURLs = base.AllowAbsoluteURLs
	}
	out.Timings = out.Timings || base.Timings
	out.Meta = mergeMap(base.Meta, req.Meta)
	if out.Data == nil {
		out.Data = base.Data
	}
	if out.Timeout == 0 {
		out.Timeout = base.Timeout
	}
	if out.ValidateStatus == nil {
		out.ValidateStatus = base.ValidateStatus
	}
	if out.Auth == nil {
		out.Auth = base.Auth
	}
	if out.Auth != nil {
		// A copy: an interceptor that changes it changes this request
		// alone, never the defaults or the caller's Config.
		auth := *out.Auth
		out.Auth = &auth
	}
	if out.ResponseType == "" {
		out.ResponseType = base.ResponseType
	}
	if out.MaxContentLength == 0 {
		out.MaxContentLength = base.MaxContentLength
	}
	if out.MaxRedirects == 0 {
		out.MaxRedirects = base.MaxRedirects
	}
	if out.BeforeRedirect == nil {
		out.BeforeRedirect = base.BeforeRedirect
	}
	if out.OnUploadProgress == nil {
		out.OnUploadProgress = base.OnUploadProgress
	}
	if out.OnDownloadProgress == nil {
		out.OnDownloadProgress = base.OnDownloadProgress
	}
	if out.Adapter == nil {
		out.Adapter = base.Adapter
	}
	return out
}

func upperMethod(m string) string {
	switch m {
	case "", http.MethodGet:
		return http.MethodGet
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions:
		return m
	}
	return strings.ToUpper(m)
}

// mergeHeader copies base then over. Keys are canonicalized so "usrId" set
// by one side and "Usrid" by the other are the same header. The value slices
// are copied into shared backing arrays, capacity-limited per key, so
// appending to one request's header never writes into another's or the
// defaults'.
func mergeHeader(base, over http.Header) http.Header {
	out := make(http.Header, len(base)+len(over))
	// Most headers have one value: size for that, and let append move on to
	// a new array for the rest (the slices already taken stay valid).
	all := make([]string, 0, len(base)+len(over))
	for _, h := range [2]http.Header{base, over} {
		for k, v := range h {
			start := len(all)
			all = append(all, v...)
			out[http.CanonicalHeaderKey(k)] = all[start:len(all):len(all)]
		}
	}
	return out
}

func mergeValues(base, over url.Values) url.Values {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := make(url.Values, len(base)+len(over))
	for k, v := range base {
		out[k] = append([]string(nil), v...)
	}
	for k, v := range over {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func mergeMap[V any](base, over map[string]V) map[string]V {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := make(map[string]V, len(base)+len(over))
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}

// FullURL returns the URL the request goes to: BaseURL joined with URL,
// PathParams filled in and Params added to its query, as axios's getUri. A URL
// that cannot be parsed gives an [*Error] with [CodeInvalidURL]; one whose
// scheme is not http or https, [CodeBadRequest]. It uses c alone; see
// [Client.GetURI] for a Config merged over an instance's defaults.
func (c *Config) FullURL() (string, error) {
	u, err := buildURL(c, true)
	if err != nil {
		return "", urlFailure(c, err)
	}
	return u, nil
}

// urlFailure is err, from buildURL, as the *Error a request fails with.
func urlFailure(cfg *Config, err error) *Error {
	code := CodeInvalidURL
	if ue, ok := err.(*urlError); ok && ue.code != "" {
		code = ue.code
	}
	return &Error{Message: err.Error(), Code: code, Config: cfg, Err: err}
}

// isAbsoluteURL mirrors axios's helpers/isAbsoluteURL: a scheme followed by
// "//", or a protocol-relative "//host".
func isAbsoluteURL(s string) bool {
	if strings.HasPrefix(s, "//") {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':' && i > 0:
			return strings.HasPrefix(s[i+1:], "//")
		default:
			return false
		}
	}
	return false
}

// combineURLs mirrors axios's helpers/combineURLs: exactly one slash between.
func combineURLs(base, rel string) string {
	if rel == "" {
		return base
	}
	return strings.TrimRight(base, "/") + "/" + strings.TrimLeft(rel, "/")
}

// urlError is a URL that cannot be sent; code, when set, is the axios code
// it fails with (CodeInvalidURL otherwise).
type urlError struct{ msg, code string }

func (e *urlError) Error() string { return e.msg }

// joinURL mirrors axios's buildFullPath: URL joined to BaseURL unless it is
// absolute and absolute URLs are allowed.
func joinURL(cfg *Config) string {
	if cfg.BaseURL == "" {
		return cfg.URL
	}
	if isAbsoluteURL(cfg.URL) && (cfg.AllowAbsoluteURLs == nil || *cfg.AllowAbsoluteURLs) {
		return cfg.URL
	}
	return combineURLs(cfg.BaseURL, cfg.URL)
}

// buildURL returns the URL cfg is sent to: joined, path params filled in,
// params added. strict parses the result even when nothing needs adding,
// for callers that have no later parse to rely on.
func buildURL(cfg *Config, strict bool) (string, error) {
	full := joinURL(cfg)
	if full == "" {
		return "", &urlError{msg: "invalid URL: empty"}
	}
	if len(cfg.PathParams) > 0 {
		var err error
		if full, err = fillPathParams(full, cfg.PathParams); err != nil {
			return "", err
		}
	}
	if strings.HasPrefix(full, "//") {
		// Protocol-relative: Go has no page to inherit a scheme from.
		full = "http:" + full
	}
	if strings.ContainsAny(full, "\t\n\r") {
		// WHATWG's URL parser, and so axios, drops tabs and newlines.
		full = tabsAndNewlines.Replace(full)
	}
	full = escapeQuery(full)
	params := cfg.Params
	if !strict && len(params) == 0 && hasHTTPHost(full) {
		// The common case needs no parse here: http.NewRequest parses the
		// URL anyway, and its parse error is reported as ERR_INVALID_URL.
		return full, nil
	}
	u, err := url.Parse(full)
	if err != nil {
		return "", &urlError{msg: "invalid URL: " + redactURLError(err)}
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		// axios's http adapter: "Unsupported protocol ftp:", ERR_BAD_REQUEST.
		return "", &urlError{msg: "unsupported protocol " + strconv.Quote(u.Scheme+":"), code: CodeBadRequest}
	}
	if u.Scheme == "" || u.Host == "" {
		return "", &urlError{msg: "invalid URL " + strconv.Quote(redactURL(u)) + ": need an absolute URL or a BaseURL"}
	}
	if len(params) == 0 {
		return full, nil
	}
	var enc string
	if cfg.ParamsSerializer != nil {
		enc = cfg.ParamsSerializer(params)
	} else {
		enc = params.Encode()
	}
	switch {
	case enc == "":
	case u.RawQuery == "":
		u.RawQuery = enc
	default:
		u.RawQuery += "&" + enc
	}
	return escapeQuery(u.String()), nil
}

var tabsAndNewlines = strings.NewReplacer("\t", "", "\n", "", "\r", "")

// redactedURL is FullURL with every path param's value "REDACTED", for
// logs and printed values.
func (c *Config) redactedURL() (string, error) {
	cp := *c
	cp.PathParams = make(map[string]string, len(c.PathParams))
	for k := range c.PathParams {
		cp.PathParams[k] = redacted
	}
	return cp.FullURL()
}

// escapeQuery percent-encodes the bytes of s's query that the WHATWG URL
// parser, and so axios, encodes in an http(s) URL's query: controls, space,
// double and single quotes, '<', '>' and every non-ASCII byte. Go's
// url.Parse keeps a query as it is given, and net/http would put a raw
// space on the request line, which servers refuse. s is returned as it is
// when nothing needs encoding.
func escapeQuery(s string) string {
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return s
	}
	end := len(s)
	if h := strings.IndexByte(s[q:], '#'); h >= 0 {
		end = q + h
	}
	i := q + 1
	for i < end && !queryEscapes(s[i]) {
		i++
	}
	if i == end {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for ; i < end; i++ {
		if c := s[i]; queryEscapes(c) {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	b.WriteString(s[end:])
	return b.String()
}

// queryEscapes reports whether c is in WHATWG's special-query
// percent-encode set.
func queryEscapes(c byte) bool {
	return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c >= 0x7f
}

// fillPathParams replaces each "{name}" in s that params names with its
// path-escaped value, or query-escaped after the '?', where a path-escaped
// "&" or "=" would add a parameter. A placeholder params does not name is
// an error.
func fillPathParams(s string, params map[string]string) (string, error) {
	var b strings.Builder
	inQuery := false
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			break
		}
		end += open
		name := s[open+1 : end]
		v, ok := params[name]
		if !ok {
			return "", &urlError{msg: "path param " + strconv.Quote(name) + " has no value in PathParams", code: CodeBadOptionValue}
		}
		inQuery = inQuery || strings.IndexByte(s[:open], '?') >= 0
		b.WriteString(s[:open])
		if inQuery {
			b.WriteString(url.QueryEscape(v))
		} else {
			b.WriteString(escapePathParam(v))
		}
		s = s[end+1:]
	}
	if b.Len() == 0 {
		return s, nil
	}
	b.WriteString(s)
	return b.String(), nil
}

// escapePathParam escapes v as one path segment: url.PathEscape, and the
// dot segments "." and ".." escaped too, since a server that cleans the path
// would otherwise climb out of the segment.
func escapePathParam(v string) string {
	switch v {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(v)
}

// BracketParams is a [Config.ParamsSerializer] that writes params as axios's
// default serializer does: a key with several values gets "[]" ("ids[]=1&
// ids[]=2"), keys are sorted, and values are escaped as axios's buildURL
// escapes them (encodeURIComponent, then ':', '$', ',', '[', ']' kept and a
// space as '+'). A key with one value is written bare, since url.Values
// cannot tell it from a one-element array.
func BracketParams(params url.Values) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vs := params[k]
		key := axiosEscape(k)
		if len(vs) > 1 {
			// axios writes {"ids[]": [1, 2]} with one pair of brackets.
			key = strings.TrimSuffix(key, "[]") + "[]"
		}
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(key)
			b.WriteByte('=')
			b.WriteString(axiosEscape(v))
		}
	}
	return b.String()
}

// axiosEscape is axios's buildURL encode: encodeURIComponent, which keeps
// A-Z a-z 0-9 - _ . ! ~ * ' ( ), then ':', '$', ',', '[' and ']' unescaped
// again and '%20' as '+'.
func axiosEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-_.!~*'():$,[]", c) >= 0:
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// hasHTTPHost reports whether s starts with http:// or https:// (any case)
// followed by a host.
func hasHTTPHost(s string) bool {
	var rest string
	switch {
	case len(s) > 7 && strings.EqualFold(s[:7], "http://"):
		rest = s[7:]
	case len(s) > 8 && strings.EqualFold(s[:8], "https://"):
		rest = s[8:]
	default:
		return false
	}
	return rest[0] != '/' && rest[0] != '?' && rest[0] != '#'
}

// redactURLError keeps url.Parse's complaint without echoing the URL, which
// may carry a token in its query.
func redactURLError(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

// redactURL returns u without its query, fragment and password, for messages.
func redactURL(u *url.URL) string {
	v := *u
	v.RawQuery, v.Fragment, v.RawFragment = "", "", ""
	if v.User != nil {
		v.User = url.User(v.User.Username())
	}
	return v.String()
}

// RedactURL returns rawURL fit for logs and error messages: its query,
// fragment and password removed (a token often rides in one of them), its
// user name kept. Unparseable input gives "<invalid URL>". It is safe for
// concurrent use.
func RedactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<invalid URL>"
	}
	return redactURL(u)
}
