# tests/sqlite.mk: the storage-sqlite plugin, loaded from the build tree with
# dlopen exactly as the engine loads it; plus its append_samples benchmark
# (built by `make check`, never run by it: see bench/sqlite_bench.c).
SQLITE_TEST_CFLAGS = $(ALD_TEST_CC_FLAGS) $(SQLITE_CFLAGS) $(LIBCONFIG_CFLAGS)
SQLITE_TEST_LIBS = $(ALD_TEST_LIBS) $(SQLITE_LIBS) $(LIBCONFIG_LIBS)
SQLITE_TEST_UTIL = tests/check_sqlite_util.c tests/check_sqlite_util.h

check_PROGRAMS += tests/check_sqlite tests/check_sqlite_ops bench/sqlite_bench
TESTS += tests/check_sqlite tests/check_sqlite_ops

tests_check_sqlite_SOURCES = tests/check_sqlite.c $(SQLITE_TEST_UTIL)
tests_check_sqlite_CFLAGS = $(SQLITE_TEST_CFLAGS)
tests_check_sqlite_LDADD = $(SQLITE_TEST_LIBS)
EXTRA_tests_check_sqlite_DEPENDENCIES = plugins/storage-sqlite/storage-sqlite.la

tests_check_sqlite_ops_SOURCES = tests/check_sqlite_ops.c $(SQLITE_TEST_UTIL)
tests_check_sqlite_ops_CFLAGS = $(SQLITE_TEST_CFLAGS)
tests_check_sqlite_ops_LDADD = $(SQLITE_TEST_LIBS)
EXTRA_tests_check_sqlite_ops_DEPENDENCIES = plugins/storage-sqlite/storage-sqlite.la

bench_sqlite_bench_SOURCES = bench/sqlite_bench.c
bench_sqlite_bench_CFLAGS = $(ALD_TEST_CC_FLAGS) $(LIBCONFIG_CFLAGS)
bench_sqlite_bench_LDADD = $(ALD_TEST_LIBS) $(LIBCONFIG_LIBS)
EXTRA_bench_sqlite_bench_DEPENDENCIES = plugins/storage-sqlite/storage-sqlite.la
