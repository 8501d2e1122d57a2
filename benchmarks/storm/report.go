package main

import (
	"fmt"
	"io"
	"time"
)

// writeStormTable writes rs with two ratios against base, one refresh plus
// one request: the storm's wall time over base plus the same N requests
// with a valid token (what N callers need at the least: each its one
// request, and one refresh for all), and over base alone.
func writeStormTable(w io.Writer, rs []stormResult, count int, base time.Duration) {
	fmt.Fprintln(w)
	if count > 1 {
		fmt.Fprintf(w, "each row: %d runs, median times, worst counts\n\n", count)
	}
	fmt.Fprintln(w, "| client | N | refresh calls | invalid_grant | failures | wall | p50 | p99 | valid-token burst | wall ÷ (one refresh + valid burst) | wall ÷ (one refresh + one request) |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %s | %s | %s | %s | %.2fx | %s |\n",
			r.client, r.n, r.refreshCalls, r.invalidGrants, r.storm.failures,
			ms(r.storm.wall), ms(r.storm.p50), ms(r.storm.p99), ms(r.valid.wall),
			float64(r.storm.wall)/float64(r.valid.wall+base), times(float64(r.storm.wall)/float64(base)))
	}
}

// times formats a ratio with about three significant digits.
func times(x float64) string {
	if x >= 100 {
		return fmt.Sprintf("%.0fx", x)
	}
	return fmt.Sprintf("%.2fx", x)
}

func writeProcsTable(w io.Writer, rs []procsResult, count int) {
	fmt.Fprintln(w)
	if count > 1 {
		fmt.Fprintf(w, "each row: %d runs, median times, worst counts\n\n", count)
	}
	fmt.Fprintln(w, "| store | processes × N | refresh calls | invalid_grant | failures | refreshed / adopted (processes) | wall | worst p99 |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, r := range rs {
		store := r.store + " (shared)"
		if r.store == "memory" {
			store = "memory (one per process)"
		}
		fmt.Fprintf(w, "| %s | %d × %d | %d | %d | %d | %d / %d | %s | %s |\n",
			store, r.procs, r.n, r.refreshCalls, r.invalidGrants, r.failures,
			r.refreshes, r.adopted, ms(r.wall), ms(r.p99))
	}
}

// ms formats d in milliseconds with three significant digits or so.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

func kib(b float64) string {
	if b < 1024 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.2f KiB", b/1024)
}
