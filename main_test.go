package axios_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/axiosgo/axios"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echo is what echoServer answers: the request as the server saw it.
type echo struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   string              `json:"query"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

// echoServer answers every request with an echo of it, as JSON.
func echoServer(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echo{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: r.Header, Body: string(b)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// newClient returns a client whose idle connections are closed when the test
// ends, so goleak sees no leftover goroutines.
func newClient(t testing.TB, cfg axios.Config) *axios.Client {
	t.Helper()
	c := axios.Create(cfg)
	t.Cleanup(func() { c.CloseIdleConnections() })
	return c
}
