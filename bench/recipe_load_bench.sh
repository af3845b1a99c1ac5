#!/bin/bash
# recipe_load_bench.sh - how long a large recipe takes to validate and to start.
#
# Usage: bench/recipe_load_bench.sh BUILD_DIR   (SIZES, default "10000 100000"; RUNS, 3)
# For each size N, a recipe of N steps: N/5 top-level loops of 2 iterations,
# each holding valve 1 20 ms, purge 20 ms, valve 2 20 ms, purge 20 ms.
#  (a) `aldctl validate` of the recipe as a JSON document: JSON -> rows ->
#      the engine's validator; wall time, median of RUNS;
#  (b) the engine on its SQLite store: the rows written with INSERT ... SELECT,
#      a start_recipe command inserted, and right behind it a stop_recipe
#      command; measured from the start command's insert to the engine's
#      "running recipe" log line (load + validate + checks), and to the
#      process being `aborted` (the stop landed), median of RUNS.
# shellcheck source=bench/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"

SIZES=${SIZES:-10000 100000}
RUNS=${RUNS:-3}
MACHINE=e3e6e280-0000-4000-8000-000000000001
machine_line

now_ms() { echo $(($(date +%s%N) / 1000000)); }

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

# log_ms PATTERN: the engine log's time stamp of the last line with PATTERN, ms since the epoch.
log_ms() {
    local stamp
    stamp=$(grep "$1" "$ENGINE_LOG" | tail -n 1 | cut -d' ' -f1)
    [ -n "$stamp" ] || return 1
    echo $(($(date -d "$stamp" +%s%N) / 1000000))
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
    : >"$BENCH_TMP/stop-$n"
    for run in $(seq "$RUNS"); do
        rid=$(printf 'bbe0d000-0000-4000-8000-%012d' $((n * 10 + run)))
        sql_recipe "$rid" "$n"
        t0=$(now_ms)
        engine_db "INSERT INTO recipe_commands (id, type, parameters, status, machine_id) VALUES
            ('$rid-start', 'start_recipe', '{\"recipe_id\": \"$rid\"}', 'pending', '$MACHINE'),
            ('$rid-stop', 'stop_recipe', '{}', 'pending', '$MACHINE');"
        wait_until_sql "SELECT status FROM process_executions WHERE recipe_id = '$rid'" aborted 600
        t_run=$(log_ms "running recipe 'bench $n steps'") || die "no 'running recipe' line"
        t_end=$(log_ms "aborted after") || die "no 'aborted after' line"
        echo $((t_run - t0)) >>"$BENCH_TMP/start-$n"
        echo $((t_end - t0)) >>"$BENCH_TMP/stop-$n"
    done
    b_start=$(median <"$BENCH_TMP/start-$n")
    b_stop=$(median <"$BENCH_TMP/stop-$n")
    echo "$n steps: aldctl validate $a_med ms; engine start $b_start ms, stop landed $b_stop ms" \
        "after the start command (medians of $RUNS)"
    cmd="bench/recipe_load_bench.sh BUILD_DIR (SIZES=\"$SIZES\", RUNS=$RUNS)"
    row recipe-load "$n steps: aldctl validate" "well under 1 s" "$a_med ms" \
        "$(verdict "$a_med < 1000")" "$cmd"
    row recipe-load "$n steps: start command -> running" "well under 1 s" "$b_start ms" \
        "$(verdict "$b_start < 1000")" "$cmd"
    row recipe-load "$n steps: start + stop commands -> aborted" "info" "$b_stop ms" info "$cmd"
done
engine_stop
