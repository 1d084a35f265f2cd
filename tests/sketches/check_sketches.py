#!/usr/bin/env python3
"""Every sketch, every example: N random configs are either valid or rejected
with a reason, and every valid one builds and passes the reference check.

  check_sketches.py HATC EXAMPLE.mlir TARGET N SEED [MIN_VALID]

Samples N configs with `hatc space --any` (knobs drawn freely, so the
constraints get exercised), requires a reason for each invalid one, then
measures the valid ones with `hatc measure --configs` (isolated workers,
reference check on, builds on every core) and fails on any result that is
not OK. On the gpu target without a GPU (every result DEVICE_UNAVAILABLE)
each valid config is instead compiled to PTX (one compile per core at a
time), which must hold an `.entry`; the summary says so.

A run where (nearly) everything is rejected checks nothing, so at least
MIN_VALID of the N free draws (default: a tenth of N) must be valid. Some
spaces are too narrow for free draws to hit (the GPU tiles of 257x129x67),
so N/10 (at least 4) draws of the constrained sampler (`hatc space
--sample`, valid configs only) join the valid ones: every example builds and
checks some configs. Prints a one-line summary.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

hatc, example, target, n, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
min_valid = int(sys.argv[6]) if len(sys.argv) > 6 else max(1, n // 10)
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
        if not entry.get("reason", "").strip():
            sys.exit(f"invalid config without a reason: {entry['config']}")
if len(space.stdout.splitlines()) != n:
    sys.exit(f"hatc space printed {len(space.stdout.splitlines())} configs, asked for {n}")
free_valid = len(valid)
if free_valid < min_valid:
    sys.exit(f"only {free_valid} distinct valid configs of {n} sampled ({invalid} rejected), "
             f"need at least {min_valid}: the sampler or the constraints reject too much")
n_constrained = max(4, n // 10)
constrained = subprocess.run([hatc, "space", example, "--target", target, "--sample",
                              str(n_constrained), "--seed", seed], capture_output=True, text=True)
if constrained.returncode != 0 or len(constrained.stdout.splitlines()) != n_constrained:
    sys.exit(f"hatc space --sample {n_constrained} failed: {constrained.stderr.strip()}")
for line in constrained.stdout.splitlines():
    config = json.loads(line)
    key = json.dumps(config, sort_keys=True)
    if key not in unique:
        unique.add(key)
        valid.append(config)
failures = []
if valid:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for config in valid:
            f.write(json.dumps(config) + "\n")
    try:
        measure = subprocess.run([hatc, "measure", example, "--target", target, "--configs",
                                  f.name, "--repeat", "1", "--json", "--run-timeout", "60"],
                                 capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    # Exit 1 with every result printed: none ran OK (each is judged below;
    # on the gpu target without a GPU that is the expected outcome).
    if measure.returncode not in (0, 1):
        sys.exit(f"hatc measure failed: {measure.stderr.strip()}")
    results = [json.loads(line) for line in measure.stdout.splitlines()]
    if len(results) != len(valid):
        sys.exit(f"expected {len(valid)} results, got {len(results)}: "
                 f"{measure.stderr.strip()}")
    failures = [r for r in results if r["error"] != "OK"]
outcome = "built and checked OK"
if target == "gpu" and valid and all(r["error"] == "DEVICE_UNAVAILABLE" for r in failures) \
        and len(failures) == len(valid):
    # No GPU here: the configs must still build, down to PTX.
    outcome = f"built to PTX (no GPU here: {failures[0].get('message', '')})"

    def build_to_ptx(config):
        script = subprocess.run([hatc, "space", example, "--target", target, "--script",
                                 json.dumps(config)], capture_output=True, text=True)
        with tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False) as f:
            f.write(script.stdout)
        ptx = subprocess.run([hatc, "compile", example, "--target", target, "--schedule", f.name,
                              "--emit", "ptx"], capture_output=True, text=True)
        os.unlink(f.name)
        if script.returncode != 0 or ptx.returncode != 0 or ".entry" not in ptx.stdout:
            return {"error": "BUILD_ERROR", "config": config,
                    "message": (script.stderr + ptx.stderr).strip()}
        return None

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        failures = [r for r in pool.map(build_to_ptx, valid) if r]
print(f"{example.split('/')[-1]} on {target}: {n} sampled, {invalid} rejected with a reason, "
      f"{free_valid} distinct valid (+{len(valid) - free_valid} of {n_constrained} constrained draws), "
      f"{len(valid) - len(failures)} {outcome}")
for r in failures:
    print(f"FAILED {r['error']}: {json.dumps(r['config'])}: {r.get('message', '')}")
sys.exit(1 if failures else 0)
