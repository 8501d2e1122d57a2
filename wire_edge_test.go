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

func waitDone(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal(what)
	}
}

// A typed nil *io.PipeReader as Data is a clear error, and closing it as
// the request ends (outside the chain's recover) does not panic either.
func TestTypedNilPipeReaderAsDataDoesNotPanic(t *testing.T) {
	c := edgeClient(t, Config{BaseURL: "http://api.test"})
	c.Resty().SetTransport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	}))
	var err error
	require.NotPanics(t, func() { _, err = c.Post(edgeCtx(t), "/", (*io.PipeReader)(nil)) })
	ae, ok := AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, CodeBadOptionValue, ae.Code)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Full duplex with ResponseStream: the server answers as soon as the headers
// arrive and echoes the body as it streams in. The pipe stays open until
// the response stream is closed, so the upload goes on after Request
// returned.
func TestPipeBodyStaysOpenWhileAFullDuplexStreamIsRead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.EnableFullDuplex()
		w.WriteHeader(http.StatusOK)
		_ = rc.Flush()
		buf := make([]byte, 1024)
		for {
			n, err := r.Body.Read(buf)
			if n > 0 {
				_, _ = w.Write(buf[:n])
				_ = rc.Flush()
			}
			if err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pr.Close() })

	resp, err := c.Post(edgeCtx(t), "/duplex", pr, Config{ResponseType: ResponseStream})
	require.NoError(t, err)
	defer resp.Body.Close()

	// The upload goes on after the response started, as full duplex does.
	_, werr := io.WriteString(pw, "ping")
	require.NoError(t, werr, "the pipe was closed when Request returned the stream, with the upload still under way")
	got := make([]byte, 4)
	_, err = io.ReadFull(resp.Body, got)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(got))
	_ = pw.Close()
}

// A response interceptor that resends a copy of the refused Config with a
// new pipe as Data (a compressed re-upload after a 413, say): both pipes
// are closed when the requests that sent them end.
func TestPipeBodyOfAResendWithNewDataIsClosed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Refuses at once, without reading the body.
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}))
	t.Cleanup(srv.Close)
	c := edgeClient(t, Config{BaseURL: srv.URL})

	second, secondDone := pipeWriter(t)
	resent := false
	c.Interceptors.Response.Use(nil, func(ctx context.Context, err error) (*Response, error) {
		e, ok := AsError(err)
		if !ok || e.Status() != http.StatusRequestEntityTooLarge || resent {
			return nil, err
		}
		resent = true
		next := *e.Config
		next.Data = second
		return c.Request(ctx, next)
	})
	first, firstDone := pipeWriter(t)
	_, err := c.Post(edgeCtx(t), "/upload", first)
	require.Error(t, err)
	require.True(t, resent)
	waitDone(t, firstDone, "the first pipe's producer is still blocked")
	waitDone(t, secondDone, "the resent pipe's producer is still blocked in Write after the request ended")
}

// A request interceptor that sets Data to a pipe (a compressing
// interceptor, say) on a request that had none: what was sent is closed.
func TestPipeBodySetByARequestInterceptorIsClosed(t *testing.T) {
	pr, done := pipeWriter(t)
	c := edgeClient(t, Config{})
	c.Interceptors.Request.Use(func(_ context.Context, cfg *Config) (*Config, error) {
		cfg.Method, cfg.Data = http.MethodPost, pr
		return cfg, nil
	}, nil)
	_, err := c.Get(edgeCtx(t), refusedURL(t)+"/upload")
	require.Error(t, err)
	waitDone(t, done, "the pipe an interceptor set is still open after the request failed")
}

// Two requests made at once from copies of an earlier response's Config,
// each with a pipe of its own: each pipe is closed when its own request
// ends, not when the other does.
func TestPipeBodyIsClosedWhenItsOwnRequestEndsThoughTheConfigIsACopy(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release // never reads the body
			return
		}
		w.WriteHeader(http.StatusBadRequest) // refuses at once, body unread
	}))
	t.Cleanup(srv.Close)
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	c := edgeClient(t, Config{BaseURL: srv.URL})

	// A first request with a pipe, whose Config serves as a template.
	p0, done0 := pipeWriter(t)
	_, err := c.Post(edgeCtx(t), "/fast", p0)
	e, ok := AsError(err)
	require.True(t, ok, "%v", err)
	waitDone(t, done0, "the template request's pipe")
	tmpl := *e.Config

	slowPipe, _ := pipeWriter(t)
	slowCfg := tmpl
	slowCfg.URL, slowCfg.Data = "/slow", slowPipe
	slowCtx, cancelSlow := context.WithCancel(edgeCtx(t))
	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		_, _ = c.Request(slowCtx, slowCfg)
	}()
	time.Sleep(100 * time.Millisecond) // the slow request is under way

	fastPipe, fastDone := pipeWriter(t)
	fastCfg := tmpl
	fastCfg.URL, fastCfg.Data = "/fast", fastPipe
	_, err = c.Request(edgeCtx(t), fastCfg)
	require.Error(t, err)
	fastClosed := false
	select {
	case <-fastDone:
		fastClosed = true
	case <-time.After(time.Second):
	}
	cancelSlow()
	releaseOnce.Do(func() { close(release) })
	<-slowDone
	assert.True(t, fastClosed, "the fast request's pipe is still open after its request ended")
	waitDone(t, fastDone, "the fast request's pipe is never closed, even after the other request ended")
}

// "A file is never closed", the docs say (Config.Data, FormData), a file
// that cannot seek (os.Stdin on a pipe, an os.Pipe end) included.
func TestFileThatCannotSeekIsNotClosed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	t.Cleanup(srv.Close)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	go func() { _, _ = io.WriteString(w, "stdin bytes"); _ = w.Close() }()
	c := edgeClient(t, Config{BaseURL: srv.URL})
	_, err = c.Post(edgeCtx(t), "/upload", r)
	require.NoError(t, err)
	_, err = r.Stat()
	assert.False(t, errors.Is(err, os.ErrClosed), "the caller's *os.File was closed: %v", err)
}

// A tab in the URL is dropped, as WHATWG's parser drops it, the same with
// or without Params and through GetURI.
func TestQueryWithATabIsTheSameWithOrWithoutParams(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.RawQuery)
	}))
	t.Cleanup(srv.Close)
	c := edgeClient(t, Config{BaseURL: srv.URL})
	resp, errPlain := c.Get(edgeCtx(t), "/p?q=a\tb")
	require.NoError(t, errPlain)
	assert.Equal(t, "q=ab", string(resp.Data))
	_, errParams := c.Get(edgeCtx(t), "/p?q=a\tb", Config{Params: url.Values{"x": {"1"}}})
	_, errURI := c.GetURI(Config{URL: "/p?q=a\tb"})
	assert.Equal(t, errPlain == nil, errParams == nil, "without Params: %v; with Params: %v", errPlain, errParams)
	assert.Equal(t, errPlain == nil, errURI == nil, "Get: %v; GetURI: %v", errPlain, errURI)
}
