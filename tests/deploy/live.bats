#!/usr/bin/env bats
# health-check.sh against real ald-engine processes (each on its own data
# directory, so each holds its own lease). deploy.sh / rollback.sh with real
# HAProxy and engines: switch.bats; failover after SIGKILL: failover.bats.

load helpers

setup_file() {
    export DEPLOY_TMP=$BATS_FILE_TMPDIR
    [ -x "$(engine_bin)" ] || return 0 # each test skips with the reason
    start_colour blue
    start_colour green
    # ready once the first cycle is stored under the engine's own lease
    wait_for_code "http://127.0.0.1:$BLUE_PORT/health" 200 100
    wait_for_code "http://127.0.0.1:$GREEN_PORT/health" 200 100
    export BLUE_PORT GREEN_PORT BLUE_PID GREEN_PID
}

teardown_file() {
    stop_pid "${BLUE_PID:-}"
    stop_pid "${GREEN_PID:-}"
}

# an engine a test started is stopped even when the test fails early
teardown() {
    stop_pid "${SPARE_PID:-}"
    stop_pid "${SICK_PID:-}"
}

setup() {
    need_engine
    need jq jq
    export ALD_BLUE_URL=http://127.0.0.1:$BLUE_PORT
    export ALD_GREEN_URL=http://127.0.0.1:$GREEN_PORT
}

# ---- health-check.sh ------------------------------------------------------------------

@test "health-check: a healthy engine passes readiness and liveness" {
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "$ALD_BLUE_URL" --retries 1
    [ "$status" -eq 0 ]
    [[ "$output" == *"healthy: $ALD_BLUE_URL/health (HTTP 200"* ]]
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "$ALD_BLUE_URL" --basic --quiet
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "health-check: --json is one parseable object with the engine's answer" {
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "$ALD_GREEN_URL/" --json
    [ "$status" -eq 0 ]
    [ "$(jq -r .healthy <<<"$output")" = true ]
    [ "$(jq -r .http_code <<<"$output")" = 200 ]
    [ "$(jq -r .endpoint <<<"$output")" = /health ]
    [ "$(jq -r .url <<<"$output")" = "$ALD_GREEN_URL" ]
    [ "$(jq -r .response.status <<<"$output")" = healthy ]
    [ "$(jq -r .response.services.plc.status <<<"$output")" = connected ]
}

@test "health-check: a stopped engine fails after every retry" {
    start_colour spare
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "http://127.0.0.1:$SPARE_PORT" --retries 50 \
        --interval 0.1
    [ "$status" -eq 0 ]
    stop_pid "$SPARE_PID"
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "http://127.0.0.1:$SPARE_PORT" --retries 3 \
        --interval 0.1 --json
    [ "$status" -eq 1 ]
    local json=${lines[${#lines[@]} - 1]}
    [ "$(jq -r .healthy <<<"$json")" = false ]
    [ "$(jq -r .attempts <<<"$json")" = 3 ]
    [ "$(jq -r .http_code <<<"$json")" = 0 ]
    [ "$(jq -r .response <<<"$json")" = null ]
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "http://127.0.0.1:$SPARE_PORT" --retries 2 --interval 0.1
    [ "$status" -eq 1 ]
    [[ "$output" == *"did not answer after 2 attempt(s)"* ]]
}

@test "health-check: a degraded engine is alive (--basic) but not ready" {
    mkdir -p "$BATS_TEST_TMPDIR/conf"
    cp "$ALD_TOP_SRCDIR"/conf.d/*.conf "$BATS_TEST_TMPDIR/conf/"
    sed -i "s|# disconnect_file = .*|disconnect_file = \"$BATS_TEST_TMPDIR/plc-down\";|" \
        "$BATS_TEST_TMPDIR/conf/plc-sim.conf"
    touch "$BATS_TEST_TMPDIR/plc-down"
    start_colour sick "$BATS_TEST_TMPDIR/conf"
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "http://127.0.0.1:$SICK_PORT" --basic --retries 1
    local basic=$status
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "http://127.0.0.1:$SICK_PORT" --retries 20 \
        --interval 0.2 --json
    stop_pid "$SICK_PID"
    [ "$basic" -eq 0 ]
    [ "$status" -eq 1 ]
    local json=${lines[${#lines[@]} - 1]}
    [ "$(jq -r .http_code <<<"$json")" = 503 ]
    [ "$(jq -r .response.services.plc.status <<<"$json")" = disconnected ]
}

@test "health-check --ready: a healthy standby can serve but is not the live engine" {
    # a second engine on blue's data directory: blue holds the lease
    local STANDBY_PORT STANDBY_PID
    STANDBY_PORT=$(free_port)
    ALD_DATA_DIR=$DEPLOY_TMP/blue-data "$(engine_bin)" --config "$ALD_TOP_SRCDIR/conf.d" \
        --http-port "$STANDBY_PORT" >"$DEPLOY_TMP/standby.out" 2>"$DEPLOY_TMP/standby.log" 3>&- &
    STANDBY_PID=$!
    wait_for_code "http://127.0.0.1:$STANDBY_PORT/health/basic" 200 100
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "http://127.0.0.1:$STANDBY_PORT" --ready \
        --retries 50 --interval 0.2 --json
    local ready=$status json=${lines[${#lines[@]} - 1]}
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "http://127.0.0.1:$STANDBY_PORT" --retries 1
    local full=$status full_out=$output
    stop_pid "$STANDBY_PID"
    [ "$ready" -eq 0 ]
    [ "$(jq -r .response.role <<<"$json")" = standby ]
    [ "$full" -eq 1 ]
    [[ "$full_out" == *"HTTP 503 (standby; standby: another engine holds the machine's lease)"* ]]
}
