// Command react-client ports seed 001, a React app's axios instance. Its
// request interceptor turns a global loading flag on and adds the signed-in
// user's id, access token and tenant code as headers; its response
// interceptor turns the flag off, unwraps the API's {resultCode, data}
// envelope, alerts on a 404, and on a 401 refreshes the access token through
// an endpoint that takes the refresh token as a Bearer header, queueing the
// other refused requests until the refresh ends and logging the user out
// when it fails.
//
//	go run ./examples/react-client
//
// Each piece is a ready-made interceptor here:
//
//	loading flag          interceptors.NewLoading, drawn as a status line
//	usrId, tenant headers interceptors.NewHeaders
//	404 alert             interceptors.OnStatus
//	envelope unwrapping   a plain response interceptor (unwrapEnvelope)
//	refresh and queue     auth.Authenticator with auth.JSONRefresher
//	logout on failure     auth.Options.OnFailure
//
// What to look at: the Install order in run, and the last scene, where the
// server refuses the refresh and OnFailure prints "logged out". The last line
// is the summary, "6 requests, 4 succeeded, 1 not found, 1 refresh, logged
// out"; the program exits non-zero when it differs.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/interceptors"
	"github.com/axiosgo/axios/storage"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "react-client:", err)
		os.Exit(1)
	}
}

// user is what the seed keeps in localStorage under "user" besides the
// tokens, which live in the Authenticator's store here.
type user struct{ usrID, tenantID string }

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := newConsole()
	defer out.done()

	srv := authtest.NewServer(authtest.Options{})
	defer srv.Close()
	api := axios.Create(axios.Config{BaseURL: srv.URL, Timeout: time.Minute})
	defer api.CloseIdleConnections()
	// The seed refreshes with the global axios, not its instance, so the
	// refresh call skips the instance's interceptors (and the unwrapping).
	plain := axios.Create(axios.Config{BaseURL: srv.URL, Timeout: time.Minute})
	defer plain.CloseIdleConnections()

	// localStorage becomes a token file only this user can read.
	dir, err := os.MkdirTemp("", "react-client-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var signedIn atomic.Pointer[user]
	var loggedOut atomic.Bool
	authn, err := auth.New(auth.Options{
		Store:   storage.NewFile(filepath.Join(dir, "user.json")),
		Refresh: auth.JSONRefresher(plain, bearerRefresh),
		OnFailure: func(context.Context, error) { // the seed's setIsLogout(true)
			signedIn.Store(nil)
			loggedOut.Store(true)
			out.println("logged out")
		},
	})
	if err != nil {
		return err
	}

	headers := interceptors.NewHeaders(func(context.Context, *axios.Config) (http.Header, error) {
		u := signedIn.Load()
		if u == nil {
			return nil, nil
		}
		return http.Header{"usrId": {u.usrID}, "x-smp-project-code": {u.tenantID}}, nil
	})
	var notFound atomic.Int64
	pageNotFound := interceptors.OnStatus(func(_ context.Context, err *axios.Error) (*axios.Response, error) {
		notFound.Add(1)
		out.println("page not found: " + err.Config.URL) // the seed's alert
		return nil, nil                                  // and the error goes on to the caller
	}, http.StatusNotFound)
	loading := interceptors.NewLoading(func(on bool) {
		if on {
			out.setStatus("[loading…]")
		} else {
			out.setStatus("[idle]")
		}
	})

	// Request side, last registered first: Loading, AttachHeader, Headers.
	// Response side, in registration order: unwrapEnvelope, HandleError,
	// the 404 hook, Loading. unwrapEnvelope comes before HandleError so that
	// a retried request is unwrapped once, inside its retry.
	headers.Install(api)
	api.Interceptors.Response.Use(unwrapEnvelope, nil)
	authn.Install(api)
	pageNotFound.Install(api)
	loading.Install(api)

	// Log in and remember who we are.
	resp, err := plain.Post(ctx, "/login", map[string]string{
		"username": authtest.DefaultUser, "password": authtest.DefaultPassword,
	})
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
	signedIn.Store(&user{usrID: "u-17", tenantID: "acme"})

	var requests, succeeded atomic.Int64
	call := func(path string) (*axios.Response, error) {
		requests.Add(1)
		resp, err := api.Get(ctx, path)
		if err == nil {
			succeeded.Add(1)
		}
		return resp, err
	}

	// 1. An ordinary call: headers added, envelope unwrapped.
	resp, err = call("/api/envelope")
	if err != nil {
		return err
	}
	var e echo
	if err := resp.JSON(&e); err != nil {
		return err
	}
	out.println(fmt.Sprintf("GET %s as %s, sent usrId=%s x-smp-project-code=%s", e.Path, e.User,
		resp.Config.Headers.Get("usrId"), resp.Config.Headers.Get("x-smp-project-code")))

	// 2. A page that is not there.
	if _, err := call("/api/status/404"); err == nil {
		return errors.New("GET /api/status/404 succeeded")
	}

	// 3. The access token is revoked and three calls are refused at once:
	// one refresh, through POST /auth/refresh with the refresh token as the
	// Bearer credential, and all three go through.
	srv.Revoke()
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := call("/api/envelope"); err != nil {
				out.println("error: " + err.Error())
			}
		}()
	}
	wg.Wait()
	out.println(fmt.Sprintf("3 calls with a revoked token: %d refresh", srv.Refreshes()))

	// 4. The refresh token is revoked too, so the refresh is refused: the
	// user is logged out and the call fails.
	srv.Revoke()
	srv.RevokeRefresh()
	if _, err := call("/api/envelope"); !errors.Is(err, auth.ErrRefreshFailed) {
		return fmt.Errorf("want a failed refresh, got %v", err)
	}

	logout := "still logged in"
	if loggedOut.Load() {
		logout = "logged out"
	}
	summary := fmt.Sprintf("%d requests, %d succeeded, %d not found, %d refresh, %s",
		requests.Load(), succeeded.Load(), notFound.Load(), srv.Refreshes(), logout)
	out.println(summary)
	if summary != "6 requests, 4 succeeded, 1 not found, 1 refresh, logged out" {
		return errors.New("unexpected counts")
	}
	return nil
}

// echo is what authtest's /api/ routes answer (inside the envelope for
// /api/envelope).
type echo struct {
	Path, Method, User string
}

// bearerRefresh is the seed's getAccessTokenByRefreshToken: POST
// /auth/refresh with no body and "Authorization: Bearer <refresh token>",
// answered with {resultCode: "OK", data: {accessToken, refreshToken, ...}}.
var bearerRefresh = auth.JSONEndpoint{
	URL: "/auth/refresh",
	Header: func(t *oauth2.Token) http.Header {
		return http.Header{"Authorization": {"Bearer " + t.RefreshToken}}
	},
	Parse: func(body []byte) (*oauth2.Token, error) {
		var env struct {
			ResultCode string `json:"resultCode"`
			Data       struct {
				AccessToken  string `json:"accessToken"`
				RefreshToken string `json:"refreshToken"`
				TokenType    string `json:"tokenType"`
				ExpiresIn    int64  `json:"expiresIn"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &env); err != nil || env.ResultCode != "OK" {
			return nil, errors.New("refresh: resultCode is not OK")
		}
		d := env.Data
		return &oauth2.Token{
			AccessToken:  d.AccessToken,
			RefreshToken: d.RefreshToken,
			TokenType:    d.TokenType,
			Expiry:       time.Now().Add(time.Duration(d.ExpiresIn) * time.Second),
		}, nil
	},
}

// unwrapEnvelope is the seed's `const { data } = response; return data`:
// a body shaped {resultCode, data} is replaced by its data, and a resultCode
// other than "OK" fails the request. Other bodies pass as they are.
func unwrapEnvelope(_ context.Context, resp *axios.Response) (*axios.Response, error) {
	var env struct {
		ResultCode string          `json:"resultCode"`
		Data       json.RawMessage `json:"data"`
	}
	if json.Unmarshal(resp.Data, &env) != nil || env.ResultCode == "" {
		return resp, nil
	}
	if env.ResultCode != "OK" {
		return nil, &axios.Error{Message: "api: resultCode " + env.ResultCode, Code: axios.CodeBadResponse,
			Config: resp.Config, Response: resp}
	}
	unwrapped := *resp
	unwrapped.Data = env.Data
	return &unwrapped, nil
}

// console prints lines under a status line. On a terminal the status line is
// redrawn in place; otherwise each change is a line of its own, so a log
// file stays readable.
type console struct {
	mu     sync.Mutex
	tty    bool
	status string
}

func newConsole() *console {
	fi, err := os.Stdout.Stat()
	return &console{tty: err == nil && fi.Mode()&os.ModeCharDevice != 0, status: "[idle]"}
}

func (c *console) setStatus(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status = s
	if c.tty {
		fmt.Print("\r\033[K" + s)
	} else {
		fmt.Println(s)
	}
}

func (c *console) println(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tty {
		fmt.Print("\r\033[K" + line + "\n" + c.status)
	} else {
		fmt.Println(line)
	}
}

// done ends the status line on a terminal.
func (c *console) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tty {
		fmt.Print("\r\033[K")
	}
}
