#!/usr/bin/env python3
"""Formats matmul_baseline.sh's rows ("NAME THREADS {json}") as a table."""
import json
import sys

rows = []
for line in sys.stdin:
    name, threads, js = line.split(" ", 2)
    rows.append((name, int(threads), json.loads(js)))
blas = {t: r["gflops"] for n, t, r in rows if n == "openblas"}
cpu = next((r["cpu"] for _, _, r in rows if "cpu" in r), "this CPU")
print(f"sgemm 1024^3 on {cpu}; medians of the timed runs")
print(f"{'schedule':<18} {'threads':>7} {'median ms':>10} {'GFLOP/s':>9} {'vs OpenBLAS':>12} {'correct':>8}")
for name, t, r in rows:
    ok = r.get("correct", "-")
    print(f"{name:<18} {t:>7} {r['median_s'] * 1e3:>10.3f} {r['gflops']:>9.1f} "
          f"{r['gflops'] / blas[t]:>11.2f}x {str(ok):>8}")
