#!/usr/bin/env python3
"""CPU performance table: tuned hatc vs default hatc vs OpenBLAS / oneDNN.

  bench/cpu_perf.py [--trials 256] [--repeat 20] [--workdir DIR] [--only NAME]...

Per workload and thread count it tunes (or resumes tuning) into
DIR/perf.<threads>t.db with at most --trials trials, then measures in one
run: hatc's best schedule, hatc's default schedule, the library baseline
(OpenBLAS sgemm / a loop of sgemm for the batch matmul; oneDNN for the conv,
both on hatc's NHWC/HWIO layout and on its own preferred blocked layout),
and this machine's FMA peak, all medians over --repeat runs. Run it on a
quiet machine. The default schedule (no tuning: the analytical one of
lowering/CpuSchedules.cpp) gets its own ratios: to the baseline and to
tuned. --only NAME (a workload name's start, repeatable) runs some rows.
"""
import argparse
import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")

CASES = [
    # name, example, threads, baseline command(s)
    ("sgemm 1024^3", "matmul_1024.mlir", 1, [["hatc-bench-sgemm", "1024", "1024", "1024", "1"]]),
    ("sgemm 1024^3", "matmul_1024.mlir", 2, [["hatc-bench-sgemm", "1024", "1024", "1024", "2"]]),
    ("BERT FFN 128x768x3072", "bert_ffn_matmul.mlir", 2, [["hatc-bench-sgemm", "128", "3072", "768", "2"]]),
    ("attention 12x128x64x128", "attention_batch_matmul.mlir", 2,
     [["hatc-bench-sgemm", "128", "128", "64", "2", "20", "12"]]),
    ("ResNet-50 conv 3x3", "resnet50_conv3x3.mlir", 2,
     [["hatc-bench-onednn", "1", "58", "58", "64", "64", "3", "3", "1", "2", "20", "user"],
      ["hatc-bench-onednn", "1", "58", "58", "64", "64", "3", "3", "1", "2", "20", "any"]]),
    ("conv 3x3 stride 2", "conv3x3_stride2.mlir", 2,
     [["hatc-bench-onednn", "1", "57", "57", "64", "128", "3", "3", "2", "2", "20", "user"]]),
    ("odd matmul 257x129x67", "matmul_odd.mlir", 2, [["hatc-bench-sgemm", "257", "129", "67", "2"]]),
    # The baseline is the matmul alone (sgemm has no bias + ReLU epilogue).
    ("matmul+bias+ReLU 128x3072", "matmul_bias_relu.mlir", 2,
     [["hatc-bench-sgemm", "128", "3072", "768", "2"]]),
]


def run_json(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=256)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--workdir", default=os.path.join(ROOT, "build", "perf"))
    p.add_argument("--only", action="append", default=[], metavar="NAME")
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    hatc = os.path.join(BIN, "hatc")
    peak = {t: run_json([os.path.join(BIN, "hatc-bench-peak"), str(t)])["gflops"] for t in (1, 2)}
    rows = []
    for name, example, threads, baselines in CASES:
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        workload = os.path.join(ROOT, "examples", example)
        db = os.path.join(args.workdir, f"perf.{threads}t.db")
        subprocess.run([hatc, "tune", workload, "--target", "cpu", "--db", db, "--trials",
                        str(args.trials), "--threads", str(threads), "--seed", "1"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        schedule = os.path.join(args.workdir, f"{example}.{threads}t.schedule.mlir")
        with open(schedule, "w") as f:
            subprocess.run([hatc, "best", workload, "--target", "cpu", "--db", db, "--emit-schedule"],
                           stdout=f, check=True)
        common = ["--threads", str(threads), "--repeat", str(args.repeat), "--check", "--json"]
        tuned = run_json([hatc, "run", workload, "--schedule", schedule] + common)
        default = run_json([hatc, "run", workload] + common)
        base = [run_json([os.path.join(BIN, b[0])] + b[1:]) for b in baselines]
        rows.append((name, threads, tuned, default, base))
    print(f"CPU peak (FMA loop): {peak[1]:.1f} GFLOP/s on 1 thread, {peak[2]:.1f} on 2")
    print(f"{'workload':<28}{'thr':>4}{'tuned':>9}{'default':>9}{'baseline':>10}{'tuned/base':>11}"
          f"{'dflt/base':>10}{'dflt/tuned':>11}{'%peak':>7}  baseline")
    for name, threads, tuned, default, base in rows:
        for i, b in enumerate(base):
            label = b["impl"] + (f" ({b['layout']})" if "layout" in b else "")
            first = i == 0
            print(f"{(name if first else ''):<28}{(str(threads) if first else ''):>4}"
                  f"{(format(tuned['gflops'], '.1f') if first else ''):>9}"
                  f"{(format(default['gflops'], '.1f') if first else ''):>9}"
                  f"{b['gflops']:>10.1f}{tuned['gflops'] / b['gflops']:>10.2f}x"
                  f"{default['gflops'] / b['gflops']:>9.2f}x"
                  f"{(format(default['gflops'] / tuned['gflops'], '.2f') + 'x' if first else ''):>11}"
                  f"{(format(100 * tuned['gflops'] / peak[threads], '.0f') if first else ''):>7}  {label}")
        for label, result in (("tuned", tuned), ("default", default)):
            if not result["correct"]:
                print(f"  WRONG RESULT from the {label} schedule of {name}")
    print(f"(GFLOP/s medians of {args.repeat} runs; tuned = best of at most {args.trials} trials, checked)")


if __name__ == "__main__":
    main()
