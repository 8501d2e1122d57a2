//go:build !unix

package benchmarks_test

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
