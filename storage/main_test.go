package storage_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/axiosgo/axios/storage"
)

// holdLockEnv makes the test binary a helper process that holds a File lock,
// for the test that checks the lock excludes other processes.
const holdLockEnv = "STORAGE_TEST_HOLD_FILE_LOCK"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdLockEnv); path != "" {
		os.Exit(holdFileLock(path))
	}
	goleak.VerifyTestMain(m)
}

// holdFileLock takes the lock of the File store at path, says "locked" on
// stdout and keeps the lock until stdin is closed.
func holdFileLock(path string) int {
	unlock, err := storage.NewFile(path).Lock(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := unlock(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
