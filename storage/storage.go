package storage

import (
	"context"
	"errors"

	"golang.org/x/oauth2"
)

// ErrNoToken is returned by [TokenStore.Load] when the store holds no token:
// nothing was saved yet, or the token was cleared. It is a condition, not a
// failure: test for it with errors.Is and ask the user to log in.
var ErrNoToken = errors.New("storage: no token")

// ErrCorrupt is wrapped by the error [File.Load], or the Load of
// storage/redisstore's Store, returns when the stored data is not a token
// these stores wrote: invalid JSON, or JSON of another shape. The Load of a
// store from [NewEncrypted] wraps it too for a value that is not sealed,
// that no key opens, or that was altered. The store is left as it is;
// [TokenStore.Clear] or [TokenStore.Save] replaces it. It is never returned
// for an empty store.
var ErrCorrupt = errors.New("storage: stored token is corrupt")

// ErrLockExpired is wrapped by the error an unlock function returns when the
// lock it would release had already expired, so for some time the holder ran
// without mutual exclusion and another holder may have taken the lock. The
// unlock leaves the other holder's lock in place. Only leased locks, such as
// storage/redisstore's, expire.
var ErrLockExpired = errors.New("storage: lock expired before unlock")

// TokenStore keeps one OAuth2 token.
//
// Implementations must be safe for concurrent use by multiple goroutines. A
// Load that runs concurrently with a Save returns either the old token or the
// new one, whole, never a mix of the two.
//
// Load returns a token the caller owns: changing it must not change the stored
// token. Save stores a copy of tok: changing tok after Save returns must not
// change the stored token either. Save must not retain or modify tok.
//
// Load returns [ErrNoToken] (errors.Is) when the store is empty; any other
// error means the store could not be read, and says nothing about whether a
// token exists. Save overwrites any stored token; an error means the old token
// may still be stored but no partial token is. Clear removes the token;
// clearing an empty store is not an error. All three return an error wrapping
// ctx.Err() when ctx is already done, and give up when ctx ends.
//
// Error messages must never contain a token value: they get logged.
type TokenStore interface {
	Load(ctx context.Context) (*oauth2.Token, error)
	Save(ctx context.Context, tok *oauth2.Token) error
	Clear(ctx context.Context) error
}

// Locker is implemented by stores that several processes can share. The
// auth package's Authenticator takes the lock around a refresh, reloads the
// token and refreshes only if no other process already has, so the processes
// sharing the store refresh once per expiry (see docs/storage.md).
//
// Lock blocks until it holds the lock or ctx ends, in which case it returns an
// error wrapping ctx.Err(). Any other error means the lock could not be taken
// (for instance the lock's backend is unreachable), and the caller does not
// hold it. The lock is exclusive between processes and between goroutines of
// one process, and it is not reentrant: a second Lock by the holder waits like
// any other.
//
// On success Lock returns an unlock function that must be called once, with a
// context that bounds the release (use context.WithoutCancel if the caller's
// context may already be done). Calling it again does nothing and returns nil.
// An unlock error means the release could not be confirmed; a lease-based
// lock then expires on its own.
//
// Implementations must be safe for concurrent use by multiple goroutines.
type Locker interface {
	Lock(ctx context.Context) (unlock func(context.Context) error, err error)
}
