# tests/sim.mk: the simulated demo tool. check_sim tests the model (compiled
# in) and the plc-sim plugin (dlopen()ed from the build tree); plcsim.bats
# drives the ald-plcsim server with mbpoll, through a TAP wrapper script.
check_PROGRAMS += tests/check_sim
TESTS += tests/check_sim
tests_check_sim_SOURCES = tests/check_sim.c plugins/plc-sim/sim_model.c
tests_check_sim_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/plc-sim
tests_check_sim_CFLAGS = $(ALD_TEST_CC_FLAGS) $(LIBCONFIG_CFLAGS)
tests_check_sim_LDADD = $(ALD_TEST_LIBS) $(LIBCONFIG_LIBS) -lm
# The plugin the test loads must be built (and current) before it runs.
EXTRA_tests_check_sim_DEPENDENCIES = plugins/plc-sim/plc-sim.la

TESTS += tests/plcsim-bats.sh
dist_noinst_SCRIPTS += tests/plcsim-bats.sh
EXTRA_DIST += tests/plcsim.bats
# (Not named *.test: automake runs .test files with the plain test-driver,
# which would count the whole bats file as one test instead of each case.)
