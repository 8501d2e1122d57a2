//go:build !unix

package main

import "math"

// fdLimit is unbounded where there is no RLIMIT_NOFILE.
func fdLimit() (uint64, error) { return math.MaxUint64, nil }
