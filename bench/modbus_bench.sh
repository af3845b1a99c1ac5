#!/bin/sh
# modbus_bench.sh - build and run the plc-modbus loopback benchmark.
# Usage: bench/modbus_bench.sh BUILD_DIR [tags] [stride] [cycles]
set -eu
build=${1:?usage: $0 BUILD_DIR [tags] [stride] [cycles]}
shift
cd "$build"
make -s bench/modbus_bench plugins/plc-modbus/plc-modbus.la
ALD_TOP_BUILDDIR=$(pwd) exec ./bench/modbus_bench "$@"
