# End-to-end tests of the daemon (bats, run through a TAP wrapper).
TESTS += tests/integration/engine.test tests/integration/supabase.test \
	tests/integration/safety.test
dist_noinst_SCRIPTS += tests/integration/engine.test tests/integration/supabase.test \
	tests/integration/safety.test
EXTRA_DIST += tests/integration/engine.bats tests/integration/supabase.bats \
	tests/integration/safety.bats \
	tests/integration/helpers.bash
# Batched outbox replay killed mid-drain (PostgreSQL behind the fixture).
TESTS += tests/integration/replay.test
dist_noinst_SCRIPTS += tests/integration/replay.test
EXTRA_DIST += tests/integration/replay.bats
# Crash safety as counts: kill -9, disk full (tmpfs), corrupt store file.
TESTS += tests/integration/faults.test
dist_noinst_SCRIPTS += tests/integration/faults.test
EXTRA_DIST += tests/integration/faults.bats
# The daemon over Modbus TCP against ald-plcsim (outages, recipe, byte order),
# and the Modbus plugin over RTU (socat pty pair, pymodbus server).
TESTS += tests/integration/modbus.test tests/modbus-rtu.test
dist_noinst_SCRIPTS += tests/integration/modbus.test tests/modbus-rtu.test
EXTRA_DIST += tests/integration/modbus.bats tests/modbus-rtu.bats tests/modbus-rtu-server.py
# The SDK through the installed programs: strict settings, PLC_TYPE,
# ald-plugin-check (issue 12).
TESTS += tests/integration/sdk.test
dist_noinst_SCRIPTS += tests/integration/sdk.test
EXTRA_DIST += tests/integration/sdk.bats tests/fixtures/plugins/cxx_plugin.cpp
# The executor's opt-in real-time mode: applied as root, refused and reported
# in /health for an unprivileged user (issue 14, item 3).
TESTS += tests/integration/realtime.test
dist_noinst_SCRIPTS += tests/integration/realtime.test
EXTRA_DIST += tests/integration/realtime.bats
