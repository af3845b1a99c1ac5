#!/usr/bin/env bats
# The executor's opt-in real-time mode (ALD_EXECUTOR_RT_PRIORITY, engine/realtime.h)
# against the real daemon on the simulated tool: applied where permitted (the
# tests run as root), refused and reported in /health where not (the engine
# run as nobody with RLIMIT_RTPRIO 0), and never a readiness condition.
# Also every thread's name and nice value (engine/thread_role.h): timed
# threads keep the process's, background threads run 5 above it, as root and
# as nobody.

load helpers

MACHINE=e3e6e280-0000-4000-8000-000000000001

teardown() {
    stop_engine
    if [ -n "${RT_DIR:-}" ]; then rm -rf "$RT_DIR"; fi
}

# realtime FIELD: one field of /health's "realtime" object.
realtime() {
    curl -s "http://127.0.0.1:$PORT/health" |
        /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['realtime']['$1'])"
}

# fifo_threads PID: "TID PRIORITY" of each of its threads on SCHED_FIFO.
fifo_threads() {
    local stat
    for stat in /proc/"$1"/task/*/stat; do
        # fields after the ")" of comm: 38 = rt_priority, 39 = policy (1 = SCHED_FIFO)
        sed 's/^.*) //' "$stat" 2>/dev/null |
            awk -v tid="$(basename "$(dirname "$stat")")" '$39 == 1 { print tid, $38 }'
    done
}

# thread_roles PID: "NAME NICE" of each of its threads, sorted.
thread_roles() {
    local task
    for task in /proc/"$1"/task/*; do
        # field 19 of stat, nice, is the 17th after the ")" of comm
        echo "$(cat "$task/comm") $(sed 's/^.*) //' "$task/stat" | awk '{ print $17 }')"
    done 2>/dev/null | sort
}

# check_roles PID: its threads during a run on the shipped conf.d: timed
# threads at the process's nice value (its main thread's: the tests may run
# niced), background threads 5 above it. The starter may still be on its way
# out when the run begins: timed if there.
check_roles() {
    local base bg
    base=$(sed 's/^.*) //' /proc/"$1"/stat | awk '{ print $17 }')
    bg=$((base + 5 > 19 ? 19 : base + 5))
    run thread_roles "$1"
    echo "threads during the run (process nice $base): $output"
    [ -z "$(grep "^ald-starter " <<<"$output" | grep -v " $base\$" || true)" ]
    [ "$(grep -v '^ald-starter ' <<<"$output")" = "ald-commands $base
ald-engine $base
ald-http $bg
ald-lease $base
ald-logger $base
ald-publisher $bg
ald-run $base
ald-valve-guard $base
ald-writer $bg" ]
}

# hold_valve: a run that holds valve 1 open 60 s (stopped by the test).
hold_valve() {
    db "INSERT INTO recipes (id, name) VALUES ('r-hold', 'hold valve 1');
        INSERT INTO recipe_steps (id, recipe_id, sequence_number, name, type)
          VALUES ('r-hold-s', 'r-hold', 1, 'hold', 'valve');
        INSERT INTO valve_step_config (id, step_id, valve_number, duration_ms)
          VALUES ('r-hold-v', 'r-hold-s', 1, 60000);
        INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
          VALUES ('c-hold', 'start_recipe', '{\"recipe_id\": \"r-hold\"}', 'pending', '$MACHINE');"
    wait_sql "SELECT status FROM process_executions WHERE recipe_id = 'r-hold'" running 200
}

stop_run() {
    db "INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
        VALUES ('c-stop', 'stop_recipe', '{}', 'pending', '$MACHINE');"
    wait_sql "SELECT status FROM process_executions WHERE recipe_id = 'r-hold'" aborted 300
}

@test "real-time mode as root: the run thread is SCHED_FIFO, memory is locked, /health says applied" {
    ALD_EXECUTOR_RT_PRIORITY=50 start_engine
    wait_for_code "http://127.0.0.1:$PORT/health/ready" 200 100
    [ "$(realtime requested)" = True ]
    [ "$(realtime sched_fifo)" = applied ]
    [ "$(realtime stack_prefault)" = applied ]
    locked=$(awk '/^VmLck:/ { print $2 }' /proc/"$ENGINE_PID"/status)
    echo "VmLck $locked kB; /health: $(realtime mlockall)"
    # /health tells the truth either way; memory is left unlocked only in the
    # sanitizer run (run-all.sh sets ASAN_OPTIONS), whose mlockall is a no-op.
    if [ -n "${ASAN_OPTIONS:-}" ] && [ "$locked" -eq 0 ]; then
        [[ "$(realtime mlockall)" == "not applied: mlockall returned success but VmLck is 0"* ]]
    else
        [ "$(realtime mlockall)" = applied ]
        [ "$locked" -gt 0 ]
    fi
    [ -z "$(fifo_threads "$ENGINE_PID")" ] # only run threads: none before a recipe
    hold_valve
    run fifo_threads "$ENGINE_PID"
    echo "SCHED_FIFO threads during the run: $output"
    [ "${#lines[@]}" -eq 1 ]
    [ "${lines[0]#* }" -eq 50 ]
    chrt -p "${lines[0]% *}" | grep -q 'SCHED_FIFO'
    stop_run
}

@test "without ALD_EXECUTOR_RT_PRIORITY no thread is real-time and nothing is locked" {
    start_engine
    wait_for_code "http://127.0.0.1:$PORT/health/ready" 200 100
    [ "$(realtime requested)" = False ]
    [ "$(realtime sched_fifo)" = off ]
    [ "$(realtime mlockall)" = off ]
    hold_valve
    [ -z "$(fifo_threads "$ENGINE_PID")" ]
    [ "$(awk '/^VmLck:/ { print $2 }' /proc/"$ENGINE_PID"/status)" -eq 0 ]
    stop_run
}

@test "real-time mode refused for an unprivileged user: /health names each refusal, the engine stays ready and runs" {
    RT_DIR=$(mktemp -d /tmp/ald-realtime.XXXXXX) # nobody cannot enter bats' own tmpdir
    local dir=$RT_DIR
    chmod 755 "$dir"
    mkdir -m 777 "$dir/data"
    cp -r "$ALD_TOP_SRCDIR/conf.d" "$dir/conf"
    chmod -R a+rX "$dir/conf"
    PORT=$(free_port)
    export ALD_DATA_DIR=$dir/data
    ALD_EXECUTOR_RT_PRIORITY=50 prlimit --rtprio=0:0 --memlock=65536:65536 \
        setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
        --bounding-set=-all "$(engine_bin)" --config "$dir/conf" --http-port "$PORT" \
        >"$BATS_TEST_TMPDIR/engine.out" 2>"$BATS_TEST_TMPDIR/engine.log" 3>&- &
    ENGINE_PID=$!
    wait_for_code "http://127.0.0.1:$PORT/health/ready" 200 100 # a refusal never degrades readiness
    [ "$(stat -c %U /proc/"$ENGINE_PID")" = nobody ]
    [ "$(realtime requested)" = True ]
    realtime sched_fifo | grep -q '^refused: priority 50: Operation not permitted (RLIMIT_RTPRIO 0'
    realtime mlockall | grep -q '^refused: RLIMIT_MEMLOCK is 65536 bytes'
    # logged once each, with the reason
    [ "$(grep -c 'WARNING.*sched_fifo refused' "$BATS_TEST_TMPDIR/engine.log")" -eq 1 ]
    [ "$(grep -c 'WARNING.*mlockall refused' "$BATS_TEST_TMPDIR/engine.log")" -eq 1 ]
    hold_valve # the run goes on with normal scheduling
    [ -z "$(fifo_threads "$ENGINE_PID")" ]
    check_roles "$ENGINE_PID" # raising a thread's nice value needs no privilege
    stop_run
    [ "$(grep -c 'WARNING.*sched_fifo refused' "$BATS_TEST_TMPDIR/engine.log")" -eq 1 ] # not again per run
}

@test "every thread is named; timed threads (run, logger, commands, lease, valve guard) keep the process nice value, background ones run 5 above" {
    start_engine
    wait_for_code "http://127.0.0.1:$PORT/health/ready" 200 100 # names the HTTP thread
    hold_valve
    check_roles "$ENGINE_PID"
    [ "$(grep -c 'cannot raise the nice value\|cannot name thread' "$BATS_TEST_TMPDIR/engine.log")" -eq 0 ]
    stop_run
}
