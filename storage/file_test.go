package storage_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/storagetest"
)

func TestFileContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.TokenStore {
		return storage.NewFile(filepath.Join(t.TempDir(), "state", "token.json"))
	})
}

var secret = &oauth2.Token{
	AccessToken:  "s3cr3t-access",
	TokenType:    "Bearer",
	RefreshToken: "s3cr3t-refresh",
	Expiry:       time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
}

func TestFileCreatesPrivateDirectoryAndFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "token.json")
	f := storage.NewFile(path)
	require.NoError(t, f.Save(t.Context(), secret))

	di, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm(), "directory mode")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "token file mode")

	unlock, err := f.Lock(t.Context())
	require.NoError(t, err)
	require.NoError(t, unlock(t.Context()))
	li, err := os.Stat(path + ".lock")
	require.NoError(t, err, "the lock must be the sidecar file path+\".lock\"")
	assert.Equal(t, os.FileMode(0o600), li.Mode().Perm(), "lock file mode")
}

func TestFileSaveMakesWideFilePrivateAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	require.NoError(t, os.WriteFile(path, []byte("{}"), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	require.NoError(t, storage.NewFile(path).Save(t.Context(), secret))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestFileRefusesPermissionsWiderThanOwner(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620, 0o602, 0o660, 0o666, 0o610} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token.json")
			f := storage.NewFile(path)
			require.NoError(t, f.Save(t.Context(), secret))
			require.NoError(t, os.Chmod(path, mode))

			tok, err := f.Load(t.Context())
			require.Error(t, err)
			assert.Nil(t, tok)
			assert.NotErrorIs(t, err, storage.ErrNoToken)
			assert.Equal(t, fmt.Sprintf(
				"storage: token file %s has mode %04o; it must not be readable or writable by group or others: run chmod 600 %s",
				path, uint32(mode), path), err.Error())
			assert.NotContains(t, err.Error(), "s3cr3t")
		})
	}
}

func TestFileChmodAdviceIsQuotedForTheShell(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my tokens", "it's.json")
	f := storage.NewFile(path)
	require.NoError(t, f.Save(t.Context(), secret))
	require.NoError(t, os.Chmod(path, 0o644))
	_, err := f.Load(t.Context())
	require.Error(t, err)
	assert.True(t, strings.HasSuffix(err.Error(), `run chmod 600 '`+strings.ReplaceAll(path, "'", `'\''`)+`'`), err.Error())
}

func TestFileAcceptsOwnerOnlyModes(t *testing.T) {
	for _, mode := range []os.FileMode{0o600, 0o400} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token.json")
			f := storage.NewFile(path)
			require.NoError(t, f.Save(t.Context(), secret))
			require.NoError(t, os.Chmod(path, mode))
			tok, err := f.Load(t.Context())
			require.NoError(t, err)
			assert.Equal(t, secret.AccessToken, tok.AccessToken)
		})
	}
}

func TestFileCorruptIsAnErrorNotErrNoToken(t *testing.T) {
	cases := map[string]string{
		"empty":            "",
		"truncated":        `{"access_token":"s3cr3t-access","refresh`,
		"not JSON":         "s3cr3t-access",
		"array":            `["s3cr3t-access"]`,
		"null":             "null",
		"wrong field type": `{"access_token":["s3cr3t-access"]}`,
		"bad expiry":       `{"access_token":"a","expiry":"s3cr3t-not-a-time"}`,
		"syntax error":     `{"access_token":"s3cr3t-access",,}`,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token.json")
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
			tok, err := storage.NewFile(path).Load(t.Context())
			require.Error(t, err)
			assert.Nil(t, tok)
			assert.ErrorIs(t, err, storage.ErrCorrupt)
			assert.NotErrorIs(t, err, storage.ErrNoToken)
			assert.True(t, strings.HasPrefix(err.Error(), "storage: "), err.Error())
			assert.Contains(t, err.Error(), path)
			assert.NotContains(t, err.Error(), "s3cr3t", "the error quotes the file's contents")
		})
	}
}

func TestFileRefusesADirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	require.NoError(t, os.Mkdir(path, 0o700))
	_, err := storage.NewFile(path).Load(t.Context())
	require.Error(t, err)
	assert.NotErrorIs(t, err, storage.ErrNoToken)
	assert.Contains(t, err.Error(), "not a regular file")
}

func TestFileWritesStableJSONShape(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	require.NoError(t, storage.NewFile(path).Save(t.Context(), secret))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, map[string]any{
		"access_token":  "s3cr3t-access",
		"token_type":    "Bearer",
		"refresh_token": "s3cr3t-refresh",
		"expiry":        "2030-01-01T00:00:00Z",
	}, got)
}

func TestFileReadsTokenWrittenByHand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	require.NoError(t, os.WriteFile(path, []byte(`{
		"access_token": "a", "token_type": "Bearer", "refresh_token": "r",
		"expiry": "2030-01-01T02:00:00+02:00"}`), 0o600))
	tok, err := storage.NewFile(path).Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "a", tok.AccessToken)
	assert.Equal(t, "r", tok.RefreshToken)
	assert.True(t, tok.Expiry.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), "expiry %v", tok.Expiry)
}

func TestFileSavesLeaveNoTempFiles(t *testing.T) {
	dir := t.TempDir()
	f := storage.NewFile(filepath.Join(dir, "token.json"))
	for i := range 5 {
		require.NoError(t, f.Save(t.Context(), &oauth2.Token{AccessToken: fmt.Sprint("a", i)}))
	}
	require.NoError(t, f.Clear(t.Context()))
	require.NoError(t, f.Save(t.Context(), secret))
	assert.Equal(t, []string{"token.json"}, dirNames(t, dir))
}

func TestFileClearRemovesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	f := storage.NewFile(path)
	require.NoError(t, f.Save(t.Context(), secret))
	require.NoError(t, f.Clear(t.Context()))
	_, err := os.Stat(path)
	assert.True(t, os.IsNotExist(err), "Clear left the token file: %v", err)
}

func TestFileRelativePathIsMadeAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	f := storage.NewFile("token.json")
	want, err := filepath.Abs("token.json")
	require.NoError(t, err)
	assert.Equal(t, want, f.Path())
}

func TestFileLockExcludesAnotherFileValueOnTheSamePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	a, b := storage.NewFile(path), storage.NewFile(path)

	unlock, err := a.Lock(t.Context())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = b.Lock(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "b locked the path while a held it")
	assert.True(t, strings.HasPrefix(err.Error(), "storage: lock "+path+".lock"), err.Error())

	require.NoError(t, unlock(t.Context()))
	unlockB, err := b.Lock(t.Context())
	require.NoError(t, err)
	require.NoError(t, unlockB(t.Context()))
}

func TestFileLockDoesNotExcludeOtherPaths(t *testing.T) {
	dir := t.TempDir()
	unlockA, err := storage.NewFile(filepath.Join(dir, "a.json")).Lock(t.Context())
	require.NoError(t, err)
	defer unlockA(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	unlockB, err := storage.NewFile(filepath.Join(dir, "b.json")).Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, unlockB(t.Context()))
}

// TestFileLockExcludesAnotherProcess runs this test binary again as a helper
// (see TestMain) that holds the lock, so the flock itself is what excludes us:
// the in-process lock cannot.
func TestFileLockExcludesAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdLockEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "helper: %s", stderr.String())
	require.Equal(t, "locked\n", line)

	f := storage.NewFile(path)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err = f.Lock(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "locked while another process held the lock")

	require.NoError(t, stdin.Close()) // the helper unlocks and exits
	require.NoError(t, cmd.Wait(), "helper: %s", stderr.String())
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	unlock, err := f.Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, unlock(t.Context()))
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
