#!/usr/bin/python3
"""End-to-end test of a deployed model: hatc compile --emit lib, a C program
built with plain cc against MODEL.h and libMODEL.so alone, outputs compared
with ONNX Runtime's.

    /usr/bin/python3 tests/deploy/deploy_test.py --hatc build/bin/hatc \\
        --models DIR --work DIR --target cpu|hwacc [--runs N] MODEL

DIR/MODEL is a folder of tests/onnx/models_test.py's setup (model.onnx,
test_data_set_0 with ONNX Runtime's outputs, input_shapes.txt). The test
adds test_data_set_1 (other inputs, seeded) with ONNX Runtime's outputs
(tests/onnx/ort_outputs.py), writes every tensor as a raw .bin, compiles
the model to WORK/MODEL-TARGET/lib/, builds tests/deploy/run_model.c with
`cc run_model.c -I lib -L lib -ltestmodel -Wl,-rpath,lib -lpthread` and
runs it twice: once on set 0, then two threads at once (own context each,
set 0 and set 1, N runs each). Exit 0 only when every output of every run
matches (1e-3 relative + 1e-4 absolute).
"""
import argparse
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
ORT_OUTPUTS = os.path.join(SRC, "tests", "onnx", "ort_outputs.py")


def read_pb(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def write_pb(path, array):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array).SerializeToString())


def tensors(folder, kind):
    names = sorted((f for f in os.listdir(folder)
                    if f.startswith(kind + "_") and f.endswith(".pb")),
                   key=lambda f: int(f[len(kind) + 1:-3]))
    return [os.path.join(folder, f) for f in names]


def step(what, cmd, **kwargs):
    print("$ " + " ".join(cmd), flush=True)
    done = subprocess.run(cmd, text=True, capture_output=True, **kwargs)
    sys.stdout.write(done.stdout)
    sys.stdout.write(done.stderr)
    if done.returncode != 0:
        sys.exit(f"deploy_test.py: {what} failed (exit {done.returncode})")
    return done


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--hatc", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--target", default="cpu")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--ort-dir")
    parser.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = parser.parse_args()

    source = os.path.join(args.models, args.model)
    if not os.path.exists(os.path.join(source, "test_data_set_0", "output_0.pb")):
        sys.exit(f"deploy_test.py: {source} has no expected outputs; run "
                 f"ctest -R onnx.models.setup first")
    work = os.path.join(args.work, f"{args.model}-{args.target}")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    # The model (and any external weights) by link; the data sets are ours.
    for entry in os.listdir(source):
        if not entry.startswith("test_data_set"):
            os.symlink(os.path.abspath(os.path.join(source, entry)),
                       os.path.join(work, entry))
    set0 = os.path.join(work, "test_data_set_0")
    set1 = os.path.join(work, "test_data_set_1")
    os.makedirs(set0)
    os.makedirs(set1)
    rng = np.random.default_rng(15)
    for path in tensors(os.path.join(source, "test_data_set_0"), "input"):
        array = read_pb(path)
        write_pb(os.path.join(set0, os.path.basename(path)), array)
        other = (rng.uniform(-1, 1, array.shape).astype(array.dtype)
                 if array.dtype.kind == "f" else array)
        write_pb(os.path.join(set1, os.path.basename(path)), other)
    cmd = [sys.executable, ORT_OUTPUTS, work]
    if args.ort_dir:
        cmd += ["--ort-dir", args.ort_dir]
    step("ONNX Runtime's outputs", cmd)
    for folder in (set0, set1):
        for kind in ("input", "output"):
            for path in tensors(folder, kind):
                data = np.ascontiguousarray(read_pb(path))
                with open(path[:-3] + ".bin", "wb") as f:
                    f.write(data.tobytes())
    if not np.any([np.any(read_pb(a) != read_pb(b)) for a, b in
                   zip(tensors(set0, "output"), tensors(set1, "output"))]):
        sys.exit("deploy_test.py: both data sets give the same outputs; the "
                 "two-thread run would not tell them apart")

    lib = os.path.join(work, "lib")
    shapes = []
    shapes_file = os.path.join(source, "input_shapes.txt")
    if os.path.exists(shapes_file):
        for line in open(shapes_file):
            if line.strip():
                shapes += ["--input-shape", line.strip()]
    step("hatc compile", [args.hatc, "compile", os.path.join(work, "model.onnx"),
                          "--target", args.target, "--name", "testmodel",
                          "-o", lib + "/"] + shapes)
    program = os.path.join(work, "run_model")
    step("cc", [args.cc, os.path.join(HERE, "run_model.c"), "-I", lib, "-L", lib,
                "-ltestmodel", "-Wl,-rpath," + os.path.abspath(lib), "-lpthread",
                "-lm", "-o", program])
    step("one run", [program, set0])
    step("two threads", [program, "--concurrent", str(args.runs), set0, set1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
