package storage_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/storagetest"
)

func TestMemoryContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.TokenStore { return storage.NewMemory() })
}

func TestMemoryZeroValueIsAnEmptyStore(t *testing.T) {
	var m storage.Memory
	_, err := m.Load(t.Context())
	require.ErrorIs(t, err, storage.ErrNoToken)
	require.NoError(t, m.Save(t.Context(), &oauth2.Token{AccessToken: "a"}))
	tok, err := m.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "a", tok.AccessToken)
}

func TestMemoryKeepsExtraData(t *testing.T) {
	m := storage.NewMemory()
	tok := (&oauth2.Token{AccessToken: "a"}).WithExtra(map[string]any{"id_token": "x"})
	require.NoError(t, m.Save(t.Context(), tok))
	got, err := m.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "x", got.Extra("id_token"))
}

func TestSaveNilTokenIsAnError(t *testing.T) {
	stores := map[string]storage.TokenStore{
		"Memory": storage.NewMemory(),
		"File":   storage.NewFile(t.TempDir() + "/token.json"),
	}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, s.Save(t.Context(), &oauth2.Token{AccessToken: "a"}))
			err := s.Save(t.Context(), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "storage:")
			got, err := s.Load(context.Background())
			require.NoError(t, err, "a refused nil Save must leave the token")
			assert.Equal(t, "a", got.AccessToken)
		})
	}
}
