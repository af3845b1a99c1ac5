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
# shellcheck source=bench/supabase-lib.sh
. "$(dirname "$0")/supabase-lib.sh"

machine_line
echo "backend: PostgreSQL $(sql 'SHOW server_version') (fsync off)" \
    "behind tests/fixtures/postgrest/server.py at $FIXTURE_URL"

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
