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
# SUPABASE_URL needs SUPABASE_KEY. Secrets are never printed. The engine is
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
    if [ -n "${SUPABASE_URL:-}" ] && [ -z "${SUPABASE_KEY:-}" ]; then
        fail "SUPABASE_URL is set but SUPABASE_KEY is empty: set the service-role key in the env file"
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
