package axios_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// recorder is an httptest handler's log of what it received.
type recorder struct {
	mu     sync.Mutex
	bodies []string
	paths  []string
}

func (r *recorder) add(path string, body []byte) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paths = append(r.paths, path)
	r.bodies = append(r.bodies, string(body))
	return len(r.bodies)
}

func (r *recorder) got() (paths, bodies []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...), append([]string(nil), r.bodies...)
}

// authRetryClient returns a client with the auth pair installed, holding
// token "old", whose refresh gives "new", against a server that reads the
// whole body, hands it to seen, and answers 401 to "old" and 200 to "new",
// as a server whose token expired during an upload.
func authRetryClient(t *testing.T, seen func(r *http.Request, body io.Reader) string) (*axios.Client, *recorder) {
	t.Helper()
	rec := new(recorder)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r.URL.Path, []byte(seen(r, r.Body)))
		if r.Header.Get("Authorization") != "Bearer new" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	a, err := auth.New(auth.Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "new", TokenType: "Bearer"}, nil
	}})
	require.NoError(t, err)
	a.Install(c)
	require.NoError(t, a.SetToken(ctx, &oauth2.Token{AccessToken: "old", TokenType: "Bearer"}))
	return c, rec
}

func readAllString(_ *http.Request, body io.Reader) string {
	b, _ := io.ReadAll(body)
	return string(b)
}

// A plain io.Reader is streamed, not read whole before the request goes:
// the server reads the first bytes while the writer still waits for it.
func TestPlainReaderIsStreamed(t *testing.T) {
	firstRead := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		head := make([]byte, len("first "))
		if _, err := io.ReadFull(r.Body, head); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		close(firstRead)
		w.Header().Set("X-Transfer-Encoding", strings.Join(r.TransferEncoding, ","))
		rest, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append(head, rest...))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	pr, pw := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw, "first ")
		select {
		case <-firstRead:
			_, _ = io.WriteString(pw, "second")
			_ = pw.Close()
		case <-time.After(5 * time.Second):
			_ = pw.CloseWithError(io.ErrUnexpectedEOF) // the body was not streamed
		}
	}()
	resp, err := c.Post(ctx, "/", pr)
	require.NoError(t, err)
	assert.Equal(t, "first second", string(resp.Data))
	assert.Equal(t, "chunked", resp.Headers.Get("X-Transfer-Encoding"), "a stream of unknown length goes chunked")
}

// A Content-Length header gives a stream's length, which net/http would
// otherwise ignore.
func TestContentLengthHeaderSizesAStream(t *testing.T) {
	var mu sync.Mutex
	var length int64
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mu.Lock()
		length = r.ContentLength
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	_, err := c.Post(ctx, "/", io.MultiReader(strings.NewReader("12345")), axios.Config{Headers: http.Header{"Content-Length": {"5"}}})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.EqualValues(t, 5, length)
}

// The auth pair's retry of a request whose body is a pipe sends the same
// bytes again: what the first attempt read is kept for it.
func TestAuthRetryOfAPipeResendsTheSameBytes(t *testing.T) {
	c, rec := authRetryClient(t, readAllString)
	pr, pw := io.Pipe()
	go func() {
		for i := range 3 {
			_, _ = io.WriteString(pw, strings.Repeat(string(rune('a'+i)), 10_000))
		}
		_ = pw.Close()
	}()
	resp, err := c.Post(ctx, "/upload", pr)
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	want := strings.Repeat("a", 10_000) + strings.Repeat("b", 10_000) + strings.Repeat("c", 10_000)
	_, bodies := rec.got()
	assert.Equal(t, []string{want, want}, bodies)
}

// The server refuses the token at once, while the first attempt is still
// writing the pipe (it drains the body only afterwards): the retry takes the
// pipe over, and the server gets every byte on the retry.
func TestAuthRetryWhileTheFirstAttemptStillWritesThePipe(t *testing.T) {
	rec := new(recorder)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer new" {
			rec.add("refused", nil)
			_ = http.NewResponseController(w).EnableFullDuplex()
			w.WriteHeader(http.StatusUnauthorized)
			_ = http.NewResponseController(w).Flush()
			buf := make([]byte, 4<<10)
			for {
				if _, err := r.Body.Read(buf); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
		h := sha256.New()
		_, _ = io.Copy(h, r.Body)
		rec.add("accepted", []byte(hex.EncodeToString(h.Sum(nil))))
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	a, err := auth.New(auth.Options{Refresh: func(context.Context, *oauth2.Token) (*oauth2.Token, error) {
		return &oauth2.Token{AccessToken: "new", TokenType: "Bearer"}, nil
	}})
	require.NoError(t, err)
	a.Install(c)
	require.NoError(t, a.SetToken(ctx, &oauth2.Token{AccessToken: "old", TokenType: "Bearer"}))

	payload := bytes.Repeat([]byte("0123456789"), 90_000) // 900 KB, under the 1 MiB kept
	pr, pw := io.Pipe()
	go func() {
		for chunk := range slices.Chunk(payload, 1000) {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	_, err = c.Post(ctx, "/upload", pr)
	require.NoError(t, err)
	paths, sums := rec.got()
	assert.Equal(t, []string{"refused", "accepted"}, paths)
	assert.Equal(t, sha(payload), sums[1])
}

// A retry after more than 1 MiB of a pipe was read fails with a clear
// error: the server got the first attempt whole and never a partial body.
func TestAuthRetryOfALongPipeFailsClearly(t *testing.T) {
	c, rec := authRetryClient(t, readAllString)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 2<<20/16) // 2 MiB: over the 1 MiB kept
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(payload)
		_ = pw.Close()
	}()
	_, err := c.Post(ctx, "/upload", pr)
	axErr, ok := axios.AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
	assert.Contains(t, axErr.Message, "could not be read again")
	assert.Contains(t, axErr.Message, "io.ReadSeeker")
	_, bodies := rec.got()
	assert.Equal(t, []string{string(payload)}, bodies, "one attempt, whole; the retry sent nothing")
}

// redirectRecorder answers /start with a 307 to /final: at once, draining
// the body slowly meanwhile, or after reading all of it. /final answers
// with the SHA-256 of what it read.
func redirectRecorder(t *testing.T, readFirst bool) (*httptest.Server, *recorder) {
	rec := new(recorder)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/start" {
			rec.add(r.URL.Path, nil)
			if readFirst {
				_, _ = io.Copy(io.Discard, r.Body)
			}
			_ = http.NewResponseController(w).EnableFullDuplex()
			w.Header().Set("Location", "/final")
			w.WriteHeader(http.StatusTemporaryRedirect)
			_ = http.NewResponseController(w).Flush()
			buf := make([]byte, 4<<10)
			for {
				if _, err := r.Body.Read(buf); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
		h := sha256.New()
		_, _ = io.Copy(h, r.Body)
		sum := hex.EncodeToString(h.Sum(nil))
		rec.add(r.URL.Path, []byte(sum))
		_, _ = io.WriteString(w, sum)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A 307 resends a pipe's bytes while the first attempt may still be
// writing them: the newest attempt owns the pipe, and a read the first one
// had under way is handed over.
func TestRedirect307ResendsAPipe(t *testing.T) {
	srv, _ := redirectRecorder(t, false)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	payload := bytes.Repeat([]byte("pipe"), 200_000) // 800 KB: under the 1 MiB kept
	pr, pw := io.Pipe()
	go func() {
		for chunk := range slices.Chunk(payload, 3000) {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	resp, err := c.Post(ctx, "/start", pr)
	require.NoError(t, err)
	assert.Equal(t, sha(payload), string(resp.Data))
}

// A 307 after more than 1 MiB of a pipe was read fails as a retry does,
// and the redirect's target never sees a body.
func TestRedirect307OfALongPipeFailsClearly(t *testing.T) {
	srv, rec := redirectRecorder(t, true)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(bytes.Repeat([]byte("x"), 2<<20))
		_ = pw.Close()
	}()
	_, err := c.Post(ctx, "/start", pr)
	axErr, ok := axios.AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
	assert.Contains(t, axErr.Message, "could not be read again")
	paths, _ := rec.got()
	assert.Equal(t, []string{"/start"}, paths)
}

// Upload progress counts a stream's bytes with Total -1 (unknown), and a
// sized body's up to its length.
func TestUploadProgressOfStreamsAndFiles(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	for name, tc := range map[string]struct {
		data  func() any
		total int64
	}{
		"pipe":   {func() any { return io.MultiReader(strings.NewReader(strings.Repeat("x", 100_000))) }, -1},
		"seeker": {func() any { return strings.NewReader(strings.Repeat("x", 100_000)) }, 100_000},
	} {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var events []axios.Progress
			_, err := c.Post(ctx, "/", tc.data(), axios.Config{OnUploadProgress: func(p axios.Progress) {
				mu.Lock()
				events = append(events, p)
				mu.Unlock()
			}})
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			require.NotEmpty(t, events)
			last := events[len(events)-1]
			assert.EqualValues(t, 100_000, last.Loaded)
			for _, p := range events {
				assert.Equal(t, tc.total, p.Total)
				assert.True(t, p.Upload)
			}
		})
	}
}

// JSON bodies are encoded as JSON.stringify does: <, > and & as they are,
// and no trailing newline.
func TestJSONBodyIsNotHTMLEscaped(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	e := echoOf(t)(c.Post(ctx, "/json", map[string]string{"q": "<a&b>"}))
	assert.Equal(t, `{"q":"<a&b>"}`, e.Body)
	assert.Equal(t, []string{"13"}, e.Headers["Content-Length"])
	assert.Equal(t, []string{"application/json"}, e.Headers["Content-Type"])
}
