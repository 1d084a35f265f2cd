#!/usr/bin/env python3
"""Search-quality benchmark for hatc tune, printed as tables in one run.

For matmul and conv, on hwacc and the CPU: the best config found by
evolutionary search + XGBoost, by the same evolution with a random cost
model, and by pure random sampling, at equal trial budgets; the trials each
needed to reach 95% of the best any of them found; and the cost model's
pairwise rank accuracy and top-5 recall on held-out (random-sampled)
records. Target: guided search at 128 trials matches or beats random
sampling at 512.

  bench/tune_compare.py [--targets hwacc,cpu] [--budgets 64,128,256] [--random-budget 512] [--seed 1]

Each strategy runs once per task with its largest budget; smaller budgets
read the prefix of the same run (the search is sequential, so a run with a
smaller budget makes the same choices up to there). hwacc measures modeled
cycles (deterministic); CPU numbers are wall-clock medians, so run on a quiet
machine.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HATC = os.path.join(ROOT, "build", "bin", "hatc")
QUALITY = os.path.join(ROOT, "build", "bin", "hatc-bench-costmodel")
WORKLOADS = {"matmul": "examples/matmul_1024.mlir", "conv": "examples/resnet50_conv3x3.mlir"}


def curve(db):
    out = subprocess.run([HATC, "export", "--db", db], capture_output=True, text=True, check=True)
    best, points = 0.0, []
    for line in out.stdout.splitlines():
        record = json.loads(line)
        value = record["extras"].get("gflops", 0.0) if record["error"] == "OK" else 0.0
        best = max(best, value)
        points.append(best)
    return points


def run(workload, target, search, trials, seed, workdir):
    db = os.path.join(workdir, f"{os.path.basename(workload)}.{target}.{search}.db")
    cmd = [HATC, "tune", os.path.join(ROOT, workload), "--target", target, "--db", db,
           "--trials", str(trials), "--seed", str(seed), "--search", search]
    if target == "hwacc":
        cmd.append("--no-check")  # the model's cycles do not depend on the data
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return db, curve(db)


def at(points, budget):
    return points[min(budget, len(points)) - 1] if points else 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--targets", default="hwacc,cpu")
    p.add_argument("--workloads", default="matmul,conv")
    p.add_argument("--budgets", default="64,128,256")
    p.add_argument("--random-budget", type=int, default=512)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    workdir = tempfile.mkdtemp(prefix="hatc-tune-bench-")
    verdicts = []
    for target in args.targets.split(","):
        for name in args.workloads.split(","):
            workload = WORKLOADS[name]
            curves, dbs = {}, {}
            for search, trials in [("xgboost", max(budgets)), ("random-model", max(budgets)),
                                   ("random", max(max(budgets), args.random_budget))]:
                dbs[search], curves[search] = run(workload, target, search, trials, args.seed, workdir)
            overall = max(max(c) for c in curves.values())
            print(f"\n{name} ({workload}) on {target}: best GFLOP/s{' (modeled)' if target == 'hwacc' else ''}")
            columns = budgets + ([args.random_budget] if args.random_budget > max(budgets) else [])
            print(f"{'search':<22}" + "".join(f"{b:>10}" for b in columns) + f"{'trials to 95%':>16}")
            for search, points in curves.items():
                row = "".join(f"{at(points, b):>10.1f}" if b <= len(points) else f"{'-':>10}" for b in columns)
                reach = next((i + 1 for i, v in enumerate(points) if v >= 0.95 * overall), None)
                print(f"{search:<22}{row}{(str(reach) if reach else 'never'):>16}")
            guided128, random512 = at(curves["xgboost"], 128), at(curves["random"], args.random_budget)
            ok = guided128 >= random512
            verdicts.append(f"{name}/{target}: guided@128 {guided128:.1f} vs random@{args.random_budget} "
                            f"{random512:.1f} -> {'met' if ok else 'NOT met'}")
            quality = subprocess.run([QUALITY, dbs["random"], "0.5"], capture_output=True, text=True)
            print("cost model on held-out random samples (train on the first half, test on the rest):")
            print("\n".join("  " + l for l in quality.stdout.splitlines()))
    print("\ntarget: guided search at 128 trials matches or beats random sampling at 512")
    print("\n".join("  " + v for v in verdicts))


if __name__ == "__main__":
    sys.exit(main())
