package storage

import (
	"fmt"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/internal/tokenjson"
)

// encodeToken returns the JSON form [File] writes, shared with
// storage/redisstore through internal/tokenjson.
func encodeToken(tok *oauth2.Token) ([]byte, error) {
	return tokenjson.Encode(tok)
}

// decodeToken returns an error wrapping ErrCorrupt that describes what is
// wrong without quoting the data, which may hold a token.
func decodeToken(b []byte) (*oauth2.Token, error) {
	tok, err := tokenjson.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return tok, nil
}
