#!/usr/bin/env python3
"""tamper_log.py LOG : writes LOG's records with what `hatc replay` must
refuse though every field is well formed, then LOG's records unchanged.

LOG is an export (its first record carries the workload's IR, the others
none). The tampered lines, in order:
  1. the first record claiming another workload hash than its IR's;
  2. a record without IR of that wrong hash (its IR was refused above);
  3. the first record with IR that does not parse;
  4. the first record under a workload key its IR does not compute;
  5. the first record with a script that does not parse;
  6. the first record with a script without @__transform_main.
"""
import json
import sys

records = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
first, rest = records[0], records[1:]
assert "workload_ir" in first and rest and "workload_ir" not in rest[0]
wrong_hash = "w1-" + "0" * 32


def tampered(record, **fields):
    out = dict(record)
    out.update(fields)
    print(json.dumps(out, separators=(",", ":")))


tampered(first, workload_hash=wrong_hash)
tampered(rest[0], workload_hash=wrong_hash)
tampered(first, workload_ir="func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {")
tampered(first, workload_key="matmul_f32_M1_N1_K1")
tampered(first, script="this is not a transform script")
tampered(first, script="module {}")
for record in records:
    print(json.dumps(record, separators=(",", ":")))
