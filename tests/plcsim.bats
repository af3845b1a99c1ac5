#!/usr/bin/env bats
# ald-plcsim, the demo tool over Modbus TCP, driven with mbpoll (a plain
# Modbus client, so this also checks we speak standard Modbus). Each test
# starts its own server on a free loopback port and stops it afterwards.
# No timing is asserted: only values, counts, order and "length > 0".

PLCSIM="${ALD_TOP_BUILDDIR:-.}/ald-plcsim"

# start_plcsim [extra args...]: start a server, wait for "listening on",
# set PORT, PID, LOG, EVENTS. Retries on another port if the one it picked
# was taken meanwhile.
start_plcsim() {
    LOG="$BATS_TEST_TMPDIR/plcsim.log"
    EVENTS="$BATS_TEST_TMPDIR/events.csv"
    for _ in $(seq 1 20); do
        PORT=$((20000 + RANDOM % 30000))
        "$PLCSIM" --port "$PORT" --seed 1 --events "$EVENTS" "$@" 2>"$LOG" 3>&- &
        PID=$!
        for _ in $(seq 1 100); do
            grep -q "listening on 127.0.0.1:$PORT" "$LOG" && return 0
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.05
        done
        wait "$PID" 2>/dev/null || true
    done
    echo "ald-plcsim did not start; last log:" >&2
    cat "$LOG" >&2
    return 1
}

stop_plcsim() {
    if [ -n "${PID:-}" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID"
        wait "$PID"
    fi
    PID=
}

teardown() {
    stop_plcsim || true
}

# poll TYPE REF [mbpoll options...]: one 0-based mbpoll read.
poll() {
    local type="$1" ref="$2"
    shift 2
    mbpoll -m tcp -0 -1 -o 2 -p "$PORT" -t "$type" -r "$ref" "$@" 127.0.0.1
}

# put TYPE REF VALUE [mbpoll options...]: one 0-based mbpoll write.
put() {
    local type="$1" ref="$2" value="$3"
    shift 3
    mbpoll -m tcp -0 -1 -o 2 -p "$PORT" -t "$type" -r "$ref" "$@" 127.0.0.1 "$value"
}

# value_at REF: the value mbpoll printed for reference REF ("[REF]: value").
value_at() {
    awk -v ref="[$1]:" '$1 == ref { print $2 }'
}

@test "serves the warm demo tool: setpoints, readings, pump and N2 state" {
    start_plcsim
    run poll 4:float 0 -B -c 4
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | value_at 0)" = "100" ]
    [ "$(echo "$output" | value_at 4)" = "150" ]
    [ "$(echo "$output" | value_at 6)" = "80" ]
    run poll 3:float 8 -B -c 1
    [ "$status" -eq 0 ]
    awk -v v="$(echo "$output" | value_at 8)" 'BEGIN { exit !(v > 149 && v < 151) }'
    run poll 1 0 -c 2
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | value_at 0)" = "1" ]
    [ "$(echo "$output" | value_at 1)" = "1" ]
}

@test "a float written to a holding register reads back" {
    start_plcsim
    run put 4:float 2 123.5 -B
    [ "$status" -eq 0 ]
    run poll 4:float 2 -B
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | value_at 2)" = "123.5" ]
    # the MFC 2 reading now moves toward it (tau 0.5 s): no longer 0
    sleep 0.2
    run poll 3:float 2 -B
    [ "$status" -eq 0 ]
    awk -v v="$(echo "$output" | value_at 2)" 'BEGIN { exit !(v > 0 && v <= 123.5 + 2) }'
}

@test "--byte-order cdab serves floats low word first" {
    start_plcsim --byte-order cdab
    run poll 4:float 4 # mbpoll's default word order is low word first
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | value_at 4)" = "150" ]
    run poll 4:float 4 -B
    [ "$(echo "$output" | value_at 4)" != "150" ]
}

@test "a pulsed coil is logged with its length and recorded in the events file" {
    start_plcsim
    run put 0 0 1
    [ "$status" -eq 0 ]
    run poll 0 0 -c 6
    [ "$(echo "$output" | value_at 0)" = "1" ]
    run put 0 0 0
    [ "$status" -eq 0 ]
    run put 0 3 1
    [ "$status" -eq 0 ]
    run put 0 3 0
    [ "$status" -eq 0 ]

    # events: header, then open/close of coil 0, then of coil 3, in order
    [ "$(sed -n 1p "$EVENTS")" = "mono_ns,address,open" ]
    [ "$(cut -d, -f2,3 "$EVENTS" | tail -n +2 | tr '\n' ' ')" = "coil:0,1 coil:0,0 coil:3,1 coil:3,0 " ]
    # timestamps never decrease
    tail -n +2 "$EVENTS" | cut -d, -f1 | sort -n -c

    # stderr: one pulse line per close, with a positive length
    [ "$(grep -c 'valve coil:[0-9] pulse' "$LOG")" -eq 2 ]
    ms=$(sed -n 's/.*valve coil:0 pulse \([0-9.]*\) ms$/\1/p' "$LOG")
    awk -v v="$ms" 'BEGIN { exit !(v > 0) }'
    grep -q 'valve coil:0 opened' "$LOG"
    grep -q 'valve coil:0 closed' "$LOG"
}

@test "every unit id and every client share one model" {
    start_plcsim
    run put 0 5 1 -a 7
    [ "$status" -eq 0 ]
    run poll 0 5 -a 1 -c 1
    [ "$(echo "$output" | value_at 5)" = "1" ]
    run put 0 10 0 -a 200 # pump off
    [ "$status" -eq 0 ]
    run poll 0 10 -c 1
    [ "$(echo "$output" | value_at 10)" = "0" ]
    [ "$(tail -n +2 "$EVENTS" | wc -l)" -eq 1 ] # the pump is not a valve
}

@test "an address outside the map is refused by the server" {
    start_plcsim
    run poll 4 100
    [ "$status" -ne 0 ]
    # and the server keeps serving
    run poll 4:float 0 -B
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | value_at 0)" = "100" ]
}

@test "SIGTERM stops it cleanly" {
    start_plcsim
    kill -TERM "$PID"
    rc=0
    wait "$PID" || rc=$?
    PID=
    [ "$rc" -eq 0 ]
    grep -q 'stopped' "$LOG"
}

@test "--help, --version and bad arguments" {
    run "$PLCSIM" --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--byte-order"* ]]
    run "$PLCSIM" --version
    [ "$status" -eq 0 ]
    [[ "$output" == "ald-plcsim "* ]]
    run "$PLCSIM" --port 0
    [ "$status" -eq 2 ]
    [[ "$output" == *"--port 0"* ]]
    run "$PLCSIM" --port 5020 --byte-order wxyz
    [ "$status" -eq 2 ]
    [[ "$output" == *"wxyz"* ]]
    run "$PLCSIM"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--port is required"* ]]
}
