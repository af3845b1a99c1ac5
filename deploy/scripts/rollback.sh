#!/bin/sh
# rollback.sh - go back to an earlier ald-engine version (blue-green switch).
#
# Usage: rollback.sh [--environment E] [--method last|version|manual]
#                    [--version V] [--yes] [--dry-run]
#
#   --environment E   default production (deploy/E.env, deploy/.state/E.state)
#   --method last     (default) the version that was live before the last
#                     deploy: PREVIOUS_TAG of the state file
#   --method version  the version given with --version V
#   --method manual   list the versions deployed so far (the history file),
#                     ask which one (read from standard input)
#   --yes             do not ask for confirmation (needed when standard input
#                     is not a terminal, e.g. in CI or an emergency script)
#   --dry-run         print the plan and change nothing
#
# The rollback is an ordinary blue-green deploy of the chosen version to the
# idle colour (deploy.sh): the colour stopped by the last deploy is started
# with its old version as a standby, must get ready (PLC connected, database
# reachable), takes the machine's lease when the faulty colour is stopped, and
# HAProxy follows the lease. The environment variables of deploy.sh apply.
# Exit codes: those of deploy.sh; 2 usage error, 5 no version to go back to,
# 6 not confirmed.
set -u

prog=rollback.sh
script_dir=$(cd "$(dirname "$0")" && pwd)
deploy_dir=$(dirname "$script_dir")
state_dir=${ALD_STATE_DIR:-$deploy_dir/.state}

environment=production
method=last
version=
yes=0
dry_run=0

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

parse_args() {
    while [ $# -gt 0 ]; do
        case "$1" in
        --environment | -e) [ -n "${2:-}" ] || usage_error "$1 needs a value"; environment=$2; shift ;;
        --method | -m) [ -n "${2:-}" ] || usage_error "$1 needs a value"; method=$2; shift ;;
        --version | -v) [ -n "${2:-}" ] || usage_error "$1 needs a value"; version=$2; shift ;;
        --yes | -y) yes=1 ;;
        --dry-run | -n) dry_run=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage_error "unknown option '$1'" ;;
        esac
        shift
    done
    case "$environment" in
    '' | *[!A-Za-z0-9_-]*) usage_error "--environment '$environment': use letters, digits, - and _" ;;
    esac
    case "$method" in
    last | manual) [ -z "$version" ] || usage_error "--version goes with --method version" ;;
    version) [ -n "$version" ] || usage_error "--method version needs --version V" ;;
    *) usage_error "--method '$method': use last, version or manual" ;;
    esac
    state_file=$state_dir/$environment.state
    history_file=$state_dir/$environment.history
}

state_get() {
    [ -r "$state_file" ] || return 0
    sed -n "s/^$1=//p" "$state_file" | tail -n 1
}

# Versions deployed so far, most recent first, each once, from the history
# lines "TIME STRATEGY COLOUR TAG (was COLOUR OLD_TAG) [NOTE]".
known_versions() {
    [ -r "$history_file" ] || return 0
    awk '{ if ($7 != "") { sub(/\)$/, "", $7); print $7 }; print $4 }' "$history_file" |
        awk 'NF { v[NR] = $0 } END { for (i = NR; i >= 1; i--) if (!seen[v[i]]++) print v[i] }'
}

choose_version() {
    case "$method" in
    last)
        version=$(state_get PREVIOUS_TAG)
        [ -n "$version" ] || die 5 "no previous version recorded in $state_file (no deploy made" \
            "with deploy.sh yet?): use --method version --version V"
        ;;
    manual)
        list=$(known_versions)
        [ -n "$list" ] || die 5 "no deploy history in $history_file: use --method version --version V"
        echo "Versions deployed to $environment (live: $(state_get ACTIVE_TAG)):"
        echo "$list" | awk '{ printf "  %d) %s\n", NR, $0 }'
        printf 'Roll back to which one [1-%s]? ' "$(echo "$list" | wc -l | tr -d ' ')"
        read -r pick || die 6 "no answer on standard input"
        version=$(echo "$list" | sed -n "${pick}p" 2>/dev/null)
        case "$pick" in '' | *[!0-9]*) version= ;; esac
        [ -n "$version" ] || die 2 "'$pick' is not one of the listed numbers"
        ;;
    esac
}

confirm() {
    if [ "$yes" = 1 ] || [ "$dry_run" = 1 ]; then
        return 0
    fi
    printf 'Roll %s back from %s to %s? [y/N] ' "$environment" "$(state_get ACTIVE_TAG)" "$version"
    read -r answer || die 6 "no answer on standard input: pass --yes to roll back without asking"
    case "$answer" in
    y | Y | yes | YES) ;;
    *) die 6 "not confirmed; nothing was changed" ;;
    esac
}

main() {
    parse_args "$@"
    choose_version
    confirm
    echo "$prog: rolling $environment back to $version"
    if [ "$dry_run" = 1 ]; then
        exec "$script_dir/deploy.sh" --environment "$environment" --strategy blue-green \
            --tag "$version" --note "rollback ($method)" --dry-run
    fi
    exec "$script_dir/deploy.sh" --environment "$environment" --strategy blue-green \
        --tag "$version" --note "rollback ($method)"
}

main "$@"
