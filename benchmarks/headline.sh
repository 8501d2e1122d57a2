#!/usr/bin/env bash
# The headline per-request overhead with no network: BenchmarkOverhead/nonet,
# each client in its own process (a fresh heap, nothing left by another
# benchmark), ROUNDS rounds interleaved, ratios paired by round.
#
#	benchmarks/headline.sh
#	ROUNDS=10 BENCHTIME=1s benchmarks/headline.sh
#
# VARIANTS compares the auth clients of other copies of the module, e.g. with
# a patch to auth applied: VARIANTS="fix1=/tmp/copy1 fix2=/tmp/copy2" adds
# rows axios-auth-fix1, axios-stack-fix1, ... built from those trees.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-10}
benchtime=${BENCHTIME:-1s}
out=${OUT:-$(mktemp)}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

go test -c -o "$bin/this.test" ./benchmarks
variants=()
for v in ${VARIANTS:-}; do
	name=${v%%=*}
	(cd "${v#*=}" && go test -c -o "$bin/$name.test" ./benchmarks)
	variants+=("$name")
done

run() { # binary client [suffix]
	"$1" -test.run '^$' -test.bench "^BenchmarkOverhead\$/^nonet\$/^$2\$" -test.benchmem -test.benchtime "$benchtime" |
		grep '^Benchmark' | sed -E "s#(Overhead/nonet/$2)-#\1${3:-}-#"
}

echo "# $(go version); nproc $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out"
for i in $(seq "$rounds"); do
	echo "# round $i/$rounds, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	for c in nethttp resty oauth2 axios axios-auth axios-stack; do
		run "$bin/this.test" "$c" >>"$out"
	done
	for name in "${variants[@]}"; do
		for c in axios-auth axios-stack; do
			run "$bin/$name.test" "$c" "-$name" >>"$out"
		done
	done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg); raw results: $out" | tee -a "$out"
go run ./benchmarks/ratios -paired -base resty,axios <"$out"
