package otelaxios_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/otelaxios"
)

// One request: its span, the traceparent the server received, and the
// duration histogram.
func Example() {
	ctx := context.Background()
	// A server that answers with the traceparent header it received.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("traceparent"))
	}))
	defer srv.Close()

	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(ctx) }()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(ctx) }()

	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()
	otelaxios.Install(api,
		otelaxios.WithTracerProvider(tp),
		otelaxios.WithMeterProvider(mp),
		otelaxios.WithPropagators(propagation.TraceContext{}))

	resp, err := api.Get(ctx, "/search", axios.Config{Params: url.Values{"q": {"shoes"}, "api_key": {"s3cr3t"}}})
	if err != nil {
		log.Fatal(err)
	}

	span := spans.Ended()[0]
	fmt.Println("span:", span.Name(), span.SpanKind())
	for _, kv := range span.Attributes() {
		switch kv.Key {
		case "url.full":
			u, _ := url.Parse(kv.Value.AsString())
			fmt.Println("url.full ends with:", u.RequestURI())
		case "http.response.status_code":
			fmt.Println("http.response.status_code:", kv.Value.AsInt64())
		}
	}
	sc := span.SpanContext()
	fmt.Println("the server saw this span:", string(resp.Data) == fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID()))

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	m := rm.ScopeMetrics[0].Metrics[0]
	fmt.Println("metric:", m.Name, m.Unit, m.Data.(metricdata.Histogram[float64]).DataPoints[0].Count)
	// Output:
	// span: GET client
	// url.full ends with: /search?api_key=REDACTED&q=REDACTED
	// http.response.status_code: 200
	// the server saw this span: true
	// metric: http.client.request.duration s 1
}

// With the auth pair: otelaxios is installed first, so each attempt's own
// outcome reaches it. A refused request, the refresh's request and the
// retry are three spans; with RefreshContext, all three are children of
// the caller's span.
func Example_auth() {
	ctx := context.Background()
	srv := authtest.NewServer(authtest.Options{})
	defer srv.Close()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer func() { _ = tp.Shutdown(ctx) }()

	api := axios.Create(axios.Config{BaseURL: srv.URL})
	defer api.CloseIdleConnections()
	otelaxios.Install(api, otelaxios.WithTracerProvider(tp)) // first
	a, err := auth.New(auth.Options{
		Refresh: auth.JSONRefresher(api, auth.JSONEndpoint{
			URL:  "/refresh",
			Body: func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
		}),
		RefreshContext: otelaxios.RefreshContext, // the refresh's span under the caller's
	})
	if err != nil {
		log.Fatal(err)
	}
	a.Install(api)
	if err := a.SetToken(ctx, srv.Issue("demo")); err != nil {
		log.Fatal(err)
	}

	srv.Revoke() // the access token is refused from now on
	callerCtx, caller := tp.Tracer("shop").Start(ctx, "checkout")
	if _, err := api.Get(callerCtx, "/api/orders"); err != nil {
		log.Fatal(err)
	}
	caller.End()
	for _, s := range spans.Ended() {
		if s.Name() == "checkout" {
			continue
		}
		var path string
		var status, resends int64
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case "url.full":
				u, _ := url.Parse(kv.Value.AsString())
				path = u.Path
			case "http.response.status_code":
				status = kv.Value.AsInt64()
			case "http.request.resend_count":
				resends = kv.Value.AsInt64()
			}
		}
		under := s.Parent().SpanID() == caller.SpanContext().SpanID()
		fmt.Println(s.Name(), path, status, s.Status().Code, "resends:", resends, "under checkout:", under)
	}
	// Output:
	// GET /api/orders 401 Error resends: 0 under checkout: true
	// POST /refresh 200 Unset resends: 0 under checkout: true
	// GET /api/orders 200 Unset resends: 1 under checkout: true
}
