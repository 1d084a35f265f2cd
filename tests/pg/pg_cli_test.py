#!/usr/bin/env python3
"""The CLI on a PostgreSQL tuning store (issue 18). Each check gets its own
database on the private test server whose admin URL is in HATC_TEST_PG_URL
(the ctest fixture in tests/pg/CMakeLists.txt starts it), except
`restart-mid-tune`, which starts and stops a server of its own.

  pg_cli_test.py HATC SRC CHECK [STRESS_WRITER]

CHECK is one of:
  store-commands    replay, export, best, db stats, report and db copy both
                    ways between PostgreSQL and SQLite agree with SQLite
  down-at-start     a server that is not there: one clear line, exit 1
  concurrent-tunes  two `hatc tune --trials 64` at once on one database end
                    with 64 distinct records, not 128 measurements
  restart-mid-tune  the server restarted during a tune: the tune waits,
                    reconnects, finishes, and loses nothing it acknowledged
  restart-mid-writes  the same under db_stress_writer (STRESS_WRITER), which
                    commits as fast as it can: every acknowledged record is
                    there, none is reported twice (a rerun commit whose first
                    attempt went through is still the writer's own)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

hatc, src, check = sys.argv[1], sys.argv[2], sys.argv[3]
pg_server = os.path.join(src, "tests", "pg", "pg_server.sh")
tmp = tempfile.mkdtemp(prefix="hatc-pg-cli-")


def fail(message):
    sys.exit(f"FAIL ({check}): {message}")


def run(args, expect=0, timeout=600):
    result = subprocess.run([hatc] + args, capture_output=True, text=True, timeout=timeout)
    if result.returncode != expect:
        fail(f"hatc {' '.join(args)} exited {result.returncode}, expected {expect}:\n"
             f"{result.stdout}{result.stderr}")
    return result


def psql_exe():
    bindirs = sorted(d for d in os.listdir("/usr/lib/postgresql"))
    return shutil.which("psql") or f"/usr/lib/postgresql/{bindirs[-1]}/bin/psql"


def psql(admin_url, sql):
    """Runs SQL on the server (CREATE/DROP DATABASE) with psql."""
    subprocess.run([psql_exe(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin_url, "-c", sql],
                   check=True, capture_output=True, text=True, timeout=60)


class Database:
    """A fresh database on the server at admin_url, dropped on exit."""

    counter = 0

    def __init__(self, admin_url, password=None):
        Database.counter += 1
        self.admin = admin_url
        self.name = f"hatc_cli{os.getpid()}_{Database.counter}"
        psql(admin_url, f"CREATE DATABASE {self.name}")
        url = admin_url.replace("/postgres?", f"/{self.name}?")
        # Trust authentication ignores a password; it is there to show it is
        # never printed.
        self.url = url.replace("hatc@", f"hatc:{password}@") if password else url
        self.shown = url

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        psql(self.admin, f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def exported(spec):
    return run(["export", "--db", spec]).stdout


def configs(spec):
    return [json.dumps(json.loads(line)["config"], sort_keys=True)
            for line in exported(spec).splitlines()]


def admin_url():
    url = os.environ.get("HATC_TEST_PG_URL", "")
    if not url:
        fail("HATC_TEST_PG_URL is not set (run through ctest: the pg fixture starts the server)")
    return url


def store_commands():
    log = os.path.join(src, "tests", "lit", "db", "Inputs", "matmul_odd_other_machine.jsonl")
    workload = os.path.join(src, "examples", "matmul_odd.mlir")
    lite = os.path.join(tmp, "reference.db")
    run(["replay", log, "--db", lite])
    with Database(admin_url(), password="topsecret") as pg, Database(admin_url()) as pg2:
        first = json.loads(run(["replay", log, "--db", pg.url, "--json"]).stdout.splitlines()[-1])
        again = json.loads(run(["replay", log, "--db", pg.url, "--json"]).stdout.splitlines()[-1])
        print("replay:", first, "again:", again)
        if exported(pg.url) != exported(lite):
            fail("export of PostgreSQL differs from export of SQLite after the same replay")
        stats = json.loads(run(["db", "stats", "--db", pg.url, "--json"]).stdout)
        if stats["records"] != 6 or stats["schema_version"] != 4 or stats["db"] != pg.shown:
            fail(f"db stats: {stats}")
        best_args = ["best", workload, "--target", "cpu", "--allow-stale", "--top", "3", "--json"]
        best_pg = [json.loads(l) for l in run(best_args + ["--db", pg.url]).stdout.splitlines()]
        best_lite = [json.loads(l) for l in run(best_args + ["--db", lite]).stdout.splitlines()]
        for record in best_pg + best_lite:
            record.pop("id")
        if not best_pg or best_pg != best_lite:
            fail(f"best differs:\n{best_pg}\n{best_lite}")
        run(["report", "--db", pg.url, "-o", os.path.join(tmp, "report.html")])

        # Down to a file for a deployment, then from that file up to a new
        # server database: every hop keeps every record, and again adds nothing.
        down = os.path.join(tmp, "deploy.db")
        copy = json.loads(run(["db", "copy", "--from", pg.url, "--to", down, "--json"]).stdout)
        if copy["copied"] != 6 or copy["from"] != pg.shown:
            fail(f"copy down: {copy}")
        up = json.loads(run(["db", "copy", "--from", down, "--to", pg2.url, "--json"]).stdout)
        twice = json.loads(run(["db", "copy", "--from", down, "--to", pg2.url, "--json"]).stdout)
        across = json.loads(run(["db", "copy", "--from", pg.url, "--to", pg2.url, "--json"]).stdout)
        if up["copied"] != 6 or twice["copied"] != 0 or across["already_there"] != 6:
            fail(f"copy up {up}, again {twice}, server to server {across}")
        if not (exported(down) == exported(pg2.url) == exported(lite)):
            fail("the copies do not export the same records")
        run(["db", "copy", "--from", pg.url, "--to", pg.url], expect=1)

        # The password never shows: not in output, not in errors.
        texts = [run(["db", "stats", "--db", pg.url]).stdout,
                 run(["db", "copy", "--from", pg.url, "--to", down]).stdout,
                 run(["best", os.path.join(src, "examples", "matmul_1024.mlir"), "--target", "cpu",
                      "--db", pg.url], expect=1).stderr]
        for text in texts:
            if "topsecret" in text:
                fail(f"password printed: {text}")
        print("stats:", texts[0].strip().splitlines()[0])
        print("miss:", texts[2].strip())


def down_at_start():
    url = f"postgresql://hatc:topsecret@/tuning?host={tmp}/nothing-here"
    shown = f"postgresql://hatc@/tuning?host={tmp}/nothing-here"
    for args in (["db", "stats", "--db", url],
                 ["tune", os.path.join(src, "examples", "matmul_1024.mlir"), "--target", "hwacc",
                  "--db", url, "--trials", "4"]):
        start = time.time()
        result = run(args, expect=1, timeout=60)
        lines = result.stderr.strip().splitlines()
        if len(lines) != 1 or f"cannot connect to tuning database '{shown}'" not in lines[0]:
            fail(f"expected one line naming {shown}, got:\n{result.stderr}")
        if "topsecret" in result.stderr or time.time() - start > 20:
            fail(f"password shown or slow ({time.time() - start:.1f} s): {result.stderr}")
        print(lines[0])


def concurrent_tunes():
    workload = os.path.join(src, "examples", "matmul_1024.mlir")
    with Database(admin_url()) as pg:
        command = [hatc, "tune", workload, "--target", "hwacc", "--db", pg.url,
                   "--trials", "64", "--json"]
        # Same seed: both propose the same configs in the same order, the
        # worst case for measuring twice.
        sessions = [subprocess.Popen(command + ["--seed", "7"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for _ in range(2)]
        reports = []
        for session in sessions:
            out, err = session.communicate(timeout=900)
            if session.returncode != 0:
                fail(f"a session exited {session.returncode}: {err}")
            reports.append(json.loads(out.splitlines()[0]))
        found = configs(pg.url)
        measured = sum(r["trials"] for r in reports)
        print("sessions:", [{k: r[k] for k in ("trials", "existing", "concurrent")}
                            for r in reports])
        print(f"records: {len(found)}, distinct: {len(set(found))}, measured in all: {measured}")
        if len(found) != 64 or len(set(found)) != 64:
            fail(f"expected 64 distinct records, found {len(found)} ({len(set(found))} distinct)")
        if measured != 64:
            fail(f"the sessions measured {measured} candidates in all, expected 64")
        if any(r["trials"] + r["existing"] > 64 for r in reports):
            fail(f"a session counts more than 64: {reports}")


def restart_mid_tune():
    server = os.path.join(tempfile.gettempdir(), f"hatc-pg-restart-{os.getpid()}")
    started = False
    try:
        admin = subprocess.run([pg_server, "start", server], capture_output=True, text=True,
                               check=True, timeout=120).stdout.strip()
        started = True
        with Database(admin) as pg:
            log = os.path.join(tmp, "acknowledged.jsonl")
            workload = os.path.join(src, "examples", "matmul_1024.mlir")
            tune = subprocess.Popen([hatc, "tune", workload, "--target", "hwacc", "--db", pg.url,
                                     "--trials", "40", "--batch", "4", "--log", log, "--json"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            stderr = []
            for line in tune.stderr:
                stderr.append(line)
                if line.startswith("[tune] trial "):
                    break
            restart = time.time()
            # Down for longer than a batch takes to measure, so the tune meets
            # the outage in a commit or a claim and has to wait it out.
            subprocess.run([pg_server, "restart", server, "6"], check=True, timeout=120,
                           capture_output=True)
            print(f"server down for {time.time() - restart:.1f} s after trial "
                  f"{stderr[-1].split()[2]}")
            out, err = tune.communicate(timeout=900)
            if tune.returncode != 0:
                fail(f"tune exited {tune.returncode} across the restart:\n{''.join(stderr)}{err}")
            report = json.loads(out.splitlines()[0])
            with open(log) as f:
                acknowledged = {json.dumps(json.loads(l)["config"], sort_keys=True) for l in f}
            stored = configs(pg.url)
            missing = acknowledged - set(stored)
            print(f"tune: {report['trials']} trials; log {len(acknowledged)}, "
                  f"database {len(stored)} ({len(set(stored))} distinct)")
            if missing:
                fail(f"{len(missing)} acknowledged records missing from the database")
            if len(stored) != 40 or len(set(stored)) != 40 or report["trials"] != 40:
                fail(f"expected 40 distinct records from 40 trials: {report}")
    finally:
        if started or os.path.exists(server):
            subprocess.run([pg_server, "stop", server], timeout=120)


def restart_mid_writes():
    writer = sys.argv[4]
    server = os.path.join(tempfile.gettempdir(), f"hatc-pg-writes-{os.getpid()}")
    started = False
    try:
        admin = subprocess.run([pg_server, "start", server], capture_output=True, text=True,
                               check=True, timeout=120).stdout.strip()
        started = True
        with Database(admin) as pg:
            err_path = os.path.join(tmp, "writer.err")
            with open(err_path, "w") as err:
                proc = subprocess.Popen([writer, pg.url, "1", "1000000"], stdout=subprocess.PIPE,
                                        stderr=err, text=True)
            acknowledged, restarted, stopped = set(), 0, False
            for line in proc.stdout:
                if line.startswith("ACK ") and len(line.strip()) == 20:
                    acknowledged.add(line.strip()[4:])
                # Two restarts while it writes, then stop it.
                if len(acknowledged) in (300, 900) and restarted < (1 if len(acknowledged) < 900 else 2):
                    restarted += 1
                    subprocess.run([pg_server, "restart", server, "2"], check=True, timeout=120,
                                   capture_output=True)
                if len(acknowledged) >= 1500 and not stopped:
                    proc.terminate()
                    stopped = True
            proc.wait(timeout=60)
            with open(err_path) as f:
                errors = f.read()
            if errors or not stopped:
                fail(f"writer ended on its own or reported: {errors}")
            stored = set(l.split()[0] for l in subprocess.run(
                [psql_exe(), "-X", "-At", "-d", pg.url, "-c",
                 "SELECT config_hash FROM records"], capture_output=True, text=True,
                check=True).stdout.split())
            print(f"{restarted} restarts; acknowledged {len(acknowledged)}, stored {len(stored)}")
            if restarted != 2 or acknowledged - stored:
                fail(f"{len(acknowledged - stored)} acknowledged records missing")
            if len(stored) > len(acknowledged) + 1:
                fail("more records stored than acknowledged (plus the one in flight)")
    finally:
        if started or os.path.exists(server):
            subprocess.run([pg_server, "stop", server], timeout=120)


try:
    {"restart-mid-writes": restart_mid_writes, "store-commands": store_commands, "down-at-start": down_at_start,
     "concurrent-tunes": concurrent_tunes, "restart-mid-tune": restart_mid_tune}[check]()
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print(f"PASS ({check})")
