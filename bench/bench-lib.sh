# bench-lib.sh - helpers shared by the bench/*.sh scripts (sourced, not run).
#
# Each benchmark script is called as `SCRIPT BUILD_DIR` and
#  - prints what it does and its raw numbers on stdout,
#  - appends one line per bar to $BENCH_RESULTS (default: stdout), tab-separated:
#      area  metric  bar  measured  verdict(pass|miss|info)  command
#    bench/run-all.sh collects them into the results table.
# Servers and engines are started on 127.0.0.1, on free ports, in a private
# temporary directory, and stopped (by their own pid) when the script exits.
# shellcheck shell=bash

set -eu

BENCH_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ald-bench.XXXXXX")
BENCH_PIDS=()

bench_cleanup() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$BENCH_TMP"; else echo "kept $BENCH_TMP"; fi
}
trap bench_cleanup EXIT

die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# row AREA METRIC BAR MEASURED VERDICT COMMAND: one line of the results table.
row() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"${BENCH_RESULTS:-/dev/stdout}"
}

# verdict CONDITION-AWK-EXPRESSION: "pass" if it holds, else "miss".
verdict() {
    awk "BEGIN { exit !($1) }" && echo pass || echo miss
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for_line FILE PATTERN PID: until FILE has PATTERN (10 s), or PID died.
wait_for_line() {
    local _
    for _ in $(seq 200); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || break
        sleep 0.05
    done
    echo "timed out waiting for \"$2\" in $1; its end:" >&2
    tail -n 20 "$1" >&2
    return 1
}

# start_plcsim NAME [args...]: ald-plcsim on a free port, log in $BENCH_TMP/NAME.log.
# Sets PLCSIM_PORT, PLCSIM_PID, PLCSIM_LOG.
start_plcsim() {
    local name=$1
    shift
    PLCSIM_PORT=$(free_port)
    PLCSIM_LOG=$BENCH_TMP/$name.log
    "$BUILD/ald-plcsim" --port "$PLCSIM_PORT" --seed 1 "$@" 2>"$PLCSIM_LOG" &
    PLCSIM_PID=$!
    BENCH_PIDS+=("$PLCSIM_PID")
    wait_for_line "$PLCSIM_LOG" "listening on" "$PLCSIM_PID"
}

# stop_plcsim: SIGTERM; sets PLCSIM_READS to the read requests it served.
stop_plcsim() {
    kill -TERM "$PLCSIM_PID"
    wait "$PLCSIM_PID" || true
    # shellcheck disable=SC2034 # used by the scripts that source this file
    PLCSIM_READS=$(sed -n 's/.*served [0-9]* requests: \([0-9]*\) reads.*/\1/p' "$PLCSIM_LOG")
}

# machine_line: nproc, CPU model, load, for the report.
machine_line() {
    printf 'machine: %s CPUs, %s; load %s; %s\n' "$(nproc)" \
        "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
        "$(cut -d' ' -f1-3 /proc/loadavg)" "$(uname -sr)"
}

# cpu_seconds PID: user+system CPU of a process so far, from /proc/PID/stat.
cpu_seconds() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' \
        "/proc/$1/stat"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# log_ms PATTERN: the engine log's time stamp of the last line with PATTERN, ms since the epoch.
log_ms() {
    local stamp
    stamp=$(grep "$1" "$ENGINE_LOG" | tail -n 1 | cut -d' ' -f1)
    [ -n "$stamp" ] || return 1
    echo $(($(date -d "$stamp" +%s%N) / 1000000))
}

# median: of the numbers on stdin, one per line.
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# quantile Q: of the numbers on stdin (nearest rank), e.g. quantile 0.99.
quantile() {
    sort -g | awk -v q="$1" '{ v[NR] = $1 }
        END { if (!NR) exit; r = int(q * NR + 0.999999); if (r < 1) r = 1; print v[r] }'
}

# ---- the engine --------------------------------------------------------------

# engine_setup NAME: a fresh conf dir (copy of conf.d) and data dir under
# $BENCH_TMP/NAME; sets ENGINE_DIR.
engine_setup() {
    ENGINE_DIR=$BENCH_TMP/$1
    mkdir -p "$ENGINE_DIR/data"
    cp -r "$BENCH_SRCDIR/conf.d" "$ENGINE_DIR/conf"
}

# engine_start [VAR=value...]: run ald-engine on ENGINE_DIR with the given
# environment; waits for /health/basic. Sets ENGINE_PID, ENGINE_PORT, ENGINE_LOG.
engine_start() {
    ENGINE_PORT=$(free_port)
    ENGINE_LOG=$ENGINE_DIR/engine.log
    env ALD_DATA_DIR="$ENGINE_DIR/data" "$@" "$BUILD/ald-engine" --config "$ENGINE_DIR/conf" \
        --http-port "$ENGINE_PORT" >"$ENGINE_DIR/engine.out" 2>>"$ENGINE_LOG" &
    ENGINE_PID=$!
    BENCH_PIDS+=("$ENGINE_PID")
    local _
    for _ in $(seq 200); do
        curl -sf -o /dev/null "http://127.0.0.1:$ENGINE_PORT/health/basic" && return 0
        kill -0 "$ENGINE_PID" 2>/dev/null || break
        sleep 0.05
    done
    tail -n 20 "$ENGINE_LOG" >&2
    die "ald-engine did not come up (log: $ENGINE_LOG)"
}

engine_stop() {
    kill -TERM "$ENGINE_PID"
    wait "$ENGINE_PID" || true
}

# engine_db SQL...: run SQL on the engine's SQLite database (waiting up to
# 10 s for the engine's own write transactions).
engine_db() {
    sqlite3 -batch -bail -cmd '.timeout 10000' "$ENGINE_DIR/data/ald.db" "$@"
}

# scrape FILE: save /metrics of the running engine.
scrape() {
    curl -sf "http://127.0.0.1:$ENGINE_PORT/metrics" >"$1"
}

# metric FILE NAME: the value of an unlabelled series in a scrape.
metric() {
    awk -v n="$2" '$1 == n { print $2; exit }' "$1"
}

# hist_quantile FILE NAME Q: quantile Q of histogram NAME in a scrape, the
# upper bound of the bucket holding it (conservative: never under-reports).
hist_quantile() {
    awk -v n="$2_bucket" -v q="$3" '
        index($1, n "{le=\"") == 1 {
            le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
            les[++k] = le; cum[k] = $2
        }
        END {
            if (!k || cum[k] == 0) { print "nan"; exit }
            want = q * cum[k]
            for (i = 1; i <= k; i++) if (cum[i] >= want) { print les[i]; exit }
        }' "$1"
}

# hist_count FILE NAME: observations in histogram NAME.
hist_count() {
    metric "$1" "$2_count"
}

# hist_between FILE NAME LO HI: observations with LO < x <= HI (bucket bounds).
hist_between() {
    awk -v n="$2_bucket" -v lo="$3" -v hi="$4" '
        index($1, n "{le=\"") == 1 {
            le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
            if (le == lo) a = $2
            if (le == hi) b = $2
        }
        END { print b - a }' "$1"
}

# wait_until_sql SQL EXPECTED SECONDS: poll the database until SQL prints EXPECTED.
wait_until_sql() {
    local _
    for _ in $(seq $(($3 * 10))); do
        [ "$(engine_db "$1" 2>/dev/null || true)" = "$2" ] && return 0
        sleep 0.1
    done
    die "waited $3 s for \"$1\" to give \"$2\" (got \"$(engine_db "$1" || true)\"); log: $ENGINE_LOG"
}

# ---- recipes (set MACHINE first) ----------------------------------------------

# add_loop_recipe ID NAME ITERATIONS CHILDREN: a recipe of one top-level loop;
# CHILDREN is "valve:N:MS" / "purge:MS" words, in order.
add_loop_recipe() {
    local id=$1 name=$2 iterations=$3 seq=0 child kind a b sql
    local loop=${id%????}0000
    sql="INSERT INTO recipes (id, name, description) VALUES ('$id', '$name', 'benchmark');
        INSERT INTO recipe_steps (id, recipe_id, parent_step_id, sequence_number, name, type)
          VALUES ('$loop', '$id', NULL, 1, 'loop', 'loop');
        INSERT INTO loop_step_config (id, step_id, iteration_count)
          VALUES ('$loop-l', '$loop', $iterations);"
    for child in $4; do
        seq=$((seq + 1))
        IFS=: read -r kind a b <<<"$child"
        local sid
        sid=${id%????}$(printf '%04d' "$seq")
        sql+="INSERT INTO recipe_steps (id, recipe_id, parent_step_id, sequence_number, name,
              type) VALUES ('$sid', '$id', '$loop', $seq, '$kind $seq', '$kind');"
        if [ "$kind" = valve ]; then
            sql+="INSERT INTO valve_step_config (id, step_id, valve_number, duration_ms)
                  VALUES ('$sid-c', '$sid', $a, $b);"
        else
            sql+="INSERT INTO purge_step_config (id, step_id, duration_ms)
                  VALUES ('$sid-c', '$sid', $a);"
        fi
    done
    engine_db "$sql"
}

# start_recipe ID: queue a start_recipe command for it.
start_recipe() {
    engine_db "INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
        VALUES ('${1%????}cccc', 'start_recipe', '{\"recipe_id\": \"$1\"}', 'pending',
                '$MACHINE');"
}

# run_recipe ID SECONDS: start it with a command, wait until its process ended.
run_recipe() {
    start_recipe "$1"
    wait_until_sql "SELECT status FROM process_executions WHERE recipe_id = '$1'" completed "$2"
}

# pulse_errors CSV: events mono_ns,coil:N,open -> |error| of each open->close pair in ms
pulse_errors() {
    awk -F, 'NR > 1 { if ($3 == 1) opened[$2] = $1;
                      else if ($2 in opened) { e = ($1 - opened[$2]) / 1e6 - 20;
                                                print (e < 0 ? -e : e); delete opened[$2] } }' "$1"
}
