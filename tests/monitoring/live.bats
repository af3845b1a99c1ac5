#!/usr/bin/env bats
# The monitoring kit against the real thing: the built ald-engine running the
# simulated tool, the real prometheus binary with the shipped config and
# rules (adapted to test ports), and, when installed, the real alertmanager
# with the rendered receiver config posting to a local webhook.
#
# Everything listens on 127.0.0.1 on free ports and is stopped afterwards
# (by the pids this file started). Waits are bounded polls, not timings.
# Run: make check TESTS=tests/monitoring/monitoring-live

wait_until() { # wait_until SECONDS command...: poll once a second
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 1
    done
}

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Start a daemon in the background; its pid goes to $LIVE/NAME.pid, its
# output to $LIVE/NAME.log. fd 3 is closed so bats does not wait on it.
start_bg() {
    local name=$1
    shift
    "$@" >"$LIVE/$name.log" 2>&1 3>&- &
    echo $! >"$LIVE/$name.pid"
}

stop_bg() {
    local pidfile=$LIVE/$1.pid
    [ -f "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    wait_until 15 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

show_logs() {
    for f in "$LIVE"/*.log; do
        echo "--- $f (last 40 lines)"
        tail -n 40 "$f"
    done
}

engine_answers() { curl -fsS -o /dev/null "http://127.0.0.1:$ENGINE_PORT/metrics"; }
prom_ready() { curl -fsS -o /dev/null "http://127.0.0.1:$PROM_PORT/-/ready"; }
am_ready() { curl -fsS -o /dev/null "http://127.0.0.1:$AM_PORT/-/ready"; }

# prom_has EXPR: the instant query returns at least one series
prom_has() {
    curl -fsS -G --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query" |
        jq -e '.status == "success" and (.data.result | length > 0)' >/dev/null
}

# alert_state NAME: pending | firing | (empty when not active)
alert_state() {
    curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/alerts" |
        jq -r --arg n "$1" '[.data.alerts[] | select(.labels.alertname == $n) | .state] | first // ""'
}
alert_is_firing() { [ "$(alert_state "$1")" = firing ]; }
alert_is_quiet() { [ -z "$(alert_state "$1")" ]; }

# alert_state_on NAME COLOUR: as alert_state, for the engine of that colour
alert_state_on() {
    curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/alerts" |
        jq -r --arg n "$1" --arg c "$2" '[.data.alerts[] | select(.labels.alertname == $n
            and .labels.colour == $c) | .state] | first // ""'
}
alert_is_firing_on() { [ "$(alert_state_on "$1" "$2")" = firing ]; }

# am_suppressed NAME COLOUR: Alertmanager holds that alert and inhibits it
am_suppressed() {
    curl -fsS -G --data-urlencode "filter=alertname=\"$1\"" --data-urlencode "filter=colour=\"$2\"" \
        "http://127.0.0.1:$AM_PORT/api/v2/alerts" |
        jq -e 'length > 0 and all(.status.state == "suppressed" and (.status.inhibitedBy | length > 0))' \
            >/dev/null
}

# prom_value EXPR: the value of the one series the instant query returns
prom_value() {
    curl -fsS -G --data-urlencode "query=$1" "http://127.0.0.1:$PROM_PORT/api/v1/query" |
        jq -r 'if (.data.result | length) == 1 then .data.result[0].value[1] else "none" end'
}

# The engine's SQLite database (the storage-sqlite instance's default path).
db() { sqlite3 -cmd '.timeout 10000' "$LIVE/data/ald.db" "$@"; }

recipe_seeded() { [ "$(db "SELECT count(*) FROM recipes WHERE id = '$1'")" = 1 ]; }

# enqueue_start_recipe COMMAND_ID RECIPE_ID: what the operators' app does
enqueue_start_recipe() {
    local now
    now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
    db "INSERT INTO recipe_commands (id, type, parameters, status, machine_id, created_at, updated_at)
        VALUES ('$1', 'start_recipe', '{\"recipe_id\":\"$2\"}', 'pending', '$MACHINE_ID', '$now', '$now')"
}

# leaf_runs RECIPE_ID [TYPE]: how many times steps (of TYPE) run in one run of
# the recipe: each leaf step times the iteration counts of its loops.
leaf_runs() {
    local type_filter="r.type <> 'loop'"
    [ -z "${2:-}" ] || type_filter="r.type = '$2'"
    db "WITH RECURSIVE s(id, mult) AS (
            SELECT id, 1 FROM recipe_steps WHERE recipe_id = '$1' AND parent_step_id IS NULL
            UNION ALL
            SELECT c.id, s.mult * COALESCE((SELECT iteration_count FROM loop_step_config
                                            WHERE step_id = s.id), 1)
            FROM recipe_steps c JOIN s ON c.parent_step_id = s.id)
        SELECT COALESCE(SUM(s.mult), 0) FROM s JOIN recipe_steps r ON r.id = s.id
        WHERE $type_filter"
}

write_engine_conf() {
    local dir=$LIVE/conf.d
    mkdir -p "$dir"
    cp "$SRC/conf.d/engine.conf" "$SRC/conf.d/storage-sqlite.conf" "$dir/"
    cat >"$dir/plc-sim.conf" <<EOF
# test copy of conf.d/plc-sim.conf with the disconnect switch set
plugins = (
    {
        name = "sim";
        plugin = "plc-sim";
        role = "plc";
        plc_type = "simulation";
        settings = { seed = 42; disconnect_file = "$LIVE/plc.disconnect"; };
    }
);
EOF
}

# The shipped prometheus.yml and alert_rules.yml, adapted: test ports, a 1 s
# scrape/evaluation, and every alert's `for` cut to 2 s so a test sees the
# pending -> firing transition without waiting the production delays. The
# "green" target is the store-and-forward engine, started by its own test
# (down, as an idle colour is, until then).
write_prometheus_conf() {
    local dir=$LIVE/prom
    mkdir -p "$dir"
    /usr/bin/python3 - "$SRC/monitoring" "$dir" "$ENGINE_PORT" "$PROM_PORT" "${AM_PORT:-}" \
        "$OUTBOX_PORT" <<'EOF'
import sys, yaml
src, out, engine_port, prom_port, am_port, outbox_port = sys.argv[1:7]
cfg = yaml.safe_load(open(src + "/prometheus.yml"))
rules = yaml.safe_load(open(src + "/alert_rules.yml"))
for group in rules["groups"]:
    for rule in group["rules"]:
        if "for" in rule:
            rule["for"] = "2s"
yaml.safe_dump(rules, open(out + "/alert_rules.yml", "w"), sort_keys=False)
cfg["global"]["scrape_interval"] = "1s"
cfg["global"]["evaluation_interval"] = "1s"
jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
engine = jobs["ald-control"]
engine["scrape_interval"], engine["scrape_timeout"] = "1s", "1s"
engine["static_configs"] = [
    {"targets": ["127.0.0.1:" + engine_port], "labels": {"colour": "blue"}},
    {"targets": ["127.0.0.1:" + outbox_port], "labels": {"colour": "green"}},
]
jobs["prometheus"]["static_configs"] = [{"targets": ["127.0.0.1:" + prom_port]}]
cfg["scrape_configs"] = [engine, jobs["prometheus"]]
if am_port:
    cfg["alerting"]["alertmanagers"][0]["static_configs"] = [{"targets": ["127.0.0.1:" + am_port]}]
else:
    del cfg["alerting"]
yaml.safe_dump(cfg, open(out + "/prometheus.yml", "w"), sort_keys=False)
EOF
}

# A webhook receiver that appends every POST body to $LIVE/webhook.jsonl.
start_webhook() {
    start_bg webhook /usr/bin/python3 -c '
import http.server, sys
out = sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Hook).serve_forever()
' "$HOOK_PORT" "$LIVE/webhook.jsonl"
}

start_alertmanager() {
    # The receiver comes from the environment, rendered as documented.
    ALERT_WEBHOOK_URL="http://127.0.0.1:$HOOK_PORT/alerts" \
        "$SRC/monitoring/render-alertmanager.sh" -o "$LIVE/alertmanager.yml" >/dev/null
    start_bg alertmanager "$ALERTMANAGER" --config.file="$LIVE/alertmanager.yml" \
        --storage.path="$LIVE/am-data" --web.listen-address="127.0.0.1:$AM_PORT" \
        --cluster.listen-address= --log.level=warn
}

setup_file() {
    export SRC=${ALD_TOP_SRCDIR:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
    local build=${ALD_TOP_BUILDDIR:-$SRC}
    export ENGINE=$build/ald-engine
    if ! "$ENGINE" --version >/dev/null 2>&1; then
        skip "$ENGINE --version does not run: the engine is not built (yet)"
    fi
    command -v prometheus >/dev/null || skip "prometheus not found (apt-get install prometheus)"
    command -v curl >/dev/null || skip "curl not found"

    export LIVE=$BATS_FILE_TMPDIR
    # the demo machine seeded into the SQLite store (conf.d/engine.conf)
    export MACHINE_ID=e3e6e280-0000-4000-8000-000000000001
    export ENGINE_PORT PROM_PORT AM_PORT= HOOK_PORT= OUTBOX_PORT
    ENGINE_PORT=$(free_port)
    PROM_PORT=$(free_port)
    OUTBOX_PORT=$(free_port)
    # Debian installs it as prometheus-alertmanager, upstream as alertmanager.
    export ALERTMANAGER
    ALERTMANAGER=$(command -v alertmanager || command -v prometheus-alertmanager || true)
    if [ -n "$ALERTMANAGER" ]; then
        AM_PORT=$(free_port)
        HOOK_PORT=$(free_port)
        start_webhook
        start_alertmanager
    fi

    write_engine_conf
    mkdir -p "$LIVE/data"
    ALD_DATA_DIR=$LIVE/data LOG_LEVEL=info start_bg engine \
        "$ENGINE" --config "$LIVE/conf.d" --http-port "$ENGINE_PORT"

    write_prometheus_conf
    start_bg prometheus prometheus --config.file="$LIVE/prom/prometheus.yml" \
        --storage.tsdb.path="$LIVE/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT" \
        --log.level=warn
}

teardown_file() {
    [ -n "${LIVE:-}" ] || return 0
    stop_bg prometheus
    stop_bg engine
    stop_bg engine-outbox
    stop_bg engine-real
    stop_bg plcsim
    stop_bg alertmanager
    stop_bg webhook
}

teardown() {
    # On failure, bats prints this output: the daemons' own words.
    [ -n "${BATS_TEST_COMPLETED:-}" ] || show_logs
    # the store-and-forward engine is the green target: never leave it up
    # for the tests after its own (AldEngineDown needs every colour down)
    stop_bg engine-outbox
    return 0
}

@test "the engine serves /metrics on its --http-port" {
    wait_until 60 engine_answers || { show_logs; false; }
}

@test "a live scrape exports every ald_* metric the rules and dashboards use" {
    wait_until 60 engine_answers
    # Families appear when their subsystem starts; give the logger a cycle.
    wait_until 30 bash -c "curl -fsS http://127.0.0.1:$ENGINE_PORT/metrics | grep '^ald_logger_cycles_total' >/dev/null"
    curl -fsS "http://127.0.0.1:$ENGINE_PORT/metrics" >"$LIVE/scrape.txt"
    run /usr/bin/python3 "$BATS_TEST_DIRNAME/metric_names.py" check-scrape "$LIVE/scrape.txt" \
        --optional "$SRC/docs/metrics.md" "$SRC/monitoring/alert_rules.yml" "$SRC"/monitoring/grafana/dashboards/*.json
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "prometheus with the shipped config and rules loads them and scrapes the engine" {
    promtool check config "$LIVE/prom/prometheus.yml"
    wait_until 60 prom_ready
    wait_until 60 prom_has 'up{job="ald-control",colour="blue"} == 1'
    run curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/rules"
    # every alert of the shipped file is loaded
    want=$(/usr/bin/python3 -c 'import sys, yaml; print(sum(1 for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"] if "alert" in r))' "$SRC/monitoring/alert_rules.yml")
    got=$(echo "$output" | jq '[.data.groups[].rules[] | select(.type == "alerting")] | length')
    [ "$got" -eq "$want" ]
}

@test "with the simulated PLC connected, ald_plc_connected is 1 and AldPlcConnectionLost is quiet" {
    wait_until 60 prom_has 'ald_plc_connected{job="ald-control"} == 1'
    [ -z "$(alert_state AldPlcConnectionLost)" ]
    # The green target (down until the store-and-forward test) may be
    # scraped before blue's first scrape: AldEngineDown can be pending for an
    # evaluation then, and must go quiet once blue is seen up.
    wait_until 30 alert_is_quiet AldEngineDown
    [ -z "$(alert_state AldMetricsMissing)" ]
}

# The recipe tests drive the engine the way the operators' app does: a
# start_recipe row in recipe_commands of the engine's SQLite database.
@test "a start_recipe command runs \"Al2O3 quick\" to completion, as Prometheus sees it" {
    command -v sqlite3 >/dev/null || skip "sqlite3 not found (apt-get install sqlite3)"
    local recipe=b0000000-0000-4000-8000-000000000002
    wait_until 60 prom_has 'ald_recipe_running{job="ald-control"} == 0'
    # Expected counts come from the seeded recipe itself, not from here.
    wait_until 30 recipe_seeded "$recipe"
    local pulses steps
    pulses=$(leaf_runs "$recipe" valve)
    steps=$(leaf_runs "$recipe")
    echo "recipe $recipe: $pulses valve pulses, $steps steps per run"
    [ "$pulses" -gt 0 ]
    [ "$steps" -gt "$pulses" ]

    enqueue_start_recipe c0ffee00-0000-4000-8000-000000000001 "$recipe"
    wait_until 90 prom_has 'ald_processes_completed_total{job="ald-control"} == 1'
    wait_until 30 prom_has "ald_valve_pulse_error_seconds_count{job=\"ald-control\"} == $pulses"
    wait_until 30 prom_has "ald_recipe_steps_total{job=\"ald-control\"} == $steps"
    [ "$(prom_value 'ald_processes_started_total{job="ald-control"}')" = 1 ]
    [ "$(prom_value 'ald_processes_failed_total{job="ald-control"}')" = 0 ]
    [ "$(prom_value 'ald_processes_aborted_total{job="ald-control"}')" = 0 ]
    [ "$(prom_value 'ald_commands_claimed_total{job="ald-control"}')" = 1 ]
    [ "$(prom_value 'ald_commands_failed_total{job="ald-control"}')" = 0 ]
    # +Inf bucket = count: the histogram is whole
    [ "$(prom_value 'ald_valve_pulse_error_seconds_bucket{job="ald-control",le="+Inf"}')" = "$pulses" ]
    # idle again: the run gauges are back to 0
    wait_until 30 prom_has 'ald_recipe_running{job="ald-control"} == 0 and on () ald_recipe_expected_duration_seconds{job="ald-control"} == 0'
    [ "$(db "SELECT status FROM recipe_commands WHERE id = 'c0ffee00-0000-4000-8000-000000000001'")" = completed ]
    for a in AldRecipeFailed AldRecipeOverrun AldCommandsFailing AldCommandStuck AldCommandQueueBacklog; do
        [ -z "$(alert_state "$a")" ] || { echo "$a is $(alert_state "$a")"; false; }
    done
}

@test "every dashboard query is valid PromQL, and the recipe panels have data after the run" {
    # Grafana's variables as Grafana would fill them for "All" and a 1 h range
    jq -r '[.panels[] | .targets[]?.expr | select(. != null)] | .[]' \
        "$SRC"/monitoring/grafana/dashboards/*.json |
        sed -e 's/\$instance/.*/g' -e 's/\$__range/1h/g' >"$LIVE/dashboard-queries.txt"
    [ "$(wc -l <"$LIVE/dashboard-queries.txt")" -gt 40 ]
    local bad=0
    while IFS= read -r q; do
        curl -sS -G --data-urlencode "query=$q" "http://127.0.0.1:$PROM_PORT/api/v1/query" |
            jq -e '.status == "success"' >/dev/null || { echo "rejected: $q"; bad=1; }
    done <"$LIVE/dashboard-queries.txt"
    [ "$bad" -eq 0 ]
    command -v sqlite3 >/dev/null || skip "no recipe ran: sqlite3 not found (apt-get install sqlite3)"
    # the System Overview outcome panel and the Performance pulse panel show the run
    prom_has 'sum(increase(ald_processes_completed_total{instance=~".*"}[1h])) > 0'
    prom_has 'histogram_quantile(0.5, sum by (instance, le) (rate(ald_valve_pulse_error_seconds_bucket{instance=~".*"}[10m])))'
}

@test "a recipe running when the PLC drops fails and fires AldRecipeFailed" {
    command -v sqlite3 >/dev/null || skip "sqlite3 not found (apt-get install sqlite3)"
    # "Al2O3 demo" runs for minutes: long enough to be caught running.
    enqueue_start_recipe c0ffee00-0000-4000-8000-000000000002 b0000000-0000-4000-8000-000000000001
    wait_until 60 prom_has 'ald_recipe_running{job="ald-control"} == 1'
    prom_has 'ald_recipe_expected_duration_seconds{job="ald-control"} > 60'
    [ -z "$(alert_state AldRecipeOverrun)" ]
    touch "$LIVE/plc.disconnect"
    wait_until 60 prom_has 'ald_processes_failed_total{job="ald-control"} == 1'
    wait_until 60 alert_is_firing AldRecipeFailed
    curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/alerts" >"$LIVE/alerts-recipe.json"
    jq -e '[.data.alerts[] | select(.labels.alertname == "AldRecipeFailed")][0]
        | .labels.severity == "critical" and .labels.component == "recipe"
          and .labels.colour == "blue"
          and .annotations.runbook_url == "docs/monitoring.md#aldrecipefailed"' \
        "$LIVE/alerts-recipe.json"
    prom_has 'ald_recipe_running{job="ald-control"} == 0'
    [ "$(prom_value 'ald_processes_completed_total{job="ald-control"}')" = 1 ]
}

@test "dropping the simulated PLC connection fires AldPlcConnectionLost" {
    touch "$LIVE/plc.disconnect"
    wait_until 60 prom_has 'ald_plc_connected{job="ald-control"} == 0'
    wait_until 60 alert_is_firing AldPlcConnectionLost
    curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/alerts" >"$LIVE/alerts.json"
    jq -e '[.data.alerts[] | select(.labels.alertname == "AldPlcConnectionLost")][0]
        | .labels.severity == "critical" and .labels.component == "plc"
          and .labels.job == "ald-control" and .labels.colour == "blue"
          and .annotations.runbook_url == "docs/monitoring.md#aldplcconnectionlost"' \
        "$LIVE/alerts.json"
}

@test "alertmanager delivers AldPlcConnectionLost to the receiver from ALERT_WEBHOOK_URL" {
    [ -n "$AM_PORT" ] || skip "alertmanager not found (apt-get install prometheus-alertmanager)"
    wait_until 60 am_ready
    # critical alerts: group_wait 10 s in the shipped route
    wait_until 90 grep -q AldPlcConnectionLost "$LIVE/webhook.jsonl"
    grep AldPlcConnectionLost "$LIVE/webhook.jsonl" | head -n 1 >"$LIVE/notification.json"
    jq -e '.receiver == "ald-ops" and .status == "firing"
        and ([.alerts[] | select(.labels.alertname == "AldPlcConnectionLost")] | length == 1)' \
        "$LIVE/notification.json"
}

@test "restoring the simulated PLC clears AldPlcConnectionLost" {
    rm -f "$LIVE/plc.disconnect"
    wait_until 90 prom_has 'ald_plc_connected{job="ald-control"} == 1'
    wait_until 30 bash -c '[ -z "$(curl -fsS http://127.0.0.1:'"$PROM_PORT"'/api/v1/alerts | jq -r ".data.alerts[] | select(.labels.alertname == \"AldPlcConnectionLost\") | .state")" ]'
}

# Store-and-forward: a second engine configured as a site with Supabase is
# (SUPABASE_URL set, so SQLite becomes the fallback with the outbox), but
# its Supabase URL is a port nothing listens on. Prometheus scrapes it as
# the green colour.
@test "with Supabase unreachable, the outbox fills and its alerts fire for that engine only" {
    local dead
    dead=$(free_port)
    mkdir -p "$LIVE/conf-outbox" "$LIVE/data-outbox"
    cp "$SRC/conf.d/engine.conf" "$SRC/conf.d/plc-sim.conf" "$SRC/conf.d/storage-sqlite.conf" \
        "$SRC/conf.d/storage-supabase.conf" "$LIVE/conf-outbox/"
    SUPABASE_URL=http://127.0.0.1:$dead SUPABASE_KEY=live-test-key ALD_DATA_DIR=$LIVE/data-outbox \
        start_bg engine-outbox "$ENGINE" --config "$LIVE/conf-outbox" --http-port "$OUTBOX_PORT"
    wait_until 60 prom_has 'up{job="ald-control",colour="green"} == 1'
    wait_until 60 prom_has 'ald_primary_store_down{job="ald-control",colour="green"} == 1'
    wait_until 60 prom_has 'ald_outbox_depth{job="ald-control",colour="green"} >= 3'
    wait_until 60 alert_is_firing_on AldPrimaryStoreDown green
    wait_until 120 alert_is_firing_on AldOutboxGrowing green
    wait_until 120 alert_is_firing_on AldOutboxReplayFailing green
    curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/alerts" >"$LIVE/alerts-outbox.json"
    jq -e '[.data.alerts[] | select(.labels.alertname == "AldPrimaryStoreDown")] | length == 1 and (.[0]
        | .labels.severity == "warning" and .labels.component == "storage"
          and .annotations.runbook_url == "docs/monitoring.md#aldprimarystoredown")' \
        "$LIVE/alerts-outbox.json"
    jq -e '[.data.alerts[] | select(.labels.alertname == "AldOutboxGrowing")] | length == 1 and (.[0]
        | .labels.severity == "warning" and .labels.component == "outbox")' "$LIVE/alerts-outbox.json"
    # nothing was replayed; everything stored is still waiting, none of it an hour old
    [ "$(prom_value 'ald_outbox_replayed_total{job="ald-control",colour="green"}')" = 0 ]
    prom_has 'ald_outbox_stored_total{job="ald-control",colour="green"} >= 3'
    prom_has 'ald_outbox_oldest_age_seconds{job="ald-control",colour="green"} > 0'
    [ -z "$(alert_state AldOutboxStale)" ]
    # blue has no fallback store: its outbox families read 0 and stay quiet
    [ "$(prom_value 'ald_primary_store_down{job="ald-control",colour="blue"}')" = 0 ]
    [ "$(prom_value 'ald_outbox_depth{job="ald-control",colour="blue"}')" = 0 ]
    [ "$(prom_value 'ald_outbox_stored_total{job="ald-control",colour="blue"}')" = 0 ]
    for a in AldPrimaryStoreDown AldOutboxGrowing AldOutboxReplayFailing; do
        [ -z "$(alert_state_on "$a" blue)" ] || { echo "$a is active for blue"; false; }
    done
    # the generic database warning fires in Prometheus, and Alertmanager
    # inhibits it under AldPrimaryStoreDown (the shipped inhibit rule)
    wait_until 60 alert_is_firing_on AldDatabaseDisconnected green
    if [ -n "$AM_PORT" ]; then
        wait_until 60 am_suppressed AldDatabaseDisconnected green
    fi
    stop_bg engine-outbox
    wait_until 60 prom_has 'up{job="ald-control",colour="green"} == 0'
}

@test "stopping the engine fires AldEngineDown (and no metric-absent alert)" {
    stop_bg engine
    wait_until 60 alert_is_firing AldEngineDown
    [ -z "$(alert_state AldMetricsMissing)" ]
    curl -fsS "http://127.0.0.1:$PROM_PORT/api/v1/alerts" |
        jq -e '[.data.alerts[] | select(.labels.alertname == "AldEngineDown")][0]
            | .labels.severity == "critical" and .labels.job == "ald-control"'
}

# The Modbus families (ald_plc_requests_total, ...) exist only with
# PLC_TYPE=real: run a second engine that way against ald-plcsim, the same
# simulated tool served over Modbus TCP, configured the way operators do.
@test "with PLC_TYPE=real against ald-plcsim, every metric the kit uses is exported" {
    grep -q 'plc_type *= *"real"' "$SRC/conf.d/plc-modbus.conf" ||
        skip "conf.d/plc-modbus.conf declares no plc_type \"real\" instance yet"
    local plcsim
    plcsim=$(dirname "$ENGINE")/ald-plcsim
    [ -x "$plcsim" ] || skip "$plcsim is not built"
    local mb_port e2_port
    mb_port=$(free_port)
    e2_port=$(free_port)
    start_bg plcsim "$plcsim" --port "$mb_port" --seed 1
    wait_until 30 grep -q 'listening on' "$LIVE/plcsim.log"

    mkdir -p "$LIVE/conf-real" "$LIVE/data-real"
    cp "$SRC/conf.d/engine.conf" "$SRC/conf.d/storage-sqlite.conf" "$SRC/conf.d/plc-modbus.conf" \
        "$LIVE/conf-real/"
    PLC_TYPE=real PLC_HOST=127.0.0.1 PLC_PORT=$mb_port ALD_DATA_DIR=$LIVE/data-real \
        start_bg engine-real "$ENGINE" --config "$LIVE/conf-real" --http-port "$e2_port"

    local url=http://127.0.0.1:$e2_port/metrics
    wait_until 60 bash -c "curl -fsS $url | grep -E '^ald_plc_connected(\\{[^}]*\\})? 1\$' >/dev/null"
    wait_until 30 bash -c "curl -fsS $url | grep -E '^ald_plc_requests_total\\{[^}]*\\} [1-9]' >/dev/null"
    curl -fsS "$url" >"$LIVE/scrape-real.txt"
    run /usr/bin/python3 "$BATS_TEST_DIRNAME/metric_names.py" check-scrape "$LIVE/scrape-real.txt" \
        "$SRC/monitoring/alert_rules.yml" "$SRC"/monitoring/grafana/dashboards/*.json
    echo "$output"
    [ "$status" -eq 0 ]
    stop_bg engine-real
    stop_bg plcsim
}
