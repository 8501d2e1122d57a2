// Command service shows a background worker with no user: it gets its own
// access token with the OAuth2 client credentials grant, and gets a new one
// whenever the API refuses it, without ever being handed a token.
//
//	go run ./examples/service
//
// The worker's client has an auth.Authenticator whose only way to get a
// token is Options.Login = auth.ClientCredentials(...): no Refresh, no
// SetToken. Against an authtest server on loopback, it
//
//  1. sends 50 concurrent first requests: they wait for one login (one call
//     to the token endpoint) and all succeed;
//  2. has every token revoked by the server: the next 50 requests are
//     refused, the worker logs in again once, and they are retried and
//     succeed;
//  3. has the token revoked while the token endpoint answers 503 once: the
//     requests fail with an error wrapping auth.ErrRefreshFailed (the
//     endpoint is down, so the worker keeps going) and not auth.ErrRefused
//     (the credentials were refused); for a second after that failure a
//     request fails at once without calling the token endpoint, and after
//     it the next requests log in and succeed, with no restart.
//
// Summary line:
//
//	service: 1 login for 50 first requests, 1 login after revocation, recovered from a 503: ok
//
// It exits non-zero when a count or an error differs.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/auth/authtest"
)

const (
	concurrent   = 50
	clientID     = "report-worker"
	clientSecret = "worker-secret"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "service:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var failed []string
	check := func(ok bool, format string, args ...any) {
		if !ok {
			failed = append(failed, fmt.Sprintf(format, args...))
		}
	}

	// The identity provider and the API in one: it knows one client.
	srv := authtest.NewServer(authtest.Options{Clients: map[string]string{clientID: clientSecret}})
	defer srv.Close()

	api := axios.Create(axios.Config{BaseURL: srv.URL, Timeout: 5 * time.Second})
	defer api.CloseIdleConnections()
	authn, err := auth.New(auth.Options{
		// The service's only way to a token. Login runs when there is none
		// (the first request) and, with no Refresh, when the API refuses
		// the one held. Its HTTP client is http.DefaultClient.
		Login: auth.ClientCredentials(&clientcredentials.Config{
			ClientID:     clientID,
			ClientSecret: clientSecret,
			TokenURL:     srv.TokenURL(),
			AuthStyle:    oauth2.AuthStyleInHeader,
		}),
		// Called after each successful login, before the waiting requests
		// resume: the worker's log line.
		OnRefresh: func(context.Context, *oauth2.Token) {
			fmt.Printf("worker: logged in as %s (token endpoint calls so far: %d)\n", clientID, srv.ClientCredentialsCalls())
		},
	})
	if err != nil {
		return err
	}
	authn.Install(api) // no SetToken: the first request logs in

	// 1. First requests: no token yet. All of them wait for one login.
	errs := burst(ctx, api, "first")
	first := srv.ClientCredentialsCalls()
	ok := succeeded(errs)
	fmt.Printf("first burst: %d requests, %d succeeded, %d token endpoint call\n", concurrent, ok, first)
	check(ok == concurrent, "first burst: %d of %d succeeded", ok, concurrent)
	check(first == 1, "first burst: %d token endpoint calls, want 1", first)

	// 2. The server revokes every token. The next requests are refused;
	// the refusals share one new login and are retried with its token.
	srv.Revoke()
	denied := srv.Denied()
	errs = burst(ctx, api, "revoked")
	ok = succeeded(errs)
	revoked := srv.ClientCredentialsCalls() - first
	fmt.Printf("after revocation: %d requests, %d succeeded (the ones refused with 401 retried), %d more token endpoint call\n",
		concurrent, ok, revoked)
	check(ok == concurrent, "after revocation: %d of %d succeeded", ok, concurrent)
	check(srv.Denied() > denied, "after revocation: the server refused no request")
	check(revoked == 1, "after revocation: %d token endpoint calls, want 1", revoked)

	// 3. Revoked again, and the token endpoint answers 503 once. The
	// refusals share one login, which fails: a transient failure, so the
	// requests fail with ErrRefreshFailed, not ErrRefused.
	srv.Revoke()
	srv.FailClientCredentials(1, http.StatusServiceUnavailable)
	before := srv.ClientCredentialsCalls()
	errs = burst(ctx, api, "down")
	transient, cause := 0, ""
	for _, err := range errs {
		if err != nil && errors.Is(err, auth.ErrRefreshFailed) && !errors.Is(err, auth.ErrRefused) {
			transient++
			var re *oauth2.RetrieveError
			if cause == "" && errors.As(err, &re) && re.Response != nil {
				cause = fmt.Sprintf("token endpoint answered %d %s", re.Response.StatusCode, re.ErrorCode)
			}
		}
	}
	down := srv.ClientCredentialsCalls() - before
	fmt.Printf("token endpoint down: %d requests, %d failed with auth.ErrRefreshFailed and not auth.ErrRefused (%s), %d token endpoint call\n",
		concurrent, transient, cause, down)
	check(transient == concurrent, "token endpoint down: %d of %d failed as transient", transient, concurrent)
	check(cause == "token endpoint answered 503 temporarily_unavailable", "token endpoint down: cause %q", cause)
	check(down == 1, "token endpoint down: %d token endpoint calls, want 1", down)
	if err := firstError(errs); err != nil {
		fmt.Printf("worker: request failed: %v\n", err)
	}

	// Right away, the next request still has the revoked token and is
	// refused; within the backoff after a failure (1s) it fails at once,
	// without calling the token endpoint.
	before = srv.ClientCredentialsCalls()
	_, err = api.Get(ctx, "/api/reports/retry-now")
	backedOff := err != nil && errors.Is(err, auth.ErrRefreshFailed) && srv.ClientCredentialsCalls() == before
	fmt.Printf("at once: failed: %v, token endpoint called: %v\n", err != nil, srv.ClientCredentialsCalls() != before)
	check(backedOff, "at once: want a failure without a token endpoint call, got err %v and %d calls",
		err, srv.ClientCredentialsCalls()-before)

	// After the backoff (1s after a first failure, doubling while failures
	// last, at most 4s) the worker simply goes on: the next refusal logs
	// in again, and this time the endpoint answers.
	time.Sleep(1100 * time.Millisecond)
	before = srv.ClientCredentialsCalls()
	errs = burst(ctx, api, "later")
	ok = succeeded(errs)
	later := srv.ClientCredentialsCalls() - before
	fmt.Printf("1.1s later: %d requests, %d succeeded, %d more token endpoint call\n", concurrent, ok, later)
	check(ok == concurrent, "1.1s later: %d of %d succeeded", ok, concurrent)
	check(later == 1, "1.1s later: %d token endpoint calls, want 1", later)
	recovered := ok == concurrent && later == 1
	if recovered {
		fmt.Println("worker: recovered without a restart")
	}

	stats := authn.Stats()
	fmt.Printf("auth: %d logins, %d failed; server: %d token endpoint calls\n",
		stats.Refreshes, stats.Failures, srv.ClientCredentialsCalls())
	check(stats.Refreshes == 3, "auth: %d logins, want 3", stats.Refreshes)

	verdict := "ok"
	if len(failed) > 0 {
		verdict = "FAILED"
	}
	what := "recovered from a 503"
	if !recovered {
		what = "did not recover from a 503"
	}
	fmt.Printf("service: %d login for %d first requests, %d login after revocation, %s: %s\n",
		first, concurrent, revoked, what, verdict)
	if len(failed) > 0 {
		return errors.New("unexpected results: " + strings.Join(failed, "; "))
	}
	return nil
}

// echo is what authtest's /api/ routes answer.
type echo struct{ Path, User string }

// burst sends concurrent requests at once, as a worker's jobs would, and
// returns each one's error. A success must come from the API as the
// service's own client id.
func burst(ctx context.Context, api *axios.Client, name string) []error {
	errs := make([]error, concurrent)
	var wg sync.WaitGroup
	for i := range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := axios.JSON[echo](api.Get(ctx, fmt.Sprintf("/api/reports/%s/%d", name, i)))
			if err == nil && e.User != clientID {
				err = fmt.Errorf("%s: served as %q, want %q", e.Path, e.User, clientID)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errs
}

// succeeded counts the successes of a burst that should have no failure,
// and writes each failure to stderr.
func succeeded(errs []error) int {
	n := 0
	for _, err := range errs {
		if err == nil {
			n++
		} else {
			fmt.Fprintln(os.Stderr, "service:", err)
		}
	}
	return n
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
