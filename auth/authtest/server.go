package authtest

import (
	"context"
	"crypto/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// DefaultUser and DefaultPassword are the credentials /login accepts when
// [Options.Users] is nil.
const (
	DefaultUser     = "demo"
	DefaultPassword = "secret"
)

// clientMaxConns bounds the connections of Server.Client.
const clientMaxConns = 1024

// DefaultAccessTTL is the lifetime of an access token when [Options.AccessTTL]
// is zero.
const DefaultAccessTTL = time.Minute

// Options configures a [Server]. The zero value is ready to use: one-minute
// access tokens, no refresh-token rotation, 401 for a bad token, the real
// clock, the user "demo" with password "secret", no registered client (so no
// client authentication) and a random signing key.
type Options struct {
	// AccessTTL is how long an access token is valid; 0 means DefaultAccessTTL.
	AccessTTL time.Duration

	// Rotate turns on refresh-token rotation: each refresh issues a new refresh
	// token, and presenting the old one again is answered invalid_grant.
	// Without it the same refresh token stays valid and is returned again.
	Rotate bool

	// DenyStatus is the status protected routes answer for a missing, invalid,
	// expired or revoked access token; 0 means 401. Some APIs answer 403.
	DenyStatus int

	// Now is the server's clock, for issuing and checking access tokens; nil
	// means time.Now. Inject a fake clock to expire tokens without sleeping.
	Now func() time.Time

	// Users maps username to password for /login and the password grant; nil
	// means {DefaultUser: DefaultPassword}. The map is copied.
	Users map[string]string

	// ClientID and ClientSecret register a client, as an entry of Clients
	// does; they take precedence over an entry with the same id. An empty
	// ClientID registers none.
	ClientID, ClientSecret string

	// Clients maps client id to secret: the clients /oauth/token
	// authenticates, by HTTP Basic credentials or by the client_id and
	// client_secret form fields. While any client is registered (here or
	// through ClientID), every grant of /oauth/token requires a registered
	// client's credentials. With none, the refresh_token and password grants
	// require no client authentication, and the client_credentials grant,
	// which only a registered client may use, is answered 401 invalid_client.
	// The map is copied; an empty id is ignored.
	Clients map[string]string

	// Secret is the HS256 key access tokens are signed with; nil or empty
	// means a random key.
	Secret []byte
}

// Server is a loopback OAuth-style API for tests: login, three shapes of
// refresh endpoint, the client credentials grant, protected routes under
// /api/, short-lived HS256 access tokens, optional refresh-token rotation,
// counters and injectable faults.
// The package documentation lists its endpoints.
//
// All methods are safe for concurrent use, including while requests are in
// flight. Create one with [NewServer] and stop it with [Server.Close].
type Server struct {
	// URL is the base URL of the server, http://127.0.0.1:port, with no
	// trailing slash.
	URL string

	srv    *httptest.Server
	cancel context.CancelFunc // ends every request's context, so Close never waits on a sleep
	once   sync.Once

	now     func() time.Time
	ttl     time.Duration
	rotate  bool
	users   map[string]string
	clients map[string]string // client id -> secret
	secret  []byte

	generation atomic.Int64 // access tokens carry it; Revoke bumps it
	denyStatus atomic.Int64

	mu            sync.Mutex
	refreshTokens map[string]string // refresh token -> user

	refreshFaults           faults
	clientCredentialsFaults faults

	refreshCalls  atomic.Int64
	refreshes     atomic.Int64
	invalidGrants atomic.Int64
	denied        atomic.Int64
	served        atomic.Int64
	logins        atomic.Int64
	requests      atomic.Int64

	clientCredentialsCalls atomic.Int64
}

// NewServer starts a Server on 127.0.0.1 (through httptest.NewServer). The
// caller must call [Server.Close] when done, typically with t.Cleanup.
func NewServer(opts Options) *Server {
	s := &Server{
		now:           opts.Now,
		ttl:           opts.AccessTTL,
		rotate:        opts.Rotate,
		secret:        opts.Secret,
		refreshTokens: make(map[string]string),
	}
	clock := opts.Now
	if clock == nil {
		clock = time.Now
	}
	// Tokens carry their times to the millisecond (see Claims): an Expiry
	// handed out finer than that would be later than the token's own exp.
	s.now = func() time.Time { return clock().Truncate(time.Millisecond) }
	if s.ttl <= 0 {
		s.ttl = DefaultAccessTTL
	}
	if len(s.secret) == 0 {
		s.secret = make([]byte, 32)
		rand.Read(s.secret)
	} else {
		s.secret = append([]byte(nil), opts.Secret...)
	}
	if opts.Users == nil {
		s.users = map[string]string{DefaultUser: DefaultPassword}
	} else {
		s.users = make(map[string]string, len(opts.Users))
		for u, p := range opts.Users {
			s.users[u] = p
		}
	}
	s.clients = make(map[string]string, len(opts.Clients)+1)
	for id, secret := range opts.Clients {
		if id != "" {
			s.clients[id] = secret
		}
	}
	if opts.ClientID != "" {
		s.clients[opts.ClientID] = opts.ClientSecret
	}
	s.SetDenyStatus(opts.DenyStatus)

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.srv = httptest.NewUnstartedServer(s.routes())
	s.srv.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	s.srv.Start()
	s.URL = s.srv.URL

	// Tests fire thousands of concurrent requests through Client. Reusing
	// connections avoids running out of ephemeral ports in TIME_WAIT, and
	// capping them keeps file descriptors and the listen backlog in bounds:
	// with 10000 requests under -race, three times faster than unbounded.
	if t, ok := s.srv.Client().Transport.(*http.Transport); ok {
		t.MaxIdleConnsPerHost = clientMaxConns
		t.MaxConnsPerHost = clientMaxConns
	}
	return s
}

// Close stops the server. Requests sleeping in a refresh delay or in
// /api/slow are aborted rather than waited for, so Close returns promptly.
// It closes the idle connections of [Server.Client] and of
// http.DefaultTransport. Calling Close more than once is harmless.
func (s *Server) Close() {
	s.once.Do(func() {
		s.cancel()
		s.srv.Close()
	})
}

// Client returns an *http.Client for the server, shared by every caller and
// tuned for many concurrent requests: it keeps up to 1024 connections open
// and queues further requests until one is free, so at most 1024 of its
// requests are at the server at once. Use another client for more. Its idle
// connections are closed by [Server.Close].
func (s *Server) Client() *http.Client { return s.srv.Client() }

// TokenURL returns the URL of the OAuth2 token endpoint, /oauth/token, for
// oauth2.Config.Endpoint.TokenURL.
func (s *Server) TokenURL() string { return s.URL + "/oauth/token" }

// Issue mints a login token for user directly, without an HTTP round trip,
// and counts it as a login. The user need not be in [Options.Users]. Expiry
// is computed with the server's clock ([Options.Now]).
func (s *Server) Issue(user string) *oauth2.Token {
	now := s.now()
	return s.login(user, now).oauth2Token(now.Add(s.ttl))
}

// Revoke makes every access token issued so far invalid: protected routes
// deny them. Refresh tokens stay valid, so a refresh gets a working token.
func (s *Server) Revoke() { s.generation.Add(1) }

// RevokeRefresh makes every refresh token issued so far invalid: presenting
// one is answered invalid_grant. Access tokens are not affected.
func (s *Server) RevokeRefresh() {
	s.mu.Lock()
	s.refreshTokens = make(map[string]string)
	s.mu.Unlock()
}

// SetDenyStatus sets the status protected routes answer for a bad access
// token; 0 means 401. It takes effect for the next request.
func (s *Server) SetDenyStatus(code int) {
	if code == 0 {
		code = http.StatusUnauthorized
	}
	s.denyStatus.Store(int64(code))
}

// RefreshCalls reports the calls to any refresh endpoint (/refresh,
// /auth/refresh, and /oauth/token other than the password and
// client_credentials grants), successful or not, including those answered by
// an injected fault.
func (s *Server) RefreshCalls() int64 { return s.refreshCalls.Load() }

// Refreshes reports the successful refreshes.
func (s *Server) Refreshes() int64 { return s.refreshes.Load() }

// InvalidGrants reports the refresh attempts rejected because the refresh
// token was unknown, already used under rotation, or revoked. Failures
// injected with [Server.FailRefresh] are not counted here.
func (s *Server) InvalidGrants() int64 { return s.invalidGrants.Load() }

// Denied reports the protected requests denied for a missing, invalid,
// expired or revoked access token (answered with the deny status). A 401 asked
// for through /api/status/401 is not a denial.
func (s *Server) Denied() int64 { return s.denied.Load() }

// Served reports the protected requests answered with a 2xx status.
func (s *Server) Served() int64 { return s.served.Load() }

// Logins reports the successful logins: /login, the password and
// client_credentials grants of /oauth/token, and [Server.Issue].
func (s *Server) Logins() int64 { return s.logins.Load() }

// Requests reports every request received under /api/, whatever its outcome.
// The X-Request-Count response header carries this count, including the
// request it answers.
func (s *Server) Requests() int64 { return s.requests.Load() }

// ClientCredentialsCalls reports the calls to /oauth/token with
// grant_type=client_credentials, successful or not, including those answered
// by an injected fault. The successful ones are also [Server.Logins].
func (s *Server) ClientCredentialsCalls() int64 { return s.clientCredentialsCalls.Load() }

// ResetCounters sets every counter to zero. Faults, tokens and the revocation
// state are kept.
func (s *Server) ResetCounters() {
	for _, c := range []*atomic.Int64{
		&s.refreshCalls, &s.refreshes, &s.invalidGrants,
		&s.denied, &s.served, &s.logins, &s.requests, &s.clientCredentialsCalls,
	} {
		c.Store(0)
	}
}

// FailRefresh makes the next n refresh calls answer status without looking at
// the refresh token, which therefore stays usable. The body has the
// endpoint's error shape: for 400 an invalid_grant error, for 401
// invalid_client (/oauth/token) or unauthorized, for 5xx server_error. n <= 0
// cancels any failures still pending. A status outside 100..999, which no
// server can send, is taken as 500.
func (s *Server) FailRefresh(n int, status int) { s.refreshFaults.fail(n, status) }

// DropRefresh makes the next n refresh calls close the connection without
// answering, so the client sees EOF or a connection reset. n <= 0 cancels any
// drops still pending. A drop takes precedence over [Server.FailRefresh].
func (s *Server) DropRefresh(n int) { s.refreshFaults.drop(n) }

// SetRefreshDelay makes each refresh call sleep d before anything else. The
// sleep ends early, and the connection is dropped, if the request's context
// ends or the server is closed. 0 removes the delay.
func (s *Server) SetRefreshDelay(d time.Duration) { s.refreshFaults.delay.Store(int64(d)) }

// FailClientCredentials makes the next n client_credentials grants answer
// status without checking the client's credentials, with the error body
// [Server.FailRefresh] gives /oauth/token: for 400 invalid_grant, for 401
// invalid_client with WWW-Authenticate, for 503 temporarily_unavailable, for
// other 5xx server_error. n <= 0 cancels any failures still pending. A status
// outside 100..999 is taken as 500. Refresh faults and client credentials
// faults are separate: neither affects the other's calls.
func (s *Server) FailClientCredentials(n int, status int) {
	s.clientCredentialsFaults.fail(n, status)
}

// DropClientCredentials makes the next n client_credentials grants close the
// connection without answering. n <= 0 cancels any drops still pending. A
// drop takes precedence over [Server.FailClientCredentials].
func (s *Server) DropClientCredentials(n int) { s.clientCredentialsFaults.drop(n) }

// SetClientCredentialsDelay makes each client_credentials grant sleep d
// before anything else, as [Server.SetRefreshDelay] does refresh calls. 0
// removes the delay.
func (s *Server) SetClientCredentialsDelay(d time.Duration) {
	s.clientCredentialsFaults.delay.Store(int64(d))
}

type fault int

const (
	noFault fault = iota
	dropFault
	failFault
)

// faults are the failures injected into one kind of call: pending failures
// with their status, pending drops, and a delay before each call.
type faults struct {
	mu     sync.Mutex
	failN  int
	status int
	dropN  int
	delay  atomic.Int64 // time.Duration
}

// fail sets the next n calls to answer status; a status outside 100..999,
// which no server can send, is taken as 500.
func (f *faults) fail(n, status int) {
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError // not a status net/http can write
	}
	f.mu.Lock()
	f.failN, f.status = max(n, 0), status
	f.mu.Unlock()
}

// drop sets the next n calls to close the connection without an answer.
func (f *faults) drop(n int) {
	f.mu.Lock()
	f.dropN = max(n, 0)
	f.mu.Unlock()
}

// take consumes one pending fault, drops first.
func (f *faults) take() (fault, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.dropN > 0:
		f.dropN--
		return dropFault, 0
	case f.failN > 0:
		f.failN--
		return failFault, f.status
	}
	return noFault, 0
}
