package storagetest_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/axiosgo/axios/storage"
	"github.com/axiosgo/axios/storage/storagetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The suite's own smoke test: it passes on the simplest correct store. The
// stores of packages storage and storage/redisstore run it in their own
// tests, with files and Redis.
func TestRunPassesOnMemory(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.TokenStore { return storage.NewMemory() })
}

func TestRunPassesOnFileWithItsLocker(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.TokenStore {
		return storage.NewFile(t.TempDir() + "/token.json")
	})
}
