package interceptors_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/axiosgo/axios"
	"github.com/axiosgo/axios/interceptors"
)

func TestOnStatusRunsTheHandlerForAChosenStatusAndPassesTheErrorOn(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/gone", httpmock.NewStringResponder(404, "not here"))
	mock.RegisterResponder("GET", mockBase+"/broken", httpmock.NewStringResponder(500, ""))
	var seen []int
	interceptors.OnStatus(func(_ context.Context, err *axios.Error) (*axios.Response, error) {
		seen = append(seen, err.Status())
		return nil, nil
	}, 404).Install(c)

	_, err := c.Get(context.Background(), "/gone")
	axErr := requireStatus(t, err, 404)
	assert.Equal(t, "not here", string(axErr.Response.Data), "the original error is passed on")
	_, err = c.Get(context.Background(), "/broken")
	requireStatus(t, err, 500)

	assert.Equal(t, []int{404}, seen)
}

func TestOnStatusWithNoStatusesRunsForEveryRejectedStatusButNotForNetworkErrors(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/a", httpmock.NewStringResponder(404, ""))
	mock.RegisterResponder("GET", mockBase+"/b", httpmock.NewStringResponder(503, ""))
	mock.RegisterResponder("GET", mockBase+"/c", httpmock.NewErrorResponder(&connReset{}))
	var seen []int
	interceptors.OnStatus(func(_ context.Context, err *axios.Error) (*axios.Response, error) {
		seen = append(seen, err.Status())
		return nil, nil
	}).Install(c)

	for _, p := range []string{"/a", "/b", "/c"} {
		_, err := c.Get(context.Background(), p)
		require.Error(t, err)
	}
	assert.Equal(t, []int{404, 503}, seen)
}

func TestOnStatusHandlerResponseRecoversTheRequest(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/gone", httpmock.NewStringResponder(404, ""))
	interceptors.OnStatus(func(_ context.Context, err *axios.Error) (*axios.Response, error) {
		return &axios.Response{Status: 200, Data: []byte(`{"resultCode":"OK"}`), Config: err.Config}, nil
	}, 404).Install(c)

	resp, err := c.Get(context.Background(), "/gone")

	require.NoError(t, err)
	assert.JSONEq(t, `{"resultCode":"OK"}`, string(resp.Data))
}

func TestOnStatusHandlerErrorReplacesTheOriginal(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/gone", httpmock.NewStringResponder(404, ""))
	errNotFound := errors.New("page not found")
	interceptors.OnStatus(func(context.Context, *axios.Error) (*axios.Response, error) {
		return nil, errNotFound
	}, 404).Install(c)

	_, err := c.Get(context.Background(), "/gone")

	require.ErrorIs(t, err, errNotFound)
}

func TestOnStatusRunsOnceForAFinalErrorThatRetriesPassedUp(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/down", httpmock.NewStringResponder(503, ""))
	var calls atomic.Int32
	interceptors.NewRetry(interceptors.RetryOptions{MaxRetries: 3, Sleep: new(sleeps).sleep}).Install(c)
	interceptors.OnStatus(func(context.Context, *axios.Error) (*axios.Response, error) {
		calls.Add(1)
		return nil, nil
	}, 503).Install(c)

	_, err := c.Get(context.Background(), "/down")

	axErr := requireStatus(t, err, 503)
	assert.Equal(t, 4, mock.GetTotalCallCount())
	assert.Equal(t, 4, interceptors.Attempt(axErr.Config))
	assert.EqualValues(t, 1, calls.Load(), "four nested chains see the final 503; the handler runs once")
}

func TestOnStatusHandlesAConfigSentAgainAnew(t *testing.T) {
	c, mock := mockClient(t)
	mock.RegisterResponder("GET", mockBase+"/gone", httpmock.NewStringResponder(404, ""))
	var calls atomic.Int32
	interceptors.OnStatus(func(context.Context, *axios.Error) (*axios.Response, error) {
		calls.Add(1)
		return nil, nil
	}, 404).Install(c)

	_, err := c.Get(context.Background(), "/gone")
	axErr := requireStatus(t, err, 404)
	_, err = c.Request(context.Background(), *axErr.Config)
	requireStatus(t, err, 404)

	assert.EqualValues(t, 2, calls.Load())
}

func TestOnStatusPanicsOnANilHandler(t *testing.T) {
	assert.PanicsWithValue(t, "interceptors: OnStatus: nil handler", func() { interceptors.OnStatus(nil, 404) })
}
