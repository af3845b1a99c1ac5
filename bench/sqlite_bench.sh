#!/bin/bash
# sqlite_bench.sh - samples/s through the storage-sqlite plugin (issue 5 bar:
# >= 200 k samples/s in batches), by bench/sqlite_bench (see its header):
# batches of 100 and 1000 samples, durable_samples true (fsync per batch) and
# false, 5 runs each on a fresh database in $TMPDIR, median quoted.
#
# Usage: bench/sqlite_bench.sh BUILD_DIR      (SQLITE_SAMPLES per run, default 200000)
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

SQLITE_SAMPLES=${SQLITE_SAMPLES:-200000}
[ -x "$BUILD/bench/sqlite_bench" ] || die "$BUILD/bench/sqlite_bench missing: run make bench"
machine_line
ALD_TOP_BUILDDIR=$BUILD "$BUILD/bench/sqlite_bench" "$SQLITE_SAMPLES" "$BENCH_TMP" |
    tee "$BENCH_TMP/sqlite.txt"
cmd="bench/sqlite_bench.sh BUILD_DIR (bench/sqlite_bench $SQLITE_SAMPLES: 5 runs, median)"
# "durable_samples=true (FULL)  batch  100: median  123456 samples/s (min ..., max ...)"
sed -n 's/^durable_samples=\([a-z]*\).*batch *\([0-9]*\): median *\([0-9]*\) samples.*/\1 \2 \3/p' \
    "$BENCH_TMP/sqlite.txt" >"$BENCH_TMP/sqlite.rows"
[ -s "$BENCH_TMP/sqlite.rows" ] || die "no results from bench/sqlite_bench"
while read -r durable batch rate; do
    row sqlite "append_samples, batch $batch, durable_samples=$durable" ">= 200 k/s" \
        "$(awk -v r="$rate" 'BEGIN { printf "%.0f k/s", r / 1000 }')" \
        "$(verdict "$rate >= 200000")" "$cmd"
done <"$BENCH_TMP/sqlite.rows"
