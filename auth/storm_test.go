package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	"github.com/axiosgo/axios/storage"
)

func TestOne401RefreshesOnceAndRetriesWithTheNewToken(t *testing.T) {
	c, mock := newMockClient()
	var sent []string
	var mu sync.Mutex
	mock.RegisterResponder(http.MethodGet, "http://api.test/me", func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		sent = append(sent, r.Header.Get("Authorization"))
		mu.Unlock()
		if bearerOf(r) != "new" {
			return httpmock.NewStringResponse(http.StatusUnauthorized, `{"error":"invalid_token"}`), nil
		}
		return httpmock.NewStringResponse(http.StatusOK, `{"user":"demo"}`), nil
	})
	var calls atomic.Int64
	var gotRefresh string
	a := newAuth(t, Options{Refresh: func(_ context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		calls.Add(1)
		gotRefresh = cur.RefreshToken
		return &oauth2.Token{AccessToken: "new", TokenType: "Bearer"}, nil
	}})
	login(t, a, c, tokenWith("old", time.Time{}))

	resp, err := c.Get(context.Background(), "/me")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.Status)
	assert.Equal(t, []string{"Bearer old", "Bearer new"}, sent, "one 401, then one retry with the new token")
	assert.EqualValues(t, 1, calls.Load())
	assert.Equal(t, "r-old", gotRefresh)
	st := a.Stats()
	assert.EqualValues(t, 1, st.Refreshes)
	assert.EqualValues(t, 1, st.Retries)
	assert.EqualValues(t, 0, st.Waiting)

	tok, err := a.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "new", tok.AccessToken)
	assert.Equal(t, "r-old", tok.RefreshToken, "a response without a refresh token keeps the old one")
}

func TestConcurrent401sShareOneRefresh(t *testing.T) {
	const n = 1000
	srv := newServer(t, authtest.Options{})
	c := newClient(t, srv)
	var calls atomic.Int64
	a := newAuth(t, Options{Refresh: counted(seed000(c), &calls)})
	login(t, a, c, srv.Issue("demo"))
	srv.Revoke()

	errs := get(c, context.Background(), "/api/storm", n)
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, calls.Load(), "one refresh for %d concurrent 401s", n)
	assert.EqualValues(t, 1, srv.RefreshCalls())
	assert.EqualValues(t, n, srv.Served(), "every request succeeded")
	assert.EqualValues(t, 1, a.Stats().Refreshes)
	assert.EqualValues(t, srv.Denied(), a.Stats().Retries, "every refused request was retried, once")
}

func TestStale401IsRetriedWithTheCurrentTokenWithoutARefresh(t *testing.T) {
	c, mock := newMockClient()
	arrived := make(chan struct{})
	release := make(chan struct{})
	var sent []string
	var mu sync.Mutex
	mock.RegisterResponder(http.MethodGet, "http://api.test/slow", func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		sent = append(sent, bearerOf(r))
		mu.Unlock()
		if bearerOf(r) == "t1" {
			close(arrived)
			<-release // the refresh to t2 happens while t1 is on the wire
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		}
		return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
	})
	var calls atomic.Int64
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		calls.Add(1)
		return &oauth2.Token{AccessToken: "t2"}, nil
	}})
	login(t, a, c, tokenWith("t1", time.Time{}))

	done := make(chan error)
	go func() {
		_, err := c.Get(context.Background(), "/slow")
		done <- err
	}()
	<-arrived
	tok, err := a.Refresh(context.Background())
	require.NoError(t, err)
	require.Equal(t, "t2", tok.AccessToken)
	close(release)

	require.NoError(t, <-done)
	assert.EqualValues(t, 1, calls.Load(), "the late 401 of t1 cost no second refresh")
	assert.Equal(t, []string{"t1", "t2"}, sent)
	assert.EqualValues(t, 1, a.Stats().Retries)
}

func TestA401SentBeforeLoginIsRetriedWithTheNewTokenWithoutARefresh(t *testing.T) {
	c, mock := newMockClient()
	arrived := make(chan struct{})
	release := make(chan struct{})
	var sent []string
	var mu sync.Mutex
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		sent = append(sent, bearerOf(r))
		mu.Unlock()
		if bearerOf(r) == "" {
			close(arrived)
			<-release // the login happens while the request without a token is on the wire
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		}
		return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
	})
	var calls atomic.Int64
	a := newAuth(t, Options{Refresh: counted(nopRefresh, &calls)})
	a.Install(c)

	done := make(chan error)
	go func() {
		_, err := c.Get(context.Background(), "/me")
		done <- err
	}()
	<-arrived
	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", time.Time{})))
	close(release)

	require.NoError(t, <-done)
	assert.EqualValues(t, 0, calls.Load(), "the token it lacked arrived meanwhile: no refresh")
	assert.Equal(t, []string{"", "t1"}, sent)
	assert.EqualValues(t, 1, a.Stats().Retries)
}

// TestProactiveRefreshSendsNoExpiredToken: past its expiry, no request is
// sent with the token: they all wait for the one refresh.
func TestProactiveRefreshSendsNoExpiredToken(t *testing.T) {
	const n = 100
	clock := useFakeClock(t)
	srv := newServer(t, authtest.Options{Now: clock.Now, AccessTTL: time.Minute})
	c := newClient(t, srv)
	var calls atomic.Int64
	release := make(chan struct{})
	refresh := seed000(c)
	a := newAuth(t, Options{Refresh: counted(func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		<-release
		return refresh(ctx, cur)
	}, &calls)})
	login(t, a, c, srv.Issue("demo"))

	clock.Advance(time.Minute + time.Second)
	done := make(chan []error)
	go func() { done <- get(c, context.Background(), "/api/p", n) }()
	eventually(t, waiting(a, n), "all requests to wait for the refresh")
	close(release)
	for _, err := range <-done {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, calls.Load())
	assert.EqualValues(t, 0, srv.Denied(), "the server saw no 401")
	assert.EqualValues(t, n, srv.Served())
	assert.EqualValues(t, 0, a.Stats().Retries)

	// The new token is fresh: the next request refreshes nothing.
	_, err := c.Get(context.Background(), "/api/p")
	require.NoError(t, err)
	assert.EqualValues(t, 1, calls.Load())
}

// TestProactiveRefreshRunsBehindAValidToken: inside the RefreshBefore
// window the token is still valid, so requests are sent with it at once
// while one refresh runs in the background; none waits for it.
func TestProactiveRefreshRunsBehindAValidToken(t *testing.T) {
	const n = 100
	clock := useFakeClock(t)
	srv := newServer(t, authtest.Options{Now: clock.Now, AccessTTL: time.Minute})
	c := newClient(t, srv)
	var calls atomic.Int64
	release := make(chan struct{})
	refresh := seed000(c)
	var refreshed atomic.Int64
	a := newAuth(t, Options{
		Refresh: counted(func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
			<-release
			return refresh(ctx, cur)
		}, &calls),
		OnRefresh: func(context.Context, *oauth2.Token) { refreshed.Add(1) },
	})
	first := srv.Issue("demo")
	login(t, a, c, first)

	clock.Advance(45 * time.Second) // inside the 30s window
	for _, err := range get(c, context.Background(), "/api/p", n) {
		require.NoError(t, err, "sent at once, though the refresh is held")
	}
	eventually(t, func() bool { return calls.Load() == 1 }, "one background refresh to call the Refresher")
	assert.EqualValues(t, 0, a.Stats().Waiting)
	assert.EqualValues(t, n, srv.Served())
	tok, err := a.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, first.AccessToken, tok.AccessToken, "the refresh is still under way")

	close(release)
	// OnRefresh runs after the flight ends, so wait for the hook itself.
	eventually(t, func() bool { return refreshed.Load() == 1 }, "the background refresh to end and call OnRefresh")
	assert.True(t, idle(a)())
	resp, err := c.Get(context.Background(), "/api/p")
	require.NoError(t, err)
	assert.NotEqual(t, "Bearer "+first.AccessToken, resp.Config.Headers.Get("Authorization"), "the next request carries the new token")
	assert.EqualValues(t, 1, calls.Load())
	assert.EqualValues(t, 0, srv.Denied())
}

// TestProactiveRefreshFailureHasTheCausesCode: a request that waited in
// AttachHeader for a refresh that failed was never sent, so it has no
// status, and its code says why the refresh failed, not ERR_BAD_REQUEST.
func TestProactiveRefreshFailureHasTheCausesCode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cause error
		want  string
	}{
		{"plain error", errors.New("refresh endpoint exploded"), axios.CodeNetwork},
		{"axios error", &axios.Error{Message: "context deadline exceeded", Code: axios.CodeTimedOut}, axios.CodeTimedOut},
		{"wrapped axios error", fmt.Errorf("refresh: %w", &axios.Error{Message: "Network Error", Code: axios.CodeNetwork}), axios.CodeNetwork},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := useFakeClock(t)
			c, mock := newMockClient()
			headerEcho(mock, "Authorization")
			a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
				return nil, tc.cause
			}})
			login(t, a, c, tokenWith("t1", clock.Now().Add(time.Hour)))
			clock.Advance(time.Hour + time.Second) // expired: the request waits

			_, err := c.Get(context.Background(), "/x")
			assert.ErrorIs(t, err, ErrRefreshFailed)
			assert.ErrorIs(t, err, tc.cause)
			ae, ok := axios.AsError(err)
			require.True(t, ok, "an *axios.Error: %T", err)
			assert.Equal(t, tc.want, ae.Code)
			assert.Zero(t, ae.Status())
			assert.Nil(t, ae.Response)
			assert.Zero(t, mock.GetTotalCallCount(), "not sent")
		})
	}
}

func TestProactiveAndReactiveRefreshAreOneRefresh(t *testing.T) {
	const n = 50
	clock := useFakeClock(t)
	c, mock := newMockClient()
	var arrived, refused atomic.Int64
	releaseReactive := make(chan struct{})
	mock.RegisterResponder(http.MethodGet, "http://api.test/reactive", func(r *http.Request) (*http.Response, error) {
		if bearerOf(r) == "t2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		arrived.Add(1)
		<-releaseReactive
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	mock.RegisterResponder(http.MethodGet, "http://api.test/proactive", func(r *http.Request) (*http.Response, error) {
		if bearerOf(r) == "t1" || bearerOf(r) == "t2" {
			return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
		}
		refused.Add(1)
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	var calls atomic.Int64
	releaseRefresh := make(chan struct{})
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		calls.Add(1)
		<-releaseRefresh
		return tokenWith("t2", timeNow().Add(time.Hour)), nil
	}})
	login(t, a, c, tokenWith("t1", clock.Now().Add(time.Minute)))

	reactive := make(chan []error)
	go func() { reactive <- get(c, context.Background(), "/reactive", n) }()
	eventually(t, func() bool { return arrived.Load() == n }, "the reactive requests to be on the wire with t1")

	clock.Advance(40 * time.Second) // t1 is now inside RefreshBefore, still valid
	for _, err := range get(c, context.Background(), "/proactive", n) {
		require.NoError(t, err, "sent with t1 while the proactive refresh runs")
	}
	eventually(t, func() bool { return calls.Load() == 1 }, "the proactive refresh to call the Refresher")
	close(releaseReactive)
	eventually(t, waiting(a, n), "the reactive 401s to join the same refresh")
	close(releaseRefresh)

	for _, err := range <-reactive {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, calls.Load(), "one refresh for both kinds")
	assert.EqualValues(t, 0, refused.Load())
	assert.EqualValues(t, n, a.Stats().Retries, "only the reactive requests were retried")
}

func TestRefreshFailureFailsEveryWaiterAndLogsOut(t *testing.T) {
	const n = 50
	srv := newServer(t, authtest.Options{})
	c := newClient(t, srv)
	store := storage.NewMemory()
	errBoom := fmt.Errorf("refresh endpoint refused: %w", ErrRefused)
	var calls, failures atomic.Int64
	var a *Authenticator
	a = newAuth(t, Options{
		Store: store,
		Refresh: func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
			calls.Add(1)
			for a.Stats().Waiting < n && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			return nil, errBoom
		},
		OnFailure: func(ctx context.Context, err error) {
			failures.Add(1)
			assert.ErrorIs(t, err, errBoom)
			_, lerr := store.Load(ctx)
			assert.ErrorIs(t, lerr, storage.ErrNoToken, "the store is cleared before OnFailure")
		},
	})
	login(t, a, c, srv.Issue("demo"))
	srv.Revoke()

	errs := get(c, context.Background(), "/api/x", n)
	for _, err := range errs {
		require.Error(t, err)
		assert.ErrorIs(t, err, errBoom)
		assert.ErrorIs(t, err, ErrRefreshFailed)
		ae, ok := axios.AsError(err)
		require.True(t, ok, "an *axios.Error: %T", err)
		if ae.Response != nil {
			assert.Equal(t, http.StatusUnauthorized, ae.Status(), "the refused response is kept")
			assert.Equal(t, axios.CodeBadRequest, ae.Code)
		} else { // it waited in AttachHeader, before it was sent
			assert.Equal(t, axios.CodeNetwork, ae.Code)
		}
		assert.Contains(t, err.Error(), "auth: refresh failed: refresh endpoint refused")
	}
	assert.EqualValues(t, 1, calls.Load())
	assert.EqualValues(t, 1, failures.Load(), "OnFailure runs once")
	assert.EqualValues(t, 1, a.Stats().Failures)
	_, err := store.Load(context.Background())
	assert.ErrorIs(t, err, storage.ErrNoToken)
	_, err = a.Token(context.Background())
	assert.ErrorIs(t, err, storage.ErrNoToken)

	// Logged out: the next request goes without a token and its 401 is
	// passed on, with no new refresh.
	_, err = c.Get(context.Background(), "/api/x")
	ae, _ := axios.AsError(err)
	require.NotNil(t, ae)
	assert.Equal(t, http.StatusUnauthorized, ae.Status())
	assert.NotErrorIs(t, err, ErrRefreshFailed)
	assert.EqualValues(t, 1, calls.Load())
}

// The refresh's context has what RefreshContext picks of the first
// caller's context (a trace span, a request ID), nothing else of it, and
// neither its cancellation nor its deadline.
func TestCanceledWaiterLeavesAtOnceAndTheRefreshGoesOn(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	c := newClient(t, srv)
	release := make(chan struct{})
	var calls atomic.Int64
	var refreshCanceled atomic.Bool
	var refreshValue atomic.Value
	var refreshDeadline atomic.Int64
	var refreshOther atomic.Value
	type requestID struct{}
	type otherKey struct{}
	refresh := seed000(c)
	a := newAuth(t, Options{RefreshTimeout: time.Hour, RefreshContext: func(ctx context.Context) context.Context {
		return context.WithValue(context.Background(), requestID{}, ctx.Value(requestID{}))
	}, Refresh: func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
		calls.Add(1)
		if d, ok := ctx.Deadline(); ok {
			refreshDeadline.Store(int64(time.Until(d)))
		}
		refreshValue.Store(ctx.Value(requestID{}))
		refreshOther.Store(fmt.Sprint(ctx.Value(otherKey{})))
		<-release
		refreshCanceled.Store(ctx.Err() != nil)
		return refresh(ctx, cur)
	}})
	login(t, a, c, srv.Issue("demo"))
	srv.Revoke()

	type outcome struct {
		err error
		at  time.Time
	}
	start := func(ctx context.Context) chan outcome {
		ch := make(chan outcome, 1)
		go func() {
			_, err := c.Get(ctx, "/api/x")
			ch <- outcome{err, time.Now()}
		}()
		return ch
	}

	// The first caller starts the refresh, then gives up.
	firstCtx, cancelFirst := context.WithTimeout(context.WithValue(context.WithValue(context.Background(), otherKey{}, "other"), requestID{}, "first"), time.Minute)
	defer cancelFirst()
	first := start(firstCtx)
	eventually(t, waiting(a, 1), "the first request to start the refresh")

	middleCtx, cancelMiddle := context.WithCancel(context.Background())
	defer cancelMiddle()
	var others []chan outcome
	for range 4 {
		others = append(others, start(context.Background()))
	}
	middle := start(middleCtx)
	for range 4 {
		others = append(others, start(context.Background()))
	}
	eventually(t, waiting(a, 10), "ten waiters")

	for _, tc := range []struct {
		cancel context.CancelFunc
		ch     chan outcome
		left   int64
	}{{cancelFirst, first, 9}, {cancelMiddle, middle, 8}} {
		canceled := time.Now()
		tc.cancel()
		o := <-tc.ch
		assert.ErrorIs(t, o.err, context.Canceled)
		assert.True(t, axios.IsCancel(o.err))
		ae, ok := axios.AsError(o.err)
		require.True(t, ok)
		assert.Equal(t, axios.CodeCanceled, ae.Code)
		assert.Less(t, o.at.Sub(canceled), time.Second, "a canceled waiter returns at once")
		assert.EqualValues(t, tc.left, a.Stats().Waiting)
	}
	assert.EqualValues(t, 1, calls.Load())

	close(release)
	for _, ch := range others {
		require.NoError(t, (<-ch).err)
	}
	assert.False(t, refreshCanceled.Load(), "the first caller canceling did not cancel the refresh")
	assert.Equal(t, "first", refreshValue.Load(), "the refresh's context has what RefreshContext picked")
	assert.Equal(t, "<nil>", refreshOther.Load(), "and nothing else of the caller's")
	assert.Greater(t, time.Duration(refreshDeadline.Load()), 50*time.Minute, "RefreshTimeout's deadline, not the first caller's")
	assert.EqualValues(t, 1, calls.Load())
	assert.EqualValues(t, 1, srv.Refreshes())
	assert.EqualValues(t, 0, a.Stats().Failures)
}

// TestWaitersLeaveWithoutTheLock: waiters whose contexts end together (a
// burst of requests timing out during a slow refresh) leave without taking
// mu, so they neither queue on it nor search the subscriber list under it,
// which cost O(N²) for N of them (BenchmarkWaitersLeavingTogether). Waiting
// counts only the waiters still there.
func TestWaitersLeaveWithoutTheLock(t *testing.T) {
	const n = 100
	release := make(chan struct{})
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		<-release
		return tokenWith("t2", time.Time{}), nil
	}})
	require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", time.Time{})))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	left := make(chan error, n)
	for range n {
		go func() {
			_, err := a.Refresh(ctx)
			left <- err
		}()
	}
	stays := make(chan *oauth2.Token, 1)
	go func() {
		tok, _ := a.Refresh(context.Background())
		stays <- tok
	}()
	eventually(t, waiting(a, n+1), "all waiters")

	a.flight.mu.Lock() // held elsewhere, e.g. by the end of a turn
	cancel()
	timeout := time.After(5 * time.Second)
	for i := range n {
		select {
		case err := <-left:
			assert.ErrorIs(t, err, context.Canceled)
		case <-timeout:
			a.flight.mu.Unlock()
			t.Fatalf("%d of %d canceled waiters are stuck on the lock", n-i, n)
		}
	}
	a.flight.mu.Unlock()
	assert.EqualValues(t, 1, a.Stats().Waiting, "the waiters that left are not counted")

	close(release)
	assert.Equal(t, "t2", (<-stays).AccessToken, "the waiter that stayed got the new token")
	assert.EqualValues(t, 0, a.Stats().Waiting)
}

func TestServerThatAlwaysRefusesEndsInBoundedTimeAndRefreshes(t *testing.T) {
	const maxRetries = 2
	c, mock := newMockClient()
	var hits atomic.Int64
	mock.RegisterResponder(http.MethodGet, "http://api.test/x", func(*http.Request) (*http.Response, error) {
		hits.Add(1)
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	var calls atomic.Int64
	a := newAuth(t, Options{MaxRetries: maxRetries, Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		n := calls.Add(1)
		return &oauth2.Token{AccessToken: fmt.Sprintf("t%d", n)}, nil
	}})
	login(t, a, c, tokenWith("t0", time.Time{}))

	_, err := c.Get(context.Background(), "/x")
	ae, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, http.StatusUnauthorized, ae.Status())
	assert.NotErrorIs(t, err, ErrRefreshFailed, "the server's own 401 is returned as it is")
	assert.EqualValues(t, maxRetries, calls.Load())
	assert.EqualValues(t, maxRetries+1, hits.Load())

	const n = 20
	calls.Store(0)
	start := time.Now()
	for _, err := range get(c, context.Background(), "/x", n) {
		ae, ok := axios.AsError(err)
		require.True(t, ok)
		assert.Equal(t, http.StatusUnauthorized, ae.Status())
	}
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.LessOrEqual(t, calls.Load(), int64(n*maxRetries))
	assert.GreaterOrEqual(t, calls.Load(), int64(maxRetries))
	assert.EqualValues(t, (1+n)*maxRetries, a.Stats().Retries, "each request retried exactly MaxRetries times")
}

func TestRefreshEndpointThatAnswers401DoesNotDeadlock(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	cases := map[string]func(c *axios.Client) Refresher{
		// Seed 001's endpoint through the same client: JSONRefresher marks it
		// SkipAuthRefresh, and the caller's Authorization header is kept.
		"JSONRefresher": seed001,
		// A hand-written refresher that forgets SkipAuthRefresh: the refresh
		// context alone keeps its 401 from waiting for itself.
		"own context": func(c *axios.Client) Refresher {
			return func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
				_, err := c.Get(ctx, "/api/needs-a-token")
				return nil, err
			}
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, srv)
			a := newAuth(t, Options{Refresh: mk(c), RefreshTimeout: 5 * time.Second})
			login(t, a, c, srv.Issue("demo"))
			srv.Revoke()
			srv.RevokeRefresh()

			done := make(chan error, 1)
			go func() {
				_, err := c.Get(context.Background(), "/api/x")
				done <- err
			}()
			select {
			case err := <-done:
				assert.ErrorIs(t, err, ErrRefreshFailed)
				ae, ok := axios.AsError(err)
				require.True(t, ok)
				assert.Equal(t, http.StatusUnauthorized, ae.Status())
			case <-time.After(3 * time.Second):
				t.Fatal("deadlock: the refresh waited for itself")
			}
			assert.EqualValues(t, 1, a.Stats().Failures)
		})
	}
}

func TestStatusCodesAndShouldRefresh(t *testing.T) {
	t.Run("403 refreshes when StatusCodes has it", func(t *testing.T) {
		srv := newServer(t, authtest.Options{DenyStatus: http.StatusForbidden})
		c := newClient(t, srv)
		a := newAuth(t, Options{Refresh: seed000(c), StatusCodes: []int{http.StatusForbidden}})
		login(t, a, c, srv.Issue("demo"))
		srv.Revoke()
		_, err := c.Get(context.Background(), "/api/x")
		require.NoError(t, err)
		assert.EqualValues(t, 1, srv.Refreshes())
	})
	t.Run("403 is passed on by default", func(t *testing.T) {
		srv := newServer(t, authtest.Options{DenyStatus: http.StatusForbidden})
		c := newClient(t, srv)
		a := newAuth(t, Options{Refresh: seed000(c)})
		login(t, a, c, srv.Issue("demo"))
		srv.Revoke()
		_, err := c.Get(context.Background(), "/api/x")
		ae, ok := axios.AsError(err)
		require.True(t, ok)
		assert.Equal(t, http.StatusForbidden, ae.Status())
		assert.EqualValues(t, 0, srv.RefreshCalls())
	})
	t.Run("ShouldRefresh decides instead of StatusCodes", func(t *testing.T) {
		srv := newServer(t, authtest.Options{})
		c := newClient(t, srv)
		var asked atomic.Int64
		a := newAuth(t, Options{
			Refresh:     seed000(c),
			StatusCodes: []int{http.StatusTeapot}, // ignored
			ShouldRefresh: func(e *axios.Error) bool {
				asked.Add(1)
				return e.Status() == http.StatusUnauthorized &&
					e.Response.Headers.Get("WWW-Authenticate") != ""
			},
		})
		login(t, a, c, srv.Issue("demo"))

		// A 401 the application sends, not a refused token: not refreshed.
		_, err := c.Get(context.Background(), "/api/status/401")
		ae, _ := axios.AsError(err)
		require.NotNil(t, ae)
		assert.Equal(t, http.StatusUnauthorized, ae.Status())
		_, err = c.Get(context.Background(), "/api/status/418")
		ae, _ = axios.AsError(err)
		require.NotNil(t, ae)
		assert.Equal(t, http.StatusTeapot, ae.Status())
		assert.EqualValues(t, 0, srv.RefreshCalls())

		srv.Revoke()
		_, err = c.Get(context.Background(), "/api/x")
		require.NoError(t, err)
		assert.EqualValues(t, 1, srv.Refreshes())
		assert.EqualValues(t, 3, asked.Load())
	})
}

func TestSkipAuthRefreshPassesTheStatusOn(t *testing.T) {
	srv := newServer(t, authtest.Options{})
	c := newClient(t, srv)
	a := newAuth(t, Options{Refresh: seed000(c)})
	tok := srv.Issue("demo")
	login(t, a, c, tok)
	srv.Revoke()

	var cfg axios.Config
	SkipAuthRefresh(&cfg)
	_, err := c.Get(context.Background(), "/api/logout", cfg)
	ae, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, http.StatusUnauthorized, ae.Status())
	assert.Equal(t, "Bearer "+tok.AccessToken, ae.Config.Headers.Get("Authorization"), "the token is still attached")
	assert.EqualValues(t, 0, srv.RefreshCalls())
	assert.EqualValues(t, 0, a.Stats().Retries)
}

func TestRetryAfterRefreshSendsTheSameBody(t *testing.T) {
	const text = "the same bytes, twice"
	cases := []struct {
		name string
		data func() any
		want string
	}{
		{"JSON", func() any { return map[string]any{"n": 1, "s": "x"} }, `{"n":1,"s":"x"}`},
		{"io.Reader", func() any { return struct{ io.Reader }{strings.NewReader(text)} }, text},
		{"io.ReadSeeker", func() any { return strings.NewReader(text) }, text},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, authtest.Options{})
			c := newClient(t, srv)
			a := newAuth(t, Options{Refresh: seed000(c)})
			login(t, a, c, srv.Issue("demo"))
			srv.Revoke()

			data := tc.data()
			resp, err := c.Post(context.Background(), "/api/upload", data)
			require.NoError(t, err)
			var echo struct{ Body string }
			require.NoError(t, resp.JSON(&echo))
			assert.Equal(t, tc.want, echo.Body)
			assert.EqualValues(t, 1, srv.Denied(), "the first attempt was refused")
			assert.EqualValues(t, 1, a.Stats().Retries)
		})
	}
}

func TestRotationSavesAndUsesEachNewRefreshToken(t *testing.T) {
	srv := newServer(t, authtest.Options{Rotate: true})
	c := newClient(t, srv)
	store := storage.NewMemory()
	var seen []*oauth2.Token
	a := newAuth(t, Options{
		Store:     store,
		Refresh:   seed000(c),
		OnRefresh: func(_ context.Context, tok *oauth2.Token) { seen = append(seen, tok) },
	})
	first := srv.Issue("demo")
	login(t, a, c, first)

	last := first.RefreshToken
	for i := range 3 {
		srv.Revoke()
		_, err := c.Get(context.Background(), "/api/x")
		require.NoError(t, err, "refresh %d", i+1)
		require.Len(t, seen, i+1)
		stored, err := store.Load(context.Background())
		require.NoError(t, err)
		assert.NotEqual(t, last, stored.RefreshToken, "rotated")
		assert.Equal(t, seen[i].RefreshToken, stored.RefreshToken, "OnRefresh sees the saved token")
		assert.Equal(t, seen[i].AccessToken, stored.AccessToken)
		last = stored.RefreshToken
	}
	assert.EqualValues(t, 3, srv.Refreshes())
	assert.EqualValues(t, 0, srv.InvalidGrants(), "no used refresh token was presented again")
}

func TestHangingRefresherIsCutOffAtRefreshTimeout(t *testing.T) {
	const timeout = 150 * time.Millisecond
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	refused := func() *axios.Client {
		c, mock := newMockClient()
		mock.RegisterResponder(http.MethodGet, "http://api.test/api/x", httpmock.NewStringResponder(http.StatusUnauthorized, ""))
		return c
	}
	cases := map[string]func(t *testing.T) (*axios.Client, Refresher){
		"refresher honours ctx": func(*testing.T) (*axios.Client, Refresher) {
			return refused(), func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			}
		},
		"refresher ignores ctx": func(*testing.T) (*axios.Client, Refresher) {
			return refused(), func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
				<-stop
				return nil, errors.New("too late")
			}
		},
		"refresh endpoint hangs": func(t *testing.T) (*axios.Client, Refresher) {
			srv := newServer(t, authtest.Options{})
			srv.SetRefreshDelay(time.Minute)
			c := newClient(t, srv)
			return c, seed000(c)
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			c, refresh := mk(t)
			a := newAuth(t, Options{Refresh: refresh, RefreshTimeout: timeout})
			login(t, a, c, tokenWith("not-a-valid-token", time.Time{}))
			start := time.Now()
			_, err := c.Get(context.Background(), "/api/x")
			elapsed := time.Since(start)
			assert.ErrorIs(t, err, ErrRefreshFailed)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.GreaterOrEqual(t, elapsed, timeout)
			assert.Less(t, elapsed, timeout+2*time.Second)
			assert.EqualValues(t, 1, a.Stats().Failures)
		})
	}
}

func TestGoroutinesWaitingOnARefreshAllResumeWhenItEnds(t *testing.T) {
	// Refresh, TokenSource and requests join the same refresh.
	c, mock := newMockClient()
	mock.RegisterResponder(http.MethodGet, "http://api.test/x", func(r *http.Request) (*http.Response, error) {
		if bearerOf(r) == "t2" {
			return httpmock.NewStringResponse(http.StatusOK, ""), nil
		}
		return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
	})
	release := make(chan struct{})
	var calls atomic.Int64
	a := newAuth(t, Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		calls.Add(1)
		<-release
		return &oauth2.Token{AccessToken: "t2"}, nil
	}})
	login(t, a, c, tokenWith("t1", time.Time{}))

	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		_, err := c.Get(context.Background(), "/x")
		assert.NoError(t, err)
	}()
	eventually(t, waiting(a, 1), "the request to start the refresh")
	go func() {
		defer wg.Done()
		tok, err := a.Refresh(context.Background())
		assert.NoError(t, err)
		assert.Equal(t, "t2", tok.AccessToken)
	}()
	go func() {
		defer wg.Done()
		tok, err := TokenSource(a).Token()
		assert.NoError(t, err)
		assert.Equal(t, "t2", tok.AccessToken)
	}()
	eventually(t, waiting(a, 3), "three waiters")
	close(release)
	wg.Wait()
	assert.EqualValues(t, 1, calls.Load())
}

func TestHandleErrorWithoutAttachHeaderDoesNotPanic(t *testing.T) {
	// A refused request whose Config has no Meta and no Headers: its
	// request interceptors were cleared, or an Adapter answered with a
	// Config of its own. Such a 401 is first retried with the current
	// token, as one sent without a token is; refused again, it is
	// refreshed. The retry count rides on the ctx, so a Config replaced on
	// every attempt cannot loop.
	refresh := func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return tokenWith("t2", time.Time{}), nil
	}
	t.Run("request interceptors cleared", func(t *testing.T) {
		c, mock := newMockClient()
		var sent []string
		mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			sent = append(sent, bearerOf(r))
			if bearerOf(r) == "t2" {
				return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
			}
			return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
		})
		a := newAuth(t, Options{Refresh: refresh, MaxRetries: 2})
		login(t, a, c, tokenWith("t1", time.Time{}))
		c.Interceptors.Request.Clear()
		resp, err := c.Get(context.Background(), "/x")
		require.NoError(t, err)
		assert.Equal(t, "ok", string(resp.Data))
		assert.Equal(t, []string{"", "t1", "t2"}, sent, "without a token, then the current one, then the refreshed one")
		assert.EqualValues(t, 1, a.Stats().Refreshes)
		current := a.state.load()
		gen, ours := a.state.recognize(resp.Config.Headers.Get("Authorization"))
		assert.Equal(t, current.header, resp.Config.Headers.Get("Authorization"), "the retry carries the current token")
		assert.True(t, ours)
		assert.Equal(t, current.gen, gen, "its header says which token, generation and all")
	})
	t.Run("adapter answers with a bare Config", func(t *testing.T) {
		var calls atomic.Int64
		c := axios.Create(axios.Config{Adapter: func(_ context.Context, cfg *axios.Config) (*axios.Response, error) {
			calls.Add(1)
			if cfg.Headers.Get("Authorization") == "Bearer t2" {
				return &axios.Response{Status: http.StatusOK, Data: []byte("ok")}, nil
			}
			return &axios.Response{Status: http.StatusUnauthorized, Config: &axios.Config{URL: cfg.URL}}, nil
		}})
		a := newAuth(t, Options{Refresh: refresh, MaxRetries: 2})
		login(t, a, c, tokenWith("t1", time.Time{}))
		resp, err := c.Get(context.Background(), "/x")
		require.NoError(t, err)
		assert.Equal(t, "ok", string(resp.Data))
		assert.EqualValues(t, 1, a.Stats().Refreshes)
		assert.EqualValues(t, 3, calls.Load())
	})
	t.Run("adapter that always refuses with a bare Config ends", func(t *testing.T) {
		var calls atomic.Int64
		c := axios.Create(axios.Config{Adapter: func(_ context.Context, cfg *axios.Config) (*axios.Response, error) {
			calls.Add(1)
			return &axios.Response{Status: http.StatusUnauthorized, Config: &axios.Config{URL: cfg.URL}}, nil
		}})
		a := newAuth(t, Options{Refresh: refresh, MaxRetries: 3})
		login(t, a, c, tokenWith("t1", time.Time{}))
		_, err := c.Get(context.Background(), "/x")
		ae, ok := axios.AsError(err)
		require.True(t, ok)
		assert.Equal(t, http.StatusUnauthorized, ae.Status())
		assert.EqualValues(t, 4, calls.Load(), "the first attempt and MaxRetries retries")
	})
}

// slowSaveStore is a storage.Memory whose Save takes d and honours ctx, as
// a remote store's does.
type slowSaveStore struct {
	*storage.Memory
	d time.Duration
}

func (s *slowSaveStore) Save(ctx context.Context, tok *oauth2.Token) error {
	select {
	case <-time.After(s.d):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Memory.Save(ctx, tok)
}

// TestRefreshedTokenIsSavedEvenWhenTheRefreshUsedItsTimeout: a rotated
// refresh token that is not saved is lost to the next process, so the save
// must not depend on what the Refresher left of RefreshTimeout.
func TestRefreshedTokenIsSavedEvenWhenTheRefreshUsedItsTimeout(t *testing.T) {
	const (
		timeout = 300 * time.Millisecond
		left    = 50 * time.Millisecond  // of timeout, when the Refresher returns
		save    = 100 * time.Millisecond // more than left
	)
	ctx := context.Background()
	store := &slowSaveStore{Memory: storage.NewMemory(), d: save}
	a := newAuth(t, Options{Store: store, RefreshTimeout: timeout, Refresh: func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
		deadline, _ := ctx.Deadline()
		time.Sleep(time.Until(deadline) - left)
		return tokenWith("rotated", time.Time{}), nil
	}})
	require.NoError(t, a.SetToken(ctx, tokenWith("t1", time.Time{})))
	tok, err := a.Refresh(ctx)
	require.NoError(t, err)
	assert.Equal(t, "rotated", tok.AccessToken)
	stored, err := store.Memory.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "rotated", stored.AccessToken, "the rotated token reached the store")
	assert.Zero(t, a.Stats().SaveFails)
}

// Without RefreshContext the refresh sees none of the caller's values (an
// httptrace, a transaction); a RefreshContext that panics or returns nil
// leaves it so, and the refresh goes on; one that returns its argument
// still has the caller's deadline dropped.
func TestRefreshContextDefaultsToNoneOfTheCallersValues(t *testing.T) {
	type key struct{}
	for name, pick := range map[string]func(context.Context) context.Context{
		"none":   nil,
		"nil":    func(context.Context) context.Context { return nil },
		"panics": func(context.Context) context.Context { panic("RefreshContext bug") },
		"itself": func(ctx context.Context) context.Context { return ctx },
	} {
		t.Run(name, func(t *testing.T) {
			var saw any
			var deadline bool
			a := newAuth(t, Options{RefreshTimeout: time.Hour, RefreshContext: pick, Refresh: func(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
				saw = ctx.Value(key{})
				d, ok := ctx.Deadline()
				deadline = ok && time.Until(d) < 50*time.Minute
				return tokenWith("t2", time.Time{}), nil
			}})
			require.NoError(t, a.SetToken(context.Background(), tokenWith("t1", time.Time{})))
			ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "caller"), time.Minute)
			defer cancel()
			tok, err := a.Refresh(ctx)
			require.NoError(t, err)
			assert.Equal(t, "t2", tok.AccessToken)
			assert.False(t, deadline, "the caller's deadline never bounds the refresh")
			if name == "itself" {
				assert.Equal(t, "caller", saw)
			} else {
				assert.Nil(t, saw)
			}
		})
	}
}
