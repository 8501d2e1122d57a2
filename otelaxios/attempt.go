package otelaxios

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.39.0"
	"go.opentelemetry.io/otel/semconv/v1.39.0/httpconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/axiosgo/axios"
)

// attempt is one request attempt's span and what its end needs. It is kept
// in the attempt's Config.Meta; a resend of that Config carries it to the
// next attempt as prev. Its fields are set by the request side, before the
// Config goes on, and only read after; ended guards the one end.
type attempt struct {
	in     *instrumentation
	span   trace.Span
	start  time.Time
	method httpconv.RequestMethodAttr
	// original is the method as sent when it is not one the conventions
	// know (method is then "_OTHER").
	original string
	fullURL  string // redacted; "" when the URL does not parse
	host     string
	port     int
	resends  int
	ended    atomic.Bool
	// attrs and opts back the span's start attributes and options, so that
	// starting it allocates no slice of its own.
	attrs [6]attribute.KeyValue
	opts  [3]trace.SpanStartOption

	// The attempt is the carrier its trace context is injected through,
	// so that it knows which headers it set (a resend drops those, never
	// one the caller set): hdr is the request's header during Inject,
	// injected what Inject set (TraceContext and Baggage set at most three).
	hdr      http.Header
	injected [3][2]string
	more     [][2]string // beyond the three
	n        int
}

// Get returns the header value of key, for propagation.TextMapCarrier.
func (a *attempt) Get(key string) string { return a.hdr.Get(key) }

// Set sets a header and records it as injected.
func (a *attempt) Set(key, value string) {
	a.hdr.Set(key, value)
	if a.n < len(a.injected) {
		a.injected[a.n] = [2]string{key, value}
	} else {
		a.more = append(a.more, [2]string{key, value})
	}
	a.n++
}

// Keys returns the header's keys.
func (a *attempt) Keys() []string {
	return propagation.HeaderCarrier(a.hdr).Keys()
}

// dropInjected removes from h the headers this attempt injected that still
// hold the value it set.
func (a *attempt) dropInjected(h http.Header) {
	for i := 0; i < a.n; i++ {
		f := a.injected[min(i, len(a.injected)-1)]
		if i >= len(a.injected) {
			f = a.more[i-len(a.injected)]
		}
		if h.Get(f[0]) == f[1] {
			h.Del(f[0])
		}
	}
}

func newAttempt(in *instrumentation, cfg *axios.Config, prev *attempt) *attempt {
	a := &attempt{in: in, start: time.Now()}
	a.method, a.original = requestMethod(cfg.Method)
	if prev != nil {
		a.resends = prev.resends + 1
	}
	// FullURL is what the core will send to: BaseURL joined, Params added.
	if full, err := cfg.FullURL(); err == nil {
		if u, err := url.Parse(full); err == nil {
			a.fullURL = redactURL(u)
			a.host, a.port = serverOf(u)
		}
	}
	return a
}

// requestMethod returns the http.request.method of m as the core sends it
// (upper-cased; "" is GET), and the method itself when the conventions do
// not know it.
func requestMethod(m string) (httpconv.RequestMethodAttr, string) {
	switch m = strings.ToUpper(m); httpconv.RequestMethodAttr(m) {
	case "":
		return httpconv.RequestMethodGet, ""
	case httpconv.RequestMethodGet, httpconv.RequestMethodPost, httpconv.RequestMethodPut,
		httpconv.RequestMethodPatch, httpconv.RequestMethodDelete, httpconv.RequestMethodHead,
		httpconv.RequestMethodOptions, httpconv.RequestMethodConnect, httpconv.RequestMethodTrace,
		httpconv.RequestMethodQuery:
		return httpconv.RequestMethodAttr(m), ""
	}
	return httpconv.RequestMethodOther, m
}

// spanName is the method, or "HTTP" for one the conventions do not know.
func (a *attempt) spanName() string {
	if a.method == httpconv.RequestMethodOther {
		return "HTTP"
	}
	return string(a.method)
}

// startAttributes are the span's attributes known before the request is
// sent, given at its start so that samplers see them.
func (a *attempt) startAttributes() []attribute.KeyValue {
	attrs := a.attrs[:0]
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(string(a.method)))
	if a.original != "" {
		attrs = append(attrs, semconv.HTTPRequestMethodOriginal(a.original))
	}
	if a.fullURL != "" {
		attrs = append(attrs,
			semconv.URLFull(a.fullURL),
			semconv.ServerAddress(a.host),
			semconv.ServerPort(a.port))
	}
	if a.resends > 0 {
		attrs = append(attrs, semconv.HTTPRequestResendCount(a.resends))
	}
	return attrs
}

// outcome is how an attempt ended: a response, an error, both (a status
// that ValidateStatus rejected), or neither when it is not known.
type outcome struct {
	resp  *axios.Response
	err   error
	axErr *axios.Error // the *axios.Error in err's chain
}

// errorType is the outcome's error.type: the status code for a status of
// 400 or more, as the conventions say, whether or not ValidateStatus
// accepted it; else the axios error code (ERR_NETWORK, ERR_CANCELED,
// ECONNABORTED, ...), or the error's type for an error without one.
func (o outcome) errorType() string {
	switch {
	case o.resp != nil && o.resp.Status >= 400:
		return strconv.Itoa(o.resp.Status)
	case o.axErr != nil && o.axErr.Code != "":
		return o.axErr.Code
	case o.err != nil:
		return semconv.ErrorType(o.err).Value.AsString()
	}
	return ""
}

// end ends the span at now with the outcome and records the duration, the
// first time it is called. Attributes are built only for a span that
// records or a histogram that measures: with the no-op providers an
// attempt costs little more than its start.
func (a *attempt) end(ctx context.Context, now time.Time, o outcome) {
	if !a.ended.CompareAndSwap(false, true) {
		return
	}
	recording, measuring := a.span.IsRecording(), a.in.duration.Enabled(ctx)
	if !recording && !measuring {
		a.span.End()
		return
	}
	attrs := make([]attribute.KeyValue, 0, 6)
	if o.resp != nil {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(o.resp.Status))
		if v := protocolVersion(o.resp.Proto); v != "" {
			attrs = append(attrs, semconv.NetworkProtocolVersion(v))
		}
	}
	errType := o.errorType()
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	if recording {
		a.span.SetAttributes(attrs...)
		if errType != "" {
			// A status says why by itself; other failures say it in the
			// axios error's message, which never holds a header, a body
			// or a query.
			var desc string
			if o.resp == nil || o.resp.Status < 400 {
				desc = errType
				if o.axErr != nil {
					desc = o.axErr.Message
				}
			}
			a.span.SetStatus(codes.Error, desc)
		}
	}
	a.span.End(trace.WithTimestamp(now))
	if !measuring {
		return
	}
	attrs = append(attrs, semconv.HTTPRequestMethodKey.String(string(a.method)))
	if a.fullURL != "" {
		attrs = append(attrs, semconv.ServerAddress(a.host), semconv.ServerPort(a.port))
	}
	if a.span.SpanContext().IsSampled() {
		ctx = trace.ContextWithSpan(ctx, a.span) // for exemplars
	}
	a.in.duration.Inst().Record(ctx, now.Sub(a.start).Seconds(), metric.WithAttributes(attrs...))
}

// protocolVersion is network.protocol.version for a response's Proto, as
// the conventions write it: "1.1" for "HTTP/1.1", "2" for "HTTP/2.0", "3"
// for "HTTP/3.0"; "" when Proto is not HTTP/x.y (an Adapter's response may
// leave it empty).
func protocolVersion(proto string) string {
	v, ok := strings.CutPrefix(proto, "HTTP/")
	if !ok || v == "" {
		return ""
	}
	if major, minor, ok := strings.Cut(v, "."); ok && minor == "0" && major >= "2" {
		return major
	}
	return v
}
