# supabase-lib.sh - shared by bench/supabase_bench.sh and bench/wan_bench.sh
# (sourced after bench-lib.sh): starts PostgreSQL 15 with the shipped
# migrations behind the PostgREST fixture (tests/fixtures/postgrest/pg.sh),
# creates PARAMS bench parameters (tag i = a1000000-0000-4000-8000-<i, 12
# digits>, the ids bench/supabase_bench uses), and defines sql, expect_rows,
# fixture_requests, pg_cpu and profile_start/profile_end.
# shellcheck shell=bash

BENCH=$BUILD/bench/supabase_bench
PG_SH=$BENCH_SRCDIR/tests/fixtures/postgrest/pg.sh
PARAMS=1000 # parameters created: enough for the largest batch (one tag per sample)

[ -x "$BENCH" ] || die "$BENCH missing: run (cd $BUILD && make bench)"
for tool in psql jq curl; do
    command -v "$tool" >/dev/null || die "$tool missing: apt-get install postgresql jq curl"
done

# PostgreSQL runs as the postgres user, so its directory cannot be inside a
# private (0700) temporary directory such as $BENCH_TMP.
PGDIR=$(mktemp -d /tmp/ald-sbbench-XXXXXX)
chmod 755 "$PGDIR"
sb_cleanup() {
    sh "$PG_SH" stop "$PGDIR" || true
    rm -rf "$PGDIR"
    bench_cleanup
}
trap sb_cleanup EXIT

# A throwaway key for the throwaway fixture; never printed.
SB_KEY=bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
export ALD_FIXTURE_KEY=$SB_KEY SB_KEY
sh "$PG_SH" start "$PGDIR" --seed || die "pg.sh start failed (logs in $PGDIR)"
# shellcheck disable=SC1091 # written by pg.sh start
. "$PGDIR/env"
export SB_URL=$FIXTURE_URL ALD_TOP_BUILDDIR=$BUILD

sql() {
    PGOPTIONS='-c client_min_messages=warning' \
        psql "$PSQL_DSN" -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"
}

# PARAMS parameters of the demo machine, 100 per component, with the ids
# bench/supabase_bench uses for tag i: a1000000-0000-4000-8000-<i, 12 digits>.
sql "INSERT INTO machine_components (id, machine_id, name, type)
     SELECT ('c1000000-0000-4000-8000-' || lpad(c::text, 12, '0'))::uuid,
            'e3e6e280-0000-4000-8000-000000000001', 'Bench group ' || c, 'sensor'
     FROM generate_series(0, ($PARAMS - 1) / 100) AS c;
     INSERT INTO component_parameters (id, component_id, data_type, read_modbus_address,
                                       read_modbus_type)
     SELECT ('a1000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
            ('c1000000-0000-4000-8000-' || lpad((i / 100)::text, 12, '0'))::uuid,
            'float', 1000 + 2 * i, 'input_register'
     FROM generate_series(0, $PARAMS - 1) AS i;" >/dev/null
[ "$(sql "SELECT count(*) FROM component_parameters WHERE id::text LIKE 'a1000000-%'")" = "$PARAMS" ] ||
    die "creating the $PARAMS bench parameters failed"

# expect_rows N WHAT: parameter_value_history holds exactly N rows, all bench tags.
expect_rows() {
    local got
    got=$(sql "SELECT count(*) || ' ' || count(DISTINCT (parameter_id, \"timestamp\")) || ' ' ||
                      count(*) FILTER (WHERE parameter_id IN (SELECT id FROM component_parameters))
               FROM parameter_value_history")
    [ "$got" = "$1 $1 $1" ] || die "$2: expected $1 rows (distinct, known parameters), got \"$got\""
}

# fixture_requests: API requests the fixture has answered so far.
fixture_requests() {
    curl -fsS "$FIXTURE_URL/_test/stats" | jq -r .requests
}

# pg_cpu: CPU seconds of the cluster's processes (postmaster and its children).
pg_cpu() {
    local master total=0 pid
    master=$(head -n 1 "$PGDIR/pgdata/postmaster.pid")
    for pid in "$master" $(ps -o pid= --ppid "$master"); do
        [ -r "/proc/$pid/stat" ] || continue
        total=$(awk -v a="$total" -v b="$(cpu_seconds "$pid" 2>/dev/null || echo 0)" \
            'BEGIN { print a + b }')
    done
    echo "$total"
}

# profile_start / profile_end LABEL WALL_S BENCH_CPU_S RECORDS: API requests and
# CPU seconds of the fixture, PostgreSQL and the benchmark between the two
# calls, against the wall time: which side a phase's time goes to.
profile_start() {
    P_REQ=$(fixture_requests) P_FX=$(cpu_seconds "$FIXTURE_PID") P_PG=$(pg_cpu)
}
profile_end() {
    awk -v label="$1" -v wall="$2" -v me="$3" -v rec="$4" \
        -v n="$(($(fixture_requests) - P_REQ))" -v fx="$(cpu_seconds "$FIXTURE_PID")" \
        -v fx0="$P_FX" -v pg="$(pg_cpu)" -v pg0="$P_PG" \
        'BEGIN { fx -= fx0; pg -= pg0
                 printf "%s: %.2f s wall; %d API requests (%.2f per batch); CPU s: " \
                        "fixture %.2f, PostgreSQL %.2f, bench %.2f (sum %.0f%% of the wall time)\n",
                        label, wall, n, n / rec, fx, pg, me, 100 * (fx + pg + me) / wall }'
}

FIXTURE_PID=$(cat "$PGDIR/fixture.pid")
