package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/oauth2"
)

// Memory is a [TokenStore] that keeps the token in the process, lost when the
// process exits. It is the store to use when one process owns the token, and
// the default of auth.Options.Store.
//
// Memory is safe for concurrent use by multiple goroutines. It stores a copy
// of the saved token and returns a copy on every Load, so neither the caller
// of Save nor the caller of Load can change what is stored, with one
// exception: the extra data set with oauth2.Token.WithExtra is kept and
// returned by reference, as oauth2.Token offers no way to copy it. Treat
// what Extra returns as read-only. Its only errors
// are [ErrNoToken], a nil token given to Save, and a done context. It is not
// a [Locker]: one process needs no lock beyond the Authenticator's own.
//
// The zero value is an empty store ready to use.
type Memory struct {
	mu  sync.Mutex
	tok *oauth2.Token // nil when empty; never shared with a caller
}

// NewMemory returns an empty [Memory] store.
func NewMemory() *Memory {
	return &Memory{}
}

// Load returns a copy of the stored token, or [ErrNoToken] when the store is
// empty.
func (m *Memory) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: memory load: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tok == nil {
		return nil, ErrNoToken
	}
	c := *m.tok
	return &c, nil
}

// Save stores a copy of tok, replacing any stored token. A nil tok is an
// error; use [Memory.Clear] to remove the token.
func (m *Memory) Save(ctx context.Context, tok *oauth2.Token) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: memory save: %w", err)
	}
	if tok == nil {
		return errNilToken
	}
	c := *tok
	m.mu.Lock()
	m.tok = &c
	m.mu.Unlock()
	return nil
}

// Clear removes the stored token. Clearing an empty store is not an error.
func (m *Memory) Clear(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: memory clear: %w", err)
	}
	m.mu.Lock()
	m.tok = nil
	m.mu.Unlock()
	return nil
}

var errNilToken = errors.New("storage: save: nil token (use Clear to remove the token)")
