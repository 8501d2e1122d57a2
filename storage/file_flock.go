//go:build darwin || dragonfly || freebsd || illumos || linux || netbsd || openbsd

package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// On these systems open(2) can refuse a symlink as the last path element
// and skip waiting for a FIFO's writer, and flock(2) locks an open file, so
// the file checked is the file locked.
const (
	openNoFollow = syscall.O_NOFOLLOW
	openNonblock = syscall.O_NONBLOCK
)

// lockFile takes an exclusive flock on the regular file at path, creating it
// with mode 0600 when missing, and retries every [fileLockRetry] until it
// holds the lock or ctx ends. A symlink or anything else that is not a
// regular file at path is refused, and nothing is created through it.
func lockFile(ctx context.Context, path string) (unlock func() error, err error) {
	fh, _, err := openRegular("lock file", path, "lock", os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	reopened := false
	for {
		err := flock(fh, syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			// Closing the only descriptor of the open file releases the lock.
			return fh.Close, nil
		case errors.Is(err, syscall.EWOULDBLOCK), errors.Is(err, syscall.EINTR):
		case !reopened && (errors.Is(err, syscall.EBADF) || errors.Is(err, syscall.EIO)):
			// NFS emulates flock with fcntl locks, and an exclusive one
			// needs a descriptor open for writing (util-linux's flock(1)
			// and gofrs/flock retry the same way).
			fh.Close()
			reopened = true
			if fh, _, err = openRegular("lock file", path, "lock", os.O_RDWR, 0); err != nil {
				return nil, err
			}
			continue
		default:
			fh.Close()
			return nil, fmt.Errorf("storage: lock: %w", &fs.PathError{Op: "flock", Path: path, Err: err})
		}
		select {
		case <-ctx.Done():
			fh.Close()
			return nil, fmt.Errorf("storage: lock %s: %w", path, ctx.Err())
		case <-time.After(fileLockRetry):
		}
	}
}

func flock(fh *os.File, how int) error {
	rc, err := fh.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = syscall.Flock(int(fd), how) }); err != nil {
		return err
	}
	return ferr
}

// removeFile removes the file at path with unlink(2), which, unlike
// os.Remove, never removes a directory, even one that took the file's place
// after the caller looked.
func removeFile(path string) error {
	if err := syscall.Unlink(path); err != nil {
		return &fs.PathError{Op: "unlink", Path: path, Err: err}
	}
	return nil
}
