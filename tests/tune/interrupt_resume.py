#!/usr/bin/env python3
"""hatc tune interrupted with SIGINT (Ctrl-C; or SIGTERM, what `kill`, `timeout`
and job schedulers send), then run again: the interrupted run exits 128 plus
the signal's number, the total number of measured configs is the budget and
none is measured twice.

  interrupt_resume.py HATC WORKLOAD TARGET TRIALS [INT|TERM]
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

hatc, workload, target, trials = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
stop = signal.Signals["SIG" + (sys.argv[5] if len(sys.argv) > 5 else "INT")]
tmp = tempfile.mkdtemp(prefix="hatc-resume-")
atexit.register(shutil.rmtree, tmp, ignore_errors=True)
db = os.path.join(tmp, "t.db")
command = [hatc, "tune", workload, "--target", target, "--db", db, "--trials", str(trials),
           "--seed", "3", "--batch", "4", "--json"]

first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
# Interrupt once the first batch is recorded.
for line in first.stderr:
    if line.startswith("[tune] trial "):
        first.send_signal(stop)
        break
out, err = first.communicate(timeout=120)
if first.returncode != 128 + stop:
    sys.exit(f"interrupted run exited {first.returncode}, expected {128 + stop}: {err}")
if "Resume with:" not in err:
    sys.exit(f"no resume hint in: {err}")


def records():
    export = subprocess.run([hatc, "export", "--db", db], capture_output=True, text=True, check=True)
    return [json.loads(l)["config"] for l in export.stdout.splitlines()]


partial = records()
if not 0 < len(partial) < trials:
    sys.exit(f"expected a partial run, found {len(partial)} records")

second = subprocess.run(command, capture_output=True, text=True, timeout=600)
if second.returncode != 0:
    sys.exit(f"resumed run failed: {second.stderr}")
status = json.loads(second.stdout.splitlines()[0])
final = records()
keys = [json.dumps(c, sort_keys=True) for c in final]
if len(final) != trials:
    sys.exit(f"expected {trials} records in all, found {len(final)}")
if len(set(keys)) != len(keys):
    sys.exit("a config was measured twice")
if status["existing"] != len(partial) or status["trials"] != trials - len(partial):
    sys.exit(f"resume reported {status['existing']} existing + {status['trials']} new, "
             f"expected {len(partial)} + {trials - len(partial)}")
print(f"interrupted after {len(partial)} of {trials}; resumed with {status['trials']} more; "
      f"{len(final)} distinct records")
