#!/bin/sh
# deploy.sh - deploy a new ald-engine image without interrupting the tool.
#
# Usage: deploy.sh --environment E --tag T [--strategy blue-green|rolling|canary]
#                  [--dry-run] [--build] [--canary-steps "5 25 50 100"]
#                  [--canary-interval S] [--health-retries N] [--health-interval S]
#                  [--stop-timeout S] [--note TEXT]
#
#   --environment E   reads deploy/E.env (ALD_ENV_FILE overrides) and keeps its
#                     state in deploy/.state/E.state (ALD_STATE_DIR overrides)
#   --tag T           image tag to deploy (ALD_IMAGE:T)
#   --strategy S      blue-green (default): start the idle colour with T as a
#                     standby, wait until it is READY (GET /health/ready: PLC
#                     connected, database reachable, logging), then hand over:
#                     stop the live colour (it releases the machine's lease),
#                     and wait until the new colour holds the lease and is
#                     healthy (GET /health 200) and HAProxy routes to it.
#                     If the new colour never gets ready, it is stopped and
#                     the live colour is never touched; if it does not take
#                     over, the old colour is started again (rollback).
#                     Either way the exit code is 1.
#                     rolling: the same (one engine per tool: there is
#                     nothing to roll through). canary: the same, but the new
#                     colour must stay ready as a standby through each of the
#                     --canary-steps, --canary-interval s each, before the
#                     handover (one engine drives a tool: traffic cannot be
#                     split, so the canary is a soak).
#   --dry-run         print the plan (with the exact commands) and change nothing
#   --build           build the image (docker-compose build) instead of using a
#                     pulled one
#
# Environment: DOCKER_COMPOSE (default docker-compose), ALD_COMPOSE_FILE,
# ALD_HAPROXY_SOCKET (unix path or host:port; default deploy/run/admin.sock),
# ALD_BLUE_URL and
# ALD_GREEN_URL (each colour directly; default http://127.0.0.1:ALD_*_PORT),
# ALD_HEALTH_URL (through HAProxy; default http://localhost:8000).
# HAProxy routes to the colour holding the lease by itself (its check is
# GET /health/active): this script only reads which colour is live.
# Exit codes: 0 deployed (or planned), 1 failed (the old colour serves, or
# was started again; see the message), 2 usage error, 3 a tool or file is
# missing, 4 another deploy holds the lock.
set -u

prog=deploy.sh
script_dir=$(cd "$(dirname "$0")" && pwd)
deploy_dir=$(dirname "$script_dir")
top_dir=$(dirname "$deploy_dir")

DOCKER_COMPOSE=${DOCKER_COMPOSE:-docker-compose}
compose_file=${ALD_COMPOSE_FILE:-$top_dir/docker-compose.prod.yml}
haproxy_socket=${ALD_HAPROXY_SOCKET:-$deploy_dir/run/admin.sock}
state_dir=${ALD_STATE_DIR:-$deploy_dir/.state}
backend=${ALD_HAPROXY_BACKEND:-ald_engine}
standby_backend=${ALD_HAPROXY_STANDBY_BACKEND:-ald_standby}
health_check=$script_dir/health-check.sh

environment=
tag=
strategy=blue-green
dry_run=0
build=0
canary_steps="5 25 50 100"
canary_interval=60
health_retries=30
health_interval=2
stop_timeout=30
note=

# ---- messages ---------------------------------------------------------------------

say() { echo "$prog: $*"; }
warn() { echo "$prog: warning: $*" >&2; }
die() {
    code=$1
    shift
    echo "$prog: $*" >&2
    exit "$code"
}
usage_error() {
    echo "$prog: $*" >&2
    echo "Try '$prog --help'." >&2
    exit 2
}
# usage: the comment block at the top of this file.
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

# ---- arguments -----------------------------------------------------------------------

need_value() { [ -n "${2:-}" ] || usage_error "$1 needs a value"; }

is_uint() {
    case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac
}

parse_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
        --environment | -e) need_value "$1" "${2:-}"; environment=$2; shift ;;
        --tag | -t) need_value "$1" "${2:-}"; tag=$2; shift ;;
        --strategy | -s) need_value "$1" "${2:-}"; strategy=$2; shift ;;
        --canary-steps) need_value "$1" "${2:-}"; canary_steps=$(echo "$2" | tr ',' ' '); shift ;;
        --canary-interval) need_value "$1" "${2:-}"; canary_interval=$2; shift ;;
        --health-retries) need_value "$1" "${2:-}"; health_retries=$2; shift ;;
        --health-interval) need_value "$1" "${2:-}"; health_interval=$2; shift ;;
        --stop-timeout) need_value "$1" "${2:-}"; stop_timeout=$2; shift ;;
        --note) need_value "$1" "${2:-}"; note=$2; shift ;;
        --dry-run | -n) dry_run=1 ;;
        --build) build=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown option '$1'" ;;
        esac
        shift
    done
    [ -n "$environment" ] || usage_error "--environment is required (e.g. --environment production)"
    case "$environment" in
    *[!A-Za-z0-9_-]*) usage_error "--environment '$environment': use letters, digits, - and _" ;;
    esac
    [ -n "$tag" ] || usage_error "--tag is required (the image tag to deploy, e.g. --tag v1.2.3)"
    case "$tag" in
    [!A-Za-z0-9_]* | *[!A-Za-z0-9_.-]*) usage_error "--tag '$tag' is not a valid image tag" ;;
    esac
    case "$strategy" in
    blue-green | rolling | canary) ;;
    *) usage_error "--strategy '$strategy': use blue-green, rolling or canary" ;;
    esac
    for n in "$canary_interval" "$health_retries" "$stop_timeout"; do
        is_uint "$n" || usage_error "'$n' is not a whole number"
    done
    for step in $canary_steps; do
        if ! is_uint "$step" || [ "$step" -lt 1 ] || [ "$step" -gt 100 ]; then
            usage_error "--canary-steps: '$step' is not a percentage (1-100)"
        fi
    done
}

# ---- the env file and the state file -----------------------------------------------------

# env_get KEY: the last KEY=value of the env file (quotes stripped), or "".
env_get() {
    [ -r "$env_file" ] || return 0
    sed -n "s/^[[:space:]]*$1=//p" "$env_file" | tail -n 1 | sed "s/^[\"']//; s/[\"']\$//"
}

# state_get KEY: a value recorded by the last deploy, or "".
state_get() {
    [ -r "$state_file" ] || return 0
    sed -n "s/^$1=//p" "$state_file" | tail -n 1
}

load_settings() {
    env_file=${ALD_ENV_FILE:-$deploy_dir/$environment.env}
    state_file=$state_dir/$environment.state
    history_file=$state_dir/$environment.history
    if [ ! -r "$env_file" ]; then
        msg="env file $env_file not found: cp $deploy_dir/production.env.example"
        msg="$msg $env_file and edit it (or set ALD_ENV_FILE)"
        if [ "$dry_run" = 1 ]; then warn "$msg"; else die 3 "$msg"; fi
    fi
    [ -r "$compose_file" ] || die 3 "compose file $compose_file not found (ALD_COMPOSE_FILE)"
    blue_url=${ALD_BLUE_URL:-http://127.0.0.1:$(env_get ALD_BLUE_PORT | grep . || echo 8001)}
    green_url=${ALD_GREEN_URL:-http://127.0.0.1:$(env_get ALD_GREEN_PORT | grep . || echo 8002)}
    front_url=${ALD_HEALTH_URL:-http://localhost:8000}
}

# The tag a colour runs now: recorded by the last deploy, else the env file's.
current_tag() {
    t=$(state_get "ALD_TAG_$(upper "$1")")
    [ -n "$t" ] || t=$(env_get "ALD_TAG_$(upper "$1")")
    echo "${t:-latest}"
}

upper() { echo "$1" | tr '[:lower:]' '[:upper:]'; }
other() { if [ "$1" = blue ]; then echo green; else echo blue; fi; }
colour_url() { if [ "$1" = blue ]; then echo "$blue_url"; else echo "$green_url"; fi; }

record_state() {
    new=$1 old=$2 old_tag=$3
    mkdir -p "$state_dir" || die 1 "cannot create the state directory $state_dir"
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    {
        echo "# written by deploy.sh; the live colour and the tag of each colour"
        echo "ACTIVE_COLOUR=$new"
        echo "ACTIVE_TAG=$tag"
        echo "PREVIOUS_COLOUR=$old"
        echo "PREVIOUS_TAG=$old_tag"
        echo "ALD_TAG_$(upper "$new")=$tag"
        echo "ALD_TAG_$(upper "$old")=$old_tag"
        echo "UPDATED=$now"
    } >"$state_file.tmp" || die 1 "cannot write $state_file.tmp"
    mv "$state_file.tmp" "$state_file" || die 1 "cannot replace $state_file"
    echo "$now $strategy $new $tag (was $old $old_tag)${note:+ $note}" >>"$history_file"
}

# ---- HAProxy runtime API ---------------------------------------------------------------

haproxy_address() {
    case "$haproxy_socket" in
    /* | ./*) echo "UNIX-CONNECT:$haproxy_socket" ;;
    *:*) echo "TCP:$haproxy_socket" ;;
    *) echo "UNIX-CONNECT:$haproxy_socket" ;;
    esac
}

# hap COMMAND: one runtime API command; its reply on stdout.
hap() {
    printf '%s\n' "$*" | socat -t 5 - "$(haproxy_address)"
}

# servers: "name op_state admin_state weight" of the backend's servers.
# servers [BACKEND]: of the main backend by default.
servers() {
    hap "show servers state ${1:-$backend}" | awk 'NF >= 8 && $1 ~ /^[0-9]+$/ { print $4, $6, $7, $8 }'
}

# live_colours [BACKEND]: the servers HAProxy sends traffic to: running (op_state 2),
# no maintenance or drain flag in admin_state (FMAINT 1, IMAINT 2, FDRAIN 8,
# IDRAIN 16, RMAINT 32 = 59), weight > 0. With the lease-following check
# (GET /health/active) that is the colour holding the machine's lease.
live_colours() {
    servers "${1:-$backend}" | while read -r name op admin weight; do
        if [ "$op" = 2 ] && [ $((admin & 59)) -eq 0 ] && [ "$weight" -gt 0 ]; then
            echo "$name"
        fi
    done
}

haproxy_reachable() {
    command -v socat >/dev/null 2>&1 && servers 2>/dev/null | grep -q .
}

# wait_live COLOUR [BACKEND]: until HAProxy's own check routes traffic to it.
wait_live() {
    i=0
    while [ "$i" -lt "$health_retries" ]; do
        live_colours "${2:-$backend}" | grep -qx "$1" && return 0
        i=$((i + 1))
        sleep "$health_interval"
    done
    return 1
}

# ---- docker-compose ------------------------------------------------------------------------

# compose ARGS...: docker-compose with the env file, the compose file and the tags
# of both colours (the shell environment wins over the env file).
compose() {
    # shellcheck disable=SC2086 # DOCKER_COMPOSE may be "docker compose"
    ALD_TAG_BLUE=$tag_blue ALD_TAG_GREEN=$tag_green \
        $DOCKER_COMPOSE --env-file "$env_file" -f "$compose_file" --profile green "$@"
}

compose_text() {
    echo "ALD_TAG_BLUE=$tag_blue ALD_TAG_GREEN=$tag_green $DOCKER_COMPOSE --env-file $env_file -f $compose_file --profile green $*"
}

start_colour() {
    if [ "$build" = 1 ]; then
        compose build "ald-control-$1" || die 1 "building ald-control-$1 ($tag) failed; nothing was switched"
    fi
    compose up -d --no-deps "ald-control-$1" ||
        die 1 "starting ald-control-$1 with tag $tag failed; $active still serves, nothing was switched"
}

stop_colour() {
    compose stop -t "$stop_timeout" "ald-control-$1" ||
        warn "stopping ald-control-$1 failed: stop it by hand ($(compose_text stop -t "$stop_timeout" "ald-control-$1"))"
}

# ---- the plan -------------------------------------------------------------------------------

decide_colours() {
    live=$(live_colours 2>/dev/null | tr '\n' ' ')
    case "$live" in
    "blue " | "green ") active=${live% } ;;
    *)
        active=$(state_get ACTIVE_COLOUR)
        if [ "$dry_run" = 0 ] && [ -z "$live" ]; then
            die 1 "HAProxy ($haproxy_socket) routes to no engine in backend $backend (none holds" \
                "the lease, or none runs); start one (docker-compose ... up -d ald-control-blue)" \
                "or use rollback.sh"
        fi
        [ -z "$live" ] || warn "HAProxy routes to both colours ($live): two engines hold" \
            "the lease?; the recorded live colour is ${active:-blue}"
        ;;
    esac
    active=${active:-blue}
    idle=$(other "$active")
    active_tag=$(current_tag "$active")
    if [ "$active" = blue ]; then
        tag_blue=$active_tag tag_green=$tag
    else
        tag_blue=$tag tag_green=$active_tag
    fi
}

print_plan() {
    echo "deploy plan: environment $environment, strategy $strategy, tag $tag"
    echo "  live colour: $active ($active_tag); new colour: $idle ($tag)"
    [ "$strategy" = rolling ] &&
        echo "  rolling = blue-green here: one engine per tool, so there is nothing to roll through"
    n=1
    if [ "$build" = 1 ]; then
        echo "  $n. build: $(compose_text build "ald-control-$idle")"
        n=$((n + 1))
    fi
    echo "  $n. start as a standby: $(compose_text up -d --no-deps "ald-control-$idle")"
    echo "  $((n + 1)). wait until $(colour_url "$idle")/health/ready is 200 ($health_retries" \
        "tries, every ${health_interval} s); if never, stop $idle: $active is untouched"
    n=$((n + 2))
    if [ "$strategy" = canary ]; then
        for step in $canary_steps; do
            [ "$step" -lt 100 ] || continue
            echo "  $n. canary $step %: $idle stays ready as a standby for ${canary_interval} s"
            n=$((n + 1))
        done
    fi
    echo "  $n. hand over: haproxy: set server $backend/$active and $standby_backend/$active" \
        "state drain; $(compose_text stop -t "$stop_timeout" "ald-control-$active") ($active" \
        "releases the lease); set them back to state ready"
    echo "  $((n + 1)). wait until $(colour_url "$idle")/health is 200 (holds the lease," \
        "healthy) through two more logging cycles and HAProxy ($haproxy_socket) routes to" \
        "$idle; if not, start $active again and stop $idle (rollback)"
    echo "  $((n + 2)). check $front_url/health through HAProxy"
    echo "  $((n + 3)). record: live $idle $tag, previous $active $active_tag in $state_file"
}

# ---- the steps ------------------------------------------------------------------------------

preflight() {
    command -v socat >/dev/null 2>&1 ||
        die 3 "socat not found: it talks to HAProxy's runtime API (Debian: apt-get install socat)"
    command -v curl >/dev/null 2>&1 || die 3 "curl not found (Debian: apt-get install curl)"
    haproxy_reachable || die 3 "HAProxy runtime API not reachable at $haproxy_socket (ALD_HAPROXY_SOCKET):" \
        "is the haproxy service up, and may this user use the socket (ALD_HAPROXY_SOCKET_GID)?"
}

take_lock() {
    mkdir -p "$state_dir" || die 1 "cannot create the state directory $state_dir"
    lock=$state_dir/$environment.lock
    mkdir "$lock" 2>/dev/null ||
        die 4 "another deploy of $environment is running (lock $lock); if none is, remove that directory"
    trap 'rmdir "$lock" 2>/dev/null' EXIT
    trap 'exit 1' INT TERM HUP
}

# check COLOUR ENDPOINT_OPTION...: health-check.sh against one colour directly.
check_colour() {
    c=$1
    shift
    "$health_check" --url "$(colour_url "$c")" --retries "$health_retries" \
        --interval "$health_interval" --timeout 3 --quiet "$@"
}

run_canary() {
    for step in $canary_steps; do
        [ "$step" -lt 100 ] || continue
        say "canary $step %: $idle ($tag) must stay ready as a standby for ${canary_interval} s"
        sleep "$canary_interval"
        if ! check_colour "$idle" --ready; then
            stop_colour "$idle"
            die 1 "canary: $idle ($tag) stopped being ready at $step %; stopped it;" \
                "$active ($active_tag) still serves"
        fi
    done
}

# settled COLOUR: its /health is 200 (it holds the lease, PLC and database
# connected) and stays 200 while it logs two more cycles; a colour that
# fails right after taking over does not pass.
settled() {
    url=$(colour_url "$1")/health
    first=
    i=0
    while [ "$i" -lt "$health_retries" ]; do
        reply=$(curl -s --max-time 3 -w '\n%{http_code}' "$url") || reply=
        code=$(printf '%s\n' "$reply" | tail -n 1)
        cycles=$(printf '%s' "$reply" | sed -n 's/.*"cycles":\([0-9][0-9]*\).*/\1/p' | head -n 1)
        if [ "$code" = 200 ] && [ -n "$cycles" ]; then
            [ -n "$first" ] || first=$cycles
            [ "$cycles" -lt $((first + 2)) ] || return 0
        elif [ -n "$first" ]; then
            return 1 # healthy a moment ago, not any more
        fi
        i=$((i + 1))
        sleep "$health_interval"
    done
    return 1
}

# drain_and_stop COLOUR: HAProxy sends it no new request (its requests go to
# the ready standby meanwhile), then it is stopped (SIGTERM: it answers 503
# "stopping" while it closes valves and releases the lease), then its admin
# state is reset so HAProxy may route to it again when it next holds the lease.
drain_and_stop() {
    for b in "$backend" "$standby_backend"; do
        hap "set server $b/$1 state drain" >/dev/null ||
            warn "HAProxy did not take 'set server $b/$1 state drain'"
    done
    stop_colour "$1"
    for b in "$backend" "$standby_backend"; do
        hap "set server $b/$1 state ready" >/dev/null ||
            warn "HAProxy did not take 'set server $b/$1 state ready': set it by hand"
    done
}

# The new colour never took over: bring the old one back, then stop the new.
roll_back() {
    warn "$idle ($tag) did not take over (no lease, not healthy, or HAProxy does not route" \
        "to it); starting $active ($active_tag) again"
    compose up -d --no-deps "ald-control-$active" ||
        die 1 "ROLLBACK FAILED: starting ald-control-$active failed; $idle ($tag) is the only" \
            "engine: $(compose_text up -d --no-deps "ald-control-$active")"
    if ! check_colour "$active" --ready || ! wait_live "$active" "$standby_backend"; then
        warn "$active is not ready yet; stopping $idle anyway (it failed)"
    fi
    drain_and_stop "$idle"
    if check_colour "$active" && wait_live "$active"; then
        die 1 "rolled back: $idle ($tag) did not take over; $active ($active_tag) serves again"
    fi
    die 1 "ROLLBACK INCOMPLETE: $active ($active_tag) was started again but is not healthy;" \
        "see $(compose_text logs --tail=100 "ald-control-$active")"
}

deploy() {
    take_lock
    say "starting ald-control-$idle with tag $tag (a standby while $active holds the lease)"
    start_colour "$idle"
    say "waiting until $(colour_url "$idle")/health/ready is 200"
    if ! check_colour "$idle" --ready; then
        stop_colour "$idle"
        die 1 "ald-control-$idle ($tag) did not become ready at $(colour_url "$idle")/health/ready" \
            "(PLC connected, database reachable, logging); stopped it; $active ($active_tag)" \
            "still serves. See: $(compose_text logs --tail=100 "ald-control-$idle")"
    fi
    [ "$strategy" = canary ] && run_canary
    # HAProxy must see it ready too: it answers alone while the lease changes hands
    wait_live "$idle" "$standby_backend" ||
        warn "HAProxy's $standby_backend does not see $idle ready: requests may fail during the handover"
    say "handing over: stopping ald-control-$active (it releases the machine's lease)"
    drain_and_stop "$active"
    if ! settled "$idle" || ! wait_live "$idle"; then
        roll_back
    fi
    say "$idle holds the lease and HAProxy routes to it"
    if ! "$health_check" --url "$front_url" --retries 5 --interval 1 --quiet; then
        warn "$front_url/health does not answer 200 through HAProxy; check the haproxy service"
    fi
    record_state "$idle" "$active" "$active_tag"
    say "deployed $tag to $idle; previous: $active $active_tag (rollback: rollback.sh --environment $environment)"
}

main() {
    parse_args "$@"
    load_settings
    if [ "$dry_run" = 1 ]; then
        haproxy_reachable || warn "HAProxy runtime API not reachable at $haproxy_socket: the live colour comes from the state file"
        decide_colours
        print_plan
        echo "dry run: nothing was changed"
        exit 0
    fi
    preflight
    decide_colours
    print_plan
    deploy
}

main "$@"
