#!/bin/bash
# failover_bench.sh - failover and switch figures of the deploy kit (issue 11).
#
# Usage: bench/failover_bench.sh BUILD_DIR     (RUNS, default 5)
# Runs the live suites with real HAProxy and engines on one shared store:
#  (a) RUNS x tests/deploy/failover.bats "SIGKILL ...": the gap in stored
#      cycles (seconds without a sample between the killed engine's last and
#      the standby's first), ms from SIGKILL to the standby's lease (its log
#      line) and to HAProxy routing to it (polled every 100 ms);
#  (b) tests/deploy/switch.bats "repeated switches": three deploy.sh runs,
#      each one's wall time, cycles lost over the three handovers, and
#      requests through HAProxy that did not answer 200;
#  (c) tests/deploy/slow-clients.py: 500 idle/dripping connections while
#      /health and /metrics are fetched 5 times each.
set -eu
build=$(cd "${1:?usage: failover_bench.sh BUILD_DIR}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export ALD_TOP_SRCDIR=$src ALD_TOP_BUILDDIR=$build

for _ in $(seq "$runs"); do
    FAILOVER_RECORD=$out/failover bats -f "SIGKILL of the active" "$src/tests/deploy/failover.bats" >/dev/null
done
SWITCH_RECORD=$out/switch bats -f "repeated switches" "$src/tests/deploy/switch.bats" >/dev/null

echo "(a) SIGKILL failover, $runs runs:"
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = v[kv[1]] " " kv[2] } }
     END { for (k in v) print "    " k ":" v[k] }' "$out/failover" | sort
echo "(b) deploy.sh switches:"
sed 's/^/    /' "$out/switch"

echo "(c) 500 idle/dripping connections:"
data=$out/data
mkdir -p "$data"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ALD_DATA_DIR=$data "$build/ald-engine" --config "$src/conf.d" --http-port "$port" 2>"$out/engine.log" &
engine=$!
for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && break
    sleep 0.1
done
/usr/bin/python3 "$src/tests/deploy/slow-clients.py" "$port" 500 /health/basic /health /metrics |
    sed 's/^/    /'
kill -TERM "$engine"
wait "$engine" || true
