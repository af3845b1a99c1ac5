# bench/: the benchmark harness. Quality bars are measured here, never by
# timed tests. `make bench` builds what the benchmarks need; nothing here runs
# in `make check`. bench/run-all.sh BUILD_DIR runs them all and prints the
# results table (docs/benchmarks.md explains each number).
#
# bench/modbus_bench and bench/sqlite_bench are declared by tests/modbus.mk
# and tests/sqlite.mk (as check_PROGRAMS, built but never run by make check);
# this fragment only depends on them.
# (bench/modbus_bench.sh is distributed by tests/modbus.mk.)
dist_noinst_SCRIPTS += bench/run-all.sh bench/bench-lib.sh bench/collectd_bench.sh \
	bench/recipe_load_bench.sh bench/stop_flood_bench.sh \
	bench/logger_bench.sh bench/recipe_bench.sh bench/sqlite_bench.sh \
	bench/failover_bench.sh bench/pulse_tail_bench.sh bench/run_thread_delay.py

# The machine's own timing limit (a bare libmodbus client, a bare
# clock_nanosleep loop): recipe_bench.sh and logger_bench.sh report ratios.
check_PROGRAMS += bench/reference_bench
bench_reference_bench_SOURCES = bench/reference_bench.c
bench_reference_bench_CFLAGS = $(AM_CFLAGS) $(MODBUS_CFLAGS)
bench_reference_bench_LDADD = $(MODBUS_LIBS) -lpthread -lm

.PHONY: bench
bench: ald-engine$(EXEEXT) ald-plcsim$(EXEEXT) bench/modbus_bench$(EXEEXT) \
	bench/reference_bench$(EXEEXT) \
	bench/sqlite_bench$(EXEEXT) plugins/plc-modbus/plc-modbus.la \
	plugins/plc-sim/plc-sim.la plugins/storage-sqlite/storage-sqlite.la
include bench/supabase.mk

# What recording one plugin call costs a port (docs/benchmarks.md, "Metrics
# around port calls"); built by `make bench` and `make check`, run by hand.
check_PROGRAMS += bench/port_metrics_bench
bench_port_metrics_bench_SOURCES = bench/port_metrics_bench.c
bench_port_metrics_bench_LDADD = engine/libaldcore.la -lm
bench: bench/port_metrics_bench$(EXEEXT)
