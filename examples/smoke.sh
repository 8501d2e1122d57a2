#!/usr/bin/env bash
# Smoke test of every example: build it, run it with a timeout, and check its
# summary line exactly. .ci/run calls this script; run it by hand with
#   ./examples/smoke.sh
# redis-worker needs redis-server on the PATH: without it, this fails when CI
# is set and prints a SKIP line otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

failures=0

# smoke NAME REGEX...: run examples/NAME with no arguments and require, for
# each REGEX (grep -E, anchored), a line of its stdout that matches it.
smoke() {
	local name=$1
	shift
	echo "== examples/$name"
	if ! go build -o "$bin/$name" "./examples/$name"; then
		echo "FAIL examples/$name: build failed"
		failures=$((failures + 1))
		return
	fi
	local out rc=0
	out=$(timeout 60 "$bin/$name" 2>"$bin/$name.stderr") || rc=$?
	printf '%s\n' "$out"
	if [ "$rc" -ne 0 ]; then
		echo "FAIL examples/$name: exit status $rc$([ "$rc" -eq 124 ] && echo ' (timed out after 60s)')"
		echo "-- stderr:"
		tail -n 40 "$bin/$name.stderr"
		failures=$((failures + 1))
		return
	fi
	local want
	for want in "$@"; do
		if ! grep -Eq "$want" <<<"$out"; then
			echo "FAIL examples/$name: no line matches $want"
			echo "-- stderr:"
			tail -n 40 "$bin/$name.stderr"
			failures=$((failures + 1))
			return
		fi
	done
	echo "ok   examples/$name"
}

smoke quickstart '^20 requests, 20 succeeded, 1 refresh$'
smoke vue-refresh '^auth\.Authenticator: 5 requests, 5 succeeded, 1 refresh$'
smoke react-client '^6 requests, 4 succeeded, 1 not found, 1 refresh, logged out$'
smoke concurrent \
	'^reactive:  10 requests, 10 succeeded, 1 refresh, 10 401s$' \
	'^proactive: 10 requests, 10 succeeded, 1 refresh, 0 401s$' \
	'^chain:     6 calls in order across 1 refresh: start>1>2>3>4>5>6$'
smoke service '^service: 1 login for 50 first requests, 1 login after revocation, recovered from a 503: ok$'

if command -v redis-server >/dev/null 2>&1; then
	smoke redis-worker '^4 workers, 400 requests, 400 succeeded, 1 refresh$'
elif [ -n "${CI:-}" ]; then
	echo "FAIL examples/redis-worker: redis-server is not on the PATH and CI is set (apt-get install redis-server)"
	failures=$((failures + 1))
else
	echo "SKIP examples/redis-worker: redis-server is not on the PATH (apt-get install redis-server)"
fi

if [ "$failures" -ne 0 ]; then
	echo "examples: $failures FAILED"
	exit 1
fi
echo "examples: all passed"
