package axios_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiosgo/axios"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sent is a request as a mock transport received it.
type sent struct {
	header http.Header
	length int64
	body   []byte
}

// captureClient returns a client whose requests go to a per-test httpmock
// transport that answers 200, and the last request it received.
func captureClient(t *testing.T) (*axios.Client, func() sent) {
	t.Helper()
	var mu sync.Mutex
	var last sent
	mock := httpmock.NewMockTransport()
	mock.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		var b []byte
		if r.Body != nil {
			var err error
			if b, err = io.ReadAll(r.Body); err != nil {
				return nil, err
			}
		}
		mu.Lock()
		last = sent{header: r.Header.Clone(), length: r.ContentLength, body: b}
		mu.Unlock()
		return httpmock.NewStringResponse(http.StatusOK, "ok"), nil
	})
	c := newClient(t, axios.Config{BaseURL: "https://api.example.test"})
	c.Resty().SetTransport(mock)
	return c, func() sent {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// parts reads a multipart body into name=value lines, in order; a file
// part's line also carries its file name and Content-Type.
func parts(t *testing.T, header http.Header, body io.Reader) []string {
	t.Helper()
	media, params, err := mime.ParseMediaType(header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/form-data", media)
	require.NotEmpty(t, params["boundary"])
	mr := multipart.NewReader(body, params["boundary"])
	var out []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		line := p.FormName() + "=" + string(b)
		if p.FileName() != "" {
			line += " (" + p.FileName() + ", " + p.Header.Get("Content-Type") + ")"
		}
		out = append(out, line)
	}
}

// Fields and files go in the order appended; a file part has its file name
// and a Content-Type from its extension; with every size known the body
// has a Content-Length.
func TestFormDataSendsPartsInOrder(t *testing.T) {
	c, last := captureClient(t)
	fd := axios.NewFormData()
	fd.Append("a", "1")
	fd.AppendFile("notes", "notes.txt", strings.NewReader("some text"))
	fd.Append("b", "2")
	fd.AppendFile("img", "dot.png", bytes.NewReader([]byte{0x89, 'P', 'N', 'G'}))
	fd.AppendFile("raw", "data", bytes.NewBufferString("raw bytes"))
	fd.AppendFile("empty", "empty.json", nil)
	fd.Append(`we"ird`+"\r\nX-Injected: 1", "v")

	_, err := c.Post(ctx, "/upload", fd)
	require.NoError(t, err)
	got := last()
	assert.Equal(t, []string{
		"a=1",
		"notes=some text (notes.txt, text/plain; charset=utf-8)",
		"b=2",
		"img=\x89PNG (dot.png, image/png)",
		"raw=raw bytes (data, application/octet-stream)",
		"empty= (empty.json, application/json)",
		`we"ird%0D%0AX-Injected: 1=v`,
	}, parts(t, got.header, bytes.NewReader(got.body)))
	assert.EqualValues(t, len(got.body), got.length, "every size is known: a Content-Length")

	_, err = c.Post(ctx, "/upload", fd)
	require.NoError(t, err)
	again := last()
	assert.Equal(t, got.body, again.body, "sent again, the same bytes and boundary")
	assert.Equal(t, got.header.Get("Content-Type"), again.header.Get("Content-Type"))
}

// The zero FormData is ready to use, and sends an empty multipart body.
func TestZeroFormDataIsEmpty(t *testing.T) {
	c, last := captureClient(t)
	var fd axios.FormData
	_, err := c.Post(ctx, "/upload", &fd)
	require.NoError(t, err)
	got := last()
	assert.Empty(t, parts(t, got.header, bytes.NewReader(got.body)))
}

// bigFile writes size pseudo-random bytes to a temp file and returns its
// path and SHA-256.
func bigFile(t *testing.T, size int) (path, sum string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "big.bin")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	rng := rand.NewChaCha8([32]byte{1})
	chunk := make([]byte, 1<<20)
	for written := 0; written < size; written += len(chunk) {
		_, _ = rng.Read(chunk)
		_, _ = h.Write(chunk)
		_, err := f.Write(chunk)
		require.NoError(t, err)
	}
	return path, hex.EncodeToString(h.Sum(nil))
}

// partSums reads a multipart request part by part, streaming, and returns
// "name=sha256" for each.
func partSums(r *http.Request, _ io.Reader) string {
	mr, err := r.MultipartReader()
	if err != nil {
		return "not multipart: " + err.Error()
	}
	var out []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return strings.Join(out, " ")
		}
		if err != nil {
			return "broken: " + err.Error()
		}
		h := sha256.New()
		if _, err := io.Copy(h, p); err != nil {
			return "broken: " + err.Error()
		}
		out = append(out, p.FormName()+"="+hex.EncodeToString(h.Sum(nil)))
	}
}

// heapPeak samples the heap in use until stop is called, and returns the
// most it grew over what it was at the start, after a GC.
func heapPeak() (stop func() uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base && ms.HeapInuse-base > peak.Load() {
				peak.Store(ms.HeapInuse - base)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// A 64 MiB file goes as a multipart part streamed from disk: the heap grows
// by far less than the file, and the auth pair's retry after a 401 sends
// the identical part again, checked by the server's SHA-256 of both
// attempts.
func TestLargeFormDataUploadStreamsAndSurvivesAuthRetry(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 128 MiB")
	}
	const size = 64 << 20
	path, sum := bigFile(t, size)
	var lengths []int64
	var mu sync.Mutex
	c, rec := authRetryClient(t, func(r *http.Request, body io.Reader) string {
		mu.Lock()
		lengths = append(lengths, r.ContentLength)
		mu.Unlock()
		return partSums(r, body)
	})
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	fd := axios.NewFormData()
	fd.Append("title", "big")
	fd.AppendFile("file", "big.bin", f)

	stop := heapPeak()
	resp, err := c.Post(ctx, "/upload", fd)
	grew := stop()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.Status)

	titleSum := sha256.Sum256([]byte("big"))
	want := "title=" + hex.EncodeToString(titleSum[:]) + " file=" + sum
	_, got := rec.got()
	assert.Equal(t, []string{want, want}, got, "both attempts carried the whole file")
	mu.Lock()
	assert.Len(t, lengths, 2)
	for _, n := range lengths {
		assert.Greater(t, n, int64(size), "a Content-Length, not chunked")
	}
	mu.Unlock()
	t.Logf("heap grew by %.1f MiB at most during two 64 MiB uploads", float64(grew)/(1<<20))
	assert.Less(t, grew, uint64(24<<20), "the file is streamed, not held")
}

// A 307 resends a FormData while the first copy may still be written:
// files, a *bytes.Reader and a short pipe arrive whole at the target.
func TestRedirect307ResendsAFormData(t *testing.T) {
	srv, rec := redirectRecorder(t, false)
	path, fileSum := bigFile(t, 4<<20)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	blob := bytes.Repeat([]byte("blob"), 100_000)
	piped := bytes.Repeat([]byte("pipe"), 50_000)
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(piped)
		_ = pw.Close()
	}()
	fd := axios.NewFormData()
	fd.Append("name", "value")
	fd.AppendFile("file", "big.bin", f)
	fd.AppendFile("blob", "blob.bin", bytes.NewReader(blob))
	fd.AppendFile("pipe", "pipe.bin", pr)

	c := newClient(t, axios.Config{BaseURL: srv.URL})
	resp, err := c.Post(ctx, "/start", fd)
	require.NoError(t, err)
	paths, _ := rec.got()
	assert.Equal(t, []string{"/start", "/final"}, paths)

	// /final answered with the SHA-256 of the body it got: build the body
	// it should have been.
	_, params, err := mime.ParseMediaType(resp.Config.Headers.Get("Content-Type"))
	require.NoError(t, err)
	boundary := params["boundary"]
	require.NotEmpty(t, boundary)

	var want bytes.Buffer
	head := func(name, filename, ctype string) {
		if want.Len() > 0 {
			want.WriteString("\r\n")
		}
		fmt.Fprintf(&want, "--%s\r\nContent-Disposition: form-data; name=%q", boundary, name)
		if filename != "" {
			fmt.Fprintf(&want, "; filename=%q\r\nContent-Type: %s", filename, ctype)
		}
		want.WriteString("\r\n\r\n")
	}
	content, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, fileSum, sha(content))
	head("name", "", "")
	want.WriteString("value")
	head("file", "big.bin", "application/octet-stream")
	want.Write(content)
	head("blob", "blob.bin", "application/octet-stream")
	want.Write(blob)
	head("pipe", "pipe.bin", "application/octet-stream")
	want.Write(piped)
	fmt.Fprintf(&want, "\r\n--%s--\r\n", boundary)
	assert.Equal(t, sha(want.Bytes()), string(resp.Data), "the redirect carried the identical body")
}

// A FormData part read from a pipe longer than 1 MiB cannot be sent again:
// the retry fails with an error that names the part.
func TestAuthRetryOfAFormDataWithALongPipePartFailsClearly(t *testing.T) {
	c, rec := authRetryClient(t, partSums)
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(bytes.Repeat([]byte("x"), 2<<20))
		_ = pw.Close()
	}()
	fd := axios.NewFormData()
	fd.AppendFile("stream", "s.bin", pr)
	_, err := c.Post(ctx, "/upload", fd)
	axErr, ok := axios.AsError(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
	assert.Contains(t, axErr.Message, `could not be read again`)
	assert.Contains(t, axErr.Message, `FormData part "stream"`)
	_, got := rec.got()
	assert.Len(t, got, 1, "the retry sent nothing")
}

// Upload progress of a FormData counts up to its Content-Length; with a
// part of unknown length, Total is -1.
func TestFormDataUploadProgress(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})
	for name, withPipe := range map[string]bool{"sized": false, "with a pipe": true} {
		t.Run(name, func(t *testing.T) {
			fd := axios.NewFormData()
			fd.Append("a", "1")
			fd.AppendFile("f", "f.bin", bytes.NewReader(bytes.Repeat([]byte("f"), 200_000)))
			if withPipe {
				fd.AppendFile("p", "p.bin", io.MultiReader(strings.NewReader("piped")))
			}
			var mu sync.Mutex
			var events []axios.Progress
			resp, err := c.Post(ctx, "/", fd, axios.Config{OnUploadProgress: func(p axios.Progress) {
				mu.Lock()
				events = append(events, p)
				mu.Unlock()
			}})
			require.NoError(t, err)
			var e echo
			require.NoError(t, resp.JSON(&e))
			mu.Lock()
			defer mu.Unlock()
			require.NotEmpty(t, events)
			total := int64(len(e.Body))
			if withPipe {
				total = -1
			}
			for _, p := range events {
				assert.Equal(t, total, p.Total)
			}
			assert.EqualValues(t, len(e.Body), events[len(events)-1].Loaded)
		})
	}
}
