#!/bin/sh
# render-alertmanager.sh - render monitoring/alertmanager.yml with the alert
# receiver taken from the environment, because Alertmanager itself does not
# expand environment variables.
#
# Usage: render-alertmanager.sh [-t TEMPLATE] -o OUTPUT
#   ALERT_WEBHOOK_URL       the webhook receiver URL (http:// or https://), or
#   ALERT_WEBHOOK_URL_FILE  a file whose first line is that URL (Docker secret)
#
# The URL is treated as a secret (webhook URLs often embed a token): it is
# never printed, and OUTPUT is written with mode 0600. POSIX sh + awk only, so
# it also runs inside the busybox-based alertmanager image.
set -eu

prog=render-alertmanager.sh
template="$(dirname "$0")/alertmanager.yml"
output=

die() {
    echo "$prog: $*" >&2
    exit 1
}

while getopts t:o:h opt; do
    case "$opt" in
    t) template=$OPTARG ;;
    o) output=$OPTARG ;;
    h) sed -n '2,13p' "$0"; exit 0 ;;
    *) die "usage: $prog [-t TEMPLATE] -o OUTPUT" ;;
    esac
done
[ -n "$output" ] || die "no output file: pass -o OUTPUT (e.g. -o /run/ald/alertmanager.yml)"
[ -r "$template" ] || die "template $template not readable"

url=${ALERT_WEBHOOK_URL:-}
if [ -z "$url" ] && [ -n "${ALERT_WEBHOOK_URL_FILE:-}" ]; then
    [ -r "$ALERT_WEBHOOK_URL_FILE" ] ||
        die "ALERT_WEBHOOK_URL_FILE=$ALERT_WEBHOOK_URL_FILE is not a readable file"
    url=$(head -n 1 "$ALERT_WEBHOOK_URL_FILE" | tr -d '\r')
    [ -n "$url" ] || die "ALERT_WEBHOOK_URL_FILE=$ALERT_WEBHOOK_URL_FILE is empty"
fi
[ -n "$url" ] ||
    die "no alert receiver: set ALERT_WEBHOOK_URL or ALERT_WEBHOOK_URL_FILE (see docs/monitoring.md)"

# Checked here so the message can say what is wrong without showing the URL.
case "$url" in
http://?* | https://?*) ;;
*) die "ALERT_WEBHOOK_URL must start with http:// or https:// (value not shown)" ;;
esac
case "$url" in
*"'"* | *" "* | *"	"*)
    die "ALERT_WEBHOOK_URL must not contain quotes or blanks (value not shown)" ;;
esac

# shellcheck disable=SC2016 # the placeholder is a literal, not an expansion
placeholder='${ALERT_WEBHOOK_URL}'
grep -qF "$placeholder" "$template" ||
    die "template $template has no $placeholder placeholder"

# Plain string replacement (index/substr): no regex or '&' surprises.
tmp="$output.tmp.$$"
umask 077
ALD_RENDER_URL=$url awk '
    BEGIN { ph = "${ALERT_WEBHOOK_URL}"; url = ENVIRON["ALD_RENDER_URL"] }
    {
        line = $0
        out = ""
        while ((i = index(line, ph)) > 0) {
            out = out substr(line, 1, i - 1) url
            line = substr(line, i + length(ph))
        }
        print out line
    }' "$template" >"$tmp" || { rm -f "$tmp"; die "cannot write $tmp"; }

# amtool may echo config lines in its errors: keep its output to ourselves.
if command -v amtool >/dev/null 2>&1; then
    if ! amtool check-config "$tmp" >/dev/null 2>&1; then
        rm -f "$tmp"
        die "rendered config from $template failed 'amtool check-config'; check the template"
    fi
fi
mv -f "$tmp" "$output"
echo "$prog: wrote $output from $template"
