#!/bin/bash
# supabase_bench.sh - the Supabase write path against a real PostgreSQL 15 with
# the shipped migrations behind the PostgREST-compatible fixture
# (tests/fixtures/postgrest/pg.sh), by bench/supabase_bench (see its header):
#  1. samples/s through storage-supabase's append_samples, batches of 100 and
#     1000 samples, APPEND_RUNS runs each, median (information: no bar);
#  2. issue 5 bar: a one-hour backlog of 100 tags (3600 outbox records of 100
#     samples in storage-sqlite's outbox) drains through the engine's outbox
#     code in under a minute; DRAIN_RUNS runs, median. Also reported: API
#     requests per record and the CPU seconds of the fixture, of PostgreSQL
#     and of the benchmark during a drain (which side the time goes to);
#  3. the same drain once more with DRAIN_RTT_MS added to every API request
#     by the fixture (a WAN round trip; information, 0 = skip).
# After every run the rows in parameter_value_history are counted: a run that
# lost or duplicated a row fails the script.
#
# Usage: bench/supabase_bench.sh BUILD_DIR
#   knobs: APPEND_RUNS (5), APPEND_SAMPLES per run (batch 100: 20000, batch
#   1000: 100000), DRAIN_RUNS (3), DRAIN_RECORDS (3600), DRAIN_TAGS (100),
#   DRAIN_RTT_MS (20). Takes about 3 minutes.
# Needs: postgresql 15, python3-psycopg2 (Debian's /usr/bin/python3), curl, jq, psql.
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

APPEND_RUNS=${APPEND_RUNS:-5}
DRAIN_RUNS=${DRAIN_RUNS:-3}
DRAIN_RECORDS=${DRAIN_RECORDS:-3600}
DRAIN_TAGS=${DRAIN_TAGS:-100}
DRAIN_RTT_MS=${DRAIN_RTT_MS:-20}
BENCH=$BUILD/bench/supabase_bench
PG_SH=$BENCH_SRCDIR/tests/fixtures/postgrest/pg.sh
PARAMS=1000 # parameters created: enough for the largest batch (one tag per sample)

[ -x "$BENCH" ] || die "$BENCH missing: run (cd $BUILD && make bench)"
for tool in psql jq curl; do
    command -v "$tool" >/dev/null || die "$tool missing: apt-get install postgresql jq curl"
done

# PostgreSQL runs as the postgres user, so its directory cannot be inside a
# private (0700) temporary directory such as $BENCH_TMP.
PGDIR=$(mktemp -d /tmp/ald-sbbench-XXXXXX)
chmod 755 "$PGDIR"
sb_cleanup() {
    sh "$PG_SH" stop "$PGDIR" || true
    rm -rf "$PGDIR"
    bench_cleanup
}
trap sb_cleanup EXIT

# A throwaway key for the throwaway fixture; never printed.
SB_KEY=bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
export ALD_FIXTURE_KEY=$SB_KEY SB_KEY
sh "$PG_SH" start "$PGDIR" --seed || die "pg.sh start failed (logs in $PGDIR)"
# shellcheck disable=SC1091 # written by pg.sh start
. "$PGDIR/env"
export SB_URL=$FIXTURE_URL ALD_TOP_BUILDDIR=$BUILD

sql() {
    PGOPTIONS='-c client_min_messages=warning' \
        psql "$PSQL_DSN" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# PARAMS parameters of the demo machine, 100 per component, with the ids
# bench/supabase_bench uses for tag i: a1000000-0000-4000-8000-<i, 12 digits>.
sql "INSERT INTO machine_components (id, machine_id, name, type)
     SELECT ('c1000000-0000-4000-8000-' || lpad(c::text, 12, '0'))::uuid,
            'e3e6e280-0000-4000-8000-000000000001', 'Bench group ' || c, 'sensor'
     FROM generate_series(0, ($PARAMS - 1) / 100) AS c;
     INSERT INTO component_parameters (id, component_id, data_type, read_modbus_address,
                                       read_modbus_type)
     SELECT ('a1000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
            ('c1000000-0000-4000-8000-' || lpad((i / 100)::text, 12, '0'))::uuid,
            'float', 1000 + 2 * i, 'input_register'
     FROM generate_series(0, $PARAMS - 1) AS i;" >/dev/null
[ "$(sql "SELECT count(*) FROM component_parameters WHERE id::text LIKE 'a1000000-%'")" = "$PARAMS" ] ||
    die "creating the $PARAMS bench parameters failed"

# expect_rows N WHAT: parameter_value_history holds exactly N rows, all bench tags.
expect_rows() {
    local got
    got=$(sql "SELECT count(*) || ' ' || count(DISTINCT (parameter_id, \"timestamp\")) || ' ' ||
                      count(*) FILTER (WHERE parameter_id IN (SELECT id FROM component_parameters))
               FROM parameter_value_history")
    [ "$got" = "$1 $1 $1" ] || die "$2: expected $1 rows (distinct, known parameters), got \"$got\""
}

# fixture_requests: API requests the fixture has answered so far.
fixture_requests() {
    curl -fsS "$FIXTURE_URL/_test/stats" | jq -r .requests
}

# pg_cpu: CPU seconds of the cluster's processes (postmaster and its children).
pg_cpu() {
    local master total=0 pid
    master=$(head -n 1 "$PGDIR/pgdata/postmaster.pid")
    for pid in "$master" $(ps -o pid= --ppid "$master"); do
        [ -r "/proc/$pid/stat" ] || continue
        total=$(awk -v a="$total" -v b="$(cpu_seconds "$pid" 2>/dev/null || echo 0)" \
            'BEGIN { print a + b }')
    done
    echo "$total"
}

# profile_start / profile_end LABEL WALL_S BENCH_CPU_S RECORDS: API requests and
# CPU seconds of the fixture, PostgreSQL and the benchmark between the two
# calls, against the wall time: which side a phase's time goes to.
profile_start() {
    P_REQ=$(fixture_requests) P_FX=$(cpu_seconds "$FIXTURE_PID") P_PG=$(pg_cpu)
}
profile_end() {
    awk -v label="$1" -v wall="$2" -v me="$3" -v rec="$4" \
        -v n="$(($(fixture_requests) - P_REQ))" -v fx="$(cpu_seconds "$FIXTURE_PID")" \
        -v fx0="$P_FX" -v pg="$(pg_cpu)" -v pg0="$P_PG" \
        'BEGIN { fx -= fx0; pg -= pg0
                 printf "%s: %.2f s wall; %d API requests (%.2f per batch); CPU s: " \
                        "fixture %.2f, PostgreSQL %.2f, bench %.2f (sum %.0f%% of the wall time)\n",
                        label, wall, n, n / rec, fx, pg, me, 100 * (fx + pg + me) / wall }'
}

machine_line
echo "backend: PostgreSQL $(sql 'SHOW server_version') (fsync off)" \
    "behind tests/fixtures/postgrest/server.py at $FIXTURE_URL"
FIXTURE_PID=$(cat "$PGDIR/fixture.pid")

# ---- 1. append_samples -------------------------------------------------------
for batch in 100 1000; do
    samples=${APPEND_SAMPLES:-$((batch == 100 ? 20000 : 100000))}
    sql "TRUNCATE parameter_value_history" >/dev/null
    profile_start
    out=$("$BENCH" append "$batch" "$APPEND_RUNS" "$samples") || die "$BENCH append $batch failed"
    printf '%s\n' "$out"
    wall=$(sed -n 's/^append batch [0-9]*: all runs in \([0-9.]*\) s.*/\1/p' <<<"$out")
    bench_cpu=$(sed -n 's/^append batch .*: all runs .*CPU of this process \([0-9.]*\) s/\1/p' \
        <<<"$out")
    written=$(sed -n 's/^rows written: //p' <<<"$out")
    profile_end "append batch $batch, all runs" "$wall" "$bench_cpu" "$((written / batch))"
    expect_rows "$written" "append batch $batch"
    rate=$(sed -n 's/^append batch [0-9]*: median \([0-9]*\) samples.*/\1/p' <<<"$out")
    [ -n "$rate" ] || die "no result from $BENCH append $batch"
    row supabase "append_samples into the fixture, batch $batch (median of $APPEND_RUNS)" \
        "(none)" "$(awk -v r="$rate" 'BEGIN { printf "%.1f k samples/s", r / 1000 }')" info \
        "bench/supabase_bench.sh BUILD_DIR"
done

# ---- 2. drain a one-hour backlog --------------------------------------------
# drain_once NAME: one drain into an empty table; sets DRAIN_S (wall seconds).
drain_once() {
    local out bench_cpu
    sql "TRUNCATE parameter_value_history" >/dev/null
    mkdir -p "$BENCH_TMP/$1"
    profile_start
    out=$("$BENCH" drain "$DRAIN_RECORDS" "$DRAIN_TAGS" "$BENCH_TMP/$1") ||
        die "$BENCH drain failed ($1)"
    printf '%s\n' "$out"
    DRAIN_S=$(sed -n 's/^drain: .* in \([0-9.]*\) s .*/\1/p' <<<"$out")
    bench_cpu=$(sed -n 's/^drain: .*CPU of this process \([0-9.]*\) s/\1/p' <<<"$out")
    [ -n "$DRAIN_S" ] || die "no result from $BENCH drain ($1)"
    profile_end "$1" "$DRAIN_S" "$bench_cpu" "$DRAIN_RECORDS"
    expect_rows "$((DRAIN_RECORDS * DRAIN_TAGS))" "$1"
}

times=()
for run in $(seq "$DRAIN_RUNS"); do
    drain_once "drain run $run"
    times+=("$DRAIN_S")
done
median_s=$(printf '%s\n' "${times[@]}" | median)
echo "drain of $DRAIN_RECORDS records x $DRAIN_TAGS tags: median $median_s s over $DRAIN_RUNS runs" \
    "(sorted: $(printf '%s\n' "${times[@]}" | sort -g | tr '\n' ' '))"
row supabase \
    "drain $DRAIN_RECORDS outbox records x $DRAIN_TAGS tags (1 h backlog) into the fixture (median of $DRAIN_RUNS)" \
    "< 60 s" "$median_s s" "$(verdict "$median_s < 60")" "bench/supabase_bench.sh BUILD_DIR"

# ---- 3. the same drain with a WAN round trip ----------------------------------
# The fixture is on localhost; a real Supabase project is tens of ms away, and
# the replay sends one request per outbox record. The fixture's delay knob adds
# DRAIN_RTT_MS to every API request (information: one run).
if [ "$DRAIN_RTT_MS" -gt 0 ]; then
    curl -fsS -o /dev/null "$FIXTURE_URL/_test/delay?ms=$DRAIN_RTT_MS"
    drain_once "drain with +$DRAIN_RTT_MS ms per request"
    curl -fsS -o /dev/null "$FIXTURE_URL/_test/reset"
    row supabase "the same drain, +$DRAIN_RTT_MS ms per request (simulated WAN round trip; 1 run)" \
        "(< 60 s)" "$DRAIN_S s" info "bench/supabase_bench.sh BUILD_DIR"
fi
