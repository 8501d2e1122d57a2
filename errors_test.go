package axios_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/axiosgo/axios"
)

func TestContextError(t *testing.T) {
	cfg := &axios.Config{URL: "/x"}
	other := errors.New("sleeper gave up")
	for _, tc := range []struct {
		name    string
		err     error
		code    string
		message string
		is      error
	}{
		{"canceled", context.Canceled, axios.CodeCanceled, "canceled", context.Canceled},
		{"deadline", context.DeadlineExceeded, axios.CodeTimedOut, "context deadline exceeded", context.DeadlineExceeded},
		{"wrapped canceled", fmt.Errorf("wait: %w", context.Canceled), axios.CodeCanceled, "canceled", context.Canceled},
		{"wrapped deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), axios.CodeTimedOut, "context deadline exceeded", context.DeadlineExceeded},
		{"neither: taken as a cancellation", other, axios.CodeCanceled, "canceled", context.Canceled},
		{"nil: taken as a cancellation", nil, axios.CodeCanceled, "canceled", context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := axios.ContextError(cfg, tc.err)
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.message, e.Message)
			assert.Same(t, cfg, e.Config)
			assert.ErrorIs(t, e, tc.is)
			if tc.err != nil {
				assert.ErrorIs(t, e, tc.err, "the cause stays reachable")
			}
			assert.Equal(t, tc.code == axios.CodeCanceled, axios.IsCancel(e))
			assert.Nil(t, e.Response)
			assert.Zero(t, e.Status())
		})
	}
}

// One way to ask each question: IsAxiosError and AsError are errors.As with
// an *Error target, IsCancel is errors.Is(err, context.Canceled); all of
// them see through wrapping.
func TestErrorPredicatesSeeThroughWrapping(t *testing.T) {
	axErr := axios.ContextError(nil, context.Canceled)
	wrapped := fmt.Errorf("load profile: %w", axErr)

	got, ok := axios.AsError(wrapped)
	assert.True(t, ok)
	assert.Same(t, axErr, got)
	assert.True(t, axios.IsAxiosError(wrapped))
	assert.True(t, axios.IsCancel(wrapped))

	assert.True(t, axios.IsCancel(fmt.Errorf("plain: %w", context.Canceled)), "a plain canceled context too")
	assert.False(t, axios.IsAxiosError(context.Canceled))
	assert.False(t, axios.IsCancel(axios.ContextError(nil, context.DeadlineExceeded)))
	_, ok = axios.AsError(errors.New("other"))
	assert.False(t, ok)
}
