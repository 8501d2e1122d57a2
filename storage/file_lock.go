package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// fileLockRetry is how often a waiting [File.Lock] retries the flock. Locks
// are held for the length of a token refresh, so polling costs little and
// lets the wait end as soon as ctx does.
const fileLockRetry = 10 * time.Millisecond

// Lock takes the exclusive lock of the token file: an flock on path+".lock"
// and an in-process lock on the same path. It waits until both are held or
// ctx ends. The returned unlock releases both; its context is not used, since
// releasing an flock does not block.
//
// A symlink, directory, FIFO or anything else but a regular file at
// path+".lock" is refused, and nothing is created through it; so is a token
// directory that anyone may write to and that has no sticky bit.
func (f *File) Lock(ctx context.Context) (func(context.Context) error, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: lock %s: %w", f.lockPath, err)
	}
	if err := os.MkdirAll(filepath.Dir(f.lockPath), 0o700); err != nil {
		return nil, fmt.Errorf("storage: lock: %w", err)
	}
	if err := checkDir(f.path); err != nil {
		return nil, err
	}
	// flock(2) locks belong to an open file description, so two Lock calls of
	// one process would already exclude each other on Linux; the in-process
	// lock makes that hold where flock is emulated with per-process fcntl
	// locks too, and keeps a process's goroutines from polling the file.
	release, err := inProcessLocks.acquire(ctx, f.lockPath)
	if err != nil {
		return nil, fmt.Errorf("storage: lock %s: %w", f.lockPath, err)
	}
	unlockFile, err := lockFile(ctx, f.lockPath)
	if err != nil {
		release()
		return nil, err
	}

	var once sync.Once
	return func(context.Context) error {
		var err error
		once.Do(func() {
			err = unlockFile()
			release()
		})
		if err != nil {
			return fmt.Errorf("storage: unlock %s: %w", f.lockPath, err)
		}
		return nil
	}, nil
}

// inProcessLocks holds one lock per lock-file path while someone holds or
// waits for it, so every File value of the process on that path shares it.
var inProcessLocks = pathLocks{m: make(map[string]*pathLock)}

type pathLocks struct {
	mu sync.Mutex
	m  map[string]*pathLock
}

type pathLock struct {
	held  chan struct{} // a one-slot semaphore: full while held
	users int           // holders and waiters; the entry goes at 0
}

func (p *pathLocks) acquire(ctx context.Context, path string) (release func(), err error) {
	p.mu.Lock()
	l := p.m[path]
	if l == nil {
		l = &pathLock{held: make(chan struct{}, 1)}
		p.m[path] = l
	}
	l.users++
	p.mu.Unlock()

	done := func() {
		p.mu.Lock()
		l.users--
		if l.users == 0 {
			delete(p.m, path)
		}
		p.mu.Unlock()
	}
	select {
	case l.held <- struct{}{}:
		return func() { <-l.held; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
