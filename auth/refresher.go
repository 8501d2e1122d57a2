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
// is the refresh's own context, bounded by Options.RefreshTimeout; the
// Refresher must send its requests with it and return when it ends (the
// waiting requests are resumed at the timeout regardless, and a Refresher
// still running then may overlap the next refresh).
// Requests made with ctx through a client the Authenticator is installed on
// never wait for the refresh, so they cannot deadlock on it. An error fails
// every waiting request and logs the user out; it must not contain a token.
type Refresher func(ctx context.Context, current *oauth2.Token) (*oauth2.Token, error)

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
// Its errors wrap x/oauth2's. A refused grant's text is "auth: oauth2
// refresh: status 400, error \"invalid_grant\"": the status and the
// server's error code, not its error_description or body, which may echo
// the refresh token. errors.As still finds the *oauth2.RetrieveError, with
// all the server said.
func OAuth2(cfg *oauth2.Config) Refresher {
	return func(ctx context.Context, current *oauth2.Token) (*oauth2.Token, error) {
		if current == nil || current.RefreshToken == "" {
			return nil, errNoRefreshToken
		}
		tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: current.RefreshToken}).Token()
		var refused *oauth2.RetrieveError
		switch {
		case errors.As(err, &refused):
			return nil, &retrieveError{refused}
		case err != nil:
			return nil, fmt.Errorf("auth: oauth2 refresh: %w", err)
		}
		return tok, nil
	}
}

// retrieveError is a token endpoint's refusal with a text that is safe to
// log: *oauth2.RetrieveError's own text has the server's error_description,
// or its whole body, and a server may echo the refresh token in either.
type retrieveError struct{ err *oauth2.RetrieveError }

func (e *retrieveError) Error() string {
	status := 0
	if e.err.Response != nil {
		status = e.err.Response.StatusCode
	}
	return fmt.Sprintf("auth: oauth2 refresh: status %d, error %q", status, e.err.ErrorCode)
}

func (e *retrieveError) Unwrap() error { return e.err }

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
// never waits for itself. Only a 2xx response is a token response, whatever
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
