#!/usr/bin/env bats
# The engine against a Supabase-shaped backend: a real PostgreSQL 15 with the
# shipped migrations, behind the PostgREST-compatible fixture. One engine runs
# for the whole file; the tests run in order and each one leaves it healthy.
#   ALD_OUTAGE_SECONDS  length of the outage test (default 60, as the issue asks)

bats_require_minimum_version 1.5.0 # run !
load helpers

PG=$ALD_TOP_SRCDIR/tests/fixtures/postgrest/pg.sh
MACHINE=e3e6e280-0000-4000-8000-000000000001
QUICK=b0000000-0000-4000-8000-000000000002

setup_file() {
    # PostgreSQL runs as the postgres user, who cannot enter bats' private
    # temp dirs: use a dir of our own, removed in teardown_file.
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/ald-supabase-XXXXXX")
    chmod 755 "$WORK"
    export WORK
    "$PG" start "$WORK/pg" --seed >"$WORK/pg.log" 2>&1
    # shellcheck disable=SC1091
    . "$WORK/pg/env"
    export PSQL_DSN FIXTURE_URL FIXTURE_PORT
    export ENGINE_PORT; ENGINE_PORT=$(free_port)
    SUPABASE_URL=$FIXTURE_URL SUPABASE_KEY=test-key ALD_DATA_DIR=$WORK/data \
        "$(engine_bin)" --config "$ALD_TOP_SRCDIR/conf.d" --http-port "$ENGINE_PORT" \
        >"$WORK/engine.out" 2>"$WORK/engine.log" 3>&- &
    echo $! >"$WORK/engine.pid"
    wait_for_code "http://127.0.0.1:$ENGINE_PORT/health/basic" 200 100
}

teardown_file() {
    kill -TERM "$(cat "$WORK/engine.pid")" 2>/dev/null || true
    pkill -f "server.py --port $FIXTURE_PORT" 2>/dev/null || true
    "$PG" stop "$WORK/pg" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}

sql() {
    PGOPTIONS='-c client_min_messages=warning' psql "$PSQL_DSN" -X -q -At -v ON_ERROR_STOP=1 -c "$1"
}

metric() {
    curl -s "http://127.0.0.1:$ENGINE_PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# Wait until an SQL query prints the wanted value; at most $3 seconds.
wait_sql() {
    local query=$1 want=$2 secs=${3:-30} got
    for _ in $(seq $((secs * 5))); do
        got=$(sql "$query")
        [ "$got" = "$want" ] && return 0
        sleep 0.2
    done
    echo "'$query' gave '$got', wanted '$want'" >&2
    return 1
}

start_fixture() {
    ALD_FIXTURE_KEY=test-key /usr/bin/python3 "$ALD_TOP_SRCDIR/tests/fixtures/postgrest/server.py" \
        --port "$FIXTURE_PORT" --dsn "$PSQL_DSN" >>"$WORK/fixture2.log" 2>&1 3>&- &
    wait_for_code "$FIXTURE_URL/_test/stats" 200 100
}

# Every logged timestamp has exactly one sample per parameter, and
# consecutive timestamps are never more than 1.5 s apart.
assert_complete_history() {
    local tags per gap
    tags=$(sql "SELECT count(*) FROM component_parameters_full WHERE machine_id = '$MACHINE' AND read_modbus_address IS NOT NULL")
    per=$(sql "SELECT count(*) FROM (SELECT timestamp FROM parameter_value_history GROUP BY timestamp HAVING count(*) <> $tags) t")
    gap=$(sql "SELECT coalesce(extract(epoch FROM max(g)), 0) FROM (SELECT timestamp - lag(timestamp) OVER (ORDER BY timestamp) AS g FROM (SELECT DISTINCT timestamp FROM parameter_value_history) d) x")
    echo "tags=$tags incomplete_timestamps=$per max_gap=$gap s"
    [ "$per" -eq 0 ]
    awk -v g="$gap" 'BEGIN { exit !(g < 1.5) }'
}

wait_drained() {
    for _ in $(seq 600); do
        [ "$(metric ald_outbox_depth)" = 0 ] && [ "$(metric ald_primary_store_down)" = 0 ] &&
            [ "$(metric ald_writer_queue_depth)" = 0 ] && return 0
        sleep 0.2
    done
    echo "outbox never drained: depth $(metric ald_outbox_depth)" >&2
    return 1
}

@test "samples reach PostgreSQL, one per parameter per cycle" {
    wait_sql "SELECT count(DISTINCT timestamp) >= 3 FROM parameter_value_history" t 20
    assert_complete_history
    [ "$(metric ald_database_connected)" = 1 ]
    run sql "SELECT count(*) FROM component_parameters WHERE current_value IS NOT NULL"
    [ "$output" -ge 16 ]
}

@test "a start command inserted with plain SQL runs the demo recipe and updates every table" {
    sql "INSERT INTO recipe_commands (type, parameters, status, machine_id) VALUES ('start_recipe', '{\"recipe_id\": \"$QUICK\", \"operator_id\": \"11111111-1111-4111-8111-111111111111\"}', 'pending', '$MACHINE')"
    wait_sql "SELECT status FROM recipe_commands ORDER BY created_at DESC LIMIT 1" completed 60
    [ "$(sql "SELECT status FROM process_executions")" = completed ]
    [ "$(sql "SELECT recipe_version->>'name' FROM process_executions")" = "Al2O3 quick" ]
    [ "$(sql "SELECT current_step_type || ' ' || current_overall_step || '/' || total_overall_steps FROM process_execution_state")" = "completed 20/20" ]
    [ "$(sql "SELECT progress->>'completed_cycles' FROM process_execution_state")" = 5 ]
    [ "$(sql "SELECT status FROM machines WHERE id = '$MACHINE'")" = idle ]
    [ "$(sql "SELECT current_state FROM machine_state WHERE machine_id = '$MACHINE'")" = idle ]
    [ "$(sql "SELECT count(*) > 0 FROM process_data_points")" = t ]
    [ "$(sql "SELECT count(*) FROM operator_sessions WHERE status = 'active'")" = 1 ]
    [ "$(sql "SELECT plc_connected FROM machine_health WHERE machine_id = '$MACHINE'")" = t ]
    [ "$(sql "SELECT count(*) FROM engine_leases WHERE machine_id = '$MACHINE'")" = 1 ]
    [ "$(sql "SELECT count(*) FROM component_parameters WHERE set_value IS NOT NULL")" -ge 4 ]
}

@test "a setpoint command from the apps' table is applied and finished" {
    sql "INSERT INTO parameter_control_commands (parameter_name, component_parameter_id, target_value, machine_id) VALUES ('flow_rate', 'a0000000-0000-4000-8000-000000000701', 123, '$MACHINE')"
    wait_sql "SELECT completed_at IS NOT NULL AND error_message IS NULL FROM parameter_control_commands" t 30
    [ "$(sql "SELECT set_value FROM component_parameters WHERE id = 'a0000000-0000-4000-8000-000000000701'")" = 123 ]
}

@test "an outage loses nothing and duplicates nothing, and the cadence holds" {
    local outage=${ALD_OUTAGE_SECONDS:-60}
    local late_before; late_before=$(metric ald_logger_late_cycles_total)
    pkill -f "server.py --port $FIXTURE_PORT"
    sleep "$outage"
    [ "$(metric ald_primary_store_down)" = 1 ]
    [ "$(metric ald_outbox_depth)" -ge $((outage - 5)) ]
    [ "$(metric ald_database_connected)" = 0 ]
    start_fixture
    wait_drained
    assert_complete_history
    [ "$(metric ald_data_logging_errors_total)" = 0 ]
    echo "late cycles during the outage: $(( $(metric ald_logger_late_cycles_total) - late_before ))"
}

@test "a slow server (5 s per request) does not slow the logger; the backlog drains after" {
    local before; before=$(sql "SELECT count(DISTINCT timestamp) FROM parameter_value_history")
    curl -s "$FIXTURE_URL/_test/delay?ms=5000" >/dev/null
    sleep 20
    [ "$(metric ald_logger_cycles_total)" -gt 0 ]
    curl -s "$FIXTURE_URL/_test/reset" >/dev/null
    wait_drained
    sleep 1.5 # the batch in hand when the queue emptied
    local after; after=$(sql "SELECT count(DISTINCT timestamp) FROM parameter_value_history")
    echo "timestamps before=$before after=$after"
    [ $((after - before)) -ge 15 ]
    assert_complete_history
}

@test "PostgreSQL restarted mid-run: the engine recovers and nothing is lost" {
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$WORK/pg/pgdata" -m fast -w restart >/dev/null
    sleep 5
    wait_drained
    wait_sql "SELECT count(DISTINCT timestamp) > 0 FROM parameter_value_history WHERE timestamp > now() - interval '3 seconds'" t 30
    assert_complete_history
}

@test "PostgreSQL stopped for 10 s while logging: every sample arrives once, none lost" {
    # shellcheck disable=SC1091
    . "$WORK/pg/env"
    local before after dup outage=10
    before=$(sql "SELECT count(*) FROM parameter_value_history")
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$WORK/pg/pgdata" -m fast -w stop >/dev/null
    sleep "$outage"
    local depth; depth=$(metric ald_outbox_depth)
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$WORK/pg/pgdata" \
        -l "$WORK/pg/pgdata/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $WORK/pg -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
        start >/dev/null
    wait_drained
    sleep 1.5 # the batch in hand when the queue emptied
    after=$(sql "SELECT count(*) FROM parameter_value_history")
    dup=$(sql "SELECT count(*) - count(DISTINCT (parameter_id, timestamp)) FROM parameter_value_history")
    echo "rows before=$before after=$after outbox_depth_during=$depth duplicates=$dup"
    [ "$depth" -ge $((outage - 5)) ] # the cycles of the outage went to the outbox
    [ "$dup" -eq 0 ]
    [ $((after - before)) -ge $(((outage - 1) * 16)) ]
    assert_complete_history
}

@test "a run that ends during an outage is recorded once the database is back" {
    sql "INSERT INTO recipe_commands (type, parameters, status, machine_id) VALUES ('start_recipe', '{\"recipe_id\": \"$QUICK\"}', 'pending', '$MACHINE')"
    for _ in $(seq 150); do # the run has started on the executor thread
        [ "$(metric ald_recipe_running)" = 1 ] && break
        sleep 0.1
    done
    [ "$(metric ald_recipe_running)" = 1 ]
    pkill -f "server.py --port $FIXTURE_PORT"
    for _ in $(seq 300); do # the 2.2 s recipe ends while the fixture is down
        [ "$(metric ald_recipe_running)" = 0 ] && break
        sleep 0.1
    done
    [ "$(metric ald_recipe_running)" = 0 ]
    grep -q "finish_process kept in the outbox" "$WORK/engine.log"
    [ "$(sql "SELECT count(*) FROM process_executions WHERE status = 'running'")" = 1 ]
    start_fixture
    wait_drained
    grep -E "outbox|executor" "$WORK/engine.log" | tail -12 # shown if an assertion fails
    wait_sql "SELECT count(*) FROM process_executions WHERE status = 'running'" 0 30
    wait_sql "SELECT status FROM recipe_commands ORDER BY created_at DESC LIMIT 1" completed 30
    wait_sql "SELECT status FROM machines WHERE id = '$MACHINE'" idle 30
    assert_complete_history
}

# aldctl with the engine's environment (store, data dir).
aldctl_here() {
    SUPABASE_URL=$FIXTURE_URL SUPABASE_KEY=test-key ALD_DATA_DIR=$WORK/data timeout 60 \
        "$ALD_TOP_BUILDDIR/aldctl" "$@" --config "$ALD_TOP_SRCDIR/conf.d" 3>&-
}

@test "aldctl stop --local stops a long run while the database is down; the abort is recorded when it is back" {
    local demo=b0000000-0000-4000-8000-000000000001 valve1=a0000000-0000-4000-8000-000000000101
    sql "INSERT INTO recipe_commands (type, parameters, status, machine_id) VALUES ('start_recipe', '{\"recipe_id\": \"$demo\"}', 'pending', '$MACHINE')"
    for _ in $(seq 150); do
        [ "$(metric ald_recipe_running)" = 1 ] && break
        sleep 0.1
    done
    [ "$(metric ald_recipe_running)" = 1 ]
    pkill -f "server.py --port $FIXTURE_PORT"
    # the database route cannot take the stop
    run aldctl_here stop
    echo "$output"
    [ "$status" -ne 0 ]
    [ "$(metric ald_recipe_running)" = 1 ] # the 400 s recipe goes on
    run aldctl_here stop --local
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"stop signalled to ald-engine (pid $(cat "$WORK/engine.pid"))"* ]]
    for _ in $(seq 300); do
        [ "$(metric ald_recipe_running)" = 0 ] && break
        sleep 0.1
    done
    [ "$(metric ald_recipe_running)" = 0 ]
    grep -q "aborted: stopped on the host (aldctl stop --local); all valves commanded closed$" "$WORK/engine.log"
    [ "$(metric ald_valves_owed)" = 0 ] # every valve read back OFF from the simulator
    [ "$(sql "SELECT status FROM process_executions WHERE recipe_id = '$demo'")" = running ]
    start_fixture
    wait_drained
    wait_sql "SELECT status FROM process_executions WHERE recipe_id = '$demo'" aborted 30
    wait_sql "SELECT error_message FROM process_executions WHERE recipe_id = '$demo'" "stopped on the host (aldctl stop --local)" 30
    wait_sql "SELECT status FROM machines WHERE id = '$MACHINE'" idle 30
    # the valve's own reading, logged after the stop, is closed
    wait_sql "SELECT value FROM parameter_value_history WHERE parameter_id = '$valve1' ORDER BY timestamp DESC LIMIT 1" 0 30
    # a stale or missing pid file is refused, naming the file
    run env ALD_DATA_DIR="$WORK/nowhere" "$ALD_TOP_BUILDDIR/aldctl" stop --local --config "$ALD_TOP_SRCDIR/conf.d"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"no engine pid in $WORK/nowhere/ald-engine.pid"* ]]
}

@test "the key never appears in the engine's log or metrics" {
    run ! grep -q "test-key" "$WORK/engine.log"
    run curl -fsS "http://127.0.0.1:$ENGINE_PORT/metrics"
    [ "$status" -eq 0 ]
    [[ "$output" != *test-key* ]]
}
