#!/usr/bin/env python3
"""bench/transfer.py end to end on a tiny hwacc pool (deterministic device
cycles, about 20 s): the pool is built, the leave-one-task-out table covers
every example, a second table ranks each on the random pool's samples,
trials to 95% run with and without transfer, and a second run reuses both
pools.

    transfer_smoke.py BENCH/transfer.py"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

bench = sys.argv[1]
work = tempfile.mkdtemp(prefix="hatc-transfer-")
try:
    command = [sys.executable, bench, "--targets", "hwacc", "--pool-trials", "hwacc=8",
               "--trials", "8", "--focus", "hwacc=matmul_odd", "--workdir", work]

    def run():
        p = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if p.returncode != 0:
            sys.exit(f"transfer.py exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
        return p.stdout

    first = run()
    checks = [
        (r"== hwacc: pool of 8 examples x 8 trials", "the pool line"),
        (r"leave-one-task-out on hwacc: 64 records of 8 tasks", "LOTO over all 8 examples"),
        (r"\nmean +8(\|\d\.\d{3} [\d.]+ [\d.]+){6}\n", "a mean row for 8 tasks, 6 models"),
        (r"leave-one-task-out on hwacc: 128 records of 8 tasks in \S+; each held-out task "
         r"ranked on its records in \S+\.random\.db", "the random-sample LOTO table"),
        (r"\.random\.db[^\n]*\n(?:[^\n]*\n)*?mean +8(\|\d\.\d{3} [\d.]+ [\d.]+){6}\n",
         "its mean row for 8 tasks"),
        (r"hwacc/matmul_odd: without (\d+|never), with (\d+|never)", "trials to 95%"),
    ]
    for pattern, what in checks:
        if not re.search(pattern, first):
            sys.exit(f"transfer.py output lacks {what} ({pattern!r}):\n{first}")
    second = run()
    if "reused " + os.path.join(work, "pool.hwacc") not in second:
        sys.exit(f"the second run did not reuse the pool:\n{second}")
    if not re.search(r"reused \S+\.random\.db", second):
        sys.exit(f"the second run did not reuse the random pool:\n{second}")
    print("transfer.py: pools, both LOTO tables, trials to 95% and pool reuse all there")
finally:
    shutil.rmtree(work, ignore_errors=True)
