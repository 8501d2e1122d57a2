package otelaxios_test

// Cases a review pass found otelaxios getting wrong: each test shows what a
// user hits.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/otelaxios"
)

// A service forwards the baggage header it received (a tenant, a request
// class) on its outgoing calls, with no baggage in its ctx. The first
// attempt sends it: the Baggage propagator injects nothing for an empty
// baggage, so the caller's header stays. On a retry through the instance,
// otelaxios deletes every field of its propagator before injecting again,
// "the trace headers the first attempt was sent with" — including the
// caller's own Baggage header, which it never injected: the retry goes out
// without it.
func TestRetryKeepsAPropagatorHeaderTheCallerSet(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Baggage"))
		first := len(got) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	h := newHarness(t)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	otelaxios.Install(api,
		otelaxios.WithTracerProvider(h.tp),
		otelaxios.WithMeterProvider(h.mp),
		otelaxios.WithPropagators(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})))
	api.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		if e, ok := axios.AsError(err); ok && e.Status() == http.StatusServiceUnavailable {
			return api.Request(ctx, *e.Config)
		}
		return nil, err
	})

	_, err := api.Get(context.Background(), "/orders", axios.Config{Headers: http.Header{"Baggage": {"tenant=acme"}}})
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"tenant=acme", "tenant=acme"}, got, "the retry is sent with the caller's header, as the first attempt was")
}

// fivePropagator injects five headers, more than an attempt keeps inline,
// the first with a value that changes at each injection.
type fivePropagator struct{ n *int }

func (p fivePropagator) Inject(_ context.Context, c propagation.TextMapCarrier) {
	*p.n++
	c.Set("X-P0", strconv.Itoa(*p.n))
	for i := 1; i < 5; i++ {
		c.Set("X-P"+strconv.Itoa(i), "v")
	}
}
func (fivePropagator) Extract(ctx context.Context, _ propagation.TextMapCarrier) context.Context {
	return ctx
}
func (fivePropagator) Fields() []string { return []string{"X-P0", "X-P1", "X-P2", "X-P3", "X-P4"} }

// A resend drops every header the earlier attempt injected, however many,
// and injects them again once: no header is sent twice.
func TestResendReplacesEveryInjectedHeader(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Clone())
		first := len(got) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	h := newHarness(t)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	var n int
	otelaxios.Install(api, otelaxios.WithTracerProvider(h.tp), otelaxios.WithMeterProvider(h.mp),
		otelaxios.WithPropagators(fivePropagator{&n}))
	api.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		if e, ok := axios.AsError(err); ok && e.Status() == http.StatusServiceUnavailable {
			return api.Request(ctx, *e.Config)
		}
		return nil, err
	})

	_, err := api.Get(context.Background(), "/orders")
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 2)
	assert.Equal(t, []string{"1"}, got[0].Values("X-P0"))
	assert.Equal(t, []string{"2"}, got[1].Values("X-P0"))
	for i := 1; i < 5; i++ {
		assert.Equal(t, []string{"v"}, got[1].Values("X-P"+strconv.Itoa(i)))
	}
}
