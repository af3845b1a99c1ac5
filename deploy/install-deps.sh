#!/bin/sh
# Install the Debian packages the project needs; the ONE list of them.
#   deploy/install-deps.sh          build + run (what quickstart needs)
#   deploy/install-deps.sh --test   also the real peers and tools the tests use
#                                   (clang, libclang-rt-14-dev, llvm: the
#                                   sanitizer build and the fuzzers)
# Installs only what is missing, so a second run is quick. Needs root (or sudo).
set -eu

BUILD_PKGS="autoconf automake libtool pkg-config make gcc \
libmodbus-dev libmicrohttpd-dev libconfig-dev libsqlite3-dev libjansson-dev \
libcurl4-openssl-dev check sqlite3 curl"
TEST_PKGS="prometheus collectd-core python3-pymodbus python3-serial python3-serial-asyncio mbpoll haproxy shellcheck bats docker-compose \
postgresql python3-psycopg2 jq procps prometheus-alertmanager python3-yaml socat \
clang libclang-rt-14-dev llvm iproute2 openssl wget podman runc debootstrap nodejs npm \
abigail-tools"
# podman, runc, debootstrap: tests/deploy/container.bats builds the image with
# deploy/podman-build.sh (no Docker engine here) and runs it as root with the
# runc runtime and podman's native overlay storage, so neither uidmap nor
# fuse-overlayfs is needed. wget: the compose health checks of the monitoring
# images (busybox wget) are run against the real programs. nodejs, npm: the
# operator app's calls replayed with @supabase/supabase-js (tests/app).
# abigail-tools: abidw/abidiff check the plugin ABI against its 1.0 baseline
# (tests/abi/check-abi.test).

want="$BUILD_PKGS"
case "${1:-}" in
--test) want="$BUILD_PKGS $TEST_PKGS" ;;
"") ;;
-h | --help)
    sed -n '2,5p' "$0"
    exit 0
    ;;
*)
    echo "install-deps.sh: unknown option '$1' (try --help)" >&2
    exit 2
    ;;
esac

missing=""
for pkg in $want; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
# npm comes with nodejs from NodeSource (whose nodejs conflicts with Debian's
# npm package): an npm on PATH is enough. tests/app needs node >= 20.
if command -v npm >/dev/null 2>&1; then
    missing=$(echo "$missing" | tr ' ' '\n' | grep -vx npm | tr '\n' ' ' | sed 's/ *$//')
fi
if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps: need root to install:$missing" >&2
        exit 1
    }
    SUDO="sudo"
fi
echo "install-deps: installing:$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
