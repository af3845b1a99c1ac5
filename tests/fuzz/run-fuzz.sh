#!/bin/sh
# run-fuzz.sh SECONDS HARNESS... - run each libFuzzer harness of tests/fuzz
# for SECONDS from its seed corpus (what `make fuzz` and tests/run-all.sh do).
# Run from the build tree. New interesting inputs go to tests/fuzz/work/<name>/,
# a crash (or a sanitizer report, or an input slower than 10 s) to
# tests/fuzz/crashes/<name>-*; keep it in the source tree's
# tests/fuzz/regressions/<name>/ once fixed, so `make check` replays it.
# Prints one TAP line per harness and ends with "N passed, N failed";
# exits 1 when any harness found something.
set -u
seconds=$1
shift
srcdir=${ALD_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$srcdir/tests/lsan.supp}"
mkdir -p tests/fuzz/work tests/fuzz/crashes tests/fuzz/logs
passed=0 failed=0 n=0
echo "1..$#"
for name in "$@"; do
    n=$((n + 1))
    work=tests/fuzz/work/$name
    log=tests/fuzz/logs/$name.log
    mkdir -p "$work"
    dict=""
    case $name in
    recipe_json | recipe_rows | command_params | supabase) dict=-dict=$srcdir/tests/fuzz/json.dict ;;
    esac
    # -timeout: an input that takes 10 s is a hang, reported like a crash.
    # shellcheck disable=SC2086 # $dict is one word or none
    ./tests/fuzz/fuzz_"$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="tests/fuzz/crashes/$name-" $dict \
        "$work" "$srcdir/tests/fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok $n - fuzz $name: ${seconds} s, ${runs:-?} inputs, ${cov:-cov: ?}, no crash"
    else
        failed=$((failed + 1))
        artifact=$(sed -n 's/.*Test unit written to //p' "$log" | head -1)
        echo "not ok $n - fuzz $name: exit $rc after ${runs:-?} inputs; input: ${artifact:-none}; log: $log"
        grep -m1 -A12 'ERROR: \|invariant broken\|runtime error' "$log" | sed 's/^/#   /'
    fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
