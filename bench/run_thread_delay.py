#!/usr/bin/env python3
"""run_thread_delay.py - what kept the engine's recipe run thread from a core.

Usage: perf sched timehist -i perf.data | bench/run_thread_delay.py [--state FILE]

Reads `perf sched timehist` output (one line per switch-out: time, CPU,
task[tid/pid], wait, sch delay, run time). For each time the run thread
(`ald-run`, engine/thread_role.h) got a CPU, its sch delay is the time from its
wake-up to running; every task that ran on that CPU in that interval is
charged its overlap. Prints the totals by task (the engine's own threads as
engine:NAME), for all wake-ups and for those delayed >= 0.1 ms, and the
delay's quantiles. With --state FILE (`perf sched timehist --state`), also
which task took the CPU each time the run thread was preempted.
"""
import argparse
import bisect
import collections
import re
import sys

LINE = re.compile(r"^\s*([\d.]+)\s+\[(\d+)\]\s+(.*?)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)(?:\s+(\S+))?\s*$")
TASK = re.compile(r"^(.*)\[(\d+)(?:/(\d+))?\]$")
RUN_THREAD = "ald-run"


def parse(lines):
    """(end s, cpu, name, pid, sch delay s, run s, state) per switch-out."""
    out = []
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        end, cpu, task, _, delay, ran, state = m.groups()
        t = TASK.match(task)
        name, pid = (t.group(1), t.group(3) or t.group(2)) if t else (task, "0")
        out.append((float(end), int(cpu), name, pid, float(delay) / 1e3, float(ran) / 1e3, state))
    return out


def engine_pid(events):
    pids = collections.Counter(e[3] for e in events if e[2] == RUN_THREAD)
    if not pids:
        sys.exit("run_thread_delay.py: no '%s' thread in the input" % RUN_THREAD)
    return pids.most_common(1)[0][0]


def by_cpu(events):
    """Each CPU's switch-outs in time order, and their end times (for bisect)."""
    cpus = collections.defaultdict(list)
    for e in events:
        cpus[e[1]].append(e)
    for cpu_events in cpus.values():
        cpu_events.sort(key=lambda e: e[0])
    return {cpu: (evs, [e[0] for e in evs]) for cpu, evs in cpus.items()}


def charge(events, cpus, pid, at_least):
    """Who ran on the run thread's CPU while it waited for it."""
    def label(name, p):
        return ("engine:" + name) if p == pid else name

    ms, count, waits, total = collections.Counter(), collections.Counter(), 0, 0.0
    for end, cpu, name, p, delay, ran, _ in events:
        if name != RUN_THREAD or p != pid or delay * 1e3 < at_least:
            continue
        start = end - ran
        woke = start - delay
        waits += 1
        total += delay * 1e3
        evs, ends = cpus[cpu]
        # a task that ran in [woke, start] ended after woke and by start
        for i in range(bisect.bisect_right(ends, woke), bisect.bisect_right(ends, start + 1e-6)):
            end2, _, name2, p2, _, ran2, _ = evs[i]
            overlap = min(end2, start) - max(end2 - ran2, woke)
            if overlap > 0:
                ms[label(name2, p2)] += overlap * 1e3
                count[label(name2, p2)] += 1
    print("run thread wake-ups with a delay >= %.1f ms: %d, %.2f ms in all; ran on its CPU "
          "meanwhile:" % (at_least, waits, total))
    for key, v in ms.most_common(8):
        print("    %-28s %8.3f ms over %d" % (key, v, count[key]))


def preempted(events, pid):
    took = collections.Counter()
    for cpu_events, _ in by_cpu(events).values():
        for i, e in enumerate(cpu_events[:-1]):
            if e[2] == RUN_THREAD and e[3] == pid and e[6] == "R":
                took[cpu_events[i + 1][2]] += 1
    print("run thread preempted %d times; the CPU went to: %s" % (
        sum(took.values()), ", ".join("%s %d" % kv for kv in took.most_common(5))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--state", help="perf sched timehist --state output")
    args = ap.parse_args()
    events = parse(sys.stdin)
    pid = engine_pid(events)
    cpus = by_cpu(events)
    for at_least in (0.0, 0.1):
        charge(events, cpus, pid, at_least)
    d = sorted(e[4] * 1e3 for e in events if e[2] == RUN_THREAD and e[3] == pid)
    n = len(d)
    print("run thread delay to a CPU: %d wake-ups, p50 %.3f p99 %.3f p99.9 %.3f max %.3f ms"
          % (n, d[n // 2], d[int(n * 0.99)], d[int(n * 0.999)], d[-1]))
    if args.state:
        with open(args.state, encoding="utf-8") as f:
            preempted(parse(f), pid)


if __name__ == "__main__":
    main()
