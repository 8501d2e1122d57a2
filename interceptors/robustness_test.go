package interceptors_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/interceptors"
)

// A handler that returns a typed nil *axios.Error (the classic "var e
// *axios.Error; ...; return nil, e") hands the rest of the chain a non-nil
// error holding a nil *axios.Error. axios.AsError does not report it as
// one, so Retry, Logger, Loading and StatusHook pass it on, and nothing
// panics out of Client.Request.
func TestInterceptorsSurviveATypedNilAxiosError(t *testing.T) {
	for name, install := range map[string]func(c *axios.Client){
		"Retry": func(c *axios.Client) {
			interceptors.NewRetry(interceptors.RetryOptions{Sleep: new(sleeps).sleep}).Install(c)
		},
		"Logger": func(c *axios.Client) {
			_, l := newSink(slog.LevelInfo)
			interceptors.NewLogger(l).Install(c)
		},
		"Loading": func(c *axios.Client) { interceptors.NewLoading(nil).Install(c) },
		"StatusHook": func(c *axios.Client) {
			interceptors.OnStatus(func(context.Context, *axios.Error) (*axios.Response, error) { return nil, nil }).Install(c)
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, mock := mockClient(t)
			mock.RegisterResponder("GET", mockBase+"/x", httpmock.NewStringResponder(503, ""))
			c.Interceptors.Response.Use(nil, func(_ context.Context, err error) (*axios.Response, error) {
				var replaced *axios.Error // never set: a typed nil
				return nil, replaced
			})
			install(c)

			var err error
			require.NotPanics(t, func() { _, err = c.Get(context.Background(), "/x") },
				"a panic escaped Client.Request")
			assert.Error(t, err)
		})
	}
}

// Config.Format shows PathParams as keys only, because a path segment may
// be a token (a reset link's); the Logger logs their values "REDACTED".
func TestLoggerDoesNotLogASecretPathParam(t *testing.T) {
	const secret = "r3set-t0ken"
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/password-reset/"+secret, httpmock.NewStringResponder(http.StatusOK, ""))
	sink, l := newSink(slog.LevelInfo)
	interceptors.NewLogger(l).Install(c)

	_, err := c.Get(context.Background(), "/password-reset/{token}",
		axios.Config{PathParams: map[string]string{"token": secret}})

	require.NoError(t, err)
	lines := sink.lines(t)
	require.Len(t, lines, 1)
	assert.True(t, strings.HasPrefix(lines[0]["url"].(string), mockBase+"/password-reset/"), lines[0]["url"])
	assert.NotContains(t, sink.String(), secret)
}

// DefaultRetryPolicy retries what is likely to pass on a second try: not a
// redirect that Config.BeforeRedirect refuses, nor one to a scheme net/http
// cannot follow, which fail with ERR_BAD_REQUEST as such a URL given
// directly does.
func TestDefaultRetryPolicyDoesNotRetryARefusedRedirect(t *testing.T) {
	errRefused := errors.New("redirect to another host refused")
	for name, tc := range map[string]struct {
		location string
		cfg      axios.Config
	}{
		"BeforeRedirect refuses it": {"http://elsewhere.test/y", axios.Config{
			BeforeRedirect: func(*http.Request, []*http.Request) error { return errRefused },
		}},
		"unsupported scheme": {"ftp://files.test/y", axios.Config{}},
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Redirect(w, r, tc.location, http.StatusFound)
			}))
			defer srv.Close()
			c := newClient(t, srv.URL)
			var s sleeps
			interceptors.NewRetry(interceptors.RetryOptions{Sleep: s.sleep}).Install(c)

			_, err := c.Get(context.Background(), "/x", tc.cfg)

			ae, ok := axios.AsError(err)
			require.True(t, ok, "%v", err)
			assert.Equal(t, axios.CodeBadRequest, ae.Code)
			if tc.cfg.BeforeRedirect != nil {
				assert.ErrorIs(t, err, errRefused, "BeforeRedirect's error is kept")
			}
			assert.EqualValues(t, 1, calls.Load(), "the refused redirect was sent again: %v", err)
			assert.Empty(t, s.waits())
		})
	}
}
