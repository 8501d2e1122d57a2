package axios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// axios 1.x writes params {"ids[]": [1, 2]} as "ids[]=1&ids[]=2"
// (toFormData's removeBrackets, then key + "[]"): a key that spells the
// brackets out does not get them twice.
func TestBracketParamsKeyAlreadyEndingInBrackets(t *testing.T) {
	got := BracketParams(url.Values{"ids[]": {"1", "2"}})
	assert.Equal(t, "ids[]=1&ids[]=2", got)
}

// RFC 2045: parameter names are case-insensitive, so a body the caller
// framed itself under "multipart/form-data; Boundary=..." has its boundary.
func TestMultipartBoundaryParamNameIsCaseInsensitive(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(srv.Close)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	body := "--abcdefghij\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--abcdefghij--\r\n"
	_, err := c.Post(edgeCtx(t), "/", []byte(body), Config{Headers: http.Header{
		"Content-Type": {"multipart/form-data; Boundary=abcdefghij"},
	}})
	require.NoError(t, err)
}

// Timings are the last hop's, and a phase that did not happen is 0: after a
// redirect from a host name to an IP address on a new connection, the first
// hop's DNS time is not reported.
func TestTimingsAreTheLastHopsAfterARedirect(t *testing.T) {
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(final.Close)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, final.URL+"/x", http.StatusFound)
	}))
	t.Cleanup(first.Close)
	byName := strings.Replace(first.URL, "127.0.0.1", "localhost", 1)

	c := edgeClient(t, Config{Timings: true})
	resp, err := c.Get(edgeCtx(t), byName+"/start")
	require.NoError(t, err)
	require.NotNil(t, resp.Timings)
	assert.Equal(t, strings.TrimPrefix(final.URL, "http://"), resp.Timings.RemoteAddr, "last hop")
	assert.False(t, resp.Timings.Reused)
	assert.Zero(t, resp.Timings.DNS, "the last hop went to an IP address: no lookup")
}

// pipeWriter starts the usual Go streaming-upload producer: a goroutine
// writing into an io.Pipe. done is closed when it returns. The pipe's reader
// is closed at cleanup so the goroutine never outlives the test.
func pipeWriter(t *testing.T) (pr *io.PipeReader, done chan struct{}) {
	pr, pw := io.Pipe()
	done = make(chan struct{})
	go func() {
		defer close(done)
		chunk := make([]byte, 32<<10)
		for { // an endless stream (a log tail, a live capture)
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { _ = pr.Close(); <-done })
	return pr, done
}

func refusedURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// net/http closes a request's Body on every path, which is what ends the
// producer of an io.Pipe body when the request fails; so does this client,
// or the "io.Pipe + goroutine" upload pattern ported from net/http code
// would leave the producer blocked in pw.Write for ever.
func TestPipeBodyIsClosedWhenTheRequestFails(t *testing.T) {
	pr, done := pipeWriter(t)
	c := edgeClient(t, Config{})
	_, err := c.Post(edgeCtx(t), refusedURL(t)+"/upload", pr)
	require.Error(t, err)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the pipe's producer is still blocked in Write after the request failed")
	}
}

// The same with a FormData part given as an io.Pipe, and a request canceled
// by its context while the server never reads the body.
func TestFormDataPipePartIsClosedOnCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // never reads the body
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	pr, done := pipeWriter(t)
	fd := NewFormData()
	fd.Append("a", "1")
	fd.AppendFile("file", "f.bin", pr)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	ctx, cancel := context.WithTimeout(edgeCtx(t), 200*time.Millisecond)
	defer cancel()
	_, err := c.Post(ctx, "/upload", fd)
	require.Error(t, err)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the pipe part's producer is still blocked in Write after the request ended")
	}
}

// axios builds the URL with WHATWG's URL parser, which percent-encodes a
// space (and quotes, <, >, non-ASCII) in the query: axios.get("/search?q=
// hello world") sends "GET /search?q=hello%20world". Sent raw, "GET
// /search?q=hello world HTTP/1.1" is an invalid request line that servers
// refuse (Go's answers 400).
func TestQueryIsPercentEncodedAsAxiosDoes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Query().Get("q"))
	}))
	t.Cleanup(srv.Close)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	for _, params := range []url.Values{nil, {"page": {"2"}}} {
		resp, err := c.Get(edgeCtx(t), "/search?q=hello world", Config{Params: params})
		require.NoError(t, err, "params %v", params)
		assert.Equal(t, "hello world", string(resp.Data))
	}
	got, err := c.GetURI(Config{URL: "/search?q=hello world"})
	require.NoError(t, err)
	assert.Equal(t, srv.URL+"/search?q=hello%20world", got)
}

// A retry sent inside the request (an interceptor's, as the auth pair's
// after a 401) reads the same pipe again: it is closed only when the
// outermost request ends, and then it is.
func TestPipeBodyStaysOpenForARetryInsideTheRequest(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		first := len(bodies) == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	c.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*Response, error) {
		if e, ok := AsError(err); ok && e.Status() == http.StatusUnauthorized {
			return c.Request(ctx, *e.Config)
		}
		return nil, err
	})
	pr, pw := io.Pipe()
	writeErr := make(chan error, 1)
	go func() {
		_, err := io.WriteString(pw, "streamed bytes")
		_ = pw.Close()
		writeErr <- err
	}()
	tracked := &closeTracked{Reader: pr, close: pr.Close}
	_, err := c.Post(edgeCtx(t), "/upload", tracked)
	require.NoError(t, err)
	require.NoError(t, <-writeErr)
	assert.Equal(t, []string{"streamed bytes", "streamed bytes"}, bodies, "the retry resent the same bytes")
	assert.EqualValues(t, 1, tracked.closes.Load(), "closed once, after the retry")
}

type closeTracked struct {
	io.Reader
	close  func() error
	closes atomic.Int32
}

func (c *closeTracked) Close() error { c.closes.Add(1); return c.close() }

// A reader that seeks is the caller's: never closed, so it can be sent again.
func TestFileBodyIsNotClosed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(srv.Close)
	f, err := os.CreateTemp(t.TempDir(), "body")
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	_, err = f.WriteString("file bytes")
	require.NoError(t, err)
	_, err = f.Seek(0, io.SeekStart)
	require.NoError(t, err)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	_, err = c.Post(edgeCtx(t), "/upload", f)
	require.NoError(t, err)
	_, err = f.Seek(0, io.SeekStart)
	assert.NoError(t, err, "the file is still open")
}

// Every byte WHATWG's special-query set names is encoded; what is already
// encoded, and the reserved characters, are kept.
func TestEscapeQuery(t *testing.T) {
	for in, want := range map[string]string{
		"http://h/p":                     "http://h/p",
		"http://h/p?a=1&b=%20c":          "http://h/p?a=1&b=%20c",
		"http://h/p?q=a b":               "http://h/p?q=a%20b",
		"http://h/p?q=\"x\"<'y'>":        "http://h/p?q=%22x%22%3C%27y%27%3E",
		"http://h/p?q=caf\u00e9":         "http://h/p?q=caf%C3%A9",
		"http://h/p?q=a\tb#frag ment":    "http://h/p?q=a%09b#frag ment",
		"http://h/p?q=[]:@!$&'()*+,;=/?": "http://h/p?q=[]:@!$&%27()*+,;=/?",
	} {
		assert.Equal(t, want, escapeQuery(in), in)
	}
}

// A typed nil reader as Data fails the request with a clear error, not a
// panic; as a FormData file it is an empty file, as a nil content is.
func TestTypedNilReadersAreNoPanic(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err == nil {
			fh := r.MultipartForm.File["f"]
			if len(fh) == 1 {
				_, _ = io.WriteString(w, strconv.FormatInt(fh[0].Size, 10))
			}
		}
	}))
	t.Cleanup(srv.Close)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	for _, data := range []any{(*bytes.Buffer)(nil), (*strings.Reader)(nil), (*FormData)(nil), (*os.File)(nil)} {
		var err error
		require.NotPanics(t, func() { _, err = c.Post(edgeCtx(t), "/", data) })
		ae, ok := AsError(err)
		require.True(t, ok, "%T: %v", data, err)
		assert.Equal(t, CodeBadOptionValue, ae.Code, "%T", data)
		assert.Contains(t, err.Error(), fmt.Sprintf("a nil %T as Data", data))
		var pe *PanicError
		assert.False(t, errors.As(err, &pe), "%T: no panic behind it", data)
	}

	fd := NewFormData()
	require.NotPanics(t, func() { fd.AppendFile("f", "empty.bin", (*bytes.Buffer)(nil)) })
	resp, err := c.Post(edgeCtx(t), "/", fd)
	require.NoError(t, err)
	assert.Equal(t, "0", string(resp.Data), "an empty file")
}

// A request that fails before it is sent (a request interceptor refused
// it) closes its pipe too, as net/http closes a body it never sent.
func TestPipeBodyIsClosedWhenTheRequestIsNeverSent(t *testing.T) {
	pr, done := pipeWriter(t)
	c := edgeClient(t, Config{BaseURL: "http://api.test"})
	refused := errors.New("refused by an interceptor")
	c.Interceptors.Request.Use(func(context.Context, *Config) (*Config, error) { return nil, refused }, nil)
	_, err := c.Post(edgeCtx(t), "/upload", pr)
	require.ErrorIs(t, err, refused)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the pipe's producer is still blocked in Write after the request was refused")
	}
}
