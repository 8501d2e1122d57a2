package axios

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// redacted replaces a secret's value wherever a Config or a Response is
// printed or logged.
const redacted = "REDACTED"

// secretHeaderParts are substrings that make a header's name secret:
// Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key,
// X-Auth-Token, X-Csrf-Token, X-Session-Id, Xc-Auth, and identity proxies'
// signed JWTs (X-Goog-Iap-Jwt-Assertion, Cf-Access-Jwt-Assertion)...
var secretHeaderParts = []string{"token", "secret", "password", "passwd", "key", "session", "signature", "credential", "auth", "cookie", "jwt", "assertion"}

// IsSecretHeader reports whether a header named name (any case) carries a
// credential by its name: Authorization, Proxy-Authorization, Cookie,
// Set-Cookie, or a name that contains token, secret, password, passwd, key,
// session, signature, credential, auth, cookie, jwt or assertion. A formatted or logged
// [Config] or [Response] shows these headers' values as "REDACTED", and so
// does interceptors.Logger, which also takes more names. A header of any
// other name is shown: a token sent in a header named otherwise needs the
// Logger's LogRedactHeaders option. It is safe for concurrent use.
func IsSecretHeader(name string) bool {
	n := strings.ToLower(name)
	for _, p := range secretHeaderParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

// urlHeaders hold a URL, which may carry an OAuth code or a token in its
// query (canonical names).
var urlHeaders = []string{"Location", "Content-Location", "Referer"}

// redactHeader returns a copy of h fit to print: the values of secret
// headers replaced, and the URLs of Location, Content-Location and Referer
// redacted as redactURLValues does.
func redactHeader(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		switch {
		case IsSecretHeader(k):
			out[k] = []string{redacted}
		case slices.Contains(urlHeaders, http.CanonicalHeaderKey(k)):
			urls := make([]string, len(vs))
			for i, v := range vs {
				urls[i] = redactURLValues(v)
			}
			out[k] = urls
		default:
			out[k] = vs
		}
	}
	return out
}

// redactURLValues returns rawURL fit to print: the value of every query
// parameter and the whole user information replaced by "REDACTED", the
// fragment dropped; the path and the parameters' names kept. Unlike
// [RedactURL], which drops the query, it shows which parameters a request
// had; unlike interceptors.Logger, it keeps no value, since it cannot know
// which are secret. Unparseable input gives "<invalid URL>".
func redactURLValues(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<invalid URL>"
	}
	if u.User != nil {
		u.User = url.User(redacted)
	}
	u.Fragment, u.RawFragment = "", ""
	if u.RawQuery != "" {
		parts := strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' })
		for i, p := range parts {
			name, _, _ := strings.Cut(p, "=")
			parts[i] = name + "=" + redacted
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	u.ForceQuery = false
	return u.String()
}

// redactValues returns v's names, each with the one value "REDACTED".
func redactValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k := range v {
		out[k] = []string{redacted}
	}
	return out
}

// describeData says what a body is without showing it: its length for
// bytes and strings, else its type.
func describeData(data any) string {
	switch d := data.(type) {
	case []byte:
		return strconv.Itoa(len(d)) + " bytes"
	case json.RawMessage:
		return strconv.Itoa(len(d)) + " bytes"
	case string:
		return strconv.Itoa(len(d)) + " bytes"
	}
	return fmt.Sprintf("%T", data)
}

// describeRequest is req's method and URL, query values redacted. With
// path params in cfg, the URL is rebuilt from cfg with their values
// redacted, as Config's Format shows only their names: a path segment may
// be a token.
func describeRequest(req *http.Request, cfg *Config) string {
	if cfg != nil && len(cfg.PathParams) > 0 {
		if full, err := cfg.redactedURL(); err == nil {
			return req.Method + " " + redactURLValues(full)
		}
		return req.Method
	}
	if req.URL == nil {
		return req.Method
	}
	return req.Method + " " + redactURLValues(req.URL.String())
}

// fieldWriter writes a struct's non-zero fields in fmt's %+v shape, or in
// its %#v shape when sharp is set; a value shown by a description instead
// (a body's length) is a comment there.
type fieldWriter struct {
	f     fmt.State
	sharp bool
	n     int
}

func newFieldWriter(f fmt.State, verb rune, typeName string) *fieldWriter {
	w := &fieldWriter{f: f, sharp: verb == 'v' && f.Flag('#')}
	if w.sharp {
		_, _ = fmt.Fprint(f, typeName)
	}
	_, _ = fmt.Fprint(f, "{")
	return w
}

func (w *fieldWriter) name(name string) {
	switch {
	case w.n > 0 && w.sharp:
		_, _ = fmt.Fprint(w.f, ", ")
	case w.n > 0:
		_, _ = fmt.Fprint(w.f, " ")
	}
	w.n++
	_, _ = fmt.Fprint(w.f, name, ":")
}

// value writes v as %v or %#v would.
func (w *fieldWriter) value(name string, v any) {
	w.name(name)
	if w.sharp {
		_, _ = fmt.Fprintf(w.f, "%#v", v)
	} else {
		_, _ = fmt.Fprintf(w.f, "%v", v)
	}
}

// pointer writes the value p points to, as value does, marked as a pointer
// in Go syntax.
func (w *fieldWriter) pointer(name string, p any) {
	w.name(name)
	if w.sharp {
		_, _ = fmt.Fprintf(w.f, "&%#v", p)
	} else {
		_, _ = fmt.Fprintf(w.f, "%v", p)
	}
}

// note writes a description standing in for a value.
func (w *fieldWriter) note(name, desc string) {
	w.name(name)
	if w.sharp {
		_, _ = fmt.Fprint(w.f, "/* ", desc, " */")
	} else {
		_, _ = fmt.Fprint(w.f, desc)
	}
}

func (w *fieldWriter) end() { _, _ = fmt.Fprint(w.f, "}") }

// badVerb writes what fmt writes for a verb that does not apply, without
// the value: %x of a Config would otherwise hex-encode its headers.
func badVerb(f fmt.State, verb rune, typeName string) {
	_, _ = fmt.Fprintf(f, "%%!%c(%s)", verb, typeName)
}

// Format writes the Config with its secrets redacted, for %v, %+v, %s and
// %#v (in Go syntax) alike: the fields that are set, the URLs' user
// information and query values, the values of secret headers (see
// [IsSecretHeader]) and Auth.Password as "REDACTED", Data as its length or
// type, Meta as its keys, functions as "func". %q quotes the %v form.
//
// Config's methods that print take a value receiver, so that a Config
// printed by value is redacted too, not only a *Config.
func (c Config) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v', 's':
	case 'q':
		_, _ = fmt.Fprintf(f, "%q", fmt.Sprintf("%v", c))
		return
	default:
		badVerb(f, verb, "axios.Config")
		return
	}
	w := newFieldWriter(f, verb, "axios.Config")
	strField := func(name, v string) {
		if v != "" {
			w.value(name, v)
		}
	}
	strField("Method", c.Method)
	if c.URL != "" {
		w.value("URL", redactURLValues(c.URL))
	}
	if c.BaseURL != "" {
		w.value("BaseURL", redactURLValues(c.BaseURL))
	}
	if c.Headers != nil {
		w.value("Headers", redactHeader(c.Headers))
	}
	if c.AllowAbsoluteURLs != nil {
		w.value("AllowAbsoluteURLs", *c.AllowAbsoluteURLs)
	}
	if c.Params != nil {
		w.value("Params", redactValues(c.Params))
	}
	if c.PathParams != nil {
		// Keys only: a path segment may be a token (a reset link's).
		w.note("PathParams", fmt.Sprint(metaKeys(c.PathParams)))
	}
	if c.ParamsSerializer != nil {
		w.note("ParamsSerializer", "func")
	}
	if c.Data != nil {
		w.note("Data", describeData(c.Data))
	}
	if c.Timeout != 0 {
		w.value("Timeout", c.Timeout)
	}
	if c.ValidateStatus != nil {
		w.note("ValidateStatus", "func")
	}
	if c.Auth != nil {
		w.pointer("Auth", c.Auth)
	}
	if c.Meta != nil {
		w.note("Meta", fmt.Sprint(metaKeys(c.Meta)))
	}
	strField("ResponseType", string(c.ResponseType))
	if c.MaxContentLength != 0 {
		w.value("MaxContentLength", c.MaxContentLength)
	}
	if c.MaxRedirects != 0 {
		w.value("MaxRedirects", c.MaxRedirects)
	}
	if c.BeforeRedirect != nil {
		w.note("BeforeRedirect", "func")
	}
	if c.OnUploadProgress != nil {
		w.note("OnUploadProgress", "func")
	}
	if c.OnDownloadProgress != nil {
		w.note("OnDownloadProgress", "func")
	}
	if c.Adapter != nil {
		w.note("Adapter", "func")
	}
	if c.Timings {
		w.value("Timings", true)
	}
	w.end()
}

// metaKeys are what a Config shows of its Meta: the values are
// interceptors' state, which may hold a token (the auth pair's does).
func metaKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// LogValue is the Config as a slog group of its fields that are set,
// redacted as [Config.Format] redacts them; a nil Config is "<nil>".
func (c *Config) LogValue() slog.Value {
	if c == nil {
		return nilValue
	}
	return c.logValue()
}

// MarshalJSON writes the Config as LogValue does, so a Config logged by
// value through a JSON handler is redacted too.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(jsonOf(c.logValue())) }

func (c *Config) logValue() slog.Value {
	attrs := make([]slog.Attr, 0, 12)
	if c.Method != "" {
		attrs = append(attrs, slog.String("method", c.Method))
	}
	if c.URL != "" {
		attrs = append(attrs, slog.String("url", redactURLValues(c.URL)))
	}
	if c.BaseURL != "" {
		attrs = append(attrs, slog.String("base_url", redactURLValues(c.BaseURL)))
	}
	if c.Headers != nil {
		attrs = append(attrs, slog.Attr{Key: "headers", Value: group(redactHeader(c.Headers))})
	}
	if c.Params != nil {
		attrs = append(attrs, slog.Attr{Key: "params", Value: group(redactValues(c.Params))})
	}
	if c.Data != nil {
		attrs = append(attrs, slog.String("data", describeData(c.Data)))
	}
	if c.Timeout != 0 {
		attrs = append(attrs, slog.Duration("timeout", c.Timeout))
	}
	if c.Auth != nil {
		attrs = append(attrs, slog.Any("auth", c.Auth))
	}
	if c.Meta != nil {
		attrs = append(attrs, slog.Any("meta", metaKeys(c.Meta)))
	}
	if c.ResponseType != "" {
		attrs = append(attrs, slog.String("response_type", string(c.ResponseType)))
	}
	if c.MaxContentLength != 0 {
		attrs = append(attrs, slog.Int64("max_content_length", c.MaxContentLength))
	}
	if c.MaxRedirects != 0 {
		attrs = append(attrs, slog.Int("max_redirects", c.MaxRedirects))
	}
	return slog.GroupValue(attrs...)
}

// group is a header or query map as a slog group, in key order, several
// values joined.
func group[M ~map[string][]string](m M) slog.Value {
	attrs := make([]slog.Attr, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		attrs = append(attrs, slog.String(k, strings.Join(m[k], ", ")))
	}
	return slog.GroupValue(attrs...)
}

// Format writes the credentials with the password as "REDACTED", for %v,
// %+v, %s and %#v alike. It takes a value receiver, as [Config.Format]
// does.
func (a BasicAuth) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v', 's':
	case 'q':
		_, _ = fmt.Fprintf(f, "%q", fmt.Sprintf("%v", a))
		return
	default:
		badVerb(f, verb, "axios.BasicAuth")
		return
	}
	w := newFieldWriter(f, verb, "axios.BasicAuth")
	w.value("Username", a.Username)
	w.value("Password", redacted)
	w.end()
}

// LogValue is the credentials as a slog group, the password "REDACTED";
// nil is "<nil>".
func (a *BasicAuth) LogValue() slog.Value {
	if a == nil {
		return nilValue
	}
	return a.logValue()
}

// MarshalJSON writes the credentials as LogValue does, the password
// "REDACTED".
func (a BasicAuth) MarshalJSON() ([]byte, error) { return json.Marshal(jsonOf(a.logValue())) }

func (a *BasicAuth) logValue() slog.Value {
	return slog.GroupValue(slog.String("username", a.Username), slog.String("password", redacted))
}

// Format writes the Response with its secrets redacted, for %v, %+v, %s
// and %#v (in Go syntax) alike: the fields that are set, the values of
// secret headers (see [IsSecretHeader]) as "REDACTED", Data as its length
// (a token endpoint's body is a secret), Body as "stream", Request as its
// method and redacted URL, and Config as [Config.Format] writes it. %q
// quotes the %v form.
//
// It takes a value receiver, as [Config.Format] does.
func (r Response) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v', 's':
	case 'q':
		_, _ = fmt.Fprintf(f, "%q", fmt.Sprintf("%v", r))
		return
	default:
		badVerb(f, verb, "axios.Response")
		return
	}
	w := newFieldWriter(f, verb, "axios.Response")
	if r.Status != 0 {
		w.value("Status", r.Status)
	}
	if r.StatusText != "" {
		w.value("StatusText", r.StatusText)
	}
	if r.Headers != nil {
		w.value("Headers", redactHeader(r.Headers))
	}
	if r.Data != nil {
		w.note("Data", describeData(r.Data))
	}
	if r.Body != nil {
		w.note("Body", "stream")
	}
	if r.Duration != 0 {
		w.value("Duration", r.Duration)
	}
	if r.Proto != "" {
		w.value("Proto", r.Proto)
	}
	if r.Timings != nil {
		w.value("Timings", *r.Timings)
	}
	if r.Request != nil {
		w.note("Request", describeRequest(r.Request, r.Config))
	}
	if r.Config != nil {
		w.pointer("Config", r.Config)
	}
	w.end()
}

// LogValue is the Response as a slog group, redacted as [Response.Format]
// redacts it; a nil Response is "<nil>", as after a failed request.
func (r *Response) LogValue() slog.Value {
	if r == nil {
		return nilValue
	}
	return r.logValue()
}

// MarshalJSON writes the Response as LogValue does, so a Response logged by
// value through a JSON handler is redacted too.
func (r Response) MarshalJSON() ([]byte, error) { return json.Marshal(jsonOf(r.logValue())) }

func (r *Response) logValue() slog.Value {
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, slog.Int("status", r.Status))
	if r.StatusText != "" {
		attrs = append(attrs, slog.String("status_text", r.StatusText))
	}
	if r.Headers != nil {
		attrs = append(attrs, slog.Attr{Key: "headers", Value: group(redactHeader(r.Headers))})
	}
	if r.Data != nil {
		attrs = append(attrs, slog.String("data", describeData(r.Data)))
	}
	if r.Body != nil {
		attrs = append(attrs, slog.String("body", "stream"))
	}
	if r.Duration != 0 {
		attrs = append(attrs, slog.Duration("duration", r.Duration))
	}
	if r.Proto != "" {
		attrs = append(attrs, slog.String("proto", r.Proto))
	}
	if r.Request != nil {
		attrs = append(attrs, slog.String("request", describeRequest(r.Request, r.Config)))
	}
	if r.Config != nil {
		attrs = append(attrs, slog.Any("config", r.Config))
	}
	return slog.GroupValue(attrs...)
}

// nilValue is how a nil *Config, *Response or *BasicAuth logs, as fmt
// prints it.
var nilValue = slog.StringValue("<nil>")

// jsonOf is v as encoding/json writes what slog's JSON handler writes for
// it: a group as an object, a duration in nanoseconds, a LogValuer
// resolved first.
func jsonOf(v slog.Value) any {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		m := make(map[string]any, len(v.Group()))
		for _, a := range v.Group() {
			m[a.Key] = jsonOf(a.Value)
		}
		return m
	case slog.KindDuration:
		return int64(v.Duration())
	}
	return v.Any()
}
