#!/usr/bin/env python3
"""Runs ONNX backend tests through hatc: import + run + compare.

Each test folder holds model.onnx and test_data_set_N/ (input_K.pb,
output_K.pb). Every test runs `hatc run model.onnx --inputs D --expect D`
for each data set, in parallel, with a time limit. Prints one row per op
type, the failures with their first error line, and a closing line
`N passed, N failed, N skipped`.

With --expected FILE the exit status is 1 when a test listed there (it
passed before) fails now; --update rewrites FILE with today's passes.
Tests in out_of_scope.txt's classes are skipped, each with its class.

Needs Debian's python3-onnx to read op types: run under /usr/bin/python3.
"""
import argparse
import collections
import concurrent.futures
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = "/usr/share/libonnx-testdata/data"


def load_scope(path):
    rules = []
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, _, reason = line.partition("--")
        kind, _, what = head.partition(":")
        rules.append((kind.strip(), what.strip(), reason.strip()))
    return rules


def model_facts(model_path):
    """(op types, boundary kinds) of a model; boundary kinds name strings,
    sequences, optionals, maps and element types of inputs and outputs."""
    import onnx
    model = onnx.load(model_path, load_external_data=False)
    ops = sorted({n.op_type for n in model.graph.node})
    kinds = set()
    for v in list(model.graph.input) + list(model.graph.output):
        t = v.type
        which = t.WhichOneof("value")
        if which == "tensor_type":
            elem = t.tensor_type.elem_type
            kinds.add(onnx.TensorProto.DataType.Name(elem).lower())
        elif which == "sequence_type":
            kinds.add("sequence")
        elif which == "optional_type":
            kinds.add("optional")
        elif which == "map_type":
            kinds.add("map")
        else:
            kinds.add(str(which))
    return ops, kinds


def out_of_scope(name, ops, kinds, rules):
    for kind, what, reason in rules:
        if kind == "op" and set(what.split(",")) & set(ops):
            return reason
        if kind == "type" and what in kinds:
            return reason
        if kind == "test" and re.search(what, name):
            return reason
    return None


def run_test(hatc, test_dir, timeout, extra):
    model = os.path.join(test_dir, "model.onnx")
    sets = sorted(d for d in os.listdir(test_dir) if d.startswith("test_data_set_"))
    if not sets:
        return "fail", "no test_data_set_N folder"
    for s in sets:
        data = os.path.join(test_dir, s)
        cmd = [hatc, "run", model, "--inputs", data, "--expect", data,
               "--repeat", "1", "--warmup", "0", "--threads", "1"] + extra
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "fail", f"timed out after {timeout} s"
        if p.returncode != 0:
            lines = [l for l in (p.stderr + p.stdout).splitlines() if l.strip()]
            err = [l for l in lines if "error" in l.lower()] or lines or [f"exit {p.returncode}"]
            msg = err[0].replace(model + ": ", "")
            if p.returncode < 0:
                msg = f"crashed (signal {-p.returncode}): " + msg
            return "fail", msg[:300]
    return "pass", ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hatc", required=True)
    ap.add_argument("--suite", action="append",
                    help="node, pytorch-operator, simple, ... (repeatable; default node)")
    ap.add_argument("--filter", default="", help="only tests matching this regex")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--expected", help="expected-pass list; a listed test failing fails the run")
    ap.add_argument("--update", action="store_true", help="rewrite --expected with today's passes")
    ap.add_argument("--scope", default=os.path.join(HERE, "out_of_scope.txt"))
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--verbose", action="store_true", help="print every failure")
    ap.add_argument("--target", default="cpu")
    args = ap.parse_args()
    suites = args.suite or ["node"]
    try:
        import onnx  # noqa: F401
    except ImportError:
        print(f"conformance.py: {sys.executable} has no onnx module "
              "(install python3-onnx and run under /usr/bin/python3)", file=sys.stderr)
        return 77
    rules = load_scope(args.scope)

    tests = []
    for suite in suites:
        root = os.path.join(args.data, suite)
        if not os.path.isdir(root):
            # 77: ctest's "skipped" (SKIP_RETURN_CODE in tests/onnx).
            print(f"conformance.py: {root}: no such suite (install libonnx-testdata)",
                  file=sys.stderr)
            return 77
        for name in sorted(os.listdir(root)):
            if args.filter and not re.search(args.filter, name):
                continue
            tests.append((suite, name, os.path.join(root, name)))

    results = {}
    skipped = {}
    facts = {}
    runnable = []
    for suite, name, path in tests:
        key = f"{suite}/{name}"
        try:
            ops, kinds = model_facts(os.path.join(path, "model.onnx"))
        except Exception as e:  # a model onnx itself cannot load
            ops, kinds = ["?"], set()
        facts[key] = ops
        reason = out_of_scope(name, ops, kinds, rules)
        if reason:
            skipped[key] = reason
        else:
            runnable.append((key, path))

    start = time.time()
    extra = ["--target", args.target]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_test, args.hatc, path, args.timeout, extra): key
                   for key, path in runnable}
        for f in concurrent.futures.as_completed(futures):
            results[futures[f]] = f.result()

    per_op = collections.defaultdict(lambda: [0, 0, 0])
    for key, ops in facts.items():
        op = ",".join(ops) if len(ops) <= 2 else ops[0] + ",..."
        if key in skipped:
            per_op[op][2] += 1
        elif results[key][0] == "pass":
            per_op[op][0] += 1
        else:
            per_op[op][1] += 1
    print(f"{'op':40s} {'pass':>5s} {'fail':>5s} {'skip':>5s}")
    for op in sorted(per_op):
        p, f, s = per_op[op]
        print(f"{op:40s} {p:5d} {f:5d} {s:5d}")
    failures = sorted(k for k, r in results.items() if r[0] != "pass")
    if failures:
        print("\nfailures:")
        for k in failures if args.verbose else failures[:400]:
            print(f"  {k}: {results[k][1]}")
    reasons = collections.Counter(skipped.values())
    if reasons:
        print("\nskipped (out of scope, tests/onnx/out_of_scope.txt):")
        for reason, n in reasons.most_common():
            print(f"  {n:4d}  {reason}")
    passed = sorted(k for k, r in results.items() if r[0] == "pass")
    in_scope = len(results)
    print(f"\nin scope: {len(passed)} of {in_scope} passed "
          f"({100.0 * len(passed) / max(in_scope, 1):.1f}%); all: {len(passed)} of "
          f"{len(tests)} ({time.time() - start:.0f} s)")
    print(f"{len(passed)} passed, {len(failures)} failed, {len(skipped)} skipped")

    status = 0
    if args.expected:
        if args.update:
            with open(args.expected, "w") as out:
                out.write("# Tests that pass today; conformance.py --expected fails when one of\n"
                          "# them fails. Regenerate with --update after a change that adds passes.\n")
                for k in passed:
                    out.write(k + "\n")
            print(f"wrote {len(passed)} tests to {args.expected}")
        elif os.path.exists(args.expected):
            expected = [l.strip() for l in open(args.expected)
                        if l.strip() and not l.startswith("#")]
            selected = {f"{s}/{n}" for s, n, _ in tests}
            regressed = [k for k in expected if k in selected and k not in passed]
            if regressed:
                print(f"\nREGRESSIONS: {len(regressed)} tests that passed before fail now:")
                for k in regressed:
                    print(f"  {k}: {results.get(k, ('', skipped.get(k, 'not run')))[1]}")
                status = 1
        else:
            sys.exit(f"conformance.py: {args.expected}: no such file (create it with --update)")
    return status


if __name__ == "__main__":
    sys.exit(main())
