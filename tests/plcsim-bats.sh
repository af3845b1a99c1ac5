#!/bin/sh
# Runs tests/plcsim.bats (the ald-plcsim server driven with mbpoll) under the
# TAP harness. Skips, with the reason, when bats or mbpoll is missing.
if [ -z "$BATS" ]; then
    echo "1..0 # SKIP bats not found by configure (Debian: apt-get install bats)"
    exit 0
fi
if ! command -v mbpoll >/dev/null 2>&1; then
    echo "1..0 # SKIP mbpoll not found (Debian: apt-get install mbpoll)"
    exit 0
fi
exec "$BATS" --tap "${ALD_TOP_SRCDIR:-.}/tests/plcsim.bats"
