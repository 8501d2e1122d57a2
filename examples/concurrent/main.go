// Command concurrent ports seed 003, a post about refreshing tokens in an
// axios interceptor when the front end fires many calls at once and some of
// them in sequence. It names two ways, and asks for one refresh however many
// calls need it, and for sequential calls that stay in order:
//
//  1. reactive: send the request; on "unauthorized", get a new token (or wait
//     for the one already being fetched) and send the request again;
//  2. proactive: before sending, check whether the token has expired; if so,
//     get a new one first while the other requests wait. (A token about to
//     expire is refreshed in the background while it is still sent.)
//
// The seed keeps the token in a cookie so every call shares it; here every
// call of a client shares its Authenticator's store.
//
//	go run ./examples/concurrent
//
// Both ways are one auth.Options field apart: RefreshBefore < 0 refreshes
// only on a 401, RefreshBefore > 0 also refreshes a token that expires within
// that window before it is sent. The program prints, for each, the refreshes
// and the 401s the server counted, then runs a chain of dependent calls (each
// sends what the previous one returned) with the token revoked in the
// middle. Summary lines:
//
//	reactive:  10 requests, 10 succeeded, 1 refresh, 10 401s
//	proactive: 10 requests, 10 succeeded, 1 refresh, 0 401s
//	chain:     6 calls in order across 1 refresh: start>1>2>3>4>5>6
//
// It exits non-zero when a count differs.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
)

const concurrent = 10

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "concurrent:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var failed []string
	check := func(ok bool, what string) {
		if !ok {
			failed = append(failed, what)
		}
	}

	// 1. Reactive: the token is revoked under ten requests in flight. All
	// ten are refused; one refresh; all ten are sent again.
	srv := authtest.NewServer(authtest.Options{})
	defer srv.Close()
	c, err := newClient(ctx, srv, -1) // never refresh before a 401
	if err != nil {
		return err
	}
	defer c.api.CloseIdleConnections()
	ok := c.burst(ctx, srv.Revoke)
	fmt.Printf("reactive:  %d requests, %d succeeded, %d refresh, %d 401s\n", concurrent, ok, srv.Refreshes(), srv.Denied())
	check(ok == concurrent && srv.Refreshes() == 1 && srv.Denied() == concurrent, "reactive")

	// 2. Proactive: two-second tokens, due for a refresh in their last
	// second. Inside that window a request would go out at once with the
	// still-valid token while one refresh runs behind it; here the program
	// waits until the token has expired, as the post's check does, then
	// sends ten requests: the first starts the refresh, the others wait for
	// it, none is sent with the expired token, none is refused.
	const ttl, before = 2 * time.Second, time.Second
	psrv := authtest.NewServer(authtest.Options{AccessTTL: ttl})
	defer psrv.Close()
	p, err := newClient(ctx, psrv, before)
	if err != nil {
		return err
	}
	defer p.api.CloseIdleConnections()
	tok, err := p.authn.Token(ctx)
	if err != nil {
		return err
	}
	time.Sleep(time.Until(tok.Expiry) + 100*time.Millisecond)
	ok = p.burst(ctx, nil)
	fmt.Printf("proactive: %d requests, %d succeeded, %d refresh, %d 401s\n", concurrent, ok, psrv.Refreshes(), psrv.Denied())
	check(ok == concurrent && psrv.Refreshes() == 1 && psrv.Denied() == 0, "proactive")

	// 3. A chain of dependent calls: each sends what the one before it
	// returned, so they cannot be reordered or run in parallel. The token is
	// revoked before step 4: step 4 is refused, refreshed and sent again,
	// and step 5 starts only once step 4 has its answer.
	srv.ResetCounters()
	value := "start"
	for step := 1; step <= 6; step++ {
		if step == 4 {
			srv.Revoke()
		}
		e, err := axios.JSON[echo](c.api.Post(ctx, fmt.Sprintf("/api/steps/%d", step), fmt.Sprintf("%s>%d", value, step)))
		if err != nil {
			return fmt.Errorf("step %d: %w", step, err)
		}
		value = e.Body
	}
	want := "start>1>2>3>4>5>6"
	fmt.Printf("chain:     6 calls in order across %d refresh: %s\n", srv.Refreshes(), value)
	check(value == want && srv.Refreshes() == 1 && srv.Denied() == 1, "chain")

	if len(failed) > 0 {
		return errors.New("unexpected counts: " + strings.Join(failed, ", "))
	}
	return nil
}

// echo is what authtest's /api/ routes answer.
type echo struct{ Path, User, Body string }

// client is a client with the auth pair, logged in, and a hold stage that
// lets a burst leave together.
type client struct {
	api   *axios.Client
	authn *auth.Authenticator
	hold  *hold
}

func newClient(ctx context.Context, srv *authtest.Server, refreshBefore time.Duration) (*client, error) {
	api := axios.Create(axios.Config{BaseURL: srv.URL, Timeout: 5 * time.Second})
	authn, err := auth.New(auth.Options{
		RefreshBefore: refreshBefore,
		Refresh: auth.JSONRefresher(api, auth.JSONEndpoint{
			URL:  "/refresh",
			Body: func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
		}),
	})
	if err != nil {
		return nil, err
	}
	c := &client{api: api, authn: authn, hold: &hold{}}
	// Registered before the pair, so it runs after AttachHeader: a held
	// request already carries its token.
	api.Interceptors.Request.Use(c.hold.wait, nil)
	authn.Install(api)

	login := axios.Config{}
	auth.SkipAuthRefresh(&login)
	resp, err := api.Post(ctx, "/login", map[string]string{
		"username": authtest.DefaultUser, "password": authtest.DefaultPassword,
	}, login)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	tok, err := auth.ParseTokenResponse(resp.Data)
	if err != nil {
		return nil, err
	}
	return c, authn.SetToken(ctx, tok)
}

// burst sends ten requests at once. With a between func, they are held with
// their tokens attached until all ten are ready, between runs (the server
// revokes the token), and then they go; without one, they go as they come.
// It returns how many succeeded.
func (c *client) burst(ctx context.Context, between func()) int64 {
	var arrived <-chan struct{}
	if between != nil {
		arrived = c.hold.arm(concurrent)
	}
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.api.Get(ctx, fmt.Sprintf("/api/widgets/%d", i)); err != nil {
				fmt.Fprintln(os.Stderr, "concurrent:", err)
				return
			}
			ok.Add(1)
		}()
	}
	if between != nil {
		select {
		case <-arrived:
			between()
		case <-ctx.Done():
			// A request failed before it reached the hold; the run's
			// counts say so.
		}
		c.hold.open()
	}
	wg.Wait()
	return ok.Load()
}

// hold is a request interceptor that, once armed for n requests, keeps the
// first n it sees until open is called. Anything else passes.
type hold struct {
	mu      sync.Mutex
	left    int
	release chan struct{}
	arrived chan struct{} // closed when the n-th has arrived
}

// arm holds the next n requests; the channel it returns is closed once all
// n have arrived.
func (h *hold) arm(n int) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.left, h.release, h.arrived = n, make(chan struct{}), make(chan struct{})
	return h.arrived
}

func (h *hold) open() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.release)
}

func (h *hold) wait(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
	h.mu.Lock()
	if h.left == 0 {
		h.mu.Unlock()
		return cfg, nil
	}
	h.left--
	if h.left == 0 {
		close(h.arrived)
	}
	release := h.release
	h.mu.Unlock()
	select {
	case <-release:
		return cfg, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
