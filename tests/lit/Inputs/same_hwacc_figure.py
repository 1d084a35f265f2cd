"""Compares the records of two measurements (JSON-lines logs) of one hwacc
config: prints whether their figures agree and whether the host work left
out of them is kept beside them."""
import json
import sys


def record(path):
    lines = [json.loads(line) for line in open(path) if line.strip()]
    return [r for r in lines if "config" in r][0]


first, second = record(sys.argv[1]), record(sys.argv[2])
for r in (first, second):
    assert r["error"] == "OK", r
same = all(first[k] == second[k] for k in ("cycles", "latency_s")) and \
    first["extras"]["gflops"] == second["extras"]["gflops"]
print("same figure:", same, first["cycles"], second["cycles"])
extras = first["extras"]
gap = extras["workload_cycles"] - first["cycles"]
print("im2col beside it:",
      extras["host_ops_s"] > 0 and extras["kept_host_s"] == 0 and
      abs(gap - extras["host_ops_s"] * 1e9) <= 1 and
      extras["device"]["total_cycles"] == first["cycles"], gap)
