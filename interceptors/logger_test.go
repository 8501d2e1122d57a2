package interceptors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/interceptors"
)

// logSink collects a JSON slog handler's lines.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func (s *logSink) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

func newSink(level slog.Level) (*logSink, *slog.Logger) {
	s := new(logSink)
	return s, slog.New(slog.NewJSONHandler(s, &slog.HandlerOptions{Level: level}))
}

func TestLoggerLogsMethodPathStatusDurationAndAttempt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l).Install(c)

	resp, err := c.Post(context.Background(), "/users", map[string]string{"name": "kim"}, axios.Config{Params: url.Values{"page": {"2"}}})
	require.NoError(t, err)
	assert.Equal(t, 201, resp.Status, "the outcome is passed on")

	lines := sink.lines(t)
	require.Len(t, lines, 1)
	line := lines[0]
	assert.Equal(t, "INFO", line["level"])
	assert.Equal(t, "request", line["msg"])
	assert.Equal(t, "POST", line["method"])
	assert.Equal(t, srv.URL+"/users?page=2", line["url"])
	assert.EqualValues(t, 201, line["status"])
	assert.EqualValues(t, 1, line["attempt"])
	assert.Contains(t, line, "duration")
	assert.NotContains(t, line, "code")
}

func TestLoggerLogsFailuresWithTheirCode(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/missing", httpmock.NewStringResponder(404, "no"))
	mock.RegisterResponder("GET", mockBase+"/down", httpmock.NewErrorResponder(&connReset{}))
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l).Install(c)

	_, err := c.Get(context.Background(), "/missing")
	requireStatus(t, err, 404)
	_, err = c.Get(context.Background(), "/down")
	require.Error(t, err)

	lines := sink.lines(t)
	require.Len(t, lines, 2)
	assert.Equal(t, "WARN", lines[0]["level"])
	assert.Equal(t, "request failed", lines[0]["msg"])
	assert.EqualValues(t, 404, lines[0]["status"])
	assert.Equal(t, axios.CodeBadRequest, lines[0]["code"])
	assert.Equal(t, "axios: Request failed with status code 404", lines[0]["error"])
	assert.EqualValues(t, 0, lines[1]["status"])
	assert.Equal(t, axios.CodeNetwork, lines[1]["code"])
	assert.Equal(t, mockBase+"/down", lines[1]["url"])
}

// connReset stands in for a connection reset.
type connReset struct{}

func (*connReset) Error() string { return "connection reset by peer" }

func TestLoggerNeverLogsSecrets(t *testing.T) {
	const secret = "s3cr3t-value"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: secret + "-set-cookie"})
		w.Header().Set("X-Api-Key", secret+"-response-key")
		w.Header().Set("X-Request-Id", "req-42")
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l, interceptors.LogRequestHeaders(), interceptors.LogResponseHeaders()).Install(c)

	params := url.Values{"page": {"2"}}
	for i, name := range []string{"access_token", "REFRESH_TOKEN", "Token", "code", "password", "id_token", "Client_Secret", "api_key", "ApiKey", "jwt", "client_assertion", "Authorization"} {
		params.Set(name, secret+"-param-"+string(rune('a'+i)))
	}
	headers := http.Header{
		"Authorization":       {"Bearer " + secret + "-authorization"},
		"Proxy-Authorization": {"Basic " + secret + "-proxy"},
		"Cookie":              {"sid=" + secret + "-cookie"},
	}
	for _, path := range []string{"/orders/7", "/orders/7?fail=1&token=" + secret + "-in-url"} {
		_, _ = c.Get(context.Background(), path, axios.Config{Params: params, Headers: headers})
	}

	out := sink.String()
	assert.NotContains(t, out, secret)
	lines := sink.lines(t)
	require.Len(t, lines, 2)
	for _, line := range lines {
		assert.Equal(t, "GET", line["method"])
		assert.Contains(t, line["url"], "/orders/7")
		assert.Contains(t, line["url"], "page=2", "a parameter that is no secret is kept")
		assert.Contains(t, line["url"], "access_token=REDACTED")
		req := line["request_headers"].(map[string]any)
		assert.Equal(t, "REDACTED", req["Authorization"])
		assert.Equal(t, "REDACTED", req["Proxy-Authorization"])
		assert.Equal(t, "REDACTED", req["Cookie"])
		resp := line["response_headers"].(map[string]any)
		assert.Equal(t, "REDACTED", resp["Set-Cookie"])
		assert.Equal(t, "REDACTED", resp["X-Api-Key"])
		assert.Equal(t, "req-42", resp["X-Request-Id"], "a header that is no secret is kept")
	}
	assert.EqualValues(t, 200, lines[0]["status"])
	assert.EqualValues(t, 502, lines[1]["status"])
}

func TestLoggerRedactURL(t *testing.T) {
	lg := interceptors.NewLogger(slog.Default(), interceptors.LogRedactParams("Signature-V2"))
	for _, tc := range []struct{ in, want string }{
		{"https://api.example/x?page=2&q=go", "https://api.example/x?page=2&q=go"},
		{"https://api.example/x?access_token=abc&page=2", "https://api.example/x?access_token=REDACTED&page=2"},
		{"https://api.example/x?Access_Token=abc", "https://api.example/x?Access_Token=REDACTED"},
		{"https://api.example/x?a=1;password=pw&b", "https://api.example/x?a=1;password=REDACTED&b"},
		{"https://api.example/x?client%5Fsecret=abc", "https://api.example/x?client%5Fsecret=REDACTED"},
		{"https://api.example/x?signature-v2=abc&z=1", "https://api.example/x?signature-v2=REDACTED&z=1"},
		{"https://api.example/x?code", "https://api.example/x?code=REDACTED"},
		{"https://user:pw@api.example/x", "https://REDACTED@api.example/x"},
		{"https://api.example/cb#access_token=abc", "https://api.example/cb"},
		{"://bad", "<invalid URL>"},
	} {
		assert.Equal(t, tc.want, interceptors.LoggerRedactURL(lg, tc.in), tc.in)
	}
}

func TestLoggerLevelsAreOptions(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/ok", httpmock.NewStringResponder(200, ""))
	mock.RegisterResponder("GET", mockBase+"/bad", httpmock.NewStringResponder(500, ""))
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l, interceptors.LogLevel(slog.LevelDebug), interceptors.LogErrorLevel(slog.LevelError)).Install(c)

	_, err := c.Get(context.Background(), "/ok")
	require.NoError(t, err)
	_, err = c.Get(context.Background(), "/bad")
	require.Error(t, err)

	lines := sink.lines(t)
	require.Len(t, lines, 1, "the success is logged at Debug, below the handler's level")
	assert.Equal(t, "ERROR", lines[0]["level"])
	assert.EqualValues(t, 500, lines[0]["status"])
}

func TestLoggerLogsOneLinePerRetriedAttempt(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/flaky",
		httpmock.NewStringResponder(503, "").Then(httpmock.NewStringResponder(502, "")).Then(httpmock.NewStringResponder(200, "ok")))
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l).Install(c)
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)

	_, err := c.Get(context.Background(), "/flaky")
	require.NoError(t, err)

	lines := sink.lines(t)
	require.Len(t, lines, 3)
	for i, want := range []float64{503, 502, 200} {
		assert.Equal(t, want, lines[i]["status"])
		assert.EqualValues(t, i+1, lines[i]["attempt"])
	}
}

func TestLoggerNumbersRetriesOfInterceptorsThatDoNotCount(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/me",
		httpmock.NewStringResponder(401, "").Then(httpmock.NewStringResponder(200, "")))
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l).Install(c)
	authLike(c, "fresh")

	_, err := c.Get(context.Background(), "/me")
	require.NoError(t, err)

	lines := sink.lines(t)
	require.Len(t, lines, 2)
	assert.EqualValues(t, 401, lines[0]["status"])
	assert.EqualValues(t, 1, lines[0]["attempt"])
	assert.EqualValues(t, 200, lines[1]["status"])
	assert.EqualValues(t, 2, lines[1]["attempt"])
}

func TestLoggerAfterRetryLogsTheFinalAttemptOnce(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/flaky",
		httpmock.NewStringResponder(503, "").Then(httpmock.NewStringResponder(200, "")))
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)
	interceptors.NewLogger(l).Install(c) // the wrong order: the response side runs after Retry

	_, err := c.Get(context.Background(), "/flaky")
	require.NoError(t, err)

	lines := sink.lines(t)
	require.Len(t, lines, 1, "the outer chain sees the retry's outcome, which the inner chain logged")
	assert.EqualValues(t, 200, lines[0]["status"])
	assert.EqualValues(t, 2, lines[0]["attempt"])
}

func TestLoggerLogsARequestThatFailedBeforeSending(t *testing.T) {
	c, mock := mockClient(t)
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l).Install(c)
	interceptors.NewHeaders(func(context.Context, *axios.Config) (http.Header, error) {
		return nil, errPlain
	}).Install(c)

	_, err := c.Delete(context.Background(), "/items/3")
	require.ErrorIs(t, err, errPlain)

	assert.Zero(t, mock.GetTotalCallCount())
	lines := sink.lines(t)
	require.Len(t, lines, 1)
	assert.Equal(t, "DELETE", lines[0]["method"])
	assert.EqualValues(t, 0, lines[0]["status"])
	assert.Contains(t, lines[0]["error"], "interceptors: headers: plain failure")
}

func TestLoggerKeepsSecretsOutOfNetworkErrors(t *testing.T) {
	const secret = "tok-in-query"
	c, mock := mockClient(t)
	mock.RegisterNoResponder(httpmock.NewErrorResponder(&connReset{}))
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l).Install(c)

	_, err := c.Get(context.Background(), "/cb?code="+secret+"&state=xyz")
	require.Error(t, err)

	assert.NotContains(t, sink.String(), secret)
	lines := sink.lines(t)
	require.Len(t, lines, 1)
	assert.Equal(t, mockBase+"/cb?code=REDACTED&state=xyz", lines[0]["url"])
	assert.Equal(t, axios.CodeNetwork, lines[0]["code"])
}

// The auth pair may send its token in a header of any name (Options.Header):
// one the Logger knows by its name (Xc-Auth: "auth"), or one it can only be
// told of, with the Authenticator's HeaderName.
func TestLoggerNeverLogsAnAuthenticatorsToken(t *testing.T) {
	const secret = "s3cr3t"
	for _, tc := range []struct {
		header string
		opts   func(a *auth.Authenticator) []interceptors.LoggerOption
	}{
		{"Xc-Auth", func(*auth.Authenticator) []interceptors.LoggerOption { return nil }},
		{"X-Ident", func(a *auth.Authenticator) []interceptors.LoggerOption {
			return []interceptors.LoggerOption{interceptors.LogRedactHeaders(a.HeaderName())}
		}},
	} {
		t.Run(tc.header, func(t *testing.T) {
			c, mock := mockClient(t)
			var mu sync.Mutex
			var sent []string
			mock.RegisterResponder("GET", mockBase+"/me", func(req *http.Request) (*http.Response, error) {
				v := req.Header.Get(tc.header)
				mu.Lock()
				sent = append(sent, v)
				mu.Unlock()
				if v != "new-"+secret {
					return httpmock.NewStringResponse(http.StatusUnauthorized, ""), nil
				}
				return httpmock.NewStringResponse(http.StatusOK, "me"), nil
			})
			a, err := auth.New(auth.Options{
				Header: tc.header,
				Format: auth.RawToken,
				Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
					return &oauth2.Token{AccessToken: "new-" + secret, Expiry: time.Now().Add(time.Hour)}, nil
				},
			})
			require.NoError(t, err)
			require.NoError(t, a.SetToken(context.Background(), &oauth2.Token{AccessToken: "old-" + secret, Expiry: time.Now().Add(time.Hour)}))
			sink, l := newSink(slog.LevelInfo)
			opts := append([]interceptors.LoggerOption{interceptors.LogRequestHeaders(), interceptors.LogResponseHeaders()}, tc.opts(a)...)
			interceptors.NewLogger(l, opts...).Install(c)
			a.Install(c)

			resp, err := c.Get(context.Background(), "/me")

			require.NoError(t, err)
			assert.Equal(t, "me", string(resp.Data))
			assert.Equal(t, []string{"old-" + secret, "new-" + secret}, sent, "the token went in %s", tc.header)
			assert.NotContains(t, sink.String(), secret)
			lines := sink.lines(t)
			require.Len(t, lines, 2, "the refused attempt and its retry")
			for _, line := range lines {
				assert.Equal(t, "REDACTED", line["request_headers"].(map[string]any)[tc.header])
			}
		})
	}
}
