package storage_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
)

// Review findings for package storage. Each test fails against the code it
// was written for; see the commit message.

// Memory's doc: "It stores a copy of the saved token and returns a copy on
// every Load, so neither the caller of Save nor the caller of Load can
// change what is stored", and docs/storage.md says Memory keeps the extra
// data. The copy is shallow (c := *tok): the extra data (an id_token, or
// the nested objects of a token response such as authorization_details)
// stays shared with the caller of Save and with every caller of Load.
func TestReviewMemoryExtraDataIsNotShared(t *testing.T) {
	t.Run("Save", func(t *testing.T) {
		m := storage.NewMemory()
		extra := map[string]any{"id_token": "id-1"}
		require.NoError(t, m.Save(t.Context(), (&oauth2.Token{AccessToken: "a"}).WithExtra(extra)))
		extra["id_token"] = "changed-after-save"

		got, err := m.Load(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "id-1", got.Extra("id_token"), "the caller of Save changed the stored token")
	})
	t.Run("Load", func(t *testing.T) {
		m := storage.NewMemory()
		details := []any{map[string]any{"type": "payment"}}
		require.NoError(t, m.Save(t.Context(), (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"authorization_details": details})))

		got, err := m.Load(t.Context())
		require.NoError(t, err)
		got.Extra("authorization_details").([]any)[0].(map[string]any)["type"] = "changed-after-load"

		again, err := m.Load(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "payment", again.Extra("authorization_details").([]any)[0].(map[string]any)["type"],
			"the caller of Load changed the stored token")
	})
}
