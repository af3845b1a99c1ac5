#!/usr/bin/env bats
# The plc-modbus plugin over Modbus RTU: a pseudo-terminal pair from socat, a
# pymodbus RTU server (tests/modbus-rtu-server.py) on one end and ald-engine
# with transport "rtu" on the other. The server holds fixed values unlike
# the simulator's; the engine must log exactly those.

load integration/helpers

# ---- helpers ----------------------------------------------------------------

# Wait up to $2 tenths of a second for file $1 to contain $3.
wait_for_line() {
    for _ in $(seq "$2"); do
        grep -q "$3" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "no \"$3\" in $1 after $2 tenths of a second:" >&2
    cat "$1" >&2
    return 1
}

# A linked pty pair: $TTY_SERVER <-> $TTY_ENGINE. Sets SOCAT_PID.
start_pty_pair() {
    TTY_SERVER=$BATS_TEST_TMPDIR/tty-server
    TTY_ENGINE=$BATS_TEST_TMPDIR/tty-engine
    socat -d -d "pty,raw,echo=0,link=$TTY_SERVER" "pty,raw,echo=0,link=$TTY_ENGINE" \
        2>"$BATS_TEST_TMPDIR/socat.log" 3>&- &
    SOCAT_PID=$!
    wait_for_line "$BATS_TEST_TMPDIR/socat.log" 50 "starting data transfer loop"
    [ -e "$TTY_SERVER" ] && [ -e "$TTY_ENGINE" ]
}

start_rtu_server() {
    /usr/bin/python3 "$ALD_TOP_SRCDIR/tests/modbus-rtu-server.py" "$TTY_SERVER" 19200 \
        2>"$BATS_TEST_TMPDIR/server.log" 3>&- &
    SERVER_PID=$!
    wait_for_line "$BATS_TEST_TMPDIR/server.log" 100 "serving on"
}

# conf.d with the Modbus instance switched to RTU on $TTY_ENGINE. Sets CONF.
make_rtu_conf() {
    CONF=$BATS_TEST_TMPDIR/conf
    mkdir -p "$CONF"
    cp "$ALD_TOP_SRCDIR"/conf.d/*.conf "$CONF/"
    cat >"$CONF/plc-modbus.conf" <<CONF
plugins = (
  { name = "plc"; plugin = "plc-modbus"; role = "plc"; plc_type = "real";
    settings = {
      transport = "rtu";
      device = "$TTY_ENGINE";
      baud = 19200; parity = "N"; data_bits = 8; stop_bits = 1;
      unit_id = 1;
      connect_timeout_ms = 500;
      response_timeout_ms = 500;
      backoff_initial_ms = 200;
      backoff_max_ms = 1000;
    };
  }
);
CONF
}

stop_pid() {
    if [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1"
        for _ in $(seq 100); do
            kill -0 "$1" 2>/dev/null || break
            [[ "$(ps -o stat= -p "$1" 2>/dev/null)" == Z* ]] && break
            sleep 0.1
        done
        kill -KILL "$1" 2>/dev/null || true
        wait "$1" || true
    fi
}

db() {
    sqlite3 "$ALD_DATA_DIR/ald.db" "$@"
}

mfc1_samples() {
    [ "$(db "SELECT count(*) FROM parameter_value_history
             WHERE parameter_id='a0000000-0000-4000-8000-000000000701';")" -ge "$1" ]
}

# values ID: the distinct values logged for a parameter, comma-separated.
values() {
    db "SELECT group_concat(v) FROM (SELECT DISTINCT value AS v FROM parameter_value_history
        WHERE parameter_id='a0000000-0000-4000-8000-00000000$1' ORDER BY v);"
}

setup() {
    for tool in socat sqlite3; do
        command -v "$tool" >/dev/null || skip "$tool missing (Debian: apt-get install $tool)"
    done
    export ALD_DATA_DIR=$BATS_TEST_TMPDIR/data
    export PLC_TYPE=real
    unset PLC_HOST PLC_IP PLC_PORT PLC_BYTE_ORDER
}

teardown() {
    stop_pid "${ENGINE_PID:-}"
    ENGINE_PID=
    stop_pid "${SERVER_PID:-}"
    stop_pid "${SOCAT_PID:-}"
}

# ---- tests ---------------------------------------------------------------------

@test "over RTU (pty pair + pymodbus) the engine logs the server's exact values" {
    start_pty_pair
    start_rtu_server
    make_rtu_conf
    start_engine "$CONF" 3>&-
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
    for _ in $(seq 100); do
        mfc1_samples 3 && break
        sleep 0.1
    done
    mfc1_samples 3

    grep -q "instance plc: transport = \"rtu\"" "$BATS_TEST_TMPDIR/engine.log"
    # every readable demo parameter, with the server's values (float32-exact)
    [ "$(db "SELECT count(DISTINCT parameter_id) FROM parameter_value_history;")" -eq 16 ]
    [ "$(values 0701)" = 123.25 ] # MFC 1, ir:0
    [ "$(values 0801)" = 42.5 ]   # MFC 2, ir:2
    [ "$(values 0901)" = 0.75 ]   # gauge 1, ir:4
    [ "$(values 1001)" = 0.875 ]  # gauge 2, ir:6
    [ "$(values 1101)" = 151.75 ] # chamber, ir:8
    [ "$(values 1201)" = 81.5 ]   # line heater, ir:10
    [ "$(values 0101)" = 0.0 ]    # valve 1, coil:0
    # valve 3 (coil:2) is ON in the server's image: the engine's start rule
    # (docs/safety.md: every valve commanded closed and read back before any
    # run) closes it, so its newest sample is 0
    [ "$(db "SELECT value FROM parameter_value_history WHERE parameter_id =
             'a0000000-0000-4000-8000-000000000301' ORDER BY timestamp DESC LIMIT 1;")" = 0.0 ]
    grep -q "start: every valve commanded closed and confirmed OFF" "$BATS_TEST_TMPDIR/engine.log"
    [ "$(values 0601)" = 0.0 ]    # valve 6, coil:5
    [ "$(values 1301)" = 1.0 ]    # pump power, coil:10
    [ "$(values 1401)" = 0.0 ]    # N2 power, coil:11
    [ "$(values 1302)" = 1.0 ]    # pump running, di:0
    [ "$(values 1402)" = 0.0 ]    # N2 ready, di:1

    curl -s "http://127.0.0.1:$PORT/metrics" >"$BATS_TEST_TMPDIR/metrics.txt"
    grep -q '^ald_plc_connected 1$' "$BATS_TEST_TMPDIR/metrics.txt"
    grep -q "^ald_plc_requests_total{device=\"$TTY_ENGINE\",plugin_instance=\"plc\"} [1-9]" "$BATS_TEST_TMPDIR/metrics.txt"
}
