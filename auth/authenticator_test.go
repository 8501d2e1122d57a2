package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/interceptors"
	"github.com/axiosgo/axios/storage"
)

func nopRefresh(context.Context, *oauth2.Token) (*oauth2.Token, error) {
	return nil, errors.New("no refresh in this test")
}

func TestNewValidatesOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no Refresh", Options{}, "auth: Options.Refresh or Options.Login is required"},
		{"negative RefreshTimeout", Options{Refresh: nopRefresh, RefreshTimeout: -time.Second}, "auth: Options.RefreshTimeout must not be negative, got -1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.opts)
			assert.Nil(t, a)
			assert.EqualError(t, err, tc.want)
		})
	}
	a, err := New(Options{Refresh: nopRefresh})
	require.NoError(t, err)
	assert.Equal(t, "Authorization", a.header)
	assert.True(t, a.shouldRefresh(&axios.Error{Response: &axios.Response{Status: http.StatusUnauthorized}}), "401 is refreshed by default")
	assert.False(t, a.shouldRefresh(&axios.Error{Response: &axios.Response{Status: http.StatusForbidden}}))
	assert.Equal(t, DefaultRefreshBefore, a.state.before)
	assert.Equal(t, DefaultRefreshTimeout, a.timeout)
	assert.Equal(t, 1, a.maxRetries)
	assert.IsType(t, &storage.Memory{}, a.store.TokenStore)
	assert.Nil(t, a.store.locker)
	never, err := New(Options{Refresh: nopRefresh, MaxRetries: -1})
	require.NoError(t, err)
	assert.Equal(t, 0, never.maxRetries, "negative MaxRetries: never retried, as interceptors.RetryOptions")
}

// headerEcho answers with the request's header h.
func headerEcho(mock *httpmock.MockTransport, h string) {
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(http.StatusOK, r.Header.Get(h)), nil
	})
}

func TestAttachHeader(t *testing.T) {
	ctx := context.Background()
	t.Run("no token: sent without the header", func(t *testing.T) {
		c, mock := newMockClient()
		headerEcho(mock, "Authorization")
		newAuth(t, Options{Refresh: nopRefresh}).Install(c)
		resp, err := c.Get(ctx, "/x")
		require.NoError(t, err)
		assert.Empty(t, string(resp.Data))
	})
	t.Run("token type and custom header", func(t *testing.T) {
		c, mock := newMockClient()
		headerEcho(mock, "X-Api-Token")
		a := newAuth(t, Options{Refresh: nopRefresh, Header: "x-api-token"})
		login(t, a, c, &oauth2.Token{AccessToken: "abc", TokenType: "bearer"})
		resp, err := c.Get(ctx, "/x")
		require.NoError(t, err)
		assert.Equal(t, "Bearer abc", string(resp.Data))
	})
	t.Run("a header the caller set is kept, and its 401 not refreshed", func(t *testing.T) {
		c, mock := newMockClient()
		var got string
		mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			got = r.Header.Get("Authorization")
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		})
		var calls atomic.Int64
		a := newAuth(t, Options{Refresh: counted(nopRefresh, &calls)})
		login(t, a, c, tokenWith("access", time.Time{}))
		_, err := c.Post(ctx, "/auth/refresh", nil, axios.Config{Headers: http.Header{"Authorization": {"Bearer my-refresh"}}})
		ae, ok := axios.AsError(err)
		require.True(t, ok)
		assert.Equal(t, http.StatusUnauthorized, ae.Status())
		assert.Equal(t, "Bearer my-refresh", got)
		assert.EqualValues(t, 0, calls.Load())
	})
	t.Run("adding to or writing into the header changes that request alone", func(t *testing.T) {
		c, mock := newMockClient()
		mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			return httpmock.NewStringResponse(http.StatusOK, strings.Join(r.Header.Values("Authorization"), ",")), nil
		})
		// Registered first, so it runs after AttachHeader, as in axios.
		c.Interceptors.Request.Use(func(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
			if cfg.URL == "/extra" {
				cfg.Headers.Add("Authorization", "Extra e")
			}
			if cfg.URL == "/mutate" {
				cfg.Headers["Authorization"][0] = "Mutated"
			}
			return cfg, nil
		}, nil)
		a := newAuth(t, Options{Refresh: nopRefresh})
		login(t, a, c, tokenWith("t", time.Time{}))
		resp, err := c.Get(ctx, "/extra")
		require.NoError(t, err)
		assert.Equal(t, "Bearer t,Extra e", string(resp.Data))
		resp, err = c.Get(ctx, "/x")
		require.NoError(t, err)
		assert.Equal(t, "Bearer t", string(resp.Data))
		resp, err = c.Get(ctx, "/mutate")
		require.NoError(t, err)
		assert.Equal(t, "Mutated", string(resp.Data))
		resp, err = c.Get(ctx, "/x")
		require.NoError(t, err)
		assert.Equal(t, "Bearer t", string(resp.Data), "one request's write into its header never reaches the next")
	})
	t.Run("the header of an earlier attempt is replaced", func(t *testing.T) {
		c, mock := newMockClient()
		headerEcho(mock, "Authorization")
		a := newAuth(t, Options{Refresh: nopRefresh})
		login(t, a, c, tokenWith("one", time.Time{}))
		resp, err := c.Get(ctx, "/x")
		require.NoError(t, err)
		require.NoError(t, a.SetToken(ctx, tokenWith("two", time.Time{})))
		resp, err = c.Request(ctx, *resp.Config) // resend the config as sent
		require.NoError(t, err)
		assert.Equal(t, "Bearer two", string(resp.Data))
	})
	t.Run("a request sent with a token records nothing in Meta", func(t *testing.T) {
		c, mock := newMockClient()
		headerEcho(mock, "Authorization")
		a := newAuth(t, Options{Refresh: nopRefresh})
		login(t, a, c, tokenWith("t", time.Time{}))
		resp, err := c.Get(ctx, "/x")
		require.NoError(t, err)
		assert.Equal(t, "Bearer t", string(resp.Data))
		assert.Nil(t, resp.Config.Meta, "its header says which token it carried: no map per request")
	})
	t.Run("the header of one of the last 64 tokens is replaced, an older one is the caller's", func(t *testing.T) {
		for _, later := range []int{recentKept - 1, recentKept} {
			c, mock := newMockClient()
			headerEcho(mock, "Authorization")
			a := newAuth(t, Options{Refresh: nopRefresh})
			login(t, a, c, tokenWith("t0", time.Time{}))
			first, err := c.Get(ctx, "/x")
			require.NoError(t, err)
			for i := 1; i <= later; i++ {
				require.NoError(t, a.SetToken(ctx, tokenWith(fmt.Sprintf("t%d", i), time.Time{})))
			}
			resp, err := c.Request(ctx, *first.Config)
			require.NoError(t, err)
			if later < recentKept {
				assert.Equal(t, fmt.Sprintf("Bearer t%d", later), string(resp.Data), "%d tokens later: still ours", later)
			} else {
				assert.Equal(t, "Bearer t0", string(resp.Data), "%d tokens later: kept as the caller's", later)
			}
		}
	})
	t.Run("a header equal to the current token is ours, whoever set it", func(t *testing.T) {
		// Seed 002 ported as is: its own interceptor copies the stored
		// token into the header. A 401 on it is refreshed and retried.
		c, mock := newMockClient()
		mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			if bearerOf(r) == "t2" {
				return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
			}
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		})
		var calls atomic.Int64
		a := newAuth(t, Options{Refresh: counted(func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
			return tokenWith("t2", time.Time{}), nil
		}, &calls)})
		login(t, a, c, tokenWith("t1", time.Time{}))
		resp, err := c.Get(ctx, "/x", axios.Config{Headers: http.Header{"Authorization": {"Bearer t1"}}})
		require.NoError(t, err)
		assert.Equal(t, "ok", string(resp.Data))
		assert.EqualValues(t, 1, calls.Load())
	})
}

// countingStore counts Loads.
type countingStore struct {
	storage.TokenStore
	loads atomic.Int64
}

func (s *countingStore) Load(ctx context.Context) (*oauth2.Token, error) {
	s.loads.Add(1)
	return s.TokenStore.Load(ctx)
}

func TestTokenIsLoadedFromTheStoreOnceAndThenCached(t *testing.T) {
	ctx := context.Background()
	mem := storage.NewMemory()
	require.NoError(t, mem.Save(ctx, tokenWith("stored", time.Time{})))
	store := &countingStore{TokenStore: mem}
	c, mock := newMockClient()
	headerEcho(mock, "Authorization")
	a := newAuth(t, Options{Refresh: nopRefresh, Store: store})
	a.Install(c)

	for _, err := range get(c, ctx, "/x", 100) {
		require.NoError(t, err)
	}
	resp, err := c.Get(ctx, "/x")
	require.NoError(t, err)
	assert.Equal(t, "Bearer stored", string(resp.Data))
	assert.EqualValues(t, 1, store.loads.Load(), "one store round trip, on first use")
}

type failingStore struct{ storage.Memory }

var errDiskOnFire = errors.New("storage: disk on fire")

func (*failingStore) Load(context.Context) (*oauth2.Token, error) {
	return nil, errDiskOnFire
}

func TestAStoreThatCannotLoadFailsTheRequest(t *testing.T) {
	c, mock := newMockClient()
	headerEcho(mock, "Authorization")
	newAuth(t, Options{Refresh: nopRefresh, Store: &failingStore{}}).Install(c)
	// A response interceptor after the pair sees which request failed, as
	// Loading and Logger need to.
	var seen *axios.Config
	c.Interceptors.Response.Use(nil, func(_ context.Context, err error) (*axios.Response, error) {
		if ae, ok := axios.AsError(err); ok {
			seen = ae.Config
		}
		return nil, err
	})
	_, err := c.Get(context.Background(), "/x")
	assert.EqualError(t, err, "axios: auth: load token: storage: disk on fire")
	assert.ErrorIs(t, err, errDiskOnFire)
	ae, ok := axios.AsError(err)
	require.True(t, ok, "an *axios.Error: %T", err)
	assert.Equal(t, axios.CodeBadOptionValue, ae.Code)
	require.NotNil(t, ae.Config)
	assert.Equal(t, "/x", ae.Config.URL)
	assert.Same(t, ae.Config, seen)
	assert.Zero(t, mock.GetTotalCallCount(), "not sent")
}

func TestLogoutForgetsTheToken(t *testing.T) {
	ctx := context.Background()
	store := storage.NewMemory()
	c, mock := newMockClient()
	headerEcho(mock, "Authorization")
	a := newAuth(t, Options{Refresh: nopRefresh, Store: store})
	login(t, a, c, tokenWith("t", time.Time{}))
	require.NoError(t, a.Logout(ctx))
	_, err := store.Load(ctx)
	assert.ErrorIs(t, err, storage.ErrNoToken)
	_, err = a.Token(ctx)
	assert.ErrorIs(t, err, storage.ErrNoToken)
	_, err = a.Refresh(ctx)
	assert.ErrorIs(t, err, storage.ErrNoToken)
	resp, err := c.Get(ctx, "/x")
	require.NoError(t, err)
	assert.Empty(t, string(resp.Data))
}

func TestSetTokenDuringARefreshWaitsForIt(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		<-release
		return tokenWith("refreshed", time.Time{}), nil
	}})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	refreshed := make(chan *oauth2.Token)
	go func() {
		tok, _ := a.Refresh(ctx)
		refreshed <- tok
	}()
	eventually(t, waiting(a, 1), "the refresh to start")
	set := make(chan error)
	go func() { set <- a.SetToken(ctx, tokenWith("login", time.Time{})) }()
	eventually(t, waiting(a, 2), "SetToken to wait for the refresh")
	close(release)
	assert.Equal(t, "refreshed", (<-refreshed).AccessToken)
	require.NoError(t, <-set)
	tok, err := a.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "login", tok.AccessToken, "the login landed after the refresh, not under it")
}

// TestNilContextMeansBackground: as Client.Request, the Authenticator's
// methods take a nil ctx for context.Background().
func TestNilContextMeansBackground(t *testing.T) {
	var nilCtx context.Context
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("t2", time.Time{}), nil
	}})
	require.NoError(t, a.SetToken(nilCtx, tokenWith("t1", time.Time{})))
	tok, err := a.Token(nilCtx)
	require.NoError(t, err)
	assert.Equal(t, "t1", tok.AccessToken)
	cfg, err := a.AttachHeader(nilCtx, &axios.Config{})
	require.NoError(t, err)
	assert.Equal(t, "Bearer t1", cfg.Headers.Get("Authorization"))
	tok, err = a.Refresh(nilCtx)
	require.NoError(t, err)
	assert.Equal(t, "t2", tok.AccessToken)
	tok, err = TokenSource(a).Token()
	require.NoError(t, err)
	assert.Equal(t, "t2", tok.AccessToken)
	c, mock := newMockClient()
	headerEcho(mock, "Authorization")
	a.Install(c)
	refused := &axios.Error{Response: &axios.Response{Status: http.StatusUnauthorized}, Config: &axios.Config{URL: "/x"}}
	resp, err := a.HandleError(nilCtx, refused)
	require.NoError(t, err)
	assert.Equal(t, "Bearer t2", string(resp.Data))
	require.NoError(t, a.Logout(nilCtx))
	_, err = a.Token(nilCtx)
	assert.ErrorIs(t, err, storage.ErrNoToken)
}

func TestRefreshFromInsideTheRefresherFailsInsteadOfDeadlocking(t *testing.T) {
	var a *Authenticator
	var inner error
	a = newAuth(t, Options{Refresh: func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		_, inner = a.Refresh(ctx)
		return tokenWith("t2", time.Time{}), nil
	}})
	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", time.Time{})))
	tok, err := a.Refresh(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "t2", tok.AccessToken)
	assert.ErrorIs(t, inner, errOwnRefresh)
}

func TestHandleErrorRetriesThroughTheInstalledClient(t *testing.T) {
	ctx := context.Background()
	c, mock := newMockClient()
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		if bearerOf(r) == "t2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("t2", time.Time{}), nil
	}})
	refused := &axios.Error{Code: axios.CodeBadRequest, Response: &axios.Response{Status: 401}, Config: &axios.Config{URL: "/x"}}
	_, err := a.HandleError(ctx, refused)
	assert.Same(t, refused, err, "without Install there is no client to retry through")

	login(t, a, c, tokenWith("t1", time.Time{}))
	var skip axios.Config
	SkipAuthRefresh(&skip)
	_, err = c.Get(ctx, "/x", skip)
	ae, ok := axios.AsError(err)
	require.True(t, ok)
	require.Equal(t, http.StatusUnauthorized, ae.Status())

	delete(ae.Config.Meta, metaSkip)
	resp, err := a.HandleError(ctx, ae)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(resp.Data))
	assert.EqualValues(t, 1, a.Stats().Retries)
	assert.EqualValues(t, 1, a.Stats().Refreshes)
}

// TestProcessesSharingALockingStoreRefreshOnce runs two Authenticators, as
// two processes, on one store that is also a storage.Locker, against a
// server that rotates refresh tokens: under the lock, the second one finds
// the token the first saved and adopts it instead of presenting the used
// refresh token again.
func TestProcessesSharingALockingStoreRefreshOnce(t *testing.T) {
	const perProcess = 50
	ctx := context.Background()
	srv := newServer(t, authtest.Options{Rotate: true})
	store := newLockingStore()
	var refreshedUnderLock atomic.Bool
	var procs []*Authenticator
	var clients []*axios.Client
	for range 2 {
		c := newClient(t, srv)
		refresh := seed000(c)
		a := newAuth(t, Options{Store: store, Refresh: func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
			refreshedUnderLock.Store(store.held.Load())
			return refresh(ctx, cur)
		}})
		a.Install(c)
		procs, clients = append(procs, a), append(clients, c)
	}
	require.NoError(t, procs[0].SetToken(ctx, srv.Issue("demo")))
	_, err := procs[1].Token(ctx) // the second process has read the token too
	require.NoError(t, err)
	srv.Revoke()

	var wg sync.WaitGroup
	var failed atomic.Int64
	for _, c := range clients {
		for range perProcess {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Get(ctx, "/api/x"); err != nil {
					failed.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	assert.Zero(t, failed.Load())
	assert.EqualValues(t, 1, srv.Refreshes(), "one refresh for both processes")
	assert.EqualValues(t, 0, srv.InvalidGrants(), "the rotated refresh token was never presented twice")
	assert.True(t, refreshedUnderLock.Load())
	s0, s1 := procs[0].Stats(), procs[1].Stats()
	assert.EqualValues(t, 1, s0.Refreshes+s1.Refreshes)
	assert.EqualValues(t, 1, s0.Adopted+s1.Adopted)
	assert.EqualValues(t, 3, store.locks.Load(), "the login and one refresh turn in each process")
}

func TestLockingStoreWithTheSameTokenRefreshesAndOnRefreshSkipsAdopted(t *testing.T) {
	ctx := context.Background()
	store := newLockingStore()
	var calls, hooks atomic.Int64
	a := newAuth(t, Options{
		Store:     store,
		Refresh:   counted(func(context.Context, *oauth2.Token) (*oauth2.Token, error) { return tokenWith("t2", time.Time{}), nil }, &calls),
		OnRefresh: func(context.Context, *oauth2.Token) { hooks.Add(1) },
	})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	assert.Equal(t, "t2", tok.AccessToken)
	assert.EqualValues(t, 1, calls.Load())
	assert.EqualValues(t, 1, hooks.Load())

	// Another process saves t3; this one still has t2.
	require.NoError(t, store.Memory.Save(ctx, tokenWith("t3", time.Time{})))
	tok, err = a.Refresh(ctx)
	require.NoError(t, err)
	assert.Equal(t, "t3", tok.AccessToken, "adopted")
	assert.EqualValues(t, 1, calls.Load(), "without calling Refresh")
	assert.EqualValues(t, 1, hooks.Load(), "OnRefresh is for refreshes this process made")
	assert.EqualValues(t, 1, a.Stats().Adopted)

	// A lock that cannot be taken fails the refresh but leaves the shared
	// store alone: another process may hold a good token in it.
	store.failed = errors.New("storage: lock backend down")
	_, err = a.Refresh(ctx)
	assert.ErrorIs(t, err, ErrRefreshFailed)
	assert.ErrorIs(t, err, store.failed)
	stored, lerr := store.Memory.Load(ctx)
	require.NoError(t, lerr)
	assert.Equal(t, "t3", stored.AccessToken)
}

// TestLockOutageDoesNotLogTheProcessOutForGood: a shared store whose lock
// cannot be taken (Redis briefly down, or another process holding it past
// RefreshTimeout) fails the refresh, but says nothing about the token. The
// process keeps it, so the next 401 reads the store again and finds the token
// another process saved meanwhile.
func TestLockOutageDoesNotLogTheProcessOutForGood(t *testing.T) {
	ctx := context.Background()
	clock := useFakeClock(t)
	srv := newServer(t, authtest.Options{Rotate: true, Now: clock.Now})
	store := newLockingStore()
	c := newClient(t, srv)
	var failures atomic.Int64
	a := newAuth(t, Options{
		Store:     store,
		Refresh:   seed000(c),
		OnFailure: func(context.Context, error) { failures.Add(1) },
	})
	login(t, a, c, srv.Issue("demo"))
	srv.Revoke()

	store.failNext.Store(1)
	_, err := c.Get(ctx, "/api/x")
	require.ErrorIs(t, err, ErrRefreshFailed)
	require.ErrorIs(t, err, errLockDown)
	ae, ok := axios.AsError(err)
	require.True(t, ok, "an *axios.Error: %T", err)
	assert.Equal(t, http.StatusUnauthorized, ae.Status())
	assert.Zero(t, failures.Load(), "a lock outage is not a logout: no OnFailure")
	assert.EqualValues(t, 1, a.Stats().Failures, "counted as a failed refresh")
	_, err = a.Token(ctx)
	require.NoError(t, err, "the token is kept in memory")
	_, err = store.Memory.Load(ctx)
	require.NoError(t, err, "and in the store")

	// Meanwhile another process refreshes and saves a good token.
	other := newAuth(t, Options{Store: store, Refresh: seed000(newClient(t, srv))})
	_, err = other.Refresh(ctx)
	require.NoError(t, err)

	_, err = c.Get(ctx, "/api/x")
	require.ErrorIs(t, err, errLockDown, "inside the backoff the last failure is returned at once")
	clock.Advance(time.Second)
	for i := range 3 {
		_, err = c.Get(ctx, "/api/x")
		require.NoError(t, err, "request %d after the outage", i)
	}
	assert.EqualValues(t, 1, a.Stats().Adopted, "the next 401 read the store again")
	assert.EqualValues(t, 0, a.Stats().Refreshes)
	assert.EqualValues(t, 1, srv.Refreshes(), "only the other process refreshed")
	assert.EqualValues(t, 0, srv.InvalidGrants())
	assert.Zero(t, failures.Load())
}

// syncBuffer is a bytes.Buffer that loggers on several goroutines (a
// refresh still running after its timeout among them) may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestNoTokenValueInErrorsOrLogs(t *testing.T) {
	var logs syncBuffer
	oldLog, oldFlags := log.Writer(), log.Flags()
	log.SetOutput(&logs)
	oldSlog := slog.Default()
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	slog.SetDefault(logger)
	t.Cleanup(func() {
		log.SetOutput(oldLog)
		log.SetFlags(oldFlags)
		slog.SetDefault(oldSlog)
	})

	ctx := context.Background()
	srv := newServer(t, authtest.Options{ClientID: "app", ClientSecret: "s3cret"})
	var secrets []string
	var errs []error
	keep := func(tok *oauth2.Token) {
		secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
	}
	collect := func(tok *oauth2.Token, err error) {
		keep(tok)
		errs = append(errs, err)
	}
	oauthCfg := &oauth2.Config{ClientID: "app", ClientSecret: "s3cret", Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL()}}
	refreshers := map[string]func(c *axios.Client) Refresher{
		"seed000": seed000,
		"seed001": seed001,
		"oauth2": func(*axios.Client) Refresher {
			r := OAuth2(oauthCfg)
			return func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
				return r(context.WithValue(ctx, oauth2.HTTPClient, srv.Client()), t)
			}
		},
	}
	for name, mk := range refreshers {
		c := newClient(t, srv)
		// One Logger installed before the pair logs every attempt with the
		// headers as sent, the JSON refreshers' calls included; one after it
		// logs what the caller gets, the refresh failures included.
		interceptors.NewLogger(logger, interceptors.LogRequestHeaders(), interceptors.LogResponseHeaders()).Install(c)
		a := newAuth(t, Options{Refresh: mk(c), RefreshTimeout: 300 * time.Millisecond})
		a.Install(c)
		interceptors.NewLogger(logger.With("side", "caller"), interceptors.LogRequestHeaders(), interceptors.LogResponseHeaders()).Install(c)

		// A refresh that succeeds: the refused attempt and the retry.
		tok := srv.Issue("demo")
		require.NoError(t, a.SetToken(ctx, tok))
		srv.Revoke()
		_, err := c.Get(ctx, "/api/x", axios.Config{Params: url.Values{"round": {name + "-ok"}}})
		require.NoError(t, err, name)
		keep(tok)
		refreshed, err := a.Token(ctx)
		require.NoError(t, err)
		require.NotEqual(t, tok.AccessToken, refreshed.AccessToken)
		keep(refreshed)

		// A refresh that fails.
		tok = srv.Issue("demo")
		require.NoError(t, a.SetToken(ctx, tok))
		srv.Revoke()
		srv.RevokeRefresh()
		_, err = c.Post(ctx, "/api/x", map[string]string{"note": name})
		require.ErrorIs(t, err, ErrRefreshFailed, name)
		collect(tok, err)

		// And a waiter canceled while a refresh hangs.
		tok = srv.Issue("demo")
		require.NoError(t, a.SetToken(ctx, tok))
		srv.Revoke()
		srv.SetRefreshDelay(time.Minute)
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		_, err = c.Get(cctx, "/api/x")
		cancel()
		srv.SetRefreshDelay(0)
		collect(tok, err)
		_, _ = a.Refresh(ctx) // let the hung refresh end before the next round
	}
	tok := srv.Issue("demo")
	_, err := ParseTokenResponse([]byte(`{"access_token":"` + tok.AccessToken + `","refresh_token":"` + tok.RefreshToken + `","expires_in":"later"}`))
	collect(tok, err)

	for _, err := range errs {
		require.Error(t, err)
		for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%q", err)} {
			for _, s := range secrets {
				require.NotEmpty(t, s)
				assert.NotContains(t, text, s, "error %q contains a token", text)
			}
		}
	}
	out := logs.String()
	for _, name := range []string{"seed000", "seed001", "oauth2"} {
		assert.Contains(t, out, "round="+name+"-ok", "the Logger logged the %s rounds", name)
	}
	assert.Contains(t, out, "request_headers.Authorization=REDACTED", "the Logger saw the Authorization header")
	assert.Contains(t, out, "auth: refresh failed", "the Logger logged the refresh failures")
	for _, s := range secrets {
		assert.False(t, strings.Contains(out, s), "a log line contains a token")
	}
}
