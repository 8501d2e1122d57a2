package axios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// maxReplay is how much of a one-shot io.Reader body is kept so that a
// retry of the request can send the same bytes again. It is a variable so
// that tests can lower it.
var maxReplay = 1 << 20

// replayError is a retry's failure when a body cannot be sent again: more
// than maxReplay bytes of a one-shot io.Reader were read, and the start of
// them is gone.
type replayError struct {
	part string // the FormData part the reader is, or "" for Config.Data
}

// Is reports whether target is [ErrNotReplayable].
func (e *replayError) Is(target error) bool { return target == ErrNotReplayable }

func (e *replayError) Error() string {
	what := "its io.Reader"
	fix := "give Data as a []byte or an io.ReadSeeker (an *os.File)"
	if e.part != "" {
		what = "the io.Reader of FormData part " + strconv.Quote(e.part)
		fix = "give AppendFile an io.ReadSeeker (an *os.File, a *bytes.Reader)"
	}
	return fmt.Sprintf("request body could not be read again for a retry: more than %s was read from %s, and only that much is kept; %s to resend a longer body", sizeText(maxReplay), what, fix)
}

func sizeText(n int) string {
	if n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// errSuperseded fails an attempt that net/http still writes after a newer
// attempt of the same request took over its one-shot reader.
var errSuperseded = errors.New("request body taken over by a newer attempt")

// bodySource is a body that each attempt of a request reads from its
// start: open returns a reader of its own. It is safe for concurrent use:
// net/http may still be writing one attempt when it opens the next (a 307,
// a retry on a new connection).
type bodySource interface {
	open() (io.Reader, error)
}

// bodyState is what the attempts of one Config share about its body. A
// copied Config (a retry through the instance) shares it, so every attempt
// sends the same bytes.
type bodyState struct {
	data any // the Data it was made for; an interceptor may set another
	src  bodySource
	n    int64 // length, or -1 when unknown
}

// bodyReader is one attempt's request body. It reports upload progress and
// ignores Close, so net/http never closes a caller's file that a retry will
// read again.
type bodyReader struct {
	src      io.Reader
	data     []byte     // a body of bytes, reread from here; else
	source   bodySource // what a new attempt opens
	n        int64      // length, or -1 when unknown
	loaded   int64
	progress *uploadProgress // nil without Config.OnUploadProgress
}

// uploadProgress is a request's OnUploadProgress, shared by its attempts'
// readers, with the panic it raised, if any: net/http may end the request
// with the response before it sees the read error that panic became.
type uploadProgress struct {
	fn       func(Progress)
	panicked atomic.Pointer[PanicError]
	ended    atomic.Bool // the attempt has its outcome: net/http may still read, unreported
}

// endProgress stops the upload progress of body, an attempt's request body,
// once the attempt has its outcome: net/http may go on reading the body
// after a response came (a 401 before the upload ended), and the caller
// must not hear of it after Request returned, or alongside a retry's.
func endProgress(body io.ReadCloser) {
	if b, ok := body.(*bodyReader); ok && b.progress != nil {
		b.progress.ended.Store(true)
	}
}

func newUploadProgress(fn func(Progress)) *uploadProgress {
	if fn == nil {
		return nil
	}
	return &uploadProgress{fn: fn}
}

// panicOf returns the panic an OnUploadProgress of body raised, if any.
func panicOf(body io.ReadCloser) *PanicError {
	if b, ok := body.(*bodyReader); ok && b.progress != nil {
		return b.progress.panicked.Load()
	}
	return nil
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.src.Read(p)
	if n > 0 && b.progress != nil && !b.progress.ended.Load() {
		b.loaded += int64(n)
		if perr := report("Config.OnUploadProgress", b.progress.fn, Progress{Loaded: b.loaded, Total: b.n, Bytes: n, Upload: true}); perr != nil {
			b.progress.panicked.CompareAndSwap(nil, perr)
			return 0, perr
		}
	}
	return n, err
}

func (b *bodyReader) Close() error { return nil }

// again is the request's GetBody: a new reader of the same bytes, for a
// redirect (307, 308) or net/http's own retry, sharing no read position with
// the previous one, which net/http may still be writing.
func (b *bodyReader) again() (io.ReadCloser, error) {
	nb := &bodyReader{data: b.data, source: b.source, n: b.n, progress: b.progress}
	if b.source == nil {
		nb.src = bytes.NewReader(b.data)
		return nb, nil
	}
	src, err := b.source.open()
	if err != nil {
		return nil, err
	}
	nb.src = src
	return nb, nil
}

// encodeBody turns cfg.Data into a body and sets its Content-Type when the
// headers have none (a form's multipart boundary also when they have one
// without it). A reader's state goes into cfg, so a copy of cfg resent
// sends the same bytes.
func encodeBody(cfg *Config) (*bodyReader, error) {
	switch v := cfg.Data.(type) {
	case nil:
		return nil, nil
	case []byte:
		return bytesBody(cfg, v, "application/octet-stream")
	case string:
		return bytesBody(cfg, []byte(v), "text/plain; charset=utf-8")
	case json.RawMessage:
		return bytesBody(cfg, v, "application/json")
	case url.Values:
		if formKindOf(cfg) == formMultipart {
			return multipartBody(cfg, valuesFields(v))
		}
		return bytesBody(cfg, []byte(v.Encode()), formURLEncodedType)
	case *FormData:
		if v == nil {
			return nil, errors.New("a nil *axios.FormData as Data: give a FormData from NewFormData")
		}
		return v.body(cfg)
	case *bytes.Buffer:
		if v == nil {
			return nil, errors.New("a nil *bytes.Buffer as Data")
		}
		// As http.NewRequest: its unread bytes, left unread in it.
		return bytesBody(cfg, v.Bytes(), "application/octet-stream")
	case io.Reader:
		if isNilValue(v) {
			return nil, fmt.Errorf("a nil %T as Data", v)
		}
		return streamBody(cfg, v)
	}
	if reflect.TypeOf(cfg.Data) == reflect.TypeFor[FormData]() {
		return nil, errors.New("a FormData is sent by pointer: give Data a *FormData")
	}
	switch formKindOf(cfg) {
	case formURLEncoded:
		fields, err := formFields(cfg.Data)
		if err != nil {
			return nil, err
		}
		return bytesBody(cfg, urlEncode(fields), formURLEncodedType)
	case formMultipart:
		fields, err := formFields(cfg.Data)
		if err != nil {
			return nil, err
		}
		return multipartBody(cfg, fields)
	}
	b, err := marshalJSON(cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("encode request body as JSON: %w", err)
	}
	return bytesBody(cfg, b, "application/json")
}

func bytesBody(cfg *Config, data []byte, ctype string) (*bodyReader, error) {
	if err := checkBoundary(cfg); err != nil {
		return nil, err
	}
	setDefaultContentType(cfg, ctype)
	return &bodyReader{src: bytes.NewReader(data), data: data, n: int64(len(data)), progress: newUploadProgress(cfg.OnUploadProgress)}, nil
}

// streamBody sends r as it is read. An io.ReadSeeker is sent from where it
// was at the first attempt to its end, and read again from there; any
// other reader is kept as it is read, up to maxReplay bytes, for a retry.
func streamBody(cfg *Config, r io.Reader) (*bodyReader, error) {
	if err := checkBoundary(cfg); err != nil {
		return nil, err
	}
	st := cfg.body
	if st == nil || !sameData(st.data, cfg.Data) {
		src, n := newSource(r, "")
		st = &bodyState{data: cfg.Data, src: src, n: n}
		cfg.body = st
	}
	rd, err := st.src.open()
	if err != nil {
		return nil, err
	}
	setDefaultContentType(cfg, "application/octet-stream")
	return &bodyReader{src: rd, source: st.src, n: st.n, progress: newUploadProgress(cfg.OnUploadProgress)}, nil
}

// isNilValue reports whether v holds a nil pointer, map, slice, func,
// channel or interface: a reader that would panic on its first Read.
func isNilValue(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// sameData reports whether a and b are the same Data, without the panic
// of == on values that cannot be compared.
func sameData(a, b any) bool {
	return reflect.TypeOf(a) == reflect.TypeOf(b) && reflect.ValueOf(a).Comparable() && a == b
}

// newSource makes r a body each attempt can read from its start. part names
// the FormData part r is, for errors.
func newSource(r io.Reader, part string) (bodySource, int64) {
	if isNilValue(r) {
		r = nil // a typed nil, such as a nil *bytes.Buffer: no content
	}
	switch v := r.(type) {
	case nil:
		return &sectionSource{ra: bytes.NewReader(nil)}, 0
	case *bytes.Buffer:
		b := v.Bytes()
		return &sectionSource{ra: bytes.NewReader(b), n: int64(len(b))}, int64(len(b))
	case io.ReadSeeker:
		if src, ok := seekSource(v); ok {
			return src, src.n
		}
	}
	return newOnceSource(r, part), -1
}

// seekSource is rs from where it is to its end. ok is false when rs cannot
// seek after all (an *os.File on a pipe or a terminal).
func seekSource(rs io.ReadSeeker) (src *sectionSource, ok bool) {
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, false
	}
	end, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, false
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return nil, false
	}
	ra, ok := rs.(io.ReaderAt)
	if !ok {
		ra = &seekReaderAt{rs: rs}
	}
	return &sectionSource{ra: ra, off: start, n: end - start}, true
}

// sectionSource is a body of known length read with ReadAt (an *os.File, a
// *bytes.Reader): attempts share no read position, so one that net/http
// still writes never disturbs the next.
type sectionSource struct {
	ra  io.ReaderAt
	off int64
	n   int64
}

func (s *sectionSource) open() (io.Reader, error) {
	return io.NewSectionReader(s.ra, s.off, s.n), nil
}

// seekReaderAt reads an io.ReadSeeker that is no io.ReaderAt at an offset,
// under a lock, so attempts read it as they would an *os.File.
type seekReaderAt struct {
	mu sync.Mutex
	rs io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.rs.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := io.ReadFull(s.rs, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

// onceSource is a one-shot io.Reader, a pipe or a network stream, that
// several attempts can read in turn. It keeps what it reads, up to
// maxReplay bytes, and an attempt reads the kept bytes before reading on
// from the source. Only the newest attempt reads: one that net/http still
// writes after a newer one opened fails with errSuperseded, and a read of
// the source that it had under way is kept for the newer one. Once more
// than maxReplay bytes were read, no new attempt opens: a retry fails
// rather than send a partial body.
type onceSource struct {
	src  io.Reader
	part string

	mu      sync.Mutex
	cond    sync.Cond   // signals the end of a read of src
	kept    []byte      // every byte read from src, unless lost
	lost    bool        // more than maxReplay bytes were read
	reading bool        // a Read of src is under way, outside mu
	err     error       // src's last error: io.EOF at its end
	owner   *onceReader // the newest attempt
	holds   int         // Request calls that sent src and have not ended
	closed  bool        // src was closed when the last of them ended
}

func newOnceSource(r io.Reader, part string) *onceSource {
	s := &onceSource{src: r, part: part}
	s.cond.L = &s.mu
	return s
}

func (s *onceSource) open() (io.Reader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.lost:
		return nil, &replayError{part: s.part}
	case s.err != nil && s.err != io.EOF:
		return nil, fmt.Errorf("read request body: %w", s.err)
	}
	r := &onceReader{s: s}
	s.owner = r
	return r, nil
}

// hold counts one more Request call that sent s and has not ended.
func (s *onceSource) hold() {
	s.mu.Lock()
	s.holds++
	s.mu.Unlock()
}

// release ends one hold; the last closes src, as net/http closes a
// request's body when it is done with it, so the goroutine that feeds a
// pipe sees its Write fail rather than block for ever. No attempt reads
// src after that: a retry sends what was kept of it, or fails.
func (s *onceSource) release() {
	s.mu.Lock()
	s.holds--
	last := s.holds <= 0 && !s.closed
	if last {
		s.closed = true
	}
	s.mu.Unlock()
	if last {
		closeReader(s.src)
	}
}

// interrupt closes src when a request that sends it ends its wait
// (Timeout, cancellation) while a Read of src is stuck: net/http waits for
// its body's Read before it returns, and a stalled producer would hold the
// request for ever. With no Read under way there is nothing to unblock,
// and a retry may still send src (a connect timeout). A file is the
// caller's and is left alone, as closeReader does.
func (s *onceSource) interrupt() {
	s.mu.Lock()
	first := !s.closed && s.reading
	if first {
		s.closed = true
	}
	s.mu.Unlock()
	if first {
		closeReader(s.src)
	}
}

// closeReader closes r when it is an io.Closer that is not a file: a file
// (any io.Seeker, os.Stdin on a pipe too) is the caller's. A Close that
// panics (a typed nil) is ignored: the request has ended.
func closeReader(r io.Reader) {
	c, ok := r.(io.Closer)
	if !ok || isNilValue(r) {
		return
	}
	if _, seeks := r.(io.Seeker); seeks {
		return
	}
	defer func() { _ = recover() }()
	_ = c.Close()
}

// oneShotSources are the one-shot readers of cfg's Data: a FormData's
// parts', or Data's own once a dispatch opened it. unopened is a reader
// Data that no dispatch opened. Any other Data costs a type switch.
func oneShotSources(cfg *Config) (srcs []*onceSource, unopened io.Reader) {
	switch d := cfg.Data.(type) {
	case nil, []byte, string:
		return nil, nil
	case *FormData:
		if d == nil {
			return nil, nil
		}
		for _, p := range d.parts {
			if s, ok := p.src.(*onceSource); ok {
				srcs = append(srcs, s)
			}
		}
		return srcs, nil
	case io.Reader:
		st := cfg.body
		if st == nil || !sameData(st.data, d) {
			return nil, d
		}
		if s, ok := st.src.(*onceSource); ok {
			return []*onceSource{s}, nil
		}
	}
	return nil, nil
}

// holdOneShot holds the one-shot readers a dispatch of cfg sent.
func holdOneShot(cfg *Config) []*onceSource {
	srcs, _ := oneShotSources(cfg)
	for _, s := range srcs {
		s.hold()
	}
	return srcs
}

// closeUnsent closes the one-shot readers of a Config that was never sent
// (an interceptor failed the request first), as net/http closes a body it
// never sent; one that a request under way still holds is left to it.
func closeUnsent(cfg *Config) {
	srcs, unopened := oneShotSources(cfg)
	for _, s := range srcs {
		s.hold()
		s.release() // closes it unless another request holds it
	}
	if unopened != nil {
		closeReader(unopened)
	}
}

// releaseOnClose is a response stream whose Close also ends the request's
// holds on its one-shot readers: a full-duplex upload goes on while the
// response is read.
type releaseOnClose struct {
	io.ReadCloser
	once  sync.Once
	holds []*onceSource
}

func (r *releaseOnClose) Close() error {
	err := r.ReadCloser.Close()
	r.once.Do(func() {
		for _, s := range r.holds {
			s.release()
		}
	})
	return err
}

type onceReader struct {
	s   *onceSource
	pos int // bytes of kept read by this attempt
}

func (r *onceReader) Read(p []byte) (int, error) {
	s := r.s
	s.mu.Lock()
	for {
		if r != s.owner {
			s.mu.Unlock()
			return 0, errSuperseded
		}
		if r.pos < len(s.kept) {
			n := copy(p, s.kept[r.pos:])
			r.pos += n
			if s.lost && r.pos == len(s.kept) {
				s.kept = nil // the newest attempt is past them, and no other can open
			}
			s.mu.Unlock()
			return n, nil
		}
		if !s.reading {
			break
		}
		// An older attempt's read of src is under way: what it reads is
		// kept, for this one.
		s.cond.Wait()
	}
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return 0, err
	}
	if len(p) == 0 {
		s.mu.Unlock()
		return 0, nil
	}
	s.reading = true
	s.mu.Unlock()

	n, err := s.src.Read(p)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.reading = false
	s.cond.Broadcast()
	if err != nil {
		s.err = err
	}
	mine := r == s.owner
	switch {
	case s.lost:
	case !mine || len(s.kept)+n <= maxReplay:
		// A superseded attempt keeps what it read even past the limit: the
		// newest attempt, still replaying, needs every byte.
		s.kept = append(s.kept, p[:n]...)
		s.lost = len(s.kept) > maxReplay
		if mine {
			r.pos = len(s.kept)
		}
	default:
		s.lost, s.kept = true, nil
	}
	if !mine {
		return 0, errSuperseded
	}
	return n, err
}

// marshalJSON encodes v as JSON.stringify does: no HTML escaping of <, >
// and &, no trailing newline. The encoders and their buffers are pooled;
// only the result is allocated.
func marshalJSON(v any) ([]byte, error) {
	e := jsonEncoders.Get().(*jsonEncoder)
	defer e.release()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(e.buf.Bytes(), []byte{'\n'})), nil
}

type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var jsonEncoders = sync.Pool{New: func() any {
	e := new(jsonEncoder)
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

func (e *jsonEncoder) release() {
	if e.buf.Cap() > 64<<10 {
		return // a rare large body: let it go rather than pin its buffer
	}
	e.buf.Reset()
	jsonEncoders.Put(e)
}

const formURLEncodedType = "application/x-www-form-urlencoded"

type formKind int

const (
	formNone formKind = iota
	formURLEncoded
	formMultipart
)

// formKindOf says which form, if any, the request's Content-Type names:
// what axios's transformRequest looks for to encode an object as a form.
func formKindOf(cfg *Config) formKind {
	v := cfg.Headers["Content-Type"]
	if len(v) == 0 {
		return formNone
	}
	media, _, _ := strings.Cut(v[0], ";")
	media = strings.TrimSpace(media)
	switch {
	case strings.EqualFold(media, formURLEncodedType):
		return formURLEncoded
	case strings.EqualFold(media, "multipart/form-data"):
		return formMultipart
	}
	return formNone
}

// checkBoundary refuses a body given as bytes or a reader under a
// multipart/form-data Content-Type without a boundary, which no server
// could split into parts.
func checkBoundary(cfg *Config) error {
	if formKindOf(cfg) != formMultipart || boundaryOf(cfg) != "" {
		return nil
	}
	return fmt.Errorf("a %T body cannot be sent as multipart/form-data without a boundary in the Content-Type: give a *FormData, a map or a struct, or set the Content-Type with its boundary", cfg.Data)
}

// boundaryOf returns the boundary the request's Content-Type names when it
// is multipart/form-data with a boundary multipart.Writer accepts.
func boundaryOf(cfg *Config) string {
	v := cfg.Headers["Content-Type"]
	if len(v) == 0 || !strings.HasPrefix(strings.ToLower(v[0]), "multipart/") {
		return ""
	}
	media, params, err := mime.ParseMediaType(v[0])
	if err != nil || media != "multipart/form-data" {
		return ""
	}
	b := params["boundary"]
	if b == "" || multipart.NewWriter(io.Discard).SetBoundary(b) != nil {
		return ""
	}
	return b
}

// useBoundary returns the boundary to write a multipart body with: the one
// the Content-Type names, as axios keeps a caller's, else fallback (a new
// random one when ""), which it sets in the Content-Type, whatever media
// type that said before, as axios sets a FormData's own headers. So every
// attempt of a request writes the same boundary.
func useBoundary(cfg *Config, fallback string) string {
	if b := boundaryOf(cfg); b != "" {
		return b
	}
	if fallback == "" {
		fallback = randomBoundary()
	}
	if cfg.Headers == nil {
		cfg.Headers = make(http.Header)
	}
	cfg.Headers["Content-Type"] = []string{"multipart/form-data; boundary=" + fallback}
	return fallback
}

func setDefaultContentType(cfg *Config, ctype string) {
	if cfg.Headers == nil {
		cfg.Headers = make(http.Header)
	}
	if len(cfg.Headers["Content-Type"]) == 0 {
		cfg.Headers["Content-Type"] = []string{ctype}
	}
}
