package auth

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
)

// rawJWT builds a compact JWS from raw header and claims JSON; the
// signature segment is given as is.
func rawJWT(header, claims, sig string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + "." + sig
}

// ParseTokenResponse reads exp from a JWT access token unverified: only the
// claims segment, whatever the alg (ES256K, Ed25519, which golang-jwt does
// not implement) or the signature segment's encoding.
func TestJWTExpIsReadWhateverTheSignature(t *testing.T) {
	clock := useFakeClock(t)
	exp := clock.Now().Add(time.Hour)
	claims := `{"sub":"demo","exp":` + strconv.FormatInt(exp.Unix(), 10) + `}`
	sig := base64.RawURLEncoding.EncodeToString([]byte("signature nobody checks"))
	cases := map[string]string{
		"alg ES256K":              rawJWT(`{"alg":"ES256K","typ":"JWT"}`, claims, sig),
		"alg Ed25519":             rawJWT(`{"alg":"Ed25519","typ":"JWT"}`, claims, sig),
		"signature not base64url": rawJWT(`{"alg":"RS256","typ":"JWT"}`, claims, "ab+/cd=="),
	}
	for name, at := range cases {
		t.Run(name, func(t *testing.T) {
			tok, err := ParseTokenResponse([]byte(`{"access_token":"` + at + `"}`))
			require.NoError(t, err)
			assert.True(t, exp.Equal(tok.Expiry), "Expiry %v, want the JWT's exp %v", tok.Expiry, exp)
		})
	}
}

// An exp no store can write (past year 9999) is read as milliseconds when
// that gives a date, and ignored otherwise; an ordinary exp is seconds.
func TestJWTExpBeyondYear9999(t *testing.T) {
	clock := useFakeClock(t)
	inAnHour := clock.Now().Add(time.Hour).Truncate(time.Second)
	cases := map[string]struct {
		exp  string
		want time.Time
	}{
		"seconds":                {strconv.FormatInt(inAnHour.Unix(), 10), inAnHour},
		"milliseconds":           {strconv.FormatInt(inAnHour.UnixMilli(), 10), inAnHour},
		"last second of 9999":    {"253402300799", time.Unix(253402300799, 0)},
		"too large for either":   {"1e300", time.Time{}},
		"too large, fractional":  {"9.9e18", time.Time{}},
		"milliseconds past 9999": {"253402300800000000", time.Time{}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			at := rawJWT(`{"alg":"HS256"}`, `{"exp":`+c.exp+`}`, "c2ln")
			tok, err := ParseTokenResponse([]byte(`{"access_token":"` + at + `"}`))
			require.NoError(t, err)
			assert.True(t, c.want.Equal(tok.Expiry), "Expiry %v, want %v", tok.Expiry, c.want)
		})
	}
}

// closeRecorder is a response body that records whether it was closed.
type closeRecorder struct {
	*strings.Reader
	closed bool
}

func (b *closeRecorder) Close() error { b.closed = true; return nil }

// JSONRefresher works through a client whose defaults say ResponseType:
// axios.ResponseStream (a download client): it reads the stream, and closes
// it.
func TestJSONRefresherOnAStreamingClient(t *testing.T) {
	mock := httpmock.NewMockTransport()
	c := axios.Create(axios.Config{BaseURL: "http://api.test", ResponseType: axios.ResponseStream})
	c.Resty().SetTransport(mock)
	body := &closeRecorder{Reader: strings.NewReader(`{"access_token":"new","expires_in":60}`)}
	mock.RegisterResponder(http.MethodPost, "http://api.test/refresh", func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Body: body}, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := seed000(c)(ctx, &oauth2.Token{AccessToken: "old", RefreshToken: "r"})
	assert.True(t, body.closed, "the refresh response's body is closed")
	require.NoError(t, err)
	assert.Equal(t, "new", tok.AccessToken)
}

// Parse gets only 2xx bodies, also through a client that accepts every
// status (axios's validateStatus: null): a refused refresh call keeps its
// status and *axios.Error.
func TestJSONRefresherParsesOnly2xxBodies(t *testing.T) {
	mock := httpmock.NewMockTransport()
	c := axios.Create(axios.Config{BaseURL: "http://api.test", ValidateStatus: func(int) bool { return true }})
	c.Resty().SetTransport(mock)
	mock.RegisterResponder(http.MethodPost, "http://api.test/refresh",
		httpmock.NewStringResponder(http.StatusBadRequest, `{"error":"invalid_grant"}`))
	var parsed []string
	refresh := JSONRefresher(c, JSONEndpoint{URL: "/refresh", Parse: func(b []byte) (*oauth2.Token, error) {
		parsed = append(parsed, string(b))
		return ParseTokenResponse(b)
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := refresh(ctx, &oauth2.Token{AccessToken: "old", RefreshToken: "r"})
	require.Error(t, err)
	assert.Empty(t, parsed, "Parse is given a 400 body")
	ae, ok := axios.AsError(err)
	require.True(t, ok, "the refused refresh call is returned as an *axios.Error, got %v", err)
	assert.Equal(t, http.StatusBadRequest, ae.Status())
}

// A refresh response over 1 MiB is refused, as x/oauth2 refuses one, on a
// buffering client and on a streaming one alike.
func TestJSONRefresherCapsTheResponseAt1MiB(t *testing.T) {
	huge := `{"access_token":"new","pad":"` + strings.Repeat("x", maxTokenResponse) + `"}`
	for name, rt := range map[string]axios.ResponseType{"buffered": "", "stream": axios.ResponseStream} {
		t.Run(name, func(t *testing.T) {
			mock := httpmock.NewMockTransport()
			c := axios.Create(axios.Config{BaseURL: "http://api.test", ResponseType: rt})
			c.Resty().SetTransport(mock)
			mock.RegisterResponder(http.MethodPost, "http://api.test/refresh", httpmock.NewStringResponder(http.StatusOK, huge))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tok, err := seed000(c)(ctx, &oauth2.Token{AccessToken: "old", RefreshToken: "r"})
			require.Error(t, err)
			assert.Nil(t, tok)
		})
	}
}
