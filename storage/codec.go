package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// storedToken is the JSON shape [File] and [Redis] write. Its field names are
// those of the OAuth2 token response, and they are part of the on-disk and
// in-Redis format: change them only with a way to read the old shape.
// Expiry is omitted for a token that never expires.
type storedToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type"`
	RefreshToken string    `json:"refresh_token"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

func encodeToken(tok *oauth2.Token) ([]byte, error) {
	b, err := json.Marshal(storedToken{
		AccessToken:  tok.AccessToken,
		TokenType:    tok.TokenType,
		RefreshToken: tok.RefreshToken,
		Expiry:       tok.Expiry,
	})
	if err != nil {
		// Only an Expiry outside years 0..9999 gets here; say so without
		// echoing the token.
		return nil, fmt.Errorf("cannot encode token: expiry %v out of range", tok.Expiry)
	}
	return b, nil
}

// decodeToken returns an error wrapping ErrCorrupt that describes what is
// wrong without quoting the data, which may hold a token.
func decodeToken(b []byte) (*oauth2.Token, error) {
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		return nil, fmt.Errorf("%w: not a JSON object", ErrCorrupt)
	}
	var st storedToken
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrCorrupt, describeJSONError(err, len(b)))
	}
	// JSON of another shape decodes without error into nothing: this
	// package always writes access_token.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrCorrupt, describeJSONError(err, len(b)))
	}
	if _, ok := fields["access_token"]; !ok {
		return nil, fmt.Errorf("%w: a JSON object without access_token", ErrCorrupt)
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
