#!/usr/bin/env python3
"""Scaling of the MPI measurement farm (hatc tune --farm mpi).

  bench/farm_scaling.py [--hatc build/bin/hatc] [--latency 0.25] [--trials 84]
                        [--batch 42] [--ranks 1,2,4,8]

Runs `mpirun -n K hatc tune examples/matmul_1024.mlir --target hwacc --farm
mpi` for each K, oversubscribed on this machine. Measurement is simulated
(--farm-simulate: each rank's device sleeps LATENCY seconds per candidate,
no CPU), so the figure measures the farm (dispatch, results, rank 0's search
and database writes), not the two cores. The search is `random` so that
rank 0's per-batch work does not grow with the records (the XGBoost model
would; that is the search's cost, not the farm's).

Definitions:
  measuring ranks W(K) = K - 1 (rank 0 searches and records); W(1) = 1:
                         a job of one rank measures on rank 0 itself.
  throughput T(K)      = candidates / the tuner's wall time (from hatc's
                         closing "farm:" line: start-up and MPI_Init excluded).
  efficiency E(K)      = T(K) / (W(K) * T1), T1 = T(2): the throughput of
                         one measuring rank. E = 1: every added rank adds a
                         whole rank's throughput.

The 64-rank estimate replays the 8-rank run's measured costs: rank 0's serial
time per candidate o (search + recording between batches + dispatch), and
the round-trip overhead r per round of chunks beyond the measurement itself.
A batch of B = rounds * W candidates then takes B*o + rounds*(LATENCY + r)
with the same rounds per batch as the 8-rank run.
"""
import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--hatc", default=os.path.join(root, "build", "bin", "hatc"))
parser.add_argument("--workload", default=os.path.join(root, "examples", "matmul_1024.mlir"))
parser.add_argument("--latency", type=float, default=0.25, help="simulated seconds per candidate")
parser.add_argument("--trials", type=int, default=84)
parser.add_argument("--batch", type=int, default=42, help="a multiple of every W keeps ranks busy")
parser.add_argument("--ranks", default="1,2,4,8")
args = parser.parse_args()

if not shutil.which("mpirun"):
    sys.exit("farm_scaling: mpirun not found (apt-get install openmpi-bin)")
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
closing = re.compile(r"farm: (\d+) candidates in ([\d.]+) s \(([\d.]+)/s\) on (\d+) measuring ranks "
                     r"of (\d+); rank 0 per candidate: ([\d.]+) ms between batches, ([\d.]+) ms "
                     r"dispatching")

rows = {}
tmp = tempfile.mkdtemp(prefix="hatc-farm-bench-")
try:
    for k in [int(x) for x in args.ranks.split(",")]:
        db = os.path.join(tmp, f"k{k}.db")
        command = ["mpirun", "--oversubscribe", "-n", str(k), args.hatc, "tune", args.workload,
                   "--target", "hwacc", "--farm", "mpi", "--farm-simulate", str(args.latency),
                   "--search", "random", "--db", db, "--trials", str(args.trials),
                   "--batch", str(args.batch), "--seed", "1"]
        run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
        match = closing.search(run.stderr)
        if run.returncode != 0 or not match:
            sys.exit(f"farm_scaling: -n {k} failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
        n, wall, rate, measuring, _, between_ms, dispatch_ms = match.groups()
        rows[k] = dict(n=int(n), wall=float(wall), rate=float(rate), measuring=int(measuring),
                       w=max(1, k - 1), o=(float(between_ms) + float(dispatch_ms)) / 1e3)
        print(f"  -n {k}: {n} candidates in {wall} s", file=sys.stderr)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

base = rows.get(2) or rows[min(rows)]
t1 = base["rate"]
print(f"\nfarm scaling: {args.trials} candidates, batch {args.batch}, simulated {args.latency} s "
      f"per candidate, {os.cpu_count()} cores")
print("| ranks | measuring ranks | cand/s | ideal cand/s | efficiency | rank 0 ms/cand |")
print("|---|---|---|---|---|---|")
for k, row in sorted(rows.items()):
    efficiency = row["rate"] / (row["w"] * t1)
    print(f"| {k} | {row['w']} | {row['rate']:.2f} | {row['w'] / args.latency:.2f} | "
          f"{efficiency:.2f} | {row['o'] * 1e3:.1f} |")

# The 64-rank estimate from the largest run's measured costs.
big = rows[max(rows)]
w = big["w"]
rounds = math.ceil(args.batch / w)
batches = math.ceil(big["n"] / args.batch)
# Per round of chunks: the wall time beyond rank 0's serial work and the
# measurement itself.
per_round = (big["wall"] - big["n"] * big["o"]) / (batches * rounds)
r = max(0.0, per_round - args.latency)
print(f"\n64-rank estimate (from the {max(rows)}-rank run: rank 0 {big['o'] * 1e3:.1f} ms per candidate, "
      f"{r * 1e3:.1f} ms per round beyond the measurement, {rounds} rounds per batch):")
print("| measurement s | ranks | cand/s | efficiency | rank 0's serial share of the time |")
print("|---|---|---|---|---|")
for latency in sorted({args.latency, 1.0, 5.0}):
    for ranks in (8, 64):
        wk = ranks - 1
        batch = rounds * wk
        seconds = batch * big["o"] + rounds * (latency + r)
        rate = batch / seconds
        t1_model = 1 / (big["o"] + latency + r / 1)  # one rank, one candidate a round
        efficiency = rate / (wk * t1_model)
        share = batch * big["o"] / seconds
        print(f"| {latency:g} | {ranks} | {rate:.1f} | {efficiency:.2f} | {share:.2f} |")
