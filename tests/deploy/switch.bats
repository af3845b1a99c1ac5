#!/usr/bin/env bats
# deploy.sh and rollback.sh against real processes: HAProxy running the
# shipped deploy/haproxy/haproxy.cfg on loopback ports, and real engines that
# deploy.sh's docker-compose (tests/deploy/proc-compose) starts and stops,
# both colours on ONE data directory as the compose volume shares it, so the
# machine's lease and the no-duplicate rule are what is tested.

bats_require_minimum_version 1.5.0 # run !
load helpers

setup() {
    setup_blue_behind_haproxy
}

teardown() {
    stop_haproxy
    stop_compose_engines
}

deploy() {
    "$DEPLOY_SCRIPTS/deploy.sh" --environment test --health-retries 50 --health-interval 0.2 \
        --stop-timeout 15 "$@"
}

@test "haproxy follows the lease: the holder is live, a running standby is not" {
    compose_up green
    wait_for_code "$ALD_GREEN_URL/health/ready" 200 100
    run curl -s "$ALD_GREEN_URL/health"
    [ "$(jq -r .status <<<"$output")" = standby ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$ALD_GREEN_URL/health/ready")" = 200 ]
    is_live blue
    run ! is_live green
    run curl -fsS "$ALD_HEALTH_URL/health"
    [ "$status" -eq 0 ]
    [ "$(jq -r .role <<<"$output")" = active ]
    run curl -fsS "http://127.0.0.1:$STATS_PORT/metrics"
    [[ "$output" == *'haproxy_server_status{proxy="ald_engine",server="blue"'* ]]
    # what alert HAProxyNoLiveEngine watches: exactly the lease holder is up
    [[ "$output" == *'haproxy_backend_active_servers{proxy="ald_engine"} 1'* ]]
}

@test "haproxy stats need the configured credentials; no password hash, no stats page" {
    need openssl openssl
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$STATS_PORT/stats"
    [ "$output" = 403 ]
    stop_haproxy
    ALD_HAPROXY_STATS_PASSWORD_HASH=$(openssl passwd -6 correct-horse-1)
    export ALD_HAPROXY_STATS_PASSWORD_HASH
    start_haproxy
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$STATS_PORT/stats"
    [ "$output" = 401 ]
    run curl -s -o /dev/null -w '%{http_code}' -u admin:wrong-password "http://127.0.0.1:$STATS_PORT/stats"
    [ "$output" = 401 ]
    run curl -s -o /dev/null -w '%{http_code}' -u admin:correct-horse-1 "http://127.0.0.1:$STATS_PORT/stats"
    [ "$output" = 200 ]
}

@test "deploy blue-green: green gets ready, takes the lease at the handover, blue stops" {
    run deploy --strategy blue-green --tag v2.0.0
    echo "$output"
    [ "$status" -eq 0 ]
    is_live green
    run ! is_live blue
    [ -z "$(colour_pid blue)" ]
    run cat "$FAKE_COMPOSE_LOG"
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[0]}" == "ALD_TAG_BLUE=v1.0.0 ALD_TAG_GREEN=v2.0.0 --env-file $ALD_ENV_FILE -f "*" up -d --no-deps ald-control-green" ]]
    [[ "${lines[1]}" == *" stop -t 15 ald-control-blue" ]]
    grep -qx 'ACTIVE_COLOUR=green' "$ALD_STATE_DIR/test.state"
    grep -qx 'PREVIOUS_TAG=v1.0.0' "$ALD_STATE_DIR/test.state"
    run curl -fsS "$ALD_HEALTH_URL/health"
    [ "$(jq -r .role <<<"$output")" = active ]
    wait_cycles 2
    [ "$(max_rows_per_parameter_second)" -eq 1 ]
}

@test "deploy: a colour pointed at a dead PLC is never switched to; blue serves, exit 1" {
    mkdir -p "$BATS_TEST_TMPDIR/deadplc"
    cp "$ALD_TOP_SRCDIR"/conf.d/*.conf "$BATS_TEST_TMPDIR/deadplc/"
    # PLC_TYPE=real on a port where nothing listens: alive, never connected
    sed -i "s/plc_type = \"simulation\";/plc_type = \"real\";/" "$BATS_TEST_TMPDIR/deadplc/engine.conf"
    export PLC_HOST=127.0.0.1 PLC_PORT
    PLC_PORT=$(free_port)
    export PROC_COMPOSE_CONF_GREEN=$BATS_TEST_TMPDIR/deadplc
    run deploy --tag v2.0.0 --health-retries 15
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"did not become ready"*"blue (v1.0.0) still serves"* ]]
    [ -z "$(colour_pid green)" ]
    [ -n "$(colour_pid blue)" ]
    is_live blue
    [ "$(curl -s "$ALD_BLUE_URL/health" | jq -r .role)" = active ]
    run cat "$FAKE_COMPOSE_LOG"
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[1]}" == *" stop -t 15 ald-control-green" ]] # blue was never stopped
    [ ! -e "$ALD_STATE_DIR/test.state" ]
}

@test "deploy: a new colour that fails after the handover is rolled back by itself, exit 1" {
    mkdir -p "$BATS_TEST_TMPDIR/fragile"
    cp "$ALD_TOP_SRCDIR"/conf.d/*.conf "$BATS_TEST_TMPDIR/fragile/"
    sed -i "s|# disconnect_file = .*|disconnect_file = \"$BATS_TEST_TMPDIR/plc-down\";|" \
        "$BATS_TEST_TMPDIR/fragile/plc-sim.conf"
    export PROC_COMPOSE_CONF_GREEN=$BATS_TEST_TMPDIR/fragile
    # green's PLC goes away the moment blue is stopped for the handover
    export PROC_COMPOSE_ON_STOP_TOUCH=$BATS_TEST_TMPDIR/plc-down
    run deploy --tag v2.0.0 --health-retries 15
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"rolled back"*"blue (v1.0.0) serves again"* ]]
    [ -n "$(colour_pid blue)" ]
    [ -z "$(colour_pid green)" ]
    wait_live blue
    run cat "$FAKE_COMPOSE_LOG"
    [[ "${lines[0]}" == *" up -d --no-deps ald-control-green" ]]
    [[ "${lines[1]}" == *" stop -t 15 ald-control-blue" ]]
    [[ "${lines[2]}" == *" up -d --no-deps ald-control-blue" ]]
    [[ "${lines[3]}" == *" stop -t 15 ald-control-green" ]]
    [ ! -e "$ALD_STATE_DIR/test.state" ]
}

@test "repeated switches: no failed request through HAProxy, one row per parameter per second" {
    local probe_log=$BATS_TEST_TMPDIR/probes
    (while :; do
        curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "$ALD_HEALTH_URL/health/basic"
        sleep 0.05
    done >"$probe_log" 3>&-) &
    local prober=$! tag start
    for tag in v2.0.0 v3.0.0 v4.0.0; do
        start=$(date +%s%3N)
        run deploy --tag "$tag"
        [ "$status" -eq 0 ]
        [ -z "${SWITCH_RECORD:-}" ] || echo "switch_ms=$(($(date +%s%3N) - start))" >>"$SWITCH_RECORD"
    done
    wait_cycles 2
    kill "$prober"
    wait "$prober" 2>/dev/null || true
    is_live green
    echo "probes: $(wc -l <"$probe_log"), not 200: $(grep -v '^200$' "$probe_log" | sort | uniq -c)"
    [ "$(grep -c '^200$' "$probe_log")" -gt 10 ]
    [ "$(grep -vc '^200$' "$probe_log")" -eq 0 ]
    [ "$(max_rows_per_parameter_second)" -eq 1 ]
    [ -z "${SWITCH_RECORD:-}" ] || echo "missing_cycles=$(missing_seconds_total)" \
        "probes=$(wc -l <"$probe_log") failed=$(grep -vc '^200$' "$probe_log")" >>"$SWITCH_RECORD"
}

@test "rollback --method last hands the lease back to blue with the previous tag" {
    run deploy --tag v2.0.0
    [ "$status" -eq 0 ]
    : >"$FAKE_COMPOSE_LOG"
    run "$DEPLOY_SCRIPTS/rollback.sh" --environment test --yes
    echo "$output"
    [ "$status" -eq 0 ]
    wait_live blue
    [ -z "$(colour_pid green)" ]
    run cat "$FAKE_COMPOSE_LOG"
    [[ "${lines[0]}" == "ALD_TAG_BLUE=v1.0.0 ALD_TAG_GREEN=v2.0.0 "*" up -d --no-deps ald-control-blue" ]]
    [[ "${lines[1]}" == *" stop -t 30 ald-control-green" ]]
    grep -qx 'ACTIVE_TAG=v1.0.0' "$ALD_STATE_DIR/test.state"
    grep -q 'rollback (last)' "$ALD_STATE_DIR/test.history"
}

@test "deploy canary: the new colour soaks as a ready standby, then takes over" {
    run deploy --strategy canary --tag v2.0.0 --canary-steps 10,50 --canary-interval 0
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"canary 10 %"*"canary 50 %"*"handing over"* ]]
    is_live green
    grep -q ' canary green v2.0.0 ' "$ALD_STATE_DIR/test.history"
}

@test "deploy: a failing docker-compose up changes nothing" {
    FAKE_COMPOSE_FAIL=up run deploy --tag v2.0.0
    [ "$status" -eq 1 ]
    [[ "$output" == *"starting ald-control-green with tag v2.0.0 failed"* ]]
    is_live blue
    [ -n "$(colour_pid blue)" ]
}

@test "deploy --dry-run reads the live colour from HAProxy and changes nothing" {
    run deploy --tag v2.0.0
    [ "$status" -eq 0 ]
    : >"$FAKE_COMPOSE_LOG"
    cp "$ALD_STATE_DIR/test.state" "$BATS_TEST_TMPDIR/state.before"
    run deploy --tag v3.0.0 --dry-run
    [ "$status" -eq 0 ]
    [[ "$output" == *"live colour: green (v2.0.0); new colour: blue (v3.0.0)"* ]]
    [[ "$output" == *"up -d --no-deps ald-control-blue"* ]]
    [ ! -s "$FAKE_COMPOSE_LOG" ]
    cmp "$ALD_STATE_DIR/test.state" "$BATS_TEST_TMPDIR/state.before"
    is_live green
}

@test "deploy: a second deploy while one runs is refused (lock)" {
    mkdir -p "$ALD_STATE_DIR/test.lock"
    run deploy --tag v2.0.0
    [ "$status" -eq 4 ]
    [[ "$output" == *"another deploy of test is running"* ]]
    [ ! -s "$FAKE_COMPOSE_LOG" ]
    is_live blue
}
