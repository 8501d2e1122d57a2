// Package otelaxios traces and measures the requests of an [axios.Client]
// with OpenTelemetry: one CLIENT span per attempt, named and attributed as
// the HTTP client semantic conventions say, the W3C trace context
// (traceparent, tracestate) injected into the request's headers, and the
// http.client.request.duration histogram.
//
//	api := axios.Create(axios.Config{BaseURL: "https://api.example.com"})
//	otelaxios.Install(api) // first: before auth, Retry and the other interceptors
//	authn.Install(api)
//
// Each attempt that goes through the client's chain gets its own span: a
// retry through the instance (the auth pair's after a refresh, Retry's) and
// the refresh's own request, when its Refresher sends it through a client
// with otelaxios installed. Install it first on a client, so that its
// request side runs last (just before dispatch) and its response side runs
// first (before anything can retry): docs/otel.md explains the order and
// what happens in others. Give the pair [RefreshContext] as its
// auth.Options.RefreshContext to trace the refresh's request under the
// span of the request that started it.
//
// url.full never carries a query value, a fragment or the URL's user
// information. This package is the only one of the module that links
// OpenTelemetry: importing axios, auth or storage does not.
package otelaxios
