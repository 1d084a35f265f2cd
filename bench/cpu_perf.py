#!/usr/bin/env python3
"""CPU performance table: tuned hatc vs default hatc vs OpenBLAS / oneDNN.

  bench/cpu_perf.py [--trials 256] [--repeat 20] [--rounds 7] [--workdir DIR]
                    [--only NAME]... [--examples DIR]

Per workload and thread count it tunes (or resumes tuning) into
DIR/perf.<threads>t.db with at most --trials trials, then measures, in
--rounds interleaved rounds of --repeat runs each (the figure is the median
of the rounds' medians, so load on the machine hits every program alike):
hatc's best schedule, hatc's default schedule, and the library baselines
(OpenBLAS sgemm / a loop of sgemm for the batch matmul and oneDNN's matmul
for the f32 GEMMs; oneDNN's matmul of the same types for int8 and bf16;
oneDNN for the conv, both on hatc's NHWC/HWIO layout and on its own
preferred blocked layout). Before each round it measures this machine's
peak for the row's arithmetic (hatc-bench-peak: f32 FMA, int8 VNNI
vpdpbusd, bf16 vdpbf16ps; on a CPU with AMX, the int8 and bf16 matmuls
and the int8 conv against the AMX tile products' peak instead) and keeps
the best; every figure gets its % of
that peak. Run it on a quiet machine: it prints the load average before and
after. The default schedule (no tuning: the analytical one of
lowering/CpuSchedules.cpp) gets its own ratios: to the first baseline and
to tuned. --only NAME (a workload name's start, repeatable) runs some rows.
A row whose example is missing, or that hatc cannot tune or run, prints
"n/a (reason)" in the hatc columns and still measures its baselines. The
acceptance lines of issue 17 are checked at the end (each "ok" or "MISS"),
for the rows that ran.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")


def sgemm(m, n, k, threads, batch=1):
    # REPEAT is filled in from --repeat.
    return ["hatc-bench-sgemm", str(m), str(n), str(k), str(threads), "REPEAT", str(batch)]


def onednn_matmul(m, n, k, threads, dtype, layout="user"):
    return ["hatc-bench-onednn-matmul", str(m), str(n), str(k), str(threads), "REPEAT", dtype,
            layout]


def onednn_conv(*args, layout, dtype="f32"):
    return ["hatc-bench-onednn"] + [str(a) for a in args] + ["REPEAT", layout, dtype]


# name, example, threads, peak kind (hatc-bench-peak's), baseline commands.
# The first baseline is the one the default's ratio is to.
CASES = [
    ("sgemm 1024^3", "matmul_1024.mlir", 1, "f32",
     [sgemm(1024, 1024, 1024, 1), onednn_matmul(1024, 1024, 1024, 1, "f32")]),
    ("sgemm 1024^3", "matmul_1024.mlir", 2, "f32",
     [sgemm(1024, 1024, 1024, 2), onednn_matmul(1024, 1024, 1024, 2, "f32")]),
    ("BERT FFN 128x768x3072", "bert_ffn_matmul.mlir", 2, "f32",
     [sgemm(128, 3072, 768, 2), onednn_matmul(128, 3072, 768, 2, "f32")]),
    ("attention 12x128x64x128", "attention_batch_matmul.mlir", 2, "f32",
     [sgemm(128, 128, 64, 2, 12)]),
    ("ResNet-50 conv 3x3", "resnet50_conv3x3.mlir", 2, "f32",
     [onednn_conv(1, 58, 58, 64, 64, 3, 3, 1, 2, layout="user"),
      onednn_conv(1, 58, 58, 64, 64, 3, 3, 1, 2, layout="any")]),
    ("conv 3x3 stride 2", "conv3x3_stride2.mlir", 2, "f32",
     [onednn_conv(1, 57, 57, 64, 128, 3, 3, 2, 2, layout="user")]),
    ("odd matmul 257x129x67", "matmul_odd.mlir", 2, "f32", [sgemm(257, 129, 67, 2)]),
    # The baseline is the matmul alone (sgemm has no bias + ReLU epilogue).
    ("matmul+bias+ReLU 128x3072", "matmul_bias_relu.mlir", 2, "f32", [sgemm(128, 3072, 768, 2)]),
    # Same types on both sides: s8 x s8 -> s32 (hatc's i8 x i8 -> i32); u8 x
    # s8 is vpdpbusd's native form, shown for reference. "any": oneDNN's own
    # packed layout for B, packed outside timing.
    ("int8 matmul 1024^3", "matmul_i8_1024.mlir", 1, "int8",
     [onednn_matmul(1024, 1024, 1024, 1, "s8"), onednn_matmul(1024, 1024, 1024, 1, "s8", "any"),
      onednn_matmul(1024, 1024, 1024, 1, "u8")]),
    ("int8 matmul 1024^3", "matmul_i8_1024.mlir", 2, "int8",
     [onednn_matmul(1024, 1024, 1024, 2, "s8"), onednn_matmul(1024, 1024, 1024, 2, "s8", "any"),
      onednn_matmul(1024, 1024, 1024, 2, "u8")]),
    # The int8 conv runs on AMX tiles where the CPU has them (cpu_conv_amx),
    # else on VNNI dot products. oneDNN's s8 conv on the user layout is its
    # reference implementation (seconds a call), so only its own layout is
    # timed; its filter is packed outside the timed call, hatc's inside.
    ("int8 conv 3x3", "resnet50_conv3x3_i8.mlir", 1, "int8-conv",
     [onednn_conv(1, 58, 58, 64, 64, 3, 3, 1, 1, layout="any", dtype="s8")]),
    ("int8 conv 3x3", "resnet50_conv3x3_i8.mlir", 2, "int8-conv",
     [onednn_conv(1, 58, 58, 64, 64, 3, 3, 1, 2, layout="any", dtype="s8")]),
    ("bf16 matmul 1024^3", "matmul_bf16_1024.mlir", 1, "bf16",
     [onednn_matmul(1024, 1024, 1024, 1, "bf16"),
      onednn_matmul(1024, 1024, 1024, 1, "bf16", "any")]),
    ("bf16 matmul 1024^3", "matmul_bf16_1024.mlir", 2, "bf16",
     [onednn_matmul(1024, 1024, 1024, 2, "bf16"),
      onednn_matmul(1024, 1024, 1024, 2, "bf16", "any")]),
]


class Unavailable(Exception):
    """A figure that cannot be had; the message says why."""


def run_json(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        raise Unavailable(f"{os.path.basename(cmd[0])}: {e.strerror}")
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines() or [f"exit status {out.returncode}"]
        raise Unavailable(f"{os.path.basename(cmd[0])} failed: {lines[-1]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def hatc_side(hatc, workload, example, threads, args):
    """The commands that run the tuned and the default schedule (a reason
    string in place of one that cannot run), or a reason for neither."""
    if not os.path.exists(workload):
        shown = os.path.relpath(workload, ROOT) if workload.startswith(ROOT + os.sep) else workload
        return None, None, f"{shown} missing"
    db = os.path.join(args.workdir, f"perf.{threads}t.db")
    tune = subprocess.run([hatc, "tune", workload, "--target", "cpu", "--db", db, "--trials",
                           str(args.trials), "--threads", str(threads), "--seed", "1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if tune.returncode != 0:
        lines = tune.stderr.strip().splitlines() or [f"exit status {tune.returncode}"]
        return None, None, f"hatc tune failed: {lines[-1]}"
    schedule = os.path.join(args.workdir, f"{example}.{threads}t.schedule.mlir")
    with open(schedule, "w") as f:
        best = subprocess.run([hatc, "best", workload, "--target", "cpu", "--db", db,
                               "--emit-schedule"], stdout=f, stderr=subprocess.PIPE, text=True)
    common = ["--threads", str(threads), "--repeat", str(args.repeat), "--check", "--json"]
    tuned = [hatc, "run", workload, "--schedule", schedule] + common
    if best.returncode != 0:
        tuned = "hatc best failed: " + (best.stderr.strip().splitlines() or ["?"])[-1]
    return tuned, [hatc, "run", workload] + common, None


def measure_interleaved(programs, rounds, between_rounds):
    """Runs every command of `programs` once per round, in turn, so that
    load on the machine hits them alike; returns per program the last JSON
    result with "gflops" the median over the rounds and "correct" true only
    if every round was, or the reason (a string) it has no figure."""
    got = [[] if isinstance(p, list) else p for p in programs]
    for _ in range(rounds):
        between_rounds()
        for i, cmd in enumerate(programs):
            if isinstance(got[i], str):
                continue
            try:
                got[i].append(run_json(cmd))
            except Unavailable as e:
                got[i] = str(e)
    out = []
    for results in got:
        if isinstance(results, str):
            out.append(results)
            continue
        merged = dict(results[-1])
        merged["gflops"] = statistics.median(r["gflops"] for r in results)
        if "correct" in merged:
            merged["correct"] = all(r.get("correct", False) for r in results)
        out.append(merged)
    return out


def fmt(value, spec, width):
    return format(format(value, spec) if value is not None else "", f">{width}")


def ratio(a, b):
    return a / b if a is not None and b else None


def gflops(result):
    return result["gflops"] if isinstance(result, dict) else None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=256)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--rounds", type=int, default=7,
                   help="interleaved rounds of every program of a row (median of their medians)")
    p.add_argument("--workdir", default=os.path.join(ROOT, "build", "perf"))
    p.add_argument("--only", action="append", default=[], metavar="NAME")
    p.add_argument("--examples", default=os.path.join(ROOT, "examples"),
                   help="folder of the workloads (default: examples/)")
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    hatc = os.path.join(BIN, "hatc")
    cases = [c for c in CASES if not args.only or any(c[0].startswith(o) for o in args.only)]
    load_before = os.getloadavg()

    # (kind, threads) -> G(FL)OP/s, or None where the CPU lacks the
    # instructions. Measured next to every row and the best kept: other work
    # on the machine only ever lowers it, and a low ceiling inflates %pk.
    peaks = {}

    def measure_peak(kind, threads):
        try:
            r = run_json([os.path.join(BIN, "hatc-bench-peak"), str(threads), peak_kind(kind)])
            got = r.get("gflops", r.get("gops")) if r.get("supported", True) else None
        except Unavailable:
            got = None
        if got is not None or (kind, threads) not in peaks:
            peaks[kind, threads] = max(got, peaks.get((kind, threads)) or 0) if got else None

    def peak(kind, threads):
        if (kind, threads) not in peaks:
            measure_peak(kind, threads)
        return peaks[kind, threads]

    rows = []
    for name, example, threads, kind, baselines in cases:
        tuned_cmd, default_cmd, why = hatc_side(hatc, os.path.join(args.examples, example),
                                                example, threads, args)
        programs = [] if why else [tuned_cmd, default_cmd]
        for b in baselines:
            programs.append([os.path.join(BIN, b[0])] +
                            [str(args.repeat) if a == "REPEAT" else a for a in b[1:]])
        results = measure_interleaved(programs, args.rounds, lambda: measure_peak(kind, threads))
        if why:
            tuned = default = None
        else:
            tuned, default, results = results[0], results[1], results[2:]
        base = [r if isinstance(r, dict) else {"impl": b[0], "error": r}
                for r, b in zip(results, baselines)]
        rows.append((name, threads, kind, tuned, default, why, base))
    load_after = os.getloadavg()

    print("command: " + shlex.join(["bench/cpu_perf.py"] + sys.argv[1:]))
    print(f"load average: {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"({os.cpu_count()} CPUs)")
    amx = host_has_amx()
    for kind, unit in (("f32", "GFLOP/s (FMA)"),
                       ("int8", "GOP/s (AMX tdpbssd)" if amx else "GOP/s (VNNI vpdpbusd)"),
                       ("int8-conv", "GOP/s (AMX tdpbssd)" if amx else "GOP/s (VNNI vpdpbusd)"),
                       ("bf16", "GFLOP/s (AMX tdpbf16ps)" if amx
                        else "GFLOP/s (AVX-512 BF16 vdpbf16ps)")):
        if any(r[2] == kind for r in rows):
            got = [peak(kind, t) for t in (1, 2)]
            shown = ", ".join(f"{g:.1f} on {t} thread{'s' if t > 1 else ''}" if g else
                              f"n/a on {t}" for g, t in zip(got, (1, 2)))
            print(f"{kind} peak, {unit}: {shown}")
    print(f"{'workload':<27}{'thr':>4}{'tuned':>8}{'%pk':>5}{'default':>9}{'%pk':>5}"
          f"{'baseline':>10}{'%pk':>5}{'tuned/base':>11}{'dflt/base':>10}{'dflt/tuned':>11}"
          "  baseline")
    for name, threads, kind, tuned, default, why, base in rows:
        pk = peak(kind, threads)
        t, d = gflops(tuned), gflops(default)
        pct = lambda v: 100 * v / pk if v is not None and pk else None
        for i, b in enumerate(base):
            first = i == 0
            bg = b.get("gflops")
            if b["impl"] == "onednn-matmul":
                label = f"onednn matmul {b['type']} ({b['layout']}, {b['impl_name']})"
            elif b["impl"] == "onednn" and b.get("type", "f32") != "f32":
                label = f"onednn conv {b['type']} ({b['layout']}, {b['impl_name']})"
            else:
                label = b["impl"] + (f" ({b['layout']})" if "layout" in b else "")
            if "error" in b:
                label = f"n/a ({b['error']})"
            line = f"{(name if first else ''):<27}{(str(threads) if first else ''):>4}"
            if first and why:
                line += f"{'n/a':>8}{'':>5}{'n/a':>9}{'':>5}"
            elif first:
                line += (fmt(t, ".1f", 8) if t is not None else f"{'n/a':>8}") + fmt(
                    pct(t), ".0f", 5)
                line += (fmt(d, ".1f", 9) if d is not None else f"{'n/a':>9}") + fmt(
                    pct(d), ".0f", 5)
            else:
                line += " " * 27
            line += fmt(bg, ".1f", 10) + fmt(pct(bg), ".0f", 5)
            tb, db_ = ratio(t, bg), ratio(d, bg)
            line += (fmt(tb, ".2f", 10) + ("x" if tb is not None else " "))
            line += (fmt(db_, ".2f", 9) + ("x" if db_ is not None else " "))
            dt = ratio(d, t) if first else None
            line += fmt(dt, ".2f", 10) + ("x" if dt is not None else " ")
            print(line + "  " + label)
        if why:
            print(f"  hatc: n/a ({why})")
        for label, result in (("tuned", tuned), ("default", default)):
            if isinstance(result, str):
                print(f"  hatc {label}: n/a ({result})")
            elif isinstance(result, dict) and not result.get("correct", False):
                print(f"  WRONG RESULT from the {label} schedule of {name}")
    print(f"(medians of {args.rounds} interleaved rounds of {args.repeat} runs each; G(FL)OP/s = 2*M*N*K per second, integer ops for "
          f"int8; tuned = best of at most {args.trials} trials, checked; %pk = % of the peak "
          "for the row's arithmetic at its thread count)")
    acceptance(rows)


def host_has_amx():
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "amx_tile" in flags and "amx_int8" in flags and "amx_bf16" in flags


def peak_kind(kind):
    """hatc-bench-peak's kind for a row: the AMX tiles' peak where the CPU has
    them (the int8 and bf16 kernels use them), else the row's own."""
    if kind == "int8-conv":
        kind = "int8"
    return "amx-" + kind if kind in ("int8", "bf16") and host_has_amx() else kind


def acceptance(rows):
    """Issue 17's acceptance lines, for the rows that ran."""
    lines = []

    def check(what, value, bound):
        if value is None:
            lines.append(f"  n/a   {what}")
        else:
            lines.append(f"  {'ok  ' if value >= bound else 'MISS'}  {what}: {value:.2f}x "
                         f"(needs >= {bound}x)")

    def best_of(base, pred):
        got = [b["gflops"] for b in base if "gflops" in b and pred(b)]
        return max(got) if got else None

    tuned_f32 = {}
    for name, threads, kind, tuned, default, why, base in rows:
        t, d = gflops(tuned), gflops(default)
        where = f"{name}, {threads} thr"
        if name.startswith("sgemm"):
            tuned_f32[threads] = t
            ob = best_of(base, lambda b: b["impl"] == "openblas")
            check(f"tuned / OpenBLAS, {where}", ratio(t, ob), 0.95)
            check(f"default / OpenBLAS, {where}", ratio(d, ob), 0.5)
        elif name.startswith("BERT FFN"):
            check(f"tuned / OpenBLAS, {where}", ratio(t, best_of(
                base, lambda b: b["impl"] == "openblas")), 0.95)
        elif name.startswith("ResNet"):
            check(f"tuned / oneDNN's best layout, {where}", ratio(t, best_of(
                base, lambda b: True)), 1.0)
        elif kind == "int8-conv":
            r = ratio(t, best_of(base, lambda b: b.get("type") == "s8"))
            lines.append(f"  info  tuned / oneDNN s8 conv (its layout), {where}: " +
                         (f"{r:.2f}x" if r is not None else "n/a") + " (no bound in the issue)")
        elif kind in ("int8", "bf16"):
            same = "s8" if kind == "int8" else "bf16"
            check(f"tuned / oneDNN {same} matmul (best layout), {where}", ratio(t, best_of(
                base, lambda b: b.get("type") == same)), 0.9)
        check(f"default / tuned, {where}", ratio(d, t), 0.5)
    amx = host_has_amx()
    for name, threads, kind, tuned, default, why, base in rows:
        if kind in ("int8", "bf16") and threads in tuned_f32:
            r = ratio(gflops(tuned), tuned_f32[threads])
            what = f"tuned {kind} / tuned f32 sgemm, {threads} thr"
            if amx:
                check(what, r, 3.0)
            else:
                lines.append(f"  info  {what}: " + (f"{r:.2f}x" if r is not None else "n/a") +
                             " (no AMX on this CPU: the 3x line does not apply)")
    if lines:
        print("acceptance (issue 17):")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
