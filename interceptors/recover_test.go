package interceptors_test

// A recovering Response shared by many requests, as a second review pass found it.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/interceptors"
)

// TestLoadingEndsRequestsRecoveredWithOneSharedFallbackResponse: the chain
// now gives a recovering Response without a Config the failed request's
// Config by writing it into the Response the handler returned. A
// StatusHandler that recovers every 404 with one prebuilt response (a
// package-level "empty list") has it written on the first 404: the second
// request's response then carries the first request's Config, and Loading,
// which finds the request by that Config, ends the first request again and
// never the second. Its count stays up for as long as any other request is
// in flight, as in TestLoadingEndsARequestAStatusHookRecoveredWithoutAConfig,
// which this change was meant to fix.
func TestLoadingEndsRequestsRecoveredWithOneSharedFallbackResponse(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(started)
			<-release
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)
	emptyList := &axios.Response{Status: http.StatusOK, Data: []byte(`{"items":[]}`)}
	interceptors.OnStatus(func(context.Context, *axios.Error) (*axios.Response, error) {
		return emptyList, nil
	}, http.StatusNotFound).Install(c)
	loading := interceptors.NewLoading(nil)
	loading.Install(c)

	slow := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), "/slow")
		slow <- err
	}()
	<-started
	_, err := c.Get(context.Background(), "/gone-1")
	require.NoError(t, err)
	resp, err := c.Get(context.Background(), "/gone-2")
	require.NoError(t, err)

	inFlight := loading.InFlight()
	gotURL := ""
	if resp.Config != nil {
		gotURL = resp.Config.URL
	}
	close(release)
	require.NoError(t, <-slow)
	assert.Equal(t, 1, inFlight, "only /slow is in flight once /gone-1 and /gone-2 have returned")
	assert.NotEqual(t, "/gone-1", gotURL, "the response to /gone-2 describes /gone-1's request")
}
