#!/usr/bin/python3
"""metric_names.py - which metric names the monitoring kit uses, and whether
the engine exports them.

The old system alerted on metrics it never exported, so its alerts could never
fire. This tool lists every metric name in the alert rules and the Grafana
dashboards and compares them with what the engine really exports.

Usage:
  metric_names.py used RULES.yml DASH.json...
      print each metric name used, one per line, sorted
  metric_names.py check-docs METRICS.md RULES.yml DASH.json...
      fail (exit 1) naming each engine metric (ald_*) not in the docs table
  metric_names.py check-scrape SCRAPE.txt [--optional METRICS.md] RULES.yml DASH.json...
      fail naming each ald_* metric missing from a live /metrics scrape;
      with --optional, families in METRICS.md's tables under a heading that
      mentions Modbus (present only with PLC_TYPE=real) are reported as
      skipped, not failed
Names that are not the engine's (up, ALERTS, alertmanager_*) must be in
KIT_METRICS below: they come from Prometheus, Alertmanager and HAProxy's
exporter themselves.

Needs python3-yaml (Debian). Run with /usr/bin/python3.
"""
import json
import re
import sys

import yaml

# Series that Prometheus or Alertmanager produce themselves.
KIT_METRICS = {
    "up",  # Prometheus, per scrape target
    "ALERTS",  # Prometheus, per pending/firing alert
    "alertmanager_notifications_total",
    "alertmanager_notifications_failed_total",
    "haproxy_backend_active_servers",  # HAProxy's exporter (deploy/haproxy)
}

PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "offset", "bool", "inf", "nan", "atan2",
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def rule_exprs(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            yield "%s (%s)" % (rule.get("alert") or rule.get("record"), path), rule["expr"]


def dashboard_exprs(path):
    with open(path) as f:
        dash = json.load(f)

    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))

    for p in panels(dash.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr"):
                yield "%s: %s" % (path, p.get("title")), t["expr"]
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if isinstance(q, str) and q:
            yield "%s: variable %s" % (path, v.get("name")), q


def all_exprs(files):
    for path in files:
        if path.endswith(".json"):
            yield from dashboard_exprs(path)
        else:
            yield from rule_exprs(path)


def names_in(expr):
    """Metric names in one PromQL expression (or a Grafana label_values())."""
    found = set(re.findall(r"label_values\(\s*([A-Za-z_:][\w:]*)\s*,", expr))
    expr = re.sub(r"label_values\([^)]*\)", " ", expr)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', " ", expr)  # strings
    expr = re.sub(r"'(?:[^'\\]|\\.)*'", " ", expr)
    expr = re.sub(r"\{[^}]*\}", " ", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)  # ranges
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    expr = re.sub(r"\$\w+", " ", expr)  # Grafana variables
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", expr):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in PROMQL_WORDS:
            continue
        found.add(word)
    return found


def used_names(files):
    used = {}
    for where, expr in all_exprs(files):
        for name in names_in(expr):
            used.setdefault(name, []).append(where)
    return used


def family_of(name, families):
    """The exported family a used name belongs to (histogram series too)."""
    if name in families:
        return name
    for suffix in HISTOGRAM_SUFFIXES:
        if name.endswith(suffix) and name[: -len(suffix)] in families:
            return name[: -len(suffix)]
    return None


def docs_families(path, section_filter=None):
    """ald_* names in the first column of the Markdown tables of METRICS.md.
    With section_filter, only rows under a heading containing that text."""
    names, heading = set(), ""
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                heading = line.lower()
            if not line.lstrip().startswith("|"):
                continue
            if section_filter and section_filter not in heading:
                continue
            first_cell = line.strip().strip("|").split("|")[0]
            names.update(re.findall(r"\bald_[a-z0-9_]+", first_cell))
    return names


def scrape_families(path):
    with open(path) as f:
        return set(re.findall(r"^# TYPE (\S+) ", f.read(), re.M))


def report(used, families, what, optional=frozenset()):
    bad = 0
    for name in sorted(used):
        where = "; ".join(sorted(set(used[name]))[:3])
        if not name.startswith("ald_"):
            if name not in KIT_METRICS:
                print("not an engine or kit metric: %s (used in %s)" % (name, where))
                bad += 1
            continue
        if family_of(name, families):
            continue
        if family_of(name, optional):
            print("skipped: %s is a Modbus plugin metric (PLC_TYPE=real only)" % name)
            continue
        print("missing from %s: %s (used in %s)" % (what, name, where))
        bad += 1
    return 1 if bad else 0


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd = argv[1]
    if cmd == "used":
        for name in sorted(used_names(argv[2:])):
            print(name)
        return 0
    if cmd == "check-docs":
        return report(used_names(argv[3:]), docs_families(argv[2]), argv[2])
    if cmd == "check-scrape":
        files, optional = argv[3:], set()
        if files[:1] == ["--optional"]:
            optional = docs_families(files[1], section_filter="modbus")
            files = files[2:]
        return report(used_names(files), scrape_families(argv[2]), "the live scrape",
                      optional)
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
