package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// timeNow is the clock expiry is judged by, as x/oauth2's token.go has it:
// tests replace it instead of sleeping through real TTLs.
var timeNow = time.Now

// ParseTokenResponse turns a token response body (RFC 6749 section 5.1:
// access_token, token_type, refresh_token, expires_in) into a token:
//
//   - token_type defaults to "Bearer";
//   - expires_in may be a number or a numeric string, and sets Expiry to now
//     plus that many seconds; absent, null or 0, Expiry is read from the
//     access token's exp claim when it is a JWT, unverified (the client
//     cannot check the signature and does not need to: the server does),
//     and otherwise left zero (never expires proactively);
//   - all fields, known or not, are kept as the token's extra fields
//     (tok.Extra("id_token")).
//
// An error response sent with a 2xx status ({"error":"invalid_grant"}, no
// access_token) is an error naming its RFC 6749 code; invalid_grant wraps
// [ErrRefused]. Its errors start with "auth: parse token response:" and
// never contain the body, so they never contain a token. It is safe for concurrent use.
func ParseTokenResponse(body []byte) (*oauth2.Token, error) {
	var wire struct {
		AccessToken  string          `json:"access_token"`
		TokenType    string          `json:"token_type"`
		RefreshToken string          `json:"refresh_token"`
		ExpiresIn    json.RawMessage `json:"expires_in"`
		Error        string          `json:"error"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, parseError(describeJSONError(err))
	}
	if wire.AccessToken == "" && wire.Error != "" {
		// An error response sent with a 2xx status, as some servers do.
		err := parseError("error " + errorCodeText(wire.Error))
		if wire.Error == "invalid_grant" {
			return nil, refusedError{err}
		}
		return nil, err
	}
	if wire.AccessToken == "" {
		return nil, parseError("no access_token")
	}
	var extra map[string]any
	_ = json.Unmarshal(body, &extra) // valid: the first Unmarshal succeeded

	tok := &oauth2.Token{
		AccessToken:  wire.AccessToken,
		TokenType:    wire.TokenType,
		RefreshToken: wire.RefreshToken,
	}
	if tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	secs, err := parseExpiresIn(wire.ExpiresIn)
	if err != nil {
		return nil, parseError(err.Error())
	}
	if secs > 0 {
		tok.ExpiresIn = secs
		tok.Expiry = timeNow().Add(time.Duration(secs) * time.Second)
	} else {
		tok.Expiry = jwtExpiry(tok.AccessToken)
	}
	return tok.WithExtra(extra), nil
}

// errorCodeText quotes an RFC 6749 error code, or says it is not one: a
// value of other characters, or a long one, is not quoted, in case it
// echoes something secret.
func errorCodeText(code string) string {
	if len(code) > 64 {
		return "(not an RFC 6749 error code)"
	}
	for i := 0; i < len(code); i++ {
		if c := code[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "(not an RFC 6749 error code)"
		}
	}
	return strconv.Quote(code)
}

func parseError(reason string) error {
	return errors.New("auth: parse token response: " + reason)
}

// describeJSONError says what is wrong with a body without quoting it.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "invalid JSON at offset " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ) && typ.Field == "":
		return "want a JSON object, got " + typ.Value
	case errors.As(err, &typ):
		return "field " + typ.Field + ": want " + typ.Type.String() + ", got " + typ.Value
	}
	return "invalid JSON"
}

// maxExpiresIn keeps now+expires_in inside time.Duration.
const maxExpiresIn = math.MaxInt64 / int64(time.Second)

// parseExpiresIn reads expires_in as a number or a numeric string (some
// servers send "3600"); 0 means absent.
func parseExpiresIn(raw json.RawMessage) (int64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var num json.Number
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, errors.New("expires_in: invalid string")
		}
		num = json.Number(s)
	} else if err := json.Unmarshal(raw, &num); err != nil {
		return 0, errors.New("expires_in: want a number")
	}
	if num == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(string(num), 64)
	switch {
	case err != nil || math.IsNaN(f):
		return 0, errors.New("expires_in: want a number")
	case f < 0:
		return 0, errors.New("expires_in: negative")
	case f >= float64(maxExpiresIn):
		return 0, errors.New("expires_in: out of range")
	}
	return int64(f), nil
}

// jwtExpiry reads exp from a JWT without verifying it; anything else (an
// opaque token, no exp) gives the zero time. An exp past year 9999 in
// seconds, a date no store can write, is read as milliseconds (JavaScript's
// Date.now() slipped in) when that gives one; otherwise it is ignored.
func jwtExpiry(accessToken string) time.Time {
	// Only the claims segment is read: ParseUnverified would also insist on
	// an alg golang-jwt knows and a signature segment it can decode, neither
	// of which the exp needs (ES256K, Ed25519, padded signatures).
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	p := jwt.NewParser()
	payload, err := p.DecodeSegment(parts[1])
	if err != nil {
		return time.Time{}
	}
	claims := jwt.MapClaims{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return time.Time{}
	}
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil {
		return time.Time{}
	}
	if y := exp.Year(); y >= 0 && y <= 9999 {
		return exp.Time
	}
	if f, ok := claims["exp"].(float64); ok && f > 0 && f/1000 <= maxExpUnix {
		return time.UnixMilli(int64(f))
	}
	return time.Time{}
}

// maxExpUnix is the last second of year 9999, the last date the stores
// (JSON's RFC 3339) can write.
const maxExpUnix = 253402300799

// TokenSource returns an oauth2.TokenSource backed by a, for code that wants
// one (an oauth2.Transport, a gRPC credential). Token returns a copy of the
// current token, refreshing it through a first, joining any refresh under
// way, when it is expired or expires within Options.RefreshBefore. A token
// that was already expired when a refresh or SetToken handed it over (a
// server clock behind ours) is returned as it is rather than refreshed on
// every call, as the requests send it. Its
// refreshes are a's: shared with the requests, counted in a's Stats, with
// a's hooks. With no token it logs in through Options.Login, or adopts a
// token another process saved to a shared store, as a request does; when
// neither gives one it fails with an error wrapping storage.ErrNoToken. It
// is safe for concurrent use.
func TokenSource(a *Authenticator) oauth2.TokenSource { return tokenSource{a} }

type tokenSource struct{ a *Authenticator }

func (s tokenSource) Token() (*oauth2.Token, error) {
	a := s.a
	ctx := context.Background()
	if err := a.ensureLoaded(ctx); err != nil {
		return nil, err
	}
	for {
		cur := a.state.load()
		// With no token, a turn logs in (Login) or looks in a shared store,
		// as a request's would.
		due := cur.tok != nil && a.state.due(cur, true) || cur.tok == nil && a.canObtain(cur)
		if !due && !a.flight.underWay() {
			if cur.tok == nil {
				return nil, errNoToken
			}
			return cloneToken(cur.tok), nil
		}
		r, joined, _ := a.refreshed(ctx, cur, due) // ctx never ends; the refresh has its own deadline
		switch {
		case !joined:
			continue
		case r.err != nil:
			return nil, r.err
		case r.cur.tok == nil:
			return nil, errNoToken
		}
		return cloneToken(r.cur.tok), nil
	}
}
