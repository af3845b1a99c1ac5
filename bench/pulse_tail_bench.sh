#!/bin/bash
# pulse_tail_bench.sh - the valve pulse's timing tail against the machine's
# own limit, interleaved (issue 14, item 3).
#
# Usage: bench/pulse_tail_bench.sh BUILD_DIR
#   PULSES (default 1000) pulses of 20 ms with 20 ms purges per run;
#   ROUNDS (default 3) rounds; each round runs every mode of MODES once, in
#   order, so the modes share the machine's load (A/B/A/B, never one long
#   block each); MODES default "engine bare engine-rt bare-fifo":
#     engine     ald-engine, PLC_TYPE=real, normal scheduling
#     engine-rt  the same with ALD_EXECUTOR_RT_PRIORITY=$RT_PRIORITY (50)
#     bare       bench/reference_bench pulse (a bare libmodbus client, a 1 Hz
#                reader on a second connection)
#     bare-fifo  the same under `chrt -f $RT_PRIORITY` (fair to the RT mode)
#     base       the engine of BASE_BUILD (another build directory, e.g. the
#                branch point's), normal scheduling: an A/B in the same rounds
# While an engine runs its recipe the script does not poll the store: it
# sleeps the recipe's nominal time first, then polls for the end (a poll is a
# sqlite3 process, ~1-2 ms of CPU ten times a second, which perf sched showed
# on the run thread's core; the bare client's run has no such neighbour).
# POLL_DURING_RUN=1 polls from the start, as before 2026-12-04.
# PERF_SCHED=1 records `perf sched` (all CPUs) over each engine run and prints
# what kept the run thread from a core (bench/run_thread_delay.py).
# Every run gets a fresh ald-plcsim --events; the pulse error is what the
# server saw (close minus open arrival, minus 20 ms, absolute). Per run: p50,
# p99, max; per mode: the median over the rounds; the ratios of the medians
# of p99 to the bare reference's.
# A build configured with --enable-pulse-trace also writes each engine run's
# phases (engine/pulse_trace.h) and joins them with the server's events:
# error = wake lateness + control-lane wait + OFF send->arrival + ON
# arrival->answer (the pulse is timed from the answer to the ON write),
# shown for the worst 1 % of pulses (the p99 tail) and for all.
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

PULSES=${PULSES:-1000}
ROUNDS=${ROUNDS:-3}
MODES=${MODES:-engine bare engine-rt bare-fifo}
RT_PRIORITY=${RT_PRIORITY:-50}
POLL_DURING_RUN=${POLL_DURING_RUN:-0}
PERF_SCHED=${PERF_SCHED:-0}
BASE_BUILD=${BASE_BUILD:-}
MACHINE=e3e6e280-0000-4000-8000-000000000001
machine_line
echo "$PULSES pulses of 20 ms per run, $ROUNDS rounds of: $MODES"

# run_engine NAME [VAR=value...]: the pulse recipe through a fresh engine.
run_engine() {
    local name=$1 recipe=bbe0c000-0000-4000-8000-0000000a0000
    shift
    engine_setup "$name"
    engine_start # create and seed the store with the simulator first
    engine_stop
    add_loop_recipe "$recipe" "bench pulses" $((PULSES / 2)) \
        "valve:1:20 purge:20 valve:2:20 purge:20"
    engine_start PLC_TYPE=real PLC_HOST=127.0.0.1 PLC_PORT="$PLCSIM_PORT" \
        ALD_PULSE_TRACE_FILE="$BENCH_TMP/$name.trace" "$@"
    local limit=$((PULSES * 40 / 1000 * 3 + 30))
    if [ "$POLL_DURING_RUN" = 1 ]; then
        run_recipe "$recipe" "$limit"
    else
        start_recipe "$recipe"
        local nominal
        nominal=$(awk -v n="$PULSES" 'BEGIN { print n * 0.040 }') # 20 + 20 ms each
        if [ "$PERF_SCHED" = 1 ]; then
            perf sched record -k CLOCK_MONOTONIC -a -o "$BENCH_TMP/$name.sched" -- \
                sleep "$nominal" >/dev/null 2>&1 || die "perf sched record failed"
        else
            sleep "$nominal"
        fi
        wait_until_sql "SELECT status FROM process_executions WHERE recipe_id = '$recipe'" \
            completed "$limit"
    fi
    curl -sf "http://127.0.0.1:$ENGINE_PORT/health" >"$BENCH_TMP/$name.health" || true
    engine_stop
}

run_bare() {
    "$@" "$BUILD/bench/reference_bench" pulse 127.0.0.1 "$PLCSIM_PORT" "$PULSES" 20 0 \
        >/dev/null || die "bench/reference_bench pulse failed"
}

# stats FILE: "p50 p99 max" of the numbers in FILE (ms, 3 decimals).
stats() {
    printf '%.3f %.3f %.3f' "$(median <"$1")" "$(quantile 0.99 <"$1")" "$(quantile 1 <"$1")"
}

# trace_join TRACE EVENTS: per pulse, in ms: error wake lane off_lat
# on_to_answer nivcsw minflt (the k-th open->close pair at the server is the
# k-th record); error = wake + lane + off_lat + on_to_answer.
trace_join() {
    awk -F, 'FNR == 1 { next }
        NR == FNR { n++; for (i = 1; i <= 12; i++) t[n, i] = $i; next }
        $3 == 1 { on[$2] = $1; next }
        ($2 in on) { k++; on_at[k] = on[$2]; off_at[k] = $1; delete on[$2] }
        END {
            for (i = 1; i <= k && i <= n; i++) {
                err = (off_at[i] - on_at[i]) / 1e6 - 20
                printf "%.3f %.3f %.3f %.3f %.3f %d %d\n", err < 0 ? -err : err,
                    (t[i, 6] - t[i, 5]) / 1e6, (t[i, 7] - t[i, 6]) / 1e6,
                    (off_at[i] - t[i, 7]) / 1e6, (t[i, 3] - on_at[i]) / 1e6,
                    t[i, 11], t[i, 12]
            }
        }' "$1" "$2"
}

# trace_report NAME: mean of each component over all pulses and over the worst 1 %.
trace_report() {
    local joined=$BENCH_TMP/$1.joined
    trace_join "$BENCH_TMP/$1.trace" "$BENCH_TMP/$1.events" >"$joined"
    local worst=$((PULSES / 100 > 0 ? PULSES / 100 : 1))
    for set in all worst; do
        if [ $set = all ]; then cat "$joined"; else sort -g -r "$joined" | head -n "$worst"; fi |
            awk -v name="$1" -v set="$set" '{ for (i = 1; i <= 7; i++) s[i] += $i; n++ }
            END { printf "  trace %s, %s %d: mean error %.3f = wake late %.3f + lane wait %.3f" \
                  " + OFF send->arrival %.3f + ON arrival->answer %.3f ms; involuntary switches %.2f," \
                  " minor faults %.2f per pulse\n", name, set, n, s[1]/n, s[2]/n, s[3]/n,
                  s[4]/n, s[5]/n, s[6]/n, s[7]/n }'
    done
}

# sched_report NAME: what kept the run thread from a core during the run.
sched_report() {
    local data=$BENCH_TMP/$1.sched
    perf sched timehist --state -i "$data" 2>/dev/null >"$data.state"
    perf sched timehist -i "$data" 2>/dev/null |
        "$BENCH_SRCDIR/bench/run_thread_delay.py" --state "$data.state" | sed 's/^/  sched: /'
    rm -f "$data" # large; the .state text stays with BENCH_KEEP
}

for round in $(seq "$ROUNDS"); do
    for mode in $MODES; do
        name=$mode-$round
        start_plcsim "plcsim-$name" --events "$BENCH_TMP/$name.events"
        case $mode in
        engine) run_engine "$name" ;;
        engine-rt) run_engine "$name" ALD_EXECUTOR_RT_PRIORITY="$RT_PRIORITY" ;;
        base)
            [ -x "$BASE_BUILD/ald-engine" ] || die "mode base: BASE_BUILD ($BASE_BUILD) has no ald-engine"
            own_build=$BUILD BUILD=$(cd "$BASE_BUILD" && pwd)
            run_engine "$name"
            BUILD=$own_build
            ;;
        bare) run_bare ;;
        bare-fifo) run_bare chrt -f "$RT_PRIORITY" ;;
        *) die "unknown mode $mode (engine, engine-rt, bare, bare-fifo, base)" ;;
        esac
        stop_plcsim
        pulse_errors "$BENCH_TMP/$name.events" >"$BENCH_TMP/$name.errors"
        n=$(wc -l <"$BENCH_TMP/$name.errors")
        [ "$n" -eq "$PULSES" ] || die "$name: ald-plcsim saw $n pulses, expected $PULSES"
        read -r p50 p99 max <<<"$(stats "$BENCH_TMP/$name.errors")"
        echo "$mode $round $p50 $p99 $max" >>"$BENCH_TMP/runs"
        echo "round $round, $mode: abs. error p50 $p50, p99 $p99, max $max ms" \
            "(load $(cut -d' ' -f1 /proc/loadavg))"
        if [ -s "$BENCH_TMP/$name.trace" ]; then trace_report "$name"; fi
        if [ -s "$BENCH_TMP/$name.sched" ]; then sched_report "$name"; fi
    done
done

# Medians over the rounds, and the ratios of the p99s to the bare client's.
echo "medians over $ROUNDS rounds (ms): mode p50 p99 max"
for mode in $MODES; do
    for col in 3 4 5; do
        awk -v m="$mode" -v c=$col '$1 == m { print $c }' "$BENCH_TMP/runs" | median
    done | paste -sd' ' | sed "s/^/  $mode /"
done | tee "$BENCH_TMP/medians"
p99_of() { awk -v m="$1" '$1 == m { print $3 }' "$BENCH_TMP/medians"; }
ratio() { awk -v e="$(p99_of "$1")" -v r="$(p99_of "$2")" 'BEGIN { if (e != "" && r > 0) printf "%.2f", e / r; else print "n/a" }'; }
echo "p99 ratios: engine/bare $(ratio engine bare), engine-rt/bare $(ratio engine-rt bare)," \
    "engine-rt/bare-fifo $(ratio engine-rt bare-fifo), base/bare $(ratio base bare)"
# Per round, the ratio of each engine mode's p99 to that round's bare client.
for mode in engine base; do
    awk -v m="$mode" '$1 == "bare" { b[$2] = $4 } $1 == m { e[$2] = $4 }
        END { for (r = 1; r in e; r++) if (b[r] > 0) s = s sprintf(" %.2f", e[r] / b[r]);
              if (s != "") print "  " m "/bare p99 per round:" s }' "$BENCH_TMP/runs"
done
cmd="PULSES=$PULSES ROUNDS=$ROUNDS bench/pulse_tail_bench.sh BUILD_DIR"
# ratio_row A B METRIC: a results row, when both modes ran.
ratio_row() {
    local r
    r=$(ratio "$1" "$2")
    [ "$r" != n/a ] || return 0
    row pulse "$3" "<= 1.2" "$r ($(p99_of "$1") / $(p99_of "$2") ms)" "$(verdict "$r <= 1.2")" "$cmd"
}
ratio_row engine bare "pulse error p99, engine / bare libmodbus client (medians of $ROUNDS interleaved runs)"
ratio_row engine-rt bare-fifo "pulse error p99, engine RT mode / bare client under SCHED_FIFO"
