#!/usr/bin/env bash
# Smoke test of every example: build it, run it with a timeout, and check its
# summary line exactly. .ci/run calls this script; run it by hand with
#   ./examples/smoke.sh
# redis-worker needs redis-server on the PATH, and cluster-worker a Redis
# Cluster, which this script starts with redis-server and redis-cli: without
# them, this fails when CI is set and prints a SKIP line otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=$(mktemp -d)
node_pids=() # the Redis Cluster's nodes, stopped at exit
cleanup() {
	if [ ${#node_pids[@]} -gt 0 ]; then
		kill "${node_pids[@]}" 2>/dev/null || true
		wait "${node_pids[@]}" 2>/dev/null || true
	fi
	rm -rf "$bin"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # run cleanup on Ctrl-C too

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

# start_cluster_node DIR: start a cluster-enabled redis-server on a free
# loopback port (and a free bus port, port+10000), wait until it answers,
# and append its address to cluster_addrs and its pid to node_pids.
start_cluster_node() {
	local dir=$1 port pid
	for _ in $(seq 10); do
		port=$((20000 + RANDOM % 30000))
		# Taken if something answers there (bash's /dev/tcp connects).
		if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null ||
			(: <"/dev/tcp/127.0.0.1/$((port + 10000))") 2>/dev/null; then
			continue
		fi
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
			--cluster-enabled yes --cluster-config-file "$dir/nodes-$port.conf" \
			--dir "$dir" >"$dir/$port.log" 2>&1 &
		pid=$!
		for _ in $(seq 100); do
			# Ours, not another program's that took the port meanwhile.
			if redis-cli -p "$port" info server 2>/dev/null | tr -d '\r' | grep -qx "process_id:$pid"; then
				node_pids+=("$pid")
				cluster_addrs+=("127.0.0.1:$port")
				return 0
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	echo "could not start a cluster node on a free port" >&2
	tail -n 20 "$dir/$port.log" >&2 2>/dev/null || true
	return 1
}

# start_cluster: three masters, no replicas, as internal/redistest's
# StartCluster does; waits until every node reports cluster_state:ok.
start_cluster() {
	local dir=$bin/cluster addr ok
	mkdir -p "$dir"
	cluster_addrs=()
	start_cluster_node "$dir" && start_cluster_node "$dir" && start_cluster_node "$dir" || return 1
	redis-cli --cluster create "${cluster_addrs[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 || {
		tail -n 20 "$dir/create.log" >&2
		return 1
	}
	for addr in "${cluster_addrs[@]}"; do
		ok=
		for _ in $(seq 300); do
			if redis-cli -h "${addr%:*}" -p "${addr##*:}" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; then
				ok=1
				break
			fi
			sleep 0.1
		done
		[ -n "$ok" ] || {
			echo "cluster node $addr not ok within 30s" >&2
			return 1
		}
	done
}

REDIS_CLUSTER_ADDRS= smoke cluster-worker \
	'^cluster-worker: set REDIS_CLUSTER_ADDRS=host:port,host:port,\.\.\. \(nodes of a Redis Cluster\) to run this example$'
if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
	echo "== a 3-node Redis Cluster for examples/cluster-worker"
	if start_cluster; then
		echo "started on ${cluster_addrs[*]}"
		REDIS_CLUSTER_ADDRS=$(
			IFS=,
			echo "${cluster_addrs[*]}"
		) smoke cluster-worker '^cluster: 4 workers, 400 requests, 400 succeeded, 1 refresh$'
	else
		echo "FAIL examples/cluster-worker: could not start a Redis Cluster"
		failures=$((failures + 1))
	fi
elif [ -n "${CI:-}" ]; then
	echo "FAIL examples/cluster-worker: redis-server or redis-cli is not on the PATH and CI is set (apt-get install redis-server redis-tools)"
	failures=$((failures + 1))
else
	echo "SKIP examples/cluster-worker on a cluster: redis-server or redis-cli is not on the PATH (apt-get install redis-server redis-tools)"
fi

if [ "$failures" -ne 0 ]; then
	echo "examples: $failures FAILED"
	exit 1
fi
echo "examples: all passed"
