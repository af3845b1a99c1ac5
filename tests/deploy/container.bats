#!/usr/bin/env bats
# The engine image, built with podman from this source tree
# (deploy/podman-build.sh: debootstrap base, deploy/Dockerfile) and run for
# real: healthy, the engine as the unprivileged user, the data volume owned by
# it, a clean stop with the valves closed, a second container on the same
# volume standing by and taking over, and the Supabase key given as a secret
# file that never shows in `podman inspect`.
#
# Needs root and podman (deploy/install-deps.sh --test installs podman,
# debootstrap and runc). Skipped, saying why, only when podman cannot run a
# container here at all. The base root file system is cached in
# $ALD_ROOTFS_CACHE (default /var/cache/ald-engine) between runs.
#
# Times (build, start, stop, takeover) are printed as TAP comments, not
# asserted; docs/benchmarks.md records them. The tests are one scenario in
# file order (the second container stands by for the first one's lease), so
# run the whole file, not a test of it alone.

load helpers
bats_require_minimum_version 1.5.0 # run !

SRC=$(cd "$ALD_TOP_SRCDIR" && pwd)

# What this kind of host needs to run a container (docs/deployment.md,
# "Podman"): runc; ulimits below the host's hard limits (podman's defaults are
# above them); no systemd, so no health-check timers (`podman healthcheck run`
# runs the image's HEALTHCHECK on demand); no network (every probe runs inside
# the container, against its own loopback).
PODMAN_RUN=(podman run -d --runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096
    --health-interval disable --network none)

# A key value unique to this run, looked for in podman inspect, logs and
# environments, where it must never show.
TEST_KEY=ald-test-key-$$-$RANDOM$RANDOM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# note TEXT: a TAP comment line in the test output (figures, not assertions).
note() { echo "# $*" >&3; }

# podman output without the "no systemd" noise of this host.
quiet() { "$@" 2> >(grep -v 'systemd' >&2); }

# wait_healthy NAME: until the image's HEALTHCHECK passes (at most 60 s).
wait_healthy() {
    for _ in $(seq 300); do
        podman healthcheck run "$1" >/dev/null 2>&1 && return 0
        # a container that exited will never become healthy
        [ "$(podman inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ] || break
        sleep 0.2
    done
    echo "$1 never became healthy; its log:" >&2
    podman logs "$1" >&2 2>&1 || true
    return 1
}

# metric NAME CONTAINER: the value of an unlabelled metric, read inside the container.
metric() {
    podman exec "$2" curl -fsS http://127.0.0.1:8000/metrics | awk -v m="$1" '$1 == m { print $2 }'
}

# process_field KEY...: fields of "process" in `aldctl status --json` on stdin.
process_field() {
    /usr/bin/python3 -c '
import json, sys
p = json.load(sys.stdin)["process"] or {}
print(" ".join(str(p.get(k)) for k in sys.argv[1:]))' "$@"
}

# fake_supabase CONTAINER LOG: an HTTP server on port 54321 of the container's
# own loopback (the host's python3 in the container's network namespace), that
# records each request's method, path and apikey header in LOG and answers 503
# (a transient error: the engine keeps its samples in the outbox). Sets FAKE_PID.
fake_supabase() {
    local pid
    pid=$(podman inspect -f '{{.State.Pid}}' "$1")
    nsenter -t "$pid" -n /usr/bin/python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def reply(self):
        with open(sys.argv[1], "a") as f:
            f.write("%s %s apikey=%s\n" % (self.command, self.path, self.headers.get("apikey")))
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_POST = do_PATCH = do_DELETE = reply
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", 54321), H).serve_forever()
' "$2" 3>&- &
    FAKE_PID=$!
}

cleanup_podman() {
    local c
    for c in "$CT-a" "$CT-b" "$CT-key" "$CT-nokey"; do
        podman rm -f -v -t 0 "$c" >/dev/null 2>&1 || true
    done
    podman volume rm -f "$CT-data" "$CT-keydata" >/dev/null 2>&1 || true
    podman rmi -f "$CT_IMAGE" >/dev/null 2>&1 || true
}

setup_file() {
    export CT=ald-ctest-$$
    export CT_IMAGE=localhost/ald-engine-ctest:$$
    export CT_LOG=$BATS_FILE_TMPDIR
    export CT_SKIP=""
    if ! command -v podman >/dev/null 2>&1; then
        CT_SKIP="podman not installed (deploy/install-deps.sh --test installs podman, debootstrap, runc)"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        CT_SKIP="not root: the image's base comes from debootstrap and runs under rootful podman"
        return 0
    fi
    if ! podman info >"$CT_LOG/podman-info" 2>&1; then
        CT_SKIP="podman cannot run here: $(tail -n 1 "$CT_LOG/podman-info")"
        return 0
    fi
    local t0
    t0=$(now)
    "$SRC/deploy/podman-build.sh" --tag "$CT_IMAGE" >"$CT_LOG/build.log" 2>&1 || {
        echo "deploy/podman-build.sh failed; the end of its log:" >&2
        tail -n 30 "$CT_LOG/build.log" >&2
        return 1
    }
    echo "# image built in $(elapsed "$t0") s ($(grep -c 'Using cache' "$CT_LOG/build.log") cached steps)" >&3
}

teardown_file() {
    [ -n "$CT_SKIP" ] || cleanup_podman
}

setup() {
    [ -z "$CT_SKIP" ] || skip "$CT_SKIP"
}

# ---- the image ------------------------------------------------------------------------------

@test "podman: the image is built from this tree's deploy/Dockerfile, HEALTHCHECK and USER kept" {
    run podman image inspect --format \
        '{{.Config.User}}|{{.Config.StopSignal}}|{{json .Config.Healthcheck.Test}}|{{json .Config.Volumes}}' \
        "$CT_IMAGE"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == 'ald:ald|SIGTERM|'*'http://127.0.0.1:8000/health/basic'*'|{"/var/lib/ald":{}}' ]]
    # the engine in the image is the one of this source tree
    local want
    want=$(sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$SRC/configure.ac")
    run podman run --rm --runtime runc --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
        --network none "$CT_IMAGE" ald-engine --version
    [ "$status" -eq 0 ]
    [[ "$output" == *"ald-engine $want"* ]]
}

@test "podman: the base root file system is cached: a second build neither debootstraps nor imports" {
    local cache=${ALD_ROOTFS_CACHE:-/var/cache/ald-engine}
    compgen -G "$cache/rootfs-bookworm-*.tar" >/dev/null
    run "$SRC/deploy/podman-build.sh" --base-only
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" != *debootstrap* ]]
    [[ "$output" != *importing* ]]
    [[ "${lines[-1]}" == localhost/ald-debian:bookworm-* ]]
}

# ---- one container, then a second on the same volume ----------------------------------------

@test "container: healthy, the engine runs as ald (uid 10001), the data volume is owned by it" {
    podman volume create "$CT-data" >/dev/null
    local t0
    t0=$(now)
    quiet "${PODMAN_RUN[@]}" --name "$CT-a" -v "$CT-data:/var/lib/ald" "$CT_IMAGE" >/dev/null
    wait_healthy "$CT-a"
    note "container healthy $(elapsed "$t0") s after podman run"
    [ "$(podman inspect -f '{{.State.Health.Status}}' "$CT-a")" = healthy ]
    # PID 1 is the engine itself (exec'd by the entrypoint), as uid/gid 10001
    run podman exec "$CT-a" sh -c 'tr "\0" " " </proc/1/cmdline; echo; awk "/^[UG]id:/ { print \$2 }" /proc/1/status'
    echo "$output"
    [[ "${lines[0]}" == "ald-engine "* ]]
    [ "${lines[1]}" = 10001 ]
    [ "${lines[2]}" = 10001 ]
    # the volume, seen from the host, and the database the engine created in it
    local mp
    mp=$(podman volume inspect -f '{{.Mountpoint}}' "$CT-data")
    [ "$(stat -c '%u:%g' "$mp")" = 10001:10001 ]
    [ "$(stat -c '%u:%g' "$mp/ald.db")" = 10001:10001 ]
    [ "$(metric ald_engine_active "$CT-a")" = 1 ]
}

@test "container: a second container on the same volume stands by" {
    quiet "${PODMAN_RUN[@]}" --name "$CT-b" -v "$CT-data:/var/lib/ald" "$CT_IMAGE" >/dev/null
    wait_healthy "$CT-b"
    for _ in $(seq 50); do
        podman logs "$CT-b" 2>&1 | grep -q 'lease of machine .*: standing by' && break
        sleep 0.2
    done
    podman logs "$CT-b" 2>&1 | grep -q 'another engine holds the lease of machine .*: standing by'
    [ "$(metric ald_engine_active "$CT-b")" = 0 ]
    [ "$(metric ald_engine_active "$CT-a")" = 1 ]
}

@test "container: podman stop -t 1 mid-recipe: valves closed, the engine exits by itself (no SIGKILL)" {
    podman exec "$CT-a" aldctl start "Al2O3 demo" >/dev/null
    local st=""
    for _ in $(seq 100); do
        st=$(podman exec "$CT-a" aldctl status --json 2>/dev/null | process_field outcome id || true)
        [[ "$st" == "running "* ]] && break
        sleep 0.2
    done
    echo "$st"
    [[ "$st" == "running "* ]]
    echo "${st#running }" >"$CT_LOG/process-id"
    local t0
    t0=$(now)
    # -t 1: SIGTERM, SIGKILL after 1 s. The engine must be gone before that.
    run podman stop -t 1 "$CT-a"
    note "podman stop -t 1 returned after $(elapsed "$t0") s"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" != *"SIGKILL"* ]]
    # 0, or 143 (128 + SIGTERM) from an engine that re-raises the signal; 137
    # would be podman's SIGKILL
    run podman inspect -f '{{.State.Running}} {{.State.ExitCode}}' "$CT-a"
    [[ "$output" == "false 0" || "$output" == "false 143" ]]
    run podman logs "$CT-a"
    [[ "$output" == *"SIGTERM received: stopping"* ]]
    [[ "$output" == *"all valves commanded closed"* ]]
    [[ "$output" == *"[engine] stopped in "*" ms"* ]]
    note "$(grep -o 'stopped in [0-9]* ms' <<<"$output")"
}

@test "container: the standby takes over the lease and sees the run aborted" {
    local t0
    t0=$(now)
    # bound: well above the lease TTL (15 s), in case the lease was not released
    for _ in $(seq 300); do
        [ "$(metric ald_engine_active "$CT-b")" = 1 ] && break
        sleep 0.2
    done
    note "standby active $(elapsed "$t0") s after the first container stopped"
    [ "$(metric ald_engine_active "$CT-b")" = 1 ]
    podman logs "$CT-b" 2>&1 | grep -q 'holding the lease of machine .*: this engine drives the tool'
    run podman exec "$CT-b" aldctl status --json --process "$(cat "$CT_LOG/process-id")"
    echo "$output"
    [ "$(process_field outcome <<<"$output")" = aborted ]
}

# ---- secrets -----------------------------------------------------------------------------------

@test "container: the Supabase key as a secret file is used and never shows in podman inspect or logs" {
    # as Compose mounts a secret without Swarm: the host file, bind-mounted
    # read-only, owned by the engine's uid, mode 0400
    install -m 0400 -o 10001 -g 10001 /dev/null "$BATS_TEST_TMPDIR/supabase_key"
    printf '%s\n' "$TEST_KEY" >"$BATS_TEST_TMPDIR/supabase_key"
    quiet "${PODMAN_RUN[@]}" --name "$CT-key" -v "$CT-keydata:/var/lib/ald" \
        -v "$BATS_TEST_TMPDIR/supabase_key:/run/secrets/supabase_key:ro" \
        -e SUPABASE_URL=http://127.0.0.1:54321 -e SUPABASE_KEY_FILE=/run/secrets/supabase_key \
        "$CT_IMAGE" >/dev/null
    fake_supabase "$CT-key" "$BATS_TEST_TMPDIR/requests"
    wait_healthy "$CT-key"
    # the engine read the file and sends the key to Supabase
    for _ in $(seq 150); do
        grep -q "apikey=$TEST_KEY\$" "$BATS_TEST_TMPDIR/requests" 2>/dev/null && break
        sleep 0.2
    done
    kill "$FAKE_PID"
    wait "$FAKE_PID" || true
    head -n 3 "$BATS_TEST_TMPDIR/requests"
    grep -q "apikey=$TEST_KEY\$" "$BATS_TEST_TMPDIR/requests"
    run podman inspect "$CT-key"
    [ "$status" -eq 0 ]
    [[ "$output" == *'SUPABASE_KEY_FILE=/run/secrets/supabase_key'* ]]
    [[ "$output" == *'HTTP_BIND=0.0.0.0'* ]]
    [[ "$output" != *"$TEST_KEY"* ]]
    run podman logs "$CT-key"
    [[ "$output" != *"$TEST_KEY"* ]]
    # the value is in no process environment of the container either
    run podman exec "$CT-key" sh -c 'cat /proc/[0-9]*/environ 2>/dev/null | tr "\0" "\n"'
    [[ "$output" != *"$TEST_KEY"* ]]
}

@test "container: an unreadable key file is refused at start, naming the path, not the key" {
    install -m 0600 -o 0 -g 0 /dev/null "$BATS_TEST_TMPDIR/root_key"
    printf '%s\n' "$TEST_KEY" >"$BATS_TEST_TMPDIR/root_key"
    run podman run --name "$CT-nokey" --runtime runc --ulimit nofile=4096:4096 \
        --ulimit nproc=4096:4096 --network none \
        -v "$BATS_TEST_TMPDIR/root_key:/run/secrets/supabase_key:ro" \
        -e SUPABASE_URL=http://127.0.0.1:54321 -e SUPABASE_KEY_FILE=/run/secrets/supabase_key \
        "$CT_IMAGE"
    echo "$output"
    [ "$status" -eq 64 ]
    [[ "$output" == *"SUPABASE_KEY_FILE=/run/secrets/supabase_key is not a file readable by uid 10001"* ]]
    [[ "$output" != *"$TEST_KEY"* ]]
}

# ---- cleanup ----------------------------------------------------------------------------------

@test "cleanup: no container, volume, test image or conmon process is left behind" {
    local ids
    ids=$(podman ps -aq --filter "name=$CT-" | tr '\n' ' ')
    cleanup_podman
    [ -z "$(podman ps -aq --filter "name=$CT-")" ]
    run ! podman volume exists "$CT-data"
    run ! podman image exists "$CT_IMAGE"
    local id
    for id in $ids; do
        run ! pgrep -f "conmon .*$id"
    done
}
