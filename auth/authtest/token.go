package authtest

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// Errors [Server.Verify] wraps, so a test can tell why a token is refused.
var (
	ErrTokenInvalid = errors.New("authtest: token malformed, badly signed or missing claims")
	ErrTokenExpired = errors.New("authtest: token expired")
	ErrTokenRevoked = errors.New("authtest: token revoked")
)

// Claims are the claims of an access token the [Server] issues. The token is
// an HS256 JWT whose exp and iat are NumericDates with millisecond precision
// (a fraction of a second when needed, as RFC 7519 allows), so access TTLs
// shorter than a second work.
type Claims struct {
	Issuer     string    // iss: the server's URL
	Subject    string    // sub: the user
	ID         string    // jti: unique per token, so two tokens minted together differ
	IssuedAt   time.Time // iat
	ExpiresAt  time.Time // exp
	Generation int64     // gen: the revocation generation; Revoke bumps the server's
}

type wireClaims struct {
	Issuer     string      `json:"iss,omitempty"`
	Subject    string      `json:"sub"`
	ID         string      `json:"jti"`
	IssuedAt   json.Number `json:"iat,omitempty"`
	ExpiresAt  json.Number `json:"exp,omitempty"`
	Generation int64       `json:"gen"`
}

// MarshalJSON encodes c as a JWT claims set.
func (c Claims) MarshalJSON() ([]byte, error) {
	return json.Marshal(wireClaims{
		Issuer:     c.Issuer,
		Subject:    c.Subject,
		ID:         c.ID,
		IssuedAt:   numericDate(c.IssuedAt),
		ExpiresAt:  numericDate(c.ExpiresAt),
		Generation: c.Generation,
	})
}

// UnmarshalJSON decodes a JWT claims set into c. Times are in UTC; a missing
// iat or exp leaves the zero time.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var w wireClaims
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	iat, err := parseNumericDate(w.IssuedAt)
	if err != nil {
		return fmt.Errorf("authtest: iat: %w", err)
	}
	exp, err := parseNumericDate(w.ExpiresAt)
	if err != nil {
		return fmt.Errorf("authtest: exp: %w", err)
	}
	*c = Claims{w.Issuer, w.Subject, w.ID, iat, exp, w.Generation}
	return nil
}

// numericDate is t in seconds since the epoch, to the millisecond; the zero
// time is "", an absent claim.
func numericDate(t time.Time) json.Number {
	if t.IsZero() {
		return ""
	}
	ms := t.UnixMilli()
	sign := ""
	if ms < 0 { // before 1970
		sign, ms = "-", -ms
	}
	if ms%1000 == 0 {
		return json.Number(sign + strconv.FormatInt(ms/1000, 10))
	}
	return json.Number(fmt.Sprintf("%s%d.%03d", sign, ms/1000, ms%1000))
}

func parseNumericDate(n json.Number) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return time.Time{}, err
	}
	sec, frac := math.Modf(f)
	return time.UnixMilli(int64(sec)*1000 + int64(math.Round(frac*1000))).UTC(), nil
}

// The methods below make Claims a jwt.Claims. The server checks the claims
// itself, to the millisecond, rather than through jwt's validator, which
// works in whole seconds.

// GetExpirationTime returns exp, for jwt.Claims.
func (c Claims) GetExpirationTime() (*jwt.NumericDate, error) { return dateOrNil(c.ExpiresAt), nil }

// GetIssuedAt returns iat, for jwt.Claims.
func (c Claims) GetIssuedAt() (*jwt.NumericDate, error) { return dateOrNil(c.IssuedAt), nil }

// GetNotBefore returns nil: the tokens have no nbf. For jwt.Claims.
func (c Claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer returns iss, for jwt.Claims.
func (c Claims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject returns sub, for jwt.Claims.
func (c Claims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience returns nil: the tokens have no aud. For jwt.Claims.
func (c Claims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }

func dateOrNil(t time.Time) *jwt.NumericDate {
	if t.IsZero() {
		return nil
	}
	return jwt.NewNumericDate(t)
}

// ParseClaims decodes the claims of an access token without verifying its
// signature or expiry, for tests that check what a token carries (sub, exp,
// jti) without a server at hand. Use [Server.Verify] to check one.
func ParseClaims(accessToken string) (*Claims, error) {
	var c Claims
	if _, _, err := jwt.NewParser().ParseUnverified(accessToken, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	}
	return &c, nil
}

// Verify checks an access token exactly as the protected routes do: HS256
// signature with the server's key, exp against the server's clock, sub and
// jti present, and the revocation generation. It returns the claims, or an
// error wrapping [ErrTokenInvalid], [ErrTokenExpired] or [ErrTokenRevoked].
// The error never contains the token.
func (s *Server) Verify(accessToken string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(accessToken, &c,
		func(*jwt.Token) (any, error) { return s.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithoutClaimsValidation(),
	)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrTokenInvalid, err)
	case c.Subject == "" || c.ID == "" || c.ExpiresAt.IsZero():
		return nil, ErrTokenInvalid
	case !s.now().Before(c.ExpiresAt):
		return nil, ErrTokenExpired
	case c.Generation != s.generation.Load():
		return nil, ErrTokenRevoked
	}
	return &c, nil
}

// mint signs a new access token for user.
func (s *Server) mint(user string, now time.Time) string {
	c := Claims{
		Issuer:     s.URL,
		Subject:    user,
		ID:         rand.Text(),
		IssuedAt:   now,
		ExpiresAt:  now.Add(s.ttl),
		Generation: s.generation.Load(),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
	if err != nil {
		// Only a key of the wrong type or unencodable claims fail, and
		// neither can happen here.
		panic("authtest: signing access token: " + err.Error())
	}
	return signed
}

// tokenResponse is the RFC 6749 section 5.1 token response, which /login and
// /refresh answer too. Only the client credentials grant answers no refresh
// token, and only it a scope.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
}

func (t tokenResponse) oauth2Token(expiry time.Time) *oauth2.Token {
	return &oauth2.Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		Expiry:       expiry,
		ExpiresIn:    t.ExpiresIn,
	}
}

// expiresIn is the TTL in whole seconds, at least 1 so that a sub-second TTL
// does not read as "no expiry" (expires_in 0 or absent) to a client.
func (s *Server) expiresIn() int64 {
	return max(int64(s.ttl/time.Second), 1)
}

func (s *Server) tokens(user, refresh string, now time.Time) tokenResponse {
	return tokenResponse{
		AccessToken:  s.mint(user, now),
		TokenType:    "Bearer",
		RefreshToken: refresh,
		ExpiresIn:    s.expiresIn(),
	}
}

// login issues a fresh token pair for user and counts the login.
func (s *Server) login(user string, now time.Time) tokenResponse {
	refresh := rand.Text()
	s.mu.Lock()
	s.refreshTokens[refresh] = user
	s.mu.Unlock()
	s.logins.Add(1)
	return s.tokens(user, refresh, now)
}

// refresh redeems a refresh token. Under rotation the token is consumed in
// the same critical section that checks it, so of two concurrent refreshes
// with one token exactly one succeeds.
func (s *Server) refresh(refresh string) (tokenResponse, bool) {
	next := refresh
	if s.rotate {
		next = rand.Text()
	}
	s.mu.Lock()
	user, ok := s.refreshTokens[refresh]
	if ok && s.rotate {
		delete(s.refreshTokens, refresh)
		s.refreshTokens[next] = user
	}
	s.mu.Unlock()
	if !ok {
		s.invalidGrants.Add(1)
		return tokenResponse{}, false
	}
	s.refreshes.Add(1)
	return s.tokens(user, next, s.now()), true
}
