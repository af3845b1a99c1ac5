#!/bin/bash
# recipe_load_bench.sh - how long a large recipe takes to validate and to start.
#
# Usage: bench/recipe_load_bench.sh BUILD_DIR   (SIZES, default "10000 100000"; RUNS, 3)
# For each size N, a recipe of N steps: N/5 top-level loops of 2 iterations,
# each holding valve 1 20 ms, purge 20 ms, valve 2 20 ms, purge 20 ms.
#  (a) `aldctl validate` of the recipe as a JSON document: JSON -> rows ->
#      the engine's validator; wall time, median of RUNS;
#  (b) the engine on its SQLite store: the rows written with INSERT ... SELECT,
#      a start_recipe command inserted; measured from its insert to the
#      engine's "running recipe" log line (poll + read + build + checks +
#      snapshot + process row), median of RUNS; and, from the starter's own
#      line, the phases: the store read, the build and validation (the
#      issue's "100 000 steps in well under a second"), the snapshot; then a
#      stop ends that run;
#  (c) a second start, and a stop_recipe inserted by a trigger when the
#      start is claimed (so it is pending while the recipe loads): from the
#      stop's created_at to the engine's log line taking it (it cancels the start before its process is created),
#      median of RUNS; and whether the stop was taken before the start's
#      load ended (the order of the two log lines), in how many runs.
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

SIZES=${SIZES:-10000 100000}
RUNS=${RUNS:-3}
MACHINE=e3e6e280-0000-4000-8000-000000000001
machine_line

# json_recipe N FILE: the recipe as an aldctl document.
json_recipe() {
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
body = [{"type": "valve", "name": "TMA", "valve_number": 1, "duration_ms": 20},
        {"type": "purge", "name": "N2", "duration_ms": 20},
        {"type": "valve", "name": "H2O", "valve_number": 2, "duration_ms": 20},
        {"type": "purge", "name": "N2", "duration_ms": 20}]
steps = [{"type": "loop", "name": "cycle %d" % i, "iteration_count": 2, "steps": body}
         for i in range(n // 5)]
json.dump({"name": "bench %d steps" % n, "steps": steps}, open(path, "w"))
EOF
}

# sql_recipe ID N: the same recipe as rows of the engine's store.
sql_recipe() {
    local id=$1 loops=$(($2 / 5))
    engine_db "
BEGIN;
INSERT INTO recipes (id, name, description) VALUES ('$id', 'bench $2 steps', 'benchmark');
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n + 1 < $loops)
INSERT INTO recipe_steps (id, recipe_id, parent_step_id, sequence_number, name, type)
  SELECT '$id-L' || n, '$id', NULL, n, 'cycle ' || n, 'loop' FROM k;
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n + 1 < $loops)
INSERT INTO loop_step_config (id, step_id, iteration_count) SELECT '$id-L' || n || 'c', '$id-L' || n, 2 FROM k;
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n + 1 < $loops * 4)
INSERT INTO recipe_steps (id, recipe_id, parent_step_id, sequence_number, name, type)
  SELECT '$id-C' || n, '$id', '$id-L' || (n / 4), n % 4, 'step ' || n,
         CASE n % 2 WHEN 0 THEN 'valve' ELSE 'purge' END FROM k;
WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 2 FROM k WHERE n + 2 < $loops * 4)
INSERT INTO valve_step_config (id, step_id, valve_number, duration_ms)
  SELECT '$id-C' || n || 'c', '$id-C' || n, 1 + (n % 4) / 2, 20 FROM k;
WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 2 FROM k WHERE n + 2 < $loops * 4)
INSERT INTO purge_step_config (id, step_id, duration_ms)
  SELECT '$id-C' || n || 'c', '$id-C' || n, 20 FROM k;
COMMIT;"
}

# insert_command ID TYPE PARAMETERS_JSON: a pending command for the machine.
insert_command() {
    engine_db "INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
               VALUES ('$1', '$2', '$3', 'pending', '$MACHINE');"
}

engine_setup recipe-load
engine_start
for n in $SIZES; do
    doc=$BENCH_TMP/recipe-$n.json
    json_recipe "$n" "$doc"
    : >"$BENCH_TMP/validate-$n"
    for _ in $(seq "$RUNS"); do
        t0=$(now_ms)
        "$BUILD/aldctl" validate "$doc" >/dev/null || die "aldctl validate $doc failed"
        echo $(($(now_ms) - t0)) >>"$BENCH_TMP/validate-$n"
    done
    a_med=$(median <"$BENCH_TMP/validate-$n")

    : >"$BENCH_TMP/start-$n"
    : >"$BENCH_TMP/read-$n"
    : >"$BENCH_TMP/build-$n"
    : >"$BENCH_TMP/snapshot-$n"
    : >"$BENCH_TMP/stop-$n"
    : >"$BENCH_TMP/before-$n"
    for run in $(seq "$RUNS"); do
        rid=$(printf 'bbe0d000-0000-4000-8000-%012d' $((n * 10 + run)))
        sql_recipe "$rid" "$n"
        t0=$(now_ms)
        insert_command "$rid-start" start_recipe "{\"recipe_id\": \"$rid\"}"
        wait_until_sql "SELECT status FROM process_executions WHERE recipe_id = '$rid'" running 600
        pid=$(engine_db "SELECT id FROM process_executions WHERE recipe_id = '$rid'")
        wait_for_line "$ENGINE_LOG" "process $pid: running recipe" "$ENGINE_PID"
        t_run=$(log_ms "process $pid: running recipe") || die "no 'running recipe' line"
        echo $((t_run - t0)) >>"$BENCH_TMP/start-$n"
        # "recipe ID: N steps read in A ms, built and validated in B ms, ...
        # snapshot of K KiB made in C ms" (engine/starter.c)
        phases=$(grep "\[starter\] recipe $rid: " "$ENGINE_LOG" | tail -n 1)
        [ -n "$phases" ] || die "no starter line for recipe $rid"
        sed -E 's/.* read in ([0-9]+) ms.*/\1/' <<<"$phases" >>"$BENCH_TMP/read-$n"
        sed -E 's/.*built and validated in ([0-9]+) ms.*/\1/' <<<"$phases" >>"$BENCH_TMP/build-$n"
        sed -E 's/.*snapshot of [0-9]+ KiB made in ([0-9]+) ms.*/\1/' <<<"$phases" \
            >>"$BENCH_TMP/snapshot-$n"
        insert_command "$rid-stop" stop_recipe '{}'
        wait_until_sql "SELECT status FROM process_executions WHERE recipe_id = '$rid'" aborted 600
        # (c) a stop queued while the start loads: inserted by a trigger in the
        # claim's own transaction, so it is pending from the load's first moment
        engine_db "CREATE TRIGGER stop_at_claim_$run AFTER UPDATE OF status ON recipe_commands
                   WHEN NEW.id = '$rid-start2' AND NEW.status = 'processing' BEGIN
                   INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
                     VALUES ('$rid-stop2', 'stop_recipe', '{}', 'pending', '$MACHINE'); END;"
        insert_command "$rid-start2" start_recipe "{\"recipe_id\": \"$rid\"}"
        wait_until_sql "SELECT status FROM recipe_commands WHERE id = '$rid-stop2'" completed 600
        wait_for_line "$ENGINE_LOG" "command $rid-stop2" "$ENGINE_PID"
        t_stop=$(log_ms "command $rid-stop2") || die "no line of command $rid-stop2"
        t1=$(engine_db "SELECT CAST(round((julianday(created_at) - 2440587.5) * 86400000) AS INTEGER)
                        FROM recipe_commands WHERE id = '$rid-stop2'")
        engine_db "DROP TRIGGER stop_at_claim_$run"
        echo $((t_stop - t1)) >>"$BENCH_TMP/stop-$n"
        discarded="of command $rid-start2 loaded after the start was cancelled: discarded"
        # absent when the load ended before the stop was taken (then the stop
        # cancels the start right before its process would be created)
        wait_for_line "$ENGINE_LOG" "$discarded" "$ENGINE_PID" 2>/dev/null || true
        stop_line=$(grep -n "command $rid-stop2" "$ENGINE_LOG" | head -1 | cut -d: -f1)
        load_line=$(grep -n "$discarded" "$ENGINE_LOG" | cut -d: -f1)
        if [ -n "$load_line" ] && [ "$stop_line" -lt "$load_line" ]; then
            echo "$run" >>"$BENCH_TMP/before-$n"
        fi
        echo "run $run: start -> running $((t_run - t0)) ms; stop behind a loading start taken" \
            "$((t_stop - t1)) ms after its insert; the start ended:" \
            "$(engine_db "SELECT status || ' ' || coalesce(error_message, '') FROM recipe_commands
                          WHERE id = '$rid-start2'")"
    done
    b_start=$(median <"$BENCH_TMP/start-$n")
    b_read=$(median <"$BENCH_TMP/read-$n")
    b_build=$(median <"$BENCH_TMP/build-$n")
    b_snap=$(median <"$BENCH_TMP/snapshot-$n")
    b_stop=$(median <"$BENCH_TMP/stop-$n")
    before=$(wc -l <"$BENCH_TMP/before-$n")
    echo "$n steps: aldctl validate $a_med ms; engine start $b_start ms (read $b_read ms," \
        "build and validation $b_build ms, snapshot $b_snap ms); a stop queued while" \
        "the start loads is taken $b_stop ms after its insert (medians of $RUNS), before the" \
        "load ended in $before of $RUNS runs"
    cmd="bench/recipe_load_bench.sh BUILD_DIR (SIZES=\"$SIZES\", RUNS=$RUNS)"
    row recipe-load "$n steps: aldctl validate" "well under 1 s" "$a_med ms" \
        "$(verdict "$a_med < 1000")" "$cmd"
    row recipe-load "$n steps: engine build and validation (starter)" "well under 1 s" \
        "$b_build ms" "$(verdict "$b_build < 500")" "$cmd"
    what="$n steps: start command -> running (poll, read $b_read ms, snapshot $b_snap ms)"
    row recipe-load "$what" "info" "$b_start ms" "info" "$cmd"
    row recipe-load "$n steps: stop inserted while the start loads -> taken" "< 1 s" \
        "$b_stop ms (before the load ended: $before of $RUNS)" "$(verdict "$b_stop < 1000")" "$cmd"
done
engine_stop
