package interceptors

import (
	"strconv"
	"sync/atomic"

	"github.com/axiosgo/axios"
)

// AttemptKey is the axios.Config.Meta key holding a request's attempt
// number, an int: absent or 1 for the first attempt, 2 for the first retry.
//
// Retries through the instance resend the failed attempt's *axErr.Config, so
// its Meta, and this number, travel to the next attempt. [Retry] raises it on
// the Config it resends, and [Logger] raises it when it sees a Config that it
// already logged an attempt of (a retry by another interceptor, such as the
// auth pair, or a response's Config sent again).
const AttemptKey = "axios.attempt"

// Attempt returns the attempt number of the request cfg describes, as
// [AttemptKey] holds it: 1 for the first attempt, or when cfg is nil or holds
// no number.
func Attempt(cfg *axios.Config) int {
	if cfg == nil {
		return 1
	}
	if n, ok := cfg.Meta[AttemptKey].(int); ok && n > 1 {
		return n
	}
	return 1
}

// setMeta sets cfg.Meta[key], making the map when the request has none. The
// map is the request's own copy (the core merges a fresh one per request),
// so this never reaches the defaults or another request.
func setMeta(cfg *axios.Config, key string, v any) {
	if cfg.Meta == nil {
		cfg.Meta = make(map[string]any, 4)
	}
	cfg.Meta[key] = v
}

// outcomeConfig returns the Config of a response interceptor's input: the
// response's, or the one an *axios.Error in err's chain carries. It is nil
// for an error that carries none, such as a plain error returned by a
// request interceptor.
func outcomeConfig(resp *axios.Response, err error) *axios.Config {
	if resp != nil {
		return resp.Config
	}
	e, ok := axios.AsError(err)
	if !ok {
		return nil
	}
	if e.Config != nil {
		return e.Config
	}
	if e.Response != nil {
		return e.Response.Config
	}
	return nil
}

var instanceSeq atomic.Uint64

// metaKey returns a Meta key unique to one interceptor value, so two Loggers
// or two Loading trackers on one client never read each other's state.
func metaKey(prefix string) string {
	return prefix + "#" + strconv.FormatUint(instanceSeq.Add(1), 10)
}
