// Package tokenjson is the JSON form in which the token stores keep an
// oauth2.Token: storage.File on disk and redisstore.Store in Redis write and
// read the same bytes.
//
// The field names are those of the OAuth2 token response, and they are part
// of the on-disk and in-Redis format: change them only with a way to read the
// old shape.
package tokenjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// stored is the JSON shape. Expiry is omitted for a token that never expires;
// the other fields of oauth2.Token (ExpiresIn, extra data) are not stored.
type stored struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

// Encode returns tok's JSON form. Its only error is an Expiry outside years
// 0..9999, and the message does not quote the token.
func Encode(tok *oauth2.Token) ([]byte, error) {
	b, err := json.Marshal(stored{
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
	})
	if err != nil {
		return nil, fmt.Errorf("cannot encode token: expiry %v out of range", tok.Expiry)
	}
	return b, nil
}

// Decode returns the token in b. An error means b is not a token of this
// shape (not JSON, JSON that is not an object, or an object without
// access_token); its message says what is wrong without quoting b, which may
// hold a token. Callers wrap it with their own sentinel, storage.ErrCorrupt.
func Decode(b []byte) (*oauth2.Token, error) {
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return nil, errors.New("not a JSON object")
	}
	var st stored
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, errors.New(describeJSONError(err, len(b)))
	}
	// JSON of another shape decodes without error into nothing: Encode
	// always writes access_token.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, errors.New(describeJSONError(err, len(b)))
	}
	if _, ok := fields["access_token"]; !ok {
		return nil, errors.New("a JSON object without access_token")
	}
	return &oauth2.Token{
		AccessToken:  st.AccessToken,
		TokenType:    st.TokenType,
		RefreshToken: st.RefreshToken,
		Expiry:       st.Expiry,
	}, nil
}

// describeJSONError keeps the position or field of a decoding error and drops
// the rest, since some encoding/json messages quote the offending value.
func describeJSONError(err error, size int) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax) && syntax.Offset >= int64(size):
		return "truncated JSON"
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("field %q has the wrong type", typ.Field)
	default:
		return "invalid field value"
	}
}
