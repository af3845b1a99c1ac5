#!/bin/bash
# logger_bench.sh - the 1 Hz parameter logger with 1000 float tags (issue 2
# bars): period error p99, drift, resident memory, CPU per second.
#
# Usage: bench/logger_bench.sh BUILD_DIR        (LOGGER_CYCLES, default 120)
# ald-engine runs with PLC_TYPE=real against ald-plcsim --registers 4000 on
# loopback, with 1000 component_parameters rows (holding_register, float, one
# every 4 registers from 1000) added to the demo machine in its SQLite store,
# so it reads 1000 + the demo tool's tags each cycle and stores them.
# Everything is read from outside: /metrics (curl) twice, LOGGER_CYCLES
# cycles apart, and the stored sample timestamps (sqlite3).
#  - period: the histogram ald_parameter_logging_interval_seconds (buckets
#    1 ms wide around 1 s), delta between the two scrapes;
#  - drift: the histogram's sum over the window minus n x 1 s (the periods
#    add up to last cycle start - first); also the stored timestamps of one
#    tag, first to last, minus (n-1) x 1 s (ms resolution, taken after the read);
#  - memory: ald_process_resident_memory_bytes at the end;
#  - CPU: ald_process_cpu_seconds_total delta / elapsed seconds;
#  - the machine's own limit: bench/reference_bench period, a bare
#    clock_nanosleep(TIMER_ABSTIME) loop run over the same window, and the
#    ratio of the logger's p99 to it (issue 14).
# Not measured here: "unchanged during a storage outage".
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

LOGGER_CYCLES=${LOGGER_CYCLES:-120}
TAGS=1000
MACHINE=e3e6e280-0000-4000-8000-000000000001
COMPONENT=cbe0c000-0000-4000-8000-000000000001
machine_line

# add_bench_tags: a component with TAGS float parameters at hr:1000 + 4i.
add_bench_tags() {
    engine_db "INSERT INTO machine_components (id, machine_id, name, type)
        VALUES ('$COMPONENT', '$MACHINE', 'Bench block', 'sensor');
      WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $TAGS - 1)
      INSERT INTO component_parameters (id, component_id, name, data_type, min_value,
        max_value, is_writable, read_modbus_address, read_modbus_type)
      SELECT printf('abe0c000-0000-4000-8000-%012d', i), '$COMPONENT', printf('f%04d', i),
        'float', 0, 100000, 0, 1000 + 4 * i, 'holding_register' FROM n;"
}

engine_setup logger
engine_start # the default (simulated tool) once, to create and seed the store
engine_stop
add_bench_tags
start_plcsim plcsim-logger --registers 4000 --fill-pattern
engine_start PLC_TYPE=real PLC_HOST=127.0.0.1 PLC_PORT="$PLCSIM_PORT"
sleep 3 # connect and first cycles
scrape "$BENCH_TMP/m0"
t0=$(date +%s.%N)
tags=$(metric "$BENCH_TMP/m0" ald_parameter_tags)
[ "${tags%.*}" -ge $TAGS ] || die "the engine reads $tags tags, expected >= $TAGS (log: $ENGINE_LOG)"
echo "engine reads $tags tags from ald-plcsim; measuring $LOGGER_CYCLES cycles at 1 Hz"
# the machine's own limit over the same window: a bare clock_nanosleep loop
"$BUILD/bench/reference_bench" period "$LOGGER_CYCLES" 1000 >"$BENCH_TMP/reference" &
ref_pid=$!
sleep "$LOGGER_CYCLES"
scrape "$BENCH_TMP/m1"
wait "$ref_pid" || die "bench/reference_bench period failed"
t1=$(date +%s.%N)
engine_stop
stop_plcsim

h=ald_parameter_logging_interval_seconds
# Bucket counts of the measuring window: m1 - m0, as one scrape-like file.
awk 'NR == FNR { if ($1 ~ /_bucket|_count/) base[$1] = $2; next }
     $1 ~ /_bucket|_count/ { print $1, $2 - base[$1] }' "$BENCH_TMP/m0" "$BENCH_TMP/m1" \
    >"$BENCH_TMP/window"
n=$(hist_count "$BENCH_TMP/window" "$h")
late=$(awk '$1 == "ald_logger_late_cycles_total" { print $2 }' "$BENCH_TMP/m1")
# Smallest symmetric bucket pair around 1 s holding >= 99 % of the periods.
p99_ms=">100"
for pair in 0.999:1.001:1 0.998:1.002:2 0.995:1.005:5 0.99:1.01:10 0.95:1.05:50 0.9:1.1:100; do
    IFS=: read -r lo hi ms <<<"$pair"
    inside=$(hist_between "$BENCH_TMP/window" "$h" "$lo" "$hi")
    if awk -v a="$inside" -v n="$n" 'BEGIN { exit !(a >= 0.99 * n) }'; then
        p99_ms=$ms
        break
    fi
done
within2=$(hist_between "$BENCH_TMP/window" "$h" 0.998 1.002)
echo "periods: $n observed, $within2 within 1 s +- 2 ms; p99 |error| <= $p99_ms ms (bucket bound); late cycles (whole run) $late"

# Drift from the stored timestamps of one bench tag, inside the window.
engine_db "SELECT strftime('%s', timestamp) * 1000 + CAST(substr(timestamp, 21, 3) AS INTEGER)
    FROM parameter_value_history WHERE parameter_id = 'abe0c000-0000-4000-8000-000000000000'
    ORDER BY timestamp" >"$BENCH_TMP/stamps"
stored=$(wc -l <"$BENCH_TMP/stamps")
drift=$(awk 'NR == 1 { first = $1 } { last = $1 } END { print last - first - (NR - 1) * 1000 }' \
    "$BENCH_TMP/stamps")
awk 'NR > 1 { d = $1 - prev; print (d < 1000 ? 1000 - d : d - 1000) } { prev = $1 }' \
    "$BENCH_TMP/stamps" >"$BENCH_TMP/stamp-errors"
stamp_p99=$(quantile 0.99 <"$BENCH_TMP/stamp-errors")
echo "stored samples of tag f0000: $stored; first-to-last minus (n-1) s: $drift ms;" \
    "p99 |period - 1 s| from stored ms timestamps: $stamp_p99 ms"

# Drift from the histogram's sum: the window's periods add up to last start -
# first start (monotonic clock), so sum - count x 1 s is how far the schedule moved.
sum0=$(metric "$BENCH_TMP/m0" "${h}_sum")
sum1=$(metric "$BENCH_TMP/m1" "${h}_sum")
hist_drift=$(awk -v a="$sum0" -v b="$sum1" -v n="$n" 'BEGIN { printf "%.3f", (b - a - n) * 1000 }')
echo "drift over the window from the histogram sum: $hist_drift ms over $n periods"

ref_p99=$(sed -n 's/.* p99 \([0-9.]*\) ms.*/\1/p' "$BENCH_TMP/reference")
ref_ratio=$(awk -v e="$stamp_p99" -v r="$ref_p99" 'BEGIN { if (r > 0) printf "%.1f", e / r; else print "inf" }')
echo "bare clock_nanosleep loop, same window: $(cat "$BENCH_TMP/reference");" \
    "logger p99 (stored ms stamps) / bare p99 = $ref_ratio"

rss=$(metric "$BENCH_TMP/m1" ald_process_resident_memory_bytes)
cpu0=$(metric "$BENCH_TMP/m0" ald_process_cpu_seconds_total)
cpu1=$(metric "$BENCH_TMP/m1" ald_process_cpu_seconds_total)
cpu_pct=$(awk -v a="$cpu0" -v b="$cpu1" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "%.2f", 100 * (b - a) / (t1 - t0) }')
rss_mb=$(awk -v b="$rss" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "resident memory $rss_mb MiB; CPU $cpu_pct % of one core ($cpu0 -> $cpu1 s)"

cmd="bench/logger_bench.sh BUILD_DIR (1000 f32 tags, PLC_TYPE=real, ald-plcsim, $LOGGER_CYCLES cycles at 1 Hz)"
# The histogram's resolution is its 1 ms buckets: "<= 2 ms" is the bar's edge.
row logger "1 Hz period error p99 (histogram, $n periods)" "< 2 ms" \
    "<= $p99_ms ms ($within2 of $n within +-2 ms)" "$(verdict "$within2 >= 0.99 * $n")" "$cmd"
row logger "1 Hz period error p99 (stored ms timestamps)" "info" "$stamp_p99 ms" info "$cmd"
row logger "period error p99, logger (stored ms stamps) / bare clock_nanosleep loop, same window" \
    "<= 1.2" "$ref_ratio ($stamp_p99 / $ref_p99 ms; the stamps have 1 ms resolution)" \
    "$(verdict "$ref_ratio <= 1.2")" "$cmd"
row logger "drift over $n periods (histogram sum - n x 1 s)" "zero (within +-2 ms)" \
    "$hist_drift ms" "$(verdict "$hist_drift <= 2 && $hist_drift >= -2")" "$cmd"
row logger "drift over $stored stored samples (ms time stamps, after the read)" "info" \
    "$drift ms" info "$cmd"
row logger "resident memory, $tags tags" "< 16 MB" "$rss_mb MiB" \
    "$(verdict "$rss < 16 * 1048576")" "$cmd"
row logger "CPU at 1 Hz, $tags tags" "< 1 % of a core" "$cpu_pct %" \
    "$(verdict "$cpu_pct < 1")" "$cmd"
