package otelaxios_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/otelaxios"
)

// authClient returns a client on srv with the auth pair refreshing through
// POST /refresh on the same client, and install called where the test
// wants otelaxios: before or after the pair.
func authClient(t *testing.T, srv *authtest.Server, first, then func(*axios.Client, *auth.Authenticator)) *axios.Client {
	t.Helper()
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	a, err := auth.New(auth.Options{
		Refresh: auth.JSONRefresher(api, auth.JSONEndpoint{
			URL:  "/refresh",
			Body: func(tok *oauth2.Token) any { return map[string]string{"refresh_token": tok.RefreshToken} },
		}),
	})
	require.NoError(t, err)
	first(api, a)
	then(api, a)
	require.NoError(t, a.SetToken(context.Background(), srv.Issue("demo")))
	return api
}

func spanAttrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	return attrs(s.Attributes())
}

// Installed first, otelaxios sees each attempt's own outcome: the refused
// attempt, the refresh's request and the retry are three spans, each ended
// once with its own status.
func TestRefusedAttemptRefreshAndRetryAreThreeSpans(t *testing.T) {
	h := newHarness(t)
	srv := authtest.NewServer(authtest.Options{})
	t.Cleanup(srv.Close)
	api := authClient(t, srv,
		func(api *axios.Client, _ *auth.Authenticator) { h.install(api) },
		func(api *axios.Client, a *auth.Authenticator) { a.Install(api) })

	srv.Revoke() // the token the client holds is refused from now on
	ctx, parent := h.sdk.Tracer("test").Start(context.Background(), "parent")
	_, err := api.Get(ctx, "/api/orders")
	parent.End()
	require.NoError(t, err)
	require.EqualValues(t, 1, srv.Refreshes())

	spans := h.ended()
	require.Len(t, spans, 4, "three attempts and the parent")
	refused, refresh, retry := spans[0], spans[1], spans[2]

	assert.Equal(t, "GET", refused.Name())
	assert.Equal(t, int64(401), spanAttrs(refused)["http.response.status_code"].AsInt64())
	assert.Equal(t, "401", spanAttrs(refused)["error.type"].AsString())
	assert.Equal(t, codes.Error, refused.Status().Code)
	assert.Equal(t, srv.URL+"/api/orders", spanAttrs(refused)["url.full"].AsString())

	assert.Equal(t, "POST", refresh.Name())
	assert.Equal(t, srv.URL+"/refresh", spanAttrs(refresh)["url.full"].AsString())
	assert.Equal(t, int64(200), spanAttrs(refresh)["http.response.status_code"].AsInt64())
	assert.Equal(t, codes.Unset, refresh.Status().Code)
	// The pair runs the refresh on a context of its own, with none of the
	// request's values unless RefreshContext picks some: its span starts a
	// trace of its own (TestRefreshContextMakesTheRefreshAChildSpan).
	assert.False(t, refresh.Parent().IsValid())

	assert.Equal(t, "GET", retry.Name())
	assert.Equal(t, int64(200), spanAttrs(retry)["http.response.status_code"].AsInt64())
	assert.Equal(t, int64(1), spanAttrs(retry)["http.request.resend_count"].AsInt64())
	assert.Equal(t, codes.Unset, retry.Status().Code)

	for _, s := range []sdktrace.ReadOnlySpan{refused, retry} {
		assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), "%s: a child of the caller's span", s.Name())
	}
	assert.NotEqual(t, refused.SpanContext().SpanID(), retry.SpanContext().SpanID())

	_, points := h.durations(t)
	var total uint64
	for _, p := range points {
		total += p.Count
	}
	assert.Equal(t, uint64(3), total, "one measurement per attempt")
}

// With otelaxios.RefreshContext, the refresh's request is a child of the
// span of the request that started it, and the baggage goes with it; no
// other value of that request's context does.
func TestRefreshContextMakesTheRefreshAChildSpan(t *testing.T) {
	h := newHarness(t)
	srv := authtest.NewServer(authtest.Options{})
	t.Cleanup(srv.Close)
	api := newClient(t, axios.Config{BaseURL: srv.URL})
	type otherKey struct{}
	var sawBaggage string
	var sawOther any
	endpoint := auth.JSONRefresher(api, auth.JSONEndpoint{
		URL:  "/refresh",
		Body: func(tok *oauth2.Token) any { return map[string]string{"refresh_token": tok.RefreshToken} },
	})
	a, err := auth.New(auth.Options{
		RefreshContext: otelaxios.RefreshContext,
		Refresh: func(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
			sawBaggage = baggage.FromContext(ctx).Member("tenant").Value()
			sawOther = ctx.Value(otherKey{})
			return endpoint(ctx, tok)
		},
	})
	require.NoError(t, err)
	h.install(api)
	a.Install(api)
	require.NoError(t, a.SetToken(context.Background(), srv.Issue("demo")))

	srv.Revoke()
	member, err := baggage.NewMember("tenant", "acme")
	require.NoError(t, err)
	bag, err := baggage.New(member)
	require.NoError(t, err)
	ctx := context.WithValue(baggage.ContextWithBaggage(context.Background(), bag), otherKey{}, "request-scoped")
	ctx, parent := h.sdk.Tracer("test").Start(ctx, "parent")
	_, err = api.Get(ctx, "/api/orders")
	parent.End()
	require.NoError(t, err)

	spans := h.ended()
	require.Len(t, spans, 4, "three attempts and the parent")
	refresh := spans[1]
	assert.Equal(t, "POST", refresh.Name())
	assert.Equal(t, parent.SpanContext().SpanID(), refresh.Parent().SpanID(), "the refresh: a child of the caller's span")
	assert.Equal(t, parent.SpanContext().TraceID(), refresh.SpanContext().TraceID())
	assert.Equal(t, "acme", sawBaggage)
	assert.Nil(t, sawOther, "no other value of the request's context")
}

// Installed after the pair, otelaxios's response side runs after the
// pair's: the refused attempt's outcome never reaches it, since the pair
// hands on the retry's. Every span still ends once; the refused attempt's
// ends when its retry starts, with no status.
func TestInstalledAfterAuthStillEndsEverySpanOnce(t *testing.T) {
	h := newHarness(t)
	srv := authtest.NewServer(authtest.Options{})
	t.Cleanup(srv.Close)
	api := authClient(t, srv,
		func(api *axios.Client, a *auth.Authenticator) { a.Install(api) },
		func(api *axios.Client, _ *auth.Authenticator) { h.install(api) })

	srv.Revoke()
	_, err := api.Get(context.Background(), "/api/orders")
	require.NoError(t, err)

	// The refresh ends first; the refused attempt ends as its retry starts.
	spans := h.ended()
	require.Len(t, spans, 3)
	refresh, refused, retry := spans[0], spans[1], spans[2]
	assert.Equal(t, "/refresh", mustPath(t, spanAttrs(refresh)["url.full"].AsString()))
	assert.Equal(t, "/api/orders", mustPath(t, spanAttrs(refused)["url.full"].AsString()))
	assert.NotContains(t, spanAttrs(refused), attribute.Key("http.response.status_code"), "its outcome never reached otelaxios")
	assert.Equal(t, "/api/orders", mustPath(t, spanAttrs(retry)["url.full"].AsString()))
	assert.Equal(t, int64(200), spanAttrs(retry)["http.response.status_code"].AsInt64())
	assert.Equal(t, int64(1), spanAttrs(retry)["http.request.resend_count"].AsInt64())
	assert.Len(t, h.spans.Started(), 3)
}

// A refresh that fails fails the request: the refused attempt's span and
// the refresh's both say so.
func TestFailedRefreshEndsBothSpansAsErrors(t *testing.T) {
	h := newHarness(t)
	srv := authtest.NewServer(authtest.Options{})
	t.Cleanup(srv.Close)
	api := authClient(t, srv,
		func(api *axios.Client, _ *auth.Authenticator) { h.install(api) },
		func(api *axios.Client, a *auth.Authenticator) { a.Install(api) })

	srv.Revoke()
	srv.FailRefresh(1, 500)
	_, err := api.Get(context.Background(), "/api/orders")
	require.ErrorIs(t, err, auth.ErrRefreshFailed)

	spans := h.ended()
	require.Len(t, spans, 2)
	assert.Equal(t, "401", spanAttrs(spans[0])["error.type"].AsString())
	assert.Equal(t, "POST", spans[1].Name())
	assert.Equal(t, "500", spanAttrs(spans[1])["error.type"].AsString())
}

func mustPath(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	require.NoError(t, err)
	return u.Path
}
