package storage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// JSON objects that are not the token shape this package writes. ErrCorrupt's
// doc: "the stored data is not a token this package wrote: invalid JSON, or
// JSON of another shape"; docs/storage.md: "A value that is not a token of
// this shape makes Load return an error that wraps storage.ErrCorrupt".
// storage/redisstore checks the same shapes in Redis.
var otherShapes = map[string]string{
	"camelCase":    `{"accessToken":"s3cr3t-access","refreshToken":"s3cr3t-refresh"}`,
	"empty object": `{}`,
	"unrelated":    `{"name":"my-app","version":3}`,
}

func TestFileLoadJSONOfAnotherShapeIsCorrupt(t *testing.T) {
	for name, content := range otherShapes {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token.json")
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
			tok, err := NewFile(path).Load(t.Context())
			require.ErrorIs(t, err, ErrCorrupt, "JSON of another shape must be ErrCorrupt, got token %+v", tok)
			assert.Nil(t, tok)
		})
	}
}
