package otelaxios

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/semconv/v1.39.0/httpconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/axiosgo/axios"
)

// instrumentation is one Install: the interceptors it registered share it.
// Its fields are set before the interceptors are, and only read after.
type instrumentation struct {
	key      string // the axios.Config.Meta key of the attempt under way
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
	duration httpconv.ClientRequestDuration
}

var installs atomic.Uint64

// clientKind is made once: each option costs an allocation.
var clientKind = trace.WithSpanKind(trace.SpanKindClient)

// newMetaKey returns a Meta key of one Install, so that two on one client
// never end each other's spans.
func newMetaKey() string {
	return "otelaxios.attempt#" + strconv.FormatUint(installs.Add(1), 10)
}

// start is the request side: it starts the attempt's span and injects its
// context. A Config that carries an attempt of ours is a resend (a retry
// through the instance, or a response's Config sent again): it counts the
// resend, and drops the trace headers the earlier attempt injected (a
// header of the same name the caller set stays).
func (in *instrumentation) start(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
	prev, _ := cfg.Meta[in.key].(*attempt)
	a := newAttempt(in, cfg, prev)
	if prev != nil {
		// Its outcome never reached endResponse or endError when it was
		// still open: an interceptor that runs before otelaxios's response
		// side resent it. End it, outcome unknown, rather than never.
		prev.end(ctx, a.start, outcome{})
	}
	a.opts = [...]trace.SpanStartOption{clientKind, trace.WithTimestamp(a.start), trace.WithAttributes(a.startAttributes()...)}
	ctx, a.span = in.tracer.Start(ctx, a.spanName(), a.opts[:]...)
	if cfg.Headers == nil {
		cfg.Headers = make(http.Header, 2)
	}
	if prev != nil {
		prev.dropInjected(cfg.Headers)
	}
	a.hdr = cfg.Headers
	in.prop.Inject(ctx, a)
	a.hdr = nil
	if cfg.Meta == nil {
		cfg.Meta = make(map[string]any, 1)
	}
	cfg.Meta[in.key] = a
	return cfg, nil
}

// endResponse is the response side's fulfilled handler.
func (in *instrumentation) endResponse(ctx context.Context, resp *axios.Response) (*axios.Response, error) {
	if resp != nil {
		if a := in.attemptOf(resp.Config); a != nil {
			a.end(ctx, time.Now(), outcome{resp: resp})
		}
	}
	return resp, nil
}

// endError is the response side's rejected handler. An error that carries
// no Config (a plain error of a request interceptor) tells nothing about
// which attempt failed; interceptors that fail after ours ran should fail
// with an *axios.Error carrying the Config, as this module's all do.
func (in *instrumentation) endError(ctx context.Context, err error) (*axios.Response, error) {
	if e, ok := axios.AsError(err); ok {
		cfg := e.Config
		if cfg == nil && e.Response != nil {
			cfg = e.Response.Config
		}
		if a := in.attemptOf(cfg); a != nil {
			a.end(ctx, time.Now(), outcome{resp: e.Response, err: err, axErr: e})
		}
	}
	return nil, err
}

func (in *instrumentation) attemptOf(cfg *axios.Config) *attempt {
	if cfg == nil {
		return nil
	}
	a, _ := cfg.Meta[in.key].(*attempt)
	return a
}
