package authtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/axiosgo/axios/auth/authtest"
)

// Example logs in, calls a protected route, has the token revoked, is denied,
// refreshes through the JSON /refresh endpoint and calls again.
func Example() {
	srv := authtest.NewServer(authtest.Options{Rotate: true})
	defer srv.Close()
	client := srv.Client()

	post := func(path, auth string, body any) (int, []byte) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int    `json:"expires_in"`
	}

	status, body := post("/login", "", map[string]string{"username": "demo", "password": "secret"})
	json.Unmarshal(body, &tok)
	fmt.Println("login:", status, "expires_in:", tok.ExpiresIn)

	status, body = post("/api/hello", tok.AccessToken, "hi")
	fmt.Printf("call: %d %s", status, body)

	srv.Revoke()
	status, body = post("/api/hello", tok.AccessToken, "hi")
	fmt.Printf("after Revoke: %d %s", status, body)

	status, body = post("/refresh", "", map[string]string{"refresh_token": tok.RefreshToken})
	json.Unmarshal(body, &tok)
	fmt.Println("refresh:", status)

	status, _ = post("/api/hello", tok.AccessToken, "hi")
	fmt.Println("call again:", status)

	fmt.Println("logins:", srv.Logins(), "refreshes:", srv.Refreshes(),
		"denied:", srv.Denied(), "served:", srv.Served())
	// Output:
	// login: 200 expires_in: 60
	// call: 200 {"path":"/api/hello","method":"POST","user":"demo","body":"\"hi\""}
	// after Revoke: 401 {"error":"invalid_token","error_description":"token revoked"}
	// refresh: 200
	// call again: 200
	// logins: 1 refreshes: 1 denied: 1 served: 2
}

// ExampleServer_Verify expires a token by moving an injected clock, without
// sleeping.
func ExampleServer_Verify() {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	srv := authtest.NewServer(authtest.Options{
		AccessTTL: 5 * time.Minute,
		Now:       func() time.Time { return now },
	})
	defer srv.Close()

	tok := srv.Issue("alice")
	claims, err := srv.Verify(tok.AccessToken)
	fmt.Println(claims.Subject, claims.ExpiresAt.Format(time.TimeOnly), err)

	now = now.Add(5 * time.Minute)
	_, err = srv.Verify(tok.AccessToken)
	fmt.Println(err)
	// Output:
	// alice 12:05:00 <nil>
	// authtest: token expired
}

// Example_clientCredentials has a service with no user obtain a token with
// the client credentials grant, through x/oauth2/clientcredentials, and call
// a protected route with it; a wrong secret is refused as invalid_client.
func Example_clientCredentials() {
	srv := authtest.NewServer(authtest.Options{Clients: map[string]string{"billing": "s3cret"}})
	defer srv.Close()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())

	cfg := &clientcredentials.Config{
		ClientID:     "billing",
		ClientSecret: "s3cret",
		TokenURL:     srv.URL + "/oauth/token",
		Scopes:       []string{"invoices:read"},
	}
	tok, err := cfg.Token(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("token:", tok.Type(), "scope:", tok.Extra("scope"), "refresh token:", tok.RefreshToken != "")

	resp, err := oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok)).Get(srv.URL + "/api/invoices")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("call: %d %s", resp.StatusCode, body)

	wrong := &clientcredentials.Config{ClientID: "billing", ClientSecret: "guess", TokenURL: srv.TokenURL(),
		AuthStyle: oauth2.AuthStyleInHeader}
	_, err = wrong.Token(ctx)
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		fmt.Println("wrong secret:", re.Response.StatusCode, re.ErrorCode)
	}

	fmt.Println("client credentials calls:", srv.ClientCredentialsCalls(), "logins:", srv.Logins())
	// Output:
	// token: Bearer scope: invoices:read refresh token: false
	// call: 200 {"path":"/api/invoices","method":"GET","user":"billing","body":""}
	// wrong secret: 401 invalid_client
	// client credentials calls: 2 logins: 1
}
