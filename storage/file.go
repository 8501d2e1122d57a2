package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/oauth2"
)

// maxFileSize bounds what Load reads, so a path pointing at the wrong file
// fails fast instead of filling memory. A token is well under 64 KiB.
const maxFileSize = 1 << 20

// File is a [TokenStore] and [Locker] that keeps the token in a JSON file,
// for tokens that must outlive the process (a CLI's login) or be shared by
// processes on one machine.
//
// The file holds one JSON object with the fields access_token, token_type,
// refresh_token and, for a token that expires, expiry (RFC 3339). Other
// fields of oauth2.Token (ExpiresIn, extra data) are not stored. The file is
// created with mode 0600, its parent directory with mode 0700 when missing.
// Every Save writes a temporary file in the same directory, syncs it to disk
// and renames it over the token file, so readers and a crash at any moment
// see either the old token or the new one, whole.
//
// Load refuses a file that group or others may read or write, with an error
// that says which chmod fixes it; a file that does not hold a token of this
// shape is an error wrapping [ErrCorrupt]; a missing file is [ErrNoToken].
// Every method refuses a symlink, directory, FIFO or anything else but a
// regular file at the token path (Lock: at the lock path), without blocking
// and without following or removing it, and a token directory that anyone
// may write to and that has no sticky bit. Other errors are the operating
// system's, wrapped, and mean the file could not be read or written.
//
// Lock takes an exclusive flock(2) on the sidecar file path+".lock" (the
// token file itself is replaced by every Save, so its lock would not hold),
// together with an in-process lock on the same path, so it excludes other
// processes, other File values and other goroutines alike. The sidecar file
// is created when missing and never removed.
//
// File is safe for concurrent use by multiple goroutines, and by multiple
// processes on the same path.
type File struct {
	path     string
	lockPath string

	// Hooks for the steps of Save that tests make fail; nil in production,
	// where the os functions run.
	writeHook  func(f *os.File, b []byte) error
	renameHook func(oldpath, newpath string) error
}

// NewFile returns a [File] store that keeps the token at path. A relative
// path is made absolute against the working directory at the time of the
// call. Nothing is created until the first Save or Lock.
func NewFile(path string) *File {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return &File{path: path, lockPath: path + ".lock"}
}

// Path returns the absolute path of the token file.
func (f *File) Path() string { return f.path }

// Load reads the token from the file. It returns [ErrNoToken] when the file
// does not exist, and refuses, without blocking, a symlink, directory, FIFO
// or anything else but a regular file at the path.
func (f *File) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: load %s: %w", f.path, err)
	}
	if err := checkDir(f.path); err != nil {
		return nil, err
	}
	fh, fi, err := openRegular("token file", f.path, "load", os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoToken
	}
	if err != nil {
		return nil, err
	}
	defer fh.Close()

	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("storage: token file %s has mode %04o; it must not be readable or writable by group or others: run chmod 600 %s",
			f.path, uint32(perm), shellQuote(f.path))
	}
	b, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("storage: load: %w", err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("storage: token file %s: %w: larger than %d bytes", f.path, ErrCorrupt, maxFileSize)
	}
	tok, err := decodeToken(b)
	if err != nil {
		return nil, fmt.Errorf("storage: token file %s: %w", f.path, err)
	}
	return tok, nil
}

// Save writes tok to the file atomically: a temporary file in the same
// directory is written, synced and renamed over the token file. On error the
// previous token, if any, is left in place and the temporary file removed. A
// nil tok is an error; use [File.Clear] to remove the token. A regular file
// at the path is replaced whatever its mode; anything else there (a symlink,
// directory, FIFO) is refused and left in place.
func (f *File) Save(ctx context.Context, tok *oauth2.Token) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: save %s: %w", f.path, err)
	}
	if tok == nil {
		return errNilToken
	}
	b, err := encodeToken(tok)
	if err != nil {
		return fmt.Errorf("storage: save: %w", err)
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("storage: save: %w", err)
	}
	if err := checkDir(f.path); err != nil {
		return err
	}
	// The rename below would replace a symlink or FIFO (never what it points
	// to) and fail on a directory; refuse them all up front, as Load does,
	// rather than silently undo what someone put there.
	if fi, err := os.Lstat(f.path); err == nil && !fi.Mode().IsRegular() {
		return notRegular("token file", f.path, fi.Mode())
	}
	// CreateTemp opens with mode 0600, so the token is never readable by
	// others, not even before the rename.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("storage: save: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	write := f.writeHook
	if write == nil {
		write = func(fh *os.File, b []byte) error { _, err := fh.Write(b); return err }
	}
	if err := write(tmp, b); err != nil {
		return fmt.Errorf("storage: save: write %s: %w", tmp.Name(), err)
	}
	// Sync before the rename: otherwise a crash can leave the new name
	// pointing at a file whose data never reached the disk.
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("storage: save: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("storage: save: close %s: %w", tmp.Name(), err)
	}
	rename := f.renameHook
	if rename == nil {
		rename = os.Rename
	}
	if err := rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("storage: save: %w", err)
	}
	committed = true
	syncDir(dir)
	return nil
}

// Clear removes the token file. A missing file is not an error; a
// directory, symlink, FIFO or anything else but a regular file at the path
// is, and is left in place.
func (f *File) Clear(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: clear %s: %w", f.path, err)
	}
	if err := checkDir(f.path); err != nil {
		return err
	}
	fi, err := os.Lstat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: clear: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return notRegular("token file", f.path, fi.Mode())
	}
	if err := removeFile(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: clear: %w", err)
	}
	return nil
}

// checkDir refuses the directory of the token file at path when anyone may
// write to it and it has no sticky bit: anyone could then rename a token of
// their own over this one, or replace the lock file. With the sticky bit, as
// on /tmp, only a file's owner may rename or remove it. A missing directory
// passes; the caller then finds no file either. The directory is the one a
// symlinked parent points to.
func checkDir(path string) error {
	if runtime.GOOS == "windows" {
		// Go makes up Windows modes from the read-only attribute; they say
		// nothing about who may write.
		return nil
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	if fi.Mode().Perm()&0o002 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return fmt.Errorf("storage: directory %s of token file %s is writable by anyone and has no sticky bit, so anyone could replace the token: run chmod o-w %s (or chmod +t)",
			dir, path, shellQuote(dir))
	}
	return nil
}

// openRegular opens path, which must be a regular file (what names it in
// errors; op is the method, for wrapping the operating system's errors). It
// never follows a symlink at path and never waits: open(2) of a FIFO waits
// for a writer. The Lstat gives the refusal its wording; the open flags and
// the Stat of the open file make it hold if path changes in between.
func openRegular(what, path, op string, flag int, perm fs.FileMode) (*os.File, fs.FileInfo, error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, nil, notRegular(what, path, fi.Mode())
	}
	fh, err := os.OpenFile(path, flag|openNoFollow|openNonblock, perm)
	if err != nil {
		// A symlink that appeared since the Lstat: each system has its own
		// errno for O_NOFOLLOW (ELOOP, EMLINK, EFTYPE), so look again.
		if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
			return nil, nil, notRegular(what, path, fi.Mode())
		}
		return nil, nil, fmt.Errorf("storage: %s: %w", op, err)
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, nil, fmt.Errorf("storage: %s: %w", op, err)
	}
	if !fi.Mode().IsRegular() {
		fh.Close()
		return nil, nil, notRegular(what, path, fi.Mode())
	}
	return fh, fi, nil
}

// notRegular is the error for something other than a regular file where the
// store keeps one (what: "token file", "lock file").
func notRegular(what, path string, mode fs.FileMode) error {
	var kind string
	switch {
	case mode&fs.ModeSymlink != 0:
		kind = "a symbolic link"
	case mode.IsDir():
		kind = "a directory"
	case mode&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case mode&fs.ModeSocket != 0:
		kind = "a socket"
	case mode&fs.ModeDevice != 0:
		kind = "a device"
	default:
		kind = "a special file"
	}
	return fmt.Errorf("storage: %s %s is %s, not a regular file; move it away or use another path", what, path, kind)
}

// syncDir makes a rename in dir durable. Some file systems refuse to sync a
// directory; the rename is then as durable as they make it, so the error is
// ignored.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// shellQuote quotes path for a POSIX shell when it holds characters the shell
// would interpret, so the chmod advice can be pasted as is.
func shellQuote(path string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@,%=", r)
	}
	if path != "" && strings.IndexFunc(path, func(r rune) bool { return !safe(r) }) < 0 {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}
