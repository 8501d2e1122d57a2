package auth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"sync"

	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
)

// A storm of 401s: every access token is revoked, ten requests fail at
// once, one refresh runs, and all ten are retried with the new token.
func Example() {
	srv := authtest.NewServer(authtest.Options{})
	defer srv.Close()
	ctx := context.Background()

	api := axios.Create(axios.Config{BaseURL: srv.URL})
	a, err := auth.New(auth.Options{
		// Seed 000's endpoint: POST /refresh {refresh_token}.
		Refresh: auth.JSONRefresher(api, auth.JSONEndpoint{
			URL:  "/refresh",
			Body: func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	a.Install(api)

	// Log in, and hand the token to the Authenticator.
	var login axios.Config
	auth.SkipAuthRefresh(&login)
	resp, err := api.Post(ctx, "/login", map[string]string{"username": "demo", "password": "secret"}, login)
	if err != nil {
		log.Fatal(err)
	}
	tok, err := auth.ParseTokenResponse(resp.Data)
	if err != nil {
		log.Fatal(err)
	}
	if err := a.SetToken(ctx, tok); err != nil {
		log.Fatal(err)
	}

	srv.Revoke() // the server now refuses every access token issued so far
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := api.Get(ctx, "/api/orders"); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Println("succeeded:", ok)
	fmt.Println("refreshes:", srv.Refreshes())
	// Output:
	// succeeded: 10
	// refreshes: 1
}

// Seed 001's refresh endpoint takes the refresh token as its bearer
// credential and wraps the answer in {resultCode, data}.
func ExampleJSONRefresher() {
	srv := authtest.NewServer(authtest.Options{})
	defer srv.Close()
	ctx := context.Background()

	api := axios.Create(axios.Config{BaseURL: srv.URL})
	a, err := auth.New(auth.Options{
		Refresh: auth.JSONRefresher(api, auth.JSONEndpoint{
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
					} `json:"data"`
				}
				if err := json.Unmarshal(body, &env); err != nil || env.ResultCode != "OK" {
					return nil, errors.New("refresh: resultCode is not OK")
				}
				return &oauth2.Token{AccessToken: env.Data.AccessToken, RefreshToken: env.Data.RefreshToken}, nil
			},
		}),
		OnFailure: func(context.Context, error) { fmt.Println("logged out") },
	})
	if err != nil {
		log.Fatal(err)
	}
	a.Install(api)
	if err := a.SetToken(ctx, srv.Issue("demo")); err != nil {
		log.Fatal(err)
	}

	srv.Revoke()
	me, err := axios.JSON[struct{ User string }](api.Get(ctx, "/api/me"))
	fmt.Println(me.User, err)

	srv.Revoke()
	srv.RevokeRefresh() // the refresh token is refused too: the user must log in
	_, err = api.Get(ctx, "/api/me")
	fmt.Println(errors.Is(err, auth.ErrRefreshFailed))
	// Output:
	// demo <nil>
	// logged out
	// true
}

// The standard refresh_token grant through x/oauth2.
func ExampleOAuth2() {
	srv := authtest.NewServer(authtest.Options{Rotate: true, ClientID: "app", ClientSecret: "s3cret"})
	defer srv.Close()
	ctx := context.Background()

	api := axios.Create(axios.Config{BaseURL: srv.URL})
	a, err := auth.New(auth.Options{
		Refresh: auth.OAuth2(&oauth2.Config{
			ClientID:     "app",
			ClientSecret: "s3cret",
			Endpoint:     oauth2.Endpoint{TokenURL: srv.TokenURL()},
		}),
		OnRefresh: func(context.Context, *oauth2.Token) { fmt.Println("refreshed") },
	})
	if err != nil {
		log.Fatal(err)
	}
	a.Install(api)
	if err := a.SetToken(ctx, srv.Issue("demo")); err != nil {
		log.Fatal(err)
	}
	srv.Revoke()
	resp, err := api.Get(ctx, "/api/me")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	// Output:
	// refreshed
	// 200
}

// Code that takes an *http.Client, such as a generated OpenAPI client or a
// cloud SDK, gets the token and the refresh through the pair as a
// RoundTripper; it shares the token and the one refresh with the axios
// clients the pair is installed on.
func ExampleAuthenticator_Transport() {
	srv := authtest.NewServer(authtest.Options{})
	defer srv.Close()
	ctx := context.Background()

	a, err := auth.New(auth.Options{
		Refresh: auth.OAuth2(&oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}),
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := a.SetToken(ctx, srv.Issue("demo")); err != nil {
		log.Fatal(err)
	}
	hc := &http.Client{Transport: a.Transport(srv.Client().Transport)}

	srv.Revoke() // the first attempt is refused; the pair refreshes and retries
	resp, err := hc.Get(srv.URL + "/api/me")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var me struct {
		User string `json:"user"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, me.User)
	fmt.Println("refreshes:", srv.Refreshes())
	// Output:
	// 200 demo
	// refreshes: 1
}

// A refresh that fails: the request's error wraps ErrRefreshFailed, says
// whether the server refused the refresh token (ErrRefused: the user is
// logged out) or failed for a while (the token is kept), and one errors.As
// reaches the refresher's own error with all the server said.
func ExampleErrRefreshFailed() {
	srv := authtest.NewServer(authtest.Options{})
	defer srv.Close()
	ctx := context.Background()

	api := axios.Create(axios.Config{BaseURL: srv.URL})
	a, err := auth.New(auth.Options{
		Refresh: auth.OAuth2(&oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}),
	})
	if err != nil {
		log.Fatal(err)
	}
	a.Install(api)
	if err := a.SetToken(ctx, srv.Issue("demo")); err != nil {
		log.Fatal(err)
	}

	srv.Revoke()
	srv.FailRefresh(1, http.StatusServiceUnavailable)
	_, err = api.Get(ctx, "/api/me")
	var re *oauth2.RetrieveError
	fmt.Println(errors.Is(err, auth.ErrRefreshFailed), errors.Is(err, auth.ErrRefused))
	if errors.As(err, &re) {
		fmt.Println("token endpoint answered", re.Response.StatusCode)
	}
	_, err = a.Token(ctx)
	fmt.Println("still logged in:", err == nil)
	// Output:
	// true false
	// token endpoint answered 503
	// still logged in: true
}
