# tests/supabase.mk: the storage-supabase plugin (loaded with dlopen from the
# build tree) against a throwaway PostgreSQL 15 with deploy/supabase/migrations
# applied and the PostgREST-compatible fixture in front of it. The test starts
# and stops both itself (tests/fixtures/postgrest/pg.sh). Needs the Debian
# packages postgresql (15), python3-psycopg2 and curl.
check_PROGRAMS += tests/check_supabase tests/check_supabase_unit
TESTS += tests/check_supabase tests/check_supabase_unit

tests_check_supabase_SOURCES = tests/check_supabase.c tests/check_supabase_faults.c \
	tests/check_supabase_util.c tests/check_supabase_util.h
tests_check_supabase_CFLAGS = $(ALD_TEST_CC_FLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
tests_check_supabase_LDADD = $(ALD_TEST_LIBS) $(CURL_LIBS) $(JANSSON_LIBS)
EXTRA_tests_check_supabase_DEPENDENCIES = plugins/storage-supabase/storage-supabase.la

# The plugin's pure helpers (URL encoding, JWT shape, times, error bodies),
# compiled straight into the test: they are hidden inside the module.
tests_check_supabase_unit_SOURCES = tests/check_supabase_unit.c \
	plugins/storage-supabase/sb_buf.c plugins/storage-supabase/sb_json.c \
	plugins/storage-supabase/sb_errors.c
tests_check_supabase_unit_CFLAGS = $(ALD_TEST_CC_FLAGS) $(JANSSON_CFLAGS) \
	-I$(top_srcdir)/plugins/storage-supabase
tests_check_supabase_unit_LDADD = $(ALD_TEST_LIBS) $(JANSSON_LIBS)

EXTRA_DIST += tests/fixtures/postgrest/server.py
# Site databases (pg.sh sites): DDL from the Python system's schema dumps,
# site-like rows with duplicate history.
EXTRA_DIST += tests/fixtures/postgrest/site_schema.py tests/fixtures/postgrest/site-rows.sql \
	tests/fixtures/postgrest/site-dumps/openapi-e7d9f0a.json \
	tests/fixtures/postgrest/site-dumps/openapi-head.json
dist_noinst_SCRIPTS += tests/fixtures/postgrest/pg.sh

# The operator app's calls (recipe-monitor-app) with @supabase/supabase-js,
# and the engine running its commands, on a fresh and two site-shaped
# databases. Needs node >= 20 and npm (npm ci from tests/app/package-lock.json
# into the build tree).
TESTS += tests/app/app-calls.test
dist_noinst_SCRIPTS += tests/app/app-calls.test
EXTRA_DIST += tests/app/app-calls.test.mjs tests/app/package.json tests/app/package-lock.json
# app-calls.test installs node_modules into the build tree: make clean removes it.
clean-local: clean-app-run
clean-app-run:
	-rm -rf tests/app-run
.PHONY: clean-app-run
