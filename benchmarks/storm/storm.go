package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/axiosgo/axios/auth/authtest"
)

// stormResult is one client's storm at one N.
type stormResult struct {
	client        string
	n             int
	refreshCalls  int64 // calls to the server's refresh endpoints during the storm
	invalidGrants int64
	storm         burstResult // the N requests after Revoke
	valid         burstResult // the same N with a valid token, just before
}

// runStorm measures one client at one N against its own authtest server:
// it logs in, sends two bursts of N with a valid token (the first opens the
// connections, the second is the reference), revokes every access token
// and sends the burst of N again. Counters cover the last burst only.
func runStorm(ctx context.Context, client string, n int, o options) (stormResult, error) {
	srv := authtest.NewServer(serverOptions(client))
	defer srv.Close()
	tr := newTransport(o.conns)
	defer tr.CloseIdleConnections()
	c, err := newClient(client, srv, tr, nil)
	if err != nil {
		return stormResult{}, err
	}
	defer c.close()

	res := stormResult{client: client, n: n}
	if w := burst(ctx, n, c.get); w.failures > 0 {
		return res, fmt.Errorf("storm: %s: %d of %d requests failed with a valid token: %w", client, w.failures, n, w.firstErr)
	}
	res.valid = burst(ctx, n, c.get)
	if res.valid.failures > 0 {
		return res, fmt.Errorf("storm: %s: %d of %d requests failed with a valid token: %w", client, res.valid.failures, n, res.valid.firstErr)
	}

	srv.SetRefreshDelay(o.refreshDelay)
	srv.ResetCounters()
	srv.Revoke()
	res.storm = burst(ctx, n, c.get)
	res.refreshCalls = srv.RefreshCalls()
	res.invalidGrants = srv.InvalidGrants()
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("storm: %s at N=%d: %w (raise -timeout)", client, n, err)
	}
	return res, nil
}

// refreshBaseline is the time one request needs when its token must be
// refreshed and nobody else is in the way: one refresh plus one request, on
// warm connections, with our client. It returns the median of reps.
func refreshBaseline(ctx context.Context, o options, reps int) (time.Duration, error) {
	srv := authtest.NewServer(serverOptions(clientAxios))
	defer srv.Close()
	srv.SetRefreshDelay(o.refreshDelay)
	tr := newTransport(o.conns)
	defer tr.CloseIdleConnections()
	c, err := newClient(clientAxios, srv, tr, nil)
	if err != nil {
		return 0, err
	}
	if err := c.get(ctx); err != nil { // open the connection
		return 0, err
	}
	times := make([]time.Duration, 0, reps)
	for range reps {
		t0 := time.Now()
		if _, err := c.authn.Refresh(ctx); err != nil {
			return 0, fmt.Errorf("storm: baseline refresh: %w", err)
		}
		if err := c.get(ctx); err != nil {
			return 0, fmt.Errorf("storm: baseline request: %w", err)
		}
		times = append(times, time.Since(t0))
	}
	if got := srv.RefreshCalls(); got != int64(reps) {
		return 0, errors.New("storm: baseline: refresh calls do not match")
	}
	return medianDuration(times), nil
}

// summarize folds repeated runs of one storm into one row: the median of
// each time, the worst (largest) of each count.
func summarize(runs []stormResult) stormResult {
	out := runs[0]
	med := func(get func(stormResult) time.Duration) time.Duration {
		d := make([]time.Duration, len(runs))
		for i, r := range runs {
			d[i] = get(r)
		}
		return medianDuration(d)
	}
	out.storm.wall = med(func(r stormResult) time.Duration { return r.storm.wall })
	out.storm.p50 = med(func(r stormResult) time.Duration { return r.storm.p50 })
	out.storm.p99 = med(func(r stormResult) time.Duration { return r.storm.p99 })
	out.valid.wall = med(func(r stormResult) time.Duration { return r.valid.wall })
	for _, r := range runs[1:] {
		out.refreshCalls = max(out.refreshCalls, r.refreshCalls)
		out.invalidGrants = max(out.invalidGrants, r.invalidGrants)
		if r.storm.failures > out.storm.failures {
			out.storm.failures, out.storm.firstErr = r.storm.failures, r.storm.firstErr
		}
	}
	return out
}
