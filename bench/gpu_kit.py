#!/usr/bin/env python3
"""Tune and check hatc's GPU matmuls on a machine that cannot build hatc.

A lent GPU machine has the CUDA driver and PyTorch but no LLVM/MLIR 19, and
only a small tree can travel to it, so hatc cannot run there. This kit
splits the work:

  bench/gpu_kit.py prepare [--sizes 1024,4096] [--configs 40] [--seed 1] [--kit DIR]
      here: for each N^3 fp32 matmul, hatc's default GPU schedule and
      --configs distinct valid gpu_matmul configs sampled from its space,
      each compiled (PTX for sm_90) and linked into a kernel .so whose
      runtime libraries (libhatc_cuda_rt.so, no LLVM) are copied beside it;
      a manifest lists them. The kit is a few MiB.

  bench/gpu_kit.py run [--kit DIR] [--repeat 20] [--out FILE]
      there: loads each kernel with ctypes and calls its hatc_entry on
      PyTorch's CUDA tensors (inputs from a seeded RNG, the output poisoned
      with NaN), checks it against an fp64 torch.matmul with hatc's
      tolerance, times it with CUDA events on hatc's stream (median of
      --repeat, fewer for kernels slower than 1/repeat s), times torch.matmul with TF32 off the same way, and prints
      the table: per size the best checked config (random search over the
      space: the tuning), the default schedule and torch. --out writes every
      result as JSON lines.

Without PyTorch `run` still loads and launches every kernel (device memory
from the driver through ctypes) and reports them unchecked: that is how the
kit is tested here, against the stand-in driver ($HATC_CUDA_DRIVER).
"""
import argparse
import ctypes
import json
import math
import os
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HATC = os.path.join(ROOT, "build", "bin", "hatc")
LLVM_LIB = "/usr/lib/llvm-19/lib"


def matmul_mlir(n):
    t = f"tensor<{n}x{n}xf32>"
    return (f"func.func @matmul(%A: {t}, %B: {t}) -> {t} {{\n"
            f"  %zero = arith.constant 0.0 : f32\n"
            f"  %init = tensor.empty() : {t}\n"
            f"  %C0 = linalg.fill ins(%zero : f32) outs(%init : {t}) -> {t}\n"
            f"  %C = linalg.matmul ins(%A, %B : {t}, {t}) outs(%C0 : {t}) -> {t}\n"
            f"  return %C : {t}\n}}\n")


def run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {out.stderr.strip()}")
    return out.stdout


# --- prepare (here) --------------------------------------------------------

def needed_libraries(path):
    """The NEEDED entries of an ELF file."""
    out = run(["readelf", "-d", path])
    return [line.split("[")[1].split("]")[0] for line in out.splitlines() if "(NEEDED)" in line]


def prepare(args):
    kit = os.path.abspath(args.kit)
    lib = os.path.join(kit, "lib")
    shutil.rmtree(kit, ignore_errors=True)
    os.makedirs(lib)
    target = os.path.join(kit, "gpu-sm90.json")
    with open(target, "w") as f:
        json.dump({"kind": "gpu", "name": "sm90", "chip": "sm_90"}, f)
    manifest = []
    for n in [int(s) for s in args.sizes.split(",")]:
        workload = os.path.join(kit, f"matmul_{n}.mlir")
        with open(workload, "w") as f:
            f.write(matmul_mlir(n))
        configs = [None]
        sampled = run([HATC, "space", workload, "--target", target, "--sample",
                       str(4 * args.configs), "--seed", str(args.seed)])
        seen = set()
        for line in sampled.splitlines():
            key = json.dumps(json.loads(line), sort_keys=True)
            if key not in seen and len(configs) <= args.configs:
                seen.add(key)
                configs.append(json.loads(line))
        for i, config in enumerate(configs):
            name = f"mm{n}_{'default' if config is None else f'c{i:03d}'}"
            obj, so = os.path.join(kit, name + ".o"), os.path.join(kit, name + ".so")
            cmd = [HATC, "compile", workload, "--target", target, "--emit", "obj", "-o", obj]
            if config is not None:
                schedule = os.path.join(kit, name + ".schedule.mlir")
                with open(schedule, "w") as f:
                    f.write(run([HATC, "space", workload, "--target", target,
                                 "--script", json.dumps(config)]))
                cmd += ["--schedule", schedule]
            try:
                run(cmd)
                run(["clang-19", "-shared", "-o", so, obj, "-Wl,--as-needed",
                     "-L" + LLVM_LIB, "-L" + os.path.join(ROOT, "build", "lib"),
                     "-Wl,-rpath,$ORIGIN/lib", "-lhatc_cuda_rt", "-lomp",
                     "-lmlir_c_runner_utils", "-lm"])
            except RuntimeError as e:
                print(f"skipped {name}: {e}", file=sys.stderr)
                continue
            finally:
                if os.path.exists(obj):
                    os.remove(obj)
            manifest.append({"name": name, "n": n, "so": os.path.basename(so),
                             "config": config if config is not None else "default"})
    # The runtime libraries the kernels need that a CUDA machine lacks.
    todo = {m["so"] for m in manifest}
    copied = set()
    while todo:
        path = todo.pop()
        full = os.path.join(kit, path) if not os.path.isabs(path) else path
        for needed in needed_libraries(full):
            if needed in copied:
                continue
            for folder in (os.path.join(ROOT, "build", "lib"), LLVM_LIB):
                source = os.path.join(folder, needed)
                if os.path.exists(source):
                    shutil.copyfile(source, os.path.join(lib, needed))
                    copied.add(needed)
                    todo.add(os.path.join(lib, needed))
                    break
    with open(os.path.join(kit, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    size = sum(os.path.getsize(os.path.join(d, x)) for d, _, fs in os.walk(kit) for x in fs)
    print(f"kit {kit}: {len(manifest)} kernels, libraries {sorted(copied)}, {size / 2**20:.1f} MiB")
    return 0


# --- run (on the GPU machine) ----------------------------------------------

class Descriptor2D(ctypes.Structure):
    """MLIR's memref descriptor of rank 2 (what hatc_entry's args point to)."""
    _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p),
                ("offset", ctypes.c_int64), ("sizes", ctypes.c_int64 * 2),
                ("strides", ctypes.c_int64 * 2)]


def descriptor(pointer, n):
    d = Descriptor2D()
    d.allocated = d.aligned = pointer
    d.offset = 0
    d.sizes[0] = d.sizes[1] = n
    d.strides[0], d.strides[1] = n, 1
    return d


class TorchMemory:
    """Inputs from a seeded RNG and the fp64 reference, on PyTorch's device."""

    def __init__(self, n):
        import torch  # noqa: PLC0415 (only on the GPU machine)
        self.torch = torch
        g = torch.Generator(device="cuda").manual_seed(n)
        self.a = torch.rand(n, n, device="cuda", generator=g) * 2 - 1
        self.b = torch.rand(n, n, device="cuda", generator=g) * 2 - 1
        self.c = torch.empty(n, n, device="cuda")
        self.ref = (self.a.double() @ self.b.double())
        torch.cuda.synchronize()
        self.pointers = [t.data_ptr() for t in (self.a, self.b, self.c)]

    def poison(self):
        self.c.fill_(float("nan"))
        self.torch.cuda.synchronize()

    def max_rel_err(self):
        """hatc's: max |out - ref| / max(|ref|, 1e-2 max|ref|); inf on NaN."""
        out = self.c.double()
        if self.torch.isnan(out).any():
            return math.inf
        ref = self.ref.abs()
        floor = 1e-2 * ref.max()
        return ((out - self.ref).abs() / self.torch.maximum(ref, floor)).max().item()

    def torch_ms(self, repeat):
        torch = self.torch
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        for _ in range(3):
            torch.matmul(self.a, self.b)
        times = []
        for _ in range(repeat):
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            start.record()
            torch.matmul(self.a, self.b)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
        return statistics.median(times), f"torch {torch.__version__} matmul, TF32 off"


class DriverMemory:
    """Without PyTorch: device memory from the driver, nothing checked."""

    def __init__(self, n):
        cuda = ctypes.CDLL(os.environ.get("HATC_CUDA_DRIVER") or "libcuda.so.1")
        self.check = lambda r, what: r == 0 or sys.exit(f"{what} failed: CUDA error {r}")
        self.check(cuda.cuInit(0), "cuInit")
        device, context = ctypes.c_int(), ctypes.c_void_p()
        self.check(cuda.cuDeviceGet(ctypes.byref(device), 0), "cuDeviceGet")
        self.check(cuda.cuDevicePrimaryCtxRetain(ctypes.byref(context), device),
                   "cuDevicePrimaryCtxRetain")
        self.check(cuda.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        self.cuda, self.pointers = cuda, []
        for _ in range(3):
            p = ctypes.c_uint64()
            self.check(cuda.cuMemAlloc_v2(ctypes.byref(p), ctypes.c_size_t(4 * n * n)),
                       "cuMemAlloc")
            self.pointers.append(p.value)

    def poison(self):
        pass

    def max_rel_err(self):
        return None  # unchecked

    def torch_ms(self, repeat):
        return None, "no PyTorch here"


def measure_kernel(kit, entry, memory, runtime, repeat):
    kernel = ctypes.CDLL(os.path.join(kit, entry["so"]))
    entry_point = ctypes.cast(kernel.hatc_entry, ctypes.c_void_p)
    descriptors = [descriptor(p, entry["n"]) for p in memory.pointers]
    args = (ctypes.c_void_p * 3)(*[ctypes.addressof(d) for d in descriptors])
    error = ctypes.c_char_p()
    def timed():
        ms = runtime.hatc_cuda_time_call_ms(entry_point, ctypes.cast(args, ctypes.c_void_p),
                                            ctypes.byref(error))
        if ms < 0:
            raise RuntimeError(error.value.decode() if error.value else "failed")
        return ms
    memory.poison()
    timed()  # the checked run (and the JIT compile of the PTX)
    err = memory.max_rel_err()
    if err is not None and not err <= 1e-3:
        return {"error": "WRONG_ANSWER", "max_rel_err": err}
    # At most about a second of timed runs per kernel (and at least 2), so a
    # slow config cannot eat the machine's time.
    times = [timed()]
    times += [timed() for _ in range(max(2, min(repeat, int(1000 / max(times[0], 1e-3)))) - 1)]
    return {"error": "OK", "median_ms": statistics.median(times), "runs": len(times),
            "max_rel_err": err, "checked": err is not None}


def run_kit(args):
    kit = os.path.abspath(args.kit)
    with open(os.path.join(kit, "manifest.json")) as f:
        manifest = json.load(f)
    runtime = ctypes.CDLL(os.path.join(kit, "lib", "libhatc_cuda_rt.so"), mode=ctypes.RTLD_GLOBAL)
    runtime.hatc_cuda_time_call_ms.restype = ctypes.c_double
    runtime.hatc_cuda_time_call_ms.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                               ctypes.POINTER(ctypes.c_char_p)]
    try:
        import torch  # noqa: F401,PLC0415
        Memory = TorchMemory
    except ImportError:
        Memory = DriverMemory
    out = open(args.out, "w") if args.out else None
    rows = []
    for n in sorted({e["n"] for e in manifest}):
        memory = Memory(n)
        flops = 2.0 * n ** 3
        results = []
        for entry in [e for e in manifest if e["n"] == n]:
            try:
                r = measure_kernel(kit, entry, memory, runtime, args.repeat)
            except RuntimeError as e:
                r = {"error": "RUN_ERROR", "message": str(e)}
                if "ILLEGAL" in str(e) or "LAUNCH_FAILED" in str(e):
                    print(f"{entry['name']}: {e}; the CUDA context is lost, stopping",
                          file=sys.stderr)
                    results.append({**entry, **r})
                    break
            r = {**entry, **r}
            if r.get("median_ms"):
                r["gflops"] = flops / (r["median_ms"] / 1e3) / 1e9
            results.append(r)
            print(f"{entry['name']}: {r['error']} {r.get('gflops', 0):.0f} GFLOP/s "
                  f"err {r.get('max_rel_err')}", file=sys.stderr)
            if out:
                out.write(json.dumps(r) + "\n")
        base_ms, base_what = memory.torch_ms(args.repeat)
        ok = [r for r in results if r["error"] == "OK"]
        best = min(ok, key=lambda r: r["median_ms"]) if ok else None
        default = next((r for r in results if r["config"] == "default"), None)
        rows.append((n, best, default, base_ms, base_what, len(ok), len(results), flops))
        del memory
    print(f"GPU fp32 matmul (medians of {args.repeat}, CUDA events; hatc: best of the "
          f"checked configs in the kit)")
    print("| N^3 | hatc tuned GFLOP/s | hatc default GFLOP/s | torch GFLOP/s | tuned / torch | OK configs | best config |")
    print("|---|---|---|---|---|---|---|")
    for n, best, default, base_ms, base_what, ok, total, flops in rows:
        g = lambda r: f"{r['gflops']:.0f}" if r and r.get("gflops") else (r or {}).get("error", "n/a")
        t = f"{flops / (base_ms / 1e3) / 1e9:.0f}" if base_ms else "n/a"
        ratio = f"{base_ms / best['median_ms']:.2f}x" if best and base_ms else "n/a"
        cfg = json.dumps(best["config"]) if best else "-"
        print(f"| {n} | {g(best)} | {g(default)} | {t} | {ratio} | {ok}/{total} | {cfg} |")
    print(f"baseline: {rows[0][4] if rows else '-'}")
    checked = all(r[1] is None or r[1].get("checked") for r in rows)
    if not checked:
        print("UNCHECKED: no PyTorch here, so no reference: kernels were launched, not verified")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    pp = sub.add_parser("prepare")
    pp.add_argument("--sizes", default="1024,4096")
    pp.add_argument("--configs", type=int, default=40)
    pp.add_argument("--seed", type=int, default=1)
    pp.add_argument("--kit", default=os.path.join(ROOT, "gpukit"))
    pr = sub.add_parser("run")
    pr.add_argument("--kit", default=os.path.join(ROOT, "gpukit"))
    pr.add_argument("--repeat", type=int, default=20)
    pr.add_argument("--out")
    args = p.parse_args()
    return prepare(args) if args.command == "prepare" else run_kit(args)


if __name__ == "__main__":
    sys.exit(main())
