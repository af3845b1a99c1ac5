#!/bin/sh
# One command from a fresh Debian machine to a running engine on the embedded
# default (simulated tool + SQLite, health on port 8000):
#     deploy/quickstart.sh
# Installs what is missing, builds in ./build, and runs ald-engine in the
# foreground (Ctrl-C stops it). Data goes to ./data. Extra arguments are
# passed to ald-engine (e.g. --http-port 8080).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

deploy/install-deps.sh
if [ ! -x configure ]; then
    ./autogen.sh
fi
mkdir -p build
cd build
if [ ! -f Makefile ]; then
    ../configure --enable-werror
fi
make -j"$(nproc)"
cd "$top"
echo "quickstart: starting the engine; health: http://localhost:8000/health, Ctrl-C stops it"
exec build/ald-engine "$@"
