package axios

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"path"
	"strings"
	"sync"
)

// FormData is a multipart/form-data body, as axios's (the browser's)
// FormData: fields and files in the order they were appended. Give it as
// [Config.Data], or to [Client.PostForm]; the Content-Type becomes
// multipart/form-data with the FormData's boundary, the same for every
// attempt.
//
// It is streamed: a file's bytes are read while the request is written,
// never held whole in memory. A file given as an io.ReadSeeker (an
// *os.File, a *bytes.Reader) is sent from where it was at AppendFile to its
// end, and read again from there for a retry (the auth pair's after a 401,
// a 307 or 308 redirect), so every attempt sends the same bytes; when every
// file is one, the request has a Content-Length, else it is sent chunked.
// Any other io.Reader (a pipe) is read as the request is written, and its
// first 1 MiB is kept for a retry; a retry after more than that was read
// fails with [CodeBadOptionValue] instead of sending a partial body; when
// it is an io.Closer, it is closed as the request ends, retries included,
// as net/http closes a request's body. Files are never closed: they are
// the caller's.
//
// Build a FormData, then send it: Append and AppendFile must not run while
// it is sent. Several requests may send it at once, unless a part is a
// plain io.Reader, which only one request (and its retries) can read. The
// zero value is an empty FormData ready to use.
type FormData struct {
	once     sync.Once
	boundary string
	parts    []formPart
}

// formPart is a field (no src) or a file.
type formPart struct {
	name, value string
	filename    string
	ctype       string
	src         bodySource
	n           int64 // the file's length, or -1 when unknown
}

// NewFormData returns an empty FormData.
func NewFormData() *FormData { return new(FormData) }

// Append adds a field: name and its value, as FormData.append(name, value).
func (f *FormData) Append(name, value string) {
	f.parts = append(f.parts, formPart{name: name, value: value})
}

// AppendFile adds a file part: name, the file name the server sees, and its
// content, as FormData.append(name, blob, filename). Its Content-Type is
// guessed from filename's extension (mime.TypeByExtension), else
// application/octet-stream. An io.ReadSeeker, or a *bytes.Buffer, can be
// sent again for a retry; see [FormData] for other readers. A nil content
// is an empty file.
func (f *FormData) AppendFile(name, filename string, content io.Reader) {
	src, n := newSource(content, name)
	ctype := mime.TypeByExtension(path.Ext(filename))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	f.parts = append(f.parts, formPart{name: name, filename: filename, ctype: ctype, src: src, n: n})
}

func (f *FormData) boundaryOf() string {
	f.once.Do(func() { f.boundary = randomBoundary() })
	return f.boundary
}

// body is f as one attempt's body, with the Content-Type set to match.
func (f *FormData) body(cfg *Config) (*bodyReader, error) {
	src := &formSource{f: f, boundary: useBoundary(cfg, f.boundaryOf())}
	rd, n, err := src.read()
	if err != nil {
		return nil, err
	}
	return &bodyReader{src: rd, source: src, n: n, progress: newUploadProgress(cfg.OnUploadProgress)}, nil
}

// formSource is a FormData written with one boundary.
type formSource struct {
	f        *FormData
	boundary string
}

func (s *formSource) open() (io.Reader, error) {
	r, _, err := s.read()
	return r, err
}

// read lays out the body: the framing multipart.Writer writes, cut where a
// file's bytes stream in. n is its length, or -1 when a file's is unknown.
func (s *formSource) read() (r io.Reader, n int64, err error) {
	var w framing
	mw := newMultipartWriter(&w, s.boundary)
	readers := make([]io.Reader, 0, 2*len(s.f.parts)+1)
	for _, p := range s.f.parts {
		if p.src == nil {
			mw.field(p.name, p.value)
			continue
		}
		mw.file(p.name, p.filename, p.ctype)
		head := w.cut()
		content, err := p.src.open()
		if err != nil {
			return nil, 0, err
		}
		readers = append(readers, bytes.NewReader(head), content)
		if n >= 0 && p.n >= 0 {
			n += int64(len(head)) + p.n
		} else {
			n = -1
		}
	}
	_ = mw.Close() // framing's Write never fails
	tail := w.cut()
	readers = append(readers, bytes.NewReader(tail))
	if n >= 0 {
		n += int64(len(tail))
	}
	return io.MultiReader(readers...), n, nil
}

// framing collects what a multipart.Writer writes, until cut.
type framing struct{ buf []byte }

func (w *framing) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *framing) cut() []byte {
	b := w.buf
	w.buf = nil
	return b
}

// multipartWriter writes parts to a framing, whose Write never fails.
type multipartWriter struct{ *multipart.Writer }

func newMultipartWriter(w *framing, boundary string) multipartWriter {
	mw := multipart.NewWriter(w)
	_ = mw.SetBoundary(boundary) // made by multipart.Writer, or checked by boundaryOf
	return multipartWriter{mw}
}

func (mw multipartWriter) field(name, value string) {
	w, _ := mw.CreatePart(textproto.MIMEHeader{
		"Content-Disposition": {`form-data; name="` + partNameEscaper.Replace(name) + `"`},
	})
	_, _ = io.WriteString(w, value)
}

// file writes a file part's header; its content is written by the caller.
func (mw multipartWriter) file(name, filename, ctype string) {
	_, _ = mw.CreatePart(textproto.MIMEHeader{
		"Content-Disposition": {`form-data; name="` + partNameEscaper.Replace(name) + `"; filename="` + partNameEscaper.Replace(filename) + `"`},
		"Content-Type":        {ctype},
	})
}

// partNameEscaper quotes a name or file name as multipart.Writer's
// CreateFormFile does, and also escapes CR and LF as axios's
// formDataToStream and browsers do, so that no name can end the header line.
var partNameEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "%0D", "\n", "%0A")

func randomBoundary() string {
	return multipart.NewWriter(io.Discard).Boundary()
}
