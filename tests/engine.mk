# Engine core tests: loader rules (with fixture plugins), tag map, queue,
# logger hand-off and writer conversion.

# Fixture plugins: one source, each build wrong in one way.
FIXTURE_LD = -module -avoid-version -shared -rpath /nowhere
# Fixtures override header fields on purpose.
FIXTURE_CC = $(ALD_PLUGIN_CC_FLAGS) -Wno-override-init
check_LTLIBRARIES += tests/fixtures/plugins/fx-good.la tests/fixtures/plugins/fx-bad-magic.la \
	tests/fixtures/plugins/fx-major2.la tests/fixtures/plugins/fx-no-entry.la \
	tests/fixtures/plugins/fx-old-minor.la tests/fixtures/plugins/fx-newer-minor.la \
	tests/fixtures/plugins/fx-storage-kind.la tests/fixtures/plugins/fx-knobs.la \
	tests/fixtures/plugins/fx-no-write.la tests/fixtures/plugins/fx-size0.la \
	tests/fixtures/plugins/fx-cap-mismatch.la
tests_fixtures_plugins_fx_no_write_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_no_write_la_CFLAGS = $(FIXTURE_CC) -DFIXTURE_NO_WRITE
tests_fixtures_plugins_fx_no_write_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_size0_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_size0_la_CFLAGS = $(FIXTURE_CC) -DFIXTURE_SIZE0
tests_fixtures_plugins_fx_size0_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_cap_mismatch_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_cap_mismatch_la_CFLAGS = $(FIXTURE_CC) \
	-DFIXTURE_CAPS=ALD_CAP_PLC_VALVE_LOG
tests_fixtures_plugins_fx_cap_mismatch_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_good_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_good_la_CFLAGS = $(FIXTURE_CC)
tests_fixtures_plugins_fx_good_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_bad_magic_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_bad_magic_la_CFLAGS = $(FIXTURE_CC) -DFIXTURE_MAGIC=0x12345678u
tests_fixtures_plugins_fx_bad_magic_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_major2_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_major2_la_CFLAGS = $(FIXTURE_CC) -DFIXTURE_MAJOR=2
tests_fixtures_plugins_fx_major2_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_no_entry_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_no_entry_la_CFLAGS = $(FIXTURE_CC) -DFIXTURE_NO_ENTRY
tests_fixtures_plugins_fx_no_entry_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_old_minor_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_old_minor_la_CFLAGS = $(FIXTURE_CC) -DFIXTURE_OLD_MINOR
tests_fixtures_plugins_fx_old_minor_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_newer_minor_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_newer_minor_la_CFLAGS = $(FIXTURE_CC) -DFIXTURE_MINOR=7
tests_fixtures_plugins_fx_newer_minor_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_storage_kind_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_storage_kind_la_CFLAGS = $(FIXTURE_CC) -DFIXTURE_KIND_STORAGE
tests_fixtures_plugins_fx_storage_kind_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_knobs_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_knobs_la_CFLAGS = $(FIXTURE_CC) -DFIXTURE_POINTER_SIZE=2
tests_fixtures_plugins_fx_knobs_la_LDFLAGS = $(FIXTURE_LD)

check_PROGRAMS += tests/check_loader tests/check_core
TESTS += tests/check_loader tests/check_core
tests_check_loader_SOURCES = tests/check_loader.c
tests_check_loader_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_loader_LDADD = $(ALD_TEST_LIBS)
tests_check_core_SOURCES = tests/check_core.c
tests_check_core_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_core_LDADD = $(ALD_TEST_LIBS)

# The SDK example, built with nothing but the public headers (and, unlike the
# engine, without _GNU_SOURCE or engine include paths): proves sdk/ stands alone.
check_LTLIBRARIES += tests/fixtures/plugins/plc-example.la
tests_fixtures_plugins_plc_example_la_SOURCES = sdk/example/plc_example.c
tests_fixtures_plugins_plc_example_la_CPPFLAGS = -I$(top_srcdir)/sdk/include
tests_fixtures_plugins_plc_example_la_CFLAGS = $(ALD_PLUGIN_CC_FLAGS) -pedantic
tests_fixtures_plugins_plc_example_la_LDFLAGS = $(FIXTURE_LD) -lm

check_PROGRAMS += tests/check_recipe
TESTS += tests/check_recipe
# ald/number.h: the strict number parser every store and path shares.
check_PROGRAMS += tests/check_number
TESTS += tests/check_number
tests_check_number_SOURCES = tests/check_number.c
tests_check_number_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_number_LDADD = $(ALD_TEST_LIBS) -lm
tests_check_recipe_SOURCES = tests/check_recipe.c
tests_check_recipe_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_recipe_LDADD = $(ALD_TEST_LIBS)

# Recipes and commands end to end on the real plc-sim and storage-sqlite plugins.
check_PROGRAMS += tests/check_executor
TESTS += tests/check_executor
tests_check_executor_SOURCES = tests/check_executor.c
tests_check_executor_CFLAGS = $(ALD_TEST_CC_FLAGS) $(SQLITE_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_check_executor_LDADD = $(ALD_TEST_LIBS) $(SQLITE_LIBS) $(LIBCONFIG_LIBS) -lm
EXTRA_tests_check_executor_DEPENDENCIES = plugins/plc-sim/plc-sim.la \
	plugins/storage-sqlite/storage-sqlite.la

# Implausible readings: the rule, the --doctor scan, counting and logging.
check_PROGRAMS += tests/check_plausibility
TESTS += tests/check_plausibility
tests_check_plausibility_SOURCES = tests/check_plausibility.c
tests_check_plausibility_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_plausibility_LDADD = $(ALD_TEST_LIBS) -lm

# Store-and-forward with two real SQLite stores.
check_PROGRAMS += tests/check_outbox
TESTS += tests/check_outbox
tests_check_outbox_SOURCES = tests/check_outbox.c
tests_check_outbox_CFLAGS = $(ALD_TEST_CC_FLAGS) $(SQLITE_CFLAGS)
tests_check_outbox_LDADD = $(ALD_TEST_LIBS) $(SQLITE_LIBS) -lm
EXTRA_tests_check_outbox_DEPENDENCIES = plugins/storage-sqlite/storage-sqlite.la

# SDK: sized copies of plugin rows (issue 12, item 1).
check_PROGRAMS += tests/check_sdk_rows
TESTS += tests/check_sdk_rows
tests_check_sdk_rows_SOURCES = tests/check_sdk_rows.c
tests_check_sdk_rows_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_sdk_rows_LDADD = $(ALD_TEST_LIBS)

# ABI 1.0 frozen (issue 12, item 2): plugins built from the frozen copy of the
# 1.0 headers (tests/abi/1.0/include, never edited), loaded by this and every
# future engine (tests/check_loader: frozen_1_0_plugins_load_and_run); the
# libabigail baseline and the freeze's own rules (tests/abi/check-abi.test).
check_LTLIBRARIES += tests/fixtures/plugins/fx-abi10-plc.la \
	tests/fixtures/plugins/fx-abi10-example.la
tests_fixtures_plugins_fx_abi10_plc_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_abi10_plc_la_CPPFLAGS = -I$(top_srcdir)/tests/abi/1.0/include
tests_fixtures_plugins_fx_abi10_plc_la_CFLAGS = $(FIXTURE_CC)
tests_fixtures_plugins_fx_abi10_plc_la_LDFLAGS = $(FIXTURE_LD)
tests_fixtures_plugins_fx_abi10_example_la_SOURCES = sdk/example/plc_example.c
tests_fixtures_plugins_fx_abi10_example_la_CPPFLAGS = -I$(top_srcdir)/tests/abi/1.0/include
tests_fixtures_plugins_fx_abi10_example_la_CFLAGS = $(ALD_PLUGIN_CC_FLAGS) -pedantic
tests_fixtures_plugins_fx_abi10_example_la_LDFLAGS = $(FIXTURE_LD) -lm
TESTS += tests/abi/check-abi.test
dist_noinst_SCRIPTS += tests/abi/check-abi.test
EXTRA_DIST += tests/abi/abi_probe.c tests/abi/abi_policy.py tests/abi/gen_freeze.py \
	tests/abi/ald-abi-1.0.xml tests/abi/1.0/include/ald/abi.h \
	tests/abi/1.0/include/ald/host.h tests/abi/1.0/include/ald/plc.h \
	tests/abi/1.0/include/ald/storage.h tests/abi/1.0/include/ald/plugin.h \
	tests/abi/1.0/include/ald/settings.h tests/abi/1.0/include/ald/number.h

# last_error per calling thread on a thread-safe PLC plugin (issue 12, item 7).
check_PROGRAMS += tests/check_sdk_last_error
TESTS += tests/check_sdk_last_error
tests_check_sdk_last_error_SOURCES = tests/check_sdk_last_error.c
tests_check_sdk_last_error_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_sdk_last_error_LDADD = $(ALD_TEST_LIBS)

# The SDK's test host (ald/testhost.h) driving the storage-jsonl sink, built
# like an author's test: the public headers and Check only (issue 12, item 6).
check_PROGRAMS += tests/check_sdk_testhost
TESTS += tests/check_sdk_testhost
tests_check_sdk_testhost_SOURCES = tests/check_sdk_testhost.c
tests_check_sdk_testhost_CPPFLAGS = -I$(top_srcdir)/sdk/include
tests_check_sdk_testhost_CFLAGS = $(AM_CFLAGS) -pedantic $(CHECK_CFLAGS)
tests_check_sdk_testhost_LDADD = $(CHECK_LIBS) -ldl -lm

# The sink role (issue 12, item 8): a stalling/failing fixture sink beside
# the storage-jsonl archive.
check_LTLIBRARIES += tests/fixtures/plugins/fx-sink.la
tests_fixtures_plugins_fx_sink_la_SOURCES = tests/fixtures/plugins/fixture_sink.c
tests_fixtures_plugins_fx_sink_la_CFLAGS = $(FIXTURE_CC)
tests_fixtures_plugins_fx_sink_la_LDFLAGS = $(FIXTURE_LD)
check_PROGRAMS += tests/check_sink
TESTS += tests/check_sink
tests_check_sink_SOURCES = tests/check_sink.c
tests_check_sink_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_sink_LDADD = $(ALD_TEST_LIBS)
