#!/usr/bin/env bats
# The SDK as a plugin author meets it through the installed programs:
# unknown plugin settings refused by --check-config with file:line, PLC_TYPE
# naming any configured plc_type, and ald-plugin-check on good and broken
# plugins (issue 12).

load helpers

teardown() {
    stop_engine || true
}

conf_copy() {
    mkdir -p "$BATS_TEST_TMPDIR/conf"
    cp "$ALD_TOP_SRCDIR"/conf.d/*.conf "$BATS_TEST_TMPDIR/conf/"
}

@test "--check-config refuses an unknown plc-sim setting with file:line" {
    conf_copy
    sed -i 's|^\( *\)# seed = 42;|\1seed = 42;\n\1tick_rate = 5;|' "$BATS_TEST_TMPDIR/conf/plc-sim.conf"
    line=$(grep -n 'tick_rate' "$BATS_TEST_TMPDIR/conf/plc-sim.conf" | cut -d: -f1)
    run "$(engine_bin)" --check-config --config "$BATS_TEST_TMPDIR/conf"
    [ "$status" -ne 0 ]
    [[ "$output" == *"plc-sim.conf:$line: setting tick_rate: not a setting of this plugin (it reads: seed"* ]]
}

@test "--check-config refuses an unknown SQLite setting, keeps injected ones" {
    conf_copy
    sed -i 's|^\( *\)settings = {|\1settings = {\n\1    journal_mod = "wal";|' "$BATS_TEST_TMPDIR/conf/storage-sqlite.conf"
    ALD_DATA_DIR=$BATS_TEST_TMPDIR/data run "$(engine_bin)" --check-config --config "$BATS_TEST_TMPDIR/conf"
    [ "$status" -ne 0 ]
    [[ "$output" == *"storage-sqlite.conf:"*": setting journal_mod: not a setting of this plugin"* ]]
}

@test "--check-config refuses an unknown Modbus setting while PLC_TYPE=real" {
    conf_copy
    sed -i 's|^\( *\)settings = {|\1settings = {\n\1    timeout_msec = 5;|' "$BATS_TEST_TMPDIR/conf/plc-modbus.conf"
    PLC_TYPE=real run "$(engine_bin)" --check-config --config "$BATS_TEST_TMPDIR/conf"
    [ "$status" -ne 0 ]
    [[ "$output" == *"plc-modbus.conf:"*": setting timeout_msec: not a setting of this plugin"* ]]
}

@test "the shipped conf.d passes with each plc_type and with Supabase" {
    for t in simulation real; do
        PLC_TYPE=$t PLC_HOST=127.0.0.1 run "$(engine_bin)" --check-config --config "$ALD_TOP_SRCDIR/conf.d"
        [ "$status" -eq 0 ]
    done
    SUPABASE_URL=http://127.0.0.1:9 SUPABASE_KEY=k run "$(engine_bin)" --check-config --config "$ALD_TOP_SRCDIR/conf.d"
    [ "$status" -eq 0 ]
}

@test "PLC_TYPE selects any plc_type a configured instance declares" {
    conf_copy
    sed 's|name = "sim";|name = "replay";|; s|plc_type = "simulation";|plc_type = "replay";|' \
        "$BATS_TEST_TMPDIR/conf/plc-sim.conf" >"$BATS_TEST_TMPDIR/conf/plc-replay.conf"
    PLC_TYPE=replay run "$(engine_bin)" --check-config --config "$BATS_TEST_TMPDIR/conf"
    [ "$status" -eq 0 ]
    PLC_TYPE=nothing run "$(engine_bin)" --check-config --config "$BATS_TEST_TMPDIR/conf"
    [ "$status" -ne 0 ]
    [[ "$output" == *'PLC_TYPE=nothing but no plc instance has plc_type "nothing"'* ]]
    [[ "$output" == *"replay (replay)"* ]]
}

checker() {
    "$ALD_TOP_BUILDDIR/ald-plugin-check" "$@"
}

fixture() {
    echo "$ALD_TOP_BUILDDIR/tests/fixtures/plugins/.libs/$1.so"
}

@test "ald-plugin-check: a good PLC plugin is loadable and consistent, threading exercised" {
    run checker "$(fixture fx-good)" --kind plc --tag hr:1 --tag hr:2=f32
    [ "$status" -eq 0 ]
    [[ "$output" == *"plugin:       fixture-plc 0.0.1 (plc)"* ]]
    [[ "$output" == *"ABI:          1."*" (this engine 1."* ]]
    [[ "$output" == *"layout:       pointer/long/double/enum 8/8/8/4"* ]]
    [[ "$output" == *"present  write_tag                (required)"* ]]
    [[ "$output" == *"missing  valve_events"* ]]
    [[ "$output" == *"threading:    200 write_tag calls"*"all returned; 0 writes failed"* ]]
    [[ "$output" == *"RESULT: loadable and consistent"* ]]
}

@test "ald-plugin-check: the shipped plugins pass with their settings" {
    printf 'host = "127.0.0.1";\nport = 1;\n' >"$BATS_TEST_TMPDIR/modbus.conf"
    run checker "$ALD_TOP_BUILDDIR/plugins/plc-modbus/.libs/plc-modbus.so" --settings "$BATS_TEST_TMPDIR/modbus.conf"
    [ "$status" -eq 0 ]
    run checker "$ALD_TOP_BUILDDIR/plugins/storage-sqlite/.libs/storage-sqlite.so" --kind storage
    [ "$status" -eq 0 ]
    [[ "$output" == *"present  outbox_push"* ]]
    run checker "$ALD_TOP_BUILDDIR/plugins/plc-sim/.libs/plc-sim.so" --tag coil:0=bool --tag hr:0
    [ "$status" -eq 0 ]
    [[ "$output" == *"RESULT: loadable and consistent"* ]]
}

@test "ald-plugin-check: a missing mandatory operation is named" {
    run checker "$(fixture fx-no-write)"
    [ "$status" -eq 1 ]
    [[ "$output" == *"plc vtable lacks the mandatory operation write_tag"* ]]
}

@test "ald-plugin-check: struct_size 0 is named as the cause" {
    run checker "$(fixture fx-size0)"
    [ "$status" -eq 1 ]
    [[ "$output" == *"its struct_size is 0"* ]]
}

@test "ald-plugin-check: a capability bit without its operation, and the reverse" {
    run checker "$(fixture fx-cap-mismatch)"
    [ "$status" -eq 1 ]
    [[ "$output" == *"PROBLEM: capability ALD_CAP_PLC_VALVE_LOG is set but operation valve_events is missing"* ]]
    [[ "$output" == *"PROBLEM: operation pulse is present but capability ALD_CAP_PLC_TIMED_PULSE is not set"* ]]
}

@test "ald-plugin-check: wrong kind, other major, unknown setting, bad create()" {
    run checker "$(fixture fx-good)" --kind storage
    [ "$status" -eq 1 ]
    [[ "$output" == *"is a plc plugin, but is configured as storage"* ]]
    run checker "$(fixture fx-major2)"
    [ "$status" -eq 1 ]
    [[ "$output" == *"ABI 2."* ]]
    printf 'reject = 0;\nrejekt = 1;\n' >"$BATS_TEST_TMPDIR/s.conf"
    run checker "$(fixture fx-good)" --settings "$BATS_TEST_TMPDIR/s.conf"
    [ "$status" -eq 1 ]
    [[ "$output" == *"s.conf:2: setting rejekt: not a setting of this plugin (it reads: reject)"* ]]
    printf 'reject = 1;\n' >"$BATS_TEST_TMPDIR/s.conf"
    run checker "$(fixture fx-good)" --settings "$BATS_TEST_TMPDIR/s.conf"
    [ "$status" -eq 1 ]
    [[ "$output" == *"create():     FAILED"*"asked to reject"* ]]
    run checker
    [ "$status" -eq 2 ]
}

@test "ald-sdk.pc carries the ABI version; the refusal names an SDK that exists" {
    export PKG_CONFIG_PATH=$ALD_TOP_BUILDDIR/sdk
    major=$(sed -n 's/^#define ALD_ABI_MAJOR \([0-9]*\).*/\1/p' "$ALD_TOP_SRCDIR/sdk/include/ald/abi.h")
    minor=$(sed -n 's/^#define ALD_ABI_MINOR \([0-9]*\).*/\1/p' "$ALD_TOP_SRCDIR/sdk/include/ald/abi.h")
    [ "$(pkg-config --variable=abi_major ald-sdk)" = "$major" ]
    [ "$(pkg-config --variable=abi_minor ald-sdk)" = "$minor" ]
    run checker "$(fixture fx-major2)"
    [ "$status" -eq 1 ]
    [[ "$output" == *"rebuild the plugin against this engine's SDK (ald-sdk $(pkg-config --modversion ald-sdk), ABI $major.$minor"* ]]
}

@test "a C++17 plugin builds with -pedantic -Werror and passes the checker" {
    command -v c++ >/dev/null || skip "no C++ compiler"
    c++ -std=c++17 -pedantic -Werror -Wall -Wextra -shared -fPIC -fvisibility=hidden \
        -I "$ALD_TOP_SRCDIR/sdk/include" -o "$BATS_TEST_TMPDIR/plc-cxx.so" \
        "$ALD_TOP_SRCDIR/tests/fixtures/plugins/cxx_plugin.cpp"
    printf 'start = 2.5;\n' >"$BATS_TEST_TMPDIR/s.conf"
    run checker "$BATS_TEST_TMPDIR/plc-cxx.so" --settings "$BATS_TEST_TMPDIR/s.conf" --tag any
    [ "$status" -eq 0 ]
    [[ "$output" == *"plugin:       plc-cxx 1.0.0 (plc)"* ]]
    [[ "$output" == *"RESULT: loadable and consistent"* ]]
}

@test "the engine feeds a JSON-lines archive sink beside the primary store" {
    export ALD_ARCHIVE_DIR=$BATS_TEST_TMPDIR/archive
    start_engine
    wait_for_code "http://127.0.0.1:$PORT/health" 200 600
    archive=$ALD_ARCHIVE_DIR/samples-$(date -u +%F).jsonl
    for _ in $(seq 300); do
        [ -s "$archive" ] && [ "$(wc -l <"$archive")" -ge 20 ] && break
        sleep 0.1
    done
    [ "$(wc -l <"$archive")" -ge 20 ]
    grep -q '"parameter":' "$archive"
    curl -s "http://127.0.0.1:$PORT/metrics" >"$BATS_TEST_TMPDIR/metrics.txt"
    grep -Eq '^ald_sink_batches_total\{sink="archive"\} [1-9]' "$BATS_TEST_TMPDIR/metrics.txt"
    grep -q '^ald_sink_errors_total{sink="archive"} 0$' "$BATS_TEST_TMPDIR/metrics.txt"
    # the primary store got the same cycles
    [ "$(sqlite3 "$ALD_DATA_DIR/ald.db" 'select count(*) from parameter_value_history')" -gt 0 ]
    stop_engine
    unset ALD_ARCHIVE_DIR
}
