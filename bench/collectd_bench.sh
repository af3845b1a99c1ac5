#!/bin/bash
# collectd_bench.sh - the same 1000 floats read by collectd's modbus plugin
# (Debian collectd-core), for the "far ahead of collectd" half of issue 3.
#
# Usage: bench/collectd_bench.sh BUILD_DIR      (SECONDS_PER_RUN, default 20)
# collectd runs in the foreground with Interval 1, one <Data> block per float
# (hr:1000 + 4i, RegisterType float), against ald-plcsim --registers 4000.
# Run "null": no write plugin (its cost is the Modbus reads and dispatch
# alone: a PostCache chain that stops every value); run "csv": the csv writer, whose line count gives the exact number
# of cycles. Measured: requests per cycle (ald-plcsim's request counter /
# cycles), CPU per cycle and % of a core (/proc/PID/stat over a window of
# SECONDS_PER_RUN s that starts at the first request; at Interval 1 the CPU
# per second is the CPU per cycle), compared with the plc-modbus plugin's CPU per cycle
# from modbus_bench.sh when it ran first (BENCH_STATE).
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

SECONDS_PER_RUN=${SECONDS_PER_RUN:-20}
TAGS=1000
STRIDE=4
BASE=1000
command -v collectd >/dev/null ||
    die "collectd not found: apt-get install collectd-core (the modbus plugin is in it)"
machine_line
collectd -h | sed -n 's/^\(collectd [0-9][^,]*\).*/\1/p'

# write_conf FILE PORT WRITER: collectd.conf for the benchmark.
write_conf() {
    local dir
    dir=$(dirname "$1")
    {
        printf 'Interval 1\nBaseDir "%s"\nPIDFile "%s/collectd.pid"\n' "$dir" "$dir"
        printf 'TypesDB "/usr/share/collectd/types.db"\n'
        printf 'LoadPlugin logfile\n<Plugin logfile>\n  LogLevel "info"\n'
        printf '  File "%s/collectd.log"\n</Plugin>\n' "$dir"
        if [ "$3" = csv ]; then
            printf 'LoadPlugin csv\n<Plugin csv>\n  DataDir "%s/csv"\n</Plugin>\n' "$dir"
        else # values stop after the cache: no writer, and no complaint per value
            printf 'PostCacheChain "PostCache"\n<Chain "PostCache">\n  Target "stop"\n</Chain>\n'
        fi
        printf 'LoadPlugin modbus\n<Plugin modbus>\n'
        for i in $(seq 0 $((TAGS - 1))); do
            printf '  <Data "f%d">\n    RegisterBase %d\n    RegisterType float\n' \
                "$i" $((BASE + i * STRIDE))
            printf '    Type "gauge"\n    Instance "f%d"\n  </Data>\n' "$i"
        done
        printf '  <Host "plcsim">\n    Address "127.0.0.1"\n    Port "%s"\n' "$2"
        printf '    Interval 1\n    <Slave 1>\n      Instance "bench"\n'
        for i in $(seq 0 $((TAGS - 1))); do printf '      Collect "f%d"\n' "$i"; done
        printf '    </Slave>\n  </Host>\n</Plugin>\n'
    } >"$1"
}

# run_collectd WRITER: one run; prints "cycles requests cpu_s elapsed_s".
run_collectd() {
    local dir=$BENCH_TMP/collectd-$1 pid cpu0 t0 cpu1 t1 cycles
    mkdir -p "$dir"
    start_plcsim "plcsim-collectd-$1" --registers 4000 --fill-pattern
    write_conf "$dir/collectd.conf" "$PLCSIM_PORT" "$1"
    collectd -f -C "$dir/collectd.conf" >"$dir/collectd.out" 2>&1 &
    pid=$!
    BENCH_PIDS+=("$pid")
    wait_for_line "$PLCSIM_LOG" "client fd" "$pid" >/dev/null # first cycle began
    cpu0=$(cpu_seconds "$pid")
    t0=$(date +%s.%N)
    sleep "$SECONDS_PER_RUN"
    cpu1=$(cpu_seconds "$pid")
    t1=$(date +%s.%N)
    kill -TERM "$pid"
    wait "$pid" || true
    stop_plcsim
    if [ "$1" = csv ]; then
        # one line per cycle in each value's file, after a header line
        cycles=$(find "$dir/csv" -name 'gauge-f0-*' -exec cat {} + | grep -vc '^epoch' || true)
    else
        cycles=$(awk -v r="$PLCSIM_READS" -v n="$TAGS" 'BEGIN { print int(r / n) }')
    fi
    if grep -qi 'error' "$dir/collectd.log"; then
        echo "collectd ($1) logged errors:" >&2
        grep -i error "$dir/collectd.log" | sort | uniq -c | head -n 5 >&2
    fi
    echo "$cycles $PLCSIM_READS $(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }') \
$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
}

cmd="bench/collectd_bench.sh BUILD_DIR (collectd 1000 <Data> float, Interval 1, ${SECONDS_PER_RUN} s)"
ours_cpu=
plugin_cpu_ms='' plugin_requests='' # set by modbus.env
if [ -n "${BENCH_STATE:-}" ] && [ -f "$BENCH_STATE/modbus.env" ]; then
    # shellcheck disable=SC1091
    . "$BENCH_STATE/modbus.env"
    ours_cpu=$plugin_cpu_ms
fi
for writer in null csv; do
    read -r cycles reads cpu elapsed < <(run_collectd "$writer")
    [ "$cycles" -gt 0 ] || die "collectd ($writer) ran no cycle; see $BENCH_TMP/collectd-$writer"
    req=$(awk -v r="$reads" -v c="$cycles" 'BEGIN { printf "%.0f", r / c }')
    # Interval 1: CPU per second of the measuring window = CPU per cycle.
    cpu_ms=$(awk -v c="$cpu" -v e="$elapsed" 'BEGIN { printf "%.1f", c / e * 1000 }')
    core=$(awk -v c="$cpu" -v e="$elapsed" 'BEGIN { printf "%.1f", 100 * c / e }')
    echo "collectd ($writer writer): $cycles cycles in ${elapsed} s, $reads read requests" \
        "($req per cycle), CPU $cpu s = $cpu_ms ms/cycle = $core % of a core"
    row collectd "collectd modbus ($writer writer): requests/cycle" "info (ref 1000)" \
        "$req" info "$cmd"
    row collectd "collectd modbus ($writer writer): CPU" "info (ref ~9 % of a core)" \
        "$cpu_ms ms/cycle, $core % of a core" info "$cmd"
    if [ -n "$ours_cpu" ] && [ "$writer" = null ]; then
        ratio=$(awk -v a="$cpu_ms" -v b="$ours_cpu" 'BEGIN { printf "%.0f", a / b }')
        row collectd "CPU per cycle: collectd / plc-modbus plugin (stride 4)" \
            "far ahead (>= 10x)" "${ratio}x ($cpu_ms / $ours_cpu ms); requests $req / $plugin_requests" \
            "$(verdict "$ratio >= 10")" "$cmd + bench/modbus_bench.sh"
    fi
done
