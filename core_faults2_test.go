package axios_test

// Cases a review of the commit "core: fixes from a review pass" found
// wanting: each test shows what a user hits.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/interceptors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An attempt that runs past Config.Timeout before net/http read a byte of
// its pipe body (the connect stalled) is retried by the Retry interceptor,
// which sends the same Config again inside the same Request. The retry must
// read the pipe: nothing of it was sent, and its producer is still there.
// The context.AfterFunc that send registers closes the pipe when the first
// attempt's ctx ends, so the retry reads a closed pipe and fails.
func TestRetryAfterAConnectTimeoutStillSendsThePipe(t *testing.T) {
	srv := echoServer(t)
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	stop := make(chan struct{})
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) == 1 {
			// The first connect stalls past the attempt's Timeout.
			select {
			case <-ctx.Done():
			case <-stop:
			}
			return nil, errors.New("connect stalled")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	t.Cleanup(func() { close(stop); tr.CloseIdleConnections() })
	c.Resty().GetClient().Transport = tr
	interceptors.NewRetry(interceptors.RetryOptions{
		MaxRetries: 1,
		Sleep:      func(context.Context, time.Duration) error { time.Sleep(20 * time.Millisecond); return nil },
	}).Install(c)

	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pr.Close() })
	wrote := make(chan error, 1)
	go func() {
		_, err := io.WriteString(pw, "the upload")
		if err == nil {
			err = pw.Close()
		}
		wrote <- err
	}()

	resp, err := c.Put(context.Background(), "/", pr, axios.Config{Timeout: 200 * time.Millisecond})
	require.NoError(t, err, "the retry of an attempt that never read the pipe failed")
	var got echo
	require.NoError(t, json.Unmarshal(resp.Data, &got))
	assert.Equal(t, "the upload", got.Body)
	assert.EqualValues(t, 2, dials.Load())
	assert.NoError(t, <-wrote, "the producer's pipe was closed under it")
}

// Full duplex with ResponseStream: the upload goes on after Request
// returned the stream (the library keeps the pipe open for it), and
// OnUploadProgress must go on reporting it. endProgress stops the progress
// as soon as hc.Do returns, so the bytes uploaded while the stream is read
// are never reported: Loaded stops short of what was sent.
func TestUploadProgressOfAFullDuplexStreamGoesOn(t *testing.T) {
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
	c := newClient(t, axios.Config{BaseURL: srv.URL})

	var mu sync.Mutex
	var loaded int64
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pr.Close() })
	resp, err := c.Post(context.Background(), "/duplex", pr, axios.Config{
		ResponseType: axios.ResponseStream,
		OnUploadProgress: func(p axios.Progress) {
			mu.Lock()
			loaded = p.Loaded
			mu.Unlock()
		},
	})
	require.NoError(t, err)
	defer resp.Body.Close()

	// The upload after the response started, echoed back.
	_, err = io.WriteString(pw, "ping")
	require.NoError(t, err)
	got := make([]byte, 4)
	_, err = io.ReadFull(resp.Body, got)
	require.NoError(t, err)
	require.Equal(t, "ping", string(got))
	_ = pw.Close()

	mu.Lock()
	defer mu.Unlock()
	assert.EqualValues(t, 4, loaded, "the 4 bytes uploaded (and echoed) were never reported by OnUploadProgress")
}
