package storage_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forbiddenDeps are the prefixes of packages that importing auth or storage
// must not link: the Redis store lives in storage/redisstore, so that only
// programs that import it pay for go-redis and redislock, and tracing belongs
// in a package of its own for the same reason. .ci/run checks the same in
// shell.
var forbiddenDeps = []string{"github.com/redis/", "github.com/bsm/", "go.opentelemetry.io/"}

func TestAuthAndStorageLinkNeitherRedisNorOpenTelemetry(t *testing.T) {
	// go test puts its own go first on the PATH of the test binary.
	out, err := exec.Command("go", "list", "-deps",
		"github.com/axiosgo/axios/auth", "github.com/axiosgo/axios/storage").Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("go list: %v\n%s", err, exit.Stderr)
	}
	require.NoError(t, err, "go list")
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/axiosgo/axios/storage", "go list -deps listed something else than the packages asked for")

	var linked []string
	for _, pkg := range deps {
		for _, prefix := range forbiddenDeps {
			if strings.HasPrefix(pkg, prefix) {
				linked = append(linked, pkg)
			}
		}
	}
	assert.Empty(t, linked, "importing auth or storage links these packages; Redis support belongs in storage/redisstore")
}
