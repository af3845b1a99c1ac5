# aldctl: unit tests of the recipe document (Check) and the CLI end to end
# against a real ald-engine on the simulated tool + SQLite (bats via TAP).
check_PROGRAMS += tests/check_recipe_json
TESTS += tests/check_recipe_json
tests_check_recipe_json_SOURCES = tests/check_recipe_json.c
tests_check_recipe_json_CFLAGS = $(ALD_TEST_CC_FLAGS) $(JANSSON_CFLAGS)
tests_check_recipe_json_LDADD = $(ALD_TEST_LIBS) $(JANSSON_LIBS) -lm

TESTS += tests/aldctl/aldctl.test
dist_noinst_SCRIPTS += tests/aldctl/aldctl.test
EXTRA_DIST += tests/aldctl/aldctl.bats tests/aldctl/nested.json \
	tests/aldctl/wait-timeout.json tests/aldctl/long.json tests/aldctl/broken.json
