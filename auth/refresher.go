package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
)

// Refresher turns the current token into a new one: it calls the refresh
// endpoint with current.RefreshToken (or whatever the API wants) and returns
// the new token, with Expiry set when the API says when it expires. A new
// token without a RefreshToken keeps current's.
//
// The Authenticator calls it once per refresh however many requests wait
// for it, one refresh at a time, with a copy of the token it may keep. ctx
// is the refresh's own context, bounded by Options.RefreshTimeout (see
// Options.RefreshContext for the values it carries); the
// Refresher must send its requests with it and return when it ends (the
// waiting requests are resumed at the timeout regardless, and a Refresher
// still running then may overlap the next refresh).
// Requests made with ctx through a client the Authenticator is installed on
// never wait for the refresh, so they cannot deadlock on it. An error fails
// every waiting request; one that wraps [ErrRefused] also logs the user
// out, any other keeps the token for a later try. It must not contain a
// token.
type Refresher func(ctx context.Context, current *oauth2.Token) (*oauth2.Token, error)

// ErrRefused is wrapped by a Refresher's (or Login's) error when the server
// refused the credential: the refresh token is no good, and the user is
// logged out. [OAuth2], [ClientCredentials] and [JSONRefresher] wrap it for
// a 400, 401 or 403 answer and for invalid_grant; a custom Refresher wraps
// it itself. Every other failure (network, timeout, 5xx, 429, a malformed
// answer, a store outage) is transient: the token is kept.
var ErrRefused = errors.New("auth: refused")

// refusedError is a refusal that keeps its cause's text.
type refusedError struct{ error }

func (e refusedError) Unwrap() []error { return []error{e.error, ErrRefused} }

// refusedStatus reports whether a token endpoint's status refuses the
// credential, rather than failing for a while.
func refusedStatus(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden
}

// errNoRefreshToken is the Refreshers' error for a token without one.
var errNoRefreshToken = errors.New("auth: the current token has no refresh token")

// OAuth2 returns a Refresher for the standard refresh_token grant (RFC 6749
// section 6) through x/oauth2, with cfg's client credentials and token URL.
// The HTTP client is x/oauth2's choice: the one in ctx under
// oauth2.HTTPClient, else http.DefaultClient. To use another, wrap it:
//
//	refresh := auth.OAuth2(cfg)
//	opts.Refresh = func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
//		return refresh(context.WithValue(ctx, oauth2.HTTPClient, myClient), t)
//	}
//
// Its errors wrap x/oauth2's, and [ErrRefused] for a 400, 401 or 403 answer
// or invalid_grant. A refused grant's text is "auth: oauth2 refresh: status
// 400, error \"invalid_grant\"": the status and RFC 6749's error code, not
// the server's description or body, which may echo the refresh token.
// errors.As still finds the *oauth2.RetrieveError, with all the server said.
func OAuth2(cfg *oauth2.Config) Refresher {
	return func(ctx context.Context, current *oauth2.Token) (*oauth2.Token, error) {
		if current == nil || current.RefreshToken == "" {
			return nil, errNoRefreshToken
		}
		tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: current.RefreshToken}).Token()
		if err != nil {
			return nil, grantError("oauth2 refresh", err)
		}
		return tok, nil
	}
}

// grantError is a token endpoint's failure, as a Refresher or Login
// returns it: an *oauth2.RetrieveError is wrapped in a *retrieveError,
// which wraps ErrRefused too when the server refused the grant.
func grantError(op string, err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("auth: %s: %w", op, err)
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	return &retrieveError{op: op, err: re, status: status, refused: refusedStatus(status) || re.ErrorCode == "invalid_grant"}
}

// retrieveError is a token endpoint's refusal with a text that is safe to
// log: *oauth2.RetrieveError's own text has the server's error_description,
// or its whole body, and a server may echo the refresh token in either.
// Only an error code RFC 6749 defines (sections 4.1.2.1 and 5.2) is quoted: the field is the server's,
// and one that echoes its input would put a secret there.
type retrieveError struct {
	op      string
	err     *oauth2.RetrieveError
	status  int
	refused bool
}

func (e *retrieveError) Error() string {
	code := e.err.ErrorCode
	switch code {
	case "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
		"unsupported_grant_type", "invalid_scope", "access_denied", "unsupported_response_type",
		"server_error", "temporarily_unavailable", "":
	default:
		code = "(not an RFC 6749 code)"
	}
	return fmt.Sprintf("auth: %s: status %d, error %q", e.op, e.status, code)
}

// Unwrap returns the *oauth2.RetrieveError, and ErrRefused for a refusal.
func (e *retrieveError) Unwrap() []error {
	if e.refused {
		return []error{e.err, ErrRefused}
	}
	return []error{e.err}
}

// JSONEndpoint describes a refresh endpoint that is not RFC 6749's, for
// [JSONRefresher]. An endpoint that takes {refresh_token} and answers the
// standard token response:
//
//	auth.JSONEndpoint{
//		URL:  "/refresh",
//		Body: func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
//	}
//
// One that takes the refresh token as its bearer credential, no body, and
// answers {resultCode, data: {accessToken, refreshToken}}: give it a Header
// func and a Parse func, as ExampleJSONRefresher shows.
type JSONEndpoint struct {
	// URL is the endpoint, absolute or relative to the client's BaseURL.
	URL string
	// Method is the HTTP method; "": POST.
	Method string
	// Body returns the request body, sent as axios.Config.Data (a map or
	// struct is sent as JSON); nil sends none.
	Body func(current *oauth2.Token) any
	// Header returns headers to send, e.g. "Authorization: Bearer <refresh
	// token>"; they are kept as the caller's own. nil sends none.
	Header func(current *oauth2.Token) http.Header
	// Parse turns a 2xx response body into a token; nil: ParseTokenResponse.
	// Its errors must not contain a token.
	Parse func(body []byte) (*oauth2.Token, error)
}

// JSONRefresher returns a Refresher that calls spec's endpoint through c,
// which may be the very client the Authenticator is installed on: its
// requests are marked with SkipAuthRefresh and sent with the refresh's
// context, so a refused refresh call is returned, never refreshed, and
// never waits for itself. A 400, 401 or 403 answer wraps [ErrRefused]. Only
// a 2xx response is a token response, whatever
// the client's ValidateStatus; its body is read (also from a client whose
// default is ResponseStream) up to 1 MiB, as x/oauth2 reads its own. A
// response without a refresh token keeps the current one.
func JSONRefresher(c *axios.Client, spec JSONEndpoint) Refresher {
	method := spec.Method
	if method == "" {
		method = http.MethodPost
	}
	parse := spec.Parse
	if parse == nil {
		parse = ParseTokenResponse
	}
	return func(ctx context.Context, current *oauth2.Token) (*oauth2.Token, error) {
		if current == nil {
			current = new(oauth2.Token)
		}
		cfg := axios.Config{
			Method: method,
			URL:    spec.URL,
			// Whatever the client's defaults accept, only a 2xx body is a
			// token response; a refused call keeps its status and code.
			ValidateStatus: func(status int) bool { return status >= 200 && status < 300 },
			// As x/oauth2, a token response is not allowed to be huge.
			MaxContentLength: maxTokenResponse,
		}
		if spec.Body != nil {
			cfg.Data = spec.Body(current)
		}
		if spec.Header != nil {
			cfg.Headers = spec.Header(current)
		}
		SkipAuthRefresh(&cfg)
		resp, err := c.Request(ctx, cfg)
		if err != nil {
			// *axios.Error's text is the status or the transport failure:
			// never a header or a body, which may echo the refresh token.
			if e, ok := axios.AsError(err); ok && e.Response != nil && refusedStatus(e.Status()) {
				err = refusedError{err}
			}
			return nil, fmt.Errorf("auth: refresh request: %w", err)
		}
		data := resp.Data
		if resp.Body != nil {
			// The client's default is ResponseStream: read it here.
			data, err = io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
			resp.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("auth: refresh response: %w", err)
			}
			if len(data) > maxTokenResponse {
				return nil, fmt.Errorf("auth: refresh response: over %d bytes", maxTokenResponse)
			}
		}
		tok, err := parse(data)
		if err != nil {
			return nil, err
		}
		if tok == nil || tok.AccessToken == "" {
			return nil, errors.New("auth: refresh response: no access token")
		}
		if tok.RefreshToken == "" {
			tok.RefreshToken = current.RefreshToken
		}
		return tok, nil
	}
}

// maxTokenResponse caps a refresh response's body, as x/oauth2 caps its own.
const maxTokenResponse = 1 << 20
