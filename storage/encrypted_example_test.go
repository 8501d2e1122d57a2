package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
)

func ExampleNewEncrypted() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "storage-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "token.json")

	// A real program reads its key from a secret store, for instance
	// base64.StdEncoding.DecodeString(os.Getenv("MYAPP_TOKEN_KEY")) of a key
	// made with openssl rand -base64 32.
	key := make([]byte, 32)
	_, _ = rand.Read(key)

	store, err := storage.NewEncrypted(storage.NewFile(path), key)
	if err != nil {
		log.Fatal(err)
	}
	_, isLocker := store.(storage.Locker)
	fmt.Println(store, "locker:", isLocker)

	tok := &oauth2.Token{
		AccessToken:  "at-1",
		TokenType:    "Bearer",
		RefreshToken: "rt-1",
		Expiry:       time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if err := store.Save(ctx, tok); err != nil {
		log.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("file holds rt-1:", bytes.Contains(raw, []byte("rt-1")))

	// Rotation: the new key seals, the old one still opens what it sealed.
	newKey := make([]byte, 32)
	_, _ = rand.Read(newKey)
	rotated, err := storage.NewEncrypted(storage.NewFile(path), newKey, key)
	if err != nil {
		log.Fatal(err)
	}
	got, err := rotated.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.RefreshToken, got.Expiry.Format(time.DateOnly))

	// Once the token is saved again, the old key alone no longer opens it.
	if err := rotated.Save(ctx, got); err != nil {
		log.Fatal(err)
	}
	_, err = store.Load(ctx)
	fmt.Println("old key:", errors.Is(err, storage.ErrCorrupt))
	// Output:
	// storage.NewEncrypted(*storage.File, 1 key) locker: true
	// file holds rt-1: false
	// rt-1 2030-01-01
	// old key: true
}
