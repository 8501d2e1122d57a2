package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/storage"
)

func TestMain(m *testing.M) {
	if raw := os.Getenv(crossEnv); raw != "" {
		os.Exit(runCrossProcessChild(raw))
	}
	goleak.VerifyTestMain(m)
}

// fakeClock is an injectable clock, safe to read from many goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// useFakeClock makes the package's clock a fake one for the test. Tests that
// call it must not run in parallel.
func useFakeClock(t *testing.T) *fakeClock {
	t.Helper()
	c := &fakeClock{t: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
	old := timeNow
	timeNow = c.Now
	t.Cleanup(func() { timeNow = old })
	return c
}

// newServer starts an authtest server closed at the end of the test.
func newServer(t *testing.T, opts authtest.Options) *authtest.Server {
	t.Helper()
	srv := authtest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client for srv that shares the server's tuned
// transport, whose idle connections srv.Close closes.
func newClient(t *testing.T, srv *authtest.Server) *axios.Client {
	t.Helper()
	c := axios.Create(axios.Config{BaseURL: srv.URL})
	c.Resty().SetTransport(srv.Client().Transport)
	return c
}

// newMockClient returns a client on an httpmock transport, at http://api.test.
func newMockClient() (*axios.Client, *httpmock.MockTransport) {
	mock := httpmock.NewMockTransport()
	c := axios.Create(axios.Config{BaseURL: "http://api.test"})
	c.Resty().SetTransport(mock)
	return c, mock
}

// seed000 is seed 000's refresh endpoint on authtest: POST /refresh with
// {refresh_token}, the standard token response back.
func seed000(c *axios.Client) Refresher {
	return JSONRefresher(c, JSONEndpoint{
		URL:  "/refresh",
		Body: func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
	})
}

// seed001 is seed 001's: POST /auth/refresh, the refresh token as the
// bearer credential, {resultCode, data: {accessToken, refreshToken}} back.
func seed001(c *axios.Client) Refresher {
	return JSONRefresher(c, JSONEndpoint{
		URL: "/auth/refresh",
		Header: func(t *oauth2.Token) http.Header {
			return http.Header{"Authorization": {"Bearer " + t.RefreshToken}}
		},
		Parse: parseEnvelope,
	})
}

func parseEnvelope(body []byte) (*oauth2.Token, error) {
	var env struct {
		ResultCode string `json:"resultCode"`
		Data       struct {
			AccessToken  string `json:"accessToken"`
			RefreshToken string `json:"refreshToken"`
			ExpiresIn    int64  `json:"expiresIn"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.ResultCode != "OK" {
		return nil, errors.New("refresh: resultCode is not OK")
	}
	tok := &oauth2.Token{AccessToken: env.Data.AccessToken, RefreshToken: env.Data.RefreshToken, TokenType: "Bearer"}
	if env.Data.ExpiresIn > 0 {
		tok.Expiry = timeNow().Add(time.Duration(env.Data.ExpiresIn) * time.Second)
	}
	return tok, nil
}

// counted wraps r and counts its calls.
func counted(r Refresher, n *atomic.Int64) Refresher {
	return func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		n.Add(1)
		return r(ctx, cur)
	}
}

func newAuth(t *testing.T, opts Options) *Authenticator {
	t.Helper()
	a, err := New(opts)
	require.NoError(t, err)
	return a
}

// login installs a on c and makes tok the current token.
func login(t *testing.T, a *Authenticator, c *axios.Client, tok *oauth2.Token) {
	t.Helper()
	a.Install(c)
	require.NoError(t, a.SetToken(context.Background(), tok))
}

// eventually polls cond until it holds, failing the test after 10s.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waiting returns a condition: exactly n goroutines wait for a refresh.
func waiting(a *Authenticator, n int64) func() bool {
	return func() bool { return a.Stats().Waiting == n }
}

// idle returns a condition: no refresh is under way, a background one
// included.
func idle(a *Authenticator) func() bool {
	return func() bool {
		a.flight.mu.Lock()
		defer a.flight.mu.Unlock()
		return !a.flight.isRefreshing
	}
}

// bearerOf returns the token of an Authorization header.
func bearerOf(r *http.Request) string {
	const p = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) < len(p) {
		return ""
	}
	return h[len(p):]
}

func tokenWith(access string, expiry time.Time) *oauth2.Token {
	return &oauth2.Token{AccessToken: access, TokenType: "Bearer", RefreshToken: "r-" + access, Expiry: expiry}
}

// get runs n concurrent GETs of url and returns their errors.
func get(c *axios.Client, ctx context.Context, url string, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Get(ctx, url)
		}()
	}
	wg.Wait()
	return errs
}

// lockingStore is a storage.Memory that is also a storage.Locker, standing
// in for File or Redis: several Authenticators sharing one behave like
// processes sharing a store.
type lockingStore struct {
	*storage.Memory
	sem    chan struct{}
	locks  atomic.Int64
	held   atomic.Bool
	loads  atomic.Int64
	failed error // Lock's error, when set
	// failNext makes this many next Locks fail with errLockDown: a lock
	// backend that is down for a while.
	failNext atomic.Int64
}

var errLockDown = errors.New("storage: lock backend unreachable")

func newLockingStore() *lockingStore {
	return &lockingStore{Memory: storage.NewMemory(), sem: make(chan struct{}, 1)}
}

func (s *lockingStore) Load(ctx context.Context) (*oauth2.Token, error) {
	s.loads.Add(1)
	return s.Memory.Load(ctx)
}

func (s *lockingStore) Lock(ctx context.Context) (func(context.Context) error, error) {
	if s.failed != nil {
		return nil, s.failed
	}
	for n := s.failNext.Load(); n > 0; n = s.failNext.Load() {
		if s.failNext.CompareAndSwap(n, n-1) {
			return nil, errLockDown
		}
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.locks.Add(1)
	s.held.Store(true)
	var once sync.Once
	return func(context.Context) error {
		once.Do(func() {
			s.held.Store(false)
			<-s.sem
		})
		return nil
	}, nil
}

var _ storage.Locker = (*lockingStore)(nil)
