# tests/config.mk - the engine configuration (engine/config_*.c) and the
# shipped conf.d.
check_PROGRAMS += tests/check_config
TESTS += tests/check_config
tests_check_config_SOURCES = tests/check_config.c
tests_check_config_CFLAGS = $(ALD_TEST_CC_FLAGS) $(LIBCONFIG_CFLAGS)
tests_check_config_LDADD = $(ALD_TEST_LIBS) $(LIBCONFIG_LIBS)
EXTRA_DIST += \
	tests/fixtures/config/plc-real.conf \
	tests/fixtures/config/storage-supabase.conf
