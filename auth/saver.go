package auth

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
)

// saver is a background save of a refreshed token the store failed to
// save (see keepSaving), and the store's lock it holds for it. This
// process's next refresh takes the lock over rather than waiting for it:
// the save ends only when a newer token replaces this one, and only that
// refresh can make one.
type saver struct {
	mu     sync.Mutex    // held during each save attempt, so none lands after a takeover
	unlock func()        // the store's lock
	ended  bool          // taken over, or finished and unlocked
	stop   chan struct{} // closed at a takeover: wakes the waiting saver
}

// keepSaving retries the save of tok, with backoff, holding the store's
// lock all along (unlock is called at the end): under refresh-token
// rotation the store's older refresh token is already spent, so another
// process, or this one after a restart, must not read the store before tok
// lands. It stops when the save lands; when tok is no longer the current
// token or a SetToken or Logout is about to replace it (its own write is
// its caller's); when a fenced store says the lock was lost (another holder
// may have saved a newer token); or when this process's next refresh takes
// the lock over.
//
// It returns at once, the saver registered, so a refresh that starts from
// now on takes the lock over; the saving goes on in a goroutine.
func (a *Authenticator) keepSaving(tok *oauth2.Token, unlock func()) {
	s := &saver{unlock: unlock, stop: make(chan struct{})}
	a.saveMu.Lock()
	a.saver = s
	a.saveMu.Unlock()
	go a.saveLoop(s, tok)
}

func (a *Authenticator) saveLoop(s *saver, tok *oauth2.Token) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for wait := saveRetryMin; ; wait = min(2*wait, saveRetryMax) {
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-s.stop:
			return // the lock is the next refresh's now
		}
		s.mu.Lock()
		if s.ended {
			s.mu.Unlock()
			return
		}
		if a.state.load().tok != tok || a.flight.replacing.Load() {
			a.endSave(s) // replaced, or about to be by a SetToken or Logout waiting for the lock
			return
		}
		err := recovered("the store's Save", func() error { return a.store.save(context.Background(), tok) })
		if err == nil {
			a.state.markSaved(tok)
			a.endSave(s)
			return
		}
		a.saveFails.Add(1)
		if errors.Is(err, storage.ErrLockExpired) {
			a.endSave(s)
			return
		}
		s.mu.Unlock()
	}
}

// endSave ends s, whose mu the caller holds, and releases the lock.
func (a *Authenticator) endSave(s *saver) {
	s.ended = true
	a.saveMu.Lock()
	if a.saver == s {
		a.saver = nil
	}
	a.saveMu.Unlock()
	s.mu.Unlock()
	// On the saver's own goroutine: a store's panic must not end the process.
	_ = recovered("the store's unlock", func() error { s.unlock(); return nil })
}

// takeOverSave ends the background save under way, if any, after its
// attempt in flight, and returns the store's lock it held; nil when none
// runs.
func (a *Authenticator) takeOverSave() (unlock func()) {
	a.saveMu.Lock()
	s := a.saver
	a.saver = nil
	a.saveMu.Unlock()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil
	}
	s.ended = true
	close(s.stop)
	return s.unlock
}

// The backoff between the attempts of keepSaving.
const (
	saveRetryMin = 50 * time.Millisecond
	saveRetryMax = 2 * time.Second
)
