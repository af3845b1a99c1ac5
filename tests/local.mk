# Tests: Check programs speaking TAP, plus bats suites. Each area adds its
# programs in its own tests/*.mk fragment.
check_LTLIBRARIES += tests/libtestutil.la
tests_libtestutil_la_SOURCES = tests/testutil.c tests/testutil.h
tests_libtestutil_la_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_libtestutil_la_LIBADD = engine/libaldcore.la $(CHECK_LIBS)

# What a Check program links: the test helpers (which pull in the engine core).
ALD_TEST_CC_FLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests
ALD_TEST_LIBS = tests/libtestutil.la $(CHECK_LIBS)

include tests/engine.mk
include tests/config.mk
include tests/http.mk
include tests/sim.mk
include tests/sqlite.mk
include tests/supabase.mk
include tests/modbus.mk
include tests/monitoring.mk
include tests/deploy.mk
include tests/integration.mk
include tests/aldctl.mk
include tests/safety.mk
include tests/fuzz.mk
