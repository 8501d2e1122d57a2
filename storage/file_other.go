//go:build !(darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd)

package storage

import (
	"context"
	"fmt"
	"os"

	"github.com/gofrs/flock"
)

// Here open has no portable flag to refuse a symlink or not to wait for a
// FIFO, so the store relies on the Lstat that openRegular and lockFile do
// before they open.
const (
	openNoFollow = 0
	openNonblock = 0
)

// lockFile takes an exclusive lock on the file at path with gofrs/flock
// (LockFileEx on Windows, fcntl elsewhere), creating it with mode 0600 when
// missing, and retries every [fileLockRetry] until it holds the lock or ctx
// ends. Anything but a regular file at path is refused.
func lockFile(ctx context.Context, path string) (unlock func() error, err error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, notRegular("lock file", path, fi.Mode())
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, fileLockRetry)
	if err == nil && !ok {
		err = ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("storage: lock %s: %w", path, err)
	}
	return fl.Unlock, nil // also closes the descriptor
}

func removeFile(path string) error { return os.Remove(path) }
