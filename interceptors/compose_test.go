package interceptors_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/auth"
	"github.com/axiosgo/axios/interceptors"
)

// newAuth returns an Authenticator holding the token "old" whose refresh
// returns "new", counting calls.
func newAuth(t *testing.T, refreshes *atomic.Int32) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(auth.Options{
		Refresh: func(ctx context.Context, cur *oauth2.Token) (*oauth2.Token, error) {
			refreshes.Add(1)
			time.Sleep(10 * time.Millisecond) // long enough for the storm to join it
			return &oauth2.Token{AccessToken: "new", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
		},
	})
	require.NoError(t, err)
	require.NoError(t, a.SetToken(context.Background(), &oauth2.Token{AccessToken: "old", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}))
	return a
}

func TestA503AndThenA401MakeOneRefreshAndSucceed(t *testing.T) {
	c, mock := mockClient(t)
	var auths []string
	mock.RegisterResponder("GET", mockBase+"/me", func(req *http.Request) (*http.Response, error) {
		auths = append(auths, req.Header.Get("Authorization"))
		switch {
		case len(auths) == 1:
			return httpmock.NewStringResponse(503, ""), nil
		case req.Header.Get("Authorization") != "Bearer new":
			return httpmock.NewStringResponse(401, ""), nil
		}
		return httpmock.NewStringResponse(200, "me"), nil
	})
	var refreshes atomic.Int32
	a := newAuth(t, &refreshes)
	var s sleeps
	a.Install(c)
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: s.sleep}).Install(c)

	resp, err := c.Get(context.Background(), "/me")

	require.NoError(t, err)
	assert.Equal(t, "me", string(resp.Data))
	assert.Equal(t, []string{"Bearer old", "Bearer old", "Bearer new"}, auths)
	assert.EqualValues(t, 1, refreshes.Load())
	assert.EqualValues(t, 1, a.Stats().Refreshes)
	assert.Len(t, s.waits(), 1, "one backoff, for the 503")
}

func TestComposedInterceptorsServeA401StormWithOneRefresh(t *testing.T) {
	const n = 50
	var (
		mu                  sync.Mutex
		arrived             int
		storm               = make(chan struct{})
		missingHeaders      atomic.Int32
		hits                atomic.Int32
		transientFailedOnce sync.Map
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Usrid") != "u-17" || r.Header.Get("X-Smp-Project-Code") != "acme" {
			missingHeaders.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "Bearer new" {
			// Hold every first attempt until all n are in flight, so their
			// 401s arrive together.
			mu.Lock()
			arrived++
			if arrived == n {
				close(storm)
			}
			mu.Unlock()
			select {
			case <-storm:
			case <-time.After(5 * time.Second):
			}
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		// Every fifth request fails once with a transient 503 after the
		// refresh, so the retry interceptor has work too.
		if id, _ := strconv.Atoi(r.URL.Path[len("/items/"):]); id%5 == 0 {
			if _, failed := transientFailedOnce.LoadOrStore(id, true); !failed {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte(r.URL.Path))
	}))
	defer srv.Close()
	c := newClient(t, srv.URL)

	sink, l := newSink(slog.LevelInfo)
	f := newFlagLog()
	var refreshes atomic.Int32
	a := newAuth(t, &refreshes)
	var s sleeps
	var hooked atomic.Int32

	// The order docs/interceptors.md recommends.
	interceptors.NewLogger(l, interceptors.LogRequestHeaders()).Install(c)
	interceptors.StaticHeaders(http.Header{"usrId": {"u-17"}, "x-smp-project-code": {"acme"}}).Install(c)
	a.Install(c)
	interceptors.NewRetry(interceptors.RetryOptions{Sleep: s.sleep}).Install(c)
	interceptors.OnStatus(func(context.Context, *axios.Error) (*axios.Response, error) {
		hooked.Add(1)
		return nil, nil
	}).Install(c)
	f.loading.Install(c)

	var wg sync.WaitGroup
	errs := make([]error, n)
	bodies := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(context.Background(), "/items/"+strconv.Itoa(i))
			errs[i] = err
			if err == nil {
				bodies[i] = string(resp.Data)
			}
		}()
	}
	wg.Wait()

	for i, err := range errs {
		require.NoError(t, err, "request %d", i)
		assert.Equal(t, "/items/"+strconv.Itoa(i), bodies[i])
	}
	assert.EqualValues(t, 1, refreshes.Load(), "one refresh serves the storm")
	assert.EqualValues(t, 1, a.Stats().Refreshes)
	assert.Zero(t, missingHeaders.Load(), "every attempt carries the headers")
	assert.Zero(t, hooked.Load(), "no request ended in a rejected status")
	assert.Len(t, s.waits(), n/5)

	lines := sink.lines(t)
	require.Len(t, lines, int(hits.Load()), "one log line per attempt")
	byStatus := map[float64]int{}
	for _, line := range lines {
		byStatus[line["status"].(float64)]++
	}
	assert.Equal(t, map[float64]int{401: n, 503: n / 5, 200: n}, byStatus)
	assert.NotContains(t, sink.String(), "Bearer", "the Authorization header is redacted")
	assert.Contains(t, sink.String(), `"Usrid":"u-17"`)

	assert.Equal(t, []bool{true, false}, f.requireSettled(t), "the flag stays on through refresh and retries")
}
