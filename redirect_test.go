package axios_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
)

// TestBeforeRedirectSeesEachHopAndMayDropHeaders: BeforeRedirect runs for
// each redirect with the next request and those before it, after the
// MaxRedirects check; a header it deletes is not sent to the next hop, and
// its error fails the request with that cause. A BeforeRedirect in the
// instance's defaults applies to every request.
func TestBeforeRedirectSeesEachHopAndMayDropHeaders(t *testing.T) {
	var final atomic.Value
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		final.Store(r.Header.Get("X-Secret"))
		_, _ = w.Write([]byte("landed"))
	}))
	defer target.Close()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/there", http.StatusFound)
	}))
	defer origin.Close()

	var hops []string
	c := axios.Create(axios.Config{BeforeRedirect: func(req *http.Request, via []*http.Request) error {
		hops = append(hops, via[0].URL.Path+">"+req.URL.Path)
		req.Header.Del("X-Secret")
		return nil
	}})
	defer c.CloseIdleConnections()
	resp, err := c.Get(context.Background(), origin.URL+"/here", axios.Config{Headers: http.Header{"X-Secret": {"s"}}})
	require.NoError(t, err)
	assert.Equal(t, "landed", string(resp.Data))
	assert.Equal(t, []string{"/here>/there"}, hops)
	assert.Equal(t, "", final.Load(), "the header it dropped was not sent on")

	errStop := errors.New("stop here")
	_, err = c.Get(context.Background(), origin.URL+"/here", axios.Config{BeforeRedirect: func(*http.Request, []*http.Request) error { return errStop }})
	require.ErrorIs(t, err, errStop)
	assert.True(t, axios.IsAxiosError(err))

	// The MaxRedirects check comes first.
	called := false
	_, err = c.Get(context.Background(), origin.URL+"/here", axios.Config{MaxRedirects: axios.NoRedirects, ValidateStatus: func(int) bool { return true },
		BeforeRedirect: func(*http.Request, []*http.Request) error { called = true; return nil }})
	require.NoError(t, err)
	assert.False(t, called, "no redirect is followed, so none is asked about")
}
