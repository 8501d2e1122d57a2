#!/usr/bin/env bash
# Runs the overhead benchmarks as docs/benchmarks.md reports them: the root
# package's BenchmarkGet and this directory's BenchmarkOverhead, ROUNDS times
# each (default 5), the two packages and the rounds interleaved, so slow
# drift in the machine's load hits every client alike. Then prints medians
# and same-run ratios (each the median of the per-round ratios).
# Equivalent to `-count ROUNDS`, but interleaved.
#
#	benchmarks/run.sh            # 5 rounds, 1s per benchmark
#	ROUNDS=7 BENCHTIME=2s benchmarks/run.sh
#	OUT=/tmp/bench.txt benchmarks/run.sh   # keep the raw output
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-5}
benchtime=${BENCHTIME:-1s}
out=${OUT:-$(mktemp)}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

go test -c -o "$bin/root.test" .
go test -c -o "$bin/bench.test" ./benchmarks

{
	echo "# $(go version); nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
	echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
for i in $(seq "$rounds"); do
	echo "# round $i/$rounds, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out" >&2
	"$bin/root.test" -test.run '^$' -test.bench '^BenchmarkGet$' -test.benchmem -test.benchtime "$benchtime" | grep '^Benchmark' >>"$out"
	"$bin/bench.test" -test.run '^$' -test.bench '^BenchmarkOverhead$' -test.benchmem -test.benchtime "$benchtime" | grep '^Benchmark' >>"$out"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
echo "# raw results: $out"
go run ./benchmarks/ratios -paired -base resty,nethttp <"$out"
