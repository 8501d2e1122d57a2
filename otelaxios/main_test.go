package otelaxios_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/otelaxios"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// harness is an SDK tracer provider whose spans a SpanRecorder keeps, a
// meter provider read by hand, and a count of End calls per span, so that
// every test can check each span it started ended exactly once.
type harness struct {
	spans  *tracetest.SpanRecorder
	sdk    *sdktrace.TracerProvider
	tp     *countingProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	h.sdk = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(h.spans))
	h.tp = &countingProvider{TracerProvider: h.sdk}
	h.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() {
		ctx := context.Background()
		assert.NoError(t, h.sdk.Shutdown(ctx))
		assert.NoError(t, h.mp.Shutdown(ctx))
	})
	t.Cleanup(func() { h.tp.checkEachEndedOnce(t) })
	return h
}

// install puts otelaxios on c with the harness's providers and the W3C
// trace context propagator.
func (h *harness) install(c *axios.Client) {
	otelaxios.Install(c,
		otelaxios.WithTracerProvider(h.tp),
		otelaxios.WithMeterProvider(h.mp),
		otelaxios.WithPropagators(propagation.TraceContext{}))
}

// ended returns the spans ended so far, in the order they ended.
func (h *harness) ended() []sdktrace.ReadOnlySpan { return h.spans.Ended() }

// durations returns the data points of http.client.request.duration.
func (h *harness) durations(t *testing.T) (metricdata.Metrics, []metricdata.HistogramDataPoint[float64]) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, h.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelaxios.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			if m.Name == "http.client.request.duration" {
				hist, ok := m.Data.(metricdata.Histogram[float64])
				require.True(t, ok, "http.client.request.duration is a %T", m.Data)
				return m, hist.DataPoints
			}
		}
	}
	return metricdata.Metrics{}, nil
}

// countingProvider counts the End calls of every span its tracers start.
type countingProvider struct {
	trace.TracerProvider
	mu   sync.Mutex
	ends map[trace.SpanID]*atomic.Int32
}

func (p *countingProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return countingTracer{Tracer: p.TracerProvider.Tracer(name, opts...), p: p}
}

func (p *countingProvider) checkEachEndedOnce(t *testing.T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, n := range p.ends {
		assert.Equal(t, int32(1), n.Load(), "span %s ended %d times", id, n.Load())
	}
}

type countingTracer struct {
	trace.Tracer
	p *countingProvider
}

func (t countingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	_, span := t.Tracer.Start(ctx, name, opts...)
	n := new(atomic.Int32)
	t.p.mu.Lock()
	if t.p.ends == nil {
		t.p.ends = make(map[trace.SpanID]*atomic.Int32)
	}
	t.p.ends[span.SpanContext().SpanID()] = n
	t.p.mu.Unlock()
	cs := countingSpan{Span: span, ends: n}
	return trace.ContextWithSpan(ctx, cs), cs
}

type countingSpan struct {
	trace.Span
	ends *atomic.Int32
}

func (s countingSpan) End(opts ...trace.SpanEndOption) {
	s.ends.Add(1)
	s.Span.End(opts...)
}

// attrs returns a span's or data point's attributes by key.
func attrs(kvs []attribute.KeyValue) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value
	}
	return m
}

// newServer answers /status/{code} with that status, /traceparent with the
// traceparent header it got, and /hang only when the request ends.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(r.PathValue("code"))
		if err != nil {
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	mux.HandleFunc("/traceparent", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Header.Get("traceparent"))
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client whose idle connections are closed when the
// test ends, so goleak sees no leftover goroutines.
func newClient(t *testing.T, cfg axios.Config) *axios.Client {
	t.Helper()
	c := axios.Create(cfg)
	t.Cleanup(c.CloseIdleConnections)
	return c
}
