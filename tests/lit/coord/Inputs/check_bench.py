#!/usr/bin/env python3
"""Checks `hatc coord bench --json` output on stdin: one JSON object per
policy (with --no-hwacc: all but all-hwacc), each with the contract's
fields; with --dynamic-lowest, the dynamic
policy's makespan is the lowest; with --checked, every run reports correct
results."""
import json
import sys

POLICIES = {"dynamic", "all-cpu", "all-hwacc", "round-robin", "static-by-op"}


def main():
    lines = [l for l in sys.stdin.read().splitlines() if l.strip()]
    runs = [json.loads(l) for l in lines]
    names = [r["policy"] for r in runs]
    expected = POLICIES - {"all-hwacc"} if "--no-hwacc" in sys.argv else POLICIES
    if sorted(names) != sorted(expected):
        sys.exit("expected one object per policy, got %s" % names)
    for r in runs:
        for field in ("policy", "makespan_s", "throughput_tps", "tasks",
                      "backends", "mode"):
            if field not in r:
                sys.exit("%s: missing %s" % (r["policy"], field))
        if r["failed_tasks"] != 0:
            sys.exit("%s: failed tasks" % r["policy"])
    by = {r["policy"]: r for r in runs}
    if "--checked" in sys.argv:
        for r in runs:
            if not r["checked"]["correct"]:
                sys.exit("%s: wrong results" % r["policy"])
    if "--dynamic-lowest" in sys.argv:
        dyn = by["dynamic"]["makespan_s"]
        others = min(r["makespan_s"] for r in runs if r["policy"] != "dynamic")
        if dyn > others:
            sys.exit("dynamic %.6f s is not the lowest (best static %.6f s)" %
                     (dyn, others))
        if "gain_vs_best_static" not in by["dynamic"]:
            sys.exit("dynamic: missing gain_vs_best_static")
    print("ok: %d policies" % len(runs))


main()
