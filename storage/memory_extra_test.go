package storage_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
)

// Memory copies every field of the token on Save and on Load, and keeps the
// extra data (WithExtra) by reference, as its doc says: oauth2.Token has no
// way to enumerate, hence to copy, it.
func TestMemoryKeepsExtraDataAndCopiesTheFields(t *testing.T) {
	m := storage.NewMemory()
	tok := (&oauth2.Token{AccessToken: "a", RefreshToken: "r"}).WithExtra(map[string]any{"id_token": "id-1"})
	require.NoError(t, m.Save(t.Context(), tok))
	tok.AccessToken, tok.RefreshToken = "changed", "changed"

	got, err := m.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "a", got.AccessToken)
	assert.Equal(t, "r", got.RefreshToken)
	assert.Equal(t, "id-1", got.Extra("id_token"), "Memory keeps the extra data")
	got.AccessToken = "changed-after-load"

	again, err := m.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "a", again.AccessToken)
}
