package axios

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// defaultAcceptEncoding is the Accept-Encoding of every client's defaults:
// the codings a response is decoded from. A request that sends any other
// value, its caller's own, gets the body as the server sent it; one that
// sends none gets net/http's behaviour (gzip, decoded by the Transport).
const defaultAcceptEncoding = "gzip, deflate, br, zstd"

// maxCodings bounds the codings undone on one body: each costs a decoder,
// and a header can list thousands. A longer list is left undecoded.
const maxCodings = 4

// zstdMaxWindow is the largest zstd window decoded, the limit RFC 9659 sets
// for the "zstd" content coding: a frame that asks for more fails before its
// window is allocated.
const zstdMaxWindow = 8 << 20

// errBadEncoding is the cause of a body its Content-Encoding cannot decode.
var errBadEncoding = errors.New("response body does not match its Content-Encoding")

var errReadAfterClose = errors.New("axios: read on closed response body")

// contentCodings returns the codings to undo on raw's body, in the order
// they were applied, or nil to leave the body as it came: the request sent
// an Accept-Encoding of its own, the body is empty (length 0: HEAD, 204,
// 304) or a range of the encoded bytes (206), a coding is unknown, or there
// are more than maxCodings.
func contentCodings(req *http.Request, raw *http.Response, length int64) []string {
	ce := raw.Header["Content-Encoding"]
	if len(ce) == 0 || length == 0 {
		return nil
	}
	if ae := req.Header["Accept-Encoding"]; len(ae) != 1 || ae[0] != defaultAcceptEncoding {
		return nil
	}
	switch raw.StatusCode {
	case http.StatusNoContent, http.StatusNotModified, http.StatusPartialContent:
		return nil
	}
	var codings []string
	for _, v := range ce {
		for token := range strings.SplitSeq(v, ",") {
			switch token = strings.ToLower(strings.TrimSpace(token)); token {
			case "", "identity":
			case "gzip", "x-gzip", "deflate", "br", "zstd":
				if len(codings) == maxCodings {
					return nil
				}
				codings = append(codings, token)
			default:
				return nil
			}
		}
	}
	return codings
}

// decodeReader undoes a body's content codings as it is read. The decoders
// are made on the first Read, not before: gzip's reads its header, which
// would block a stream before its caller has it. Close closes the body and
// then the decoders; it may run while another goroutine is in Read.
type decodeReader struct {
	body    io.ReadCloser
	wire    wireReader
	codings []string // as applied: the last is undone first

	mu      sync.Mutex // held by Read: Close frees no decoder in use
	r       io.Reader
	layers  []layer
	err     error
	drained bool // read past the decoded stream's end
}

// layer is one decoder, and the pool it goes back to (nil: none).
type layer struct {
	r    io.Reader
	pool *sync.Pool
}

func newDecodeReader(body io.ReadCloser, codings []string) *decodeReader {
	return &decodeReader{body: body, wire: wireReader{r: body}, codings: codings}
}

func (d *decodeReader) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.r == nil && d.err == nil {
		d.err = d.open()
	}
	if d.err != nil {
		return 0, d.err
	}
	n, err := d.r.Read(p)
	switch {
	case err == io.EOF && !d.drained:
		// A deflate stream ends before the body does (its chunked
		// terminator may still be on its way): read on to the body's end,
		// a little at most, so net/http can reuse the connection.
		d.drained = true
		_, _ = io.CopyN(io.Discard, &d.wire, drainLimit)
	case err != nil && err != io.EOF:
		err = d.failure(err)
		d.err = err
	}
	return n, err
}

// drainLimit bounds what is read past a decoded stream's end for the
// connection's sake.
const drainLimit = 4 << 10

// open makes the decoders, innermost (the last coding applied) first. A body
// with no bytes at all decodes to nothing, as net/http's gzip does.
func (d *decodeReader) open() error {
	src := bufio.NewReader(&d.wire)
	if _, err := src.Peek(1); err != nil {
		return d.failure(err)
	}
	var r io.Reader = src
	for i := len(d.codings) - 1; i >= 0; i-- {
		l, err := newDecoder(d.codings[i], r)
		if err != nil {
			return d.failure(err)
		}
		d.layers = append(d.layers, l)
		r = l.r
	}
	d.r = r
	return nil
}

// failure is what a read that failed with err returns: the body's own
// error when the connection failed (so the client sees a network error or
// its timeout), io.EOF for an empty stream, else err marked errBadEncoding.
func (d *decodeReader) failure(err error) error {
	switch {
	case d.wire.err != nil:
		return d.wire.err
	case err == io.EOF:
		return io.EOF
	}
	return &decodeError{codings: d.codings, err: err}
}

func (d *decodeReader) Close() error {
	// The body first: a Read blocked on it returns, and lets go of the lock.
	err := d.body.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range d.layers {
		if c, ok := l.r.(io.Closer); ok {
			_ = c.Close()
		}
		if l.pool != nil {
			l.pool.Put(l.r)
		}
	}
	d.r, d.layers, d.err = nil, nil, errReadAfterClose
	return err
}

// Decoders of gzip and deflate hold a fixed 32 KiB window and tables, and
// making one costs more than the rest of a small request: they are reused.
// Those of br and zstd are not: their memory follows the stream's window,
// up to MiBs, which a pool would keep alive.
var gzipReaders, zlibReaders, flateReaders sync.Pool

func newDecoder(coding string, r io.Reader) (layer, error) {
	switch coding {
	case "gzip", "x-gzip":
		var err error
		zr, ok := gzipReaders.Get().(*gzip.Reader)
		if ok {
			err = zr.Reset(r)
		} else {
			zr, err = gzip.NewReader(r)
		}
		return layer{zr, &gzipReaders}, err
	case "deflate":
		// Servers send deflate as RFC 1950 says (zlib-wrapped) or as raw
		// RFC 1951 data; axios, browsers and curl accept both.
		br, ok := r.(*bufio.Reader)
		if !ok {
			br = bufio.NewReader(r)
		}
		if b, _ := br.Peek(2); isZlibHeader(b) {
			var err error
			zr, ok := zlibReaders.Get().(io.ReadCloser)
			if ok {
				err = zr.(zlib.Resetter).Reset(br, nil)
			} else {
				zr, err = zlib.NewReader(br)
			}
			return layer{zr, &zlibReaders}, err
		}
		fr, ok := flateReaders.Get().(io.ReadCloser)
		if ok {
			_ = fr.(flate.Resetter).Reset(br, nil) // reads nothing, fails never
		} else {
			fr = flate.NewReader(br)
		}
		return layer{fr, &flateReaders}, nil
	case "br":
		return layer{r: brotli.NewReader(r)}, nil
	case "zstd":
		// One goroutine-free decoder whose window, and so memory, is
		// bounded; MaxMemory is the window's bound too when streaming.
		zr, err := zstd.NewReader(r,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(zstdMaxWindow),
			zstd.WithDecoderMaxMemory(zstdMaxWindow))
		if err != nil {
			return layer{}, err
		}
		return layer{r: zr.IOReadCloser()}, nil
	}
	return layer{}, errors.New("no decoder for " + coding) // contentCodings lets none through
}

// isZlibHeader reports whether b starts an RFC 1950 stream: method 8
// (deflate), a window of at most 32 KiB, and a header check that divides
// by 31.
func isZlibHeader(b []byte) bool {
	return len(b) == 2 && b[0]&0x0f == 8 && b[0]>>4 <= 7 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0
}

// wireReader remembers the body's own read error, so that a connection
// that fails is told apart from a body its decoder refuses.
type wireReader struct {
	r   io.Reader
	err error
}

func (w *wireReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if err != nil && err != io.EOF {
		w.err = err
	}
	return n, err
}

// decodeError is a body its Content-Encoding cannot decode; it wraps
// errBadEncoding and the decoder's error.
type decodeError struct {
	codings []string
	err     error
}

func (e *decodeError) Error() string {
	return "decode response body (Content-Encoding: " + strings.Join(e.codings, ", ") + "): " + e.err.Error()
}

func (e *decodeError) Unwrap() []error { return []error{errBadEncoding, e.err} }
