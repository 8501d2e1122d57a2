package storage_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/storagetest"
)

// testKey returns a 32-byte key made of b, so tests can tell keys apart.
func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func newEncrypted(t *testing.T, inner storage.TokenStore, keys ...[]byte) storage.TokenStore {
	t.Helper()
	s, err := storage.NewEncrypted(inner, keys...)
	require.NoError(t, err)
	return s
}

// sealedValue returns the envelope inner holds: the access token of the
// token it stores.
func sealedValue(t *testing.T, inner storage.TokenStore) string {
	t.Helper()
	env, err := inner.Load(t.Context())
	require.NoError(t, err)
	return env.AccessToken
}

// assertSafeError checks that err says nothing a log must not see: the
// token, the envelope or its base64 payload, or a key in any usual notation.
func assertSafeError(t *testing.T, err error, sealed string, keys ...[]byte) {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	assert.True(t, strings.HasPrefix(msg, "storage: "), "message %q must start with the package name", msg)
	for _, s := range []string{secret.AccessToken, secret.RefreshToken, "s3cr3t"} {
		assert.NotContains(t, msg, s)
	}
	if payload := strings.TrimPrefix(sealed, "axios.enc.v1."); len(payload) >= 8 {
		assert.NotContains(t, msg, payload[:8], "the message quotes the sealed value")
		assert.NotContains(t, msg, payload[len(payload)-8:], "the message quotes the sealed value")
	}
	for _, key := range keys {
		assert.NotContains(t, msg, string(key))
		assert.NotContains(t, msg, hex.EncodeToString(key))
		assert.NotContains(t, msg, base64.StdEncoding.EncodeToString(key))
		assert.NotContains(t, msg, fmt.Sprint(key[:4]))
	}
}

func TestEncryptedOverMemoryContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.TokenStore {
		return newEncrypted(t, storage.NewMemory(), testKey(1))
	})
}

func TestEncryptedOverFileContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.TokenStore {
		return newEncrypted(t, storage.NewFile(filepath.Join(t.TempDir(), "state", "token.json")), testKey(1), testKey(2))
	})
}

func TestEncryptedFileHoldsNeitherToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	s := newEncrypted(t, storage.NewFile(path), testKey(1))
	require.NoError(t, s.Save(t.Context(), secret))

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "s3cr3t")
	assert.NotContains(t, string(raw), "Bearer")
	assert.NotContains(t, string(raw), "2030", "the expiry must be sealed too")
	var env map[string]any
	require.NoError(t, json.Unmarshal(raw, &env), "the file must still be the File store's JSON")
	assert.Equal(t, "", env["refresh_token"])
	assert.Equal(t, "", env["token_type"])
	assert.NotContains(t, env, "expiry")
	assert.True(t, strings.HasPrefix(env["access_token"].(string), "axios.enc.v1."), "the envelope names its format")

	got, err := s.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, secret, got)
}

func TestEncryptedEnvelopeIsAHeaderSafeTokenWithNothingElse(t *testing.T) {
	inner := storage.NewMemory()
	s := newEncrypted(t, inner, testKey(1))
	require.NoError(t, s.Save(t.Context(), secret))

	env, err := inner.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, &oauth2.Token{AccessToken: env.AccessToken}, env, "only the access token may be set")
	payload, ok := strings.CutPrefix(env.AccessToken, "axios.enc.v1.")
	require.True(t, ok)
	assert.Regexp(t, `^[A-Za-z0-9_-]+$`, payload, "unpadded base64url, which every store and header accepts")
	assert.NotContains(t, env.AccessToken, "s3cr3t")

	require.NoError(t, s.Save(t.Context(), secret))
	assert.NotEqual(t, env.AccessToken, sealedValue(t, inner), "every seal must use a fresh nonce")
}

func TestEncryptedKeyRotation(t *testing.T) {
	oldKey, newKey := testKey(1), testKey(2)
	inner := storage.NewMemory()
	require.NoError(t, newEncrypted(t, inner, oldKey).Save(t.Context(), secret))

	rotated := newEncrypted(t, inner, newKey, oldKey)
	got, err := rotated.Load(t.Context())
	require.NoError(t, err, "a value sealed with an older key must open")
	assert.Equal(t, secret, got)

	_, err = newEncrypted(t, inner, newKey).Load(t.Context())
	require.ErrorIs(t, err, storage.ErrCorrupt, "Load alone must not reseal")

	require.NoError(t, rotated.Save(t.Context(), got))
	got, err = newEncrypted(t, inner, newKey).Load(t.Context())
	require.NoError(t, err, "Save must seal with keys[0]")
	assert.Equal(t, secret, got)
	_, err = newEncrypted(t, inner, oldKey).Load(t.Context())
	require.ErrorIs(t, err, storage.ErrCorrupt, "the old key must no longer open it")
}

func TestEncryptedWrongKeyIsErrCorrupt(t *testing.T) {
	inner := storage.NewMemory()
	require.NoError(t, newEncrypted(t, inner, testKey(1)).Save(t.Context(), secret))

	tok, err := newEncrypted(t, inner, testKey(2), testKey(3)).Load(t.Context())
	require.ErrorIs(t, err, storage.ErrCorrupt)
	assert.Nil(t, tok)
	assert.NotErrorIs(t, err, storage.ErrNoToken)
	assert.Contains(t, err.Error(), "no key opens")
	assertSafeError(t, err, sealedValue(t, inner), testKey(1), testKey(2), testKey(3))
}

func TestEncryptedAlteredValueIsErrCorrupt(t *testing.T) {
	key := testKey(1)
	inner := storage.NewMemory()
	require.NoError(t, newEncrypted(t, inner, key).Save(t.Context(), secret))
	sealed := sealedValue(t, inner)
	payload := strings.TrimPrefix(sealed, "axios.enc.v1.")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	require.NoError(t, err)

	flipped := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return "axios.enc.v1." + base64.RawURLEncoding.EncodeToString(b)
	}
	cases := map[string]string{
		"nonce byte flipped":       flipped(0),
		"ciphertext byte flipped":  flipped(12),
		"tag byte flipped":         flipped(len(raw) - 1),
		"truncated by one byte":    "axios.enc.v1." + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]),
		"shorter than nonce + tag": "axios.enc.v1." + base64.RawURLEncoding.EncodeToString(raw[:27]),
		"empty payload":            "axios.enc.v1.",
		"another version":          "axios.enc.v2." + payload,
		"not base64url":            "axios.enc.v1.%" + payload[1:],
		"padded":                   sealed + "=",
		"byte appended":            "axios.enc.v1." + base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw), 0)),
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			inner := storage.NewMemory()
			require.NoError(t, inner.Save(t.Context(), &oauth2.Token{AccessToken: value}))
			tok, err := newEncrypted(t, inner, key).Load(t.Context())
			require.ErrorIs(t, err, storage.ErrCorrupt)
			assert.Nil(t, tok)
			assertSafeError(t, err, sealed, key)
		})
	}
}

func TestEncryptedPlaintextValueIsErrCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token.json")
	require.NoError(t, storage.NewFile(path).Save(t.Context(), secret), "a token saved before encryption was turned on")

	s := newEncrypted(t, storage.NewFile(path), testKey(1))
	tok, err := s.Load(t.Context())
	require.ErrorIs(t, err, storage.ErrCorrupt)
	assert.Nil(t, tok)
	assert.Contains(t, err.Error(), "not sealed")
	assertSafeError(t, err, "", testKey(1))

	require.NoError(t, s.Save(t.Context(), secret), "Save replaces the plaintext")
	got, err := s.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, secret, got)
}

// sealWith seals plain as the envelope format says, with the standard
// library alone, so the test pins the format rather than the code.
func sealWith(t *testing.T, key, plain, aad []byte) *oauth2.Token {
	t.Helper()
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	aead, err := cipher.NewGCMWithRandomNonce(block)
	require.NoError(t, err)
	return &oauth2.Token{AccessToken: "axios.enc.v1." + base64.RawURLEncoding.EncodeToString(aead.Seal(nil, nil, plain, aad))}
}

func TestEncryptedEnvelopeFormat(t *testing.T) {
	key := testKey(1)
	inner := storage.NewMemory()
	require.NoError(t, newEncrypted(t, inner, key).Save(t.Context(), secret))

	// Opened by hand: nonce || ciphertext || tag, with the prefix as
	// additional data, around the JSON that File writes.
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealedValue(t, inner), "axios.enc.v1."))
	require.NoError(t, err)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	plain, err := aead.Open(nil, raw[:12], raw[12:], []byte("axios.enc.v1."))
	require.NoError(t, err)
	assert.JSONEq(t, `{"access_token":"s3cr3t-access","token_type":"Bearer","refresh_token":"s3cr3t-refresh","expiry":"2030-01-01T00:00:00Z"}`, string(plain))

	// Sealed by hand: Load opens it.
	plain = []byte(`{"access_token":"at","token_type":"Bearer","refresh_token":"rt"}`)
	require.NoError(t, inner.Save(t.Context(), sealWith(t, key, plain, []byte("axios.enc.v1."))))
	got, err := newEncrypted(t, inner, key).Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, &oauth2.Token{AccessToken: "at", TokenType: "Bearer", RefreshToken: "rt"}, got)
}

func TestEncryptedPrefixIsAuthenticated(t *testing.T) {
	key := testKey(1)
	plain := []byte(`{"access_token":"s3cr3t-access"}`)
	for name, aad := range map[string][]byte{
		"no additional data":       nil,
		"another version's":        []byte("axios.enc.v2."),
		"the prefix without a dot": []byte("axios.enc.v1"),
	} {
		t.Run(name, func(t *testing.T) {
			inner := storage.NewMemory()
			env := sealWith(t, key, plain, aad)
			require.NoError(t, inner.Save(t.Context(), env))
			_, err := newEncrypted(t, inner, key).Load(t.Context())
			require.ErrorIs(t, err, storage.ErrCorrupt)
			assertSafeError(t, err, env.AccessToken, key)
		})
	}
}

func TestEncryptedSealedValueOfAnotherShapeIsErrCorrupt(t *testing.T) {
	// Only a holder of the key can seal one, but Load must still refuse it.
	key := testKey(1)
	for name, plain := range map[string]string{
		"not JSON":         `s3cr3t-access`,
		"no access_token":  `{"refresh_token":"s3cr3t-refresh"}`,
		"truncated":        `{"access_token":"s3cr3t-access"`,
		"wrong field type": `{"access_token":["s3cr3t-access"]}`,
		"empty":            ``,
	} {
		t.Run(name, func(t *testing.T) {
			inner := storage.NewMemory()
			env := sealWith(t, key, []byte(plain), []byte("axios.enc.v1."))
			require.NoError(t, inner.Save(t.Context(), env))
			tok, err := newEncrypted(t, inner, key).Load(t.Context())
			require.ErrorIs(t, err, storage.ErrCorrupt)
			assert.Nil(t, tok)
			assertSafeError(t, err, env.AccessToken, key)
		})
	}
}

func TestEncryptedNoTokenPassesThroughUnchanged(t *testing.T) {
	s := newEncrypted(t, storage.NewMemory(), testKey(1))
	tok, err := s.Load(t.Context())
	require.Same(t, storage.ErrNoToken, err)
	assert.Nil(t, tok)
}

// failingStore fails every call with err.
type failingStore struct{ err error }

func (f failingStore) Load(context.Context) (*oauth2.Token, error) { return nil, f.err }
func (f failingStore) Save(context.Context, *oauth2.Token) error   { return f.err }
func (f failingStore) Clear(context.Context) error                 { return f.err }

func TestEncryptedReturnsInnerErrorsUnchanged(t *testing.T) {
	down := errors.New("storage: backend unreachable")
	s := newEncrypted(t, failingStore{down}, testKey(1))
	_, err := s.Load(t.Context())
	assert.Same(t, down, err, "Load")
	assert.Same(t, down, s.Save(t.Context(), secret), "Save")
	assert.Same(t, down, s.Clear(t.Context()), "Clear")
}

func TestEncryptedClearClearsInner(t *testing.T) {
	inner := storage.NewMemory()
	s := newEncrypted(t, inner, testKey(1))
	require.NoError(t, s.Save(t.Context(), secret))
	require.NoError(t, s.Clear(t.Context()))
	_, err := inner.Load(t.Context())
	require.ErrorIs(t, err, storage.ErrNoToken)
}

func TestEncryptedSaveNilTokenIsAnError(t *testing.T) {
	inner := storage.NewMemory()
	s := newEncrypted(t, inner, testKey(1))
	require.NoError(t, s.Save(t.Context(), secret))
	err := s.Save(t.Context(), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "storage:")
	got, err := s.Load(t.Context())
	require.NoError(t, err, "a refused nil Save must leave the token")
	assert.Equal(t, secret, got)
}

func TestEncryptedSaveOfUnencodableExpiryIsAnError(t *testing.T) {
	inner := storage.NewMemory()
	s := newEncrypted(t, inner, testKey(1))
	err := s.Save(t.Context(), &oauth2.Token{AccessToken: "s3cr3t-access", Expiry: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	assertSafeError(t, err, "", testKey(1))
	_, err = inner.Load(t.Context())
	require.ErrorIs(t, err, storage.ErrNoToken, "nothing may be stored")
}

func TestEncryptedKeepsTheStoredFieldsOnly(t *testing.T) {
	// Like File and Redis, whatever the inner store: the sealed JSON is
	// theirs.
	s := newEncrypted(t, storage.NewMemory(), testKey(1))
	tok := (&oauth2.Token{AccessToken: "a", ExpiresIn: 3600}).WithExtra(map[string]any{"id_token": "x"})
	require.NoError(t, s.Save(t.Context(), tok))
	got, err := s.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, &oauth2.Token{AccessToken: "a"}, got)
}

func TestEncryptedIsALockerIffInnerIs(t *testing.T) {
	overMemory := newEncrypted(t, storage.NewMemory(), testKey(1))
	_, ok := overMemory.(storage.Locker)
	assert.False(t, ok, "over Memory, which is no Locker")

	_, ok = newEncrypted(t, failingStore{}, testKey(1)).(storage.Locker)
	assert.False(t, ok, "over a store of one's own that is no Locker")

	file := storage.NewFile(filepath.Join(t.TempDir(), "token.json"))
	overFile := newEncrypted(t, file, testKey(1))
	locker, ok := overFile.(storage.Locker)
	require.True(t, ok, "over File, which is a Locker")

	unlock, err := locker.Lock(t.Context())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = file.Lock(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the encrypted store's lock must be the inner store's")
	require.NoError(t, unlock(t.Context()))
	unlock, err = file.Lock(t.Context())
	require.NoError(t, err)
	require.NoError(t, unlock(t.Context()))
}

func TestNewEncryptedRefusesBadKeys(t *testing.T) {
	for name, tc := range map[string]struct {
		keys [][]byte
		want string
	}{
		"no key":          {nil, "storage: NewEncrypted: no key; give at least one key of 32 bytes"},
		"nil key":         {[][]byte{nil}, "storage: NewEncrypted: key 0 is 0 bytes; AES-256 needs exactly 32"},
		"AES-128 key":     {[][]byte{testKey(1)[:16]}, "storage: NewEncrypted: key 0 is 16 bytes; AES-256 needs exactly 32"},
		"AES-192 key":     {[][]byte{testKey(1)[:24]}, "storage: NewEncrypted: key 0 is 24 bytes; AES-256 needs exactly 32"},
		"one byte short":  {[][]byte{testKey(1)[:31]}, "storage: NewEncrypted: key 0 is 31 bytes; AES-256 needs exactly 32"},
		"one byte over":   {[][]byte{append(testKey(1), 1)}, "storage: NewEncrypted: key 0 is 33 bytes; AES-256 needs exactly 32"},
		"base64 text":     {[][]byte{[]byte(base64.StdEncoding.EncodeToString(testKey(1)))}, "storage: NewEncrypted: key 0 is 44 bytes; AES-256 needs exactly 32 (the base64 text of a key is 44 characters: decode it first)"},
		"second key bad":  {[][]byte{testKey(1), testKey(2)[:16]}, "storage: NewEncrypted: key 1 is 16 bytes; AES-256 needs exactly 32"},
		"hex text of key": {[][]byte{[]byte(hex.EncodeToString(testKey(1)))}, "storage: NewEncrypted: key 0 is 64 bytes; AES-256 needs exactly 32"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := storage.NewEncrypted(storage.NewMemory(), tc.keys...)
			require.EqualError(t, err, tc.want)
			assert.Nil(t, s)
		})
	}
}

func TestNewEncryptedRefusesNilInner(t *testing.T) {
	s, err := storage.NewEncrypted(nil, testKey(1))
	require.EqualError(t, err, "storage: NewEncrypted: nil inner store")
	assert.Nil(t, s)
}

func TestNewEncryptedKeepsNoReferenceToTheKeys(t *testing.T) {
	key := testKey(1)
	s := newEncrypted(t, storage.NewMemory(), key)
	require.NoError(t, s.Save(t.Context(), secret))
	clear(key) // as a caller that wipes its copy would
	got, err := s.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, secret, got)
}

func TestEncryptedPrintsWithoutKeys(t *testing.T) {
	overMemory := newEncrypted(t, storage.NewMemory(), testKey(0xAB))
	overFile := newEncrypted(t, storage.NewFile(filepath.Join(t.TempDir(), "token.json")), testKey(0xAB), testKey(0xCD))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		assert.Equal(t, "storage.NewEncrypted(*storage.Memory, 1 key)", fmt.Sprintf(verb, overMemory), verb)
		assert.Equal(t, "storage.NewEncrypted(*storage.File, 2 keys)", fmt.Sprintf(verb, overFile), verb)
	}
	// Inside a struct, as in a logged config, and through a pointer.
	type config struct{ Store storage.TokenStore }
	assert.Equal(t, "{Store:storage.NewEncrypted(*storage.File, 2 keys)}", fmt.Sprintf("%+v", config{overFile}))
	assert.Equal(t, "&{Store:storage.NewEncrypted(*storage.Memory, 1 key)}", fmt.Sprintf("%+v", &config{overMemory}))
	assert.Equal(t, "storage_test.config{Store:storage.NewEncrypted(*storage.Memory, 1 key)}", fmt.Sprintf("%#v", config{overMemory}))
	assert.Equal(t, "storage.NewEncrypted(*storage.Memory, 1 key)\n", fmt.Sprintln(overMemory))
}
