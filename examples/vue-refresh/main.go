// Command vue-refresh ports seed 000, a Vue app's axios service that keeps
// its OAuth tokens in localStorage and refreshes them behind the user's back:
// a response interceptor pair, handleSuccess and handleError, where
// handleError answers a 401 with refreshTokenCall, which posts the refresh
// token to the API's refresh endpoint, stores the new tokens, puts the new
// Authorization header on the original request and sends it again.
//
//	go run ./examples/vue-refresh
//
// It runs against an embedded authtest server and does it twice:
//
//  1. The seed's way, with a plain response interceptor (seedService below).
//     It works, but every refused request refreshes on its own: five
//     requests refused at the same moment make five refreshes.
//  2. With auth.Authenticator and its JSON refresher (withAuthenticator):
//     the same five requests cost one refresh.
//
// Both start with the seed's login step. The last line is the summary,
// "auth.Authenticator: 5 requests, 5 succeeded, 1 refresh"; the program exits
// non-zero when a count is wrong.
package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
)

const concurrent = 5

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vue-refresh:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	srv := authtest.NewServer(authtest.Options{})
	defer srv.Close()
	// A refresh takes a moment, as on a real network: long enough for all
	// five refused requests to arrive before the first refresh ends.
	srv.SetRefreshDelay(200 * time.Millisecond)

	seedOK, seedRefreshes, err := seedWay(ctx, srv)
	if err != nil {
		return fmt.Errorf("the seed's way: %w", err)
	}
	fmt.Printf("seed's way:         %d requests, %d succeeded, %d refreshes\n", concurrent, seedOK, seedRefreshes)

	srv.ResetCounters()
	ok, err := withAuthenticator(ctx, srv)
	if err != nil {
		return fmt.Errorf("auth.Authenticator: %w", err)
	}
	fmt.Printf("auth.Authenticator: %d requests, %d succeeded, %d refresh\n", concurrent, ok, srv.Refreshes())

	if seedOK != concurrent || seedRefreshes < 1 || ok != concurrent || srv.Refreshes() != 1 {
		return errors.New("unexpected counts")
	}
	return nil
}

// tokenResponse is the API's answer to /login and /refresh.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
}

// seedService is the seed's service object. JavaScript runs one callback at
// a time; Go runs requests in parallel, so the token fields get a mutex.
type seedService struct {
	api *axios.Client

	mu           sync.Mutex
	tokenType    string
	accessToken  string
	refreshToken string

	refreshes atomic.Int64
}

func newSeedService(baseURL string) *seedService {
	s := &seedService{api: axios.Create(axios.Config{BaseURL: baseURL, Timeout: 5 * time.Minute})}
	s.api.Interceptors.Request.Use(s.attachToken, nil)
	s.api.Interceptors.Response.Use(s.handleSuccess, s.handleError)
	return s
}

func (s *seedService) setTokens(t tokenResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenType, s.accessToken, s.refreshToken = t.TokenType, t.AccessToken, t.RefreshToken
}

// login is the seed's steps 1 and 2: credentials in, tokens out.
func (s *seedService) login(ctx context.Context) error {
	t, err := axios.JSON[tokenResponse](s.api.Post(ctx, "/login", map[string]string{
		"username": authtest.DefaultUser, "password": authtest.DefaultPassword,
	}))
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	s.setTokens(t)
	return nil
}

// attachToken is step 3: every API call carries the token. A request that
// already has the header (a retry) keeps it.
func (s *seedService) attachToken(_ context.Context, cfg *axios.Config) (*axios.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accessToken != "" && cfg.Headers.Get("Authorization") == "" {
		cfg.Headers.Set("Authorization", s.tokenType+" "+s.accessToken)
	}
	return cfg, nil
}

// handleSuccess passes the response through, as the seed's does.
func (s *seedService) handleSuccess(_ context.Context, resp *axios.Response) (*axios.Response, error) {
	return resp, nil
}

// handleError answers a 401 with refreshTokenCall and passes anything else
// on. The seed has no guard against a retry that is refused again; the
// _retry mark (seed 002's) keeps one from looping.
func (s *seedService) handleError(ctx context.Context, err error) (*axios.Response, error) {
	axErr, ok := axios.AsError(err)
	if ok && axErr.Status() == http.StatusUnauthorized && axErr.Config.Meta["_retry"] != true {
		return s.refreshTokenCall(ctx, axErr)
	}
	return nil, err
}

// refreshTokenCall posts the refresh token to /refresh, stores the new
// tokens, and sends the original request again with the new header.
func (s *seedService) refreshTokenCall(ctx context.Context, axErr *axios.Error) (*axios.Response, error) {
	s.mu.Lock()
	refreshToken := s.refreshToken
	s.mu.Unlock()
	if refreshToken == "" {
		return nil, axErr
	}
	refreshCall := axios.Config{Meta: map[string]any{"_retry": true}} // a 401 here is final
	t, err := axios.JSON[tokenResponse](s.api.Post(ctx, "/refresh",
		map[string]string{"refresh_token": refreshToken}, refreshCall))
	if err != nil {
		return nil, err
	}
	s.setTokens(t)
	s.refreshes.Add(1)

	original := *axErr.Config // the config the 401 came back for
	original.Headers = original.Headers.Clone()
	original.Headers.Set("Authorization", t.TokenType+" "+t.AccessToken)
	original.Meta = maps.Clone(original.Meta) // the retry's own Meta: nil if there was none
	if original.Meta == nil {
		original.Meta = map[string]any{}
	}
	original.Meta["_retry"] = true
	return s.api.Request(ctx, original)
}

func seedWay(ctx context.Context, srv *authtest.Server) (succeeded, refreshes int64, err error) {
	s := newSeedService(srv.URL)
	defer s.api.CloseIdleConnections()
	if err := s.login(ctx); err != nil {
		return 0, 0, err
	}

	// One expired token, one refresh, one retry: the case the seed handles.
	srv.Revoke()
	resp, err := s.api.Get(ctx, "/api/profile")
	if err != nil {
		return 0, 0, err
	}
	fmt.Printf("seed's way:         GET /api/profile with a revoked token: %d after %d refresh\n", resp.Status, s.refreshes.Load())

	// Five at once: each 401 refreshes on its own.
	s.refreshes.Store(0)
	srv.Revoke()
	succeeded = burst(ctx, s.api)
	return succeeded, s.refreshes.Load(), nil
}

func withAuthenticator(ctx context.Context, srv *authtest.Server) (int64, error) {
	api := axios.Create(axios.Config{BaseURL: srv.URL, Timeout: 5 * time.Minute})
	defer api.CloseIdleConnections()

	// refreshTokenCall becomes a JSONRefresher: the endpoint, and the body
	// it wants. Storing the tokens, setting the header and retrying the
	// original request are the Authenticator's job.
	authn, err := auth.New(auth.Options{
		Refresh: auth.JSONRefresher(api, auth.JSONEndpoint{
			URL:  "/refresh",
			Body: func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
		}),
	})
	if err != nil {
		return 0, err
	}
	authn.Install(api)

	// The login step: the same call, marked so that a wrong password is
	// returned as it is instead of starting a refresh.
	login := axios.Config{}
	auth.SkipAuthRefresh(&login)
	resp, err := api.Post(ctx, "/login", map[string]string{
		"username": authtest.DefaultUser, "password": authtest.DefaultPassword,
	}, login)
	if err != nil {
		return 0, fmt.Errorf("login: %w", err)
	}
	tok, err := auth.ParseTokenResponse(resp.Data)
	if err != nil {
		return 0, err
	}
	if err := authn.SetToken(ctx, tok); err != nil {
		return 0, err
	}

	srv.Revoke()
	return burst(ctx, api), nil
}

// burst sends five requests at once and counts those that succeed.
func burst(ctx context.Context, api *axios.Client) int64 {
	var wg sync.WaitGroup
	var ok atomic.Int64
	for i := range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := api.Get(ctx, fmt.Sprintf("/api/orders/%d", i)); err != nil {
				fmt.Fprintln(os.Stderr, "vue-refresh:", err)
				return
			}
			ok.Add(1)
		}()
	}
	wg.Wait()
	return ok.Load()
}
