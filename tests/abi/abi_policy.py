#!/usr/bin/env python3
"""abi_policy.py - judge abidiff's report against the ALD ABI rules.

Reads `abidiff BASELINE CURRENT` output on stdin. Allowed: members appended
at the END of a struct (insertion offset >= the struct's old size), and the
indirect-change chains abidiff prints on the way to them. Anything else (a
member removed, moved, renamed, retyped, inserted into a padding hole, a
function signature changed) is a break. Exit 0 = compatible, 1 = break;
every offending line is printed.
Usage: abidiff A B | abi_policy.py [--appended-needs-minor-bump MINOR]
"""
import re
import sys

NOISE = [
    r"Functions changes summary: .*",
    r"Variables changes summary: .*",
    r"\d+ functions? with some indirect sub-type changes?:",
    r"\[C\] 'function .*' at .* has some indirect sub-type changes:",
    r"parameter \d+ of type '.*' has sub-type changes:",
    r"in pointed to type '.*':",
    r"in unqualified underlying type '.*'( at .*)?:",
    r"underlying type '.*'( at .*)? changed:",
    r"type of '.*' changed:",
    r"\d+ data member changes?( \(\d+ filtered\))?:",
    r"\d+ data member insertions?:",
]


def main():
    minor = None
    if len(sys.argv) == 3 and sys.argv[1] == "--appended-needs-minor-bump":
        minor = int(sys.argv[2])
    old_size = None
    breaks, appended = [], 0
    for raw in sys.stdin:
        line = raw.strip()
        if not line or any(re.fullmatch(p, line) for p in NOISE):
            continue
        m = re.fullmatch(r"type size changed from (\d+) to (\d+) \(in bits\)", line)
        if m:
            old_size = int(m.group(1)) if int(m.group(2)) > int(m.group(1)) else None
            continue
        if line == "type size hasn't changed":
            old_size = None
            continue
        m = re.fullmatch(r"'.*', at offset (\d+) \(in bits\)( at .*)?", line)
        if m and old_size is not None and int(m.group(1)) >= old_size:
            appended += 1
            continue
        breaks.append(line)
    for b in breaks:
        print("ABI break: " + b)
    if appended and minor == 0:
        print("ABI: %d member(s) appended but ALD_ABI_MINOR is still 0: bump it" % appended)
        return 1
    return 1 if breaks else 0


sys.exit(main())
