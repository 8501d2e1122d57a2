#!/usr/bin/env bash
# Runs the overhead benchmarks of two commits in the same run: the root
# package's BenchmarkGet and benchmarks' BenchmarkOverhead, built at BASE
# (a commit, through a temporary git worktree) and at the work tree, ROUNDS
# times each, interleaved, so drift in the machine's load hits both alike.
# BASE's results are renamed "<client>@base", and the ratios printed are
# same-run, paired, to raw net/http and to each client's own base.
#
#	benchmarks/beforeafter.sh 7d6eeb3            # 5 rounds, 1s per benchmark
#	ROUNDS=7 BENCHTIME=0.5s benchmarks/beforeafter.sh HEAD~10
#	OUT=/tmp/ba.txt benchmarks/beforeafter.sh 7d6eeb3   # keep the raw output
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: benchmarks/beforeafter.sh BASE_COMMIT}
rounds=${ROUNDS:-5}
benchtime=${BENCHTIME:-1s}
out=${OUT:-$(mktemp)}
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

git worktree add --detach "$tmp/base" "$base" >/dev/null
(cd "$tmp/base" && go test -c -o "$tmp/root.base" . && go test -c -o "$tmp/bench.base" ./benchmarks)
go test -c -o "$tmp/root.now" .
go test -c -o "$tmp/bench.now" ./benchmarks

run() { # binary bench-regexp suffix
	"$1" -test.run '^$' -test.bench "$2" -test.benchmem -test.benchtime "$benchtime" |
		grep '^Benchmark' | sed -E "s#^([^ \t]+)(-[0-9]+)([ \t])#\1$3\2\3#"
}
{
	echo "# $(go version); nproc $(nproc); base $(git rev-parse --short "$base"), now $(git rev-parse --short HEAD)$(git diff --quiet || echo '+dirty')"
	echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
for i in $(seq "$rounds"); do
	echo "# round $i/$rounds, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out" >&2
	run "$tmp/root.base" '^BenchmarkGet$/nonet' @base >>"$out"
	run "$tmp/root.now" '^BenchmarkGet$/nonet' '' >>"$out"
	run "$tmp/bench.base" '^BenchmarkOverhead$' @base >>"$out"
	run "$tmp/bench.now" '^BenchmarkOverhead$' '' >>"$out"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out"
echo "# raw results: $out"
go run ./benchmarks/ratios -paired -base nethttp,oauth2 <"$out"
