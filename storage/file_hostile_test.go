//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package storage_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
)

// These tests put what a hostile or broken file system can hold where the
// File store expects a token file, a lock file or a private directory. They
// need FIFOs and sockets, hence the build constraint.

// prompt bounds how long a File method may take on a path it must refuse.
const prompt = 2 * time.Second

// nonRegular makes something other than a regular file at path: each entry is
// one kind DESIGN.md says the store refuses, with the word its error uses.
var nonRegular = []struct {
	kind string
	word string
	make func(t *testing.T, path string)
}{
	{"directory", "directory", func(t *testing.T, path string) { require.NoError(t, os.Mkdir(path, 0o700)) }},
	{"FIFO", "named pipe", func(t *testing.T, path string) { require.NoError(t, syscall.Mkfifo(path, 0o600)) }},
	{"socket", "socket", makeSocket},
	{"dangling symlink", "symbolic link", func(t *testing.T, path string) {
		require.NoError(t, os.Symlink(filepath.Join(filepath.Dir(path), "target"), path))
	}},
	{"symlink to a token file", "symbolic link", func(t *testing.T, path string) {
		target := filepath.Join(filepath.Dir(path), "target")
		require.NoError(t, storage.NewFile(target).Save(t.Context(), secret))
		require.NoError(t, os.Symlink(target, path))
	}},
}

func makeSocket(t *testing.T, path string) {
	// A socket path must fit in sun_path (108 bytes on Linux); t.TempDir()
	// can be longer, so bind in a short directory and move the socket.
	short, err := os.MkdirTemp("", "sock")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(short) })
	l, err := net.Listen("unix", filepath.Join(short, "s"))
	require.NoError(t, err)
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, l.Close())
	require.NoError(t, os.Rename(filepath.Join(short, "s"), path))
}

// callPromptly runs fn and fails the test when it has not returned within
// [prompt]. A call stuck opening a FIFO at path is then released by opening
// the FIFO for writing, so that no goroutine outlives the test.
func callPromptly(t *testing.T, path string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(prompt):
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-done
		t.Fatalf("still blocked after %v on %s", prompt, path)
		return nil
	}
}

// lockOnce takes and releases the lock, so that a test can call it promptly.
func lockOnce(ctx context.Context, f *storage.File) error {
	unlock, err := f.Lock(ctx)
	if err != nil {
		return err
	}
	return unlock(context.Background())
}

// assertRefusal checks the error of a File method that met something it must
// refuse: an error of this package, not ErrNoToken, naming path and the
// problem.
func assertRefusal(t *testing.T, err error, path, word string) {
	t.Helper()
	require.Error(t, err)
	assert.NotErrorIs(t, err, storage.ErrNoToken)
	assert.True(t, strings.HasPrefix(err.Error(), "storage: "), err.Error())
	msg := err.Error()
	i := strings.LastIndex(msg, path)
	require.GreaterOrEqual(t, i, 0, "the error does not name %s: %s", path, msg)
	// The temp directory's name holds the subtest's name, so look for the
	// problem after the path only.
	assert.Contains(t, msg[i+len(path):], " "+word, msg)
	assert.NotContains(t, msg, "s3cr3t")
}

// assertUntouched checks that what the test made at path, and the target of a
// symlink, are still there as they were.
func assertUntouched(t *testing.T, path string, before os.FileInfo) {
	t.Helper()
	after, err := os.Lstat(path)
	require.NoError(t, err, "%s is gone", path)
	assert.Equal(t, before.Mode(), after.Mode(), "%s changed", path)
	assert.True(t, os.SameFile(before, after), "%s was replaced", path)
	target := filepath.Join(filepath.Dir(path), "target")
	if before.Mode()&os.ModeSymlink == 0 {
		return
	}
	if tok, err := storage.NewFile(target).Load(t.Context()); err == nil {
		assert.Equal(t, secret.AccessToken, tok.AccessToken, "the symlink's target was changed")
	} else {
		_, err := os.Lstat(target)
		assert.ErrorIs(t, err, os.ErrNotExist, "something was created through the dangling symlink")
	}
}

func TestFileLockRefusesAnythingButARegularFileAtTheLockPath(t *testing.T) {
	for _, c := range nonRegular {
		t.Run(c.kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token.json")
			lockPath := path + ".lock"
			c.make(t, lockPath)
			before, err := os.Lstat(lockPath)
			require.NoError(t, err)

			err = callPromptly(t, lockPath, func() error { return lockOnce(t.Context(), storage.NewFile(path)) })
			assertRefusal(t, err, lockPath, c.word)
			assert.Contains(t, err.Error(), "lock file")
			assertUntouched(t, lockPath, before)
		})
	}
}

func TestFileClearRemovesOnlyARegularFile(t *testing.T) {
	for _, c := range nonRegular {
		t.Run(c.kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token.json")
			c.make(t, path)
			before, err := os.Lstat(path)
			require.NoError(t, err)

			err = callPromptly(t, path, func() error { return storage.NewFile(path).Clear(t.Context()) })
			assertRefusal(t, err, path, c.word)
			assertUntouched(t, path, before)
		})
	}
}

func TestFileLoadRefusesAnythingButARegularFileWithoutBlocking(t *testing.T) {
	for _, c := range nonRegular {
		t.Run(c.kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token.json")
			c.make(t, path)
			before, err := os.Lstat(path)
			require.NoError(t, err)

			err = callPromptly(t, path, func() error {
				tok, err := storage.NewFile(path).Load(t.Context())
				assert.Nil(t, tok)
				return err
			})
			assertRefusal(t, err, path, c.word)
			assertUntouched(t, path, before)
		})
	}
}

func TestFileSaveRefusesToReplaceAnythingButARegularFile(t *testing.T) {
	for _, c := range nonRegular {
		t.Run(c.kind, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "token.json")
			c.make(t, path)
			before, err := os.Lstat(path)
			require.NoError(t, err)

			err = callPromptly(t, path, func() error { return storage.NewFile(path).Save(t.Context(), secret) })
			assertRefusal(t, err, path, c.word)
			assertUntouched(t, path, before)
			for _, name := range dirNames(t, dir) {
				assert.False(t, strings.Contains(name, ".tmp-"), "temp file %s left behind", name)
			}
		})
	}
}

// TestFileMethodsReturnAtOnceWhenCtxIsDone puts FIFOs at the token and lock
// paths, where an open without O_NONBLOCK would wait for a writer: a done ctx
// must still end every method at once.
func TestFileMethodsReturnAtOnceWhenCtxIsDone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	require.NoError(t, syscall.Mkfifo(path+".lock", 0o600))
	f := storage.NewFile(path)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	for name, call := range map[string]func() error{
		"Load":  func() error { _, err := f.Load(ctx); return err },
		"Save":  func() error { return f.Save(ctx, secret) },
		"Clear": func() error { return f.Clear(ctx) },
		"Lock":  func() error { return lockOnce(ctx, f) },
	} {
		err := callPromptly(t, path, call)
		assert.ErrorIs(t, err, context.Canceled, name)
		assert.True(t, err != nil && strings.HasPrefix(err.Error(), "storage: "), "%s: %v", name, err)
	}
}

// worldWritable makes a token directory that anyone may write, with the
// sticky bit or without, and a token in it.
func worldWritable(t *testing.T, sticky bool) (dir, path string) {
	dir = filepath.Join(t.TempDir(), "shared")
	path = filepath.Join(dir, "token.json")
	require.NoError(t, storage.NewFile(path).Save(t.Context(), secret))
	mode := os.FileMode(0o777)
	if sticky {
		mode |= os.ModeSticky
	}
	require.NoError(t, os.Chmod(dir, mode)) // Chmod, not Mkdir: the umask would narrow it
	return dir, path
}

func TestFileRefusesAWorldWritableDirectoryWithoutStickyBit(t *testing.T) {
	dir, path := worldWritable(t, false)
	f := storage.NewFile(path)
	for name, call := range map[string]func() error{
		"Load":  func() error { _, err := f.Load(t.Context()); return err },
		"Save":  func() error { return f.Save(t.Context(), newer) },
		"Clear": func() error { return f.Clear(t.Context()) },
		"Lock":  func() error { return lockOnce(t.Context(), f) },
	} {
		err := callPromptly(t, path, call)
		require.Error(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), "storage: "), "%s: %v", name, err)
		assert.Contains(t, err.Error(), dir, name)
		assert.Contains(t, err.Error(), "writable by anyone", name)
		assert.Contains(t, err.Error(), "sticky", name)
		assert.NotContains(t, err.Error(), "s3cr3t", name)
	}

	assert.Equal(t, []string{"token.json"}, dirNames(t, dir), "Save or Lock created a file, or Clear removed one")
	require.NoError(t, os.Chmod(dir, 0o700))
	tok, err := f.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, secret.AccessToken, tok.AccessToken, "the refused Save replaced the token")
}

func TestFileAcceptsAWorldWritableDirectoryWithStickyBit(t *testing.T) {
	_, path := worldWritable(t, true)
	f := storage.NewFile(path)
	tok, err := f.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, secret.AccessToken, tok.AccessToken)
	require.NoError(t, f.Save(t.Context(), newer))
	require.NoError(t, lockOnce(t.Context(), f))
	require.NoError(t, f.Clear(t.Context()))
}

// TestFileChecksTheDirectoryASymlinkedParentPointsTo checks the directory the
// token really lives in: a symlinked config directory is common, and the
// symlink's own mode bits say nothing.
func TestFileChecksTheDirectoryASymlinkedParentPointsTo(t *testing.T) {
	dir, _ := worldWritable(t, false)
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(dir, link))
	_, err := storage.NewFile(filepath.Join(link, "token.json")).Load(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "writable by anyone")

	require.NoError(t, os.Chmod(dir, 0o700))
	_, err = storage.NewFile(filepath.Join(link, "token.json")).Load(t.Context())
	require.NoError(t, err)
}

// newer is a token other than secret, for Saves that must not land.
var newer = &oauth2.Token{AccessToken: "s3cr3t-newer-access", TokenType: "Bearer"}
