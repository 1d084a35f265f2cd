#!/usr/bin/python3
"""Checks bench/model_perf.py end to end on the small MLP (timings are
printed by the bench, never asserted here):

    /usr/bin/python3 tests/onnx/model_perf_test.py --hatc build/bin/hatc \\
        --work DIR [--ort-dir DIR]

1. One short run (1 thread, 2 turns, 1 round, --json): exit 0, one row
   with positive ORT and hatc latencies, 2 runs of each, the ratio the
   median of the turns' ratios, outputs within 1e-3 of ORT's, no tuned
   column without --db.
2. The same through a hatc that scales its saved outputs by 1.01: the row
   is WRONG and the exit status 2 (the bench's comparison is live).
3. An unknown model: exit 1 with one `model_perf.py: error:` line; a hatc
   that dies in its turn: exit 1, the error naming the side and its last
   message.
4. A database whose records came from another hatc version (a short tune,
   exported, its compiler version rewritten, replayed): the tuned column
   warns that the tasks run their default; with --allow-stale it takes
   the records and does not warn.
Exit 0 only when all pass.
"""
import argparse
import json
import os
import stat
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(os.path.dirname(os.path.dirname(HERE)), "bench", "model_perf.py")
PYTHON = "/usr/bin/python3"

# A hatc that runs the real one, then corrupts the outputs it saved.
WRONG_HATC = """#!/usr/bin/python3
import subprocess, sys
import numpy as np
args = sys.argv[1:]
done = subprocess.run([{real!r}] + args)
if "--save-outputs" in args:
    path = args[args.index("--save-outputs") + 1] + "/output_0.npy"
    np.save(path, np.load(path) * np.float32(1.01))
sys.exit(done.returncode)
"""


def bench(args, hatc, *extra):
    cmd = [PYTHON, BENCH, "--hatc", hatc, "--work", args.work, "--threads", "1",
           "--repeat", "2", "--warmup", "0", "--rounds", "1"]
    if args.ort_dir:
        cmd += ["--ort-dir", args.ort_dir]
    return subprocess.run(cmd + list(extra), capture_output=True, text=True,
                          timeout=600)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hatc", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--ort-dir")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    failures, passed = [], []

    def check(ok, what, detail=""):
        print(f"  {'PASS' if ok else 'FAIL'}  {what}"
              + (f": {detail}" if detail and not ok else ""), flush=True)
        (passed if ok else failures).append(what)

    done = bench(args, args.hatc, "mlp", "--json")
    check(done.returncode == 0, "bench on mlp exits 0",
          f"exit {done.returncode}: {done.stderr.strip()[-500:]}")
    if done.returncode == 0:
        result = json.loads(done.stdout)
        rows = result["rows"]
        check(len(rows) == 1 and rows[0]["model"] == "mlp" and rows[0]["threads"] == 1,
              "one row: mlp at 1 thread", json.dumps(rows)[:300])
        row = rows[0]
        default = row["variants"]["default"]
        check(row["ort_s"] > 0 and default["median_s"] > 0, "positive latencies",
              f"ORT {row['ort_s']}, hatc {default['median_s']}")
        paired = [o / h for o, h in zip(row["ort_samples_s"], default["samples_s"])]
        check(len(row["ort_samples_s"]) == len(default["samples_s"]) == 2,
              "ORT and hatc took 2 turns each (--repeat 2, 1 round)",
              f"{len(row['ort_samples_s'])} and {len(default['samples_s'])} runs")
        check(abs(default["ratio"] - statistics.median(paired)) < 1e-9,
              "ratio is the median of the turns' ORT / hatc")
        check(row["ort_idle_cpu_s"] >= 0 and default["idle_cpu_s"] >= 0,
              "each side's CPU time during the other's turns is reported")
        check(default["correct"] and default["max_rel_diff"] < 1e-3
              and default["max_abs_diff"] > 0,
              "hatc's outputs within 1e-3 of ORT's (and compared: not all equal)",
              f"max abs {default['max_abs_diff']}, rel {default['max_rel_diff']}")
        check(row["variants"]["tuned"] is None, "no tuned column without --db")

    wrong_hatc = os.path.join(args.work, "wrong_hatc.py")
    with open(wrong_hatc, "w") as f:
        f.write(WRONG_HATC.format(real=os.path.abspath(args.hatc)))
    os.chmod(wrong_hatc, os.stat(wrong_hatc).st_mode | stat.S_IXUSR)
    done = bench(args, wrong_hatc, "mlp")
    check(done.returncode == 2 and "WRONG: hatc default on mlp" in done.stdout,
          "outputs off by 1% make the row WRONG and exit 2",
          f"exit {done.returncode}: {done.stdout.strip()[-400:]}")

    # A hatc that compiles, says it is ready, and dies on its first turn.
    dying_hatc = os.path.join(args.work, "dying_hatc.sh")
    with open(dying_hatc, "w") as f:
        f.write("#!/bin/sh\necho ready\nread line\necho 'killed by a test' >&2\n"
                "exit 3\n")
    os.chmod(dying_hatc, os.stat(dying_hatc).st_mode | stat.S_IXUSR)
    done = bench(args, dying_hatc, "mlp")
    lines = done.stderr.strip().splitlines()
    check(done.returncode == 1 and lines and "exited 3 in its turn: killed by a test" in lines[-1] and lines[-1].startswith(
              "model_perf.py: error: default ("),
          "a hatc that dies in its turn: an error naming it, exit 1",
          f"exit {done.returncode}: {done.stderr.strip()[-300:]}")

    done = bench(args, args.hatc, "no_such_model")
    lines = done.stderr.strip().splitlines()
    check(done.returncode == 1 and len(lines) == 1
          and lines[0].startswith("model_perf.py: error: no_such_model"),
          "an unknown model: one error line, exit 1",
          f"exit {done.returncode}: {done.stderr.strip()[-300:]}")

    hatc = os.path.abspath(args.hatc)
    model = os.path.join(args.work, "mlp", "model.onnx")
    shapes_file = os.path.join(args.work, "mlp", "input_shapes.txt")
    shapes = []
    if os.path.exists(shapes_file):
        for line in open(shapes_file):
            if line.strip():
                shapes += ["--input-shape", line.strip()]
    fresh = os.path.join(args.work, "fresh.db")
    stale = os.path.join(args.work, "stale.db")
    for path in (fresh, stale):
        for suffix in ("", "-wal", "-shm", ".model"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    tune = subprocess.run([hatc, "tune", model, "--db", fresh, "--trials", "2", "--seed", "1"]
                          + shapes, capture_output=True, text=True, timeout=600)
    log = subprocess.run([hatc, "export", "--db", fresh], capture_output=True, text=True)
    old_log = "".join(
        json.dumps(dict(json.loads(line), compiler_version="hatc-000000000000+llvm-19.1.7")) + "\n"
        for line in log.stdout.splitlines() if line.strip())
    replay = subprocess.run([hatc, "replay", "-", "--db", stale], input=old_log,
                            capture_output=True, text=True)
    check(tune.returncode == 0 and log.returncode == 0 and replay.returncode == 0
          and old_log, "a database of an older hatc's records",
          (tune.stderr + log.stderr + replay.stderr).strip()[-400:])
    done = bench(args, args.hatc, "mlp", "--db", stale)
    check(done.returncode == 0 and "have only stale records in" in done.stderr
          and "--allow-stale takes them" in done.stderr,
          "stale records: the tuned column warns that it runs the default",
          f"exit {done.returncode}: {done.stderr.strip()[-400:]}")
    done = bench(args, args.hatc, "mlp", "--db", stale, "--allow-stale", "--json")
    check(done.returncode == 0 and "stale records" not in done.stderr
          and json.loads(done.stdout)["rows"][0]["variants"]["tuned"] is not None,
          "--allow-stale takes them, without the warning",
          f"exit {done.returncode}: {done.stderr.strip()[-400:]}")

    print(f"{len(passed)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
