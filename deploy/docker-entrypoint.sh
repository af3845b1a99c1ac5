#!/bin/sh
# docker-entrypoint.sh - start ald-engine in the container.
#
#   docker run ald-engine                    run the engine (default CMD)
#   docker run ald-engine --check-config     any option goes to ald-engine
#   docker run ald-engine sh                 anything else is run as given
#
# Before the engine starts it checks what is cheap to check and easy to get
# wrong in a deployment, and says which variable or path to fix: the data
# directory must be writable by the "ald" user (a bind mount owned by root is
# the usual mistake), PLC_TYPE=real needs PLC_HOST (or PLC_IP), and
# SUPABASE_URL needs SUPABASE_KEY or, better, SUPABASE_KEY_FILE (a readable,
# non-empty secret file). Secrets are never printed. The engine is
# exec'd, so it is PID 1 and receives SIGTERM from `docker stop` directly.
set -eu

fail() {
    echo "docker-entrypoint: $*" >&2
    exit 64
}

check_environment() {
    data_dir=${ALD_DATA_DIR:-/var/lib/ald}
    mkdir -p "$data_dir" 2>/dev/null || true
    if [ ! -w "$data_dir" ]; then
        fail "data directory $data_dir (ALD_DATA_DIR) is not writable by uid $(id -u):" \
            "chown it to $(id -u):$(id -g) or use the named volume of docker-compose.prod.yml"
    fi
    plc_type=$(printf '%s' "${PLC_TYPE:-simulation}" | tr '[:upper:]' '[:lower:]')
    case "$plc_type" in
    simulation) ;;
    real)
        if [ -z "${PLC_HOST:-}" ] && [ -z "${PLC_IP:-}" ]; then
            fail "PLC_TYPE=real needs PLC_HOST (or PLC_IP): set it in the env file"
        fi
        ;;
    *) fail "PLC_TYPE='${PLC_TYPE:-}' is neither 'real' nor 'simulation': fix the env file" ;;
    esac
    # the key is needed only with Supabase; an unused secret file may be empty
    needed=0
    [ -z "${SUPABASE_URL:-}" ] || needed=1
    check_secret SUPABASE_KEY "$needed"
    if [ "$needed" -eq 1 ] && [ -z "${SUPABASE_KEY:-}" ] && [ -z "${SUPABASE_KEY_FILE:-}" ]; then
        fail "SUPABASE_URL is set but SUPABASE_KEY is empty and SUPABASE_KEY_FILE is unset:" \
            "give the service-role key as a secret file (docs/deployment.md, \"Secrets\")"
    fi
}

# check_secret NAME NEEDED: NAME itself is not set beside NAME_FILE, and when
# NEEDED is 1, NAME_FILE names a non-empty file readable by this user (a
# compose secret, /run/secrets/...). The engine reads the file itself: the value stays out
# of every environment, so it never shows in `docker inspect`. Messages name
# the path, never the contents.
check_secret() {
    eval "file=\${${1}_FILE:-} value=\${${1}:-}"
    [ -n "$file" ] || return 0
    if [ -n "$value" ]; then
        fail "both $1 and ${1}_FILE are set: keep only ${1}_FILE (the secret file)"
    fi
    [ "$2" -eq 1 ] || return 0
    if [ ! -f "$file" ] || [ ! -r "$file" ]; then
        fail "${1}_FILE=$file is not a file readable by uid $(id -u): create it on the host" \
            "and chown it to $(id -u), mode 0400 (docs/deployment.md, \"Secrets\")"
    fi
    if [ ! -s "$file" ]; then
        fail "${1}_FILE=$file is empty: put the secret in the file the compose secret names"
    fi
}

case "${1:-ald-engine}" in
ald-engine | -*)
    if [ "${1:-}" = ald-engine ]; then
        shift
    fi
    check_environment
    exec ald-engine "$@"
    ;;
*)
    exec "$@"
    ;;
esac
