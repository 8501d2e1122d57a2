package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/axiosgo/axios/internal/redistest"
)

func TestMain(m *testing.M) {
	// The multi-process test re-executes this test binary as its children.
	if raw := os.Getenv(childEnv); raw != "" {
		os.Exit(runChild(raw))
	}
	goleak.VerifyTestMain(m)
}

// testOptions keeps the tests small: they check what the harness counts,
// never how fast anything is.
func testOptions() options {
	return options{conns: 32, reps: 3, memReps: 1, procs: 2, timeout: time.Minute}
}

func TestStormAuthPairRefreshesOnceAndFailsNothing(t *testing.T) {
	r, err := runStorm(context.Background(), clientAxios, 50, testOptions())
	require.NoError(t, err)
	require.EqualValues(t, 1, r.refreshCalls, "refresh calls")
	require.Zero(t, r.invalidGrants, "invalid_grant answers")
	require.Zero(t, r.storm.failures, "failed requests; first: %v", r.storm.firstErr)
	require.Zero(t, r.valid.failures)
}

func TestStormOAuth2TransportNeverRefreshesARevokedToken(t *testing.T) {
	r, err := runStorm(context.Background(), clientOAuth2, 20, testOptions())
	require.NoError(t, err)
	require.Zero(t, r.refreshCalls)
	require.Equal(t, 20, r.storm.failures, "every request is sent with the revoked token")
}

func TestStormNaiveRetrySucceedsWithoutRotation(t *testing.T) {
	r, err := runStorm(context.Background(), clientNaive, 20, testOptions())
	require.NoError(t, err)
	require.Zero(t, r.storm.failures, "first: %v", r.storm.firstErr)
	require.GreaterOrEqual(t, r.refreshCalls, int64(1))
}

func TestStormSingleflightSucceedsWithRotation(t *testing.T) {
	r, err := runStorm(context.Background(), clientSingle, 50, testOptions())
	require.NoError(t, err)
	require.Zero(t, r.storm.failures, "first: %v", r.storm.firstErr)
	require.Zero(t, r.invalidGrants, "one flight at a time: no refresh token is used twice")
	require.GreaterOrEqual(t, r.refreshCalls, int64(1))
}

func TestWaitingMemoryRunsRefreshOnce(t *testing.T) {
	m, err := measureWaiting(context.Background(), 50, waitAfter401, testOptions())
	require.NoError(t, err)
	require.EqualValues(t, 1, m.refreshCalls)
	require.EqualValues(t, 50, m.denied, "every request was sent with the revoked token")
	require.Zero(t, m.failures, "first: %v", m.firstErr)

	m, err = measureWaiting(context.Background(), 50, waitBeforeSend, testOptions())
	require.NoError(t, err)
	require.EqualValues(t, 1, m.refreshCalls)
	require.Zero(t, m.denied, "no request was sent before the refresh ended")
	require.Zero(t, m.failures, "first: %v", m.firstErr)
}

func TestRefreshBaselineMeasures(t *testing.T) {
	d, err := refreshBaseline(context.Background(), testOptions(), 3)
	require.NoError(t, err)
	require.Positive(t, d)
}

func TestProcsSharingRedisRefreshOnce(t *testing.T) {
	rs := redistest.Start(t)
	r, err := runProcs(context.Background(), "redis", 20, testOptions(), rs.Addr)
	require.NoError(t, err)
	require.EqualValues(t, 1, r.refreshCalls, "refresh calls across processes")
	require.Zero(t, r.invalidGrants)
	require.Zero(t, r.failures, "first: %s", r.firstErr)
	require.EqualValues(t, 1, r.refreshes)
}

func TestProcsSharingFileRefreshOnce(t *testing.T) {
	r, err := runProcs(context.Background(), "file", 20, testOptions(), "")
	require.NoError(t, err)
	require.EqualValues(t, 1, r.refreshCalls, "refresh calls across processes")
	require.Zero(t, r.invalidGrants)
	require.Zero(t, r.failures, "first: %s", r.firstErr)
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-n", "10, 50", "-clients", "axios,oauth2"})
	require.NoError(t, err)
	require.Equal(t, []int{10, 50}, o.ns)
	require.Equal(t, []string{clientAxios, clientOAuth2}, o.clients)
	require.Equal(t, 50, o.memN)

	_, err = parseFlags([]string{"-clients", "curl"})
	require.Error(t, err)
	_, err = parseFlags([]string{"-procs", "4", "-store", "memory"})
	require.Error(t, err)
}

func TestProcsSharingRedisClusterRefreshOnce(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	r, err := runProcs(context.Background(), "redis-cluster", 20, testOptions(), strings.Join(c.Addrs, ","))
	require.NoError(t, err)
	require.EqualValues(t, 1, r.refreshCalls, "refresh calls across processes")
	require.Zero(t, r.invalidGrants)
	require.Zero(t, r.failures, "first: %s", r.firstErr)
	require.EqualValues(t, 1, r.refreshes)
}
