#!/bin/bash
# run-all.sh - run every benchmark and print the results table.
#
# Usage: bench/run-all.sh BUILD_DIR [NAME...]
#   NAME: sqlite modbus collectd recipe logger stop_flood (default: all, in that order).
#   Build first: (cd BUILD_DIR && make bench). Takes about 7 minutes; the
#   knobs of each script (RUNS, CYCLES, SECONDS_PER_RUN, PULSES, STEPS,
#   LOGGER_CYCLES, SQLITE_SAMPLES) pass through the environment.
# Output: each benchmark's own report, then a Markdown table (area, metric,
# bar, measured, verdict) and the command behind each area; the table is
# also written to BUILD_DIR/bench-results.md. Exit status 1 if a benchmark
# failed to run (a missed bar is a result, not a failure).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR [sqlite|modbus|collectd|recipe|logger ...]}" && pwd)
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(sqlite modbus collectd recipe logger stop_flood)

for bin in ald-engine ald-plcsim bench/modbus_bench bench/sqlite_bench; do
    [ -x "$build/$bin" ] || { echo "run-all: $build/$bin missing: run (cd $build && make bench)" >&2; exit 1; }
done
for tool in curl sqlite3 /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "run-all: $tool is needed" >&2; exit 1; }
done

state=$(mktemp -d "${TMPDIR:-/tmp}/ald-bench-state.XXXXXX")
trap 'rm -rf "$state"' EXIT
export BENCH_RESULTS=$state/results.tsv BENCH_STATE=$state
: >"$BENCH_RESULTS"

machine="$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
failed=0
for name in "${names[@]}"; do
    script=$here/${name}_bench.sh
    [ -f "$script" ] || { echo "run-all: no benchmark \"$name\"" >&2; exit 2; }
    echo "=================== $name ==================="
    if [ "$name" = collectd ] && ! command -v collectd >/dev/null; then
        printf 'collectd\tskipped: collectd not installed (apt-get install collectd-core)\t\t\tskipped\t\n' \
            >>"$BENCH_RESULTS"
        continue
    fi
    if ! bash "$script" "$build"; then
        failed=1
        printf '%s\tFAILED to run (see its output above)\t\t\tfailed\tbench/%s_bench.sh\n' \
            "$name" "$name" >>"$BENCH_RESULTS"
    fi
done

{
    echo
    echo "## Results ($started; $machine; load $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
    echo
    echo "| area | metric | bar | measured | verdict |"
    echo "|---|---|---|---|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$BENCH_RESULTS"
    echo
    echo "Commands:"
    awk -F'\t' '$6 != "" && !seen[$6]++ { printf "- %s: `%s`\n", $1, $6 }' "$BENCH_RESULTS"
} | tee "$build/bench-results.md"
exit "$failed"
