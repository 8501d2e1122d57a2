package interceptors_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/interceptors"
)

// headerEcho answers with the request's headers, as JSON.
func headerEcho(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestHeadersAddsPerRequestValues(t *testing.T) {
	c := newClient(t, headerEcho(t).URL)
	type user struct{ id, tenant string }
	users := map[string]user{"a": {"u-1", "acme"}, "b": {"u-2", "globex"}}
	type userKey struct{}
	interceptors.NewHeaders(func(ctx context.Context, cfg *axios.Config) (http.Header, error) {
		u := users[ctx.Value(userKey{}).(string)]
		return http.Header{"usrId": {u.id}, "x-smp-project-code": {u.tenant}}, nil
	}).Install(c)

	for name, want := range users {
		ctx := context.WithValue(context.Background(), userKey{}, name)
		got, err := axios.JSON[http.Header](c.Get(ctx, "/me"))
		require.NoError(t, err)
		assert.Equal(t, want.id, got.Get("Usrid"))
		assert.Equal(t, want.tenant, got.Get("X-Smp-Project-Code"))
	}
}

func TestHeadersLeavesTheRequestsOwnValuesUnlessOverriding(t *testing.T) {
	srv := headerEcho(t)
	fixed := http.Header{"X-Tenant": {"acme"}, "X-Client": {"web"}}
	for _, tc := range []struct {
		name       string
		opts       []interceptors.HeadersOption
		wantTenant string
	}{
		{"default: the request wins", nil, "globex"},
		{"OverrideHeaders: the interceptor wins", []interceptors.HeadersOption{interceptors.OverrideHeaders()}, "acme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, srv.URL)
			interceptors.StaticHeaders(fixed, tc.opts...).Install(c)
			got, err := axios.JSON[http.Header](c.Get(context.Background(), "/", axios.Config{Headers: http.Header{"x-tenant": {"globex"}}}))
			require.NoError(t, err)
			assert.Equal(t, []string{tc.wantTenant}, got["X-Tenant"])
			assert.Equal(t, "web", got.Get("X-Client"))
		})
	}
}

func TestHeadersErrorFailsTheRequestAndWrapsTheCause(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/x", httpmock.NewStringResponder(200, ""))
	errNoUser := errors.New("no signed-in user")
	interceptors.NewHeaders(func(context.Context, *axios.Config) (http.Header, error) {
		return nil, errNoUser
	}).Install(c)

	_, err := c.Get(context.Background(), "/x")

	require.ErrorIs(t, err, errNoUser)
	assert.Contains(t, err.Error(), "interceptors: headers: no signed-in user")
	axErr, ok := axios.AsError(err)
	require.True(t, ok)
	assert.Equal(t, axios.CodeBadOptionValue, axErr.Code)
	require.NotNil(t, axErr.Config, "the Config tells later interceptors which request failed")
	assert.Equal(t, "/x", axErr.Config.URL)
	assert.Zero(t, mock.GetTotalCallCount(), "the request is not sent")
}

func TestHeadersErrorFromTheContextIsACancel(t *testing.T) {
	c, _ := mockClient(t)
	interceptors.NewHeaders(func(ctx context.Context, _ *axios.Config) (http.Header, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}).Install(c)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := c.Get(ctx, "/x")

	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, axios.IsCancel(err))
}

// A context's end from fn gets the code axios.ContextError gives it, and
// keeps the Config and fn's error.
func TestHeadersErrorFromTheContextHasTheContextsCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"canceled", context.Canceled, axios.CodeCanceled},
		{"deadline", fmt.Errorf("tenant lookup: %w", context.DeadlineExceeded), axios.CodeTimedOut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mock := mockClient(t)
			interceptors.NewHeaders(func(context.Context, *axios.Config) (http.Header, error) { return nil, tc.err }).Install(c)

			_, err := c.Get(context.Background(), "/x")

			axErr, ok := axios.AsError(err)
			require.True(t, ok)
			assert.Equal(t, tc.code, axErr.Code)
			assert.ErrorIs(t, err, tc.err)
			assert.Equal(t, "interceptors: headers: "+tc.err.Error(), axErr.Message)
			require.NotNil(t, axErr.Config)
			assert.Equal(t, "/x", axErr.Config.URL)
			assert.Zero(t, mock.GetTotalCallCount())
		})
	}
}

func TestStaticHeadersNeverShareValuesBetweenRequests(t *testing.T) {
	srv := headerEcho(t)
	c := newClient(t, srv.URL)
	in := http.Header{"X-Tags": make([]string, 1, 8)}
	in["X-Tags"][0] = "base"
	interceptors.StaticHeaders(in).Install(c)
	in.Set("X-Tags", "changed later") // a copy was taken
	// Under FIFO this runs after StaticHeaders: each request appends its own
	// tag to the value StaticHeaders set.
	c.Interceptors.Request.Use(func(ctx context.Context, cfg *axios.Config) (*axios.Config, error) {
		cfg.Headers["X-Tags"] = append(cfg.Headers["X-Tags"], cfg.URL)
		return cfg, nil
	}, nil)
	c.Interceptors.Request.SetOrder(axios.FIFO)

	var wg sync.WaitGroup
	got := make([]http.Header, 20)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := axios.JSON[http.Header](c.Get(context.Background(), "/"+strconv.Itoa(i)))
			if assert.NoError(t, err) {
				got[i] = h
			}
		}()
	}
	wg.Wait()
	for i, h := range got {
		assert.Equal(t, []string{"base", "/" + strconv.Itoa(i)}, h["X-Tags"])
	}
}

func TestNewHeadersPanicsOnANilFunction(t *testing.T) {
	assert.PanicsWithValue(t, "interceptors: NewHeaders: nil function", func() { interceptors.NewHeaders(nil) })
}
