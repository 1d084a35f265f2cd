#!/usr/bin/python3
"""Writes ONNX Runtime's outputs as the expected files of model folders.

    /usr/bin/python3 tests/onnx/ort_outputs.py MODEL_DIR... [--threads N]
        [--ort-dir DIR] [--install-only]

For each MODEL_DIR/test_data_set_N/ it runs MODEL_DIR/model.onnx on
input_K.pb with onnxruntime-node (tests/onnx/ort_reference.js; graph
optimizations on) and writes output_K.pb there, in the model's output
order. Dynamic dims take the input files' shapes.

onnxruntime-node lives in DIR/node_modules (--ort-dir, else $HATC_ORT_DIR,
else build/ort in the source tree). When it is missing it is installed
with `npm install --ignore-scripts --prefix DIR onnxruntime-node` (the
CPU library ships in the package; its install script only fetches GPU
extras). When that fails the script exits 1 and says why: a missing
reference is a failure, never a silent skip.

Needs Debian's python3-onnx: run under /usr/bin/python3.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
PACKAGE = "onnxruntime-node"

try:
    import onnx
    from onnx import numpy_helper
except ImportError:
    sys.exit("ort_outputs.py: needs the onnx python package; run it with "
             "/usr/bin/python3 (Debian's python3-onnx)")

# numpy dtype <-> ORT's type names (ort_reference.js).
ORT_TYPES = {
    np.dtype(np.float32): "float32", np.dtype(np.float64): "float64",
    np.dtype(np.int8): "int8", np.dtype(np.uint8): "uint8",
    np.dtype(np.int16): "int16", np.dtype(np.uint16): "uint16",
    np.dtype(np.int32): "int32", np.dtype(np.uint32): "uint32",
    np.dtype(np.int64): "int64", np.dtype(np.uint64): "uint64",
    np.dtype(np.bool_): "bool",
}
NUMPY_TYPES = {v: k for k, v in ORT_TYPES.items()}


def fail(message):
    sys.stderr.write(f"ort_outputs.py: {message}\n")
    sys.exit(1)


def ort_installed(ort_dir):
    return os.path.isfile(os.path.join(ort_dir, "node_modules", PACKAGE, "package.json"))


def ensure_ort(ort_dir):
    """Installs onnxruntime-node into ort_dir unless it is there already."""
    if ort_installed(ort_dir):
        return
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        fail("ONNX Runtime (the reference) needs node and npm on PATH; "
             "install nodejs and npm (apt-get install nodejs npm)")
    os.makedirs(ort_dir, exist_ok=True)
    sys.stderr.write(f"ort_outputs.py: installing {PACKAGE} into {ort_dir} ...\n")
    cmd = [npm, "install", "--ignore-scripts", "--no-audit", "--no-fund",
           "--prefix", ort_dir, PACKAGE]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        fail(f"`{' '.join(cmd)}` took over 10 minutes (no network?)")
    if done.returncode != 0 or not ort_installed(ort_dir):
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        fail(f"cannot install {PACKAGE} (the reference for the model tests): "
             f"`{' '.join(cmd)}` exited {done.returncode}:\n{tail}\n"
             f"Without network access, copy a node_modules with {PACKAGE} "
             f"into {ort_dir} or set HATC_ORT_DIR.")


def graph_inputs(model):
    inits = {i.name for i in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in inits]


def run_data_set(model_path, names, data_dir, ort_dir, threads):
    inputs = []
    with tempfile.TemporaryDirectory(prefix="hatc-ort-") as tmp:
        for k, name in enumerate(names):
            pb = os.path.join(data_dir, f"input_{k}.pb")
            if not os.path.exists(pb):
                fail(f"{data_dir}: no input_{k}.pb for graph input '{name}'")
            tensor = onnx.TensorProto()
            with open(pb, "rb") as f:
                tensor.ParseFromString(f.read())
            array = np.ascontiguousarray(numpy_helper.to_array(tensor))
            if array.dtype not in ORT_TYPES:
                fail(f"{pb}: element type {array.dtype} is not supported here")
            raw = os.path.join(tmp, f"input_{k}.bin")
            array.astype(array.dtype.newbyteorder("<")).tofile(raw)
            inputs.append({"name": name, "type": ORT_TYPES[array.dtype],
                           "dims": list(array.shape), "file": raw})
        request = {"ort_dir": os.path.abspath(ort_dir),
                   "model": os.path.abspath(model_path), "threads": threads,
                   "inputs": inputs, "out_dir": os.path.join(tmp, "out")}
        request_path = os.path.join(tmp, "request.json")
        with open(request_path, "w") as f:
            json.dump(request, f)
        done = subprocess.run(["node", os.path.join(HERE, "ort_reference.js"),
                               request_path])
        if done.returncode != 0:
            fail(f"ONNX Runtime failed on {model_path} ({data_dir})")
        with open(os.path.join(tmp, "out", "outputs.json")) as f:
            outputs = json.load(f)
        for stale in os.listdir(data_dir):
            if stale.startswith("output_") and stale.endswith((".pb", ".npy")):
                os.remove(os.path.join(data_dir, stale))
        for k, out in enumerate(outputs):
            dtype = NUMPY_TYPES[out["type"]]
            array = np.fromfile(out["file"], dtype=dtype.newbyteorder("<"))
            array = array.astype(dtype).reshape(out["dims"])
            tensor = numpy_helper.from_array(array, out["name"])
            with open(os.path.join(data_dir, f"output_{k}.pb"), "wb") as f:
                f.write(tensor.SerializeToString())
    return len(outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", metavar="MODEL_DIR")
    parser.add_argument("--threads", type=int, default=1,
                        help="ORT intra-op threads (default 1; 0: ORT's choice)")
    parser.add_argument("--ort-dir", default=os.environ.get(
        "HATC_ORT_DIR", os.path.join(SRC, "build", "ort")),
        help="where node_modules/onnxruntime-node is (installed when missing)")
    parser.add_argument("--install-only", action="store_true",
                        help="install onnxruntime-node if needed, then exit")
    args = parser.parse_args()
    ensure_ort(args.ort_dir)
    if args.install_only:
        return 0
    if not args.models:
        parser.error("name at least one MODEL_DIR")
    for folder in args.models:
        model_path = os.path.join(folder, "model.onnx")
        if not os.path.isfile(model_path):
            fail(f"{folder}: no model.onnx")
        model = onnx.load(model_path, load_external_data=False)
        names = graph_inputs(model)
        sets = sorted(d for d in os.listdir(folder) if d.startswith("test_data_set_"))
        if not sets:
            fail(f"{folder}: no test_data_set_N folder")
        for data in sets:
            n = run_data_set(model_path, names, os.path.join(folder, data),
                             args.ort_dir, args.threads)
            print(f"{folder}/{data}: {n} output(s) from ONNX Runtime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
