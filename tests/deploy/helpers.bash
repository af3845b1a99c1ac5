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
    for _ in $(seq 100); do
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
