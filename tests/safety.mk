# Safety tests (issue 16): the code that runs when things go wrong, driven
# through fault-injecting plugins loaded by the real loader, and the
# mutation check that shows these tests notice when that code breaks.

# Fault-injecting plugins: a PLC and a primary store a test steers through
# a control table (plc_fault.h, storage_fault.h), and a plugin of ABI major 0.
check_LTLIBRARIES += tests/fixtures/plugins/plc-fault.la \
	tests/fixtures/plugins/storage-fault.la tests/fixtures/plugins/fx-major0.la
tests_fixtures_plugins_plc_fault_la_SOURCES = tests/fixtures/plugins/plc_fault.c \
	tests/fixtures/plugins/plc_fault.h
tests_fixtures_plugins_plc_fault_la_CFLAGS = $(ALD_PLUGIN_CC_FLAGS)
tests_fixtures_plugins_plc_fault_la_LDFLAGS = $(FIXTURE_LD) -lpthread
tests_fixtures_plugins_storage_fault_la_SOURCES = tests/fixtures/plugins/storage_fault.c \
	tests/fixtures/plugins/storage_fault.h
tests_fixtures_plugins_storage_fault_la_CFLAGS = $(ALD_PLUGIN_CC_FLAGS)
tests_fixtures_plugins_storage_fault_la_LDFLAGS = $(FIXTURE_LD) -lpthread
tests_fixtures_plugins_fx_major0_la_SOURCES = tests/fixtures/plugins/fixture_plc.c
tests_fixtures_plugins_fx_major0_la_CFLAGS = $(FIXTURE_CC) -DFIXTURE_MAJOR=0
tests_fixtures_plugins_fx_major0_la_LDFLAGS = $(FIXTURE_LD)

# The rig the engine-level safety tests share: SQLite store + fault PLC.
check_LTLIBRARIES += tests/libsafetyrig.la
tests_libsafetyrig_la_SOURCES = tests/safety_rig.c tests/safety_rig.h
tests_libsafetyrig_la_CFLAGS = $(ALD_TEST_CC_FLAGS) $(SQLITE_CFLAGS) $(LIBCONFIG_CFLAGS)
tests_libsafetyrig_la_LIBADD = tests/libtestutil.la $(SQLITE_LIBS) -ldl
ALD_SAFETY_DEPS = tests/fixtures/plugins/plc-fault.la plugins/storage-sqlite/storage-sqlite.la

SAFETY_TESTS = tests/check_safety_valves tests/check_safety_setpoint \
	tests/check_safety_commands tests/check_safety_outbox tests/check_safety_loader \
	tests/check_safety_lease
check_PROGRAMS += $(SAFETY_TESTS)
TESTS += $(SAFETY_TESTS)

tests_check_safety_valves_SOURCES = tests/check_safety_valves.c
tests_check_safety_valves_CFLAGS = $(ALD_TEST_CC_FLAGS) $(SQLITE_CFLAGS)
tests_check_safety_valves_LDADD = tests/libsafetyrig.la $(ALD_TEST_LIBS) -lm
EXTRA_tests_check_safety_valves_DEPENDENCIES = $(ALD_SAFETY_DEPS)

tests_check_safety_setpoint_SOURCES = tests/check_safety_setpoint.c
tests_check_safety_setpoint_CFLAGS = $(ALD_TEST_CC_FLAGS) $(SQLITE_CFLAGS)
tests_check_safety_setpoint_LDADD = tests/libsafetyrig.la $(ALD_TEST_LIBS) -lm
EXTRA_tests_check_safety_setpoint_DEPENDENCIES = $(ALD_SAFETY_DEPS)

tests_check_safety_commands_SOURCES = tests/check_safety_commands.c
tests_check_safety_commands_CFLAGS = $(ALD_TEST_CC_FLAGS) $(SQLITE_CFLAGS)
tests_check_safety_commands_LDADD = tests/libsafetyrig.la $(ALD_TEST_LIBS) -ldl -lm
EXTRA_tests_check_safety_commands_DEPENDENCIES = $(ALD_SAFETY_DEPS) \
	tests/fixtures/plugins/storage-fault.la

# The outbox between a fault-injecting primary and a real SQLite fallback.
tests_check_safety_outbox_SOURCES = tests/check_safety_outbox.c
tests_check_safety_outbox_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_safety_outbox_LDADD = $(ALD_TEST_LIBS) -ldl -lpthread -lm
EXTRA_tests_check_safety_outbox_DEPENDENCIES = tests/fixtures/plugins/storage-fault.la \
	plugins/storage-sqlite/storage-sqlite.la

# The PLC follows the lease (set_active, ABI 1.2): the port and the keeper.
tests_check_safety_lease_SOURCES = tests/check_safety_lease.c
tests_check_safety_lease_CFLAGS = $(ALD_TEST_CC_FLAGS) $(SQLITE_CFLAGS)
tests_check_safety_lease_LDADD = tests/libsafetyrig.la $(ALD_TEST_LIBS) -lm
EXTRA_tests_check_safety_lease_DEPENDENCIES = $(ALD_SAFETY_DEPS) \
	tests/fixtures/plugins/storage-fault.la tests/fixtures/plugins/fx-abi10-plc.la

tests_check_safety_loader_SOURCES = tests/check_safety_loader.c
tests_check_safety_loader_CFLAGS = $(ALD_TEST_CC_FLAGS)
tests_check_safety_loader_LDADD = $(ALD_TEST_LIBS)
EXTRA_tests_check_safety_loader_DEPENDENCIES = tests/fixtures/plugins/fx-major0.la

# The mutation check (on demand, not in CI): each one-line mutation of the
# safety-critical code in tests/mutation/mutations.txt, alone, in a scratch
# copy of the tree, against the tests it names. Result: docs/reliability.md.
ALD_MUTATION_INTERPRETER = python3
EXTRA_DIST += tests/mutation/mutate.py tests/mutation/mutations.txt docs/reliability.md
mutation:
	$(ALD_MUTATION_INTERPRETER) $(top_srcdir)/tests/mutation/mutate.py --src $(abs_top_srcdir) \
		--list $(abs_top_srcdir)/tests/mutation/mutations.txt $(MUTATION_FLAGS)
.PHONY: mutation
