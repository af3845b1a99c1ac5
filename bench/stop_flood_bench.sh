#!/bin/bash
# stop_flood_bench.sh - how fast a stop lands behind a flood of pending commands.
#
# Usage: bench/stop_flood_bench.sh BUILD_DIR   (PENDING, default 10000; RUNS, 3)
# The engine on its SQLite store and the simulated tool runs a recipe (valve 1
# held open 60 s). PENDING set_parameter rows (MFC 1 to 80 sccm) are inserted
# pending, then one stop_recipe command. Measured: from the stop's insert to
# the engine's "aborted after" log line (the run is aborted, valves closed),
# median of RUNS. Before issue 9 item 7 the stop waited behind every older
# row, 10 per 0.5 s poll (minutes); the bar is 1 s.
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

PENDING=${PENDING:-10000}
RUNS=${RUNS:-3}
MACHINE=e3e6e280-0000-4000-8000-000000000001
MFC1=a0000000-0000-4000-8000-000000000701
machine_line

engine_setup stop-flood
engine_start
: >"$BENCH_TMP/stop"
for run in $(seq "$RUNS"); do
    rid=$(printf 'bbe0f100-0000-4000-8000-%012d' "$run")
    engine_db "
INSERT INTO recipes (id, name) VALUES ('$rid', 'hold valve 1');
INSERT INTO recipe_steps (id, recipe_id, sequence_number, name, type)
  VALUES ('$rid-s', '$rid', 1, 'hold', 'valve');
INSERT INTO valve_step_config (id, step_id, valve_number, duration_ms)
  VALUES ('$rid-v', '$rid-s', 1, 60000);
INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
  VALUES ('$rid-start', 'start_recipe', '{\"recipe_id\": \"$rid\"}', 'pending', '$MACHINE');"
    wait_until_sql "SELECT status FROM process_executions WHERE recipe_id = '$rid'" running 60
    engine_db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $PENDING)
INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
  SELECT '$rid-set' || i, 'set_parameter',
         '{\"parameter_id\": \"$MFC1\", \"value\": 80}', 'pending', '$MACHINE' FROM n;"
    t0=$(now_ms)
    engine_db "INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
  VALUES ('$rid-stop', 'stop_recipe', '{}', 'pending', '$MACHINE');"
    wait_until_sql "SELECT status FROM process_executions WHERE recipe_id = '$rid'" aborted 600
    t_end=$(log_ms "aborted after") || die "no 'aborted after' line"
    echo $((t_end - t0)) >>"$BENCH_TMP/stop"
    pending=$(engine_db "SELECT count(*) FROM recipe_commands WHERE status = 'pending'")
    echo "run $run: stop landed $((t_end - t0)) ms after its insert, $pending commands still pending"
    engine_db "DELETE FROM recipe_commands WHERE status = 'pending'"
done
engine_stop
med=$(median <"$BENCH_TMP/stop")
echo "stop behind $PENDING pending set_parameter rows: aborted $med ms after the insert" \
    "(median of $RUNS)"
row commands "stop behind $PENDING pending commands -> run aborted" "< 1 s" "$med ms" \
    "$(verdict "$med < 1000")" "bench/stop_flood_bench.sh BUILD_DIR (PENDING=$PENDING, RUNS=$RUNS)"
