package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
	"github.com/axiosgo/axios/storage"
)

// The clients the storm compares. Each sends GET /api/items with the token
// it holds and counts a failure for an error or a non-2xx answer.
const (
	clientAxios       = "axios+auth"
	clientNaive       = "naive _retry"
	clientNaiveRotate = "naive _retry, rotation on"
	clientSingle      = "singleflight _retry"
	clientOAuth2      = "x/oauth2 Transport"
)

// apiPath is the protected route every client calls.
const apiPath = "/api/items"

// serverOptions is the authtest server each client runs against. Our
// client gets rotation on, the hard case; the naive baseline gets it off
// "so it can succeed", and once more with it on to show why it cannot.
// Access tokens live ten minutes, so no run sees one expire: every refresh
// in a run is caused by Revoke.
func serverOptions(client string) authtest.Options {
	return authtest.Options{
		AccessTTL: 10 * time.Minute,
		Rotate:    client != clientNaive,
	}
}

// newTransport is the connection pool of one client: conns connections at
// most, all kept idle between bursts. A request that finds none free queues
// inside the transport until one is (MaxConnsPerHost), so a burst of 10000
// needs 2×conns file descriptors (both ends live in this process), not
// 20000.
func newTransport(conns int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
	}
}

// stormClient is one client under test, logged in.
type stormClient struct {
	name string
	get  func(ctx context.Context) error
	// authn is set for our client, for its Stats.
	authn *auth.Authenticator
	close func()
}

// newClient builds the named client against srv over tr, logged in with a
// fresh token from srv. gate, when not nil, holds our client's refresh until
// it is closed: the memory measurement keeps every request waiting with it.
func newClient(name string, srv *authtest.Server, tr *http.Transport, gate <-chan struct{}) (*stormClient, error) {
	switch name {
	case clientAxios:
		return newAxiosClient(srv.URL, tr, storage.NewMemory(), srv.Issue(authtest.DefaultUser), gate)
	case clientNaive, clientNaiveRotate, clientSingle:
		return newNaiveClient(name, srv, tr)
	case clientOAuth2:
		return newOAuth2Client(srv, tr), nil
	}
	return nil, fmt.Errorf("storm: unknown client %q", name)
}

// newAxiosClient is this module's client with the auth pair, refreshing
// through seed 000's endpoint (POST /refresh {refresh_token}) with
// auth.JSONRefresher. A nil tok logs in from store instead.
func newAxiosClient(baseURL string, tr *http.Transport, store storage.TokenStore, tok *oauth2.Token, gate <-chan struct{}) (*stormClient, error) {
	return newAxiosClientRT(baseURL, tr, tr, store, tok, gate)
}

// newAxiosClientRT is newAxiosClient sending through rt, a wrapper of tr.
func newAxiosClientRT(baseURL string, tr *http.Transport, rt http.RoundTripper, store storage.TokenStore, tok *oauth2.Token, gate <-chan struct{}) (*stormClient, error) {
	c := axios.Create(axios.Config{BaseURL: baseURL})
	c.Resty().SetTransport(rt)
	refresh := auth.JSONRefresher(c, auth.JSONEndpoint{
		URL:  "/refresh",
		Body: func(t *oauth2.Token) any { return map[string]string{"refresh_token": t.RefreshToken} },
	})
	if gate != nil {
		inner := refresh
		refresh = func(ctx context.Context, t *oauth2.Token) (*oauth2.Token, error) {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return inner(ctx, t)
		}
	}
	a, err := auth.New(auth.Options{Store: store, Refresh: refresh})
	if err != nil {
		return nil, err
	}
	a.Install(c)
	if tok != nil {
		if err := a.SetToken(context.Background(), tok); err != nil {
			return nil, err
		}
	}
	return &stormClient{
		name:  clientAxios,
		authn: a,
		get: func(ctx context.Context) error {
			_, err := c.Get(ctx, apiPath)
			return err
		},
		close: tr.CloseIdleConnections,
	}, nil
}

// newNaiveClient is seed 002's pattern, ported as a user would port it: a
// request interceptor that reads the token from the store on every request
// (seed 002 reads Redis), and a response interceptor that, on a refused
// status, marks the request's config with _retry, refreshes, saves the new
// token and retries through the instance. Every 401 refreshes on its own:
// nothing makes concurrent requests share one refresh.
//
// For clientSingle the refresh goes through a singleflight.Group, the usual
// Go fix: 401s that arrive while a refresh is in flight share it, but one
// that arrives after it ended starts another, since nothing tells a 401 for
// the token just replaced from a 401 for the new one.
func newNaiveClient(name string, srv *authtest.Server, tr *http.Transport) (*stormClient, error) {
	store := storage.NewMemory()
	if err := store.Save(context.Background(), srv.Issue(authtest.DefaultUser)); err != nil {
		return nil, err
	}
	// refreshAccessToken: a plain axios call to the auth service.
	plain := axios.Create(axios.Config{BaseURL: srv.URL})
	plain.Resty().SetTransport(tr)
	refreshAccessToken := func(ctx context.Context) (*oauth2.Token, error) {
		cur, err := store.Load(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := plain.Post(ctx, "/refresh", map[string]string{"refresh_token": cur.RefreshToken})
		if err != nil {
			return nil, err
		}
		tok, err := auth.ParseTokenResponse(resp.Data)
		if err != nil {
			return nil, err
		}
		return tok, store.Save(ctx, tok)
	}
	if name == clientSingle {
		var group singleflight.Group
		single := refreshAccessToken
		refreshAccessToken = func(ctx context.Context) (*oauth2.Token, error) {
			v, err, _ := group.Do("refresh", func() (any, error) {
				// Not ctx: the first caller's cancel must not fail the
				// others sharing the flight.
				return single(context.WithoutCancel(ctx))
			})
			tok, _ := v.(*oauth2.Token)
			return tok, err
		}
	}

	api := axios.Create(axios.Config{BaseURL: srv.URL})
	api.Resty().SetTransport(tr)
	api.Interceptors.Request.Use(func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
		tok, err := store.Load(ctx)
		if err != nil {
			return nil, err
		}
		if cfg.Headers == nil {
			cfg.Headers = http.Header{}
		}
		cfg.Headers.Set("Authorization", "Bearer "+tok.AccessToken)
		return cfg, nil
	}, nil)
	api.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*axios.Response, error) {
		axErr, ok := axios.AsError(err)
		if !ok || axErr.Config == nil || axErr.Status() != http.StatusUnauthorized {
			return nil, err
		}
		original := axErr.Config
		if retried, _ := original.Meta["_retry"].(bool); retried {
			return nil, err
		}
		if original.Meta == nil {
			original.Meta = map[string]any{}
		}
		original.Meta["_retry"] = true
		if _, rerr := refreshAccessToken(ctx); rerr != nil {
			return nil, rerr
		}
		return api.Request(ctx, *original)
	})
	return &stormClient{
		name: name,
		get: func(ctx context.Context) error {
			_, err := api.Get(ctx, apiPath)
			return err
		},
		close: tr.CloseIdleConnections,
	}, nil
}

// newOAuth2Client is what x/oauth2 users write: an http.Client over
// oauth2.Transport, with the token source of an oauth2.Config, which
// refreshes a token only when its expiry has passed. A revoked token that
// has not expired is sent until it does; the 401s are the caller's.
func newOAuth2Client(srv *authtest.Server, tr *http.Transport) *stormClient {
	conf := &oauth2.Config{Endpoint: oauth2.Endpoint{TokenURL: srv.TokenURL(), AuthStyle: oauth2.AuthStyleInParams}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: tr})
	hc := &http.Client{Transport: &oauth2.Transport{Source: conf.TokenSource(ctx, srv.Issue(authtest.DefaultUser)), Base: tr}}
	url := srv.URL + apiPath
	return &stormClient{
		name: clientOAuth2,
		get: func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				return errors.New(resp.Status)
			}
			return nil
		},
		close: tr.CloseIdleConnections,
	}
}
