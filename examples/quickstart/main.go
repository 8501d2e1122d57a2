// Command quickstart is the README's first command: it starts an embedded
// authtest server on loopback, logs in, makes a few calls, then revokes the
// access token while 20 concurrent requests are in flight and shows that one
// refresh serves all of them.
//
//	go run ./examples/quickstart
//
// This first version uses only the core package: a hand-written refresh
// interceptor stands in for auth.Authenticator.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth/authtest"
)

const concurrent = 20

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// refresher is the smallest correct refresh pair: one mutex, and a request
// that failed with an old token is retried with the current one.
type refresher struct {
	api       *axios.Client
	turn      sync.Mutex // one refresh at a time
	mu        sync.Mutex // guards tok
	tok       tokens
	refreshes atomic.Int64
}

func (r *refresher) current() tokens {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tok
}

func (r *refresher) attach(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
	cfg.Headers.Set("Authorization", "Bearer "+r.current().AccessToken)
	return cfg, nil
}

func (r *refresher) handle(ctx context.Context, err error) (*axios.Response, error) {
	axErr, ok := axios.AsError(err)
	if !ok || axErr.Status() != http.StatusUnauthorized || axErr.Config.Meta["_retry"] == true {
		return nil, err
	}
	sent := axErr.Config.Headers.Get("Authorization")
	r.turn.Lock()
	if cur := r.current(); sent == "Bearer "+cur.AccessToken { // nobody refreshed since: we do
		next, rerr := axios.JSON[tokens](r.api.Post(ctx, "/refresh",
			map[string]string{"refresh_token": cur.RefreshToken},
			axios.Config{Meta: map[string]any{"_retry": true}}))
		if rerr != nil {
			r.turn.Unlock()
			return nil, rerr
		}
		r.mu.Lock()
		r.tok = next
		r.mu.Unlock()
		r.refreshes.Add(1)
	}
	r.turn.Unlock()
	retry := *axErr.Config
	retry.Meta = map[string]any{"_retry": true}
	return r.api.Request(ctx, retry)
}

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
	defer api.Resty().GetClient().CloseIdleConnections()

	r := &refresher{api: api}
	login, err := axios.JSON[tokens](api.Post(ctx, "/login", map[string]string{
		"username": authtest.DefaultUser, "password": authtest.DefaultPassword,
	}))
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	r.tok = login
	api.Interceptors.Request.Use(r.attach, nil)
	api.Interceptors.Response.Use(nil, r.handle)

	if _, err := api.Get(ctx, "/api/me"); err != nil {
		return err
	}
	srv.Revoke()
	var ok atomic.Int64
	var wg sync.WaitGroup
	for i := range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := api.Get(ctx, fmt.Sprintf("/api/items/%d", i)); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("%d requests, %d succeeded, %d refresh\n", concurrent, ok.Load(), srv.Refreshes())
	if ok.Load() != concurrent || srv.Refreshes() != 1 || r.refreshes.Load() != 1 {
		return fmt.Errorf("want %d succeeded and 1 refresh", concurrent)
	}
	return nil
}
