#!/usr/bin/env python3
"""Every sketch, every example: N random configs are either valid or rejected
with a reason, and every valid one builds and passes the reference check.

  check_sketches.py HATC EXAMPLE.mlir TARGET N SEED

Samples N configs with `hatc space --any` (knobs drawn freely, so the
constraints get exercised), requires a reason for each invalid one, then
measures the valid ones with `hatc measure --configs` (isolated workers,
reference check on) and fails on any result that is not OK. On the gpu
target without a GPU (every result DEVICE_UNAVAILABLE) each valid config is
instead compiled to PTX, which must hold an `.entry`; the summary says so.
Prints a one-line summary.
"""
import json
import subprocess
import sys
import tempfile

hatc, example, target, n, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
space = subprocess.run([hatc, "space", example, "--target", target, "--sample", str(n),
                        "--any", "--seed", seed], capture_output=True, text=True)
if space.returncode != 0:
    sys.exit(f"hatc space failed: {space.stderr.strip()}")
valid, invalid, unique = [], 0, set()
for line in space.stdout.splitlines():
    entry = json.loads(line)
    if entry["valid"]:
        key = json.dumps(entry["config"], sort_keys=True)
        if key not in unique:
            unique.add(key)
            valid.append(entry["config"])
    else:
        invalid += 1
        if not entry.get("reason"):
            sys.exit(f"invalid config without a reason: {entry['config']}")
failures = []
if valid:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for config in valid:
            f.write(json.dumps(config) + "\n")
    measure = subprocess.run([hatc, "measure", example, "--target", target, "--configs", f.name,
                              "--repeat", "1", "--json", "--run-timeout", "60"],
                             capture_output=True, text=True)
    if measure.returncode != 0:
        sys.exit(f"hatc measure failed: {measure.stderr.strip()}")
    results = [json.loads(line) for line in measure.stdout.splitlines()]
    if len(results) != len(valid):
        sys.exit(f"expected {len(valid)} results, got {len(results)}")
    failures = [r for r in results if r["error"] != "OK"]
outcome = "built and checked OK"
if target == "gpu" and valid and all(r["error"] == "DEVICE_UNAVAILABLE" for r in failures) \
        and len(failures) == len(valid):
    # No GPU here: the configs must still build, down to PTX.
    outcome = f"built to PTX (no GPU here: {failures[0].get('message', '')})"
    failures = []
    for config in valid:
        script = subprocess.run([hatc, "space", example, "--target", target, "--script",
                                 json.dumps(config)], capture_output=True, text=True)
        with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
            f.write(script.stdout)
        ptx = subprocess.run([hatc, "compile", example, "--target", target, "--schedule", f.name,
                              "--emit", "ptx"], capture_output=True, text=True)
        if script.returncode != 0 or ptx.returncode != 0 or ".entry" not in ptx.stdout:
            failures.append({"error": "BUILD_ERROR", "config": config,
                             "message": (script.stderr + ptx.stderr).strip()})
print(f"{example.split('/')[-1]} on {target}: {n} sampled, {invalid} rejected with a reason, "
      f"{len(valid)} distinct valid, {len(valid) - len(failures)} {outcome}")
for r in failures:
    print(f"FAILED {r['error']}: {json.dumps(r['config'])}: {r.get('message', '')}")
sys.exit(1 if failures else 0)
