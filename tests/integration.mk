# End-to-end tests of the daemon (bats, run through a TAP wrapper).
TESTS += tests/integration/engine.test tests/integration/supabase.test
dist_noinst_SCRIPTS += tests/integration/engine.test tests/integration/supabase.test
EXTRA_DIST += tests/integration/engine.bats tests/integration/supabase.bats \
	tests/integration/helpers.bash
