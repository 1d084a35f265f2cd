#!/usr/bin/env python3
"""restamp.py LOG [--no-ir] : LOG's records as another machine's, on stdout.

Each record gets another fingerprint and compiler version (so it is stale
here); --no-ir drops the workload IR the records carry.
"""
import json
import sys

drop_ir = "--no-ir" in sys.argv[2:]
for line in open(sys.argv[1]):
    record = json.loads(line)
    record["target_fingerprint"] = "cpu:elsewhere:64c:0123456789abcdef"
    record["compiler_version"] = "hatc-0123456789ab+llvm-19.1.7"
    if drop_ir:
        record.pop("workload_ir", None)
    print(json.dumps(record))
