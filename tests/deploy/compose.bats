#!/usr/bin/env bats
# docker-compose.prod.yml's hardening, checked without a Docker engine:
# `docker-compose config` of the file with the example env (admin ports on the
# host's loopback only, secrets as files and never as values, a health check,
# resource limits and log rotation on every service, Prometheus retention by
# size and no lifecycle API, images pinnable by digest), and the services'
# health-check commands run for real against the programs they probe (HAProxy
# with the shipped config, Debian's Prometheus and Alertmanager, which are the
# versions of the images), passing while the program runs and failing once it
# has stopped.

load helpers
bats_require_minimum_version 1.5.0 # run !

SRC=$(cd "$ALD_TOP_SRCDIR" && pwd) # as the scripts see it (no ../)
COMPOSE_FILE=$SRC/docker-compose.prod.yml
EXAMPLE_ENV=$SRC/deploy/production.env.example
SERVICES="ald-control-blue ald-control-green alertmanager grafana haproxy prometheus"

setup() {
    need docker-compose docker-compose
    export DEPLOY_TMP=$BATS_TEST_TMPDIR
    CONFIG=$BATS_TEST_TMPDIR/config.yml
}

# config [ENV_FILE]: `docker-compose config` into $CONFIG (HOME in the temp
# dir so no user configuration interferes).
config() {
    HOME=$BATS_TEST_TMPDIR docker-compose --env-file "${1:-$EXAMPLE_ENV}" -f "$COMPOSE_FILE" \
        config >"$CONFIG"
}

# py EXPR: a Python expression over the rendered config (as `c`).
py() {
    /usr/bin/python3 -c 'import sys, yaml; c = yaml.safe_load(open(sys.argv[1])); print('"$1"')' "$CONFIG"
}

# published SERVICE: its published ports as "host_ip:port", sorted, one line.
published() {
    /usr/bin/python3 - "$CONFIG" "$1" <<'EOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
out = []
for p in c["services"][sys.argv[2]].get("ports", []):
    if isinstance(p, dict):
        out.append("%s:%s" % (p.get("host_ip", "0.0.0.0"), p["published"]))
    else:  # "[IP:]PUBLISHED:TARGET[/proto]"
        parts = p.split("/")[0].split(":")
        out.append("%s:%s" % (parts[0] if len(parts) == 3 else "0.0.0.0", parts[-2]))
print(" ".join(sorted(out)))
EOF
}

# expect_each FUNCTION: for each line "ARG EXPECTED..." on stdin, FUNCTION ARG
# prints EXPECTED.
expect_each() {
    local arg want got
    while read -r arg want; do
        got=$("$1" "$arg")
        [ "$got" = "$want" ] || { echo "$1 $arg: '$got', expected '$want'" >&2; return 1; }
    done
}

# healthcheck_cmd SERVICE: its health-check command, one argument per line
# (CMD dropped).
healthcheck_cmd() {
    py "'\n'.join(c['services']['$1']['healthcheck']['test'][1:])"
}

# run_healthcheck SERVICE FROM_PORT TO_PORT: run the service's health-check
# command here, aimed at TO_PORT instead of the container's FROM_PORT.
run_healthcheck() {
    local -a cmd
    mapfile -t cmd < <(healthcheck_cmd "$1" | sed "s/\b$2\b/$3/g")
    "${cmd[@]}"
}

# healthy_then_not SERVICE FROM_PORT TO_PORT PID LOG: the service's health
# check passes once the program PID (logging to LOG) is up, and fails once it
# has stopped.
healthy_then_not() {
    for _ in $(seq 100); do
        run_healthcheck "$1" "$2" "$3" && break
        kill -0 "$4" 2>/dev/null || break
        sleep 0.2
    done
    run run_healthcheck "$1" "$2" "$3"
    [ "$status" -eq 0 ] || { tail -20 "$5"; false; }
    "${CHECK_WHILE_UP[@]}"
    stop_pid "$4"
    run run_healthcheck "$1" "$2" "$3"
    [ "$status" -ne 0 ]
}

# ---- ports ----------------------------------------------------------------------------------

@test "compose: admin ports on the host's loopback only; the engine's front on every interface" {
    config
    expect_each published <<'EOF'
haproxy 0.0.0.0:8000 127.0.0.1:8404
prometheus 127.0.0.1:9090
alertmanager 127.0.0.1:9093
grafana 127.0.0.1:3000
ald-control-blue 127.0.0.1:8001
ald-control-green 127.0.0.1:8002
EOF
}

# ---- health checks, limits, logs ------------------------------------------------------------

@test "compose: every service has a health check, CPU and memory limits and rotated logs" {
    config
    local s
    for s in $SERVICES; do
        echo "service $s"
        [ "$(py "c['services']['$s']['healthcheck']['test'][0]")" = CMD ]
        [ -n "$(py "c['services']['$s']['healthcheck']['interval']")" ]
        [ -n "$(py "c['services']['$s']['deploy']['resources']['limits']['cpus']")" ]
        [ -n "$(py "c['services']['$s']['deploy']['resources']['limits']['memory']")" ]
        [ "$(py "c['services']['$s']['logging']['driver']")" = json-file ]
        [ "$(py "c['services']['$s']['logging']['options']['max-size']")" = 50m ]
        [ "$(py "c['services']['$s']['logging']['options']['max-file']")" = 5 ]
    done
    # HAProxy's check is no longer a config-file check
    [[ "$(healthcheck_cmd haproxy)" != *"haproxy"*"-c"* ]]
}

@test "compose: Prometheus keeps data by time and by size, without the lifecycle API" {
    config
    local cmd
    cmd=$(py "' '.join(c['services']['prometheus']['command'])")
    [[ " $cmd " == *" --storage.tsdb.retention.time=30d "* ]]
    [[ " $cmd " == *" --storage.tsdb.retention.size=10GB "* ]]
    [[ "$cmd" != *"enable-lifecycle"* ]]
    sed 's/^PROMETHEUS_RETENTION_SIZE=.*/PROMETHEUS_RETENTION_SIZE=512MB/' "$EXAMPLE_ENV" >"$BATS_TEST_TMPDIR/t.env"
    config "$BATS_TEST_TMPDIR/t.env"
    [[ "$(py "' '.join(c['services']['prometheus']['command'])")" == *"--storage.tsdb.retention.size=512MB"* ]]
}

# ---- secrets --------------------------------------------------------------------------------

@test "compose: secrets are files mounted in /run/secrets, passed by path, never by value" {
    # an operator's old env file, with the secrets still in it as variables
    cp "$EXAMPLE_ENV" "$BATS_TEST_TMPDIR/t.env"
    cat >>"$BATS_TEST_TMPDIR/t.env" <<'EOF'
SUPABASE_KEY=leak-supabase-key
GRAFANA_PASSWORD=leak-grafana-password
ALERT_WEBHOOK_URL=https://leak.example/hook
ALD_SECRETS_DIR=/srv/ald-secrets
EOF
    config "$BATS_TEST_TMPDIR/t.env"
    cat "$CONFIG"
    run ! grep -q leak "$CONFIG"
    # each secret: a file in ALD_SECRETS_DIR, given to the services that read it
    local name
    for name in supabase_key grafana_password alert_webhook_url haproxy_stats_password_hash; do
        [ "$(py "c['secrets']['$name']['file']")" = "/srv/ald-secrets/$name" ]
    done
    secrets_of() { py "sorted(s['source'] for s in c['services']['$1'].get('secrets', []))"; }
    expect_each secrets_of <<'EOF'
ald-control-blue ['supabase_key']
ald-control-green ['supabase_key']
grafana ['grafana_password']
alertmanager ['alert_webhook_url']
haproxy ['haproxy_stats_password_hash']
prometheus []
EOF
    env_of() { py "c['services']['$1']['environment'].get('$2')"; }
    [ "$(env_of ald-control-blue SUPABASE_KEY_FILE)" = /run/secrets/supabase_key ]
    [ "$(env_of ald-control-blue SUPABASE_KEY)" = None ]
    [ "$(env_of ald-control-green SUPABASE_KEY_FILE)" = /run/secrets/supabase_key ]
    [ "$(env_of grafana GF_SECURITY_ADMIN_PASSWORD__FILE)" = /run/secrets/grafana_password ]
    [ "$(env_of grafana GF_SECURITY_ADMIN_PASSWORD)" = None ]
    [ "$(env_of alertmanager ALERT_WEBHOOK_URL_FILE)" = /run/secrets/alert_webhook_url ]
    [ "$(env_of haproxy ALD_HAPROXY_STATS_USER)" = admin ]
    # the engines listen on the container's interface (HAProxy and Prometheus reach them)
    [ "$(env_of ald-control-blue HTTP_BIND)" = 0.0.0.0 ]
    # each colour reclaims its own lease after a restart
    [ "$(env_of ald-control-blue ALD_ENGINE_ID)" = blue ]
    [ "$(env_of ald-control-green ALD_ENGINE_ID)" = green ]
    # the secret files never go into an image
    grep -qx 'deploy/secrets/\*' "$SRC/.dockerignore"
}

@test "compose: HAProxy gets the stats password hash from its secret file, in its own environment only" {
    config
    local ep
    ep=$(py "c['services']['haproxy']['entrypoint'][2]")
    # as Compose runs it: '$$' is '$' once the file is read
    ep=${ep//\$\$/\$}
    echo "$ep"
    [[ "$ep" == *'$(cat /run/secrets/haproxy_stats_password_hash)'* ]]
    # run it with a stand-in haproxy that prints what the real one would see
    mkdir -p "$BATS_TEST_TMPDIR/bin" "$BATS_TEST_TMPDIR/run/secrets"
    printf '#!/bin/sh\nshift\necho "$ALD_HAPROXY_STATS_USER:$ALD_HAPROXY_STATS_PASSWORD_HASH $*"\n' \
        >"$BATS_TEST_TMPDIR/bin/docker-entrypoint.sh"
    chmod +x "$BATS_TEST_TMPDIR/bin/docker-entrypoint.sh"
    printf 'hash-from-file\n' >"$BATS_TEST_TMPDIR/run/secrets/haproxy_stats_password_hash"
    ep=${ep//\/run\/secrets/$BATS_TEST_TMPDIR/run/secrets}
    PATH=$BATS_TEST_TMPDIR/bin:$PATH ALD_HAPROXY_STATS_USER=admin run /bin/sh -c "$ep"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "admin:hash-from-file -f /usr/local/etc/haproxy/haproxy.cfg" ]
    # a missing secret file stops it before HAProxy starts
    rm "$BATS_TEST_TMPDIR/run/secrets/haproxy_stats_password_hash"
    PATH=$BATS_TEST_TMPDIR/bin:$PATH run /bin/sh -c "$ep"
    [ "$status" -ne 0 ]
    [[ "$output" != *"admin:"* ]]
}

# ---- the health checks, run for real --------------------------------------------------------

@test "compose: HAProxy's health check passes against the running proxy, fails once it stops" {
    need "$HAPROXY_BIN" haproxy
    config
    # shellcheck disable=SC2034 # read by export_haproxy_env (helpers.bash)
    FRONT_PORT=$(free_port) STATS_PORT=$(free_port) BLUE_PORT=$(free_port) GREEN_PORT=$(free_port)
    export_haproxy_env
    ALD_HAPROXY_STATS_PASSWORD_HASH=$(openssl passwd -6 test-password)
    export ALD_HAPROXY_STATS_USER=admin ALD_HAPROXY_STATS_PASSWORD_HASH
    start_haproxy
    run run_healthcheck haproxy 8404 "$STATS_PORT"
    echo "$output"
    [ "$status" -eq 0 ]
    stop_haproxy
    run run_healthcheck haproxy 8404 "$STATS_PORT"
    [ "$status" -ne 0 ]
}

@test "compose: Prometheus runs with the compose command line; its health check passes, then fails" {
    need prometheus prometheus
    need wget wget
    config
    local port pid
    port=$(free_port)
    mapfile -t args < <(py "'\n'.join(c['services']['prometheus']['command'])" |
        sed -e "s|=/etc/prometheus/prometheus.yml|=$SRC/monitoring/prometheus.yml|" \
            -e "s|=/prometheus\$|=$BATS_TEST_TMPDIR/tsdb|")
    prometheus "${args[@]}" --web.listen-address="127.0.0.1:$port" \
        >"$BATS_TEST_TMPDIR/prometheus.log" 2>&1 3>&- &
    pid=$!
    # what Prometheus itself says it keeps, and that it has no lifecycle API
    prometheus_flags() {
        run curl -fsS "http://127.0.0.1:$port/api/v1/status/runtimeinfo"
        echo "$output"
        [[ "$output" == *'"storageRetention":"30d or 10GiB"'* ]]
        [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/-/quit")" != 200 ]
        kill -0 "$pid"
    }
    CHECK_WHILE_UP=(prometheus_flags)
    healthy_then_not prometheus 9090 "$port" "$pid" "$BATS_TEST_TMPDIR/prometheus.log"
}

@test "compose: Alertmanager starts from its secret file; its health check passes, then fails" {
    need prometheus-alertmanager prometheus-alertmanager
    need wget wget
    config
    local port pid
    port=$(free_port)
    printf 'https://hooks.example.com/ald/secret-token\n' >"$BATS_TEST_TMPDIR/alert_webhook_url"
    ALERT_WEBHOOK_URL_FILE=$BATS_TEST_TMPDIR/alert_webhook_url \
        "$SRC/monitoring/render-alertmanager.sh" -o "$BATS_TEST_TMPDIR/alertmanager.yml"
    prometheus-alertmanager --config.file="$BATS_TEST_TMPDIR/alertmanager.yml" \
        --storage.path="$BATS_TEST_TMPDIR/am" --web.listen-address="127.0.0.1:$port" \
        --cluster.listen-address= >"$BATS_TEST_TMPDIR/am.log" 2>&1 3>&- &
    pid=$!
    CHECK_WHILE_UP=(true)
    healthy_then_not alertmanager 9093 "$port" "$pid" "$BATS_TEST_TMPDIR/am.log"
    run ! grep -q secret-token "$BATS_TEST_TMPDIR/am.log"
}

@test "compose: Grafana's health check asks the unauthenticated /api/health" {
    config
    [ "$(healthcheck_cmd grafana | tr '\n' ' ')" = "wget -q -O /dev/null http://127.0.0.1:3000/api/health " ]
}

# ---- images ------------------------------------------------------------------------------------

@test "compose: every third-party image can be pinned by digest from the env file" {
    local d=sha256:0000000000000000000000000000000000000000000000000000000000000000
    cp "$EXAMPLE_ENV" "$BATS_TEST_TMPDIR/t.env"
    cat >>"$BATS_TEST_TMPDIR/t.env" <<EOF
HAPROXY_IMAGE=haproxy:2.6@$d
PROMETHEUS_IMAGE=prom/prometheus:v2.42.0@$d
ALERTMANAGER_IMAGE=prom/alertmanager:v0.25.0@$d
GRAFANA_IMAGE=grafana/grafana:9.5.3@$d
EOF
    config "$BATS_TEST_TMPDIR/t.env"
    local s
    for s in haproxy prometheus alertmanager grafana; do
        [[ "$(py "c['services']['$s']['image']")" == *"@$d" ]]
    done
    # without them, the versions the kit was tested with
    config
    [ "$(py "c['services']['prometheus']['image']")" = prom/prometheus:v2.42.0 ]
    # and the production example in the docs pins every one of them
    local doc=$SRC/docs/deployment.md
    for s in HAPROXY_IMAGE PROMETHEUS_IMAGE ALERTMANAGER_IMAGE GRAFANA_IMAGE; do
        grep -Eq "^$s=[^ ]+@sha256:" "$doc" || { echo "no pinned $s in $doc" >&2; false; }
    done
}
