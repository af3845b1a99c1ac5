#!/usr/bin/env bats
# The SDK as a plugin author meets it through the installed programs:
# unknown plugin settings refused by --check-config with file:line, PLC_TYPE
# naming any configured plc_type, and ald-plugin-check on good and broken
# plugins (issue 12).

load helpers

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
