#!/usr/bin/env bats
# Batched outbox replay against real processes: the engine (Supabase primary,
# SQLite outbox) in front of the PostgREST fixture over a real PostgreSQL 15.
# The engine is killed with SIGKILL while a batched replay request is in
# flight (the fixture holds it, then commits it to a client that is gone);
# after a restart every sample the outbox held is in PostgreSQL exactly once.

load helpers

PG=$ALD_TOP_SRCDIR/tests/fixtures/postgrest/pg.sh
MACHINE=e3e6e280-0000-4000-8000-000000000001

setup_file() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/ald-replay-XXXXXX")
    chmod 755 "$WORK" # PostgreSQL runs as postgres
    export WORK
    "$PG" start "$WORK/pg" --seed >"$WORK/pg.log" 2>&1
}

teardown_file() {
    "$PG" stop "$WORK/pg" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}

teardown() {
    stop_engine
}

sql() {
    # shellcheck disable=SC1091
    . "$WORK/pg/env"
    PGOPTIONS='-c client_min_messages=warning' psql "$PSQL_DSN" -X -q -At -v ON_ERROR_STOP=1 -c "$1"
}

fixture() {
    # shellcheck disable=SC1091
    . "$WORK/pg/env"
    curl -s "$FIXTURE_URL/_test/$1"
}

metric() {
    curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

outbox_query() {
    sqlite3 -cmd '.timeout 5000' "$WORK/data/ald.db" "$1"
}

# The engine on the shipped conf.d with the fixture as its Supabase project;
# one engine id, so the restarted engine takes its own lease back at once.
start_cloud_engine() {
    # shellcheck disable=SC1091
    . "$WORK/pg/env"
    PORT=$(free_port)
    ALD_ENGINE_ID=replay-test SUPABASE_URL=$FIXTURE_URL SUPABASE_KEY=test-key \
        ALD_DATA_DIR=$WORK/data "$(engine_bin)" --config "$ALD_TOP_SRCDIR/conf.d" \
        --http-port "$PORT" >>"$WORK/engine.out" 2>>"$WORK/engine.log" 3>&- &
    ENGINE_PID=$!
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
}

# Number of replay POSTs to parameter_value_history the fixture has seen.
replay_posts() {
    fixture requests | /usr/bin/python3 -c 'import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST" and
          r["path"].endswith("/parameter_value_history") and "on_conflict" in r["query"]))'
}

wait_until() { # wait_until SECONDS COMMAND...: poll every 0.2 s
    local secs=$1
    shift
    for _ in $(seq $((secs * 5))); do
        "$@" && return 0
        sleep 0.2
    done
    echo "gave up waiting for: $*" >&2
    return 1
}

history_has_rows() { [ "$(sql "SELECT count(*) > 0 FROM parameter_value_history")" = t ]; }
primary_down() { [ "$(metric ald_primary_store_down)" = 1 ]; }
drained() { [ "$(metric ald_outbox_depth)" = 0 ] && [ "$(metric ald_primary_store_down)" = 0 ]; }
replay_in_flight() { [ "$(replay_posts)" -gt "$1" ]; }

@test "kill -9 mid-drain: every sample the outbox held reaches PostgreSQL exactly once" {
    start_cloud_engine
    wait_until 60 history_has_rows
    # the outage: every API request answers 503, so samples go to the outbox
    fixture "fail?status=503" >/dev/null
    wait_until 60 primary_down
    sleep 12
    local held; held=$(outbox_query "SELECT count(*) FROM outbox WHERE kind = 'samples';")
    [ "$held" -ge 8 ]
    # the database comes back slow: the next requests wait 4 s, then commit
    local before; before=$(replay_posts)
    fixture "delay?ms=4000" >/dev/null
    fixture "fail?status=503&count=0" >/dev/null
    wait_until 90 replay_in_flight "$before"
    kill -KILL "$ENGINE_PID"
    wait "$ENGINE_PID" || true
    ENGINE_PID=
    # what the outbox held when the engine died, by cycle timestamp (ms)
    outbox_query "SELECT json_extract(CAST(payload AS TEXT), '\$.t') FROM outbox WHERE kind = 'samples' ORDER BY seq;" >"$WORK/held.txt"
    local at_kill; at_kill=$(wc -l <"$WORK/held.txt")
    sleep 5 # the held request reaches PostgreSQL after its client is gone
    fixture reset >/dev/null
    start_cloud_engine
    grep -q "record(s) from an earlier outage wait to be replayed" "$WORK/engine.log"
    wait_until 120 drained
    stop_engine
    local tags dup partial landed
    tags=$(sql "SELECT count(*) FROM component_parameters_full WHERE machine_id = '$MACHINE' AND read_modbus_address IS NOT NULL")
    dup=$(sql "SELECT count(*) - count(DISTINCT (parameter_id, timestamp)) FROM parameter_value_history")
    partial=$(sql "SELECT count(*) FROM (SELECT timestamp FROM parameter_value_history GROUP BY timestamp HAVING count(*) <> $tags) t")
    landed=$(sql "SELECT count(DISTINCT timestamp) FROM parameter_value_history WHERE (extract(epoch FROM timestamp) * 1000)::bigint IN ($(paste -sd, "$WORK/held.txt"))")
    echo "held_at_outage=$held held_at_kill=$at_kill landed=$landed duplicates=$dup partial=$partial"
    [ "$at_kill" -ge 8 ] # killed mid-drain: the outbox still held the backlog
    [ "$dup" -eq 0 ]
    [ "$partial" -eq 0 ]
    [ "$landed" -eq "$at_kill" ] # no loss
}
