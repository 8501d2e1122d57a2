package axios_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/axiosgo/axios"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Responses are decoded from the codings the default Accept-Encoding names,
// as axios's Node adapter decodes them (lib/adapters/http.js).

var plain = bytes.Repeat([]byte(`{"id":1,"name":"kim"},`), 200)

func encode(t testing.TB, coding string, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zlib":
		w = zlib.NewWriter(&buf)
	case "flate":
		w, _ = flate.NewWriter(&buf, flate.DefaultCompression)
	case "br":
		w = brotli.NewWriter(&buf)
	case "zstd":
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		require.NoError(t, err)
		defer enc.Close()
		return enc.EncodeAll(b, nil)
	default:
		t.Fatalf("no encoder for %q", coding)
	}
	_, err := w.Write(b)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// codedServer answers every request with body and these Content-Encoding
// lines, and keeps the last request's Accept-Encoding.
func codedServer(t *testing.T, body []byte, encodings ...string) (*httptest.Server, func() []string) {
	t.Helper()
	var accept atomic.Pointer[[]string]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ae := r.Header.Values("Accept-Encoding")
		accept.Store(&ae)
		w.Header()["Content-Encoding"] = encodings
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { return *accept.Load() }
}

func TestEachCodingIsDecoded(t *testing.T) {
	for _, tc := range []struct{ name, header, encoder string }{
		{"gzip", "gzip", "gzip"},
		{"x-gzip", "x-gzip", "gzip"},
		{"deflate as zlib", "deflate", "zlib"},
		{"deflate raw", "deflate", "flate"},
		{"br", "br", "br"},
		{"zstd", "zstd", "zstd"},
		{"upper case", "GZIP", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, accept := codedServer(t, encode(t, tc.encoder, plain), tc.header)
			c := newClient(t, axios.Config{BaseURL: srv.URL})

			resp, err := c.Get(ctx, "/")
			require.NoError(t, err)
			assert.Equal(t, string(plain), string(resp.Data))
			assert.Equal(t, []string{"gzip, deflate, br, zstd"}, accept())
			assert.Empty(t, resp.Headers.Values("Content-Encoding"), "it describes bytes no longer there")
			assert.Empty(t, resp.Headers.Values("Content-Length"))
			assert.Equal(t, "application/json", resp.Headers.Get("Content-Type"), "other headers stay")
		})
	}
}

func TestCallerAcceptEncodingGetsTheRawBody(t *testing.T) {
	gz := encode(t, "gzip", plain)
	srv, accept := codedServer(t, gz, "gzip")

	for name, cfg := range map[string]axios.Config{
		"request":  {},
		"instance": {Headers: http.Header{"Accept-Encoding": {"gzip"}}},
	} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, axios.Config{BaseURL: srv.URL, Headers: cfg.Headers})
			var req axios.Config
			if name == "request" {
				req.Headers = http.Header{"accept-encoding": {"gzip"}}
			}
			resp, err := c.Get(ctx, "/", req)
			require.NoError(t, err)
			assert.Equal(t, []string{"gzip"}, accept())
			assert.Equal(t, gz, resp.Data, "the bytes as the server sent them")
			assert.Equal(t, "gzip", resp.Headers.Get("Content-Encoding"))
			assert.Equal(t, strconv.Itoa(len(gz)), resp.Headers.Get("Content-Length"))
		})
	}
}

// A client whose defaults have no Accept-Encoding leaves it to net/http's
// Transport, which asks for gzip and decodes it.
func TestRemovedAcceptEncodingLeavesItToTheTransport(t *testing.T) {
	srv, accept := codedServer(t, encode(t, "gzip", plain), "gzip")
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	c.Defaults.Headers.Del("Accept-Encoding")

	resp, err := c.Get(ctx, "/")
	require.NoError(t, err)
	assert.Equal(t, []string{"gzip"}, accept())
	assert.Equal(t, string(plain), string(resp.Data))
	assert.Empty(t, resp.Headers.Values("Content-Encoding"))
}

// Codings are listed in the order they were applied, in one line or many,
// and are undone last first.
func TestMultipleCodingsAreUndoneInReverse(t *testing.T) {
	for _, tc := range []struct {
		name      string
		encodings []string
		body      []byte
	}{
		{"gzip, br", []string{"gzip, br"}, encode(t, "br", encode(t, "gzip", plain))},
		{"two lines", []string{"deflate", "zstd"}, encode(t, "zstd", encode(t, "zlib", plain))},
		{"with identity", []string{"identity, gzip"}, encode(t, "gzip", plain)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := codedServer(t, tc.body, tc.encodings...)
			c := newClient(t, axios.Config{BaseURL: srv.URL})

			resp, err := c.Get(ctx, "/")
			require.NoError(t, err)
			assert.Equal(t, string(plain), string(resp.Data))
			assert.Empty(t, resp.Headers.Values("Content-Encoding"))
		})
	}
}

// A body this client cannot decode whole comes back as the server sent it,
// with its Content-Encoding, for the caller to decode.
func TestUndecodableCodingsLeaveTheBodyRaw(t *testing.T) {
	gz := encode(t, "gzip", plain)
	five := plain
	for range 5 {
		five = encode(t, "gzip", five)
	}
	for _, tc := range []struct {
		name      string
		encodings []string
		body      []byte
		status    int
	}{
		{"unknown", []string{"compress"}, []byte("LZW bytes"), 200},
		{"one unknown of two", []string{"gzip, foo"}, []byte("foo bytes"), 200},
		{"identity", []string{"identity"}, plain, 200},
		{"more than four", []string{"gzip, gzip, gzip, gzip, gzip"}, five, 200},
		{"a range of the encoded bytes", []string{"gzip"}, gz[:40], http.StatusPartialContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header()["Content-Encoding"] = tc.encodings
				w.WriteHeader(tc.status)
				_, _ = w.Write(tc.body)
			}))
			t.Cleanup(srv.Close)
			c := newClient(t, axios.Config{BaseURL: srv.URL})

			resp, err := c.Get(ctx, "/")
			require.NoError(t, err)
			assert.Equal(t, tc.body, resp.Data)
			assert.Equal(t, tc.encodings, resp.Headers.Values("Content-Encoding"))
		})
	}
}

// A body its Content-Encoding cannot decode is a bad response, as is one
// over MaxContentLength: the response arrived, its body is unusable.
func TestCorruptBodyIsBadResponse(t *testing.T) {
	for _, tc := range []struct {
		name, coding string
		body         []byte
	}{
		{"gzip garbage", "gzip", []byte("not gzip at all")},
		{"gzip truncated", "gzip", encode(t, "gzip", plain)[:30]},
		{"deflate garbage", "deflate", []byte{0xff, 0xff, 0xff}},
		{"deflate truncated", "deflate", encode(t, "zlib", plain)[:30]},
		{"br truncated", "br", encode(t, "br", plain)[:10]},
		{"zstd garbage", "zstd", []byte("not zstd")},
		{"zstd truncated", "zstd", encode(t, "zstd", plain)[:20]},
		{"gzip inside br", "gzip, br", encode(t, "br", []byte("not gzip inside"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := codedServer(t, tc.body, tc.coding)
			c := newClient(t, axios.Config{BaseURL: srv.URL})

			_, err := c.Get(ctx, "/")
			axErr, ok := axios.AsError(err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, axios.CodeBadResponse, axErr.Code)
			assert.Contains(t, axErr.Message, "decode response body (Content-Encoding: "+tc.coding+"): ")
			require.NotNil(t, axErr.Response)
			assert.Equal(t, 200, axErr.Response.Status)
		})
	}
}

// A connection lost halfway through a compressed body is a network error,
// as it is for any body, not a corrupt encoding.
func TestConnectionLostMidBodyIsNetworkError(t *testing.T) {
	gz := encode(t, "gzip", plain)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = rw.WriteString("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + strconv.Itoa(len(gz)) + "\r\n\r\n")
		_, _ = rw.Write(gz[:len(gz)/2])
		_ = rw.Flush()
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	_, err := c.Get(ctx, "/")
	axErr, ok := axios.AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, axios.CodeNetwork, axErr.Code, axErr.Message)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// zstdZeros is a zstd frame of n zero bytes, in RLE blocks of 128 KiB that
// take 4 bytes each: 1 GiB in 32 KiB.
func zstdZeros(n int) []byte {
	const block = 128 << 10
	b := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 7 << 3} // magic, no size or checksum, a 128 KiB window
	for n > 0 {
		size := min(n, block)
		n -= size
		h := size<<3 | 1<<1 // an RLE block
		if n == 0 {
			h |= 1 // the last
		}
		b = append(b, byte(h), byte(h>>8), byte(h>>16), 0)
	}
	return b
}

// gzipZeros answers with a gzip stream of n zero bytes, compressed as the
// client reads it, and counts the zeros it compressed.
type gzipZeros struct {
	n    int64
	fed  atomic.Int64
	done chan struct{}
}

func (g *gzipZeros) RoundTrip(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	go func() {
		defer close(g.done)
		zw, _ := gzip.NewWriterLevel(pw, gzip.BestCompression)
		chunk := make([]byte, 64<<10)
		var err error
		for left := g.n; left > 0 && err == nil; left -= int64(len(chunk)) {
			_, err = zw.Write(chunk)
			g.fed.Add(int64(len(chunk)))
		}
		if err == nil {
			err = zw.Close()
		}
		_ = pw.CloseWithError(err)
	}()
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Encoding": {"gzip"}}, Body: pr, ContentLength: -1, Request: req,
	}, nil
}

// MaxContentLength caps the decoded body: a small body that would decode to
// 1 GiB fails as soon as it passes the cap, having held little memory.
func TestDecompressionBombIsCapped(t *testing.T) {
	const limit = 1 << 20
	bomb := zstdZeros(1 << 30)
	require.Less(t, len(bomb), 33<<10)
	srv, _ := codedServer(t, bomb, "zstd")
	gz := &gzipZeros{n: 1 << 30, done: make(chan struct{})}
	gzClient := newClient(t, axios.Config{MaxContentLength: limit})
	gzClient.Resty().SetTransport(gz)

	for name, get := range map[string]func() error{
		"zstd, 32 KiB": func() error {
			_, err := newClient(t, axios.Config{MaxContentLength: limit}).Get(ctx, srv.URL)
			return err
		},
		"gzip, streamed": func() error {
			_, err := gzClient.Get(ctx, "http://bomb.test/")
			<-gz.done
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			err := get()
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)

			axErr, ok := axios.AsError(err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, axios.CodeBadResponse, axErr.Code)
			assert.Equal(t, "maxContentLength size of 1048576 exceeded", axErr.Message)
			allocated := after.TotalAlloc - before.TotalAlloc
			assert.Less(t, allocated, uint64(24<<20), "allocated %d bytes", allocated)
			assert.Less(t, elapsed, 10*time.Second)
			t.Logf("allocated %d KiB in %v", allocated>>10, elapsed)
		})
	}
	assert.Less(t, gz.fed.Load(), int64(64<<20), "the stream was compressed only as far as it was read")
	t.Logf("gzip: %d KiB of zeros compressed", gz.fed.Load()>>10)

	t.Run("a smaller bomb decodes", func(t *testing.T) {
		srv, _ := codedServer(t, zstdZeros(300_000), "zstd")
		resp, err := newClient(t, axios.Config{}).Get(ctx, srv.URL)
		require.NoError(t, err)
		assert.Equal(t, make([]byte, 300_000), resp.Data)
	})
}

// A zstd frame that asks for a window over 8 MiB (RFC 9659's limit for the
// content coding) is refused before the window is allocated; so is a
// single-segment frame, whose window is its whole content, over 8 MiB.
func TestZstdWindowOverTheLimitIsRefused(t *testing.T) {
	for name, frame := range map[string][]byte{
		"1 GiB window":         {0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3, 0x09, 0x00, 0x00, 'x'},
		"1 GiB single segment": {0x28, 0xb5, 0x2f, 0xfd, 2<<6 | 1<<5, 0x00, 0x00, 0x00, 0x40, 0x09, 0x00, 0x00, 'x'},
	} {
		t.Run(name, func(t *testing.T) {
			srv, _ := codedServer(t, frame, "zstd")
			c := newClient(t, axios.Config{BaseURL: srv.URL})

			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.Get(ctx, "/")
			runtime.ReadMemStats(&after)
			axErr, ok := axios.AsError(err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, axios.CodeBadResponse, axErr.Code, axErr.Message)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20))
			t.Log(axErr.Message)
		})
	}
}

// A stream's Body is the decoded stream, handed over before the body
// arrives; closing it closes the decoder and the body from the wire.
func TestStreamIsDecoded(t *testing.T) {
	release := make(chan struct{})
	zs := encode(t, "zstd", plain)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "zstd")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		<-release
		_, _ = w.Write(zs)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL, ResponseType: axios.ResponseStream})

	resp, err := c.Get(ctx, "/")
	require.NoError(t, err, "the response comes before its body")
	close(release)
	assert.Empty(t, resp.Headers.Values("Content-Encoding"))
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, string(plain), string(got))
	require.NoError(t, resp.Body.Close())

	t.Run("close", func(t *testing.T) {
		closed := make(chan struct{})
		c := newClient(t, axios.Config{ResponseType: axios.ResponseStream})
		c.Resty().SetTransport(roundTripFunc(func(req *http.Request) (*http.Response, error) {
			return &http.Response{
				StatusCode: 200, Header: http.Header{"Content-Encoding": {"gzip"}}, ContentLength: -1, Request: req,
				Body: &closeSpy{Reader: bytes.NewReader(encode(t, "gzip", plain)), closed: closed},
			}, nil
		}))
		resp, err := c.Get(ctx, "http://stream.test/")
		require.NoError(t, err)
		b := make([]byte, 10)
		_, err = io.ReadFull(resp.Body, b)
		require.NoError(t, err)
		assert.Equal(t, plain[:10], b)
		require.NoError(t, resp.Body.Close())
		select {
		case <-closed:
		default:
			t.Fatal("the body from the wire was not closed")
		}
		_, err = resp.Body.Read(b)
		assert.Error(t, err, "a closed stream reads nothing more")
	})
}

// A stream may be closed while another goroutine is blocked in its Read,
// as net/http's bodies may: the Read returns, and nothing races.
func TestStreamClosedDuringRead(t *testing.T) {
	gz := encode(t, "gzip", plain)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(gz[:len(gz)/2])
		w.(http.Flusher).Flush()
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := newClient(t, axios.Config{BaseURL: srv.URL, ResponseType: axios.ResponseStream})

	resp, err := c.Get(ctx, "/")
	require.NoError(t, err)
	done := make(chan error)
	go func() {
		_, err := io.ReadAll(resp.Body)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the reader block for the rest
	require.NoError(t, resp.Body.Close())
	select {
	case err := <-done:
		assert.Error(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return after Close")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// Responses without a body may still name a Content-Encoding (HEAD's is the
// resource's); they succeed with no Data and keep it.
func TestBodilessResponsesWithContentEncodingSucceed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		switch r.URL.Path {
		case "/head":
			w.Header().Set("Content-Length", "1234")
		case "/204":
			w.WriteHeader(http.StatusNoContent)
		case "/304":
			w.WriteHeader(http.StatusNotModified)
		case "/empty":
			w.Header().Set("Content-Length", "0")
		case "/empty-chunked":
			w.Header().Set("Content-Encoding", "br")
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, axios.Config{BaseURL: srv.URL, ValidateStatus: func(int) bool { return true }})

	resp, err := c.Head(ctx, "/head")
	require.NoError(t, err)
	assert.Empty(t, resp.Data)
	assert.Equal(t, "gzip", resp.Headers.Get("Content-Encoding"))
	assert.Equal(t, "1234", resp.Headers.Get("Content-Length"))

	for _, p := range []string{"/204", "/304", "/empty"} {
		resp, err := c.Get(ctx, p)
		require.NoError(t, err, p)
		assert.Empty(t, resp.Data, p)
		assert.Equal(t, "gzip", resp.Headers.Get("Content-Encoding"), p)
	}
	// As net/http's gzip: a body with no bytes at all decodes to nothing.
	resp, err = c.Get(ctx, "/empty-chunked")
	require.NoError(t, err)
	assert.Empty(t, resp.Data)
	resp, err = c.Get(ctx, "/empty-chunked", axios.Config{ResponseType: axios.ResponseStream})
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Empty(t, got)
	require.NoError(t, resp.Body.Close())
}

// Download progress counts the bytes as they arrive, before decoding, as
// axios does: Total is the Content-Length, which counts the same bytes.
func TestDownloadProgressCountsBytesOnTheWire(t *testing.T) {
	gz := encode(t, "gzip", plain)
	srv, _ := codedServer(t, gz, "gzip")
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	var last axios.Progress
	resp, err := c.Get(ctx, "/", axios.Config{OnDownloadProgress: func(p axios.Progress) { last = p }})
	require.NoError(t, err)
	assert.Equal(t, string(plain), string(resp.Data))
	assert.Equal(t, int64(len(gz)), last.Loaded)
	assert.Equal(t, int64(len(gz)), last.Total)
}

// BenchmarkGetDecoded is a GET of a 4 KiB JSON body sent in each coding, on
// a RoundTripper that never touches the network: what decoding adds to
// BenchmarkGet/nonet/axios.
func BenchmarkGetDecoded(b *testing.B) {
	for _, tc := range []struct{ coding, encoder string }{
		{"identity", ""}, {"gzip", "gzip"}, {"deflate", "zlib"}, {"br", "br"}, {"zstd", "zstd"},
	} {
		body := plain
		if tc.encoder != "" {
			body = encode(b, tc.encoder, plain)
		}
		b.Run(tc.coding, func(b *testing.B) {
			c := axios.Create(axios.Config{})
			c.Resty().SetTransport(roundTripFunc(func(req *http.Request) (*http.Response, error) {
				return &http.Response{
					StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
					Header:        http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {tc.coding}},
					Body:          io.NopCloser(bytes.NewReader(body)),
					ContentLength: int64(len(body)), Request: req,
				}, nil
			}))
			b.ReportAllocs()
			for b.Loop() {
				resp, err := c.Get(ctx, "http://bench.test/users")
				if err != nil || len(resp.Data) != len(plain) {
					b.Fatal(err)
				}
			}
		})
	}
}
