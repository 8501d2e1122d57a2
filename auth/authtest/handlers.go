package authtest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// maxBody bounds the request bodies the server reads.
const maxBody = 10 << 20

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", s.handleLogin)
	mux.HandleFunc("POST /refresh", s.handleRefresh)
	mux.HandleFunc("POST /auth/refresh", s.handleBearerRefresh)
	mux.HandleFunc("POST /oauth/token", s.handleOAuthToken)
	mux.Handle("/api/", s.protect(s.handleEcho))
	mux.Handle("/api/status/{code}", s.protect(s.handleStatus))
	mux.Handle("/api/slow", s.protect(s.handleSlow))
	mux.Handle("/api/envelope", s.protect(s.handleEnvelope))
	return mux
}

// errorBody is the RFC 6749 section 5.2 error response, used by every
// endpoint but /auth/refresh. It never carries a token.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// envelope is the {resultCode, data} response shape of /auth/refresh.
type envelope struct {
	ResultCode string `json:"resultCode"`
	Data       any    `json:"data,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// abort closes the connection without an answer: the client sees EOF or a
// connection reset, as when a proxy or the server dies mid-request.
func abort(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// sleep waits d, or until ctx ends; it reports whether the full d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func decodeJSON(r *http.Request, v any) error {
	return json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody)).Decode(v)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *Server) checkPassword(user, password string) bool {
	want, ok := s.users[user]
	return ok && equal(password, want)
}

// noCache marks a response that carries tokens as not to be cached, as RFC
// 6749 section 5.1 asks of token responses (Cache-Control comes with every
// JSON answer).
func noCache(w http.ResponseWriter) { w.Header().Set("Pragma", "no-cache") }

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	noCache(w)
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &req); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid_request", Description: "body must be JSON {username, password}"})
		return
	}
	if !s.checkPassword(req.Username, req.Password) {
		writeJSON(w, http.StatusUnauthorized, errorBody{Error: "invalid_credentials"})
		return
	}
	writeJSON(w, http.StatusOK, s.login(req.Username, s.now()))
}

// beginRefresh begins a refresh call: see [Server.begin].
func (s *Server) beginRefresh(w http.ResponseWriter, r *http.Request, fail func(status int)) bool {
	return s.begin(w, r, &s.refreshCalls, &s.refreshFaults, fail)
}

// begin counts a call in calls and applies the injected delay and faults,
// answering an injected failure through fail. It reports whether the handler
// should go on.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, calls *atomic.Int64, injected *faults, fail func(status int)) bool {
	calls.Add(1)
	if d := time.Duration(injected.delay.Load()); d > 0 && !sleep(r.Context(), d) {
		abort(w)
		return false
	}
	switch f, status := injected.take(); f {
	case dropFault:
		abort(w)
		return false
	case failFault:
		fail(status)
		return false
	}
	return true
}

// oauthError is the RFC 6749 error code for an injected failure status.
func oauthError(status int) string {
	switch {
	case status == http.StatusBadRequest:
		return "invalid_grant"
	case status == http.StatusUnauthorized:
		return "unauthorized"
	case status == http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	case status >= 500:
		return "server_error"
	}
	return "injected_failure"
}

// handleRefresh is POST /refresh: a JSON body in, the token response out.
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	noCache(w)
	if !s.beginRefresh(w, r, func(status int) {
		writeJSON(w, status, errorBody{Error: oauthError(status)})
	}) {
		return
	}
	var req struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decodeJSON(r, &req); err != nil || req.RefreshToken == "" {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid_request", Description: "body must be JSON {refresh_token}"})
		return
	}
	tok, ok := s.refresh(req.RefreshToken)
	if !ok {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid_grant"})
		return
	}
	writeJSON(w, http.StatusOK, tok)
}

// handleBearerRefresh is POST /auth/refresh: the refresh token as
// the bearer credential, the answer in a resultCode envelope.
func (s *Server) handleBearerRefresh(w http.ResponseWriter, r *http.Request) {
	noCache(w)
	if !s.beginRefresh(w, r, func(status int) {
		code := strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_"))
		if code == "" {
			code = "ERROR"
		}
		writeJSON(w, status, envelope{ResultCode: code})
	}) {
		return
	}
	unauthorized := envelope{ResultCode: "UNAUTHORIZED"}
	refresh, ok := bearer(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, unauthorized)
		return
	}
	tok, ok := s.refresh(refresh)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, unauthorized)
		return
	}
	writeJSON(w, http.StatusOK, envelope{ResultCode: "OK", Data: struct {
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
		TokenType    string `json:"tokenType"`
		ExpiresIn    int64  `json:"expiresIn"`
	}{tok.AccessToken, tok.RefreshToken, tok.TokenType, tok.ExpiresIn}})
}

// handleOAuthToken is the RFC 6749 token endpoint: grant_type refresh_token
// (section 6), password (section 4.3) and client_credentials (section 4.4),
// with client authentication (section 2.3.1) while a client is registered.
func (s *Server) handleOAuthToken(w http.ResponseWriter, r *http.Request) {
	noCache(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	formErr := r.ParseForm()
	grant := r.PostForm.Get("grant_type")
	if formErr == nil {
		switch grant {
		case "password":
			s.passwordGrant(w, r)
			return
		case "client_credentials":
			s.clientCredentialsGrant(w, r)
			return
		}
	}
	// Any other call, a malformed one too, is a refresh call: counted, and
	// answered by a pending fault.
	if !s.beginRefresh(w, r, func(status int) { s.writeOAuthError(w, status, "") }) {
		return
	}
	if formErr != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid_request", Description: "malformed form body"})
		return
	}
	if repeatedParam(r) {
		s.writeOAuthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if !s.clientAuthenticated(r) {
		s.writeOAuthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	switch grant {
	case "refresh_token":
	case "":
		s.writeOAuthError(w, http.StatusBadRequest, "invalid_request")
		return
	default:
		s.writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	refresh := r.PostForm.Get("refresh_token")
	if refresh == "" {
		s.writeOAuthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	tok, ok := s.refresh(refresh)
	if !ok {
		s.writeOAuthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	writeJSON(w, http.StatusOK, tok)
}

func (s *Server) passwordGrant(w http.ResponseWriter, r *http.Request) {
	if !s.clientAuthenticated(r) {
		s.writeOAuthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	user, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	if user == "" || password == "" || repeatedParam(r) {
		s.writeOAuthError(w, http.StatusBadRequest, "invalid_request") // section 4.3.2: both required
		return
	}
	if !s.checkPassword(user, password) {
		s.writeOAuthError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	writeJSON(w, http.StatusOK, s.login(user, s.now()))
}

// clientCredentialsGrant answers grant_type=client_credentials (RFC 6749
// section 4.4): a registered client's credentials in, an access token whose
// subject is the client id out, with no refresh token (section 4.4.3) and the
// requested scope granted as is.
func (s *Server) clientCredentialsGrant(w http.ResponseWriter, r *http.Request) {
	if !s.begin(w, r, &s.clientCredentialsCalls, &s.clientCredentialsFaults, func(status int) {
		s.writeOAuthError(w, status, "")
	}) {
		return
	}
	if repeatedParam(r) {
		s.writeOAuthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if len(s.clients) == 0 {
		w.Header().Set("WWW-Authenticate", `Basic realm="authtest"`)
		writeJSON(w, http.StatusUnauthorized, errorBody{Error: "invalid_client",
			Description: "no client is registered (authtest.Options.Clients)"})
		return
	}
	client, ok := s.authenticateClient(r)
	if !ok {
		s.writeOAuthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	tok := s.tokens(client, "", s.now())
	tok.Scope = r.PostForm.Get("scope")
	s.logins.Add(1)
	writeJSON(w, http.StatusOK, tok)
}

// repeatedParam reports a parameter sent more than once, which RFC 6749
// section 3.2 forbids (invalid_request).
func repeatedParam(r *http.Request) bool {
	for _, v := range r.PostForm {
		if len(v) > 1 {
			return true
		}
	}
	return false
}

// writeOAuthError answers an RFC 6749 error; an empty code is derived from
// status. A 401 invalid_client carries WWW-Authenticate, as section 5.2 asks.
func (s *Server) writeOAuthError(w http.ResponseWriter, status int, code string) {
	if code == "" {
		code = oauthError(status)
		if status == http.StatusUnauthorized {
			code = "invalid_client"
		}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="authtest"`)
	}
	writeJSON(w, status, errorBody{Error: code})
}

// clientAuthenticated reports whether r may use the refresh_token or
// password grant: any request while no client is registered, else only one
// carrying a registered client's credentials.
func (s *Server) clientAuthenticated(r *http.Request) bool {
	if len(s.clients) == 0 {
		return true
	}
	_, ok := s.authenticateClient(r)
	return ok
}

// authenticateClient returns the id of the registered client whose
// credentials r carries: from HTTP Basic (form-encoded, as RFC 6749 section
// 2.3.1 and x/oauth2 do) or, without a Basic header, from the client_id and
// client_secret form fields.
func (s *Server) authenticateClient(r *http.Request) (id string, ok bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		if u, err := url.QueryUnescape(id); err == nil {
			id = u
		}
		if u, err := url.QueryUnescape(secret); err == nil {
			secret = u
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	want, known := s.clients[id]
	if id == "" || !known || !equal(secret, want) {
		return "", false
	}
	return id, true
}

// bearer returns the credential of an "Authorization: Bearer" header; the
// scheme is case-insensitive (RFC 7235 section 2.1).
func bearer(r *http.Request) (string, bool) {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	cred = strings.TrimSpace(cred)
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
		return "", false
	}
	return cred, true
}

// call is an authenticated request to a protected route.
type call struct {
	user string
	body []byte
}

// echo is what protected routes answer: enough to check who called, how,
// and that a retry resent the same body.
type echo struct {
	Path   string `json:"path"`
	Method string `json:"method"`
	Query  string `json:"query,omitempty"`
	User   string `json:"user"`
	Body   string `json:"body"`
}

func (c call) echo(r *http.Request) echo {
	return echo{r.URL.Path, r.Method, r.URL.RawQuery, c.user, string(c.body)}
}

// protect checks the bearer access token, denying a bad one with the deny
// status, then reads the body and hands the request to next.
func (s *Server) protect(next func(http.ResponseWriter, *http.Request, call)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Count", strconv.FormatInt(s.requests.Add(1), 10))
		user, why := s.authenticate(r)
		if why != "" {
			s.denied.Add(1)
			if why == whyNoToken {
				// RFC 6750 section 3.1: no error code for a request with
				// no credentials.
				w.Header().Set("WWW-Authenticate", `Bearer realm="authtest"`)
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+why+`"`)
			}
			writeJSON(w, int(s.denyStatus.Load()), errorBody{Error: "invalid_token", Description: why})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid_request", Description: "reading body failed"})
			return
		}
		next(w, r, call{user, body})
	})
}

const whyNoToken = "missing bearer token"

// authenticate returns the token's user, or a description of what is wrong
// with the token that never includes the token.
func (s *Server) authenticate(r *http.Request) (user, why string) {
	tok, ok := bearer(r)
	if !ok {
		return "", whyNoToken
	}
	c, err := s.Verify(tok)
	switch {
	case errors.Is(err, ErrTokenExpired):
		return "", "token expired"
	case errors.Is(err, ErrTokenRevoked):
		return "", "token revoked"
	case err != nil:
		return "", "token malformed or badly signed"
	}
	return c.Subject, ""
}

// answer writes a protected route's response, counting it as served first,
// so a client that has the response sees the counter already updated.
func (s *Server) answer(w http.ResponseWriter, status int, v any) {
	if status >= 200 && status < 300 {
		s.served.Add(1)
	}
	writeJSON(w, status, v)
}

func (s *Server) handleEcho(w http.ResponseWriter, r *http.Request, c call) {
	s.answer(w, http.StatusOK, c.echo(r))
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request, c call) {
	code, err := strconv.Atoi(r.PathValue("code"))
	if err != nil || code < 200 || code > 599 {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid_request", Description: "status must be 200-599"})
		return
	}
	s.answer(w, code, c.echo(r))
}

func (s *Server) handleSlow(w http.ResponseWriter, r *http.Request, c call) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid_request", Description: "ms must be a non-negative integer"})
		return
	}
	if !sleep(r.Context(), time.Duration(ms)*time.Millisecond) {
		abort(w)
		return
	}
	s.answer(w, http.StatusOK, c.echo(r))
}

func (s *Server) handleEnvelope(w http.ResponseWriter, r *http.Request, c call) {
	s.answer(w, http.StatusOK, envelope{ResultCode: "OK", Data: c.echo(r)})
}
