#!/usr/bin/python3
"""Programs timed in turns: one run each a turn, on a host that slows down
for seconds at a time.

    /usr/bin/python3 bench/turns.py [--turns 20] [--hatc PATH] [--json]
        'LABEL=hatc run ARGS' ...

Each LABEL=ARGS starts `hatc run ARGS --lockstep --json` (ARGS as a shell
would split them: a workload, a task file of `hatc tune --task-dir`, or a
model with --input-shape, and --schedule, --db, --threads ...). Each turn
every side warms up and runs once, the order rotated each turn, and the
next side starts only once none of the last one's threads is running.
Prints each side's median and fastest run and the median (and quartiles)
of the turns' ratios FIRST / this side: > 1, this side is faster than the
first. A side that fails stops the comparison: its last message, exit 1.

bench/model_perf.py times ONNX Runtime against hatc with the same Side and
take_turns.
"""
import argparse
import json
import os
import select
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TurnError(Exception):
    """A side failed, hung or said something unexpected."""


READY_TIMEOUT_S = 900   # a side loads or compiles the model (hatc's own limit: 300 s)
RUN_TIMEOUT_S = 120     # one run of a model
# After a run a side's threads spin a while in wait of more work (ORT's
# pool ~50 ms, libomp's block time 200 ms): the next side runs only once
# none of the last one's threads is running, so that neither takes cores
# from the other.
QUIET_POLL_S = 0.001
QUIET_LIMIT_S = 1.0


class Side:
    """One program timed in turns with others: started in its lockstep mode,
    it loads (or compiles) the model, warms up and prints "ready", then runs
    once per line written to it and answers with that run's seconds; at the
    end of its input it writes its outputs and exits."""

    def __init__(self, name, cmd, tmp):
        self.name, self.cmd = name, cmd
        self.stderr = open(os.path.join(tmp, f"{name}.stderr"), "w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        self.pending = b""
        self.samples = []
        self.idle_cpu_s = 0.0   # CPU time it used while another side ran
        self.spun_past_limit = 0
        self.ready = False

    def failure(self, what):
        """Stops it and raises TurnError with its last message."""
        self.proc.kill()
        self.proc.wait()
        self.stderr.seek(0)
        last = self.stderr.read().strip().splitlines()
        raise TurnError(f"{self.name} (`{' '.join(self.cmd)}`) {what}: "
                        f"{last[-1] if last else '(no message)'}")

    def line(self, timeout):
        """The next line it prints, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            ready = select.select([self.proc.stdout], [], [], max(left, 0))[0]
            if not ready:
                self.failure(f"printed nothing for {timeout:.0f} s")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                self.failure(f"exited {self.proc.wait()} "
                             + ("in its turn" if self.ready else "before it was ready"))
            self.pending += chunk
        text, _, self.pending = self.pending.partition(b"\n")
        return text.decode().strip()

    def wait_ready(self):
        if self.line(READY_TIMEOUT_S) != "ready":
            self.failure("did not say it was ready")
        self.ready = True

    def run(self):
        """One timed run; returns its seconds."""
        self.proc.stdin.write(b"\n")
        self.proc.stdin.flush()
        text = self.line(RUN_TIMEOUT_S)
        try:
            return float(text)
        except ValueError:
            self.failure(f"answered {text!r} instead of a run's seconds")

    def wait_quiet(self):
        """Returns once none of its threads is running, twice in a row
        QUIET_POLL_S apart (or after QUIET_LIMIT_S; `spun_past_limit`
        counts those)."""
        start, quiet = time.monotonic(), 0
        while time.monotonic() - start < QUIET_LIMIT_S:
            quiet = quiet + 1 if not self.running_threads() else 0
            if quiet == 2:
                return
            time.sleep(QUIET_POLL_S)
        self.spun_past_limit += 1

    def running_threads(self):
        """How many of its threads the kernel lists as running (state R)."""
        count = 0
        try:
            for task in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{task}/stat") as f:
                    # pid (comm) state ...: comm may hold spaces.
                    count += f.read().rpartition(")")[2].split()[0] == "R"
        except (OSError, IndexError):
            pass
        return count

    def cpu_seconds(self):
        """CPU time of all its threads so far (0 where /proc cannot say)."""
        total = 0
        try:
            for task in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        return total / 1e9

    def finish(self):
        """Ends its input, waits for it to exit; returns what it printed
        after its last run."""
        self.proc.stdin.close()
        try:
            rest = self.proc.stdout.read()
            code = self.proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.failure(f"did not exit within {RUN_TIMEOUT_S} s of its input's end")
        if code != 0:
            self.failure(f"exited {code}")
        self.stderr.seek(0)
        log = self.stderr.read()
        self.stderr.close()
        return (self.pending + rest).decode(), log


def take_turns(sides, turns):
    """Has every side run once a turn, the order rotated each turn; each
    run follows the side's own warm-up, and the next side starts once the
    last one's threads have stopped (Side.wait_quiet). Each side's samples
    and idle CPU time accumulate on it."""
    for side in sides:
        side.wait_ready()
        side.wait_quiet()
    for turn in range(turns):
        order = sides[turn % len(sides):] + sides[:turn % len(sides)]
        for side in order:
            others = [(o, o.cpu_seconds()) for o in sides if o is not side]
            side.samples.append(side.run())
            side.wait_quiet()
            for other, before in others:
                other.idle_cpu_s += other.cpu_seconds() - before
    for side in sides:
        if side.spun_past_limit:
            sys.stderr.write(
                f"{os.path.basename(sys.argv[0])}: warning: {side.name}'s threads "
                f"still ran {QUIET_LIMIT_S:g} s after {side.spun_past_limit} of "
                f"its runs: the next side's runs may have shared its cores\n")


def doc_parser(doc):
    """An ArgumentParser whose description and epilog are a script's
    docstring."""
    return argparse.ArgumentParser(
        description=doc.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(doc.splitlines()[2:]))


def quartiles(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]


def main():
    parser = doc_parser(__doc__)
    parser.add_argument("sides", nargs="+", metavar="LABEL=ARGS",
                        help="a label and `hatc run` arguments")
    parser.add_argument("--turns", type=int, default=20,
                        help="timed runs of each side (default 20)")
    parser.add_argument("--hatc", default=os.path.join(ROOT, "build", "bin", "hatc"))
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of the table")
    args = parser.parse_args()
    specs = []
    for spec in args.sides:
        label, sep, rest = spec.partition("=")
        if not sep or not label or not rest.strip():
            sys.exit(f"turns.py: error: {spec!r}: expected LABEL=hatc run arguments")
        if label in (s[0] for s in specs):
            sys.exit(f"turns.py: error: label {label!r} given twice")
        specs.append((label, shlex.split(rest)))
    if args.turns < 1:
        sys.exit("turns.py: error: --turns must be >= 1")
    with tempfile.TemporaryDirectory(prefix="hatc-turns-") as tmp:
        sides = []
        try:
            for label, rest in specs:
                sides.append(Side(label, [args.hatc, "run"] + rest
                                  + ["--lockstep", "--json"], tmp))
            take_turns(sides, args.turns)
            for side in sides:
                side.finish()
        except TurnError as e:
            for side in sides:
                if side.proc.poll() is None:
                    side.proc.kill()
            sys.exit(f"turns.py: error: {e}")
    first = sides[0]
    rows = []
    for side in sides:
        ratios = [f / s for f, s in zip(first.samples, side.samples)]
        q1, q3 = quartiles(ratios)
        rows.append({"label": side.name, "median_s": statistics.median(side.samples),
                     "min_s": min(side.samples), "samples_s": side.samples,
                     "ratio": statistics.median(ratios), "ratio_q1": q1,
                     "ratio_q3": q3, "idle_cpu_s": side.idle_cpu_s})
    if args.json:
        print(json.dumps({"turns": args.turns, "sides": rows}))
        return 0
    print(f"{args.turns} turns; ratio: {first.name}'s run / this side's, median "
          f"over the turns (quartiles)")
    print(f"{'side':<16}{'median ms':>11}{'fastest ms':>12}{'ratio':>8}{'quartiles':>14}")
    for r in rows:
        print(f"{r['label']:<16}{r['median_s'] * 1e3:>11.3f}{r['min_s'] * 1e3:>12.3f}"
              f"{r['ratio']:>7.2f}x{r['ratio_q1']:>7.2f}-{r['ratio_q3']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
