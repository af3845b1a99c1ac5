#!/bin/sh
# The whole test suite in one command (what .ci/run calls):
#     tests/run-all.sh
# Installs what is missing (build and test packages), builds in ./build with
# warnings as errors, runs `make check`, then `make distcheck` unless
# ALD_SKIP_DISTCHECK=1, and ends with the line "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

deploy/install-deps.sh --test || exit 1
[ -x configure ] || ./autogen.sh || exit 1
mkdir -p build && cd build || exit 1
[ -f Makefile ] || ../configure --enable-werror || exit 1
make -j"$(nproc)" || exit 1

make -j"$(nproc)" check
check_rc=$?
distcheck_rc=0
if [ "${ALD_SKIP_DISTCHECK:-0}" != 1 ]; then
    make -j"$(nproc)" distcheck DISTCHECK_CONFIGURE_FLAGS=--enable-werror >distcheck.log 2>&1
    distcheck_rc=$?
    if [ $distcheck_rc -ne 0 ]; then
        echo "make distcheck FAILED; the end of build/distcheck.log:"
        tail -40 distcheck.log
    else
        echo "make distcheck passed"
    fi
fi

# Count test cases from the TAP results of `make check`.
passed=$(cat "$top"/build/tests/*.trs "$top"/build/tests/*/*.trs 2>/dev/null |
    grep -c '^:test-result: \(PASS\|XFAIL\|SKIP\)')
failed=$(cat "$top"/build/tests/*.trs "$top"/build/tests/*/*.trs 2>/dev/null |
    grep -c '^:test-result: \(FAIL\|XPASS\|ERROR\)')
if [ $check_rc -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # make check failed outside any test case (a build error)
fi
if [ $distcheck_rc -ne 0 ]; then
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ $check_rc -eq 0 ] && [ $distcheck_rc -eq 0 ]
