# Helpers of the deploy kit's bats suites: real ald-engine processes, a real
# HAProxy running deploy/haproxy/haproxy.cfg on loopback ports, and the
# environment the deploy scripts read (fake docker-compose, state in a temp dir).

load ../integration/helpers # engine_bin, free_port, wait_for_code

# shellcheck disable=SC2034 # used by the .bats files
DEPLOY_SCRIPTS=$ALD_TOP_SRCDIR/deploy/scripts
HAPROXY_BIN=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}

# need TOOL PACKAGE: skip the test when a tool is missing, naming the package.
need() {
    command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] ||
        skip "$1 not installed (Debian: apt-get install $2)"
}

need_engine() {
    [ -x "$(engine_bin)" ] || skip "ald-engine not built: run make first"
}

# start_colour NAME [CONFDIR]: a real engine with its own data directory,
# logging to $TMP/NAME.log. Sets NAME_PORT and NAME_PID (e.g. BLUE_PORT).
start_colour() {
    local name=$1 confdir=${2:-$ALD_TOP_SRCDIR/conf.d} port pid upper
    upper=$(echo "$name" | tr '[:lower:]' '[:upper:]')
    port=$(free_port)
    ALD_DATA_DIR=$DEPLOY_TMP/$name-data "$(engine_bin)" --config "$confdir" \
        --http-port "$port" >"$DEPLOY_TMP/$name.out" 2>"$DEPLOY_TMP/$name.log" 3>&- &
    pid=$!
    eval "${upper}_PORT=$port ${upper}_PID=$pid"
    wait_for_code "http://127.0.0.1:$port/health/basic" 200 100
}

stop_pid() {
    if [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1"
        wait "$1" 2>/dev/null || true
    fi
}

# The variables deploy/haproxy/haproxy.cfg reads, pointing it at this test's
# ports, socket and state file instead of the compose network.
export_haproxy_env() {
    export ALD_HAPROXY_SOCKET=$DEPLOY_TMP/admin.sock
    export ALD_HAPROXY_STATE_FILE=$DEPLOY_TMP/server-state
    export ALD_HAPROXY_BIND=127.0.0.1:$FRONT_PORT
    export ALD_HAPROXY_STATS_BIND=127.0.0.1:$STATS_PORT
    export ALD_BLUE_ADDR=127.0.0.1:$BLUE_PORT
    export ALD_GREEN_ADDR=127.0.0.1:$GREEN_PORT
    # a port where no DNS server answers: the test servers are IP addresses
    ALD_HAPROXY_DNS=127.0.0.1:$(free_port)
    export ALD_HAPROXY_DNS
    unset ALD_HAPROXY_STATS_PASSWORD_HASH # a test sets it when it wants the stats page
}

start_haproxy() {
    "$HAPROXY_BIN" -db -f "$ALD_TOP_SRCDIR/deploy/haproxy/haproxy.cfg" \
        >>"$DEPLOY_TMP/haproxy.log" 2>&1 3>&- &
    HAPROXY_PID=$!
    for _ in $(seq 100); do
        haproxy_cmd "show servers state ald_engine" 2>/dev/null | grep -q ' blue ' && return 0
        sleep 0.1
    done
    echo "haproxy did not open its runtime socket; its log:" >&2
    cat "$DEPLOY_TMP/haproxy.log" >&2
    return 1
}

stop_haproxy() {
    stop_pid "${HAPROXY_PID:-}"
    HAPROXY_PID=
}

haproxy_cmd() {
    printf '%s\n' "$*" | socat -t 5 - "UNIX-CONNECT:$ALD_HAPROXY_SOCKET"
}

# server_state NAME: "op_state admin_state weight" of a server of ald_engine.
server_state() {
    haproxy_cmd "show servers state ald_engine" | awk -v s="$1" '$4 == s { print $6, $7, $8 }'
}

# is_live NAME: running, no maintenance/drain flag, weight > 0.
is_live() {
    local op admin weight
    read -r op admin weight <<<"$(server_state "$1")"
    [ "$op" = 2 ] && [ $((admin & 59)) -eq 0 ] && [ "$weight" -gt 0 ]
}

# in_maint NAME: forced maintenance (admin_state bit FMAINT).
in_maint() {
    local op admin weight
    read -r op admin weight <<<"$(server_state "$1")"
    [ $((admin & 1)) -eq 1 ]
}

# wait_live NAME: until HAProxy's checks say the server takes traffic.
wait_live() {
    for _ in $(seq 200); do
        is_live "$1" && return 0
        sleep 0.1
    done
    echo "server $1 never became live: $(server_state "$1")" >&2
    return 1
}

# sessions NAME: total sessions HAProxy sent to a server (show stat, stot).
sessions() {
    haproxy_cmd "show stat" | awk -F, -v s="$1" '$1 == "ald_engine" && $2 == s { print $8 }'
}

# The environment deploy.sh and rollback.sh read in these tests.
export_deploy_env() {
    export DOCKER_COMPOSE=$ALD_TOP_SRCDIR/tests/deploy/fake-docker-compose
    export FAKE_COMPOSE_LOG=$DEPLOY_TMP/compose.log
    export ALD_STATE_DIR=$DEPLOY_TMP/state
    export ALD_ENV_FILE=$DEPLOY_TMP/test.env
    : >"$FAKE_COMPOSE_LOG"
    sed -e 's/^ALD_TAG_BLUE=.*/ALD_TAG_BLUE=v1.0.0/' -e 's/^ALD_TAG_GREEN=.*/ALD_TAG_GREEN=v1.0.0/' \
        "$ALD_TOP_SRCDIR/deploy/production.env.example" >"$ALD_ENV_FILE"
}

# ---- engines run by proc-compose: both colours on one data directory ----------------------

# use_proc_compose: deploy.sh's docker-compose starts and stops real engines
# (tests/deploy/proc-compose) on one shared data directory, as the compose
# volume does; fresh ports for each colour.
use_proc_compose() {
    export DOCKER_COMPOSE=$ALD_TOP_SRCDIR/tests/deploy/proc-compose
    export PROC_COMPOSE_DIR=$BATS_TEST_TMPDIR/compose
    export PROC_COMPOSE_ENGINE
    PROC_COMPOSE_ENGINE=$(engine_bin)
    mkdir -p "$PROC_COMPOSE_DIR"
    export PROC_COMPOSE_PORT_BLUE=$BLUE_PORT PROC_COMPOSE_PORT_GREEN=$GREEN_PORT
    export ALD_BLUE_URL=http://127.0.0.1:$BLUE_PORT
    export ALD_GREEN_URL=http://127.0.0.1:$GREEN_PORT
}

# compose_up COLOUR: start a colour the way deploy.sh does; wait until it runs.
compose_up() {
    "$DOCKER_COMPOSE" up -d --no-deps "ald-control-$1"
    local port
    eval "port=\$PROC_COMPOSE_PORT_$(echo "$1" | tr '[:lower:]' '[:upper:]')"
    wait_for_code "http://127.0.0.1:$port/health/basic" 200 100
}

# setup_blue_behind_haproxy: the tools these suites need, fresh ports, blue
# started through proc-compose and holding the lease, HAProxy routing to it;
# the compose log starts empty.
setup_blue_behind_haproxy() {
    need_engine
    need socat socat
    need "$HAPROXY_BIN" haproxy
    need jq jq
    need sqlite3 sqlite3
    export DEPLOY_TMP=$BATS_TEST_TMPDIR
    BLUE_PORT=$(free_port)
    GREEN_PORT=$(free_port)
    FRONT_PORT=$(free_port)
    STATS_PORT=$(free_port)
    export_haproxy_env
    export_deploy_env
    use_proc_compose
    export ALD_HEALTH_URL=http://127.0.0.1:$FRONT_PORT
    compose_up blue
    wait_for_code "$ALD_BLUE_URL/health" 200 100
    : >"$FAKE_COMPOSE_LOG"
    start_haproxy
    wait_live blue
}

# colour_pid COLOUR: the process id of a colour proc-compose started ("" if none).
colour_pid() {
    cat "$PROC_COMPOSE_DIR/$1.pid" 2>/dev/null || true
}

# stop_compose_engines: SIGTERM every colour still running (teardown).
stop_compose_engines() {
    local f pid
    for f in "${PROC_COMPOSE_DIR:-/nonexistent}"/*.pid; do
        [ -s "$f" ] || continue
        pid=$(cat "$f")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
}

# shared_db: the SQLite store both colours write.
shared_db() {
    echo "$PROC_COMPOSE_DIR/data/ald.db"
}

# max_rows_per_parameter_second: the largest number of parameter_value_history
# rows any one parameter has within one wall-clock second (1 = no duplicates).
max_rows_per_parameter_second() {
    sqlite3 "$(shared_db)" "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM
        parameter_value_history GROUP BY parameter_id, substr(timestamp, 1, 19))"
}

# stored_seconds: how many distinct seconds hold samples.
stored_seconds() {
    sqlite3 "$(shared_db)" "SELECT count(DISTINCT substr(timestamp, 1, 19)) FROM parameter_value_history"
}

# missing_seconds_after MS: seconds without samples between the last sample
# stamped before MS (epoch ms) and the first after it: the failover gap in
# cycles at 1 Hz.
missing_seconds_after() {
    sqlite3 "$(shared_db)" "WITH t AS (SELECT DISTINCT
            CAST(strftime('%s', substr(timestamp, 1, 19)) AS INTEGER) AS s
            FROM parameter_value_history)
        SELECT (SELECT min(s) FROM t WHERE s * 1000 >= $1)
             - (SELECT max(s) FROM t WHERE s * 1000 < $1) - 1"
}

# missing_seconds_total: seconds without samples between the first and the
# last stored one (the cycles lost to handovers and failovers).
missing_seconds_total() {
    sqlite3 "$(shared_db)" "WITH t AS (SELECT DISTINCT
            CAST(strftime('%s', substr(timestamp, 1, 19)) AS INTEGER) AS s
            FROM parameter_value_history)
        SELECT max(s) - min(s) + 1 - count(*) FROM t"
}

# wait_cycles N: until N more seconds of samples are stored (counts, not time).
wait_cycles() {
    local want=$(($(stored_seconds) + $1))
    for _ in $(seq $((($1 + 5) * 20))); do
        [ "$(stored_seconds)" -ge "$want" ] && return 0
        sleep 0.1
    done
    echo "stored seconds stayed at $(stored_seconds) (wanted $want)" >&2
    return 1
}
