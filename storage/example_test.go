package storage_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios/storage"
)

func ExampleMemory() {
	ctx := context.Background()
	store := storage.NewMemory()

	if _, err := store.Load(ctx); errors.Is(err, storage.ErrNoToken) {
		fmt.Println("not logged in")
	}

	tok := &oauth2.Token{AccessToken: "at-1", TokenType: "Bearer", RefreshToken: "rt-1"}
	if err := store.Save(ctx, tok); err != nil {
		log.Fatal(err)
	}
	tok.AccessToken = "changed" // the store kept its own copy

	got, err := store.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Type(), got.AccessToken)
	// Output:
	// not logged in
	// Bearer at-1
}

func ExampleFile() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "storage-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	path := filepath.Join(dir, "myapp", "token.json")
	store := storage.NewFile(path)
	tok := &oauth2.Token{
		AccessToken:  "at-1",
		TokenType:    "Bearer",
		RefreshToken: "rt-1",
		Expiry:       time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	if err := store.Save(ctx, tok); err != nil {
		log.Fatal(err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %v\n", b, fi.Mode().Perm())

	// Another store on the same path, as another run of the program would
	// make, reads the same token.
	got, err := storage.NewFile(path).Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.RefreshToken, got.Expiry.Format(time.DateOnly))
	// Output:
	// {"access_token":"at-1","token_type":"Bearer","refresh_token":"rt-1","expiry":"2030-01-01T00:00:00Z"} -rw-------
	// rt-1 2030-01-01
}

// ExampleFile_Lock shows the lock around a refresh that several processes
// sharing one token file would take: reload under the lock, and refresh only
// if nobody else has.
func ExampleFile_Lock() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "storage-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store := storage.NewFile(filepath.Join(dir, "token.json"))
	stale := &oauth2.Token{AccessToken: "at-1", RefreshToken: "rt-1"}
	if err := store.Save(ctx, stale); err != nil {
		log.Fatal(err)
	}

	unlock, err := store.Lock(ctx)
	if err != nil {
		log.Fatal(err)
	}
	current, err := store.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if current.AccessToken == stale.AccessToken { // nobody refreshed yet
		current = &oauth2.Token{AccessToken: "at-2", RefreshToken: "rt-2"} // the refresh call
		if err := store.Save(ctx, current); err != nil {
			log.Fatal(err)
		}
	}
	if err := unlock(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println(current.AccessToken)
	// Output: at-2
}
