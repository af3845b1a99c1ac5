#!/usr/bin/env bats
# What an engine exposes, with real processes: the HTTP listen address
# (HTTP_BIND, loopback by default), /health and /metrics under hundreds of
# idle or dripping connections, secrets read from files (SUPABASE_KEY_FILE)
# that never reach the log or /metrics, and systemd's notify protocol.

bats_require_minimum_version 1.5.0 # run !
load helpers

setup() {
    need_engine
    export ALD_DATA_DIR=$BATS_TEST_TMPDIR/data
}

teardown() {
    stop_engine
}

# run_engine [ENV=VALUE...]: an engine with extra environment; sets PORT, ENGINE_PID.
run_engine() {
    PORT=$(free_port)
    env "$@" "$(engine_bin)" --config "$ALD_TOP_SRCDIR/conf.d" --http-port "$PORT" \
        >"$BATS_TEST_TMPDIR/engine.out" 2>"$BATS_TEST_TMPDIR/engine.log" 3>&- &
    ENGINE_PID=$!
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
}

listen_address() {
    ss -ltnH "sport = :$PORT" | awk '{ print $4 }'
}

@test "HTTP listens on loopback unless HTTP_BIND says otherwise" {
    need ss iproute2
    run_engine
    [ "$(listen_address)" = "127.0.0.1:$PORT" ]
    grep -q "on 127.0.0.1 port $PORT" "$BATS_TEST_TMPDIR/engine.log"
    stop_engine
    run_engine HTTP_BIND=0.0.0.0
    [ "$(listen_address)" = "0.0.0.0:$PORT" ]
}

@test "a bad HTTP_BIND is refused naming the variable" {
    run env HTTP_BIND="not an address" "$(engine_bin)" --check-config
    [ "$status" -ne 0 ]
    [[ "$output" == *"HTTP_BIND=not an address is not an address"* ]]
}

@test "500 idle or dripping connections: /health and /metrics still answer" {
    run_engine
    wait_for_code "http://127.0.0.1:$PORT/health" 200 100
    run /usr/bin/python3 "$ALD_TOP_SRCDIR/tests/deploy/slow-clients.py" "$PORT" 500 \
        /health/basic /health /metrics
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "connected=500" ]]
    [[ "$output" == *"/metrics status=200 answered=5/5"* ]]
    kill -0 "$ENGINE_PID"
}

@test "SUPABASE_KEY_FILE: the key is used, and never logged nor in /metrics" {
    local key=eyJ-file-secret-do-not-print
    printf '%s\n' "$key" >"$BATS_TEST_TMPDIR/supabase_key"
    # a Supabase URL where nothing listens: the engine runs on its fallback store
    run_engine SUPABASE_URL="http://127.0.0.1:$(free_port)" \
        SUPABASE_KEY_FILE="$BATS_TEST_TMPDIR/supabase_key"
    grep -q 'key = "\*\*\*\*\*\*\*\*" (environment SUPABASE_KEY_FILE)' "$BATS_TEST_TMPDIR/engine.log"
    run curl -s "http://127.0.0.1:$PORT/metrics"
    [[ "$output" != *"$key"* ]]
    run curl -s "http://127.0.0.1:$PORT/health"
    [[ "$output" != *"$key"* ]]
    stop_engine
    run ! grep -q "$key" "$BATS_TEST_TMPDIR/engine.log" "$BATS_TEST_TMPDIR/engine.out"
}

@test "an unreadable SUPABASE_KEY_FILE stops the start with the path named" {
    run env SUPABASE_URL=https://demo.supabase.co SUPABASE_KEY_FILE=/nonexistent/supabase_key \
        "$(engine_bin)" --check-config
    [ "$status" -ne 0 ]
    [[ "$output" == *"SUPABASE_KEY_FILE: cannot read /nonexistent/supabase_key"* ]]
}

@test "systemd notify: READY once logging, WATCHDOG while alive, STOPPING on SIGTERM" {
    local sock=$BATS_TEST_TMPDIR/notify.sock got=$BATS_TEST_TMPDIR/notify.txt
    /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
        out.flush()
' "$sock" "$got" 3>&- &
    local listener=$!
    for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
    run_engine NOTIFY_SOCKET="$sock" WATCHDOG_USEC=2000000
    for _ in $(seq 100); do grep -q '^WATCHDOG=1' "$got" 2>/dev/null && break; sleep 0.1; done
    stop_engine
    kill "$listener"
    cat "$got"
    grep -q '^READY=1 STATUS=logging' "$got"
    grep -q '^WATCHDOG=1' "$got"
    grep -q '^STOPPING=1' "$got"
    # READY comes before the first WATCHDOG, STOPPING last
    [ "$(head -n 1 "$got" | cut -d' ' -f1)" = READY=1 ]
    [ "$(tail -n 1 "$got" | cut -d' ' -f1)" = STOPPING=1 ]
}
