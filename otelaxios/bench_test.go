package otelaxios_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/otelaxios"
)

// BenchmarkOverhead is the per-request cost of otelaxios: one GET of a
// small JSON body answered from memory (no network, so the numbers are the
// client's own work), in one run:
//
//   - bare: no otelaxios;
//   - noop: otelaxios with the defaults and no global provider set, so the
//     global no-op tracer, meter and propagator: what a library that
//     installs otelaxios costs a program that does not use OpenTelemetry;
//   - sdk: the SDK's tracer provider, sampling every span, with a span
//     processor that drops them; the SDK's meter provider aggregating the
//     histogram; the W3C propagator: the full cost but the export.
func BenchmarkOverhead(b *testing.B) {
	variants := []struct {
		name    string
		install func(b *testing.B, c *axios.Client)
	}{
		{"bare", func(*testing.B, *axios.Client) {}},
		{"noop", func(_ *testing.B, c *axios.Client) { otelaxios.Install(c) }},
		{"sdk", func(b *testing.B, c *axios.Client) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(dropSpans{}))
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() {
				_ = tp.Shutdown(context.Background())
				_ = mp.Shutdown(context.Background())
			})
			otelaxios.Install(c,
				otelaxios.WithTracerProvider(tp),
				otelaxios.WithMeterProvider(mp),
				otelaxios.WithPropagators(propagation.TraceContext{}))
		}},
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			api := axios.Create(axios.Config{})
			api.Resty().SetTransport(memoryTransport{})
			v.install(b, api)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				resp, err := api.Get(ctx, "http://api.test/users/1")
				if err != nil || len(resp.Data) != len(benchBody) {
					b.Fatal(err)
				}
			}
		})
	}
}

// dropSpans is a span processor that keeps nothing.
type dropSpans struct{}

func (dropSpans) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (dropSpans) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (dropSpans) Shutdown(context.Context) error                  { return nil }
func (dropSpans) ForceFlush(context.Context) error                { return nil }

const benchBody = `{"id":1,"name":"kim","email":"kim@example.com"}`

// memoryTransport answers every request with benchBody, without a network,
// as benchmarks/overhead_test.go's does.
type memoryTransport struct{}

func (memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Status:        "200 OK",
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(benchBody)),
		ContentLength: int64(len(benchBody)),
		Request:       req,
	}, nil
}
