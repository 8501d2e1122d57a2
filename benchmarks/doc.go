// Package benchmarks compares this module against what a user would pick
// instead: raw net/http, raw resty v2 and x/oauth2's Transport. It holds no
// library code, only benchmarks:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./benchmarks
//
// and, in benchmarks/storm, the refresh-storm harness:
//
//	go run ./benchmarks/storm
//
// Absolute times depend on the machine and its load; only ratios taken in
// the same run mean anything. docs/benchmarks.md has the numbers, the
// commands and the machine they came from.
package benchmarks
