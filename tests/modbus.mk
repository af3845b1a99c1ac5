# tests/modbus.mk: the Modbus codec, the read planner, and the plc-modbus
# plugin against a pymodbus server (python3-pymodbus, python3-serial,
# python3-serial-asyncio; run with /usr/bin/python3).
MODBUS_TEST_CFLAGS = $(ALD_TEST_CC_FLAGS) $(MODBUS_CFLAGS) -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/plc-modbus

check_PROGRAMS += tests/check_modbus_codec tests/check_modbus_planner tests/check_modbus_plugin
TESTS += tests/check_modbus_codec tests/check_modbus_planner tests/check_modbus_plugin

tests_check_modbus_codec_SOURCES = tests/check_modbus_codec.c $(MODBUS_CODEC_SOURCES)
tests_check_modbus_codec_CFLAGS = $(MODBUS_TEST_CFLAGS)
tests_check_modbus_codec_LDADD = $(ALD_TEST_LIBS) -lm

tests_check_modbus_planner_SOURCES = tests/check_modbus_planner.c \
	plugins/plc-modbus/mb_planner.c plugins/plc-modbus/mb_planner.h $(MODBUS_CODEC_SOURCES)
tests_check_modbus_planner_CFLAGS = $(MODBUS_TEST_CFLAGS)
tests_check_modbus_planner_LDADD = $(ALD_TEST_LIBS) -lm

# Loads plugins/plc-modbus/.libs/plc-modbus.so, so the plugin is built first.
tests_check_modbus_plugin_SOURCES = tests/check_modbus_plugin.c
tests_check_modbus_plugin_CFLAGS = $(MODBUS_TEST_CFLAGS)
tests_check_modbus_plugin_LDADD = $(ALD_TEST_LIBS) -ldl -lm
tests_check_modbus_plugin_DEPENDENCIES = tests/libtestutil.la plugins/plc-modbus/plc-modbus.la

# Interoperability with the simulator's Modbus server (plugins/plc-sim).
check_PROGRAMS += tests/check_modbus_plcsim
TESTS += tests/check_modbus_plcsim
tests_check_modbus_plcsim_SOURCES = tests/check_modbus_plcsim.c
tests_check_modbus_plcsim_CFLAGS = $(MODBUS_TEST_CFLAGS)
tests_check_modbus_plcsim_LDADD = $(ALD_TEST_LIBS) -ldl -lm
tests_check_modbus_plcsim_DEPENDENCIES = tests/libtestutil.la \
	plugins/plc-modbus/plc-modbus.la ald-plcsim$(EXEEXT)

EXTRA_DIST += tests/fixtures/modbus/pymodbus_server.py

# Benchmark: built by `make check`, never run by it (bench/modbus_bench.sh runs it).
check_PROGRAMS += bench/modbus_bench
bench_modbus_bench_SOURCES = bench/modbus_bench.c
bench_modbus_bench_CFLAGS = $(MODBUS_TEST_CFLAGS) $(LIBCONFIG_CFLAGS)
bench_modbus_bench_LDADD = $(ALD_TEST_LIBS) $(MODBUS_LIBS) $(LIBCONFIG_LIBS) -ldl -lm
dist_noinst_SCRIPTS += bench/modbus_bench.sh
EXTRA_bench_modbus_bench_DEPENDENCIES = plugins/plc-modbus/plc-modbus.la
