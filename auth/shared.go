package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
)

// sharedStore is the token store as processes that share it use it. When
// the store is also a storage.Locker, a refresh takes its lock, reloads the
// token, and adopts one that another process saved instead of refreshing
// again, so the processes refresh once per expiry, as refresh-token
// rotation needs. SetToken and Logout write under the same lock, so they
// never land inside another process's refresh, whose save would undo them.
type sharedStore struct {
	storage.TokenStore
	locker  storage.Locker // nil: the store is this process's alone
	timeout time.Duration  // bounds the writes that must happen after a deadline
}

func newSharedStore(s storage.TokenStore, timeout time.Duration) sharedStore {
	locker, _ := s.(storage.Locker)
	return sharedStore{TokenStore: s, locker: locker, timeout: timeout}
}

// lock takes the store's lock, when it has one; unlock never fails the
// caller, as a lease that outlived it expires on its own.
func (s sharedStore) lock(ctx context.Context) (unlock func(), err error) {
	if s.locker == nil {
		return func() {}, nil
	}
	release, err := s.locker.Lock(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	return func() {
		uctx, cancel := s.cleanup(ctx)
		defer cancel()
		_ = release(uctx)
	}, nil
}

// cleanup bounds the store writes that must happen even when ctx's
// deadline has passed or is about to: a release, a clear, the save of a
// rotated token.
func (s sharedStore) cleanup(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
}

// save saves tok on a context of its own, so a Refresher that used most of
// the refresh's time does not leave a rotated refresh token unsaved.
func (s sharedStore) save(ctx context.Context, tok *oauth2.Token) error {
	sctx, cancel := s.cleanup(ctx)
	defer cancel()
	return s.Save(sctx, tok)
}

func (s sharedStore) clear(ctx context.Context) {
	cctx, cancel := s.cleanup(ctx)
	defer cancel()
	_ = s.Clear(cctx)
}

// plan is what a refresh does after reloading a shared store.
type plan struct {
	adopt *oauth2.Token // another process's newer token: take it, do not refresh
	stale *oauth2.Token // else the token to refresh
}

// reload reads the store under its lock, and decides between adopting what
// it holds and refreshing. What it holds is not adopted when it cannot be
// another process's refresh: when saving the current token failed (the
// store holds an older token, or none, because of that), or when it is one
// of this process's earlier tokens (written back by someone). A store that
// cannot be read fails with errUnavailable: nothing was learnt about the
// token. An empty one means another process logged out.
//
// With login, a store that is empty when this process holds no token
// either means: log in.
func (s sharedStore) reload(ctx context.Context, state *tokenState, cur *current, login bool) (plan, error) {
	stale := cur.tok
	if s.locker == nil {
		return plan{stale: stale}, nil
	}
	stored, err := s.Load(ctx)
	switch {
	case err != nil && !errors.Is(err, storage.ErrNoToken):
		return plan{}, fmt.Errorf("reload token: %w", err)
	case cur.unsaved:
		return plan{stale: stale}, nil
	case err != nil && (login && stale == nil):
		return plan{}, nil
	case err != nil:
		return plan{}, errNoToken
	case stored.AccessToken == "" || (stale != nil && stored.AccessToken == stale.AccessToken):
		return plan{stale: stored}, nil // the same access token; its refresh token is the newest
	case state.olderOwn(stored, cur) || !state.sendable(stored):
		return plan{stale: stale}, nil
	}
	return plan{adopt: stored}, nil
}
