#!/usr/bin/env python3
"""GPU fp32 matmul: tuned hatc vs hatc's default schedule vs torch.matmul
(TF32 off) or, without PyTorch, cuBLAS sgemm in its default (no TF32) math
mode, on the same device in one run.

  bench/gpu_matmul.py [--trials 48] [--time-budget 150] [--repeat 30]
                      [--sizes 1024,4096] [--workdir DIR]

Per size it tunes (or resumes tuning) N^3 into DIR/gpu.db with at most
--trials trials and --time-budget seconds, then measures in one run: the
best tuned schedule and the default one (`hatc run --check`, CUDA events,
median of --repeat), and the baseline (CUDA events, median of --repeat).
Without a usable GPU it prints why and exits 77; a missing baseline is
reported in its column, not fatal.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HATC = os.path.join(ROOT, "build", "bin", "hatc")


def workload(n, workdir):
    """matmul_N.mlir: examples/ has 1024; other sizes are written to workdir."""
    if n == 1024:
        return os.path.join(ROOT, "examples", "matmul_1024.mlir")
    path = os.path.join(workdir, f"matmul_{n}.mlir")
    t = f"tensor<{n}x{n}xf32>"
    with open(path, "w") as f:
        f.write(f"func.func @matmul(%A: {t}, %B: {t}) -> {t} {{\n"
                f"  %zero = arith.constant 0.0 : f32\n"
                f"  %init = tensor.empty() : {t}\n"
                f"  %C0 = linalg.fill ins(%zero : f32) outs(%init : {t}) -> {t}\n"
                f"  %C = linalg.matmul ins(%A, %B : {t}, {t}) outs(%C0 : {t}) -> {t}\n"
                f"  return %C : {t}\n}}\n")
    return path


def hatc_run(path, schedule, repeat):
    cmd = [HATC, "run", path, "--target", "gpu", "--check", "--repeat", str(repeat), "--json"]
    if schedule:
        cmd += ["--schedule", schedule]
    out = subprocess.run(cmd, capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    if not lines:
        return None, out.stderr.strip().splitlines()[-1:] or ["no output"]
    r = json.loads(lines[-1])
    if not r.get("correct"):
        return None, [f"failed the check (max rel err {r.get('max_rel_err')})"]
    return r, None


# --- baselines -------------------------------------------------------------

def torch_baseline(n, repeat):
    import torch  # noqa: PLC0415 (optional dependency)
    if not torch.cuda.is_available():
        raise RuntimeError("torch sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    a = torch.randn(n, n, device="cuda", dtype=torch.float32)
    b = torch.randn(n, n, device="cuda", dtype=torch.float32)
    for _ in range(3):
        torch.matmul(a, b)
    times = []
    for _ in range(repeat):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(a, b)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
    return statistics.median(times), f"torch {torch.__version__} matmul, TF32 off"


def load_first(names):
    for name in names:
        try:
            return ctypes.CDLL(name), name
        except OSError:
            continue
    raise RuntimeError("none of " + ", ".join(names) + " loads")


def cublas_baseline(n, repeat):
    """cublasSgemm on the driver API's primary context (default math mode:
    plain fp32, no TF32 tensor cores)."""
    cuda, _ = load_first(["libcuda.so.1"])
    cudart, _ = load_first(["libcudart.so", "libcudart.so.13", "libcudart.so.12",
                            "/usr/local/cuda/lib64/libcudart.so"])
    cublas, cublas_name = load_first(["libcublas.so", "libcublas.so.13", "libcublas.so.12",
                                      "/usr/local/cuda/lib64/libcublas.so"])
    del cuda
    def check(status, what):
        if status != 0:
            raise RuntimeError(f"{what} failed with status {status}")
    size = n * n * 4
    ptrs = [ctypes.c_void_p() for _ in range(3)]
    for p in ptrs:
        check(cudart.cudaMalloc(ctypes.byref(p), ctypes.c_size_t(size)), "cudaMalloc")
        # 0x3c3c3c3c: about 0.0115 everywhere (timing only, nothing checked)
        check(cudart.cudaMemset(p, 0x3c, ctypes.c_size_t(size)), "cudaMemset")
    handle = ctypes.c_void_p()
    check(cublas.cublasCreate_v2(ctypes.byref(handle)), "cublasCreate")
    one, zero = ctypes.c_float(1.0), ctypes.c_float(0.0)
    def gemm():
        check(cublas.cublasSgemm_v2(handle, 0, 0, n, n, n, ctypes.byref(one), ptrs[0], n,
                                    ptrs[1], n, ctypes.byref(zero), ptrs[2], n), "cublasSgemm")
    for _ in range(3):
        gemm()
    start, end = ctypes.c_void_p(), ctypes.c_void_p()
    check(cudart.cudaEventCreate(ctypes.byref(start)), "cudaEventCreate")
    check(cudart.cudaEventCreate(ctypes.byref(end)), "cudaEventCreate")
    times = []
    for _ in range(repeat):
        check(cudart.cudaEventRecord(start, None), "cudaEventRecord")
        gemm()
        check(cudart.cudaEventRecord(end, None), "cudaEventRecord")
        check(cudart.cudaEventSynchronize(end), "cudaEventSynchronize")
        ms = ctypes.c_float()
        check(cudart.cudaEventElapsedTime(ctypes.byref(ms), start, end), "cudaEventElapsedTime")
        times.append(ms.value / 1e3)
    cublas.cublasDestroy_v2(handle)
    for p in ptrs:
        cudart.cudaFree(p)
    return statistics.median(times), f"cuBLAS sgemm ({os.path.basename(cublas_name)}), no TF32"


def baseline(n, repeat):
    errors = []
    for fn in (torch_baseline, cublas_baseline):
        try:
            return fn(n, repeat)
        except Exception as e:  # noqa: BLE001 (report, try the next one)
            errors.append(f"{fn.__name__}: {e}")
    return None, "; ".join(errors)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=48)
    p.add_argument("--time-budget", type=float, default=150, help="seconds of tuning per size")
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--sizes", default="1024,4096")
    p.add_argument("--workdir", default=os.path.join(ROOT, "build", "gpu-perf"))
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)

    probe = subprocess.run([HATC, "run", os.path.join(ROOT, "examples", "bias_relu.mlir"),
                            "--target", "gpu", "--repeat", "1"], capture_output=True, text=True)
    if probe.returncode != 0:
        print("SKIPPED: no usable GPU: " + (probe.stderr.strip().splitlines() or ["?"])[-1])
        return 77

    db = os.path.join(args.workdir, "gpu.db")
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        path = workload(n, args.workdir)
        flops = 2.0 * n ** 3
        tune = subprocess.run([HATC, "tune", path, "--target", "gpu", "--db", db,
                               "--trials", str(args.trials), "--time-budget", str(args.time_budget),
                               "--seed", "1"], capture_output=True, text=True)
        tuned, why = None, None
        if tune.returncode != 0:
            why = ["tune failed: " + (tune.stderr.strip().splitlines() or ["?"])[-1]]
        else:
            best = subprocess.run([HATC, "best", path, "--target", "gpu", "--db", db,
                                   "--emit-schedule"], capture_output=True, text=True)
            if best.returncode != 0:
                why = ["no OK record: " + (best.stderr.strip().splitlines() or ["?"])[-1]]
            else:
                with tempfile.NamedTemporaryFile("w", suffix=".mlir", dir=args.workdir,
                                                 delete=False) as f:
                    f.write(best.stdout)
                tuned, why = hatc_run(path, f.name, args.repeat)
        default, default_why = hatc_run(path, None, args.repeat)
        base_s, base_what = baseline(n, args.repeat)
        rows.append((n, tuned, why, default, default_why, base_s, base_what, flops))

    device = "?"
    if rows and (rows[0][1] or rows[0][3]):
        device = (rows[0][1] or rows[0][3]).get("gpu", "?")
    print(f"GPU fp32 matmul, medians of {args.repeat} runs (CUDA events), device: {device}")
    print("| N^3 | hatc tuned GFLOP/s | hatc default GFLOP/s | baseline GFLOP/s | tuned / baseline | baseline |")
    print("|---|---|---|---|---|---|")
    for n, tuned, why, default, default_why, base_s, base_what, flops in rows:
        t = f"{flops / tuned['median_s'] / 1e9:.0f}" if tuned else "n/a (" + "; ".join(why) + ")"
        d = f"{flops / default['median_s'] / 1e9:.0f}" if default else "n/a (" + "; ".join(default_why) + ")"
        b = f"{flops / base_s / 1e9:.0f}" if base_s else "n/a"
        ratio = f"{base_s / tuned['median_s']:.2f}x" if tuned and base_s else "n/a"
        print(f"| {n} | {t} | {d} | {b} | {ratio} | {base_what} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
