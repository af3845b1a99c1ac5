# Shared helpers for the engine's bats suites.

engine_bin() {
    echo "${ALD_TOP_BUILDDIR:?run through make check}/ald-engine"
}

free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Start the engine in the background on the shipped conf.d (or $1),
# logging to $BATS_TEST_TMPDIR/engine.log. Sets ENGINE_PID and PORT.
start_engine() {
    local confdir=${1:-$ALD_TOP_SRCDIR/conf.d}
    PORT=$(free_port)
    export ALD_DATA_DIR=$BATS_TEST_TMPDIR/data
    # 3>&-: bats waits for fd 3 to close; a background engine must not hold it
    "$(engine_bin)" --config "$confdir" --http-port "$PORT" \
        >"$BATS_TEST_TMPDIR/engine.out" 2>"$BATS_TEST_TMPDIR/engine.log" 3>&- &
    ENGINE_PID=$!
}

stop_engine() {
    if [ -n "${ENGINE_PID:-}" ] && kill -0 "$ENGINE_PID" 2>/dev/null; then
        kill -TERM "$ENGINE_PID"
        wait "$ENGINE_PID"
    fi
}

# Poll a URL until it answers with the given HTTP code; at most $3 tenths of a second.
wait_for_code() {
    local url=$1 want=$2 tries=${3:-50} code
    for _ in $(seq "$tries"); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)
        [ "$code" = "$want" ] && return 0
        sleep 0.1
    done
    echo "last HTTP code from $url: $code (wanted $want)" >&2
    return 1
}

# db SQL...: run SQL on the engine's SQLite store (waiting up to 10 s for its locks).
db() {
    sqlite3 -batch -bail -cmd '.timeout 10000' "${ALD_DATA_DIR:-$BATS_TEST_TMPDIR/data}/ald.db" "$@"
}

# wait_sql SQL WANT TENTHS: poll the store until SQL prints WANT.
wait_sql() {
    local got=
    for _ in $(seq "$3"); do
        got=$(db "$1" 2>/dev/null || true)
        [ "$got" = "$2" ] && return 0
        sleep 0.1
    done
    echo "\"$1\" gave \"$got\", wanted \"$2\"" >&2
    return 1
}
