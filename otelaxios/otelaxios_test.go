package otelaxios_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/otelaxios"
)

// recommendedBuckets are the HTTP semantic conventions' bucket boundaries
// for http.client.request.duration.
var recommendedBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

func hostPort(t *testing.T, rawURL string) (string, int64) {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	port, err := strconv.Atoi(u.Port())
	require.NoError(t, err)
	return u.Hostname(), int64(port)
}

func TestSpanAndMetricFollowHTTPClientConventions(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		accept    bool   // ValidateStatus accepts every status
		errorType string // "" when the attempt succeeded
	}{
		{name: "200", status: 200},
		{name: "404", status: 404, errorType: "404"},
		{name: "500", status: 500, errorType: "500"},
		// The conventions judge by the status, whatever ValidateStatus says.
		{name: "404 accepted by ValidateStatus", status: 404, accept: true, errorType: "404"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			srv := newServer(t)
			api := newClient(t, axios.Config{BaseURL: srv.URL})
			h.install(api)
			var cfg axios.Config
			if tc.accept {
				cfg.ValidateStatus = func(int) bool { return true }
			}
			_, err := api.Get(context.Background(), "/status/"+strconv.Itoa(tc.status), cfg)
			if tc.errorType != "" && !tc.accept {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
			}

			spans := h.ended()
			require.Len(t, spans, 1)
			span := spans[0]
			assert.Equal(t, "GET", span.Name())
			assert.Equal(t, trace.SpanKindClient, span.SpanKind())
			assert.Equal(t, otelaxios.ScopeName, span.InstrumentationScope().Name)
			host, port := hostPort(t, srv.URL)
			got := attrs(span.Attributes())
			assert.Equal(t, "GET", got["http.request.method"].AsString())
			assert.Equal(t, srv.URL+"/status/"+strconv.Itoa(tc.status), got["url.full"].AsString())
			assert.Equal(t, host, got["server.address"].AsString())
			assert.Equal(t, port, got["server.port"].AsInt64())
			assert.Equal(t, int64(tc.status), got["http.response.status_code"].AsInt64())
			assert.Equal(t, "1.1", got["network.protocol.version"].AsString())
			assert.NotContains(t, got, attribute.Key("http.request.resend_count"))
			if tc.errorType == "" {
				assert.NotContains(t, got, attribute.Key("error.type"))
				assert.Equal(t, codes.Unset, span.Status().Code)
			} else {
				assert.Equal(t, tc.errorType, got["error.type"].AsString())
				assert.Equal(t, codes.Error, span.Status().Code)
				assert.Empty(t, span.Status().Description, "the status code says why")
			}

			m, points := h.durations(t)
			assert.Equal(t, "s", m.Unit)
			require.Len(t, points, 1)
			p := points[0]
			assert.Equal(t, uint64(1), p.Count)
			assert.Equal(t, recommendedBuckets, p.Bounds)
			assert.InDelta(t, span.EndTime().Sub(span.StartTime()).Seconds(), p.Sum, 1e-9, "the span and the histogram time the same attempt")
			want := []attribute.KeyValue{
				attribute.String("http.request.method", "GET"),
				attribute.String("server.address", host),
				attribute.Int64("server.port", port),
				attribute.Int64("http.response.status_code", int64(tc.status)),
				attribute.String("network.protocol.version", "1.1"),
			}
			if tc.errorType != "" {
				want = append(want, attribute.String("error.type", tc.errorType))
			}
			assert.Equal(t, attribute.NewSet(want...), p.Attributes)
		})
	}
}

func TestTraceContextIsInjectedOnTheWire(t *testing.T) {
	h := newHarness(t)
	srv := newServer(t)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	h.install(api)

	ctx, parent := h.sdk.Tracer("test").Start(context.Background(), "parent")
	resp, err := api.Get(ctx, "/traceparent")
	parent.End()
	require.NoError(t, err)

	spans := h.ended()
	require.Len(t, spans, 2)
	client := spans[0]
	sc := client.SpanContext()
	assert.Equal(t, fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID()), string(resp.Data),
		"the server saw the attempt's own span as its parent")
	assert.Equal(t, parent.SpanContext().SpanID(), client.Parent().SpanID(), "the attempt is a child of the span in ctx")
	assert.Equal(t, parent.SpanContext().TraceID(), sc.TraceID())
}

func TestURLFullCarriesNoSecrets(t *testing.T) {
	h := newHarness(t)
	srv := newServer(t)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	h.install(api)

	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	u.User = url.UserPassword("alice", "hunter2")
	_, err = api.Get(context.Background(), u.String()+"/status/200?access_token=s3cr3t&page=2#frag-token", axios.Config{
		Params: url.Values{"api_key": {"k3y"}},
	})
	require.NoError(t, err)

	spans := h.ended()
	require.Len(t, spans, 1)
	full := attrs(spans[0].Attributes())["url.full"].AsString()
	want := "http://REDACTED:REDACTED@" + u.Host + "/status/200?access_token=REDACTED&page=REDACTED&api_key=REDACTED"
	assert.Equal(t, want, full)
	for _, kv := range spans[0].Attributes() {
		for _, secret := range []string{"alice", "hunter2", "s3cr3t", "k3y", "frag-token"} {
			assert.NotContains(t, kv.Value.Emit(), secret, "attribute %s", kv.Key)
		}
	}
}

func TestNetworkErrorIsAnErrorSpanWithItsCode(t *testing.T) {
	h := newHarness(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now: connection refused
	api := newClient(t, axios.Config{BaseURL: "http://" + addr})
	h.install(api)

	_, err = api.Get(context.Background(), "/status/200")
	var axErr *axios.Error
	require.ErrorAs(t, err, &axErr)
	require.Equal(t, axios.CodeNetwork, axErr.Code)

	spans := h.ended()
	require.Len(t, spans, 1)
	got := attrs(spans[0].Attributes())
	assert.Equal(t, axios.CodeNetwork, got["error.type"].AsString())
	assert.NotContains(t, got, attribute.Key("http.response.status_code"))
	assert.Equal(t, codes.Error, spans[0].Status().Code)
	assert.Equal(t, axErr.Message, spans[0].Status().Description)

	_, points := h.durations(t)
	require.Len(t, points, 1)
	dp := attrs(points[0].Attributes.ToSlice())
	assert.Equal(t, axios.CodeNetwork, dp["error.type"].AsString())
	assert.NotContains(t, dp, attribute.Key("http.response.status_code"))
}

func TestCanceledContextEndsTheSpan(t *testing.T) {
	t.Run("before the request", func(t *testing.T) {
		h := newHarness(t)
		srv := newServer(t)
		api := newClient(t, axios.Config{BaseURL: srv.URL})
		h.install(api)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := api.Get(ctx, "/status/200")
		require.True(t, axios.IsCancel(err))

		spans := h.ended()
		require.Len(t, spans, 1)
		assert.Equal(t, axios.CodeCanceled, attrs(spans[0].Attributes())["error.type"].AsString())
		assert.Equal(t, codes.Error, spans[0].Status().Code)
	})
	t.Run("while the server answers", func(t *testing.T) {
		h := newHarness(t)
		srv := newServer(t)
		api := newClient(t, axios.Config{BaseURL: srv.URL})
		h.install(api)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		ctx, cancelNow := context.WithCancel(ctx)
		time.AfterFunc(20*time.Millisecond, cancelNow)
		_, err := api.Get(ctx, "/hang")
		require.True(t, axios.IsCancel(err), "%v", err)

		spans := h.ended()
		require.Len(t, spans, 1)
		assert.Equal(t, axios.CodeCanceled, attrs(spans[0].Attributes())["error.type"].AsString())
		assert.NotContains(t, attrs(spans[0].Attributes()), attribute.Key("http.response.status_code"))
	})
	t.Run("past Config.Timeout", func(t *testing.T) {
		h := newHarness(t)
		srv := newServer(t)
		api := newClient(t, axios.Config{BaseURL: srv.URL, Timeout: 20 * time.Millisecond})
		h.install(api)
		_, err := api.Get(context.Background(), "/hang")
		require.Error(t, err)

		spans := h.ended()
		require.Len(t, spans, 1)
		assert.Equal(t, axios.CodeConnAborted, attrs(spans[0].Attributes())["error.type"].AsString())
	})
}

func TestUnknownMethodIsNamedHTTP(t *testing.T) {
	h := newHarness(t)
	srv := newServer(t)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	h.install(api)
	_, err := api.Request(context.Background(), axios.Config{Method: "purge", URL: "/status/204"})
	require.NoError(t, err)

	spans := h.ended()
	require.Len(t, spans, 1)
	assert.Equal(t, "HTTP", spans[0].Name())
	got := attrs(spans[0].Attributes())
	assert.Equal(t, "_OTHER", got["http.request.method"].AsString())
	assert.Equal(t, "PURGE", got["http.request.method_original"].AsString(), "as the core sends it: upper-cased")
}

func TestRequestThatFailsLaterInTheChainEndsItsSpan(t *testing.T) {
	cases := []struct {
		name      string
		intercept axios.RequestFulfilled
		errorType string
	}{
		{
			name: "an *axios.Error",
			intercept: func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
				return nil, &axios.Error{Message: "tenant: unknown", Code: axios.CodeBadOptionValue, Config: cfg}
			},
			errorType: axios.CodeBadOptionValue,
		},
		{
			name: "a panic",
			intercept: func(context.Context, *axios.Config) (*axios.Config, error) {
				panic("boom")
			},
			errorType: axios.CodeBadOptionValue,
		},
		{
			name: "canceled while it waits",
			intercept: func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
				<-ctx.Done()
				return nil, axios.ContextError(cfg, ctx.Err())
			},
			errorType: axios.CodeCanceled,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			srv := newServer(t)
			api := newClient(t, axios.Config{BaseURL: srv.URL})
			// In registration order, the interceptor runs after otelaxios's
			// request side: the span is open when it fails.
			api.Interceptors.Request.SetOrder(axios.FIFO)
			h.install(api)
			api.Interceptors.Request.Use(tc.intercept, nil)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			time.AfterFunc(10*time.Millisecond, cancel)
			_, err := api.Get(ctx, "/status/200")
			require.Error(t, err)

			spans := h.ended()
			require.Len(t, spans, 1)
			assert.Equal(t, tc.errorType, attrs(spans[0].Attributes())["error.type"].AsString())
			assert.Equal(t, codes.Error, spans[0].Status().Code)
		})
	}
}

func TestRequestThatFailsBeforeOtelaxiosHasNoSpan(t *testing.T) {
	h := newHarness(t)
	srv := newServer(t)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	h.install(api)
	// Registered later, it runs first (LIFO): the request is never sent.
	api.Interceptors.Request.Use(func(context.Context, *axios.Config) (*axios.Config, error) {
		return nil, errors.New("no tenant")
	}, nil)
	_, err := api.Get(context.Background(), "/status/200")
	require.Error(t, err)
	assert.Empty(t, h.spans.Started())
	_, points := h.durations(t)
	assert.Empty(t, points)
}

// A retry through the instance (interceptors.Retry here) resends the
// failed attempt's Config: each attempt is a span of its own, the resend
// counted, and the server sees each attempt's own traceparent.
func TestEachRetryIsASpanOfItsOwn(t *testing.T) {
	h := newHarness(t)
	srv := newServer(t)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	h.install(api)
	var mu sync.Mutex
	var sent []string
	api.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
		// Runs before otelaxios's request side (LIFO): route the first
		// attempt to a 503, the retry to /traceparent.
		mu.Lock()
		defer mu.Unlock()
		if len(sent) > 0 {
			cfg.URL = "/traceparent"
		}
		sent = append(sent, cfg.URL)
		return cfg, nil
	}, nil)
	api.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		if e, ok := axios.AsError(err); ok && e.Status() == http.StatusServiceUnavailable {
			return api.Request(ctx, *e.Config)
		}
		return nil, err
	})

	ctx, parent := h.sdk.Tracer("test").Start(context.Background(), "parent")
	resp, err := api.Get(ctx, "/status/503")
	parent.End()
	require.NoError(t, err)

	spans := h.ended()
	require.Len(t, spans, 3)
	first, retry := spans[0], spans[1]
	assert.Equal(t, "503", attrs(first.Attributes())["error.type"].AsString())
	assert.NotContains(t, attrs(first.Attributes()), attribute.Key("http.request.resend_count"))
	assert.Equal(t, int64(1), attrs(retry.Attributes())["http.request.resend_count"].AsInt64())
	assert.Equal(t, int64(200), attrs(retry.Attributes())["http.response.status_code"].AsInt64())
	assert.Equal(t, parent.SpanContext().SpanID(), first.Parent().SpanID())
	assert.Equal(t, parent.SpanContext().SpanID(), retry.Parent().SpanID(), "attempts are siblings under the caller's span")
	sc := retry.SpanContext()
	assert.Equal(t, fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID()), string(resp.Data),
		"the retry carries its own traceparent, not the first attempt's")
}

func TestConcurrentRequestsEachHaveOneSpanAndOneMeasurement(t *testing.T) {
	h := newHarness(t)
	srv := newServer(t)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	h.install(api)

	const workers, each = 16, 25
	statuses := []int{200, 404, 500}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				status := statuses[(w+i)%len(statuses)]
				_, _ = api.Get(context.Background(), "/status/"+strconv.Itoa(status))
			}
		}()
	}
	wg.Wait()

	assert.Len(t, h.spans.Started(), workers*each)
	assert.Len(t, h.ended(), workers*each)
	_, points := h.durations(t)
	var total uint64
	for _, p := range points {
		total += p.Count
	}
	assert.Equal(t, uint64(workers*each), total)
	assert.Len(t, points, len(statuses), "one series per status")
}

func TestDefaultsAreTheGlobalProviders(t *testing.T) {
	// With nothing configured, the globals are no-ops: the request goes out
	// as it would without otelaxios, and no trace header is added.
	srv := newServer(t)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	otelaxios.Install(api)
	resp, err := api.Get(context.Background(), "/traceparent")
	require.NoError(t, err)
	assert.Empty(t, string(resp.Data))
}

func TestViewOverridesTheRecommendedBuckets(t *testing.T) {
	// The recommended buckets are checked with every status above; a view
	// set by the program wins over them.
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader), sdkmetric.WithView(sdkmetric.NewView(
		sdkmetric.Instrument{Name: "http.client.request.duration"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: []float64{1}}},
	)))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	srv := newServer(t)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	otelaxios.Install(api, otelaxios.WithMeterProvider(mp))
	_, err := api.Get(context.Background(), "/status/200")
	require.NoError(t, err)
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	hist := rm.ScopeMetrics[0].Metrics[0].Data.(metricdata.Histogram[float64])
	assert.Equal(t, []float64{1}, hist.DataPoints[0].Bounds)
	assert.True(t, strings.HasPrefix(rm.ScopeMetrics[0].Scope.SchemaURL, "https://opentelemetry.io/schemas/"))
}
