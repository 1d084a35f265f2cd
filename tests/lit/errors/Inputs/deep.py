#!/usr/bin/env python3
"""deep.py KIND N [LOG] : writes to stdout an input nested N levels deep.

  mlir    a workload whose constant carries an attribute [[[...]]]
  type    a workload whose argument's type is tensor<tensor<...f32>>
  config  a config {"sketch": ..., "x": [[[...]]]}
  logline LOG's first record with [[[...]]] in its extras
  logir   LOG's first record whose workload_ir carries the mlir above
  logfns  LOG's first record whose workload_ir holds N copies of its
          function (renamed)
MLIR's parser and the JSON printer recurse once per level: at 20000 levels
both overflowed the stack (a crash without a message).
"""
import json
import sys

kind, n = sys.argv[1], int(sys.argv[2])
deep = "[" * n + "]" * n


def first_record():
    with open(sys.argv[3]) as log:
        return json.loads(log.readline())


if kind == "mlir":
    print("func.func @f() -> tensor<4xf32> {\n"
          f"  %c = arith.constant {{x = {deep}}} dense<1.0> : tensor<4xf32>\n"
          "  return %c : tensor<4xf32>\n}")
elif kind == "type":
    print("func.func @f(%a: " + "tensor<" * n + "f32" + ">" * n + ") {\n"
          "  return\n}")
elif kind == "config":
    print(json.dumps({"sketch": "cpu_matmul"})[:-1] + f', "x": {deep}}}')
elif kind == "logline":
    line = json.dumps(first_record())
    print(line.replace('"extras": {', '"extras": {"d": ' + deep + ", ", 1))
elif kind == "logir":
    record = first_record()
    record["workload_ir"] = record["workload_ir"].replace(
        "arith.constant 0.0", f"arith.constant {{x = {deep}}} 0.0", 1)
    assert deep in record["workload_ir"]
    print(json.dumps(record))
elif kind == "logfns":
    record = first_record()
    ir = record["workload_ir"]
    record["workload_ir"] = ir + "".join(
        ir.replace("@matmul_odd", f"@copy{i}") for i in range(n))
    print(json.dumps(record))
