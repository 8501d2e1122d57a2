package otelaxios

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.39.0"
	"go.opentelemetry.io/otel/semconv/v1.39.0/httpconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/axiosgo/axios"
)

// ScopeName is the instrumentation scope of the tracer and the meter.
const ScopeName = "github.com/axiosgo/axios/otelaxios"

// durationBuckets are the bucket boundaries, in seconds, of the
// http.client.request.duration histogram: the ones the HTTP semantic
// conventions recommend. A view the program registers wins over them.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// Option configures [Install].
type Option func(*options)

type options struct {
	tp   trace.TracerProvider
	mp   metric.MeterProvider
	prop propagation.TextMapPropagator
}

// WithTracerProvider sets where the spans go; the default, and the value
// of a nil tp, is otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tp = tp }
}

// WithMeterProvider sets where the duration histogram goes; the default,
// and the value of a nil mp, is otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.mp = mp }
}

// WithPropagators sets what is injected into each request's headers; the
// default, and the value of a nil p, is otel.GetTextMapPropagator(), which
// injects nothing until the program sets one (such as
// propagation.TraceContext{}).
func WithPropagators(p propagation.TextMapPropagator) Option {
	return func(o *options) { o.prop = p }
}

// Install registers on c a request interceptor that starts a CLIENT span
// for the attempt, a child of the span in the request's ctx, and injects
// its context into the request's headers; and a response interceptor pair
// that ends the span with the attempt's outcome and records its duration.
//
// Each span it starts ends once: with the response or error that reaches
// its response side, or, when an interceptor installed before it resends
// the attempt first, as the resend starts. An error that reaches the
// response side must carry the attempt's Config, as every [*axios.Error]
// of this module does; a plain error from an interceptor that runs between
// the two sides leaves that span open. A request that fails before the
// request side runs has no span: it was never sent.
//
// Install it once per client, before the client's other interceptors (see
// the package documentation). It is safe to call while requests run, as
// Use is; what it installs is safe for concurrent use. A failure to make
// the histogram goes to otel.Handle, and the client is traced without it.
func Install(c *axios.Client, opts ...Option) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.tp == nil {
		o.tp = otel.GetTracerProvider()
	}
	if o.mp == nil {
		o.mp = otel.GetMeterProvider()
	}
	if o.prop == nil {
		o.prop = otel.GetTextMapPropagator()
	}
	meter := o.mp.Meter(ScopeName, metric.WithSchemaURL(semconv.SchemaURL))
	duration, err := httpconv.NewClientRequestDuration(meter, metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		otel.Handle(err)
	}
	in := &instrumentation{
		key:      newMetaKey(),
		tracer:   o.tp.Tracer(ScopeName, trace.WithSchemaURL(semconv.SchemaURL)),
		prop:     o.prop,
		duration: duration,
	}
	c.Interceptors.Request.Use(in.start, nil)
	c.Interceptors.Response.Use(in.endResponse, in.endError)
}

// RefreshContext is an auth.Options.RefreshContext that carries the span
// and the baggage of the request that started a refresh, and none of its
// other values: the refresh's request is traced as a child of that
// request's span, beside its refused attempt and its retry.
//
//	a, err := auth.New(auth.Options{Refresh: r, RefreshContext: otelaxios.RefreshContext})
func RefreshContext(ctx context.Context) context.Context {
	out := context.Background()
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		out = trace.ContextWithSpanContext(out, sc)
	}
	if b := baggage.FromContext(ctx); b.Len() > 0 {
		out = baggage.ContextWithBaggage(out, b)
	}
	return out
}
