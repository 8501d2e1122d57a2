package interceptors_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
)

// newClient returns a client for baseURL whose idle connections are closed
// when the test ends.
func newClient(t testing.TB, baseURL string) *axios.Client {
	t.Helper()
	c := axios.Create(axios.Config{BaseURL: baseURL})
	t.Cleanup(func() { c.CloseIdleConnections() })
	return c
}

const mockBase = "http://api.test"

// mockClient returns a client whose requests go to an httpmock transport.
func mockClient(t testing.TB) (*axios.Client, *httpmock.MockTransport) {
	t.Helper()
	mock := httpmock.NewMockTransport()
	c := newClient(t, mockBase)
	c.Resty().SetTransport(mock)
	return c, mock
}

// sleeps records the waits a Retry asks for instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// requireStatus asserts err is an *axios.Error for status.
func requireStatus(t *testing.T, err error, status int) *axios.Error {
	t.Helper()
	require.Error(t, err)
	axErr, ok := axios.AsError(err)
	require.True(t, ok, "want an *axios.Error, got %T: %v", err, err)
	require.Equal(t, status, axErr.Status())
	return axErr
}

// authLike is the shape of the auth pair's retry, reduced to what these
// tests need: on 401 it resends the failed attempt's Config through the
// instance with a new Authorization header, once, without touching the
// attempt number (as auth does).
func authLike(c *axios.Client, token string) {
	c.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		axErr, ok := axios.AsError(err)
		if !ok || axErr.Status() != 401 || axErr.Config == nil || axErr.Config.Meta["test.authRetried"] == true {
			return nil, err
		}
		next := *axErr.Config
		next.Meta = map[string]any{}
		for k, v := range axErr.Config.Meta {
			next.Meta[k] = v
		}
		next.Meta["test.authRetried"] = true
		next.Headers = axErr.Config.Headers.Clone()
		next.Headers.Set("Authorization", "Bearer "+token)
		return c.Request(ctx, next)
	})
}

var errPlain = errors.New("plain failure")
