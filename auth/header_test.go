package auth

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestHeaderNameIsTheCanonicalNameTheTokenIsSentIn(t *testing.T) {
	refresh := func(context.Context, *oauth2.Token) (*oauth2.Token, error) { return nil, ErrRefused }
	for header, want := range map[string]string{"": "Authorization", "xc-auth": "Xc-Auth", "X-API-KEY": "X-Api-Key"} {
		a, err := New(Options{Header: header, Refresh: refresh})
		require.NoError(t, err)
		assert.Equal(t, want, a.HeaderName(), "Options.Header %q", header)
	}
}
