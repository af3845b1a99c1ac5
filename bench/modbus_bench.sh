#!/bin/bash
# modbus_bench.sh - 1000 f32 tags over Modbus TCP on loopback (issue 3 bar):
# the plc-modbus plugin against plain libmodbus, against ald-plcsim.
#
# Usage: bench/modbus_bench.sh BUILD_DIR
#   RUNS (default 3) runs of bench/modbus_bench per layout; CYCLES (300) per run.
# Two layouts: stride 2 (1000 floats packed in 2000 registers: the reference
# figure's "16 requests of 125 registers") and stride 4 (spread over 4000
# registers, one float every 4). The bar: requests per cycle = the fewest the
# merge rules allow, and plugin median cycle <= 1.5x plain libmodbus bulk reads
# measured in the same run. Medians are medians over runs of per-run medians.
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

RUNS=${RUNS:-3}
CYCLES=${CYCLES:-300}
[ -x "$BUILD/bench/modbus_bench" ] || die "$BUILD/bench/modbus_bench missing: run make bench"
machine_line

start_plcsim modbus --registers 4000 --fill-pattern

# value KEY FILE: median over runs of "RESULT KEY v" lines.
value() {
    awk -v k="$1" '$1 == "RESULT" && $2 == k { print $3 }' "$2" | median
}

for stride in 2 4; do
    out=$BENCH_TMP/modbus-stride$stride.txt
    cmd="bench/modbus_bench --port P --stride $stride --cycles $CYCLES (x$RUNS, against ald-plcsim --registers 4000 --fill-pattern)"
    echo "== stride $stride: $RUNS runs of $CYCLES cycles =="
    for run in $(seq "$RUNS"); do
        ALD_TOP_BUILDDIR=$BUILD "$BUILD/bench/modbus_bench" --port "$PLCSIM_PORT" \
            --stride "$stride" --cycles "$CYCLES" | tee -a "$out" | grep -v '^RESULT' ||
            die "run $run of stride $stride failed (wrong values or failed reads)"
    done
    minreq=$(value min_requests "$out")
    req=$(value plugin.requests "$out")
    plugin=$(value plugin.median_ms "$out")
    p99=$(value plugin.p99_ms "$out")
    cpu=$(value plugin.cpu_ms "$out")
    plain=$(value plain_bulk.median_ms "$out")
    field=$(value plain_field.median_ms "$out")
    ratio=$(awk -v a="$plugin" -v b="$plain" 'BEGIN { printf "%.2f", a / b }')
    layout="1000 f32, stride $stride"
    row modbus "$layout: requests/cycle" "= fewest allowed ($minreq)" "$req" \
        "$(verdict "$req == $minreq")" "$cmd"
    row modbus "$layout: cycle median plugin / plain libmodbus" "<= 1.5x" \
        "${ratio}x (${plugin} / ${plain} ms)" "$(verdict "$ratio <= 1.5")" "$cmd"
    row modbus "$layout: plugin cycle p99" "info" "$p99 ms" info "$cmd"
    row modbus "$layout: plugin CPU per cycle" "info" "$cpu ms" info "$cmd"
    row modbus "$layout: one request per float (libmodbus) median" "info (ref ~150 ms)" \
        "$field ms" info "$cmd"
done

stop_plcsim
echo "ald-plcsim served $PLCSIM_READS read requests in all"
# For collectd_bench.sh: the plugin's per-cycle CPU and requests at stride 4.
if [ -n "${BENCH_STATE:-}" ]; then
    printf 'plugin_cpu_ms=%s\nplugin_requests=%s\nplugin_median_ms=%s\n' "$cpu" "$req" \
        "$plugin" >"$BENCH_STATE/modbus.env"
fi
