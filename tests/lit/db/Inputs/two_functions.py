#!/usr/bin/env python3
"""two_functions.py LOG : LOG's records, each workload_ir followed by a
second public function (a copy of the first, renamed @other), as a log of
an older hatc that kept a whole file of functions holds it."""
import json
import re
import sys

for line in open(sys.argv[1]):
    if not line.strip():
        continue
    record = json.loads(line)
    if record.get("workload_ir"):
        copy = re.sub(r"func\.func @\w+", "func.func @other", record["workload_ir"], count=1)
        record["workload_ir"] = copy + "\n" + record["workload_ir"]
    print(json.dumps(record))
