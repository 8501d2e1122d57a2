package tokenjson

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestEncodeWritesTheStoredFieldsOnly(t *testing.T) {
	b, err := Encode(&oauth2.Token{
		AccessToken:  "at",
		TokenType:    "Bearer",
		RefreshToken: "rt",
		Expiry:       time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		ExpiresIn:    3600,
	})
	require.NoError(t, err)
	assert.JSONEq(t, `{"access_token":"at","token_type":"Bearer","refresh_token":"rt","expiry":"2030-01-01T00:00:00Z"}`, string(b))

	b, err = Encode(&oauth2.Token{AccessToken: "at"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"access_token":"at","token_type":"","refresh_token":""}`, string(b), "a token that never expires has no expiry field")
}

func TestDecodeReadsWhatEncodeWrote(t *testing.T) {
	want := &oauth2.Token{AccessToken: "at", TokenType: "Bearer", RefreshToken: "rt", Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	b, err := Encode(want)
	require.NoError(t, err)
	got, err := Decode(b)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestDecodeRefusesOtherShapes(t *testing.T) {
	for data, why := range map[string]string{
		`[1,2]`:                                "not a JSON object",
		`{}`:                                   "a JSON object without access_token",
		`{"accessToken":"x"}`:                  "a JSON object without access_token",
		`{"access_token":"x"`:                  "truncated JSON",
		`{"access_token":x}`:                   "invalid JSON at byte 17",
		`{"access_token":1}`:                   `field "access_token" has the wrong type`,
		`{"access_token":"x","expiry":"soon"}`: "invalid field value",
	} {
		tok, err := Decode([]byte(data))
		assert.Nil(t, tok, data)
		assert.EqualError(t, err, why, data)
	}
}

func TestErrorsNeverQuoteTheToken(t *testing.T) {
	for _, data := range []string{
		`{"access_token":"SECRET`,
		`{"access_token":1e999999}`,
		`{"access_token":"x","expiry":"SECRET"}`,
		`{"access_token":"x","expiry":123456789}`,
		`{"access_token":{"SECRET":1}}`,
		`SECRET`,
	} {
		_, err := Decode([]byte(data))
		require.Error(t, err, data)
		assert.NotContains(t, err.Error(), "SECRET", data)
		assert.NotContains(t, err.Error(), "1e999999", data)
		assert.NotContains(t, err.Error(), "123456789", data)
	}
	_, err := Encode(&oauth2.Token{AccessToken: "SECRET", Expiry: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
}
