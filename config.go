package axios

import (
	"maps"
	"net/http"
	"net/url"
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
	// slash between the two. An absolute or protocol-relative URL wins.
	BaseURL string
	// Headers are sent with the request; merged per key, request over instance.
	Headers http.Header
	// Params are added to the URL's query, after any query the URL already
	// has; merged per key, request over instance.
	Params url.Values
	// Data is the body: nil sends none; []byte and string are sent as given;
	// an io.Reader is read once and its bytes put in Data, so a retry
	// through the instance sends the same bytes; an io.ReadSeeker (a file)
	// is sent from where it is to its end and rewound instead, not held in
	// memory (one that cannot seek, a pipe, is read once); url.Values is
	// sent as a form; anything else is encoded as JSON. The Content-Type
	// follows the kind unless a header sets it. Data set in the instance's
	// defaults is shared by its requests, not copied.
	Data any
	// Timeout bounds the request from dispatch until its body is read;
	// 0 means none. Exceeding it fails with [CodeConnAborted].
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
	// ResponseType "" reads the body into Response.Data; ResponseStream leaves
	// it in Response.Body for the caller to read and close.
	ResponseType ResponseType
	// MaxContentLength caps the response body in bytes, counted after
	// decoding (see [Response]); 0 means no limit. A longer body fails with
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
	// before it; an error stops there and fails the request with it, as
	// http.Client.CheckRedirect's does. It runs on the request's goroutine.
	BeforeRedirect func(req *http.Request, via []*http.Request) error
	// OnUploadProgress is called as the body is sent.
	OnUploadProgress func(Progress)
	// OnDownloadProgress is called as the response body is read. It counts
	// the bytes as they arrive, before decoding, and its Total is the
	// Content-Length, which counts the same bytes, as in axios.
	OnDownloadProgress func(Progress)
	// Adapter sends the request; nil uses the client's resty client.
	Adapter Adapter

	// seekStart remembers where an io.ReadSeeker body started, so a retry of
	// this config rewinds it there.
	seekStart int64
	seekSet   bool
}

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

// ResponseStream leaves the body unread in Response.Body, for large downloads.
const ResponseStream ResponseType = "stream"

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

func mergeMap(base, over map[string]any) map[string]any {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := make(map[string]any, len(base)+len(over))
	maps.Copy(out, base)
	maps.Copy(out, over)
	return out
}

// FullURL returns the URL the request goes to: BaseURL joined with URL, and
// Params added to its query, as axios's getUri. A URL that cannot be parsed
// gives an [*Error] with [CodeInvalidURL].
func (c *Config) FullURL() (string, error) {
	u, err := buildURL(c.BaseURL, c.URL, c.Params, true)
	if err != nil {
		return "", &Error{Message: err.Error(), Code: CodeInvalidURL, Config: c, Err: err}
	}
	return u, nil
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

type urlError struct{ msg string }

func (e *urlError) Error() string { return e.msg }

// buildURL joins base and rel and adds params. strict parses the result even
// when nothing needs adding, for callers that have no later parse to rely on.
func buildURL(base, rel string, params url.Values, strict bool) (string, error) {
	full := rel
	if base != "" && !isAbsoluteURL(rel) {
		full = combineURLs(base, rel)
	}
	if full == "" {
		return "", &urlError{"invalid URL: empty"}
	}
	if strings.HasPrefix(full, "//") {
		// Protocol-relative: Go has no page to inherit a scheme from.
		full = "http:" + full
	}
	if !strict && len(params) == 0 && hasHTTPHost(full) {
		// The common case needs no parse here: resty parses the URL anyway,
		// and classify reports its parse error as ERR_INVALID_URL.
		return full, nil
	}
	u, err := url.Parse(full)
	if err != nil {
		return "", &urlError{"invalid URL: " + redactURLError(err)}
	}
	if u.Scheme == "" || u.Host == "" {
		return "", &urlError{"invalid URL " + strconv.Quote(redactURL(u)) + ": need an absolute URL or a BaseURL"}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", &urlError{"invalid URL: unsupported scheme " + strconv.Quote(u.Scheme)}
	}
	if len(params) == 0 {
		return full, nil
	}
	enc := params.Encode()
	switch {
	case u.RawQuery == "":
		u.RawQuery = enc
	default:
		u.RawQuery += "&" + enc
	}
	return u.String(), nil
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
