#!/usr/bin/python3
"""End-to-end model tests: hatc against ONNX Runtime on generated models.

    /usr/bin/python3 tests/onnx/models_test.py --hatc build/bin/hatc \\
        --work DIR [--setup-only | --no-setup] [--targets cpu,hwacc] [MODEL...]

Setup (unless --no-setup) writes every model of MODELS into DIR with
make_models.py and ONNX Runtime's outputs as their expected files
(ort_outputs.py; installs onnxruntime-node on first use and fails, loudly,
when it cannot). Then, for each MODEL named (default: all), it runs

    hatc run DIR/MODEL/model.onnx --inputs D --expect D --rtol 1e-3
        --atol 1e-4 --target T [--input-shape ...]

on each target, and for big_weights also checks `hatc import --time
--elide-weights` (the time is printed, not asserted: see
bench/import_speed.sh; the elided IR must stay under 1 MB). Exit 0 only
when every check passes.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"

# The models, in the order they run, with the op types each needs. Those
# needing only elementwise ops pass today; the others wait for the Conv,
# MatMul, Shape and Reduction converters (frontend/ops/).
MODELS = {
    "elementwise_chain": "Add Mul Sub Relu Sigmoid Tanh Clip (today)",
    "external_weights": "Add Mul Relu, weights in weights.bin (today)",
    "big_weights": "Add Mul Relu Tanh, 10 MB of weights (today)",
    "mobilenet_block": "Conv BatchNormalization Clip HardSigmoid Mul Add "
                       "GlobalAveragePool Flatten Gemm",
    "bert_layer": "MatMul Add Shape Gather Unsqueeze Concat Reshape Transpose "
                  "Div Softmax ReduceMean Sub Pow Sqrt Erf Mul",
    "bert_model": "Gather (embeddings, run-time ids) Range ConstantOfShape Cast "
                  "LayerNormalization Gemm Tanh, bert_layer's ops; opset 17",
    "cnn_mixed": "Conv (7x7/2 stem, grouped) MaxPool AveragePool Concat Resize "
                 "GlobalAveragePool Flatten Gemm Sigmoid, batch 2",
    "gpt_block": "LayerNormalization Split Slice Where Pow Tanh, a causal "
                 "mask; opset 17",
    "resnet_wide_block": "Conv (3x3 256 -> 256, filter rows padded) "
                         "BatchNormalization Relu Add GlobalAveragePool Gemm",
    # The benchmark models (bench/model_perf.py), full size: each runs in
    # about 2 s on either target here (hwacc's device model included).
    "mobilenetv2_block": "Conv (1x1, depthwise 3x3) BatchNormalization Clip Add",
    "mlp": "Gemm Relu",
    "bert_base_layer": "bert_layer's ops at BERT-base size (768 hidden, 12 heads, "
                       "FFN 3072, sequence 128)",
    "resnet50_stage": "Conv (1x1, 3x3) BatchNormalization Relu Add, ResNet-50 "
                      "conv2_x at 56x56",
    # Quantized (QOperator format): its convs run on the 8-bit values (AMX
    # tiles where the CPU has them); ORT's outputs are matched exactly here.
    "resnet50_stage_int8": "QuantizeLinear QLinearConv (1x1, 3x3) DequantizeLinear "
                           "Add Relu, resnet50_stage quantized",
}
ELIDED_LIMIT = 1 << 20   # bytes of `hatc import --elide-weights` for big_weights


def setup(work, models, ort_dir, threads):
    cmd = [PYTHON, os.path.join(HERE, "make_models.py"), "--out", work]
    for name in models:
        cmd += ["--only", name]
    subprocess.run(cmd, check=True)
    cmd = [PYTHON, os.path.join(HERE, "ort_outputs.py"), "--threads", str(threads)]
    if ort_dir:
        cmd += ["--ort-dir", ort_dir]
    done = subprocess.run(cmd + [os.path.join(work, m) for m in models])
    if done.returncode != 0:
        sys.exit("models_test.py: could not compute the expected outputs with "
                 "ONNX Runtime (see above); the model tests cannot run")


def input_shapes(folder):
    path = os.path.join(folder, "input_shapes.txt")
    if not os.path.exists(path):
        return []
    flags = []
    for line in open(path):
        if line.strip():
            flags += ["--input-shape", line.strip()]
    return flags


def first_error(text):
    for line in text.splitlines():
        if "error:" in line or "WRONG" in line:
            return line.strip()
    lines = text.strip().splitlines()
    return lines[-1] if lines else "(no output)"


def run_model(hatc, folder, target, timeout):
    data = os.path.join(folder, "test_data_set_0")
    cmd = [hatc, "run", os.path.join(folder, "model.onnx"), "--inputs", data,
           "--expect", data, "--rtol", "1e-3", "--atol", "1e-4",
           "--target", target, "--repeat", "1", "--warmup", "0"] + input_shapes(folder)
    start = time.monotonic()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout} s", timeout
    seconds = time.monotonic() - start
    text = done.stdout + done.stderr
    if done.returncode == 0:
        expects = [l.split(":", 1)[1].strip() for l in text.splitlines()
                   if l.startswith("expect ")]
        return True, "; ".join(e.split(" (")[0] + " " + e[e.find("(max abs"):e.find(",")] + ")"
                               for e in expects) or "ok", seconds
    what = {1: "error", 2: "mismatch"}.get(done.returncode, f"exit {done.returncode}")
    return False, f"{what}: {first_error(text)}", seconds


def check_import(hatc, folder):
    """hatc import --time --elide-weights: prints the time, checks the size."""
    out = os.path.join(folder, "elided.mlir")
    cmd = [hatc, "import", os.path.join(folder, "model.onnx"), "--time",
           "--elide-weights", "-o", out] + input_shapes(folder)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return False, f"import failed: {first_error(done.stderr)}"
    size = os.path.getsize(out)
    weights = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
                  if f in ("model.onnx", "weights.bin"))
    timing = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"
    detail = (f"{timing}; model {weights / 1e6:.1f} MB, elided IR {size} bytes "
              f"(limit {ELIDED_LIMIT})")
    return size < ELIDED_LIMIT, detail


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", metavar="MODEL",
                        help=f"models to check (default: all of {', '.join(MODELS)})")
    parser.add_argument("--hatc", help="the hatc binary")
    parser.add_argument("--work", required=True, help="folder for the models")
    parser.add_argument("--targets", default="cpu,hwacc")
    parser.add_argument("--ort-dir", help="onnxruntime-node's folder (ort_outputs.py)")
    parser.add_argument("--ort-threads", type=int, default=1)
    parser.add_argument("--setup-only", action="store_true",
                        help="write models and expected outputs, run nothing")
    parser.add_argument("--no-setup", action="store_true",
                        help="use the models already in --work")
    parser.add_argument("--timeout", type=int, default=600,
                        help="seconds per hatc run (default 600)")
    args = parser.parse_args()
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    models = args.models or list(MODELS)
    os.makedirs(args.work, exist_ok=True)
    if not args.no_setup:
        setup(args.work, list(MODELS) if args.setup_only else models,
              args.ort_dir, args.ort_threads)
    if args.setup_only:
        return 0
    if not args.hatc:
        parser.error("--hatc is required unless --setup-only")
    for name in models:
        if not os.path.exists(os.path.join(args.work, name, "test_data_set_0",
                                           "output_0.pb")):
            sys.exit(f"models_test.py: {args.work}/{name} has no expected "
                     f"outputs; run without --no-setup first")

    failures = 0
    rows = []
    for name in models:
        folder = os.path.join(args.work, name)
        print(f"{name}: needs {MODELS[name]}", flush=True)
        for target in args.targets.split(","):
            ok, detail, seconds = run_model(args.hatc, folder, target, args.timeout)
            failures += not ok
            rows.append((name, target, ok))
            print(f"  {'PASS' if ok else 'FAIL'}  run --target {target} "
                  f"({seconds:.1f} s): {detail}", flush=True)
        if name == "big_weights":
            ok, detail = check_import(args.hatc, folder)
            failures += not ok
            rows.append((name, "import", ok))
            print(f"  {'PASS' if ok else 'FAIL'}  import --elide-weights: {detail}",
                  flush=True)
    passed = sum(ok for _, _, ok in rows)
    print(f"{passed} passed, {len(rows) - passed} failed")
    for name, what, ok in rows:
        if not ok:
            print(f"  failed: {name} ({what})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
