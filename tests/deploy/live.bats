#!/usr/bin/env bats
# The deploy kit against real peers: health-check.sh against a real ald-engine,
# and deploy.sh / rollback.sh switching a real HAProxy (the shipped
# deploy/haproxy/haproxy.cfg on loopback ports) between two real engines
# ("blue" and "green") through its runtime API socket. docker-compose is a fake
# that records its calls (tests/deploy/fake-docker-compose).

load helpers

setup_file() {
    export DEPLOY_TMP=$BATS_FILE_TMPDIR
    [ -x "$(engine_bin)" ] || return 0 # each test skips with the reason
    start_colour blue
    start_colour green
    export BLUE_PORT GREEN_PORT BLUE_PID GREEN_PID
}

teardown_file() {
    stop_pid "${BLUE_PID:-}"
    stop_pid "${GREEN_PID:-}"
}

setup() {
    need_engine
    need socat socat
    need "$HAPROXY_BIN" haproxy
    need jq jq
    FRONT_PORT=$(free_port)
    STATS_PORT=$(free_port)
    export_haproxy_env
    export_deploy_env
    rm -f "$ALD_HAPROXY_STATE_FILE"
    rm -rf "$ALD_STATE_DIR"
    export ALD_BLUE_URL=http://127.0.0.1:$BLUE_PORT
    export ALD_GREEN_URL=http://127.0.0.1:$GREEN_PORT
    export ALD_HEALTH_URL=http://127.0.0.1:$FRONT_PORT
}

teardown() {
    stop_haproxy
}

deploy() {
    "$DEPLOY_SCRIPTS/deploy.sh" --environment test --health-retries 20 --health-interval 0.2 \
        --stop-timeout 15 "$@"
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
    run "$DEPLOY_SCRIPTS/health-check.sh" --url "http://127.0.0.1:$SPARE_PORT" --retries 1
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

# ---- HAProxy ---------------------------------------------------------------------------------

@test "haproxy: blue is live on a fresh start, green disabled; stats and exporter answer" {
    start_haproxy
    wait_live blue
    in_maint green
    ! is_live green
    run curl -fsS "http://127.0.0.1:$FRONT_PORT/health/basic"
    [ "$status" -eq 0 ]
    [ "$(jq -r .status <<<"$output")" = ok ]
    run curl -fsS "http://127.0.0.1:$STATS_PORT/metrics"
    [ "$status" -eq 0 ]
    [[ "$output" == *'haproxy_server_status{proxy="ald_engine",server="blue"'* ]]
    run curl -fsS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$STATS_PORT/stats"
    [ "$output" = 200 ]
}

# ---- deploy.sh / rollback.sh ------------------------------------------------------------------

@test "deploy blue-green: green gets the traffic, blue is stopped, the tags are recorded" {
    start_haproxy
    wait_live blue
    run deploy --strategy blue-green --tag v2.0.0
    echo "$output"
    [ "$status" -eq 0 ]
    is_live green
    in_maint blue
    ! is_live blue
    # the calls, in order: start green with the new tag (blue keeps its tag), stop blue
    run cat "$FAKE_COMPOSE_LOG"
    [ "${#lines[@]}" -eq 2 ]
    [[ "${lines[0]}" == "ALD_TAG_BLUE=v1.0.0 ALD_TAG_GREEN=v2.0.0 --env-file $ALD_ENV_FILE -f "*" up -d --no-deps ald-control-green" ]]
    [[ "${lines[1]}" == *" stop -t 15 ald-control-blue" ]]
    grep -qx 'ACTIVE_COLOUR=green' "$ALD_STATE_DIR/test.state"
    grep -qx 'ACTIVE_TAG=v2.0.0' "$ALD_STATE_DIR/test.state"
    grep -qx 'PREVIOUS_TAG=v1.0.0' "$ALD_STATE_DIR/test.state"
    # requests through the frontend now reach green
    local before after
    before=$(sessions green)
    for _ in 1 2 3 4 5; do curl -fsS -o /dev/null "$ALD_HEALTH_URL/health/basic"; done
    after=$(sessions green)
    [ "$((after - before))" -eq 5 ]
}

@test "deploy: the switch survives a HAProxy restart (server-state file)" {
    start_haproxy
    wait_live blue
    run deploy --tag v2.0.0
    [ "$status" -eq 0 ]
    [ -s "$ALD_HAPROXY_STATE_FILE" ]
    stop_haproxy
    start_haproxy
    wait_live green
    in_maint blue
}

@test "rollback --method last switches back to blue with the previous tag" {
    start_haproxy
    wait_live blue
    run deploy --tag v2.0.0
    [ "$status" -eq 0 ]
    is_live green
    : >"$FAKE_COMPOSE_LOG"
    run "$DEPLOY_SCRIPTS/rollback.sh" --environment test --yes
    echo "$output"
    [ "$status" -eq 0 ]
    is_live blue
    in_maint green
    run cat "$FAKE_COMPOSE_LOG"
    [[ "${lines[0]}" == "ALD_TAG_BLUE=v1.0.0 ALD_TAG_GREEN=v2.0.0 "*" up -d --no-deps ald-control-blue" ]]
    [[ "${lines[1]}" == *" stop -t 30 ald-control-green" ]]
    grep -qx 'ACTIVE_COLOUR=blue' "$ALD_STATE_DIR/test.state"
    grep -qx 'ACTIVE_TAG=v1.0.0' "$ALD_STATE_DIR/test.state"
    grep -q 'rollback (last)' "$ALD_STATE_DIR/test.history"
}

@test "rollback --method manual lists the versions and deploys the chosen one" {
    start_haproxy
    wait_live blue
    run deploy --tag v2.0.0
    [ "$status" -eq 0 ]
    run deploy --tag v3.0.0
    [ "$status" -eq 0 ]
    is_live blue # v3 went to the idle colour, blue
    run "$DEPLOY_SCRIPTS/rollback.sh" --environment test --method manual <<<$'2\ny'
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"1) v3.0.0"*"2) v2.0.0"*"3) v1.0.0"* ]]
    is_live green
    grep -qx 'ACTIVE_TAG=v2.0.0' "$ALD_STATE_DIR/test.state"
}

@test "deploy canary: ends with all traffic on green at weight 100, blue in maintenance" {
    start_haproxy
    wait_live blue
    run deploy --strategy canary --tag v2.0.0 --canary-steps 10,50 --canary-interval 0
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"canary: 10 % of traffic to green"*"canary: 50 % of traffic to green"* ]]
    is_live green
    in_maint blue
    [ "$(server_state green | cut -d' ' -f3)" = 100 ]
    [ "$(server_state blue | cut -d' ' -f3)" = 100 ]
    grep -q ' canary green v2.0.0 ' "$ALD_STATE_DIR/test.history"
}

@test "deploy: an unhealthy new colour is stopped and blue keeps the traffic" {
    start_haproxy
    wait_live blue
    ALD_GREEN_URL=http://127.0.0.1:$(free_port) run deploy --tag v2.0.0 --health-retries 5
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"did not become healthy"*"blue (v1.0.0) still serves"* ]]
    is_live blue
    in_maint green
    run cat "$FAKE_COMPOSE_LOG"
    [[ "${lines[0]}" == *" up -d --no-deps ald-control-green" ]]
    [[ "${lines[1]}" == *" stop -t 15 ald-control-green" ]]
    [ "${#lines[@]}" -eq 2 ]
    [ ! -e "$ALD_STATE_DIR/test.state" ]
}

@test "deploy: a failing docker-compose up changes nothing" {
    start_haproxy
    wait_live blue
    FAKE_COMPOSE_FAIL=up run deploy --tag v2.0.0
    [ "$status" -eq 1 ]
    [[ "$output" == *"starting ald-control-green with tag v2.0.0 failed"* ]]
    is_live blue
    in_maint green
}

@test "deploy --dry-run reads the live colour from HAProxy and changes nothing" {
    start_haproxy
    wait_live blue
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
    in_maint blue
}

@test "deploy: a second deploy while one runs is refused (lock)" {
    start_haproxy
    mkdir -p "$ALD_STATE_DIR/test.lock"
    run deploy --tag v2.0.0
    [ "$status" -eq 4 ]
    [[ "$output" == *"another deploy of test is running"* ]]
    [ ! -s "$FAKE_COMPOSE_LOG" ]
    is_live blue
}
