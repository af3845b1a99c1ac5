#!/usr/bin/env bats
# Failover with real processes: two engines on ONE data directory (blue
# active, green a hot standby), HAProxy running the shipped config. SIGKILL
# of the active engine: the standby takes the lease by itself, HAProxy routes
# to it by itself, and no parameter gets two rows in one second.
# FAILOVER_RECORD=FILE appends one line per SIGKILL run for
# bench/failover_bench.sh: the gap in stored cycles, and the milliseconds from
# the kill to the standby's lease (its log) and to HAProxy routing to it.
# Nothing here asserts a time.

bats_require_minimum_version 1.5.0 # run !
load helpers

setup() {
    setup_blue_behind_haproxy
}

teardown() {
    stop_haproxy
    stop_compose_engines
}

# kill_colour NAME: SIGKILL, as the OOM killer or a crash would; prints epoch ms.
kill_colour() {
    local pid
    pid=$(colour_pid "$1")
    date +%s%3N
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

metric() {
    curl -s "$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}

@test "SIGKILL of the active engine: the standby takes over, HAProxy follows, no second stored twice" {
    compose_up green
    wait_for_code "$ALD_GREEN_URL/health/ready" 200 100
    [ "$(curl -s "$ALD_GREEN_URL/health" | jq -r .status)" = standby ]
    wait_cycles 3
    local killed_ms
    killed_ms=$(kill_colour blue)
    wait_live green
    local routed_ms
    routed_ms=$(date +%s%3N)
    [ "$(curl -s "$ALD_HEALTH_URL/health" | jq -r .role)" = active ]
    wait_cycles 3
    [ "$(max_rows_per_parameter_second)" -eq 1 ]
    [ "$(metric "$ALD_GREEN_URL" ald_lease_acquisitions_total)" = 1 ]
    [ "$(metric "$ALD_GREEN_URL" ald_engine_active)" = 1 ]
    local gap
    gap=$(missing_seconds_after "$killed_ms")
    local took_ms
    took_ms=$(date -d "$(grep 'holding the lease' "$PROC_COMPOSE_DIR/green.log" | cut -d' ' -f1)" +%s%3N)
    echo "failover: gap $gap cycle(s); lease taken $((took_ms - killed_ms)) ms and HAProxy" \
        "routing within $((routed_ms - killed_ms)) ms after SIGKILL" >&3
    [ -z "${FAILOVER_RECORD:-}" ] || echo "gap_cycles=$gap lease_ms=$((took_ms - killed_ms))" \
        "haproxy_ms=$((routed_ms - killed_ms))" >>"$FAILOVER_RECORD"
    [ "$gap" -ge 0 ]
}

@test "the standby stores nothing until it holds the lease" {
    compose_up green
    wait_for_code "$ALD_GREEN_URL/health/ready" 200 100
    wait_cycles 3
    [ "$(metric "$ALD_GREEN_URL" ald_engine_active)" = 0 ]
    [ "$(metric "$ALD_GREEN_URL" ald_lease_acquisitions_total)" = 0 ]
    [ "$(max_rows_per_parameter_second)" -eq 1 ]
    grep -q 'standing by as "green", storing nothing' "$PROC_COMPOSE_DIR/green.log"
}

@test "an engine restarted under the same id reclaims its own lease at once" {
    kill_colour blue >/dev/null
    compose_up blue
    wait_for_code "$ALD_BLUE_URL/health" 200 100
    # both runs took the lease on their first answer: no "standing by" in between
    [ "$(grep -c 'holding the lease of machine .* as "blue"' "$PROC_COMPOSE_DIR/blue.log")" -eq 2 ]
    run ! grep -q 'standing by' "$PROC_COMPOSE_DIR/blue.log"
    wait_live blue
    wait_cycles 2
    [ "$(max_rows_per_parameter_second)" -eq 1 ]
}

@test "SIGTERM of the active engine hands the lease over as cleanly as a deploy" {
    compose_up green
    wait_for_code "$ALD_GREEN_URL/health/ready" 200 100
    wait_cycles 2
    "$DOCKER_COMPOSE" stop -t 15 ald-control-blue
    grep -q 'released the lease' "$PROC_COMPOSE_DIR/blue.log"
    wait_live green
    wait_cycles 3
    [ "$(max_rows_per_parameter_second)" -eq 1 ]
}
