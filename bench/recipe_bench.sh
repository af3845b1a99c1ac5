#!/bin/bash
# recipe_bench.sh - valve pulse length error and per-step overhead (issue 4).
#
# Usage: bench/recipe_bench.sh BUILD_DIR   (PULSES, default 500; STEPS, 10000; VALVES, 2000)
# A recipe is written into the engine's SQLite store with sqlite3 and started
# with a recipe_commands row, as an operator's app would:
#  (a) "pulses": a loop of PULSES/2 x (valve 1 20 ms, purge 20 ms, valve 2
#      20 ms, purge 20 ms) on the in-process simulator; the error is the
#      engine-side commanded pulse length minus 20 ms, from the histogram
#      ald_valve_pulse_error_seconds (/metrics), quoted as bucket bounds;
#  (b) the same recipe with PLC_TYPE=real against ald-plcsim over loopback;
#      the error is what the server saw: close minus open time of each coil in
#      ald-plcsim's --events CSV (arrival times of the write requests);
#  (d) the machine's own limit: bench/reference_bench pulse (a bare libmodbus
#      client, absolute-deadline sleeps, a 1 Hz reader on a second connection)
#      against a fresh ald-plcsim right after (b), measured the same way; the
#      row is the ratio of the two p99s (issue 14: goal <= 1.2);
#  (c) "overhead": a loop of STEPS x purge 0 ms on the simulator; total run
#      time (the engine's own log lines "running recipe" -> "completed after",
#      ms time stamps) / steps.
#  (e) "valve path": a loop of VALVES x valve 1 1 ms on the simulator (each
#      step: open write, 1 ms, close write, through the PLC port); per-step
#      time as in (c), minus the 1 ms the valve is open.
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

PULSES=${PULSES:-500}
STEPS=${STEPS:-10000}
VALVES=${VALVES:-2000}
MACHINE=e3e6e280-0000-4000-8000-000000000001
machine_line

PULSE_RECIPE=bbe0c000-0000-4000-8000-0000000a0000
STEP_RECIPE=bbe0c000-0000-4000-8000-0000000b0000
VALVE_RECIPE=bbe0c000-0000-4000-8000-0000000c0000
PULSE_STEPS="valve:1:20 purge:20 valve:2:20 purge:20"
nominal_s=$((PULSES * 40 / 1000))

# (a) and (c): the in-process simulator.
engine_setup recipe-sim
engine_start
add_loop_recipe "$PULSE_RECIPE" "bench pulses" $((PULSES / 2)) "$PULSE_STEPS"
add_loop_recipe "$STEP_RECIPE" "bench steps" "$STEPS" "purge:0"
add_loop_recipe "$VALVE_RECIPE" "bench valves" "$VALVES" "valve:1:1"
run_recipe "$PULSE_RECIPE" $((nominal_s * 3 + 30))
scrape "$BENCH_TMP/recipe-sim.metrics"
run_recipe "$STEP_RECIPE" 120
run_recipe "$VALVE_RECIPE" $((VALVES * 10 / 1000 + 60))
engine_stop

h=ald_valve_pulse_error_seconds
f=$BENCH_TMP/recipe-sim.metrics
count=$(hist_count "$f" "$h")
[ "${count%.*}" -eq "$PULSES" ] || die "the histogram holds $count pulses, expected $PULSES"
# ms SECONDS: a bucket bound in ms; the +Inf bucket (over 10 ms) as 1e9.
ms() { awk -v s="$1" 'BEGIN { if (s == "+Inf") print 1e9; else printf "%g", s * 1000 }'; }
a_med=$(ms "$(hist_quantile "$f" "$h" 0.5)")
a_p99=$(ms "$(hist_quantile "$f" "$h" 0.99)")
a_max=$(ms "$(hist_quantile "$f" "$h" 1)")
shown() { awk -v v="$1" 'BEGIN { if (v >= 1e9) print "> 10"; else print "<= " v }'; }
echo "(a) in-process sim, engine-side: $count pulses; error median $(shown "$a_med") ms," \
    "p99 $(shown "$a_p99") ms, max $(shown "$a_max") ms"

# (c): log lines of the STEPS recipe's process.
stamp_ms() { # the log line's ISO time stamp -> ms of the day
    sed -n "s/^[0-9-]*T\([0-9]*\):\([0-9]*\):\([0-9.]*\)Z.*$1.*/\1 \2 \3/p" "$ENGINE_LOG" |
        tail -n 1 | awk '{ printf "%.0f", ($1 * 3600 + $2 * 60 + $3) * 1000 }'
}
started=$(stamp_ms "running recipe 'bench steps'")
ended=$(stamp_ms "completed after .* ($STEPS of $STEPS steps)")
if [ -z "$started" ] || [ -z "$ended" ]; then
    die "no start/end log lines for 'bench steps' in $ENGINE_LOG"
fi
# per_step_us START END N OPEN_MS: run time per step beyond OPEN_MS, in us
per_step_us() {
    awk -v a="$1" -v b="$2" -v n="$3" -v open="$4" \
        'BEGIN { d = b - a; if (d < 0) d += 86400000; printf "%.1f", d * 1000 / n - open * 1000 }'
}
per_step_us=$(per_step_us "$started" "$ended" "$STEPS" 0)
echo "(c) $STEPS purge steps of 0 ms: $((ended - started)) ms in all, $per_step_us us per step"

# (e): the same for the valve steps.
v_started=$(stamp_ms "running recipe 'bench valves'")
v_ended=$(stamp_ms "completed after .* ($VALVES of $VALVES steps)")
if [ -z "$v_started" ] || [ -z "$v_ended" ]; then
    die "no start/end log lines for 'bench valves' in $ENGINE_LOG"
fi
valve_us=$(per_step_us "$v_started" "$v_ended" "$VALVES" 1)
echo "(e) $VALVES valve steps of 1 ms: $((v_ended - v_started)) ms in all," \
    "$valve_us us per step beyond the 1 ms open"

# (b): over Modbus TCP against ald-plcsim, pulse lengths as the server saw them.
engine_setup recipe-real
engine_start # create and seed the store with the simulator first
engine_stop
add_loop_recipe "$PULSE_RECIPE" "bench pulses" $((PULSES / 2)) "$PULSE_STEPS"
start_plcsim plcsim-recipe --events "$BENCH_TMP/events.csv"
engine_start PLC_TYPE=real PLC_HOST=127.0.0.1 PLC_PORT="$PLCSIM_PORT"
run_recipe "$PULSE_RECIPE" $((nominal_s * 3 + 30))
engine_stop
stop_plcsim
pulse_errors "$BENCH_TMP/events.csv" >"$BENCH_TMP/pulse-errors"
b_n=$(wc -l <"$BENCH_TMP/pulse-errors")
[ "$b_n" -eq "$PULSES" ] || die "ald-plcsim saw $b_n pulses, expected $PULSES"
ms3() { awk '{ printf "%.3f", $1 }'; }
b_med=$(median <"$BENCH_TMP/pulse-errors" | ms3)
b_p99=$(quantile 0.99 <"$BENCH_TMP/pulse-errors" | ms3)
b_max=$(quantile 1 <"$BENCH_TMP/pulse-errors" | ms3)
echo "(b) Modbus TCP, at ald-plcsim: $b_n pulses; abs. error median $b_med ms, p99 $b_p99 ms, max $b_max ms"

# (d): the machine's own limit, right after (b), against the same server:
# a bare libmodbus client (bench/reference_bench pulse: on, absolute-deadline
# sleep, off; a second connection reading at 1 Hz), measured the same way.
start_plcsim plcsim-reference --events "$BENCH_TMP/ref-events.csv"
"$BUILD/bench/reference_bench" pulse 127.0.0.1 "$PLCSIM_PORT" "$PULSES" 20 0 ||
    die "bench/reference_bench pulse failed"
stop_plcsim
pulse_errors "$BENCH_TMP/ref-events.csv" >"$BENCH_TMP/ref-errors"
d_n=$(wc -l <"$BENCH_TMP/ref-errors")
[ "$d_n" -eq "$PULSES" ] || die "ald-plcsim saw $d_n reference pulses, expected $PULSES"
d_med=$(median <"$BENCH_TMP/ref-errors" | ms3)
d_p99=$(quantile 0.99 <"$BENCH_TMP/ref-errors" | ms3)
d_max=$(quantile 1 <"$BENCH_TMP/ref-errors" | ms3)
ratio=$(awk -v e="$b_p99" -v r="$d_p99" 'BEGIN { if (r > 0) printf "%.2f", e / r; else print "inf" }')
echo "(d) bare libmodbus client, at ald-plcsim: $d_n pulses; abs. error median $d_med ms," \
    "p99 $d_p99 ms, max $d_max ms; engine p99 / bare p99 = $ratio (load $(cut -d' ' -f1 /proc/loadavg))"

cmd="bench/recipe_bench.sh BUILD_DIR ($PULSES x 20 ms pulses, 20 ms purges; $STEPS x 0 ms purges; $VALVES x 1 ms valves)"
row recipe "(a) pulse error, in-process sim, engine-side: median / p99 / max" "p99 <= 0.5 ms" \
    "$(shown "$a_med") / $(shown "$a_p99") / $(shown "$a_max") ms" "$(verdict "$a_p99 <= 0.5")" \
    "$cmd"
row recipe "(b) abs. pulse error, Modbus TCP, at ald-plcsim: median / p99 / max" "p99 <= 0.5 ms" \
    "$b_med / $b_p99 / $b_max ms" "$(verdict "$b_p99 <= 0.5")" "$cmd"
row recipe "(d) pulse error p99, engine (b) / bare libmodbus client, same server, same run" \
    "<= 1.2" "$ratio ($b_p99 / $d_p99 ms)" "$(verdict "$ratio <= 1.2")" "$cmd"
row recipe "(c) per-step overhead, $STEPS x purge 0 ms, sim" "< 0.1 ms" "$per_step_us us" \
    "$(verdict "$per_step_us < 100")" "$cmd"
row recipe "(e) per-step overhead, $VALVES x valve 1 ms, sim (beyond the 1 ms open)" "< 0.1 ms" \
    "$valve_us us" "$(verdict "$valve_us < 100")" "$cmd"
