#!/usr/bin/env bats
# The deploy kit, checked without a Docker engine: shellcheck of every script,
# `haproxy -c` of the HAProxy config, `docker-compose config` of
# docker-compose.prod.yml with the example env file, the Dockerfile's
# promises, the systemd unit (systemd-analyze verify), the container
# entrypoint's checks (with the built engine), and the scripts' command lines.

load helpers
bats_require_minimum_version 1.5.0 # run !

SRC=$(cd "$ALD_TOP_SRCDIR" && pwd) # as the scripts see it (no ../)
COMPOSE_FILE=$SRC/docker-compose.prod.yml
EXAMPLE_ENV=$SRC/deploy/production.env.example

setup() {
    export DEPLOY_TMP=$BATS_TEST_TMPDIR
}

# compose_config [ENV_FILE]: `docker-compose config` of the production file;
# HOME in the temp dir so no user config interferes.
compose_config() {
    HOME=$BATS_TEST_TMPDIR docker-compose --env-file "${1:-$EXAMPLE_ENV}" \
        -f "$COMPOSE_FILE" config
}

# yq_py EXPR: evaluate a Python expression over the YAML on stdin (as `c`).
yq_py() {
    /usr/bin/python3 -c 'import sys, yaml; c = yaml.safe_load(sys.stdin); print('"$1"')'
}

# ---- shell scripts ------------------------------------------------------------------------

@test "shellcheck: every script of the deploy kit and its tests is clean" {
    need shellcheck shellcheck
    run shellcheck -s sh "$SRC/deploy/scripts/deploy.sh" "$SRC/deploy/scripts/rollback.sh" \
        "$SRC/deploy/scripts/health-check.sh" "$SRC/deploy/docker-entrypoint.sh" \
        "$SRC/tests/deploy/fake-docker-compose" "$SRC/tests/deploy/deploy-static" \
        "$SRC/tests/deploy/deploy-live" "$SRC/deploy/podman-build.sh" \
        "$SRC/tests/deploy/deploy-container" "$SRC/tests/deploy/deploy-compose"
    echo "$output"
    [ "$status" -eq 0 ]
    run shellcheck -s bash -x "$SRC/tests/deploy/helpers.bash"
    echo "$output"
    [ "$status" -eq 0 ]
    # the bats files of the container and compose checks (bats dialect)
    run shellcheck -x -e SC2016 "$SRC/tests/deploy/container.bats" "$SRC/tests/deploy/compose.bats"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "shellcheck: the check can fail" {
    need shellcheck shellcheck
    printf '#!/bin/sh\necho $1\n' >"$BATS_TEST_TMPDIR/bad.sh"
    run shellcheck "$BATS_TEST_TMPDIR/bad.sh"
    [ "$status" -ne 0 ]
}

@test "scripts: --help exits 0 and documents the options" {
    run "$SRC/deploy/scripts/health-check.sh" --help
    [ "$status" -eq 0 ]
    for o in --url --retries --interval --json --basic --quiet; do [[ "$output" == *"$o"* ]]; done
    run "$SRC/deploy/scripts/deploy.sh" --help
    [ "$status" -eq 0 ]
    for o in --environment --strategy blue-green rolling canary --tag --dry-run DOCKER_COMPOSE; do
        [[ "$output" == *"$o"* ]]
    done
    run "$SRC/deploy/scripts/rollback.sh" --help
    [ "$status" -eq 0 ]
    for o in --environment --method last version manual --version --yes; do
        [[ "$output" == *"$o"* ]]
    done
}

@test "scripts: usage errors exit 2 and say what is wrong" {
    run "$SRC/deploy/scripts/health-check.sh" --bogus
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown option '--bogus'"* ]]
    run "$SRC/deploy/scripts/health-check.sh" --retries 0
    [ "$status" -eq 2 ]
    run "$SRC/deploy/scripts/health-check.sh" --url localhost:8000
    [ "$status" -eq 2 ]
    [[ "$output" == *"must start with http://"* ]]
    run "$SRC/deploy/scripts/deploy.sh" --environment production
    [ "$status" -eq 2 ]
    [[ "$output" == *"--tag is required"* ]]
    run "$SRC/deploy/scripts/deploy.sh" --environment production --tag v1 --strategy big-bang
    [ "$status" -eq 2 ]
    [[ "$output" == *"use blue-green, rolling or canary"* ]]
    run "$SRC/deploy/scripts/deploy.sh" --environment production --tag 'v1;rm'
    [ "$status" -eq 2 ]
    run "$SRC/deploy/scripts/rollback.sh" --method version
    [ "$status" -eq 2 ]
    [[ "$output" == *"needs --version"* ]]
}

@test "podman-build.sh: --help, and usage errors exit 2 before touching anything" {
    run "$SRC/deploy/podman-build.sh" --help
    [ "$status" -eq 0 ]
    for o in --tag --cache-dir --mirror --max-age --base-only; do [[ "$output" == *"$o"* ]]; done
    run "$SRC/deploy/podman-build.sh" --bogus
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown option '--bogus'"* ]]
    run "$SRC/deploy/podman-build.sh" --max-age soon --cache-dir "$BATS_TEST_TMPDIR/cache"
    [ "$status" -eq 2 ]
    [[ "$output" == *"--max-age wants whole days"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/cache" ]
}

@test "deploy.sh --dry-run prints the whole plan and calls nothing" {
    export_deploy_env
    export ALD_HAPROXY_SOCKET=$BATS_TEST_TMPDIR/no-such.sock
    run "$SRC/deploy/scripts/deploy.sh" --environment production --strategy blue-green \
        --tag v1.2.3 --dry-run
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"live colour: blue (v1.0.0); new colour: green (v1.2.3)"* ]]
    [[ "$output" == *"ALD_TAG_BLUE=v1.0.0 ALD_TAG_GREEN=v1.2.3 $DOCKER_COMPOSE --env-file $ALD_ENV_FILE -f $COMPOSE_FILE --profile green up -d --no-deps ald-control-green"* ]]
    [[ "$output" == *"http://127.0.0.1:8002/health/ready is 200"*"hand over:"*"stop -t 30 ald-control-blue"* ]]
    [[ "$output" == *"http://127.0.0.1:8002/health is 200 (holds the lease"*"start blue again and stop green (rollback)"* ]]
    [[ "$output" == *"dry run: nothing was changed"* ]]
    [ ! -s "$FAKE_COMPOSE_LOG" ]
    [ ! -e "$ALD_STATE_DIR/production.state" ]
}

@test "deploy.sh --dry-run: canary steps and the rolling note" {
    export_deploy_env
    export ALD_HAPROXY_SOCKET=$BATS_TEST_TMPDIR/no-such.sock
    run "$SRC/deploy/scripts/deploy.sh" -e production -s canary -t v2 --dry-run
    [ "$status" -eq 0 ]
    [[ "$output" == *"canary 5 %: green stays ready as a standby"*"canary 50 %"*"hand over"* ]]
    run "$SRC/deploy/scripts/deploy.sh" -e production -s rolling -t v2 --dry-run
    [ "$status" -eq 0 ]
    [[ "$output" == *"rolling = blue-green here"* ]]
    [ ! -s "$FAKE_COMPOSE_LOG" ]
}

@test "deploy.sh without the env file says how to create it" {
    export_deploy_env
    export ALD_ENV_FILE=$BATS_TEST_TMPDIR/none.env
    run "$SRC/deploy/scripts/deploy.sh" --environment production --tag v2
    [ "$status" -eq 3 ]
    [[ "$output" == *"none.env not found: cp "*"production.env.example"* ]]
    [ ! -s "$FAKE_COMPOSE_LOG" ]
}

@test "deploy.sh without a reachable HAProxy refuses before touching anything" {
    need socat socat
    export_deploy_env
    export ALD_HAPROXY_SOCKET=$BATS_TEST_TMPDIR/no-such.sock
    run "$SRC/deploy/scripts/deploy.sh" --environment production --tag v2
    [ "$status" -eq 3 ]
    [[ "$output" == *"HAProxy runtime API not reachable at $ALD_HAPROXY_SOCKET"* ]]
    [ ! -s "$FAKE_COMPOSE_LOG" ]
}

@test "rollback.sh: nothing recorded, not confirmed" {
    export_deploy_env
    run "$SRC/deploy/scripts/rollback.sh" --environment production --yes
    [ "$status" -eq 5 ]
    [[ "$output" == *"no previous version recorded"*"--method version"* ]]
    run "$SRC/deploy/scripts/rollback.sh" --method version --version v1 </dev/null
    [ "$status" -eq 6 ]
    [[ "$output" == *"pass --yes"* ]]
    run "$SRC/deploy/scripts/rollback.sh" --method version --version v1 <<<"n"
    [ "$status" -eq 6 ]
    [[ "$output" == *"not confirmed"* ]]
    [ ! -s "$FAKE_COMPOSE_LOG" ]
}

# ---- HAProxy --------------------------------------------------------------------------------

@test "haproxy -c accepts the shipped config; a broken copy is refused" {
    need "$HAPROXY_BIN" haproxy
    run "$HAPROXY_BIN" -c -f "$SRC/deploy/haproxy/haproxy.cfg"
    echo "$output"
    [ "$status" -eq 0 ]
    sed 's/option httpchk GET/option httpchk GETT BAD BAD BAD BAD/; s/^backend ald_engine/backend/' \
        "$SRC/deploy/haproxy/haproxy.cfg" >"$BATS_TEST_TMPDIR/bad.cfg"
    run "$HAPROXY_BIN" -c -f "$BATS_TEST_TMPDIR/bad.cfg"
    [ "$status" -ne 0 ]
}

@test "haproxy config: ports, lease-following checks, standby fallback, exporter, stats auth" {
    local cfg=$SRC/deploy/haproxy/haproxy.cfg
    grep -Eq '^\s*bind "\$\{ALD_HAPROXY_BIND-:8000\}"' "$cfg"
    grep -Eq '^\s*bind "\$\{ALD_HAPROXY_STATS_BIND-:8404\}"' "$cfg"
    grep -Eq '^\s*option httpchk GET /health/active' "$cfg"
    grep -Eq '^\s*option httpchk GET /health/ready' "$cfg"
    grep -Eq '^\s*use_backend ald_standby if \{ nbsrv\(ald_engine\) eq 0 \}' "$cfg"
    grep -Eq '^\s*server blue "\$\{ALD_BLUE_ADDR-ald-control-blue:8000\}" check$' "$cfg"
    grep -Eq '^\s*server green "\$\{ALD_GREEN_ADDR-ald-control-green:8000\}" check$' "$cfg"
    run ! grep -Eq '^\s*server .* disabled' "$cfg"
    grep -Eq '^\s*http-request auth realm .* unless \{ http_auth\(stats_users\) \}' "$cfg"
    grep -Eq '^\s*http-request use-service prometheus-exporter if \{ path /metrics \}' "$cfg"
    grep -Eq '^\s*stats uri /stats' "$cfg"
    grep -Eq '^\s*stats socket .* level admin' "$cfg"
    grep -Eq 'init-addr last,libc,none' "$cfg"
}

# ---- docker-compose ---------------------------------------------------------------------------

@test "docker-compose config accepts docker-compose.prod.yml with the example env" {
    need docker-compose docker-compose
    run compose_config
    echo "$output"
    [ "$status" -eq 0 ]
    local svcs
    svcs=$(yq_py '" ".join(sorted(c["services"]))' <<<"$output")
    [ "$svcs" = "ald-control-blue ald-control-green alertmanager grafana haproxy prometheus" ]
}

@test "compose: both colours run the same image with their own tag, colour and limits" {
    need docker-compose docker-compose
    sed -e 's/^ALD_TAG_BLUE=.*/ALD_TAG_BLUE=v7/' -e 's/^ALD_TAG_GREEN=.*/ALD_TAG_GREEN=v8/' \
        "$EXAMPLE_ENV" >"$BATS_TEST_TMPDIR/t.env"
    compose_config "$BATS_TEST_TMPDIR/t.env" >"$BATS_TEST_TMPDIR/c.yml"
    local s
    for c in blue green; do
        s="c['services']['ald-control-$c']"
        [ "$(yq_py "$s['environment']['ALD_COLOUR'], $s['labels']['ald.colour']" <"$BATS_TEST_TMPDIR/c.yml")" = "$c $c" ]
        [ "$(yq_py "$s['build']['dockerfile']" <"$BATS_TEST_TMPDIR/c.yml")" = deploy/Dockerfile ]
        [ "$(yq_py "$s['deploy']['resources']['limits']['cpus'], $s['deploy']['resources']['limits']['memory']" <"$BATS_TEST_TMPDIR/c.yml")" = "2.0 1G" ]
        [ "$(yq_py "$s['deploy']['resources']['reservations']['cpus'], $s['deploy']['resources']['reservations']['memory']" <"$BATS_TEST_TMPDIR/c.yml")" = "0.5 512M" ]
        # stop_grace_period >= 15 s (SIGTERM closes the valves first)
        [ "$(yq_py "$s['stop_grace_period']" <"$BATS_TEST_TMPDIR/c.yml")" = 30s ]
        [ "$(yq_py "$s['stop_signal']" <"$BATS_TEST_TMPDIR/c.yml")" = SIGTERM ]
        [ "$(yq_py "$s['environment']['MACHINE_ID'], $s['environment']['PLC_HOST']" <"$BATS_TEST_TMPDIR/c.yml")" = "your-unique-machine-id 192.168.1.100" ]
        # the engine never sees the other services' secrets
        [ "$(yq_py "'GRAFANA_PASSWORD' in $s['environment'] or 'ALERT_WEBHOOK_URL' in $s['environment']" <"$BATS_TEST_TMPDIR/c.yml")" = False ]
    done
    [ "$(yq_py "c['services']['ald-control-blue']['image']" <"$BATS_TEST_TMPDIR/c.yml")" = ald-engine:v7 ]
    [ "$(yq_py "c['services']['ald-control-green']['image']" <"$BATS_TEST_TMPDIR/c.yml")" = ald-engine:v8 ]
    [ "$(yq_py "c['services']['ald-control-green']['profiles']" <"$BATS_TEST_TMPDIR/c.yml")" = "['green']" ]
}

@test "compose: Grafana's password is a secret file; HAProxy's grace period" {
    need docker-compose docker-compose
    # the old variable is not used any more: it would show in `docker inspect`
    sed 's/^GRAFANA_PASSWORD=.*/GRAFANA_PASSWORD=s3cret-for-test/' "$EXAMPLE_ENV" >"$BATS_TEST_TMPDIR/t.env"
    compose_config "$BATS_TEST_TMPDIR/t.env" >"$BATS_TEST_TMPDIR/c.yml"
    run ! grep -q s3cret-for-test "$BATS_TEST_TMPDIR/c.yml"
    [ "$(yq_py "c['services']['grafana']['environment']['GF_SECURITY_ADMIN_PASSWORD__FILE']" <"$BATS_TEST_TMPDIR/c.yml")" = /run/secrets/grafana_password ]
    [ "$(yq_py "c['services']['haproxy']['stop_grace_period']" <"$BATS_TEST_TMPDIR/c.yml")" = 15s ]
    # ports, secrets, health checks, limits: tests/deploy/compose.bats
}

@test "compose: every file it mounts exists in the source tree" {
    need docker-compose docker-compose
    compose_config >"$BATS_TEST_TMPDIR/c.yml"
    local src
    /usr/bin/python3 -c '
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
for s in c["services"].values():
    for v in s.get("volumes", []):
        src = v["source"] if isinstance(v, dict) else v.split(":")[0]
        if src.startswith("/"):
            print(src)
' "$BATS_TEST_TMPDIR/c.yml" >"$BATS_TEST_TMPDIR/binds"
    [ -s "$BATS_TEST_TMPDIR/binds" ]
    while read -r src; do
        case "$src" in
        */deploy/run) continue ;; # created at run time (HAProxy socket, server state)
        esac
        [ -e "$src" ] || { echo "missing bind source: $src" >&2; return 1; }
    done <"$BATS_TEST_TMPDIR/binds"
    # Prometheus scrapes the colours by their service names
    grep -q 'ald-control-blue:8000' "$SRC/monitoring/prometheus.yml"
    grep -q 'ald-control-green:8000' "$SRC/monitoring/prometheus.yml"
}

# ---- Dockerfile, entrypoint, systemd ------------------------------------------------------------

@test "Dockerfile: bookworm multi-stage, non-root, healthcheck, SIGTERM, data volume" {
    local df=$SRC/deploy/Dockerfile
    [ "$(grep -c '^FROM ' "$df")" -ge 2 ]
    grep -q '^ARG DEBIAN_IMAGE=debian:bookworm' "$df"
    grep -q 'autogen.sh' "$df"
    grep -q 'make install DESTDIR' "$df"
    grep -Eq '^USER ald' "$df"
    grep -Eq '^HEALTHCHECK .*' "$df"
    grep -q 'http://127.0.0.1:8000/health/basic' "$df"
    grep -Eq '^STOPSIGNAL SIGTERM' "$df"
    grep -Eq '^VOLUME \["/var/lib/ald"\]' "$df"
    # every COPY source of the build stage exists
    local f
    for f in $(sed -n 's/^COPY \([^-][^ ]*\( [^ ]*\)*\) [^ ]*$/\1/p' "$df"); do
        [ -e "$SRC/$f" ] || { echo "Dockerfile copies a missing path: $f" >&2; return 1; }
    done
}

@test "entrypoint: refuses an incomplete environment, naming the variable" {
    need_engine
    local ep=$SRC/deploy/docker-entrypoint.sh
    export PATH=$ALD_TOP_BUILDDIR:$PATH ALD_DATA_DIR=$BATS_TEST_TMPDIR/data
    PLC_TYPE=real PLC_HOST= PLC_IP= run "$ep"
    [ "$status" -eq 64 ]
    [[ "$output" == *"PLC_TYPE=real needs PLC_HOST (or PLC_IP)"* ]]
    PLC_TYPE=plc run "$ep"
    [ "$status" -eq 64 ]
    SUPABASE_URL=https://x.supabase.co SUPABASE_KEY= run "$ep"
    [ "$status" -eq 64 ]
    [[ "$output" == *"SUPABASE_KEY is empty"* ]]
}

@test "entrypoint: SUPABASE_KEY_FILE is checked when Supabase is used, its value never printed" {
    need_engine
    local ep=$SRC/deploy/docker-entrypoint.sh
    export PATH=$ALD_TOP_BUILDDIR:$PATH ALD_DATA_DIR=$BATS_TEST_TMPDIR/data PLC_TYPE=simulation
    printf 'key-value-never-printed\n' >"$BATS_TEST_TMPDIR/key"
    # both the value and the file: refused, only the file should be given
    SUPABASE_KEY=x SUPABASE_KEY_FILE=$BATS_TEST_TMPDIR/key run "$ep" --version
    [ "$status" -eq 64 ]
    [[ "$output" == *"both SUPABASE_KEY and SUPABASE_KEY_FILE are set"* ]]
    [[ "$output" != *key-value-never-printed* ]]
    # Supabase used: the file must exist and not be empty
    SUPABASE_URL=https://x.supabase.co SUPABASE_KEY_FILE=$BATS_TEST_TMPDIR/none run "$ep" --version
    [ "$status" -eq 64 ]
    [[ "$output" == *"SUPABASE_KEY_FILE=$BATS_TEST_TMPDIR/none is not a file readable by uid"* ]]
    : >"$BATS_TEST_TMPDIR/empty"
    SUPABASE_URL=https://x.supabase.co SUPABASE_KEY_FILE=$BATS_TEST_TMPDIR/empty run "$ep" --version
    [ "$status" -eq 64 ]
    [[ "$output" == *"is empty"* ]]
    # a good file: the engine runs; the key is in no message
    SUPABASE_URL=https://x.supabase.co SUPABASE_KEY_FILE=$BATS_TEST_TMPDIR/key run "$ep" --version
    [ "$status" -eq 0 ]
    [[ "$output" == "ald-engine "* ]]
    [[ "$output" != *key-value-never-printed* ]]
    # SQLite only: an empty or missing key file is no reason to refuse
    SUPABASE_KEY_FILE=$BATS_TEST_TMPDIR/empty run "$ep" --version
    [ "$status" -eq 0 ]
    SUPABASE_KEY_FILE=$BATS_TEST_TMPDIR/none run "$ep" --version
    [ "$status" -eq 0 ]
}

@test "entrypoint: passes options to the real ald-engine" {
    need_engine
    export PATH=$ALD_TOP_BUILDDIR:$PATH ALD_DATA_DIR=$BATS_TEST_TMPDIR/data
    PLC_TYPE=simulation run "$SRC/deploy/docker-entrypoint.sh" --check-config --config "$SRC/conf.d"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"configuration OK"* ]]
    run "$SRC/deploy/docker-entrypoint.sh" ald-engine --version
    [ "$status" -eq 0 ]
    [[ "$output" == "ald-engine "* ]]
    run "$SRC/deploy/docker-entrypoint.sh" echo other-command
    [ "$output" = other-command ]
}

@test "systemd unit: systemd-analyze verify finds nothing to complain about" {
    need systemd-analyze systemd
    need_engine
    # the unit as shipped, with ExecStart pointing at the built engine
    sed "s|/usr/sbin/ald-engine|$(engine_bin)|g" "$SRC/deploy/ald-engine.service" \
        >"$BATS_TEST_TMPDIR/ald-engine.service"
    run systemd-analyze verify "$BATS_TEST_TMPDIR/ald-engine.service"
    echo "$output"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    grep -q '^ExecStart=/usr/sbin/ald-engine$' "$SRC/deploy/ald-engine.service"
    grep -q '^KillSignal=SIGTERM$' "$SRC/deploy/ald-engine.service"
    # and it would complain
    printf '[Service]\nExecStart=/bin/true\nNoSuchKey=1\n' >"$BATS_TEST_TMPDIR/bad.service"
    run systemd-analyze verify "$BATS_TEST_TMPDIR/bad.service"
    [ -n "$output" ]
}

@test "systemd unit: notify, watchdog, OOM protection, and a security exposure under 2.0" {
    local unit=$SRC/deploy/ald-engine.service
    grep -q '^Type=notify$' "$unit"
    grep -q '^WatchdogSec=10$' "$unit"
    grep -q '^OOMScoreAdjust=-500$' "$unit"
    grep -q '^MemoryDenyWriteExecute=yes$' "$unit"
    grep -q '^CapabilityBoundingSet=$' "$unit"
    grep -q '^SystemCallFilter=@system-service$' "$unit"
    grep -q '^UMask=0077$' "$unit"
    need systemd-analyze systemd
    run systemd-analyze security --offline=yes "$unit"
    [ "$status" -eq 0 ] || skip "systemd-analyze security --offline needs systemd 252 or later"
    local score
    score=$(sed -n 's/.*Overall exposure level for ald-engine.service: \([0-9.]*\).*/\1/p' <<<"$output")
    echo "exposure $score"
    awk -v s="$score" 'BEGIN { exit !(s != "" && s < 2.0) }'
}
