package axios

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Edge cases: a body resent on a redirect while the first
// copy is still being written, a request's Auth and Method after its
// interceptors, a body that claims to seek but cannot.

func edgeClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c := Create(cfg)
	t.Cleanup(func() { c.CloseIdleConnections() })
	return c
}

func edgeCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// redirectServer answers POST /start with 307 to /final as soon as the
// headers arrive, then goes on draining the first request's body slowly
// (full duplex), as a proxy or a busy server may; /final answers with the
// sha256 of the body it received.
func redirectServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			_ = http.NewResponseController(w).EnableFullDuplex()
			w.Header().Set("Location", "/final")
			w.WriteHeader(http.StatusTemporaryRedirect)
			_ = http.NewResponseController(w).Flush()
			buf := make([]byte, 32<<10)
			for {
				if _, err := r.Body.Read(buf); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
		h := sha256.New()
		_, _ = io.Copy(h, r.Body)
		_, _ = io.WriteString(w, hex.EncodeToString(h.Sum(nil)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A 307 resends the same body while net/http may still be writing the
// first copy: GetBody gives a reader of its own, sharing no read position
// (bytes, a *bytes.Reader, a file).
func TestRedirect307ResendsTheSameBytesWhileTheFirstCopyIsStillSent(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB: more than the socket buffers hold
	sum := sha256.Sum256(payload)
	want := hex.EncodeToString(sum[:])
	path := filepath.Join(t.TempDir(), "upload")
	require.NoError(t, os.WriteFile(path, payload, 0o600))
	srv := redirectServer(t)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	for name, data := range map[string]func(t *testing.T) any{
		"bytes":  func(*testing.T) any { return payload },
		"seeker": func(*testing.T) any { return bytes.NewReader(payload) },
		"file": func(t *testing.T) any {
			f, err := os.Open(path)
			require.NoError(t, err)
			t.Cleanup(func() { f.Close() })
			return f
		},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := c.Post(edgeCtx(t), "/start", data(t))
			require.NoError(t, err, "the redirected upload")
			assert.Equal(t, want, string(resp.Data), "the redirected request carries the bytes posted")
		})
	}
}

func TestInterceptorChangingAuthChangesThatRequestAlone(t *testing.T) {
	c := edgeClient(t, Config{
		Auth: &BasicAuth{Username: "svc", Password: "default"},
		Adapter: func(_ context.Context, cfg *Config) (*Response, error) {
			return &Response{Status: http.StatusOK, Config: cfg}, nil
		},
	})
	c.Interceptors.Request.Use(func(_ context.Context, cfg *Config) (*Config, error) {
		if user, ok := cfg.Meta["user"].(string); ok {
			cfg.Auth.Username = user
		}
		return cfg, nil
	}, nil)
	own := &BasicAuth{Username: "bob", Password: "pw"}
	_, err := c.Get(edgeCtx(t), "http://example.test/", Config{Meta: map[string]any{"user": "alice"}})
	require.NoError(t, err)
	_, err = c.Get(edgeCtx(t), "http://example.test/", Config{Auth: own, Meta: map[string]any{"user": "carol"}})
	require.NoError(t, err)
	assert.Equal(t, "svc", c.Defaults.Auth.Username, "the defaults are not changed")
	assert.Equal(t, "bob", own.Username, "nor the caller's Config")
	resp, err := c.Get(edgeCtx(t), "http://example.test/")
	require.NoError(t, err)
	assert.Equal(t, "svc", resp.Config.Auth.Username, "a later request gets the defaults")
}

// axios upper-cases the method it sends, also one a request interceptor set.
func TestMethodSetByAnInterceptorIsUpperCased(t *testing.T) {
	var mu sync.Mutex
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Method
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	c.Interceptors.Request.Use(func(_ context.Context, cfg *Config) (*Config, error) {
		cfg.Method = "put"
		return cfg, nil
	}, nil)
	resp, err := c.Get(edgeCtx(t), "/x")
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, http.MethodPut, got)
	assert.Equal(t, http.MethodPut, resp.Config.Method)
}

// An *os.File on a pipe (os.Stdin under a shell pipe) is an io.ReadSeeker
// by type but cannot seek: it is read once, as any io.Reader, and what was
// read is kept, so resending the Config sends it again.
func TestPipeBodyIsReadOnceAndSent(t *testing.T) {
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	go func() {
		_, _ = io.WriteString(pw, "from a pipe")
		_ = pw.Close()
	}()
	resp, err := c.Post(edgeCtx(t), "/", pr)
	require.NoError(t, err)
	_, err = c.Request(edgeCtx(t), *resp.Config)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"from a pipe", "from a pipe"}, got, "a resend sends the bytes read the first time")
}

// mergeHeader gives the request values of its own: appending to them, or
// writing into them, reaches neither the defaults nor another key, also
// for multi-valued headers, and keys are canonical.
func TestMergeHeaderCopiesEveryValue(t *testing.T) {
	base := http.Header{"A": {"1", "2"}, "b": {"3"}}
	over := http.Header{"C": {"4", "5", "6"}, "A": {"7"}}
	out := mergeHeader(base, over)
	assert.Equal(t, http.Header{"A": {"7"}, "B": {"3"}, "C": {"4", "5", "6"}}, out)

	for k := range out {
		out[k][0] = "changed"
		out[k] = append(out[k], "appended")
	}
	assert.Equal(t, http.Header{"A": {"1", "2"}, "b": {"3"}}, base)
	assert.Equal(t, http.Header{"C": {"4", "5", "6"}, "A": {"7"}}, over)
	assert.Equal(t, http.Header{"A": {"changed", "appended"}, "B": {"changed", "appended"}, "C": {"changed", "5", "6", "appended"}}, out)
}
