#!/usr/bin/python3
"""rule_coverage.py - does every alert carry what an operator needs, and is
every alert unit-tested both ways?

Usage: rule_coverage.py RULES.yml RULES_TEST.yml RUNBOOK.md

Fails (exit 1), naming the alert, when an alert
  - has no severity label (critical | warning) or no component label,
  - lacks a summary, description or runbook_url annotation,
  - has a runbook_url that is not RUNBOOK.md#anchor for a heading that exists,
  - has no promtool test case in which it fires (non-empty exp_alerts), or
  - has no case in which it stays quiet (exp_alerts: []).
Needs python3-yaml (Debian). Run with /usr/bin/python3.
"""
import os
import re
import sys

import yaml


def alerts(rules_path):
    with open(rules_path) as f:
        doc = yaml.safe_load(f)
    for group in doc["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                yield rule


def tested(test_path):
    """alertname -> set of outcomes ("fires", "quiet") over all test cases."""
    with open(test_path) as f:
        doc = yaml.safe_load(f)
    seen = {}
    for case in doc.get("tests", []):
        for check in case.get("alert_rule_test", []):
            outcome = "fires" if check.get("exp_alerts") else "quiet"
            seen.setdefault(check["alertname"], set()).add(outcome)
    return seen


def anchors(markdown_path):
    """GitHub-style anchors of the Markdown headings."""
    result = set()
    with open(markdown_path) as f:
        for line in f:
            m = re.match(r"#+\s+(.*)", line)
            if m:
                text = m.group(1).strip().lower()
                text = re.sub(r"[^\w\- ]", "", text)
                result.add(text.replace(" ", "-"))
    return result


def problems(rule, seen, runbook_name, runbook_anchors):
    name = rule["alert"]
    labels = rule.get("labels", {})
    notes = rule.get("annotations", {})
    if labels.get("severity") not in ("critical", "warning"):
        yield "%s: severity label must be critical or warning" % name
    if not labels.get("component"):
        yield "%s: no component label" % name
    for key in ("summary", "description", "runbook_url"):
        if not notes.get(key):
            yield "%s: no %s annotation" % (name, key)
    target = notes.get("runbook_url", "")
    page, _, anchor = target.partition("#")
    if os.path.basename(page) != runbook_name or anchor not in runbook_anchors:
        yield "%s: runbook_url %r has no matching heading in %s" % (name, target, runbook_name)
    for outcome, words in (("fires", "fires"), ("quiet", "stays quiet")):
        if outcome not in seen.get(name, set()):
            yield "%s: no promtool test case where it %s" % (name, words)


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    seen = tested(argv[2])
    runbook_anchors = anchors(argv[3])
    runbook_name = os.path.basename(argv[3])
    bad = [p for rule in alerts(argv[1])
           for p in problems(rule, seen, runbook_name, runbook_anchors)]
    names = {r["alert"] for r in alerts(argv[1])}
    bad += ["%s: tested but not in %s" % (n, argv[1]) for n in sorted(set(seen) - names)]
    for line in bad:
        print(line)
    print("%d alerts checked, %d problems" % (len(names), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
