#!/usr/bin/env bats
# Faults and inputs that must end safe (docs/safety.md), against the real
# daemon on the simulated tool and its SQLite store.

bats_require_minimum_version 1.5.0 # run !
load helpers

MACHINE=e3e6e280-0000-4000-8000-000000000001

teardown() {
    stop_engine
}

db() {
    sqlite3 -batch -bail -cmd '.timeout 10000' "$BATS_TEST_TMPDIR/data/ald.db" "$@"
}

# wait_sql SQL WANT TENTHS: poll the store until SQL prints WANT.
wait_sql() {
    local got=
    for _ in $(seq "$3"); do
        got=$(db "$1" 2>/dev/null || true)
        [ "$got" = "$2" ] && return 0
        sleep 0.1
    done
    echo "\"$1\" gave \"$got\", wanted \"$2\"" >&2
    return 1
}

start_and_wait_healthy() {
    start_engine
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
}

# command ID TYPE JSON: queue a recipe_commands row for the demo machine.
command() {
    db "INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
        VALUES ('$1', '$2', '$3', 'pending', '$MACHINE');"
}

@test "a recipe name with a newline cannot forge a log line" {
    start_and_wait_healthy
    db "INSERT INTO recipes (id, name) VALUES ('r-forge',
          'x' || char(10) || '2026-01-01T00:00:00.000Z ERROR   [forged] valve 1 left open');
        INSERT INTO recipe_steps (id, recipe_id, sequence_number, name, type)
          VALUES ('r-forge-p', 'r-forge', 1, 'p' || char(13) || 'q', 'purge');
        INSERT INTO purge_step_config (id, step_id, duration_ms) VALUES ('r-forge-c', 'r-forge-p', 10);"
    command c-forge start_recipe '{"recipe_id": "r-forge"}'
    wait_sql "SELECT status FROM process_executions WHERE recipe_id = 'r-forge'" completed 100
    local log=$BATS_TEST_TMPDIR/engine.log
    run ! grep -q '^2026-01-01T00:00:00.000Z' "$log"
    grep -q "running recipe 'x\\\\n2026-01-01T00:00:00.000Z ERROR   \[forged\]" "$log"
    # every line of the log is one event: it starts with a time stamp
    run ! grep -v -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ' "$log"
}

@test "a self-parented loop is refused naming the step, nothing runs" {
    start_and_wait_healthy
    db "INSERT INTO recipes (id, name) VALUES ('r-self', 'self loop');
        INSERT INTO recipe_steps (id, recipe_id, parent_step_id, sequence_number, name, type) VALUES
          ('r-self-top', 'r-self', NULL, 1, 'top purge', 'purge'),
          ('r-self-loop', 'r-self', 'r-self-loop', 2, 'the loop', 'loop'),
          ('r-self-v', 'r-self', 'r-self-loop', 1, 'pulse', 'valve');
        INSERT INTO purge_step_config (id, step_id, duration_ms) VALUES ('c1', 'r-self-top', 10);
        INSERT INTO loop_step_config (id, step_id, iteration_count) VALUES ('c2', 'r-self-loop', 3);
        INSERT INTO valve_step_config (id, step_id, valve_number, duration_ms) VALUES ('c3', 'r-self-v', 1, 20);"
    command c-self start_recipe '{"recipe_id": "r-self"}'
    wait_sql "SELECT status FROM recipe_commands WHERE id = 'c-self'" error 100
    run db "SELECT error_message FROM recipe_commands WHERE id = 'c-self'"
    echo "$output"
    [[ "$output" == *"'the loop'"* ]]
    [[ "$output" == *"not reachable"* ]]
    [ "$(db "SELECT count(*) FROM process_executions WHERE recipe_id = 'r-self'")" -eq 0 ]
}

MFC1=a0000000-0000-4000-8000-000000000701

# setpoint ID TARGET-SQL: a parameter_control_commands row for MFC 1's flow.
setpoint() {
    db "INSERT INTO parameter_control_commands (id, parameter_name, component_parameter_id,
          target_value, machine_id) VALUES ('$1', 'flow_rate', '$MFC1', $2, '$MACHINE');"
}

# The MFC 1 setpoint the PLC reports in the newest sample.
mfc1_set_point() {
    db "SELECT set_point FROM parameter_value_history WHERE parameter_id = '$MFC1'
        ORDER BY timestamp DESC LIMIT 1"
}

@test "a setpoint whose text is not exactly a number is refused and nothing is written" {
    start_and_wait_healthy
    wait_sql "SELECT count(*) > 0 FROM parameter_value_history WHERE parameter_id = '$MFC1'" 1 100
    [ "$(mfc1_set_point)" = 100.0 ]
    setpoint pc-abc "'abc'"
    setpoint pc-120abc "'120abc'"
    setpoint pc-hex "'0x40'"
    for id in pc-abc pc-120abc pc-hex; do
        wait_sql "SELECT error_message IS NOT NULL FROM parameter_control_commands WHERE id = '$id'" 1 100
        run db "SELECT error_message FROM parameter_control_commands WHERE id = '$id'"
        echo "$id: $output"
        [[ "$output" == *"not a number"* ]]
    done
    # then a good one goes through, so the path itself works
    setpoint pc-good "'120'"
    wait_sql "SELECT completed_at IS NOT NULL AND error_message IS NULL
              FROM parameter_control_commands WHERE id = 'pc-good'" 1 100
    wait_sql "SELECT set_point FROM parameter_value_history WHERE parameter_id = '$MFC1'
              ORDER BY timestamp DESC LIMIT 1" 120.0 50
    # nothing but the good command reached the PLC: the setpoint was 100 until then
    [ "$(db "SELECT count(*) FROM parameter_value_history WHERE parameter_id = '$MFC1'
             AND set_point NOT IN (100.0, 120.0)")" -eq 0 ]
}
