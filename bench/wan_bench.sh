#!/bin/bash
# wan_bench.sh - the Supabase plugin over a WAN round trip (issue 14, item 1):
# PostgreSQL 15 + the PostgREST fixture (bench/supabase-lib.sh), with
# bench/delay_proxy.py between the plugin and the fixture adding RTT (and
# LOSS) to every TCP chunk. `tc qdisc ... netem` in a network namespace is
# used nowhere: this machine's kernel has no sch_netem ("Specified qdisc kind
# is unknown"), so the proxy is the delay; the script says so in its output.
# For each RTT in RTTS:
#  1. samples/s of storage-supabase's append_samples with 1000-tag batches
#     (one logger cycle = one batch): keeping up at 1 Hz needs >= 1000/s, i.e.
#     a 1000-tag cycle written in under a second (APPEND_RUNS runs, median);
#  2. the drain time of a one-hour outage backlog (DRAIN_RECORDS records) of
#     100 tags and of 1000 tags, through the engine's batched outbox replay;
#     rows are counted after every drain (a lost or duplicated row fails);
#     each drain also prints the CPU seconds the fixture, PostgreSQL, the
#     proxy and the benchmark (the engine side) spent on it, and the load;
#  3. command pick-up latency: ald-engine (simulated tool, Supabase through
#     the proxy, logging the demo tool's 16 tags at 1 Hz) takes PICKUPS "stop" commands inserted with SQL at random phases
#     of its 500 ms poll; the pick-up is the time from the row's created_at
#     to the moment its claim reached PostgreSQL (a trigger records
#     clock_timestamp() when status goes pending -> processing).
# The proxy accepts the TCP connection locally, so connection set-up (and TLS,
# which the fixture does not speak) costs no RTT here: a real project pays one
# or two more RTTs per new connection; the plugin keeps its connection alive.
#
# Usage: bench/wan_bench.sh BUILD_DIR
#   knobs: RTTS ("0 20 50 100 150"), LOSS (0), APPEND_RUNS (3), APPEND_SAMPLES
#   per run (10000), DRAIN_RECORDS (3600), DRAIN_TAGS_LIST ("100 1000"),
#   DRAIN_RECORDS_1000 (DRAIN_RECORDS; records of the 1000-tag drain: on a
#   loaded machine 600 = a 10-minute backlog keeps the run short),
#   UNBATCHED_AT (an RTT, "" = skip: one more 100-tag drain of 600 records
#   at that RTT with the per-record replay of a 1.0 plugin, SB_UNBATCHED=1),
#   PICKUPS (10; 0 = skip section 3), SECTIONS ("append drain pickup").
# Needs: what bench/supabase_bench.sh needs.
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

RTTS=${RTTS:-0 20 50 100 150}
LOSS=${LOSS:-0}
APPEND_RUNS=${APPEND_RUNS:-3}
APPEND_SAMPLES=${APPEND_SAMPLES:-10000}
DRAIN_RECORDS=${DRAIN_RECORDS:-3600}
DRAIN_TAGS_LIST=${DRAIN_TAGS_LIST:-100 1000}
DRAIN_RECORDS_1000=${DRAIN_RECORDS_1000:-$DRAIN_RECORDS}
UNBATCHED_AT=${UNBATCHED_AT:-}
PICKUPS=${PICKUPS:-10}
SECTIONS=${SECTIONS:-append drain pickup}
# shellcheck source=bench/supabase-lib.sh
. "$(dirname "$0")/supabase-lib.sh"

PROXY_PORT=$(free_port)
CONTROL_PORT=$(free_port)
/usr/bin/python3 "$BENCH_SRCDIR/bench/delay_proxy.py" --listen "$PROXY_PORT" \
    --upstream "127.0.0.1:$FIXTURE_PORT" --rtt-ms 0 --loss "$LOSS" \
    --control "$CONTROL_PORT" >"$BENCH_TMP/proxy.out" 2>&1 &
PROXY_PID=$!
BENCH_PIDS+=("$PROXY_PID")
for _ in $(seq 50); do grep -q ready "$BENCH_TMP/proxy.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$BENCH_TMP/proxy.out" || die "delay_proxy.py did not start: $(cat "$BENCH_TMP/proxy.out")"
export SB_URL=http://127.0.0.1:$PROXY_PORT

machine_line
echo "backend: PostgreSQL $(sql 'SHOW server_version') (fsync off) behind the fixture;" \
    "delay: bench/delay_proxy.py (no sch_netem on this kernel), loss $LOSS"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) on $(nproc) cores"

set_rtt() {
    curl -fsS -o /dev/null "http://127.0.0.1:$CONTROL_PORT/rtt?ms=$1"
}

# append_at RTT: median samples/s of 1000-tag batches.
append_at() {
    local out rate
    sql "TRUNCATE parameter_value_history" >/dev/null
    out=$("$BENCH" append 1000 "$APPEND_RUNS" "$APPEND_SAMPLES") || die "append at $1 ms failed"
    printf '%s\n' "$out"
    expect_rows "$(sed -n 's/^rows written: //p' <<<"$out")" "append at $1 ms"
    rate=$(sed -n 's/^append batch [0-9]*: median \([0-9]*\) samples.*/\1/p' <<<"$out")
    row wan "append_samples 1000 tags at RTT $1 ms (median of $APPEND_RUNS)" ">= 1000 samples/s" \
        "$rate samples/s" "$(verdict "$rate >= 1000")" "bench/wan_bench.sh BUILD_DIR"
}

# drain_at RTT TAGS RECORDS [LABEL]: one drain of a backlog of RECORDS cycles.
drain_at() {
    local out secs bar=info want="(none)" proxy_cpu
    sql "TRUNCATE parameter_value_history" >/dev/null
    mkdir -p "$BENCH_TMP/drain-$1-$2-${4:-b}"
    # the fill (into the local SQLite outbox) costs the fixture, PostgreSQL
    # and the proxy nothing: their CPU from here on is the drain's
    profile_start
    P_PROXY=$(cpu_seconds "$PROXY_PID")
    out=$("$BENCH" drain "$3" "$2" "$BENCH_TMP/drain-$1-$2-${4:-b}") ||
        die "drain at $1 ms, $2 tags failed"
    printf '%s\n' "$out"
    secs=$(sed -n 's/^drain: .* in \([0-9.]*\) s .*/\1/p' <<<"$out")
    profile_end "drain profile ($1 ms, $2 tags)" "$secs" \
        "$(sed -n 's/^drain: .*CPU of this process \([0-9.]*\) s/\1/p' <<<"$out")" "$3"
    proxy_cpu=$(awk -v a="$(cpu_seconds "$PROXY_PID")" -v b="$P_PROXY" 'BEGIN { print a - b }')
    echo "drain profile ($1 ms, $2 tags): delay proxy CPU $proxy_cpu s; load $(cut -d' ' -f1-3 /proc/loadavg)"
    expect_rows "$(($3 * $2))" "drain at $1 ms, $2 tags"
    if [ "$2" = 1000 ] && [ "$1" = 100 ] && [ "$3" = 3600 ] && [ -z "${4:-}" ]; then
        bar=$(verdict "$secs < 60") want="< 60 s"
    fi
    row wan "drain $3 records x $2 tags at RTT $1 ms${4:+ ($4)}" "$want" "$secs s" "$bar" \
        "${SB_UNBATCHED:+SB_UNBATCHED=1 }bench/wan_bench.sh BUILD_DIR"
}

# pickup_setup: the claim trigger, then one engine for the whole section.
pickup_setup() {
    # the simulated tool serves only the demo tool's addresses: the bench
    # parameters (for the drains) are not read by this engine
    sql "UPDATE component_parameters SET read_modbus_address = NULL
         WHERE id::text LIKE 'a1000000-%'" >/dev/null
    sql "CREATE TABLE IF NOT EXISTS bench_pickups (id uuid PRIMARY KEY, claimed timestamptz);
         CREATE OR REPLACE FUNCTION bench_note_claim() RETURNS trigger LANGUAGE plpgsql AS
         \$\$ BEGIN INSERT INTO bench_pickups VALUES (NEW.id, clock_timestamp())
                  ON CONFLICT DO NOTHING; RETURN NEW; END \$\$;
         DROP TRIGGER IF EXISTS bench_claim ON recipe_commands;
         CREATE TRIGGER bench_claim AFTER UPDATE ON recipe_commands FOR EACH ROW
           WHEN (OLD.status = 'pending' AND NEW.status = 'processing')
           EXECUTE FUNCTION bench_note_claim();" >/dev/null
    ENGINE_PORT=$(free_port)
    SUPABASE_URL=$SB_URL SUPABASE_KEY=$SB_KEY ALD_DATA_DIR=$BENCH_TMP/engine \
        "$BUILD/ald-engine" --config "$BENCH_SRCDIR/conf.d" --http-port "$ENGINE_PORT" \
        >"$BENCH_TMP/engine.out" 2>"$BENCH_TMP/engine.log" &
    BENCH_PIDS+=($!)
    for _ in $(seq 300); do
        curl -fs -o /dev/null "http://127.0.0.1:$ENGINE_PORT/health/basic" && return 0
        sleep 0.1
    done
    die "ald-engine did not come up (log: $BENCH_TMP/engine.log)"
}

# pickup_at RTT: PICKUPS stop commands, one at a time; median / max pick-up.
pickup_at() {
    local i id out
    sql "TRUNCATE bench_pickups" >/dev/null
    for i in $(seq "$PICKUPS"); do
        id=$(sql "INSERT INTO recipe_commands (type, parameters, status, machine_id)
                  VALUES ('stop', '{}', 'pending', 'e3e6e280-0000-4000-8000-000000000001')
                  RETURNING id")
        for _ in $(seq 100); do
            [ "$(sql "SELECT count(*) FROM bench_pickups WHERE id = '$id'")" = 1 ] && break
            sleep 0.1
        done
        sleep "0.$((RANDOM % 10))" # a random phase against the 500 ms poll
    done
    out=$(sql "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), max(ms)
               FROM (SELECT extract(epoch FROM p.claimed - c.created_at) * 1000 AS ms
                     FROM bench_pickups p JOIN recipe_commands c USING (id)) t")
    IFS='|' read -r n med max <<<"$out"
    [ "$n" = "$PICKUPS" ] || die "only $n of $PICKUPS commands were picked up at RTT $1 ms"
    echo "pick-up at RTT $1 ms: $n commands, median $med ms, max $max ms (poll every 500 ms)"
    row wan "command pick-up at RTT $1 ms ($PICKUPS stop commands): median / max" "(none)" \
        "$(printf '%.0f / %.0f ms' "$med" "$max")" info "bench/wan_bench.sh BUILD_DIR"
}

for rtt in $RTTS; do
    case " $SECTIONS " in *" append "* | *" drain "*) ;; *) break ;; esac
    set_rtt "$rtt"
    echo "---- RTT $rtt ms ----"
    case " $SECTIONS " in *" append "*) append_at "$rtt" ;; esac
    case " $SECTIONS " in *" drain "*) ;; *) continue ;; esac
    for tags in $DRAIN_TAGS_LIST; do
        drain_at "$rtt" "$tags" "$([ "$tags" = 1000 ] && echo "$DRAIN_RECORDS_1000" || echo "$DRAIN_RECORDS")"
    done
    if [ "$rtt" = "$UNBATCHED_AT" ]; then
        SB_UNBATCHED=1 drain_at "$rtt" 100 600 "per-record replay, as a 1.0 plugin"
        drain_at "$rtt" 100 600 "batched, same records"
    fi
done

# 3. last: the engine writes into the tables the drains count.
case " $SECTIONS " in
*" pickup "*)
    if [ "$PICKUPS" -gt 0 ]; then
        pickup_setup
        for rtt in $RTTS; do
            set_rtt "$rtt"
            pickup_at "$rtt"
        done
    fi
    ;;
esac
