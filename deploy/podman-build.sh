#!/bin/sh
# podman-build.sh - build the engine image from deploy/Dockerfile with podman,
# on a host with no Docker engine and no registry access (docs/deployment.md,
# "Podman").
#
#   deploy/podman-build.sh [--tag NAME] [--cache-dir DIR] [--mirror URL]
#                          [--max-age DAYS] [--base-only] [-- PODMAN-BUILD-ARGS...]
#
#   --tag NAME       image to build (default localhost/ald-engine:latest)
#   --cache-dir DIR  where the base root file system is kept between runs
#                    (default $ALD_ROOTFS_CACHE, else /var/cache/ald-engine)
#   --mirror URL     Debian mirror for debootstrap (default: the one apt uses)
#   --max-age DAYS   rebuild a cached root file system older than this (default 7)
#   --base-only      stop after importing the base image; print its name
#
# The Dockerfile's FROM is debian:bookworm-slim from a registry; here the base
# comes from `debootstrap --variant=minbase bookworm` against the mirror apt is
# configured with, imported with `podman import` and passed as the build
# argument DEBIAN_IMAGE. The root file system is a tar in the cache directory
# keyed by mirror and suite, so only the first run on a machine (or one after
# --max-age days) pays for debootstrap; the imported image keeps its ID, so
# podman's layer cache also survives between runs.
#
# The podman options are what this kind of host needs (a container inside a
# sandbox, no systemd, cgroup v1): chroot isolation for RUN steps, lower
# ulimits than podman's defaults (which exceed the host's hard limits), and the
# docker image format, because the OCI format drops HEALTHCHECK.
#
# Exit: 0 built, 1 a step failed (its output says which), 2 usage error.
# Needs root (debootstrap, rootful podman).
set -eu

SUITE=bookworm
tag=localhost/ald-engine:latest
cache_dir=${ALD_ROOTFS_CACHE:-/var/cache/ald-engine}
mirror=${ALD_DEBIAN_MIRROR:-}
max_age=7
base_only=0

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

die() {
    echo "podman-build: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --tag) tag=${2:?--tag needs a value}; shift 2 ;;
    --cache-dir) cache_dir=${2:?--cache-dir needs a value}; shift 2 ;;
    --mirror) mirror=${2:?--mirror needs a value}; shift 2 ;;
    --max-age) max_age=${2:?--max-age needs a value}; shift 2 ;;
    --base-only) base_only=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "podman-build: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done
case "$max_age" in
'' | *[!0-9]*) echo "podman-build: --max-age wants whole days, not '$max_age'" >&2; exit 2 ;;
esac

src=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$src/deploy/Dockerfile" ] || die "no deploy/Dockerfile under $src"
for tool in podman debootstrap flock; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool not found (Debian: deploy/install-deps.sh --test installs it)"
done
[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap and rootful podman)"

# apt_uri SUITE: the first URI apt fetches SUITE from, in one-line
# (sources.list) or deb822 (*.sources) format; empty when none does.
apt_uri() {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk -v s="$1" '$1 == "deb" {
            i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
            if ($(i + 1) == s) { print $i; exit } }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # one stanza per paragraph; Types must include deb
        awk -v s="$1" 'BEGIN { RS = ""; FS = "\n" } {
            uri = ""; ok = 0; deb = 0
            for (n = 1; n <= NF; n++) {
                if ($n ~ /^#/) continue
                split($n, kv, ":[ \t]*"); k = kv[1]; v = substr($n, length(k) + 2)
                sub(/^[ \t]+/, "", v)
                if (k == "Types" && v ~ /(^| )deb( |$)/) deb = 1
                if (k == "URIs") { split(v, u, " "); uri = u[1] }
                if (k == "Suites" && (" " v " ") ~ (" " s " ")) ok = 1
                if (k == "Enabled" && v == "no") deb = 0
            }
            if (ok && deb && uri != "") { print uri; exit } }' "$f"
    done | head -n 1
}

[ -n "$mirror" ] || mirror=$(apt_uri "$SUITE")
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
security=$(apt_uri "$SUITE-security")

mkdir -p "$cache_dir"
key=$(printf '%s %s %s\n' "$SUITE" "$mirror" "$security" | sha256sum | cut -c1-12)
rootfs_tar=$cache_dir/rootfs-$SUITE-$key.tar
base=localhost/ald-debian:$SUITE-$key

# One build of the cache at a time (two test runs, or CI and a developer).
exec 9>"$cache_dir/.lock"
flock 9

if [ -f "$rootfs_tar" ] && [ -n "$(find "$rootfs_tar" -mtime +"$max_age")" ]; then
    echo "podman-build: $rootfs_tar is older than $max_age days: rebuilding it"
    rm -f "$rootfs_tar"
fi
if [ ! -f "$rootfs_tar" ]; then
    echo "podman-build: debootstrap --variant=minbase $SUITE from $mirror into $rootfs_tar"
    work=$(mktemp -d "$cache_dir/rootfs.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    debootstrap --variant=minbase "$SUITE" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
        tail -20 "$work/debootstrap.log" >&2
        die "debootstrap failed (the end of its log is above)"
    }
    # What debian:bookworm-slim has and debootstrap does not: the updates and
    # security suites, and no documentation or package cache in image layers.
    {
        echo "deb $mirror $SUITE main"
        echo "deb $mirror $SUITE-updates main"
        [ -z "$security" ] || echo "deb $security $SUITE-security main"
    } >"$work/root/etc/apt/sources.list"
    cat >"$work/root/etc/dpkg/dpkg.cfg.d/01-ald-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
    echo 'APT::Keep-Downloaded-Packages "false";' >"$work/root/etc/apt/apt.conf.d/01-ald-slim"
    rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"* \
        "$work/root/var/log/"*.log
    tar -C "$work/root" --numeric-owner -cf "$work/rootfs.tar" .
    mv "$work/rootfs.tar" "$rootfs_tar"
    rm -rf "$work"
    trap - EXIT
fi

# Import once per tar: the label ties the image to the tar it came from, so a
# rebuilt tar is imported again and an unchanged one keeps its image ID (and
# with it podman's layer cache for the Dockerfile's steps).
stamp=$(stat -c %Y "$rootfs_tar")
have=$(podman image inspect --format '{{index .Labels "ald.rootfs.stamp"}}' "$base" 2>/dev/null || true)
if [ "$have" != "$stamp" ]; then
    echo "podman-build: importing $rootfs_tar as $base"
    podman import --change "LABEL ald.rootfs.stamp=$stamp" \
        --change 'CMD ["/bin/bash"]' "$rootfs_tar" "$base" >/dev/null
fi
# Every image built on a base carries its label. Cache images (untagged) of
# an older base can never be reused: remove them, so the cache on a build
# machine stays bounded (one base, rebuilt every --max-age days, and the
# cache images of the source states built on it since).
podman images --all --filter dangling=true --filter label=ald.rootfs.stamp \
    --format '{{.ID}} {{index .Labels "ald.rootfs.stamp"}}' |
    while read -r id old_stamp; do
        [ "$old_stamp" = "$stamp" ] || podman rmi "$id" >/dev/null 2>&1 || true
    done
exec 9>&-
if [ "$base_only" -eq 1 ]; then
    echo "$base"
    exit 0
fi

echo "podman-build: building $tag from $src/deploy/Dockerfile on $base"
podman build --isolation chroot --runtime runc \
    --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
    --format docker --build-arg DEBIAN_IMAGE="$base" \
    -f "$src/deploy/Dockerfile" -t "$tag" "$@" "$src"
