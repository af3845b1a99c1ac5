#!/usr/bin/env bats
# Static checks of the monitoring kit (monitoring/): configs parse, alert rules
# pass their unit tests, every alert is documented and tested both ways,
# dashboards are valid, and every metric they use is one the engine exports.
# Run: make check TESTS=tests/monitoring/monitoring-static  (or bats tests/monitoring/static.bats)

bats_require_minimum_version 1.5.0 # run !

setup() {
    SRC=${ALD_TOP_SRCDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    MON=$SRC/monitoring
    PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
    PY=/usr/bin/python3 # Debian's, which has python3-yaml
    TMP=$BATS_TEST_TMPDIR
    DASHBOARDS=("$MON"/grafana/dashboards/*.json)
}

need_promtool() {
    [ -n "$PROMTOOL" ] || skip "promtool not found (apt-get install prometheus)"
}

# --- Prometheus -------------------------------------------------------------

@test "promtool check config accepts monitoring/prometheus.yml" {
    need_promtool
    run "$PROMTOOL" check config "$MON/prometheus.yml"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"1 rule files found"* ]]
}

@test "prometheus.yml scrapes the blue and green engine with a colour label" {
    run "$PY" - "$MON/prometheus.yml" <<'EOF'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
got = {(t, sc["labels"]["colour"]) for sc in jobs["ald-control"]["static_configs"] for t in sc["targets"]}
assert got == {("ald-control-blue:8000", "blue"), ("ald-control-green:8000", "green")}, got
assert jobs["ald-control"].get("metrics_path", "/metrics") == "/metrics"
am = cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
assert am == ["alertmanager:9093"], am
assert set(jobs) == {"ald-control", "prometheus", "alertmanager", "haproxy"}, sorted(jobs)
EOF
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "promtool check rules accepts monitoring/alert_rules.yml" {
    need_promtool
    run "$PROMTOOL" check rules "$MON/alert_rules.yml"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *SUCCESS* ]]
}

@test "promtool test rules: the alert rule unit tests pass" {
    need_promtool
    run "$PROMTOOL" test rules "$MON/tests/alert_rules_test.yml"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "promtool test rules fails when a rule's threshold changes (tests can fail)" {
    need_promtool
    mkdir -p "$TMP/mut/tests"
    sed 's/ald_memory_usage_mb > 800/ald_memory_usage_mb > 900/' "$MON/alert_rules.yml" \
        >"$TMP/mut/alert_rules.yml"
    run ! cmp -s "$MON/alert_rules.yml" "$TMP/mut/alert_rules.yml"
    cp "$MON/tests/alert_rules_test.yml" "$TMP/mut/tests/"
    run "$PROMTOOL" test rules "$TMP/mut/tests/alert_rules_test.yml"
    [ "$status" -ne 0 ]
    [[ "$output" == *AldHighMemoryUsage* ]]
}

@test "every alert has severity, component, summary, description, a runbook heading, and fires and stays quiet in a test" {
    run "$PY" "$BATS_TEST_DIRNAME/rule_coverage.py" "$MON/alert_rules.yml" \
        "$MON/tests/alert_rules_test.yml" "$SRC/docs/monitoring.md"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "the coverage check names an alert without a quiet case or runbook heading" {
    cat >"$TMP/rules.yml" <<'EOF'
groups:
  - name: t
    rules:
      - alert: Covered
        expr: x == 0
        labels: {severity: warning, component: engine}
        annotations: {summary: s, description: d, runbook_url: "docs/runbook.md#covered"}
      - alert: HalfTested
        expr: y == 0
        labels: {severity: page, component: engine}
        annotations: {summary: s, description: d, runbook_url: "docs/runbook.md#nowhere"}
EOF
    cat >"$TMP/test.yml" <<'EOF'
tests:
  - alert_rule_test:
      - {alertname: Covered, eval_time: 1m, exp_alerts: [{exp_labels: {}}]}
      - {alertname: Covered, eval_time: 2m, exp_alerts: []}
      - {alertname: HalfTested, eval_time: 1m, exp_alerts: [{exp_labels: {}}]}
EOF
    printf '# Runbook\n### Covered\n' >"$TMP/runbook.md"
    run "$PY" "$BATS_TEST_DIRNAME/rule_coverage.py" "$TMP/rules.yml" "$TMP/test.yml" "$TMP/runbook.md"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"HalfTested: no promtool test case where it stays quiet"* ]]
    [[ "$output" == *"HalfTested: severity label must be critical or warning"* ]]
    [[ "$output" == *"HalfTested: runbook_url 'docs/runbook.md#nowhere' has no matching heading"* ]]
    [[ "$output" != *"Covered:"* ]]
}

@test "the promised alerts exist with the promised expressions" {
    # What operators were promised (deployment guide): these four, verbatim
    # or (engine down) per colour-set, see docs/monitoring.md.
    run "$PY" - "$MON/alert_rules.yml" <<'EOF'
import sys, yaml
rules = {r["alert"]: r for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]}
assert 'max by (job) (up{job="ald-control"}) == 0' in rules["AldEngineDown"]["expr"]
assert rules["AldPlcConnectionLost"]["expr"] == "ald_plc_connected == 0"
assert rules["AldParameterLoggingDelayCritical"]["expr"] == "ald_parameter_logging_interval > 3.0"
assert rules["AldHighMemoryUsage"]["expr"] == "ald_memory_usage_mb > 800"
for name in ("AldEngineDown", "AldPlcConnectionLost", "AldParameterLoggingDelayCritical", "AldHighMemoryUsage"):
    assert rules[name]["labels"]["severity"] == "critical", name
EOF
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "recipe, command and outbox alerts: the agreed thresholds, and nothing left NOT YET" {
    run "$PY" - "$MON/alert_rules.yml" <<'EOF'
import re, sys, yaml
text = open(sys.argv[1]).read()
rules = {r["alert"]: r for g in yaml.safe_load(text)["groups"] for r in g["rules"]}
def expr(name):
    return " ".join(rules[name]["expr"].split())
assert expr("AldCommandStuck") == "ald_command_processing_seconds > 60"
assert rules["AldCommandStuck"]["for"] == "1m"
assert expr("AldCommandQueueBacklog") == "ald_command_queue_length >= 10"
assert rules["AldCommandQueueBacklog"]["for"] == "2m"
assert "ald_commands_failed_total" in expr("AldCommandsFailing")
assert ("ald_recipe_run_duration_seconds > 1.5 * ald_recipe_expected_duration_seconds + 60"
        " and ald_recipe_running == 1") == expr("AldRecipeOverrun")
assert "increase(ald_processes_failed_total[" in expr("AldRecipeFailed")
e = expr("AldValvePulseErrorHigh")
assert "histogram_quantile(0.99," in e and "ald_valve_pulse_error_seconds_bucket[10m]" in e, e
assert ") > 0.0005" in e and "ald_valve_pulse_error_seconds_count[10m]" in e, e
# store-and-forward, as agreed with the engine (engine/outbox.c)
assert expr("AldPrimaryStoreDown") == "ald_primary_store_down == 1"
assert rules["AldPrimaryStoreDown"]["for"] == "2m"
assert rules["AldPrimaryStoreDown"]["labels"]["severity"] == "warning"
e = expr("AldOutboxGrowing")
assert "deriv(ald_outbox_depth[10m]) > 0" in e and "ald_primary_store_down == 1" in e, e
assert rules["AldOutboxGrowing"]["for"] == "10m"
assert expr("AldOutboxStale") == "ald_outbox_oldest_age_seconds > 3600"
assert rules["AldOutboxStale"]["labels"]["severity"] == "critical"
e = expr("AldOutboxReplayFailing")
assert "increase(ald_outbox_replay_failures_total[" in e and "delta(ald_outbox_depth[" in e, e
# every promised alert is written: no NOT YET marker is left behind
assert "NOT YET" not in text
EOF
    echo "$output"
    [ "$status" -eq 0 ]
}

# --- metric names -----------------------------------------------------------

@test "every ald_* metric in rules and dashboards is listed in docs/metrics.md" {
    [ -f "$SRC/docs/metrics.md" ] || {
        echo "docs/metrics.md is missing: it is the list of exported metrics"
        false
    }
    run "$PY" "$BATS_TEST_DIRNAME/metric_names.py" check-docs "$SRC/docs/metrics.md" \
        "$MON/alert_rules.yml" "${DASHBOARDS[@]}"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "the metric-name check rejects a metric the engine does not export" {
    cat >"$TMP/bad.json" <<'EOF'
{"uid": "x", "title": "x", "panels": [{"id": 1, "type": "stat", "title": "cmds",
 "targets": [{"expr": "sum(rate(ald_commands_processed_total{instance=~\"$instance\"}[5m]))"},
             {"expr": "ald_plc_connected"}]}]}
EOF
    printf '| metric | type |\n|---|---|\n| `ald_plc_connected` | gauge |\n' >"$TMP/metrics.md"
    run "$PY" "$BATS_TEST_DIRNAME/metric_names.py" check-docs "$TMP/metrics.md" "$TMP/bad.json"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"missing from $TMP/metrics.md: ald_commands_processed_total"* ]]
    [[ "$output" != *"ald_plc_connected"* ]]
}

@test "metric names are read from PromQL, not from labels, functions or strings" {
    cat >"$TMP/rules.yml" <<'EOF'
groups:
  - name: t
    rules:
      - alert: T
        expr: >-
          histogram_quantile(0.95, sum by (device, le) (rate(ald_a_seconds_bucket{kind="ald_not_a_metric"}[5m])))
          > 1.5 * on (instance) group_left ald_b and ignoring (job) up{job="x"} offset 5m
EOF
    run "$PY" "$BATS_TEST_DIRNAME/metric_names.py" used "$TMP/rules.yml"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "$(printf 'ald_a_seconds_bucket\nald_b\nup')" ]
}

# --- Grafana ----------------------------------------------------------------

@test "the four promised dashboards are valid JSON with unique uids" {
    [ "${#DASHBOARDS[@]}" -eq 4 ]
    for f in "${DASHBOARDS[@]}"; do
        jq -e . "$f" >/dev/null || { echo "invalid JSON: $f"; false; }
    done
    run jq -r -s 'map(.title) | sort | join(",")' "${DASHBOARDS[@]}"
    [ "$output" = "ALD Alerts,ALD PLC Monitoring,ALD Performance,ALD System Overview" ]
    run jq -r -s 'map(.uid) | (length == (unique | length))' "${DASHBOARDS[@]}"
    [ "$output" = "true" ]
}

@test "dashboards: unique panel ids, Grafana 9/10 schema, every query on the provisioned datasource" {
    ds_uid=$("$PY" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["datasources"][0]["uid"])' \
        "$MON/grafana/provisioning/datasources/prometheus.yml")
    [ "$ds_uid" = "ald-prometheus" ]
    for f in "${DASHBOARDS[@]}"; do
        echo "checking $f"
        jq -e '.schemaVersion >= 36 and .schemaVersion <= 39' "$f" >/dev/null
        jq -e '[.panels[].id] | length == (unique | length)' "$f" >/dev/null
        # every non-row panel and every target names the provisioned datasource
        jq -e --arg uid "$ds_uid" '[.panels[] | select(.type != "row")
            | (.datasource.uid, (.targets[]?.datasource.uid))] | all(. == $uid)' "$f" >/dev/null
        jq -e '[.panels[] | select(.type != "row" and .type != "alertlist") | .targets | length > 0] | all' \
            "$f" >/dev/null
    done
}

@test "System Overview and Performance show recipe runs, commands and valve pulses" {
    used() { "$PY" "$BATS_TEST_DIRNAME/metric_names.py" used "$MON/grafana/dashboards/$1"; }
    overview=$(used system-overview.json)
    for m in ald_recipe_running ald_recipe_run_duration_seconds ald_recipe_expected_duration_seconds \
        ald_processes_started_total ald_processes_completed_total ald_processes_failed_total \
        ald_processes_aborted_total ald_command_queue_length ald_command_processing_seconds \
        ald_commands_received_total ald_commands_claimed_total ald_commands_failed_total; do
        grep -qx "$m" <<<"$overview" || { echo "System Overview does not show $m"; false; }
    done
    perf=$(used performance.json)
    for m in ald_valve_pulse_error_seconds_bucket ald_valve_pulse_error_seconds_count \
        ald_recipe_steps_total; do
        grep -qx "$m" <<<"$perf" || { echo "Performance does not show $m"; false; }
    done
    # the pulse quantile panel marks the alert threshold
    jq -e '[.panels[] | select(.title == "Valve pulse error quantiles")
        | .fieldConfig.defaults.thresholds.steps[] | select(.value == 0.0005)] | length == 1' \
        "$MON/grafana/dashboards/performance.json" >/dev/null
}

@test "System Overview shows the outbox: the six families and the 1 h stale line" {
    f=$MON/grafana/dashboards/system-overview.json
    overview=$("$PY" "$BATS_TEST_DIRNAME/metric_names.py" used "$f")
    for m in ald_primary_store_down ald_outbox_depth ald_outbox_oldest_age_seconds \
        ald_outbox_stored_total ald_outbox_replayed_total ald_outbox_replay_failures_total; do
        grep -qx "$m" <<<"$overview" || { echo "System Overview does not show $m"; false; }
    done
    jq -e '[.panels[] | select(.type == "row") | .title] | index("Store-and-forward (outbox)") != null' \
        "$f" >/dev/null
    # the oldest-age graph draws the AldOutboxStale threshold as a line
    jq -e '[.panels[] | select(.title == "Oldest unsent batch") | .fieldConfig.defaults
        | select(.custom.thresholdsStyle.mode == "line") | .thresholds.steps[]
        | select(.value == 3600)] | length == 1' "$f" >/dev/null
    # no two panels overlap on the grid (the new row went below the others)
    jq -e '[.panels[] | .gridPos] as $g | [range(0; $g | length) as $i | range($i + 1; $g | length) as $j
        | select($g[$i].x < $g[$j].x + $g[$j].w and $g[$j].x < $g[$i].x + $g[$i].w
                 and $g[$i].y < $g[$j].y + $g[$j].h and $g[$j].y < $g[$i].y + $g[$i].h)] | length == 0' \
        "$f" >/dev/null
}

@test "the alerts dashboard has an alert list and ALERTS queries" {
    f=$MON/grafana/dashboards/alerts.json
    jq -e '[.panels[].type] | index("alertlist") != null' "$f" >/dev/null
    jq -e '[.panels[].targets[]?.expr | select(test("ALERTS"))] | length >= 3' "$f" >/dev/null
}

@test "dashboard provisioning loads the folder the dashboards are mounted in" {
    run "$PY" - "$MON/grafana/provisioning/dashboards/dashboards.yml" <<'EOF'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
p = doc["providers"][0]
assert doc["apiVersion"] == 1 and p["type"] == "file", p
assert p["options"]["path"] == "/var/lib/grafana/dashboards", p
EOF
    echo "$output"
    [ "$status" -eq 0 ]
}

# --- Alertmanager -----------------------------------------------------------

@test "alertmanager.yml renders from ALERT_WEBHOOK_URL into a valid, private config" {
    url='https://hooks.example.com/ald?token=s3cr3t&x=1'
    run env ALERT_WEBHOOK_URL="$url" "$MON/render-alertmanager.sh" -o "$TMP/am.yml"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" != *s3cr3t* ]]
    [ "$(stat -c %a "$TMP/am.yml")" = 600 ]
    grep -qF "url: '$url'" "$TMP/am.yml"
    run ! grep -qF '${ALERT_WEBHOOK_URL}' "$TMP/am.yml"
    if command -v amtool >/dev/null; then
        amtool check-config "$TMP/am.yml"
    fi
}

@test "alertmanager.yml renders from ALERT_WEBHOOK_URL_FILE (Docker secret)" {
    echo 'http://receiver.internal:5001/alerts' >"$TMP/url"
    run env -u ALERT_WEBHOOK_URL ALERT_WEBHOOK_URL_FILE="$TMP/url" \
        "$MON/render-alertmanager.sh" -o "$TMP/am.yml"
    echo "$output"
    [ "$status" -eq 0 ]
    grep -qF "url: 'http://receiver.internal:5001/alerts'" "$TMP/am.yml"
}

@test "every alert an Alertmanager inhibit rule names exists in alert_rules.yml" {
    run "$PY" - "$MON/alertmanager.yml" "$MON/alert_rules.yml" <<'EOF'
import re, sys, yaml
am = yaml.safe_load(open(sys.argv[1]))
rules = {r["alert"] for g in yaml.safe_load(open(sys.argv[2]))["groups"] for r in g["rules"]}
named = set()
for rule in am["inhibit_rules"]:
    for m in rule.get("source_matchers", []) + rule.get("target_matchers", []):
        hit = re.fullmatch(r'alertname(=~?)"([^"]*)"', m)
        if hit:
            named.update(hit.group(2).split("|") if hit.group(1) == "=~" else [hit.group(2)])
missing = sorted(named - rules)
assert not missing, "inhibit rules name unknown alerts: %s" % missing
# the store-and-forward pair: the precise alert silences the generic one,
# and the critical outbox alert silences the outage's warnings
pairs = {(s, t) for r in am["inhibit_rules"] for s in r["source_matchers"] for t in r["target_matchers"]}
assert ('alertname="AldPrimaryStoreDown"', 'alertname="AldDatabaseDisconnected"') in pairs, pairs
assert any(s == 'alertname="AldOutboxStale"' and "AldOutboxGrowing" in t and "AldOutboxReplayFailing" in t
           and "AldPrimaryStoreDown" in t for s, t in pairs), pairs
print("%d alert names in inhibit rules, all defined" % len(named))
EOF
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "the unrendered alertmanager.yml is refused by amtool (it must be rendered)" {
    command -v amtool >/dev/null || skip "amtool not found (apt-get install prometheus-alertmanager)"
    run amtool check-config "$MON/alertmanager.yml"
    [ "$status" -ne 0 ]
}

@test "rendering refuses a missing or malformed receiver URL without printing it" {
    run env -u ALERT_WEBHOOK_URL -u ALERT_WEBHOOK_URL_FILE "$MON/render-alertmanager.sh" -o "$TMP/am.yml"
    [ "$status" -ne 0 ]
    [[ "$output" == *"set ALERT_WEBHOOK_URL or ALERT_WEBHOOK_URL_FILE"* ]]
    [ ! -e "$TMP/am.yml" ]

    run env ALERT_WEBHOOK_URL='ftp://user:s3cr3t@host/x' "$MON/render-alertmanager.sh" -o "$TMP/am.yml"
    [ "$status" -ne 0 ]
    [[ "$output" == *"must start with http:// or https://"* ]]
    [[ "$output" != *s3cr3t* ]]

    run env ALERT_WEBHOOK_URL="https://host/s3cr3t'x" "$MON/render-alertmanager.sh" -o "$TMP/am.yml"
    [ "$status" -ne 0 ]
    [[ "$output" != *s3cr3t* ]]
    [ ! -e "$TMP/am.yml" ]
}

@test "render-alertmanager.sh is shellcheck clean" {
    command -v shellcheck >/dev/null || skip "shellcheck not found"
    shellcheck "$MON/render-alertmanager.sh"
}

# --- docs -------------------------------------------------------------------

@test "docs/monitoring.md covers every dashboard and promises no alert still to come" {
    doc=$SRC/docs/monitoring.md
    for title in $(jq -r '.title | gsub(" "; "_")' "${DASHBOARDS[@]}"); do
        grep -qF "${title//_/ }" "$doc" || { echo "no section for dashboard ${title//_/ }"; false; }
    done
    run ! grep -q '^## Alerts that come with later features' "$doc"
    run ! grep -q 'NOT YET' "$MON/alert_rules.yml"
    # the outage timeline names the four outbox alerts
    for a in AldPrimaryStoreDown AldOutboxGrowing AldOutboxStale AldOutboxReplayFailing; do
        sed -n '/^### Store-and-forward: what an outage looks like/,/^### AldPrimaryStoreDown/p' "$doc" |
            grep -q "$a" || { echo "the outage timeline does not name $a"; false; }
    done
}
