// Command quickstart is the README's first command. It needs no flags and no
// setup:
//
//	go run ./examples/quickstart
//
// It starts an embedded authtest server on loopback, logs in through the
// client (POST /login), and makes a few calls through a client with the
// logger and the auth pair. Then the server revokes every access token while
// 20 concurrent requests are on their way: each of them is refused, one
// refresh runs, and all 20 are retried with the new token. It ends with a
// summary line, "20 requests, 20 succeeded, 1 refresh", and exits non-zero if
// the counts are anything else.
//
// What to look at: run, which wires up the client in the order
// docs/interceptors.md recommends, and the logger's lines on stderr, one per
// attempt: the 401s, then the retries.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/interceptors"
)

const concurrent = 20

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	srv := authtest.NewServer(authtest.Options{})
	defer srv.Close()

	api := axios.Create(axios.Config{BaseURL: srv.URL, Timeout: 5 * time.Second})
	defer api.CloseIdleConnections()

	// One text line per attempt on stderr; the time is left out so the
	// output reads the same on every run.
	logger := interceptors.NewLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
	authn, err := auth.New(auth.Options{
		// The server's refresh endpoint: POST /refresh {"refresh_token": ...}.
		Refresh: auth.JSONRefresher(api, auth.JSONEndpoint{
			URL:  "/refresh",
			Body: func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
		}),
	})
	if err != nil {
		return err
	}
	// The order of Install calls decides who runs when (docs/interceptors.md).
	// Request side, last registered first: AttachHeader, hold, the logger.
	// Response side, in registration order: the logger, then HandleError.
	logger.Install(api)
	burst := newHold(concurrent)
	api.Interceptors.Request.Use(burst.wait, nil, axios.RunWhen(func(cfg *axios.Config) bool {
		return cfg.Meta["burst"] == true
	}))
	authn.Install(api)

	// Log in through the same client. A wrong password must not trigger a
	// refresh, hence SkipAuthRefresh.
	login := axios.Config{}
	auth.SkipAuthRefresh(&login)
	resp, err := api.Post(ctx, "/login", map[string]string{
		"username": authtest.DefaultUser, "password": authtest.DefaultPassword,
	}, login)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	tok, err := auth.ParseTokenResponse(resp.Data)
	if err != nil {
		return err
	}
	if err := authn.SetToken(ctx, tok); err != nil {
		return err
	}

	// A few ordinary calls: the pair attaches the token.
	type echo struct{ Path, Method, User, Body string }
	me, err := axios.JSON[echo](api.Get(ctx, "/api/me"))
	if err != nil {
		return err
	}
	fmt.Printf("GET /api/me: signed in as %q\n", me.User)
	note, err := axios.JSON[echo](api.Post(ctx, "/api/notes", map[string]string{"text": "hello"}))
	if err != nil {
		return err
	}
	fmt.Printf("POST /api/notes: the server got %s\n", note.Body)

	// The storm: 20 requests leave at once and are held just before
	// dispatch, the token already attached; the server revokes it under them,
	// and they go on. Each is refused, one refresh runs, all 20 are retried.
	var wg sync.WaitGroup
	var succeeded atomic.Int64
	for i := range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := axios.Config{Meta: map[string]any{"burst": true}}
			if _, err := api.Get(ctx, fmt.Sprintf("/api/items/%d", i), cfg); err != nil {
				fmt.Fprintln(os.Stderr, "quickstart:", err)
				return
			}
			succeeded.Add(1)
		}()
	}
	select {
	case <-burst.arrived:
	case <-ctx.Done():
		// A request failed before it reached the hold: let the rest go.
		close(burst.release)
		wg.Wait()
		return fmt.Errorf("not all %d requests reached the hold: %w", concurrent, ctx.Err())
	}
	srv.Revoke()
	fmt.Printf("server: revoked every access token while %d requests are in flight\n", concurrent)
	close(burst.release)
	wg.Wait()

	stats := authn.Stats()
	fmt.Printf("server: %d refused, %d refresh call; auth: %d refresh, %d retried\n",
		srv.Denied(), srv.RefreshCalls(), stats.Refreshes, stats.Retries)
	fmt.Printf("%d requests, %d succeeded, %d refresh\n", concurrent, succeeded.Load(), srv.Refreshes())
	if succeeded.Load() != concurrent || srv.Refreshes() != 1 || stats.Refreshes != 1 {
		return fmt.Errorf("want %d succeeded and exactly 1 refresh", concurrent)
	}
	return nil
}

// hold is a request interceptor that keeps the first n requests it sees
// until release is closed, and closes arrived when all n are there; later
// ones (the retries) pass at once.
type hold struct {
	n       int64
	seen    atomic.Int64
	arrived chan struct{}
	release chan struct{}
}

func newHold(n int) *hold {
	return &hold{n: int64(n), arrived: make(chan struct{}), release: make(chan struct{})}
}

func (h *hold) wait(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
	seen := h.seen.Add(1)
	if seen > h.n {
		return cfg, nil
	}
	if seen == h.n {
		close(h.arrived)
	}
	select {
	case <-h.release:
		return cfg, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
