package auth

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/axiosgo/axios"
)

// Transport returns the pair as an http.RoundTripper over base (nil:
// http.DefaultTransport), for code that takes an *http.Client: generated
// OpenAPI clients, cloud SDKs. It shares a's token, its single flight and
// its Stats with every client the pair is installed on. It sets the token's
// header on a clone of each request to an allowed origin, and when the
// answer is a refusal (ShouldRefresh, whose error has a Response and a nil
// Config) it gets a newer token as HandleError does and sends the request
// once more, when its body can be sent again (none, or GetBody set);
// otherwise the refusal is returned as it is. A request that already
// carries the caller's own header is sent as it is.
//
// A failed refresh is returned as an error wrapping [ErrRefreshFailed]
// and the cause, the refused response closed. It is safe for concurrent
// use, and never modifies the caller's request.
func (a *Authenticator) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{a: a, base: base}
}

type transport struct {
	a    *Authenticator
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	a := t.a
	ctx := req.Context()
	h := headerAnyCase(req.Header, a.header)
	if err := a.ensureLoaded(ctx); err != nil {
		closeBody(req)
		return nil, err
	}
	if h != "" && !a.state.ours(h) {
		return t.base.RoundTrip(req) // the caller's own credential
	}
	if !a.scope.set.Load().allowsURL(req.URL) {
		if h == "" {
			return t.base.RoundTrip(req)
		}
		return t.base.RoundTrip(t.with(req, nil)) // another origin: no token, not even one copied in
	}
	cur, waitErr, err := a.tokenToSend(ctx, func() bool { return !a.ownRefresh(ctx) })
	if waitErr != nil || err != nil {
		closeBody(req)
		return nil, refreshFailure(waitErr, err)
	}
	resp, err := t.base.RoundTrip(t.with(req, cur))
	if err != nil || !a.shouldRefresh(refusal(req, resp)) || a.ownRefresh(ctx) || a.maxRetries == 0 {
		return resp, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable {
		return resp, nil // never an empty resend
	}
	var sent uint64
	if cur.header != "" {
		sent = cur.gen
	}
	next, waitErr, err := a.tokenToRetry(ctx, sent, false)
	if next == nil && waitErr == nil && err == nil {
		return resp, nil // no token to retry with: the refusal as it is
	}
	drain(resp)
	if waitErr != nil || err != nil {
		return nil, refreshFailure(waitErr, err)
	}
	retry := t.with(req, next)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		retry.Body = body
	}
	a.retries.Add(1)
	return t.base.RoundTrip(retry)
}

// with is a clone of req carrying cur's token (none when cur is nil), as a
// RoundTripper must not modify the request it was given.
func (t *transport) with(req *http.Request, cur *current) *http.Request {
	r := req.Clone(req.Context())
	if r.Header == nil {
		r.Header = make(http.Header, 1)
	}
	for k := range r.Header {
		if k != t.a.header && strings.EqualFold(k, t.a.header) {
			delete(r.Header, k) // a copy of ours under another casing
		}
	}
	if cur == nil || cur.header == "" {
		r.Header.Del(t.a.header)
	} else {
		r.Header[t.a.header] = []string{cur.header}
	}
	return r
}

// CloseIdleConnections closes the base's idle connections, when it has
// them, so that http.Client.CloseIdleConnections reaches them.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// headerAnyCase returns the first value of h's name under any casing: net/http
// sends a key set directly in the map (h["authorization"]) as it is.
func headerAnyCase(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	for k, v := range h {
		if len(v) > 0 && strings.EqualFold(k, name) {
			return v[0]
		}
	}
	return ""
}

// refusal is resp as ShouldRefresh judges it: an *axios.Error with a
// Response (its body unread) and no Config.
func refusal(req *http.Request, resp *http.Response) *axios.Error {
	status := resp.StatusCode
	code := axios.CodeBadResponse
	if status >= 400 && status < 500 {
		code = axios.CodeBadRequest
	}
	return &axios.Error{
		Message: "Request failed with status code " + strconv.Itoa(status),
		Code:    code,
		Request: req,
		Response: &axios.Response{
			Status:     status,
			StatusText: http.StatusText(status),
			Headers:    resp.Header,
			Request:    req,
		},
	}
}

func refreshFailure(waitErr, err error) error {
	if waitErr != nil {
		return waitErr
	}
	return err
}

// drain reads a little of a refused response's body and closes it, so its
// connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	_ = resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
