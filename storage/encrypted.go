package storage

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"
)

// keySize is the length of an AES-256 key, in bytes.
const keySize = 32

// sealedPrefix starts the access token of an envelope: the version of the
// format, which is also the additional data the seal authenticates, so a
// value sealed for one version never opens as another. An envelope is a
// token whose AccessToken is sealedPrefix followed by the unpadded base64url
// of nonce (12 bytes) || ciphertext || GCM tag (16 bytes), where the
// plaintext is the token's JSON as File writes it; its other fields are
// empty. The prefix and base64url are header-safe (RFC 9110 token68), so
// any inner store that accepts a bearer token accepts the envelope.
const sealedPrefix = "axios.enc.v1."

var sealedEncoding = base64.RawURLEncoding.Strict()

// NewEncrypted returns a [TokenStore] that seals the token with AES-256-GCM
// before inner stores it, and opens it on Load. keys[0] seals and every key
// opens, so a key can be rotated: put the new key first and keep the old one
// until the token has been saved again. Each key must be 32 bytes; the store
// keeps no reference to the slices.
//
// inner stores an envelope: a token whose access token is the sealed JSON
// of the whole token and whose other fields are empty. As with File, the
// access token, token type, refresh token and expiry round-trip; the extra
// data of oauth2.Token does not, whatever inner is.
//
// The store is a [Locker] if and only if inner is one, with inner's lock.
// Load returns inner's errors unchanged, [ErrNoToken] included, and an error
// wrapping [ErrCorrupt] for a value that is not sealed (saved before
// encryption was turned on), that no key opens, or that was altered. No
// error holds the token, the sealed value or a key, and fmt prints the store
// without its keys. It is safe for concurrent use if inner is.
//
// This protects the token from whoever can read what inner keeps but holds
// no key: a reader of the token file or the Redis value, a backup of either,
// a Redis operator. It does not protect it from a process that holds a key,
// nor from a dump of such a process's memory. Whoever can write to inner can
// still delete the value, or put back an older one sealed with a key given
// here, perhaps one of another store that shares the key: that can log the
// process out or swap in the other store's token, but reveals nothing. Give
// each store its own key.
func NewEncrypted(inner TokenStore, keys ...[]byte) (TokenStore, error) {
	if inner == nil {
		return nil, errors.New("storage: NewEncrypted: nil inner store")
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("storage: NewEncrypted: no key; give at least one key of %d bytes", keySize)
	}
	e := &encrypted{inner: inner, aeads: make([]cipher.AEAD, len(keys))}
	for i, key := range keys {
		if len(key) != keySize {
			return nil, badKeyError(i, len(key))
		}
		// aes.NewCipher copies the key into its key schedule.
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("storage: NewEncrypted: key %d: %w", i, err)
		}
		if e.aeads[i], err = cipher.NewGCMWithRandomNonce(block); err != nil {
			return nil, fmt.Errorf("storage: NewEncrypted: key %d: %w", i, err)
		}
	}
	if locker, ok := inner.(Locker); ok {
		return &lockingEncrypted{encrypted: e, locker: locker}, nil
	}
	return e, nil
}

// badKeyError names the key by its position and length only. A key of 44
// bytes is most likely the base64 text of a 32-byte key.
func badKeyError(i, n int) error {
	hint := ""
	if n == base64.StdEncoding.EncodedLen(keySize) {
		hint = " (the base64 text of a key is 44 characters: decode it first)"
	}
	return fmt.Errorf("storage: NewEncrypted: key %d is %d bytes; AES-256 needs exactly %d%s", i, n, keySize, hint)
}

// encrypted is the store NewEncrypted returns for an inner store that is
// not a Locker. Its fields are set once, by NewEncrypted; the AEADs are
// immutable and safe for concurrent use.
type encrypted struct {
	inner TokenStore
	aeads []cipher.AEAD // [0] seals; all open
}

// lockingEncrypted is the store NewEncrypted returns for an inner store
// that is also a Locker.
type lockingEncrypted struct {
	*encrypted
	locker Locker
}

func (e *lockingEncrypted) Lock(ctx context.Context) (func(context.Context) error, error) {
	return e.locker.Lock(ctx)
}

func (e *encrypted) Load(ctx context.Context) (*oauth2.Token, error) {
	env, err := e.inner.Load(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := e.open(env)
	if err != nil {
		return nil, fmt.Errorf("storage: encrypted store: %w", err)
	}
	return tok, nil
}

func (e *encrypted) Save(ctx context.Context, tok *oauth2.Token) error {
	if tok == nil {
		return errNilToken
	}
	env, err := e.seal(tok)
	if err != nil {
		return fmt.Errorf("storage: encrypted store: save: %w", err)
	}
	return e.inner.Save(ctx, env)
}

func (e *encrypted) Clear(ctx context.Context) error {
	return e.inner.Clear(ctx)
}

// Format prints the inner store's type and the number of keys, for every
// verb: the default formats would print the AES key schedules.
func (e *encrypted) Format(f fmt.State, _ rune) {
	plural := "s"
	if len(e.aeads) == 1 {
		plural = ""
	}
	fmt.Fprintf(f, "storage.NewEncrypted(%T, %d key%s)", e.inner, len(e.aeads), plural)
}

// seal returns the envelope of tok, sealed with keys[0].
func (e *encrypted) seal(tok *oauth2.Token) (*oauth2.Token, error) {
	plain, err := encodeToken(tok)
	if err != nil {
		return nil, err
	}
	sealed := e.aeads[0].Seal(nil, nil, plain, []byte(sealedPrefix))
	return &oauth2.Token{AccessToken: sealedPrefix + sealedEncoding.EncodeToString(sealed)}, nil
}

// open returns the token in env, trying every key. Its errors wrap
// ErrCorrupt and describe the envelope without quoting it.
func (e *encrypted) open(env *oauth2.Token) (*oauth2.Token, error) {
	if env == nil {
		return nil, fmt.Errorf("%w: the inner store returned no token and no error", ErrCorrupt)
	}
	text, ok := strings.CutPrefix(env.AccessToken, sealedPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: the value is not sealed (saved before encryption was turned on, or by a store without it); Save or Clear replaces it", ErrCorrupt)
	}
	sealed, err := sealedEncoding.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%w: the sealed value is not base64url", ErrCorrupt)
	}
	if len(sealed) < e.aeads[0].Overhead() {
		return nil, fmt.Errorf("%w: the sealed value is too short", ErrCorrupt)
	}
	for _, aead := range e.aeads {
		if plain, err := aead.Open(nil, nil, sealed, []byte(sealedPrefix)); err == nil {
			return decodeToken(plain)
		}
	}
	return nil, fmt.Errorf("%w: no key opens the sealed value: it was sealed with another key, or altered", ErrCorrupt)
}
