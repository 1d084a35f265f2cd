#!/usr/bin/env python3
"""hatc tune --farm mpi under a real mpirun, end to end.

  farm_test.py HATC WORKLOAD SCENARIO

Scenarios:
  records   -n 2 and -n 4 on hwacc: N distinct records each; the same command
            again measures nothing; more trials measure only new configs.
  faults    a rank whose worker crashes (its candidate is recorded with the
            error), a rank that hangs and a rank that exits (dropped with a
            warning, its candidate re-sent): the job completes every time.
  interrupt SIGINT to mpirun: a consistent database and the resume command;
            resuming completes the budget with no config measured twice.

Every mpirun runs in its own session; after each, no process of that
session (ranks, hatc-worker) may be left.
"""
import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

hatc, workload, scenario = sys.argv[1], sys.argv[2], sys.argv[3]
tmp = tempfile.mkdtemp(prefix="hatc-farm-test-")
atexit.register(shutil.rmtree, tmp, ignore_errors=True)
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


def fail(message):
    sys.exit(f"farm_test {scenario}: {message}")


def leftovers(session):
    """Processes of the session other than ourselves."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,sid=,args="], capture_output=True, text=True).stdout
    found = []
    for line in out.splitlines():
        pid, sid, args = line.split(None, 2) + [""] * (3 - len(line.split(None, 2)))
        if sid == str(session) and pid != str(os.getpid()):
            found.append(f"{pid} {args}")
    return found


def check_nothing_left(session):
    # Ranks and workers go within a moment of mpirun's exit.
    for _ in range(50):
        left = leftovers(session)
        if not left:
            return
        time.sleep(0.1)
    fail(f"left running after mpirun: {left}")


def mpirun(ranks, db, trials, *extra, mpi_flags=(), interrupt_after=None, timeout=300):
    command = (["mpirun", "-n", str(ranks), *mpi_flags, hatc, "tune", workload, "--target", "hwacc",
                "--farm", "mpi", "--db", db, "--trials", str(trials), "--seed", "1", "--json"]
               + list(extra))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, start_new_session=True)
    if interrupt_after is not None:
        # Interrupt once the first batch is recorded, as a user would.
        lines = []
        for line in process.stderr:
            lines.append(line)
            if line.startswith("[tune] trial "):
                time.sleep(interrupt_after)
                # Ctrl-C in a terminal: SIGINT to the foreground process
                # group, mpirun and the ranks alike.
                os.killpg(process.pid, signal.SIGINT)
                break
        out, err = process.communicate(timeout=timeout)
        err = "".join(lines) + err
    else:
        out, err = process.communicate(timeout=timeout)
    check_nothing_left(process.pid)
    return process.returncode, out, err


def records(db):
    export = subprocess.run([hatc, "export", "--db", db], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in export.stdout.splitlines()]


def distinct(rows):
    keys = [json.dumps(r["config"], sort_keys=True) for r in rows]
    if len(set(keys)) != len(keys):
        fail("a config was measured twice")
    return len(keys)


def status_of(out):
    lines = [l for l in out.splitlines() if l.startswith("{")]
    if len(lines) != 1:
        fail(f"expected one JSON status line, got: {out!r}")
    return json.loads(lines[0])


def expect_ok(rc, err, what):
    if rc != 0:
        fail(f"{what} exited {rc}: {err[-2000:]}")


if scenario == "records":
    for ranks, trials in ((2, 6), (4, 8)):
        db = os.path.join(tmp, f"r{ranks}.db")
        rc, out, err = mpirun(ranks, db, trials, "--batch", "4")
        expect_ok(rc, err, f"-n {ranks}")
        if f"farm of {ranks} ranks: {ranks - 1} measuring on hwacc" not in err:
            fail(f"-n {ranks}: no farm line naming {ranks - 1} measuring ranks: {err[-2000:]}")
        if f"on {ranks - 1} measuring ranks of {ranks}" not in err:
            fail(f"-n {ranks}: the ranks did not all measure: {err[-2000:]}")
        rows = records(db)
        if distinct(rows) != trials:
            fail(f"-n {ranks}: expected {trials} records, found {len(rows)}")
        if not any(r["error"] == "OK" for r in rows):
            fail(f"-n {ranks}: no candidate measured OK")
        # The same command again: everything is there, nothing is measured.
        rc, out, err = mpirun(ranks, db, trials, "--batch", "4")
        expect_ok(rc, err, f"-n {ranks} rerun")
        status = status_of(out)
        if status["existing"] != trials or status["trials"] != 0:
            fail(f"-n {ranks} rerun: {status['existing']} existing + {status['trials']} new, "
                 f"expected {trials} + 0")
        if distinct(records(db)) != trials:
            fail(f"-n {ranks} rerun changed the database")
    # More trials: only new configs are measured.
    rc, out, err = mpirun(4, db, 12, "--batch", "4")
    expect_ok(rc, err, "-n 4 resume to 12")
    status = status_of(out)
    if status["existing"] != 8 or status["trials"] != 4 or distinct(records(db)) != 12:
        fail(f"resume to 12: {status['existing']} existing + {status['trials']} new")
    print("records: -n 2 and -n 4 recorded 6 and 8 distinct configs, reruns measured nothing, "
          "resume to 12 measured 4")

elif scenario == "faults":
    fast = ["--search", "random", "--batch", "4", "--farm-simulate", "0.2", "--farm-timeout", "3"]
    # A rank that hangs: dropped at its deadline, its candidate re-sent.
    db = os.path.join(tmp, "hang.db")
    rc, out, err = mpirun(3, db, 12, *fast, "--farm-fault", "1:hang")
    expect_ok(rc, err, "hang")
    resent = re.search(r"(\d+) re-sent", err)
    if "farm rank 1 (" not in err or "dropped" not in err or not resent or int(resent.group(1)) < 1:
        fail(f"hang: no warning that rank 1 was dropped and its candidate re-sent: {err[-2000:]}")
    if distinct(records(db)) != 12:
        fail("hang: expected 12 records")
    # Simulated (made-up) results are kept apart from the target's own: they
    # were recorded as hwacc's and `best` returned them.
    names = sorted({r["target_name"] for r in records(db)})
    if len(names) != 1 or not names[0].endswith("-simulated"):
        fail(f"simulated records under target(s) {sorted(names)}, not NAME-simulated")
    if not re.search(r"recorded under the target '[^']+-simulated'", err):
        fail(f"no word that the results are made up: {err[-2000:]}")
    best = subprocess.run([hatc, "best", workload, "--target", "hwacc", "--db", db],
                          capture_output=True, text=True)
    if best.returncode != 1 or "no tuned record" not in best.stderr:
        fail(f"best took a simulated record (exit {best.returncode}): {best.stdout}{best.stderr}")
    # A rank that exits (mpirun --enable-recovery keeps the job going).
    db = os.path.join(tmp, "exit.db")
    rc, out, err = mpirun(3, db, 12, *fast, "--farm-fault", "2:exit", mpi_flags=["--enable-recovery"])
    expect_ok(rc, err, "exit")
    if "farm rank 2 (" not in err or "dropped" not in err:
        fail(f"exit: no warning that rank 2 was dropped: {err[-2000:]}")
    if distinct(records(db)) != 12:
        fail("exit: expected 12 records")
    # A rank whose worker crashes: that candidate is recorded with its error.
    db = os.path.join(tmp, "crash.db")
    rc, out, err = mpirun(3, db, 4, "--batch", "4", "--farm-fault", "1:worker-crash")
    expect_ok(rc, err, "worker-crash")
    rows = records(db)
    crashed = [r for r in rows if r["error"] == "RUN_ERROR" and "SIGSEGV" in r.get("extras", {}).get("message", json.dumps(r))]
    if distinct(rows) != 4 or len(crashed) != 1:
        fail(f"worker-crash: expected 4 records, one RUN_ERROR naming SIGSEGV: "
             f"{[(r['error'], r.get('extras', {}).get('message')) for r in rows]}")
    print("faults: hang (dropped, re-sent), exit (dropped), worker crash (RUN_ERROR recorded): "
          "each job completed; simulated results kept under NAME-simulated")

elif scenario == "interrupt":
    db = os.path.join(tmp, "int.db")
    slow = ["--search", "random", "--batch", "4", "--farm-simulate", "0.5"]
    rc, out, err = mpirun(3, db, 24, *slow, interrupt_after=0.3)
    if "Resume with:" not in err or "mpirun -n 3 hatc tune" not in err:
        fail(f"interrupted run: no resume command (exit {rc}): {err[-2000:]}")
    partial = distinct(records(db))
    if not 0 < partial < 24:
        fail(f"expected a partial run, found {partial} records")
    rc, out, err = mpirun(3, db, 24, *slow)
    expect_ok(rc, err, "resumed run")
    status = status_of(out)
    if distinct(records(db)) != 24 or status["existing"] != partial:
        fail(f"resume: {status['existing']} existing (expected {partial}), "
             f"{len(records(db))} records (expected 24)")
    print(f"interrupt: stopped after {partial} of 24 with the resume command; resumed to 24")

else:
    fail("unknown scenario")
