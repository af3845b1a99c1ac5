#!/bin/sh
# The whole test suite in one command (what .ci/run calls):
#     tests/run-all.sh
# Installs what is missing (build and test packages), then:
#   1. build/       gcc, warnings as errors: `make check`, then `make distcheck`
#                   (unless ALD_SKIP_DISTCHECK=1)
#   2. build-asan/  clang with AddressSanitizer + UndefinedBehaviorSanitizer
#                   (leak detection on, any UB fatal) and libFuzzer coverage:
#                   `make check` of the Check programs, the fuzz replays and
#                   the bats suites that run the C binaries (engine, aldctl,
#                   plcsim, Modbus, faults). The deploy and monitoring suites
#                   check configs and shell scripts only and run in step 1
#                   alone. ALD_SKIP_SANITIZERS=1 skips steps 2 and 3.
#   3. each libFuzzer harness for ALD_FUZZ_SECONDS (default 20) seconds in
#      build-asan (ALD_SKIP_FUZZ=1 skips).
# Counting: PASS/XFAIL are passed, SKIP skipped, FAIL/XPASS/ERROR failed,
# over both `make check` runs; distcheck and each fuzz harness count as one
# result each; a step that fails outside any test case counts one failure.
# The last line is "N passed, N failed, N skipped"; the exit status is 0
# only when nothing failed.
set -u
cd "$(dirname "$0")/.." || exit 1
jobs=$(nproc)
passed=0 failed=0 skipped=0

now() { date +%s; }
say() { echo "run-all: $*"; }

# count_results DIR: add the TAP results of DIR's last `make check`.
count_results() {
    results=$(find "$1/tests" -name '*.trs' -exec cat {} + 2>/dev/null)
    p=$(printf '%s\n' "$results" | grep -c '^:test-result: \(PASS\|XFAIL\)')
    f=$(printf '%s\n' "$results" | grep -c '^:test-result: \(FAIL\|XPASS\|ERROR\)')
    s=$(printf '%s\n' "$results" | grep -c '^:test-result: SKIP')
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    say "$1: $p passed, $f failed, $s skipped"
    last_failed=$f
}

# check_in DIR [TESTS]: `make check` in DIR (all tests, or the list given).
check_in() {
    find "$1/tests" -name '*.trs' -delete 2>/dev/null
    if [ $# -gt 1 ]; then
        make -C "$1" -j"$jobs" check TESTS="$2"
    else
        make -C "$1" -j"$jobs" check
    fi
    rc=$?
    count_results "$1"
    if [ $rc -ne 0 ] && [ "$last_failed" -eq 0 ]; then
        failed=$((failed + 1)) # failed outside any test case (a build error)
    fi
}

# The engine in build-asan loads the plugins built next to it
# (<exe dir>/plugins/<name>/.libs): check that they are the instrumented ones.
plugins_sanitized() {
    for so in build-asan/plugins/*/.libs/*.so; do
        if ! nm -D --undefined-only "$so" | grep -q ' __asan_'; then
            say "$so is not built with AddressSanitizer"
            return 1
        fi
    done
    say "every plugin in build-asan is built with AddressSanitizer"
}

deploy/install-deps.sh --test || exit 1
[ -x configure ] || ./autogen.sh || exit 1

# ---- 1. the ordinary build --------------------------------------------------------
t0=$(now)
mkdir -p build
[ -f build/Makefile ] || (cd build && ../configure --enable-werror) || exit 1
make -C build -j"$jobs" || exit 1
check_in build
if [ "${ALD_SKIP_DISTCHECK:-0}" != 1 ]; then
    if make -C build -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
        >build/distcheck.log 2>&1; then
        passed=$((passed + 1))
        say "make distcheck passed"
    else
        failed=$((failed + 1))
        say "make distcheck FAILED; the end of build/distcheck.log:"
        tail -40 build/distcheck.log
    fi
fi
say "ordinary build, check and distcheck took $(($(now) - t0)) s"

# ---- 2. sanitizers ------------------------------------------------------------------
if [ "${ALD_SKIP_SANITIZERS:-0}" != 1 ]; then
    t0=$(now)
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
    mkdir -p build-asan
    [ -f build-asan/Makefile ] || (cd build-asan && ../configure --enable-werror --enable-fuzz \
        CC=clang CFLAGS="-g -O1 -fno-omit-frame-pointer $san -fsanitize=fuzzer-no-link" \
        LDFLAGS="$san") || exit 1
    if make -C build-asan -j"$jobs" && plugins_sanitized; then
        # Every test but the suites of configs and shell scripts.
        tests=$(make -s --no-print-directory -C build-asan print-tests | tr ' ' '\n' |
            grep -v '^tests/deploy/\|^tests/monitoring/' | tr '\n' ' ')
        say "sanitizer run: make check without tests/deploy/* and tests/monitoring/*" \
            "(configs and shell scripts, covered by the ordinary run)"
        check_in build-asan "$tests"
    else
        failed=$((failed + 1))
        say "the sanitizer build FAILED"
    fi
    say "sanitizer build and check took $(($(now) - t0)) s"

    # ---- 3. fuzzing ---------------------------------------------------------------------
    if [ "${ALD_SKIP_FUZZ:-0}" != 1 ] && [ -x build-asan/tests/fuzz/fuzz_recipe_json ]; then
        t0=$(now)
        (cd build-asan && make -s fuzz FUZZ_SECONDS="${ALD_FUZZ_SECONDS:-20}") \
            >build-asan/fuzz.log 2>&1
        cat build-asan/fuzz.log
        p=$(grep -c '^ok ' build-asan/fuzz.log)
        f=$(grep -c '^not ok ' build-asan/fuzz.log)
        [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1 # the fuzzers did not run at all
        passed=$((passed + p)) failed=$((failed + f))
        say "fuzzing took $(($(now) - t0)) s"
    fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
