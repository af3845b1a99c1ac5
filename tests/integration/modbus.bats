#!/usr/bin/env bats
# The daemon end to end over real Modbus TCP: ald-engine with PLC_TYPE=real
# (the plc-modbus plugin) against ald-plcsim, the demo tool served on a free
# loopback port. Checked in SQLite, over HTTP, in ald-plcsim's valve log and,
# for the heartbeat register, with mbpoll as a second Modbus client.
# Each test starts its own server and engine and stops both afterwards. No
# timing is asserted beyond generous "does not hang" bounds.

bats_require_minimum_version 1.5.0 # run !
load helpers

# ---- helpers ----------------------------------------------------------------

plcsim_bin() {
    echo "${ALD_TOP_BUILDDIR:?run through make check}/ald-plcsim"
}

# A copy of conf.d with plc-modbus timeouts and back-off lowered, so outages
# are noticed and recovered from within a second or two. Sets CONF.
make_conf() {
    CONF=$BATS_TEST_TMPDIR/conf
    mkdir -p "$CONF"
    cp "$ALD_TOP_SRCDIR"/conf.d/*.conf "$CONF/"
    local f=$CONF/plc-modbus.conf
    sed -i -e 's/^\( *connect_timeout_ms\) = [0-9]*;/\1 = 300;/' \
        -e 's/^\( *response_timeout_ms\) = [0-9]*;/\1 = 300;/' \
        -e 's/^\( *backoff_initial_ms\) = [0-9]*;/\1 = 200;/' \
        -e 's/^\( *backoff_max_ms\) = [0-9]*;/\1 = 1000;/' "$f"
    # If conf.d's layout changes, say so rather than test with 30 s back-offs.
    for want in 'connect_timeout_ms = 300;' 'response_timeout_ms = 300;' \
        'backoff_initial_ms = 200;' 'backoff_max_ms = 1000;'; do
        grep -q "$want" "$f" || { echo "make_conf: could not set $want in $f" >&2; return 1; }
    done
}

# start_plcsim PORT [ald-plcsim options...]: start the server on PORT, log to
# $BATS_TEST_TMPDIR/plcsim.log (appended: a restart keeps the history), wait
# for "listening on". Sets SIM_PID and SIM_PORT.
start_plcsim() {
    SIM_PORT=$1
    shift
    local log=$BATS_TEST_TMPDIR/plcsim.log
    local before
    before=$(grep -c "listening on 127.0.0.1:$SIM_PORT" "$log" 2>/dev/null || true)
    "$(plcsim_bin)" --port "$SIM_PORT" --seed 7 "$@" 2>>"$log" 3>&- &
    SIM_PID=$!
    for _ in $(seq 100); do
        [ "$(grep -c "listening on 127.0.0.1:$SIM_PORT" "$log")" -gt "${before:-0}" ] && return 0
        kill -0 "$SIM_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "ald-plcsim did not start on port $SIM_PORT; its log:" >&2
    cat "$log" >&2
    return 1
}

# The engine on $CONF with the Modbus plugin pointed at ald-plcsim.
start_modbus_engine() {
    export PLC_TYPE=real PLC_HOST=127.0.0.1 PLC_PORT=$SIM_PORT
    start_engine "$CONF" 3>&-
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
}

# Has process $1 exited? (a zombie counts as exited)
exited() {
    ! kill -0 "$1" 2>/dev/null || [[ "$(ps -o stat= -p "$1" 2>/dev/null)" == Z* ]]
}

# wait_exit PID SECONDS: wait at most SECONDS for PID to exit; then its status.
wait_exit() {
    local pid=$1 tenths=$(($2 * 10))
    for _ in $(seq "$tenths"); do
        exited "$pid" && break
        sleep 0.1
    done
    if ! exited "$pid"; then
        echo "process $pid still running after $2 s" >&2
        return 124
    fi
    local rc=0
    wait "$pid" || rc=$?
    return "$rc"
}

# eventually TENTHS CMD...: run CMD every 0.1 s until it succeeds, at most TENTHS times.
eventually() {
    local tries=$1
    shift
    for _ in $(seq "$tries"); do
        "$@" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "never true within $tries tenths of a second: $*" >&2
    return 1
}

# metric LINE-PREFIX: the value of the first /metrics sample starting with it.
metric() {
    curl -s --max-time 2 "http://127.0.0.1:$PORT/metrics" |
        awk -v p="$1" 'index($0, p " ") == 1 { print $NF; exit }'
}

# Sum of all samples of a family (every label set).
metric_sum() {
    curl -s --max-time 2 "http://127.0.0.1:$PORT/metrics" |
        awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF } END { print s + 0 }'
}

logger_cycled_past() {
    gt "$(metric ald_logger_cycles_total)" "$1"
}

plc_connected() {
    [ "$(metric ald_plc_connected)" = 1 ]
}

plc_disconnected() {
    [ "$(metric ald_plc_connected)" = 0 ]
}

# gt A B: is A > B (as numbers, floats allowed)?
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }

db() {
    sqlite3 "$ALD_DATA_DIR/ald.db" "$@"
}

now_iso() {
    date -u +%Y-%m-%dT%H:%M:%S.%3NZ
}

# Samples of parameter $1 stamped after $2 (ISO-8601 UTC, compares as text).
samples_after() {
    db "SELECT count(*) FROM parameter_value_history WHERE parameter_id='$1' AND timestamp > '$2';"
}

has_samples_after() {
    [ "$(samples_after "$1" "$2")" -ge "${3:-1}" ]
}

MFC1=a0000000-0000-4000-8000-000000000701
MFC2=a0000000-0000-4000-8000-000000000801
CHAMBER=a0000000-0000-4000-8000-000000001101
VALVES="'a0000000-0000-4000-8000-000000000101','a0000000-0000-4000-8000-000000000201',
'a0000000-0000-4000-8000-000000000301','a0000000-0000-4000-8000-000000000401',
'a0000000-0000-4000-8000-000000000501','a0000000-0000-4000-8000-000000000601'"

# min and max of a parameter's logged values: "MIN MAX".
value_range() {
    db -separator ' ' "SELECT min(value), max(value) FROM parameter_value_history WHERE parameter_id='$1';"
}

# within ID LO HI: every logged value of the parameter lies in [LO, HI].
within() {
    local lo hi
    read -r lo hi <<<"$(value_range "$1")"
    echo "$1: min $lo max $hi (want $2..$3)"
    [ -n "$lo" ] && ! gt "$2" "$lo" && ! gt "$hi" "$3"
}

setup() {
    make_conf
    export ALD_DATA_DIR=$BATS_TEST_TMPDIR/data
    SIM_PID=
    ENGINE_PID=
    PROXY_PID=
}

teardown() {
    [ -n "${PROXY_PID:-}" ] && kill_proxy
    if [ -n "${SECOND_PID:-}" ] && ! exited "$SECOND_PID"; then
        kill -TERM "$SECOND_PID"
        wait_exit "$SECOND_PID" 15 || { kill -KILL "$SECOND_PID"; wait "$SECOND_PID"; }
    fi
    # A stopped server must run again to take its SIGTERM.
    [ -n "${SIM_PID:-}" ] && kill -CONT "$SIM_PID" 2>/dev/null
    if [ -n "${ENGINE_PID:-}" ] && ! exited "$ENGINE_PID"; then
        kill -TERM "$ENGINE_PID"
        wait_exit "$ENGINE_PID" 15 || { kill -KILL "$ENGINE_PID"; wait "$ENGINE_PID"; }
    fi
    if [ -n "${SIM_PID:-}" ] && ! exited "$SIM_PID"; then
        kill -TERM "$SIM_PID"
        wait_exit "$SIM_PID" 5 || { kill -KILL "$SIM_PID"; wait "$SIM_PID"; }
    fi
    true
}

# ---- tests ---------------------------------------------------------------------

@test "over Modbus the engine logs all 16 demo parameters with plausible values and setpoints" {
    start_plcsim "$(free_port)"
    local t0=$SECONDS
    start_modbus_engine
    while [ $((SECONDS - t0)) -lt 7 ]; do sleep 0.2; done

    local want tags min
    want=$(db "SELECT count(*) FROM component_parameters_full WHERE read_modbus_address IS NOT NULL;")
    tags=$(db "SELECT count(DISTINCT parameter_id) FROM parameter_value_history;")
    min=$(db "SELECT min(n) FROM (SELECT count(*) AS n FROM parameter_value_history GROUP BY parameter_id);")
    echo "tags=$tags of $want, min rows per tag=$min"
    [ "$want" -eq 16 ]
    [ "$tags" -eq "$want" ]
    # exactly the readable parameters, none other
    [ "$(db "SELECT count(*) FROM (SELECT DISTINCT parameter_id FROM parameter_value_history)
        WHERE parameter_id NOT IN (SELECT id FROM component_parameters_full
                                   WHERE read_modbus_address IS NOT NULL);")" -eq 0 ]
    [ "$min" -ge 4 ]

    # the warm demo tool (docs/demo-tool.md): MFC 1 at 100, MFC 2 at 0,
    # chamber 150 °C, line 80 °C, valves closed, pump and N2 on
    within "$MFC1" 95 105
    within "$MFC2" 0 5
    within "$CHAMBER" 145 155
    within a0000000-0000-4000-8000-000000001201 75 85
    within a0000000-0000-4000-8000-000000000901 0.1 2
    [ "$(db "SELECT count(*) FROM parameter_value_history
             WHERE parameter_id IN ($VALVES)
               AND value NOT IN (0, 1);")" -eq 0 ]
    [ "$(db "SELECT count(*) FROM parameter_value_history
             WHERE parameter_id IN ($VALVES);")" -ge 24 ]
    for id in 1301 1302 1401 1402; do
        within "a0000000-0000-4000-8000-00000000$id" 1 1
    done
    # MFC samples carry their setpoint
    [ "$(db "SELECT count(*) FROM parameter_value_history
             WHERE parameter_id='$MFC1' AND abs(set_point - 100) < 0.001;")" -ge 4 ]

    curl -s "http://127.0.0.1:$PORT/metrics" >"$BATS_TEST_TMPDIR/metrics.txt"
    grep -q '^ald_plc_connected 1$' "$BATS_TEST_TMPDIR/metrics.txt"
    # plugin series carry the instance's name (host_services.c)
    local dev="device=\"127.0.0.1:$SIM_PORT\"" inst="plugin_instance=\"plc\""
    local requests
    requests=$(metric "ald_plc_requests_total{$dev,$inst}")
    echo "requests=$requests"
    gt "$requests" 0
    grep -q "^ald_plc_response_time_seconds_count{$dev,$inst} " "$BATS_TEST_TMPDIR/metrics.txt"
    grep -q "^ald_plc_reconnects_total{$dev,$inst} 0$" "$BATS_TEST_TMPDIR/metrics.txt"
    grep -q "^ald_plc_request_errors_total{$dev,kind=\"timeout\",$inst} 0$" "$BATS_TEST_TMPDIR/metrics.txt"
    # the server saw the engine's reads
    grep -q "client fd [0-9]* connected" "$BATS_TEST_TMPDIR/plcsim.log"
}

@test "server killed: health degraded, HTTP answers; restarted on the same port: reconnects, samples resume" {
    start_plcsim "$(free_port)"
    start_modbus_engine
    eventually 50 plc_connected
    eventually 50 has_samples_after "$MFC1" 0

    kill -KILL "$SIM_PID"
    wait "$SIM_PID" || true
    SIM_PID=
    eventually 100 plc_disconnected

    # /health: 503, degraded (not unhealthy: the logger still runs), PLC named
    run curl -s --max-time 2 -w '\n%{http_code}' "http://127.0.0.1:$PORT/health"
    echo "$output"
    [ "${lines[-1]}" = 503 ]
    [ "$(jq -r .status <<<"${lines[0]}")" = degraded ]
    [ "$(jq -r .services.plc.status <<<"${lines[0]}")" = disconnected ]
    [ "$(jq -r '.reasons | index("PLC disconnected") != null' <<<"${lines[0]}")" = true ]
    # the engine goes on answering, and its logger cycling, while the PLC is away
    local cycles
    cycles=$(metric ald_logger_cycles_total)
    run curl -s --max-time 2 "http://127.0.0.1:$PORT/health/basic"
    [ "$status" -eq 0 ]
    [ "$(jq -r .plc_connected <<<"$output")" = false ]
    [ "$(jq -r .status <<<"$output")" = ok ]

    eventually 50 logger_cycled_past "$cycles"
    sleep 1 # a few failed reconnect attempts
    local restart_at
    restart_at=$(now_iso)
    start_plcsim "$PLC_PORT"
    eventually 150 plc_connected
    eventually 50 has_samples_after "$MFC1" "$restart_at" 2
    # every demo parameter resumed, not just MFC 1
    [ "$(db "SELECT count(DISTINCT parameter_id) FROM parameter_value_history
             WHERE timestamp > '$restart_at';")" -eq 16 ]
    within "$MFC1" 95 105

    local dev="device=\"127.0.0.1:$SIM_PORT\",plugin_instance=\"plc\"" reconnects errors
    reconnects=$(metric "ald_plc_reconnects_total{$dev}")
    errors=$(metric ald_plc_errors_total)
    echo "reconnects=$reconnects errors=$errors request_errors=$(metric_sum ald_plc_request_errors_total)"
    gt "$reconnects" 0
    gt "$errors" 0
    gt "$(metric_sum ald_plc_request_errors_total)" 0
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health"
    [ "$output" = 200 ]
}

@test "server stops answering (SIGSTOP): HTTP stays responsive, PLC disconnected, recovers; SIGTERM does not hang" {
    start_plcsim "$(free_port)"
    start_modbus_engine
    eventually 50 plc_connected

    kill -STOP "$SIM_PID"
    # Over several timeout periods, each endpoint answers within 2 s.
    local code
    for _ in 1 2 3 4 5; do
        for path in /health /metrics /health/basic; do
            code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://127.0.0.1:$PORT$path" || true)
            echo "$path -> $code"
            [ "$code" = 200 ] || [ "$code" = 503 ]
        done
        sleep 0.3
    done
    eventually 100 plc_disconnected
    run curl -s --max-time 2 "http://127.0.0.1:$PORT/health"
    [ "$(jq -r .services.plc.status <<<"$output")" = disconnected ]
    gt "$(metric_sum ald_plc_request_errors_total)" 0

    kill -CONT "$SIM_PID"
    eventually 150 plc_connected
    local resumed_at
    resumed_at=$(now_iso)
    eventually 50 has_samples_after "$MFC1" "$resumed_at"

    # Stop the engine while the server hangs again: it must exit, cleanly.
    kill -STOP "$SIM_PID"
    eventually 100 plc_disconnected
    kill -TERM "$ENGINE_PID"
    local rc=0
    wait_exit "$ENGINE_PID" 15 || rc=$?
    echo "engine exit status $rc"
    [ "$rc" -eq 0 ]
    ENGINE_PID=
    grep -q "SIGTERM received" "$BATS_TEST_TMPDIR/engine.log"
    grep -q "stopped in" "$BATS_TEST_TMPDIR/engine.log"
}

@test "\"Al2O3 quick\" over Modbus: aldctl --wait exits 0, 10 pulses on coil:0/coil:1 alternate, each closed" {
    local events=$BATS_TEST_TMPDIR/events.csv
    start_plcsim "$(free_port)" --events "$events"
    start_modbus_engine
    eventually 50 plc_connected

    run "$ALD_TOP_BUILDDIR/aldctl" --config "$CONF" start "Al2O3 quick" --wait
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"completed: process "* ]]

    # header + 20 transitions: (coil:0 open, close, coil:1 open, close) x 5
    head -1 "$events" | grep -qx 'mono_ns,address,open'
    tail -n +2 "$events" | cut -d, -f2,3 >"$BATS_TEST_TMPDIR/seq.txt"
    for _ in 1 2 3 4 5; do printf 'coil:0,1\ncoil:0,0\ncoil:1,1\ncoil:1,0\n'; done \
        >"$BATS_TEST_TMPDIR/want.txt"
    diff "$BATS_TEST_TMPDIR/want.txt" "$BATS_TEST_TMPDIR/seq.txt"
    # every pulse has a length > 0: each close after its open
    tail -n +2 "$events" | awk -F, '
        $3 == 1 { open[$2] = $1; next }
        $3 == 0 { if (!($2 in open) || $1 <= open[$2]) bad++; n++; delete open[$2] }
        END { print n " pulses, " bad + 0 " bad"; exit !(n == 10 && bad == 0) }'
    [ "$(grep -c 'valve coil:[01] pulse [0-9.]* ms' "$BATS_TEST_TMPDIR/plcsim.log")" -eq 10 ]
}

@test "PLC_BYTE_ORDER=badc (legacy word order) reads a low-word-first server's MFC values" {
    start_plcsim "$(free_port)" --byte-order cdab
    export PLC_BYTE_ORDER=badc
    start_modbus_engine
    eventually 50 plc_connected
    eventually 80 has_samples_after "$MFC1" 0 3
    within "$MFC1" 95 105
    within "$CHAMBER" 145 155
    grep -q 'legacy_byte_order = "badc" (environment PLC_BYTE_ORDER)' "$BATS_TEST_TMPDIR/engine.log"
    kill -TERM "$ENGINE_PID"
    wait_exit "$ENGINE_PID" 15
    ENGINE_PID=

    # Control: without the setting the same server's floats decode wrongly,
    # so the values above really came through the legacy order.
    unset PLC_BYTE_ORDER
    rm -rf "$ALD_DATA_DIR"
    start_modbus_engine
    eventually 80 has_samples_after "$MFC1" 0 2
    run within "$MFC1" 95 105
    echo "$output"
    [ "$status" -ne 0 ]
}

# --doctor with PLC_TYPE=real on the test's data dir against ald-plcsim.
doctor() {
    PLC_TYPE=real PLC_HOST=127.0.0.1 PLC_PORT=$SIM_PORT LOG_LEVEL=warning \
        ALD_DATA_DIR=$BATS_TEST_TMPDIR/data "$(engine_bin)" --config "$CONF" --doctor 3>&-
}

@test "--doctor reads the PLC once and names the byte-order swap that makes the floats plausible" {
    # Low word first (legacy "badc" = standard "cdab", as in the test above).
    start_plcsim "$(free_port)" --byte-order cdab
    run doctor
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"PROBLEM: the byte order is probably wrong"* ]]
    [[ "$output" == *"with the two 16-bit registers of each float the other way round"* ]]
    [[ "$output" == *"PLC_BYTE_ORDER"* ]]

    # The right order: the same server's readings are all plausible.
    PLC_BYTE_ORDER=badc run doctor
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"read 16 parameter(s): 0 implausible"* ]]
    [[ "$output" == *"doctor: OK"* ]]

    # No PLC at all: said, and counted as a problem (a live check connects).
    kill -TERM "$SIM_PID"
    wait "$SIM_PID" || true
    SIM_PID=
    run doctor
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"PROBLEM: cannot read the PLC"* ]]
}

# A recipe of one valve-1 pulse of $2 ms, id $1, started by a command.
start_pulse_recipe() {
    db "INSERT INTO recipes (id, name) VALUES ('$1', 'pulse $2 ms');
        INSERT INTO recipe_steps (id, recipe_id, sequence_number, name, type)
          VALUES ('$1-v', '$1', 1, 'long pulse', 'valve');
        INSERT INTO valve_step_config (id, step_id, valve_number, duration_ms)
          VALUES ('$1-c', '$1-v', 1, $2);
        INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
          VALUES ('$1-cmd', 'start_recipe', '{\"recipe_id\": \"$1\"}', 'pending',
                  'e3e6e280-0000-4000-8000-000000000001');"
}

# The PLC heartbeat on in $CONF: hr:100 (ald-plcsim's default), every 100 ms.
enable_heartbeat() {
    local f=$CONF/plc-modbus.conf
    sed -i 's|^\( *\)# heartbeat_address = "hr:100";|\1heartbeat_address = "hr:100";|;
            s|^\( *\)heartbeat_period_ms = [0-9]*;|\1heartbeat_period_ms = 100;|' "$f"
    grep -q '^ *heartbeat_address = "hr:100";' "$f"
    grep -q '^ *heartbeat_period_ms = 100;' "$f"
}

@test "engine killed mid-pulse: the PLC's watchdog closes the valve once the heartbeat stops" {
    local log=$BATS_TEST_TMPDIR/plcsim.log
    enable_heartbeat
    start_plcsim "$(free_port)" --watchdog-ms 1000
    start_modbus_engine
    start_pulse_recipe 60606060-0000-4000-8000-000000000001 60000
    eventually 100 grep -q "valve coil:0 opened" "$log"
    # alive and beating: the watchdog holds off while the valve is open
    sleep 1.5
    run ! grep -q "valve coil:0 closed" "$log"
    [[ "$(grep "watchdog:" "$log" | tail -n 1)" != *"forced closed"* ]]
    kill -KILL "$ENGINE_PID"
    wait "$ENGINE_PID" || true
    ENGINE_PID=
    eventually 50 grep -q "valve coil:0 closed" "$log"
    # closed by the watchdog (its line comes first), not by anything else
    local trip closed
    trip=$(grep -n "all valves forced closed" "$log" | tail -n 1 | cut -d: -f1)
    closed=$(grep -n "valve coil:0 closed" "$log" | tail -n 1 | cut -d: -f1)
    [ -n "$trip" ] && [ "$trip" -lt "$closed" ]
    grep "valve coil:0 pulse" "$log"
}

@test "a PLC answering every read with a Modbus exception: /health degrades naming why, nothing stored" {
    start_plcsim "$(free_port)"
    start_modbus_engine
    wait_for_code "http://127.0.0.1:$PORT/health" 200 100 # the store exists and logs
    kill -TERM "$ENGINE_PID"
    wait_exit "$ENGINE_PID" 15
    # every readable tag at an address ald-plcsim does not serve: each read is
    # answered with an exception (illegal data address)
    db "UPDATE component_parameters SET read_modbus_address = read_modbus_address + 20000
        WHERE read_modbus_address IS NOT NULL;"
    local rows; rows=$(db "SELECT count(*) FROM parameter_value_history;")
    start_modbus_engine
    local body=
    for _ in $(seq 300); do
        body=$(curl -s "http://127.0.0.1:$PORT/health")
        [[ "$body" == *'"no samples stored for 3 cycles"'* ]] && break
        sleep 0.1
    done
    echo "$body"
    [[ "$body" == *'"no samples stored for 3 cycles"'* ]]
    [ "$(echo "$body" | jq -r .status)" != healthy ]
    [ "$(echo "$body" | jq -r .services.data_collection.storing)" = false ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 503 ]
    [ "$(db "SELECT count(*) FROM parameter_value_history;")" -eq "$rows" ]
    # the logger kept cycling: it is the storing that stopped
    [ "$(echo "$body" | jq -r .services.data_collection.status)" = running ]
}

# ---- owed valves: the PLC link lost during a pulse (docs/safety.md) ---------

# start_proxy LISTEN TARGET: a TCP proxy (socat, one child per connection)
# from loopback port LISTEN to TARGET. Sets PROXY_PID.
start_proxy() {
    socat "TCP-LISTEN:$1,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$2" 3>&- &
    PROXY_PID=$!
    eventually 50 bash -c "exec 9<>/dev/tcp/127.0.0.1/$1"
}

# Cut the link: the proxy and every connection it carries.
kill_proxy() {
    local kids
    kids=$(pgrep -P "$PROXY_PID" || true)
    kill -KILL "$PROXY_PID" $kids 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=
}

sql_is() { [ "$(db "$1")" = "$2" ]; }

owed_is() { [ "$(metric ald_valves_owed)" = "$1" ]; }

# command ID TYPE: queue a recipe command for the machine.
queue_command() { # ID TYPE [PARAMETERS_JSON]
    local params=${3:-'{}'}
    db "INSERT INTO recipe_commands (id, type, parameters, status, machine_id)
        VALUES ('$1', '$2', '$params', 'pending', 'e3e6e280-0000-4000-8000-000000000001');"
}

# pulse_through_proxy RECIPE MS: ald-plcsim, a proxy to it, the engine through
# the proxy, and a valve-1 pulse of MS started and open at the server. Sets
# SIM (the server's port) and PROXY (the proxy's).
pulse_through_proxy() {
    start_plcsim "$(free_port)"
    SIM=$SIM_PORT
    PROXY=$(free_port)
    start_proxy "$PROXY" "$SIM"
    SIM_PORT=$PROXY start_modbus_engine
    eventually 100 plc_connected
    start_pulse_recipe "$1" "$2"
    eventually 100 grep -q "valve coil:0 opened" "$BATS_TEST_TMPDIR/plcsim.log"
}

@test "PLC link lost mid-pulse: the valve is owed, kept in error, and closed once the link returns" {
    local log=$BATS_TEST_TMPDIR/plcsim.log r=70707070-0000-4000-8000-000000000001
    pulse_through_proxy "$r" 5000
    sleep 1
    kill_proxy
    # the pulse ends with the link down: the run fails, valve 1 is owed, and
    # so is every other valve: the failed run's close-all could confirm none
    eventually 200 sql_is "SELECT status FROM process_executions WHERE recipe_id = '$r'" failed
    eventually 50 owed_is 6
    run curl -s --max-time 2 "http://127.0.0.1:$PORT/health"
    echo "$output"
    [[ "$output" == *'"status": "degraded"'* || "$output" == *'"status":"degraded"'* ]]
    [[ "$output" == *"valve 1, "*" owed closed"* ]]
    [ "$(db "SELECT status FROM machines WHERE id = 'e3e6e280-0000-4000-8000-000000000001'")" = error ]
    ! grep -q "valve coil:0 closed" "$log" # still ON at the PLC: the outage is real
    queue_command owed-clear-1 clear_error
    eventually 100 sql_is "SELECT status FROM recipe_commands WHERE id = 'owed-clear-1'" error
    run db "SELECT error_message FROM recipe_commands WHERE id = 'owed-clear-1'"
    echo "$output"
    [[ "$output" == *"valve 1, "*" owed closed"* ]]
    [ "$(db "SELECT status FROM machines WHERE id = 'e3e6e280-0000-4000-8000-000000000001'")" = error ]
    # a start is refused at intake: no process row, the machine row unchanged
    local machine_row="SELECT status || '|' || updated_at FROM machines WHERE id = 'e3e6e280-0000-4000-8000-000000000001'"
    local before; before=$(db "$machine_row")
    queue_command owed-start start_recipe "{\"recipe_id\": \"$r\"}"
    eventually 100 sql_is "SELECT status FROM recipe_commands WHERE id = 'owed-start'" error
    run db "SELECT error_message FROM recipe_commands WHERE id = 'owed-start'"
    echo "$output"
    [[ "$output" == *"valve 1, "*" owed closed"*"send the start again"* ]]
    [ "$(db "SELECT count(*) FROM process_executions WHERE recipe_id = '$r'")" -eq 1 ]
    [ "$(db "$machine_row")" = "$before" ]

    sleep 3 # the link stays down 5 s in all
    local back
    back=$(date +%s.%N)
    start_proxy "$PROXY" "$SIM"
    eventually 200 grep -q "valve coil:0 closed" "$log"
    echo "coil 0 closed $(awk -v a="$back" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s after the link returned" >&3
    eventually 50 owed_is 0
    grep -q "valve 1 confirmed closed by the PLC" "$BATS_TEST_TMPDIR/engine.log"
    queue_command owed-clear-2 clear_error
    eventually 100 sql_is "SELECT status FROM recipe_commands WHERE id = 'owed-clear-2'" completed
    [ "$(db "SELECT status FROM machines WHERE id = 'e3e6e280-0000-4000-8000-000000000001'")" = idle ]
}

@test "SIGTERM with the link down names the owed valves; the next engine closes the coil at start" {
    local log=$BATS_TEST_TMPDIR/plcsim.log r=71717171-0000-4000-8000-000000000001
    pulse_through_proxy "$r" 60000
    kill_proxy
    kill -TERM "$ENGINE_PID"
    wait_exit "$ENGINE_PID" 30
    ENGINE_PID=
    grep "exiting with valves still owed closed" "$BATS_TEST_TMPDIR/engine.log"
    grep -q "exiting with valves still owed closed: valve 1, " "$BATS_TEST_TMPDIR/engine.log"
    ! grep -q "valve coil:0 closed" "$log" # left ON: nothing else would close it
    # a new engine, the link back: every valve is closed and confirmed at start
    start_proxy "$PROXY" "$SIM"
    SIM_PORT=$PROXY start_modbus_engine
    eventually 100 grep -q "valve coil:0 closed" "$log"
    eventually 50 owed_is 0
}

# start_second_engine ID: another engine on the same store and the same PLC
# (ald-plcsim on $SIM_PORT over Modbus), named ID, with its own HTTP port,
# logging to engine2.log. Sets SECOND_PID and PORT2.
start_second_engine() {
    PORT2=$(free_port)
    PLC_TYPE=real PLC_HOST=127.0.0.1 PLC_PORT=$SIM_PORT ALD_ENGINE_ID=$1 \
        "$(engine_bin)" --config "$CONF" --http-port "$PORT2" \
        >/dev/null 2>"$BATS_TEST_TMPDIR/engine2.log" 3>&- &
    SECOND_PID=$!
    wait_for_code "http://127.0.0.1:$PORT2/health/basic" 200 100
}

@test "a second engine starting during a pulse (blue/green) leaves the valve alone: a standby writes no valve" {
    local log=$BATS_TEST_TMPDIR/plcsim.log
    start_plcsim "$(free_port)"
    start_modbus_engine
    start_pulse_recipe 61616161-0000-4000-8000-000000000001 60000
    eventually 100 grep -q "valve coil:0 opened" "$log"
    start_second_engine green # the newcomer: same store, same PLC, its own id and port
    eventually 100 grep -q 'standing by' "$BATS_TEST_TMPDIR/engine2.log"
    sleep 2 # several lease rounds and valve-guard periods of the standby
    # the active engine's pulse is still open: nobody closed coil 0
    run grep -c "valve coil:0 closed" "$log"
    [ "$output" -eq 0 ]
    run ! grep -q "start: every valve commanded closed" "$BATS_TEST_TMPDIR/engine2.log"
}

# ---- the heartbeat follows the lease (docs/safety.md) ---------------------------

# The heartbeat register hr:100 as a Modbus client (mbpoll) reads it now.
heartbeat_register() {
    mbpoll -m tcp -p "$SIM_PORT" -a 1 -0 -r 100 -t 4 -c 1 -1 -q 127.0.0.1 |
        awk -F'\t' '/^\[100\]:/ { print $2 }'
}

heartbeat_moved_from() {
    local now
    now=$(heartbeat_register)
    [ -n "$now" ] && [ "$now" != "$1" ]
}

# ald-plcsim's log from line $1 on contains $2.
plcsim_log_since_has() {
    tail -n "+$1" "$BATS_TEST_TMPDIR/plcsim.log" | grep -q "$2"
}

@test "a standby's heartbeat writes nothing: hr:100 stays put until it takes the lease, then counts" {
    local log=$BATS_TEST_TMPDIR/plcsim.log
    enable_heartbeat
    start_plcsim "$(free_port)" --watchdog-ms 1000
    # the holder: an engine on the simulated tool, on the same store
    PLC_TYPE=simulation ALD_ENGINE_ID=blue start_engine "$CONF"
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
    eventually 100 grep -q "holding the lease" "$BATS_TEST_TMPDIR/engine.log"
    # the standby, with the heartbeat configured, connected to ald-plcsim
    start_second_engine green
    eventually 100 grep -q 'standing by' "$BATS_TEST_TMPDIR/engine2.log"
    PORT=$PORT2 eventually 100 plc_connected
    # over 2.4 s (24 heartbeat periods) the register never moves
    local first
    first=$(heartbeat_register)
    echo "hr:100 = '$first' while standing by"
    [ -n "$first" ]
    for _ in $(seq 8); do
        sleep 0.3
        [ "$(heartbeat_register)" = "$first" ]
    done
    # so the PLC's watchdog sees no engine: tripped, never released
    grep -q "all valves forced closed" "$log"
    run ! grep -q "heartbeat back" "$log"
    # the holder stops (SIGTERM releases the lease): the standby takes over and beats
    kill -TERM "$ENGINE_PID"
    wait_exit "$ENGINE_PID" 30
    ENGINE_PID=
    eventually 150 grep -q "holding the lease" "$BATS_TEST_TMPDIR/engine2.log"
    eventually 50 heartbeat_moved_from "$first"
    eventually 50 grep -q "watchdog: heartbeat back: valves released" "$log"
}

@test "blue/green: the active engine killed mid-pulse, the standby's silence lets the PLC's watchdog close the valve" {
    local log=$BATS_TEST_TMPDIR/plcsim.log
    enable_heartbeat
    # the standby can take over only 4.5 s or more after the kill: the 1 s
    # watchdog must close the valve while it still stands by
    export ALD_LEASE_TTL_MS=5000
    start_plcsim "$(free_port)" --watchdog-ms 1000
    ALD_ENGINE_ID=blue start_modbus_engine
    eventually 100 grep -q "holding the lease" "$BATS_TEST_TMPDIR/engine.log"
    start_second_engine green
    eventually 100 grep -q 'standing by' "$BATS_TEST_TMPDIR/engine2.log"
    start_pulse_recipe 62626262-0000-4000-8000-000000000001 60000
    eventually 100 grep -q "valve coil:0 opened" "$log"
    sleep 1.5 # the active engine beats: the watchdog holds off while the valve is open
    run ! grep -q "valve coil:0 closed" "$log"
    [[ "$(grep "watchdog:" "$log" | tail -n 1)" != *"forced closed"* ]]
    local from
    from=$(($(wc -l <"$log") + 1))
    kill -KILL "$ENGINE_PID"
    wait "$ENGINE_PID" || true
    ENGINE_PID=
    # the PLC's watchdog trips (the standby does not feed it) and closes coil 0,
    # before the standby has the lease (with its beat, it would never trip)
    eventually 50 plcsim_log_since_has "$from" "all valves forced closed"
    run ! grep -q "holding the lease" "$BATS_TEST_TMPDIR/engine2.log"
    eventually 50 plcsim_log_since_has "$from" "valve coil:0 closed"
    local trip closed
    trip=$(tail -n "+$from" "$log" | grep -n "all valves forced closed" | head -n 1 | cut -d: -f1)
    closed=$(tail -n "+$from" "$log" | grep -n "valve coil:0 closed" | head -n 1 | cut -d: -f1)
    [ "$trip" -lt "$closed" ]
    # then the standby takes over: its beat releases the watchdog
    eventually 200 grep -q "holding the lease" "$BATS_TEST_TMPDIR/engine2.log"
    eventually 50 plcsim_log_since_has "$from" "watchdog: heartbeat back: valves released"
}
