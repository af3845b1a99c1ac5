#!/usr/bin/env python3
"""mutate.py - the mutation check: apply each one-line mutation of
tests/mutation/mutations.txt, alone, to a scratch copy of the tree, build it,
run the tests the mutation names, and report whether they noticed (killed)
or not (survived). The working tree is never modified.

Usage: mutate.py --src TOP_SRCDIR [--list FILE] [--only NAME ...] [--jobs N]
Exit status: 0 when every mutation was killed, 1 when any survived or did
not build, 2 when the list or the scratch build is broken (a listed original
line not found exactly once, the unmutated tests failing).
"""
import argparse
import configparser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TEST_TIMEOUT_S = 900


def fail(message):
    print("mutate.py: " + message, file=sys.stderr)
    sys.exit(2)


def load_mutations(path, src):
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str
    if not parser.read(path):
        fail(f"cannot read {path}")
    mutations = []
    for name in parser.sections():
        m = parser[name]
        for key in ("file", "from", "to", "tests"):
            if key not in m or not m[key].strip():
                fail(f"{path}: [{name}] lacks '{key}'")
        mutation = {"name": name, "file": m["file"].strip(), "from": m["from"].strip(),
                    "to": m["to"].strip(), "tests": m["tests"].split(),
                    "why": m.get("why", "").strip()}
        locate(mutation, src)  # fails loudly now, before any build
        mutations.append(mutation)
    return mutations


def locate(mutation, top):
    """Index of the one line equal to `from` (blanks aside); stops otherwise."""
    path = os.path.join(top, mutation["file"])
    if not os.path.isfile(path):
        fail(f"[{mutation['name']}] {mutation['file']} does not exist (moved? re-point it)")
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    hits = [i for i, line in enumerate(lines) if line.strip() == mutation["from"]]
    if len(hits) != 1:
        fail(f"[{mutation['name']}] the original line occurs {len(hits)} times in "
             f"{mutation['file']} (must be once): {mutation['from']!r}")
    return lines, hits[0]


def tracked_files(src):
    """The files of the tree as git sees them (tracked and new, not ignored)."""
    try:
        out = subprocess.run(["git", "-C", src, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [p for p in out.decode().split("\0") if p]


def copy_tree(src, dest):
    files = tracked_files(src)
    if files is None:
        fail(f"{src} is not a git checkout; the mutation check copies what git tracks")
    for rel in files:
        origin = os.path.join(src, rel)
        if not os.path.isfile(origin):
            continue  # deleted in the working tree
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(origin, target)


def run(cmd, cwd, log, timeout=None):
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        try:
            return subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            out.write("(timed out)\n")
            return -1


def prepare(src, scratch, jobs, log):
    copy_tree(src, scratch)
    if run(["./autogen.sh"], scratch, log) != 0:
        fail(f"autogen.sh failed in the scratch copy (see {log})")
    build = os.path.join(scratch, "build")
    os.makedirs(build)
    if run(["../configure"], build, log) != 0:
        fail(f"configure failed in the scratch copy (see {log})")
    if run(["make", f"-j{jobs}", "check", "TESTS="], build, log) != 0:
        fail(f"the unmutated tree does not build (see {log})")
    return build


def failed_tests(build, programs):
    """Names of the failing test cases, from the TAP logs of the programs."""
    names = []
    for program in programs:
        # automake names a script's log without its .test extension
        stem = program[:-len(".test")] if program.endswith(".test") else program
        log = os.path.join(build, stem + ".log")
        if not os.path.exists(log):
            names.append(f"{os.path.basename(program)} (no log)")
            continue
        found = False
        with open(log, encoding="utf-8", errors="replace") as f:
            for line in f:
                # Check: "not ok N - file:suite:test: message"; bats: "not ok N description"
                m = (re.match(r"not ok \d+ - [^:]*:[^:]*:([^:]+):", line)
                     or re.match(r"not ok \d+ (?!- )(.+?)\s*$", line))
                if m:
                    names.append(f"{os.path.basename(program)}:{m.group(1)}")
                    found = True
        trs = os.path.join(build, stem + ".trs")
        if not found and os.path.exists(trs):
            with open(trs, encoding="utf-8", errors="replace") as f:
                if re.search(r":test-result: (FAIL|ERROR)", f.read()):
                    names.append(f"{os.path.basename(program)} (crashed or hung)")
    return names


def run_tests(build, programs, jobs, log):
    rc = run(["make", f"-j{jobs}", "check", "TESTS=" + " ".join(programs)], build, log,
             timeout=TEST_TIMEOUT_S)
    return rc, failed_tests(build, programs)


def try_mutation(mutation, scratch, build, jobs, log):
    lines, at = locate(mutation, scratch)
    original = lines[at]
    indent = original[:len(original) - len(original.lstrip())]
    path = os.path.join(scratch, mutation["file"])
    mutated = lines[:at] + [indent + mutation["to"] + "\n"] + lines[at + 1:]
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(mutated)
    try:
        with open(log, "a", encoding="utf-8") as out:
            out.write(f"\n==== {mutation['name']}\n")
        if run(["make", f"-j{jobs}", "check", "TESTS="], build, log) != 0:
            return "NOT BUILT", []
        rc, killers = run_tests(build, mutation["tests"], jobs, log)
        if rc == 0:
            return "SURVIVED", []
        return "killed", killers or ["(make check failed; see the log)"]
    finally:
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        now = time.time()
        os.utime(path, (now, now))  # make rebuilds the restored file


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", default=os.path.dirname(os.path.dirname(here)))
    ap.add_argument("--list", default=os.path.join(here, "mutations.txt"))
    ap.add_argument("--only", nargs="*", help="run only these mutations (by name)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the scratch copy")
    args = ap.parse_args()
    src = os.path.abspath(args.src)
    mutations = load_mutations(args.list, src)
    if args.only:
        unknown = set(args.only) - {m["name"] for m in mutations}
        if unknown:
            fail("no such mutation: " + ", ".join(sorted(unknown)))
        mutations = [m for m in mutations if m["name"] in args.only]
    started = time.time()
    scratch = tempfile.mkdtemp(prefix="ald-mutation-")
    os.chmod(scratch, 0o755)  # realtime.bats runs the engine from it as nobody
    log = os.path.join(scratch, "mutation.log")
    print(f"mutation check: {len(mutations)} mutations, scratch copy {scratch}", flush=True)
    try:
        build = prepare(src, scratch, args.jobs, log)
        programs = sorted({t for m in mutations for t in m["tests"]})
        rc, broken = run_tests(build, programs, args.jobs, log)
        if rc != 0:
            fail("the unmutated tree fails its tests, so no mutation result means anything: "
                 + ", ".join(broken or programs) + f" (see {log})")
        results = []
        for m in mutations:
            verdict, killers = try_mutation(m, scratch, build, args.jobs, log)
            results.append((m, verdict, killers))
            print(f"  {m['name']}: {verdict}", flush=True)
    finally:
        if not args.keep:
            shutil.copy2(log, os.path.join(os.getcwd(), "mutation.log"))
            shutil.rmtree(scratch, ignore_errors=True)
    print()
    print("| mutation | file | result | killed by |")
    print("|---|---|---|---|")
    for m, verdict, killers in results:
        shown = ", ".join(killers[:3]) + (f" (+{len(killers) - 3} more)" if len(killers) > 3
                                          else "")
        print(f"| {m['name']} | {m['file']} | {verdict} | {shown} |")
    killed = sum(1 for _, v, _ in results if v == "killed")
    minutes = (time.time() - started) / 60
    print(f"\n{killed} of {len(results)} killed in {minutes:.1f} min "
          f"(log: {os.path.join(os.getcwd(), 'mutation.log')})")
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
