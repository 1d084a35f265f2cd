#!/usr/bin/env python3
"""make_log.py KEY.json [--bad] [--confirmed] [--default] [--version V]
[--threads N] : writes a hatc-log v1 for matmul_odd on cpu.

KEY.json is what `hatc best --print-key` prints (workload key and hash,
target, compiler version); the records below are stamped with it, so the
log matches this build and machine. Four configs with known latencies, one
BUILD_ERROR, and one record of another target. With --bad, malformed lines
are mixed in (a truncated line, a wrong type, an unknown version, garbage).
With --confirmed, the slowest config was measured 3 times (what `tune`
leaves of the configs it measured again) and the others once, and each
record carries its GFLOP/s. With --default, a record of the default
schedule too (2e-4 s), and each record carries its GFLOP/s (what the
report's model view reads). With --version V, the records are stamped with
compiler version V instead (stale here). With --threads N, each record
ran on N kernel threads (by default they say nothing of threads), each
config names them (its "par", the default's "threads", as `hatc tune`
writes a CPU default) and each latency is divided by N.
"""
import json
import sys


def fnv1a64(text):
    h = 0xcbf29ce484222325
    for byte in text.encode():
        h ^= byte
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


key = json.load(open(sys.argv[1]))
bad = "--bad" in sys.argv[2:]
confirmed = "--confirmed" in sys.argv[2:]
default = "--default" in sys.argv[2:]
if "--version" in sys.argv[2:]:
    key["compiler_version"] = sys.argv[sys.argv.index("--version") + 1]
threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv[2:] else None
lines = []


def gflops(latency):
    """extras "gflops", what `report` ranks by (--confirmed, --default)."""
    if not (confirmed or default) or latency is None:
        return {}
    return {"gflops": 2 * 257 * 129 * 67 / latency / 1e9}


def placeholder_script(tile):
    """A transform script `replay` takes (it parses) that no build can use:
    it looks for an scf.for around the matmul before anything made one, so
    applying it fails (what a record of another hatc's sketches may do)."""
    return (f"// schedule for tile {tile}\n"
            "module attributes {transform.with_named_sequence} {\n"
            "  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {\n"
            "    %mm = transform.structured.match ops{[\"linalg.matmul\"]} in %root : (!transform.any_op) -> !transform.any_op\n"
            "    %loop = transform.get_parent_op %mm {op_name = \"scf.for\"} : (!transform.any_op) -> !transform.any_op\n"
            "    transform.yield\n"
            "  }\n"
            "}\n")


def record(config, latency, error="OK", target=None, t=1700000000.0, extras=None,
           sketch="cpu_matmul"):
    target = target or (key["target_kind"], key["target_name"], key["target_fingerprint"])
    config = {"sketch": sketch, **config}
    if threads:
        config[("threads" if sketch == "default" else "par")] = threads
        latency = None if latency is None else latency / threads
    lines.append(json.dumps({
        **({"threads": threads} if threads else {}),
        "format": "hatc-log", "version": 1,
        "workload_key": key["workload_key"], "workload_hash": key["workload_hash"],
        "target_kind": target[0], "target_name": target[1], "target_fingerprint": target[2],
        "compiler_version": key["compiler_version"], "created_at": t,
        "sketch": sketch, "config": config, "config_hash": fnv1a64(canonical(config)),
        "script": placeholder_script(config.get('tile', 'default')),
        "samples": [] if latency is None else [latency, latency * 1.01, latency * 0.99],
        "latency_s": latency, "cycles": None, "error": error, "extras": {**gflops(latency), **(extras or {})},
    }))


record({"tile": [32, 32, 16]}, 3.0e-4)
record({"tile": [64, 64, 16]}, 1.5e-4)   # the best
if bad:
    lines.append(lines[-1][: len(lines[-1]) // 2])  # truncated
    lines.append(lines[0].replace('"latency_s": 0.0003', '"latency_s": "fast"'))
    lines.append(lines[0].replace('"version": 1', '"version": 99'))
    lines.append("\x00\x01garbage\xff")
record({"tile": [128, 128, 32]}, 2.2e-4)
record({"tile": [8, 8, 8]}, None, error="BUILD_ERROR")
record({"tile": [16, 16, 16]}, 1.0e-5, target=("cpu", "other", "cpu:other:64c:0"))
record({"tile": [256, 64, 16]}, 4.0e-4,
       extras={"measurements": 3, "measured_s": [1e-4, 4.1e-4, 4.0e-4]} if confirmed else None)
if default:
    record({}, 2.0e-4, sketch="default")
print("\n".join(lines))
