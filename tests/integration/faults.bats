#!/usr/bin/env bats
# Crash safety of the embedded store, asserted as counts (docs/reliability.md):
#   kill -9 while logging   integrity ok, every stored cycle complete, no
#                           duplicates, loss at most the batches not yet
#                           committed; a restart on the same file goes on
#   disk full (tmpfs)       the engine stays up, one WARNING per episode and
#                           one INFO when it clears, committed samples intact
#   corrupt store file      moved aside (named in one ERROR), fresh store,
#                           logging goes on
#   fallback store          corrupt: moved aside the same way, open; cannot
#                           open: one ERROR, /health and /health/ready 503
#                           naming it, retried, healthy once it opens
# (PostgreSQL stopped during a run: tests/integration/supabase.bats.)

load helpers

TAGS=16 # readable parameters of the demo tool: rows per logged cycle

setup() {
    export STATUS_LOG_INTERVAL=0
}

teardown() {
    stop_engine
    if [ -n "${FULL_MOUNT:-}" ]; then
        umount "$FULL_MOUNT" 2>/dev/null || true
    fi
}

metric() {
    curl -s "http://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

db_query() {
    sqlite3 -cmd '.timeout 5000' "$DB" "$1"
}

# Poll until `db_query $1` prints a number >= $2; at most $3 seconds.
wait_rows() {
    local got
    for _ in $(seq $((${3:-20} * 5))); do
        got=$(db_query "$1" 2>/dev/null || echo 0)
        [ "${got:-0}" -ge "$2" ] && return 0
        sleep 0.2
    done
    echo "'$1' gave '$got', wanted >= $2" >&2
    return 1
}

# Integrity, no duplicate (parameter, timestamp), every stored cycle whole.
assert_store_consistent() {
    local check dup partial
    check=$(db_query "PRAGMA integrity_check;")
    dup=$(db_query "SELECT count(*) - count(DISTINCT parameter_id || '@' || timestamp) FROM parameter_value_history;")
    partial=$(db_query "SELECT count(*) FROM (SELECT timestamp FROM parameter_value_history GROUP BY timestamp HAVING count(*) <> $TAGS);")
    echo "integrity=$check duplicates=$dup partial_cycles=$partial"
    [ "$check" = ok ]
    [ "$dup" -eq 0 ]
    [ "$partial" -eq 0 ]
}

stored_cycles() {
    db_query "SELECT count(DISTINCT timestamp) FROM parameter_value_history;"
}

@test "kill -9 while logging: store intact, loss at most the uncommitted batches, restart goes on" {
    start_engine
    DB=$ALD_DATA_DIR/ald.db
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
    wait_rows "SELECT count(DISTINCT timestamp) FROM parameter_value_history;" 5 30
    local cycles queued
    cycles=$(metric ald_logger_cycles_total)
    queued=$(metric ald_writer_queue_depth)
    kill -KILL "$ENGINE_PID"
    wait "$ENGINE_PID" || true
    ENGINE_PID=
    local stored; stored=$(stored_cycles)
    echo "cycles=$cycles queued=$queued stored=$stored"
    assert_store_consistent
    # committed cycles are all there: lost are at most the queued batches and
    # the one in the writer's hand; and nothing appears that was not logged
    [ "$stored" -ge $((cycles - queued - 1)) ]
    [ "$stored" -le $((cycles + 1)) ]

    start_engine
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
    wait_rows "SELECT count(DISTINCT timestamp) FROM parameter_value_history;" $((stored + 3)) 30
    stop_engine
    assert_store_consistent
}

@test "disk full: the engine stays up, one WARNING per episode, committed samples intact" {
    FULL_MOUNT=$BATS_TEST_TMPDIR/data # the engine's data dir: a 4 MiB tmpfs
    mkdir -p "$FULL_MOUNT"
    mount -t tmpfs -o size=4m tmpfs "$FULL_MOUNT" 2>/dev/null ||
        skip "mount -t tmpfs is not allowed here (needs root)"
    start_engine
    DB=$FULL_MOUNT/ald.db
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
    wait_rows "SELECT count(DISTINCT timestamp) FROM parameter_value_history;" 3 30
    local committed; committed=$(db_query "SELECT count(*) FROM parameter_value_history;")

    dd if=/dev/zero of="$FULL_MOUNT/filler" bs=4k 2>/dev/null || true # until ENOSPC
    for _ in $(seq 100); do
        [ "$(metric ald_data_logging_errors_total)" -ge 2 ] && break
        sleep 0.2
    done
    [ "$(metric ald_data_logging_errors_total)" -ge 2 ]
    run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health/basic"
    [ "$output" = 200 ]
    kill -0 "$ENGINE_PID"

    rm -f "$FULL_MOUNT/filler"
    for _ in $(seq 150); do
        grep -q "storing samples works again" "$BATS_TEST_TMPDIR/engine.log" &&
            [ "$(metric ald_writer_queue_depth)" = 0 ] && break
        sleep 0.2
    done
    local after; after=$(stored_cycles)
    wait_rows "SELECT count(DISTINCT timestamp) FROM parameter_value_history;" $((after + 2)) 30
    stop_engine
    local warnings infos
    warnings=$(grep -c "WARNING.*storing samples failed" "$BATS_TEST_TMPDIR/engine.log")
    infos=$(grep -c "INFO.*storing samples works again" "$BATS_TEST_TMPDIR/engine.log")
    echo "warnings=$warnings infos=$infos committed_before=$committed"
    [ "$warnings" -eq 1 ]
    [ "$infos" -eq 1 ]
    [ "$(db_query "SELECT count(*) FROM parameter_value_history;")" -ge "$committed" ]
    assert_store_consistent
}

@test "a corrupt store file is moved aside with one ERROR naming both paths; logging goes on" {
    local data=$BATS_TEST_TMPDIR/data
    mkdir -p "$data"
    DB=$data/ald.db
    head -c 65536 /dev/urandom >"$DB"
    cp "$DB" "$BATS_TEST_TMPDIR/garbage"
    start_engine
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
    wait_rows "SELECT count(DISTINCT timestamp) FROM parameter_value_history;" 3 30
    stop_engine
    local aside; aside=$(ls "$DB".corrupt-* | grep -v -- '-wal$\|-shm$')
    [ "$(echo "$aside" | wc -l)" -eq 1 ]
    cmp "$aside" "$BATS_TEST_TMPDIR/garbage" # kept as it was, for recovery
    run grep "ERROR" "$BATS_TEST_TMPDIR/engine.log"
    echo "$output"
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"database $DB is not usable"* ]]
    [[ "$output" == *"moved it to $aside"* ]]
    assert_store_consistent
}

# conf.d with the embedded store as primary (data/ald.db) and a second
# SQLite instance "local" as the fallback at $1. Sets CONF.
make_fallback_conf() {
    CONF=$BATS_TEST_TMPDIR/conf
    mkdir -p "$CONF"
    cp "$ALD_TOP_SRCDIR"/conf.d/*.conf "$CONF/"
    cat >"$CONF/storage-sqlite.conf" <<CONF
plugins = (
    { name = "primary"; plugin = "storage-sqlite"; role = "storage";
      settings = { seed_demo = true; }; },
    { name = "local"; plugin = "storage-sqlite"; role = "fallback";
      settings = { path = "$1"; seed_demo = false; }; }
);
CONF
}

@test "a corrupt fallback store is moved aside with one ERROR naming both paths and opened fresh" {
    local data=$BATS_TEST_TMPDIR/data
    mkdir -p "$data"
    local fb=$data/fallback.db
    head -c 65536 /dev/urandom >"$fb"
    make_fallback_conf "$fb"
    start_engine "$CONF"
    DB=$data/ald.db
    wait_for_code "http://127.0.0.1:$PORT/health" 200 100
    [ "$(curl -s "http://127.0.0.1:$PORT/health" | jq -r .services.fallback.status)" = open ]
    local aside; aside=$(ls "$fb".corrupt-* | grep -v -- '-wal$\|-shm$')
    run grep "ERROR" "$BATS_TEST_TMPDIR/engine.log"
    echo "$output"
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"database $fb is not usable"*"moved it to $aside"* ]]
    sqlite3 "$fb" "PRAGMA integrity_check;" | grep -qx ok # the fresh one
}

@test "a fallback store that cannot open: one ERROR, health and readiness 503 naming it, healthy once it opens" {
    local data=$BATS_TEST_TMPDIR/data
    local fb=$data/fallback.db
    mkdir -p "$fb" # a directory where the file should be: SQLite cannot open it
    make_fallback_conf "$fb"
    start_engine "$CONF"
    DB=$data/ald.db
    wait_for_code "http://127.0.0.1:$PORT/health/basic" 200 100
    wait_rows "SELECT count(DISTINCT timestamp) FROM parameter_value_history;" 2 30
    local body; body=$(curl -s "http://127.0.0.1:$PORT/health")
    echo "$body"
    [ "$(echo "$body" | jq -r .status)" = degraded ]
    [ "$(echo "$body" | jq -r .services.fallback.status)" = "not open" ]
    echo "$body" | jq -e '.reasons | index("fallback store not open: an outage of the primary would lose samples")'
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 503 ]
    curl -s "http://127.0.0.1:$PORT/health/ready" | jq -e '.reasons | index("fallback store not open")'
    [ "$(grep -c "ERROR.*fallback store 'local' is not open" "$BATS_TEST_TMPDIR/engine.log")" -eq 1 ]
    ! grep -q "storing in 'local'" "$BATS_TEST_TMPDIR/engine.log"
    rmdir "$fb" # now it can be created: the engine's retry opens it
    wait_for_code "http://127.0.0.1:$PORT/health" 200 400
    grep -q "INFO.*fallback store 'local' is open now" "$BATS_TEST_TMPDIR/engine.log"
    [ "$(grep -c "ERROR" "$BATS_TEST_TMPDIR/engine.log")" -eq 1 ]
}
