package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// These tests break Save between its steps through the File's hooks: chmod
// tricks would prove nothing when the tests run as root.

var (
	oldToken = &oauth2.Token{AccessToken: "old-access", RefreshToken: "old-refresh", TokenType: "Bearer"}
	newToken = &oauth2.Token{AccessToken: "new-access", RefreshToken: "new-refresh", TokenType: "Bearer"}
)

func TestFileSaveWritesPrivateTempFileInSameDirectoryThenRenames(t *testing.T) {
	dir := t.TempDir()
	f := NewFile(filepath.Join(dir, "token.json"))
	var renamed bool
	f.renameHook = func(oldpath, newpath string) error {
		renamed = true
		assert.Equal(t, dir, filepath.Dir(oldpath), "the temp file must be in the token's directory, or the rename is not atomic")
		assert.Equal(t, f.path, newpath)
		fi, err := os.Stat(oldpath)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "temp file mode")
		b, err := os.ReadFile(oldpath)
		require.NoError(t, err)
		tok, err := decodeToken(b)
		require.NoError(t, err, "the temp file must hold the whole token before the rename")
		assert.Equal(t, newToken.AccessToken, tok.AccessToken)
		return os.Rename(oldpath, newpath)
	}
	require.NoError(t, f.Save(t.Context(), newToken))
	assert.True(t, renamed, "Save did not rename a temp file into place")
}

func TestFileFailedRenameKeepsOldToken(t *testing.T) {
	dir := t.TempDir()
	f := NewFile(filepath.Join(dir, "token.json"))
	require.NoError(t, f.Save(t.Context(), oldToken))

	f.renameHook = func(string, string) error { return errors.New("injected rename failure") }
	err := f.Save(t.Context(), newToken)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "injected rename failure")
	assert.NotContains(t, err.Error(), "new-access")

	got, err := f.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, oldToken.AccessToken, got.AccessToken)
	assert.Equal(t, oldToken.RefreshToken, got.RefreshToken)
	assert.Equal(t, []string{"token.json"}, names(t, dir), "the temp file was left behind")
}

// TestFileWriteFailingMidwayKeepsOldToken stands for a crash or a full disk
// halfway through writing: half of the new token reaches the temp file.
func TestFileWriteFailingMidwayKeepsOldToken(t *testing.T) {
	dir := t.TempDir()
	f := NewFile(filepath.Join(dir, "token.json"))
	require.NoError(t, f.Save(t.Context(), oldToken))

	f.writeHook = func(fh *os.File, b []byte) error {
		if _, err := fh.Write(b[:len(b)/2]); err != nil {
			return err
		}
		return errors.New("injected: no space left on device")
	}
	err := f.Save(t.Context(), newToken)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no space left on device")

	got, err := f.Load(t.Context())
	require.NoError(t, err, "the old token must still be readable whole")
	assert.Equal(t, oldToken.AccessToken, got.AccessToken)
	assert.Equal(t, []string{"token.json"}, names(t, dir), "the temp file was left behind")
}

func TestFileFailedFirstSaveLeavesNoToken(t *testing.T) {
	dir := t.TempDir()
	f := NewFile(filepath.Join(dir, "token.json"))
	f.renameHook = func(string, string) error { return errors.New("injected") }
	require.Error(t, f.Save(t.Context(), newToken))
	_, err := f.Load(t.Context())
	assert.ErrorIs(t, err, ErrNoToken)
	assert.Empty(t, names(t, dir))
}

func TestFileInProcessLocksAreFreedAfterUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	a, b := NewFile(path), NewFile(path)
	unlock, err := a.Lock(t.Context())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = b.Lock(ctx)
	require.Error(t, err)
	require.NoError(t, unlock(t.Context()))

	inProcessLocks.mu.Lock()
	defer inProcessLocks.mu.Unlock()
	assert.Empty(t, inProcessLocks.m, "entries must go once nobody holds or waits")
}

func TestDecodeTokenErrorsNeverQuoteTheData(t *testing.T) {
	for _, data := range []string{
		`{"access_token":"SECRET`,
		`{"access_token":1e999999}`,
		`{"access_token":"x","expiry":"SECRET"}`,
		`{"access_token":"x","expiry":123456789}`,
		`{"access_token":{"SECRET":1}}`,
		`SECRET`,
	} {
		_, err := decodeToken([]byte(data))
		require.Error(t, err, data)
		assert.ErrorIs(t, err, ErrCorrupt, data)
		assert.NotContains(t, err.Error(), "SECRET", data)
		assert.NotContains(t, err.Error(), "1e999999", data)
		assert.NotContains(t, err.Error(), "123456789", data)
	}
}

func TestEncodeTokenRefusesOutOfRangeExpiry(t *testing.T) {
	_, err := encodeToken(&oauth2.Token{AccessToken: "SECRET", Expiry: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
