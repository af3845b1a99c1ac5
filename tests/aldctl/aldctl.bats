#!/usr/bin/env bats
# aldctl end to end: one real ald-engine (simulated tool + SQLite in a temp
# data dir) for the whole file, driven only through aldctl. Tests run in file
# order and share the machine, so each leaves it idle.

load ../integration/helpers

FIXTURES=${BATS_TEST_DIRNAME}

aldctl() {
    "${ALD_TOP_BUILDDIR:?run through make check}/aldctl" --config "$ALD_TOP_SRCDIR/conf.d" "$@"
}

setup_file() {
    export ALD_DATA_DIR=$BATS_FILE_TMPDIR/data
    local port
    port=$(free_port)
    "$(engine_bin)" --config "$ALD_TOP_SRCDIR/conf.d" --http-port "$port" \
        >"$BATS_FILE_TMPDIR/engine.out" 2>"$BATS_FILE_TMPDIR/engine.log" 3>&- &
    echo $! >"$BATS_FILE_TMPDIR/engine.pid"
    wait_for_code "http://127.0.0.1:$port/health/basic" 200 100
}

teardown_file() {
    local pid
    pid=$(cat "$BATS_FILE_TMPDIR/engine.pid" 2>/dev/null) || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        wait "$pid" || true
    fi
}

# The process id from a line "completed: process <id> ..." of start --wait.
process_of() {
    sed -n 's/^[a-z]*: process \([0-9a-f-]*\).*/\1/p' <<<"$1" | tail -1
}

@test "--version and per-command --help" {
    run aldctl --version
    [ "$status" -eq 0 ]
    [[ "$output" =~ ^aldctl\ [0-9]+\.[0-9]+\.[0-9]+\ \(plugin\ ABI ]]
    for cmd in recipes show start stop set clear-error status import export validate; do
        run aldctl "$cmd" --help
        [ "$status" -eq 0 ]
        [[ "$output" == "Usage: aldctl $cmd"* ]]
        [[ "$output" == *"--config DIR"* ]]
    done
    run aldctl frobnicate
    [ "$status" -eq 2 ]
}

@test "validate reports the path of the first problem and exits 1" {
    run aldctl validate "$FIXTURES/broken.json"
    [ "$status" -eq 1 ]
    [[ "$output" == *'steps[1].steps[0].duration_ms: expected a whole number of milliseconds, got "20"'* ]]
    printf '{\n  "name": "x",\n  "steps": [\n}\n' >"$BATS_TEST_TMPDIR/syntax.json"
    run aldctl validate "$BATS_TEST_TMPDIR/syntax.json"
    [ "$status" -eq 1 ]
    [[ "$output" == *"line 4, column"* ]]
    run aldctl validate "$FIXTURES/nested.json"
    [ "$status" -eq 0 ]
    [[ "$output" == *"valid: 'aldctl nested test', 17 steps"* ]]
}

@test "recipes lists the seeded recipes with steps and duration" {
    run aldctl recipes
    [ "$status" -eq 0 ]
    [[ "$output" == *"Al2O3 quick"*" 20 "*"2.2 s"* ]]
    run aldctl --json recipes
    [ "$status" -eq 0 ]
    [ "$(jq -r '.[] | select(.name == "Nested demo") | .steps' <<<"$output")" = 19 ]
}

@test "start \"Al2O3 quick\" --wait completes; status shows completed 20/20" {
    run aldctl start "Al2O3 quick" --wait
    [ "$status" -eq 0 ]
    [[ "$output" == *"completed: process "* ]]
    local pid
    pid=$(process_of "$output")
    [ -n "$pid" ]
    run aldctl status --process "$pid"
    [ "$status" -eq 0 ]
    [[ "$output" == *"process $pid: completed"* ]]
    [[ "$output" == *"[####################] 100% 20/20 steps, cycle 5/5"* ]]
    run aldctl status --json --process "$pid"
    [ "$(jq -r '.process.outcome' <<<"$output")" = completed ]
    [ "$(jq -r '.process.completed_steps' <<<"$output")" = 20 ]
    [ "$(jq -r '.status' <<<"$output")" = idle ]
    # without --process: the last finished run
    run aldctl status
    [ "$status" -eq 0 ]
    [[ "$output" == *"no process running; the last run:"* ]]
    [[ "$output" == *"process $pid: completed"* ]]
    run aldctl status --json
    [ "$(jq -r '.process.id' <<<"$output")" = "$pid" ]
    [ "$(jq -r '.process.last_finished' <<<"$output")" = true ]
}

@test "import a nested-loop recipe and run it to completion" {
    run aldctl import "$FIXTURES/nested.json"
    [ "$status" -eq 0 ]
    local id=$output
    [[ "$id" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}- ]]
    run aldctl show "$id"
    [ "$status" -eq 0 ]
    [[ "$output" == *"2.1.1. valve \"TMA pulse\": valve 1 for 20 ms"* ]]
    run aldctl start "$id" --wait
    [ "$status" -eq 0 ]
    [[ "$output" == *"100% 17/17 steps, cycle 2/2"* ]]
}

@test "export -> validate -> import round trip keeps the recipe" {
    run aldctl export "Nested demo" -o "$BATS_TEST_TMPDIR/a.json"
    [ "$status" -eq 0 ]
    run aldctl validate "$BATS_TEST_TMPDIR/a.json"
    [ "$status" -eq 0 ]
    run aldctl import "$BATS_TEST_TMPDIR/a.json"
    [ "$status" -eq 0 ]
    local id=$output
    [ "$id" != b0000000-0000-4000-8000-000000000003 ]
    aldctl export "$id" >"$BATS_TEST_TMPDIR/b.json"
    diff "$BATS_TEST_TMPDIR/a.json" "$BATS_TEST_TMPDIR/b.json"
    # importing again under the same id replaces it (no second copy)
    run aldctl import --id "$id" "$BATS_TEST_TMPDIR/a.json"
    [ "$status" -eq 0 ]
    [ "$output" = "$id" ]
    run aldctl --json recipes
    [ "$(jq '[.[] | select(.name == "Nested demo")] | length' <<<"$output")" = 2 ]
    # two recipes share the name now: a name is ambiguous, and says so
    run aldctl show "Nested demo"
    [ "$status" -eq 1 ]
    [[ "$output" == *"2 recipes are named 'Nested demo'"* ]]
}

@test "import --id replaces a recipe that already has runs, keeping its id" {
    aldctl export "Al2O3 quick" | jq '.steps[0].iteration_count = 2 | .version = 2' \
        >"$BATS_TEST_TMPDIR/quick2.json"
    run aldctl import --id b0000000-0000-4000-8000-000000000002 "$BATS_TEST_TMPDIR/quick2.json"
    [ "$status" -eq 0 ]
    run aldctl --json show b0000000-0000-4000-8000-000000000002
    [ "$(jq .total_steps <<<"$output")" = 8 ]
    [ "$(jq .version <<<"$output")" = 2 ]
    run aldctl start b0000000-0000-4000-8000-000000000002 --wait
    [ "$status" -eq 0 ]
    [[ "$output" == *"100% 8/8 steps, cycle 2/2"* ]]
}

@test "set MFC 1 flow_rate: 120 succeeds, 9999 fails naming the limit" {
    run aldctl set "MFC 1/flow_rate" 120
    [ "$status" -eq 0 ]
    [[ "$output" == *"set to 120 sccm"* ]]
    run aldctl set "MFC 1/flow_rate" 9999
    [ "$status" -eq 1 ]
    [[ "$output" == *"outside its limits [0, 500]"* ]]
    run aldctl set "MFC 9/flow_rate" 1
    [ "$status" -eq 1 ]
    [[ "$output" == *"no parameter 'MFC 9/flow_rate'"* ]]
}

@test "stop during a long recipe ends it aborted" {
    local id
    id=$(aldctl import "$FIXTURES/long.json")
    aldctl start "$id" --wait >"$BATS_TEST_TMPDIR/start.out" 2>&1 3>&- &
    local starter=$!
    for _ in $(seq 100); do
        aldctl status | grep -q '^machine .*: processing' && break
        sleep 0.1
    done
    run aldctl stop --wait
    [ "$status" -eq 0 ]
    [[ "$output" == *" aborted "* ]]
    local rc=0
    wait "$starter" || rc=$?
    [ "$rc" -eq 1 ]
    grep -q "the run was aborted" "$BATS_TEST_TMPDIR/start.out"
    run aldctl status
    [[ "$output" == *": idle"* ]]
    [[ "$output" == *"the last run:"*": aborted"* ]]
}

@test "a failed run leaves the machine in error; clear-error returns it to idle; a start also clears it" {
    local id
    id=$(aldctl import "$FIXTURES/wait-timeout.json")
    run aldctl start "$id" --wait
    [ "$status" -eq 1 ]
    [[ "$output" == *"the run failed: step 'impossible pressure'"*"did not reach 900"* ]]
    run aldctl status
    [[ "$output" == *": error"* ]]
    [[ "$output" == *"failure: Recipe execution error"* ]]
    run aldctl clear-error
    [ "$status" -eq 0 ]
    run aldctl status --json
    [ "$(jq -r .status <<<"$output")" = idle ]
    run aldctl clear-error
    [ "$status" -eq 1 ]
    [[ "$output" == *"nothing to clear"* ]]
    # As the Python recipe service did (ALD_START_CLEARS_ERROR=1, the default):
    # a start clears the error of a run this engine ended with every valve closed.
    run aldctl start "$id" --wait
    [ "$status" -eq 1 ]
    run aldctl start "Al2O3 quick" --wait
    echo "$output"
    [ "$status" -eq 0 ]
    run aldctl status --json
    [ "$(jq -r .status <<<"$output")" = idle ]
}

@test "without an engine a command times out with a clear message" {
    ALD_DATA_DIR=$BATS_TEST_TMPDIR/lonely run aldctl --timeout 1 clear-error
    [ "$status" -eq 4 ]
    [[ "$output" == *"no engine took the command within 1 s"*"is ald-engine running for machine e3e6e280-"* ]]
    [[ "$output" == *"once it is older than 60 s: it ends 'expired' (engine.command_max_age)"* ]]
}
