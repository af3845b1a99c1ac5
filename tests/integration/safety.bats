#!/usr/bin/env bats
# Faults and inputs that must end safe (docs/safety.md), against the real
# daemon on the simulated tool and its SQLite store.

bats_require_minimum_version 1.5.0 # run !
load helpers

MACHINE=e3e6e280-0000-4000-8000-000000000001

teardown() {
    stop_engine
    if [ -n "${SECOND_PID:-}" ]; then
        kill -TERM "$SECOND_PID" 2>/dev/null && wait "$SECOND_PID" 2>/dev/null
        SECOND_PID=
    fi
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

# ---- issue 9, items 5-7: command intake ---------------------------------------

# long_recipe ID: valve 1 held open 60 s (a run to stop).
long_recipe() {
    db "INSERT INTO recipes (id, name) VALUES ('$1', 'hold valve 1');
        INSERT INTO recipe_steps (id, recipe_id, sequence_number, name, type)
          VALUES ('$1-s', '$1', 1, 'hold', 'valve');
        INSERT INTO valve_step_config (id, step_id, valve_number, duration_ms)
          VALUES ('$1-v', '$1-s', 1, 60000);"
}

@test "a stop behind 10 000 pending set_parameter commands is taken first and aborts the run" {
    start_and_wait_healthy
    long_recipe r-long
    command c-start start_recipe '{"recipe_id": "r-long"}'
    wait_sql "SELECT status FROM process_executions WHERE recipe_id = 'r-long'" running 100
    db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
        INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
          SELECT 'c-set' || i, 'set_parameter', '{\"parameter_id\": \"$MFC1\", \"value\": 80}',
                 'pending', '$MACHINE' FROM n;"
    command c-stop stop_recipe '{}'
    # does not hang: the stop lands (bounded at 30 s; the benchmark measures it)
    wait_sql "SELECT status FROM process_executions WHERE recipe_id = 'r-long'" aborted 300
    [ "$(db "SELECT status FROM recipe_commands WHERE id = 'c-stop'")" = completed ]
    # no set_parameter was claimed before the stop
    run db "SELECT count(*) FROM recipe_commands WHERE id LIKE 'c-set%' AND executed_at <
            (SELECT executed_at FROM recipe_commands WHERE id = 'c-stop')"
    echo "claimed before the stop: $output"
    [ "$output" -eq 0 ]
    [ "$(db "SELECT count(*) FROM recipe_commands WHERE id LIKE 'c-set%' AND status = 'pending'")" -gt 9000 ]
}

# huge_recipe ID N: N top-level valve steps (valve 1, 10 ms). The tests use a
# million: on a quiet 2-core machine 200 000 load in under 0.5 s, as short as
# a command poll, so the load could end before the stop arrives; a million
# take about 2.5 s.
huge_recipe() {
    db "INSERT INTO recipes (id, name) VALUES ('$1', 'huge');
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
        INSERT INTO recipe_steps (id, recipe_id, sequence_number, name, type)
          SELECT '$1-' || i, '$1', i, 'pulse ' || i, 'valve' FROM n;
        INSERT INTO valve_step_config (id, step_id, valve_number, duration_ms)
          SELECT id || 'c', id, 1, 10 FROM recipe_steps WHERE recipe_id = '$1';"
}

# stop_when_claimed START_ID STOP_ID: a stop queued the moment the start is
# claimed (a trigger), so it is pending while the start's recipe loads.
stop_when_claimed() {
    db "CREATE TRIGGER stop_behind_${1//-/_} AFTER UPDATE OF status ON recipe_commands
        WHEN NEW.id = '$1' AND NEW.status = 'processing' BEGIN
        INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
          VALUES ('$2', 'stop', '{}', 'pending', '$MACHINE'); END;"
}

# Every valve's last value read from the PLC is 0 (read at 1 Hz: wait for it).
all_valves_closed() {
    wait_sql "SELECT count(*) FROM component_parameters_full WHERE machine_id = '$MACHINE'
              AND parameter_name = 'valve_state' AND current_value = 0" 6 100
}

@test "a stop queued behind a 1 000 000-step start lands while the recipe loads and cancels it" {
    start_and_wait_healthy
    huge_recipe r-huge 1000000
    stop_when_claimed c-huge c-halt
    command c-huge start_recipe '{"recipe_id": "r-huge"}'
    # does not hang: the stop lands (bounded at 60 s; the benchmark measures it)
    wait_sql "SELECT status FROM recipe_commands WHERE id = 'c-halt'" completed 600
    [ "$(db "SELECT status || ': ' || error_message FROM recipe_commands WHERE id = 'c-huge'")" = \
      "error: stopped by command c-halt before the recipe started" ]
    # by order, not time: the start was cancelled (with the stop taken) before its load ended
    local log=$BATS_TEST_TMPDIR/engine.log discarded="recipe r-huge of command c-huge loaded after the start was cancelled: discarded"
    for _ in $(seq 600); do grep -q "$discarded" "$log" && break; sleep 0.1; done
    local stop_at cancel_at load_end_at
    stop_at=$(grep -n "command c-halt: stop" "$log" | head -1 | cut -d: -f1)
    cancel_at=$(grep -n "command c-huge: start cancelled while its recipe was loading" "$log" | cut -d: -f1)
    load_end_at=$(grep -n "$discarded" "$log" | cut -d: -f1)
    echo "log lines: stop $stop_at, cancel $cancel_at, load ended $load_end_at"
    [ -n "$stop_at" ] && [ -n "$cancel_at" ] && [ -n "$load_end_at" ]
    [ "$stop_at" -lt "$cancel_at" ]
    [ "$cancel_at" -lt "$load_end_at" ]
    [ "$(db "SELECT count(*) FROM process_executions WHERE recipe_id = 'r-huge'")" -eq 0 ]
    run ! grep -q "running recipe 'huge'" "$log"
    all_valves_closed
    [ "$(db "SELECT status FROM machines WHERE id = '$MACHINE'")" = idle ]
}

@test "SIGTERM while a 1 000 000-step start loads: the engine exits, the start never runs" {
    start_and_wait_healthy
    huge_recipe r-term 1000000
    command c-term start_recipe '{"recipe_id": "r-term"}'
    wait_sql "SELECT status FROM recipe_commands WHERE id = 'c-term'" processing 100
    kill -TERM "$ENGINE_PID"
    # does not hang: the load may end first, then the engine exits (bounded at 60 s)
    for _ in $(seq 600); do kill -0 "$ENGINE_PID" 2>/dev/null || break; sleep 0.1; done
    run ! kill -0 "$ENGINE_PID"
    wait "$ENGINE_PID"
    ENGINE_PID=
    [ "$(db "SELECT status || ': ' || error_message FROM recipe_commands WHERE id = 'c-term'")" = \
      "error: the engine stopped before the recipe started" ]
    [ "$(db "SELECT count(*) FROM process_executions WHERE recipe_id = 'r-term'")" -eq 0 ]
    run ! grep -q "running recipe 'huge'" "$BATS_TEST_TMPDIR/engine.log"
}

@test "a start left pending while no engine ran expires when an engine starts, nothing runs" {
    start_and_wait_healthy
    stop_engine
    long_recipe r-stale
    db "INSERT INTO recipe_commands (id, type, parameters, status, machine_id, created_at)
        VALUES ('c-stale', 'start_recipe', '{\"recipe_id\": \"r-stale\"}', 'pending', '$MACHINE',
                strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-540 seconds'));"
    start_and_wait_healthy
    wait_sql "SELECT status FROM recipe_commands WHERE id = 'c-stale'" error 100
    run db "SELECT error_message FROM recipe_commands WHERE id = 'c-stale'"
    echo "$output"
    [[ "$output" == "expired: created 54"*" s ago"*"command_max_age"* ]]
    [ "$(db "SELECT count(*) FROM process_executions WHERE recipe_id = 'r-stale'")" -eq 0 ]
    grep -q "engine: command_max_age = 60 s" "$BATS_TEST_TMPDIR/engine.log"
}

@test "set_parameter 0.5 on a binary valve is refused naming the value and the valve stays shut" {
    start_and_wait_healthy
    local valve1
    valve1=$(db "SELECT cp.id FROM component_parameters cp JOIN machine_components mc
                 ON mc.id = cp.component_id WHERE mc.name = 'Valve 1' AND cp.name = 'valve_state'")
    [ -n "$valve1" ]
    command c-half set_parameter "{\"parameter_id\": \"$valve1\", \"value\": 0.5}"
    wait_sql "SELECT status FROM recipe_commands WHERE id = 'c-half'" error 100
    run db "SELECT error_message FROM recipe_commands WHERE id = 'c-half'"
    echo "$output"
    [[ "$output" == *"value 0.5 "*"takes only 0 or 1"* ]]
    # two samples later the valve was never seen open
    local n
    n=$(db "SELECT count(*) FROM parameter_value_history WHERE parameter_id = '$valve1'")
    wait_sql "SELECT count(*) >= $n + 2 FROM parameter_value_history WHERE parameter_id = '$valve1'" 1 100
    [ "$(db "SELECT count(*) FROM parameter_value_history WHERE parameter_id = '$valve1' AND value != 0")" -eq 0 ]
}

@test "a second engine starting during a run leaves it alone; the holder recovers it once its engine is gone" {
    unset ALD_ENGINE_ID
    start_and_wait_healthy
    db "INSERT INTO recipes (id, name) VALUES ('r-long', 'long purge');
        INSERT INTO recipe_steps (id, recipe_id, sequence_number, name, type)
          VALUES ('r-long-p', 'r-long', 1, 'purge', 'purge');
        INSERT INTO purge_step_config (id, step_id, duration_ms) VALUES ('r-long-c', 'r-long-p', 600000);"
    command c-long start_recipe '{"recipe_id": "r-long"}'
    wait_sql "SELECT status FROM process_executions WHERE recipe_id = 'r-long'" running 100
    local first_id; first_id=$(cat "$BATS_TEST_TMPDIR/data/engine-id")
    db "SELECT parameters FROM process_executions WHERE recipe_id = 'r-long'" | grep -q "\"engine\":\"$first_id\""
    # blue/green: a second engine on the same store and PLC
    local port2; port2=$(free_port)
    "$(engine_bin)" --config "$ALD_TOP_SRCDIR/conf.d" --http-port "$port2" \
        >/dev/null 2>"$BATS_TEST_TMPDIR/engine2.log" 3>&- &
    SECOND_PID=$!
    wait_for_code "http://127.0.0.1:$port2/health/basic" 200 100
    for _ in $(seq 100); do grep -q 'standing by' "$BATS_TEST_TMPDIR/engine2.log" && break; sleep 0.1; done
    grep -q 'standing by' "$BATS_TEST_TMPDIR/engine2.log"
    # the standby's command poller runs every 0.5 s: give it several rounds
    for _ in $(seq 20); do
        [ "$(db "SELECT status FROM process_executions WHERE recipe_id = 'r-long'")" = running ]
        [ "$(db "SELECT status FROM machines WHERE id = '$MACHINE'")" = processing ]
        sleep 0.1
    done
    ! grep -q 'left running by' "$BATS_TEST_TMPDIR/engine2.log"
    # the first engine dies: the second takes the lease and recovers the run
    kill -KILL "$ENGINE_PID"
    wait "$ENGINE_PID" 2>/dev/null || true
    ENGINE_PID=
    wait_sql "SELECT status FROM process_executions WHERE recipe_id = 'r-long'" failed 200
    wait_sql "SELECT status FROM machines WHERE id = '$MACHINE'" error 100
    grep -q "process .* was left running by $first_id, which is gone" "$BATS_TEST_TMPDIR/engine2.log"
}
