#!/bin/sh
# health-check.sh - is an ald-engine healthy? Polls its HTTP surface.
#
# Usage: health-check.sh [--url URL] [--retries N] [--interval S] [--timeout S]
#                        [--basic | --ready] [--json] [--quiet]
#
#   --url URL       the engine or HAProxy in front of it (default
#                   $ALD_HEALTH_URL or http://localhost:8000); /health or
#                   /health/basic is appended
#   --retries N     attempts before giving up (default 3)
#   --interval S    seconds between attempts (default 5)
#   --timeout S     seconds one request may take (default 5)
#   --basic         liveness only: GET /health/basic (200 = the engine runs)
#   --ready         can it serve: GET /health/ready (200 = PLC connected,
#                   database reachable, logging; a standby that could take
#                   over is ready)
#                   default: GET /health (200 = healthy AND holding the
#                   machine's lease, i.e. driving the tool; a standby is 503)
#   --json          print one JSON object: url, endpoint, healthy, http_code,
#                   attempts and the engine's response (null if none)
#   --quiet         print nothing; the exit code says it all
#
# Exit codes: 0 healthy, 1 not healthy after every attempt, 2 usage error,
# 3 a required tool (curl) is missing.
set -u

prog=health-check.sh
url=${ALD_HEALTH_URL:-http://localhost:8000}
retries=3
interval=5
timeout=5
endpoint=/health
output=text

# usage: the comment block at the top of this file.
usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

usage_error() {
    echo "$prog: $*" >&2
    echo "Try '$prog --help'." >&2
    exit 2
}

# need_value OPTION VALUE: OPTION must be followed by a value.
need_value() {
    [ -n "${2:-}" ] || usage_error "$1 needs a value"
}

is_count() {
    case "$1" in
    '' | *[!0-9]*) return 1 ;;
    *) [ "$1" -ge 1 ] ;;
    esac
}

is_seconds() {
    case "$1" in
    '' | . | *[!0-9.]* | *.*.*) return 1 ;;
    *) return 0 ;;
    esac
}

parse_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
        --url) need_value "$1" "${2:-}"; url=$2; shift ;;
        --url=*) url=${1#--url=} ;;
        --retries) need_value "$1" "${2:-}"; retries=$2; shift ;;
        --interval) need_value "$1" "${2:-}"; interval=$2; shift ;;
        --timeout) need_value "$1" "${2:-}"; timeout=$2; shift ;;
        --basic) endpoint=/health/basic ;;
        --ready) endpoint=/health/ready ;;
        --json) [ "$output" = quiet ] || output=json ;;
        --quiet | -q) output=quiet ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown option '$1'" ;;
        esac
        shift
    done
    is_count "$retries" || usage_error "--retries '$retries' is not a whole number >= 1"
    is_seconds "$interval" || usage_error "--interval '$interval' is not a number of seconds"
    is_seconds "$timeout" || usage_error "--timeout '$timeout' is not a number of seconds"
    case "$url" in
    http://* | https://*) ;;
    *) usage_error "--url '$url' must start with http:// or https://" ;;
    esac
    url=${url%/}
}

# One GET of $target; sets code (000 = no answer) and body.
probe() {
    bodyfile=$(mktemp) || exit 3
    code=$(curl -sS -o "$bodyfile" -w '%{http_code}' --max-time "$timeout" "$target" \
        2>"$bodyfile.err") || true
    [ -n "$code" ] || code=000
    body=$(cat "$bodyfile")
    curl_error=$(head -n 1 "$bodyfile.err")
    rm -f "$bodyfile" "$bodyfile.err"
}

# The engine's JSON answer, or null when there is none (or it is not JSON).
response_json() {
    case "$body" in
    '{'*'}')
        if command -v jq >/dev/null 2>&1; then
            printf '%s' "$body" | jq -c . 2>/dev/null || printf 'null'
        else
            printf '%s' "$body"
        fi
        ;;
    *) printf 'null' ;;
    esac
}

# Why /health says what it says, for the text report ("" without jq).
reasons() {
    command -v jq >/dev/null 2>&1 || return 0
    printf '%s' "$body" | jq -r '[.status // empty] + (.reasons // []) | join("; ")' \
        2>/dev/null || true
}

json_string() {
    printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

report() {
    healthy=$1
    http_code=$code
    [ "$code" = 000 ] && http_code=0 # no answer; JSON numbers have no leading zeros
    case "$output" in
    quiet) ;;
    json)
        printf '{"url":%s,"endpoint":%s,"healthy":%s,"http_code":%s,"attempts":%s,"response":%s}\n' \
            "$(json_string "$url")" "$(json_string "$endpoint")" "$healthy" \
            "$http_code" "$attempt" "$(response_json)"
        ;;
    text)
        detail=$(reasons)
        if [ "$healthy" = true ]; then
            echo "healthy: $target (HTTP $code${detail:+, $detail}) after $attempt attempt(s)"
        elif [ "$code" = 000 ]; then
            echo "$prog: $target did not answer after $attempt attempt(s): ${curl_error:-no response}." \
                "Is the engine running and is the URL right?" >&2
        else
            echo "$prog: $target answered HTTP $code${detail:+ ($detail)} after $attempt" \
                "attempt(s); see the engine log and '$url/health' for the reasons" >&2
        fi
        ;;
    esac
}

main() {
    parse_args "$@"
    if ! command -v curl >/dev/null 2>&1; then
        echo "$prog: curl not found (Debian: apt-get install curl)" >&2
        exit 3
    fi
    target=$url$endpoint
    attempt=0
    while [ "$attempt" -lt "$retries" ]; do
        attempt=$((attempt + 1))
        probe
        if [ "$code" = 200 ]; then
            report true
            exit 0
        fi
        if [ "$attempt" -lt "$retries" ]; then
            [ "$output" = text ] && echo "attempt $attempt/$retries: $target: HTTP $code" >&2
            sleep "$interval"
        fi
    done
    report false
    exit 1
}

main "$@"
