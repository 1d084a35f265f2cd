#!/usr/bin/env python3
"""Cross-task cost model benchmark (issue 16), baseline and ours in one run.

For each target kind (hwacc, cpu):
 1. builds a pool database by tuning every example of that kind
    (--pool-trials each, the ordinary guided search) and every task of the
    generated models (tests/onnx/make_models.py; --models, by default the
    bench models on cpu: --pool-trials per task, one model-wide budget);
 2. leave-one-task-out ranking: for every task in the pool, trains on the
    other tasks and ranks the held-out task's OK records
    (build/bin/hatc-bench-transfer): pairwise accuracy (all pairs, and
    pairs more than --gap apart) and top-5 recall of a random model, the
    schema-2 and schema-3 features, the analytical estimate alone, and ours
    (schema 5, and schema 5 trained on top of the estimate);
 2b. the same, each held-out task ranked on random samples of its space
    instead (a second pool, `hatc tune --search random`, the same trials;
    --no-random skips it): a new task's first trials are drawn from the
    whole space, where the guided pool's records crowd near the best and
    half their pairs are near-ties; the models train on the other tasks'
    records of both pools (hatc-bench-transfer --test-db);
 2c. both tables again with a corpus (--corpus, CPU by default): synthetic
    tasks of the same op classes, `hatc model corpus` (random samples of
    each, then as many guided trials), whose records train every held-out
    task's model and are never held out (a corpus task of the held-out
    task's shape is left out with it): what a database seeded with
    `hatc model corpus` gives a task of a shape it has not seen;
 1b. CPU noise ceiling: every OK pool record measured again
    (`hatc measure --configs`); the pairwise accuracy p of the second
    measurement against the first says how far two measurements agree (a
    model that knew the true times would score about (1 + sqrt(2p - 1)) / 2
    against one of them, with noise alike on both);
 3. trials to 95% of the best: tunes each focus task from scratch twice,
    into a fresh database without a cross-task model (today's behaviour)
    and with one trained on the other examples' pool records (issue 16's
    acceptance: transfer from the other examples; the models' tasks are
    left out) (`hatc model train --exclude KEY -o DB.KIND.xtask.model`),
    --trials each;
    the best is the best of both runs and of the pool's own records of the
    task.

  bench/transfer.py [--targets hwacc,cpu] [--pool-trials hwacc=48,cpu=24]
                    [--trials 64] [--seed 1] [--workdir DIR] [--gap 0.05]
                    [--models "cpu=a,b;hwacc=c"] [--no-models] [--no-random]
                    [--corpus cpu=160,hwacc=0] [--corpus-seed 1]

The models need Debian's python3-onnx (make_models.py runs under
/usr/bin/python3); the noise ceiling is measured on the examples only.

Pools (and the CPU re-measurement) are kept in --workdir (default
build/transfer) under names that carry their trials, seed and POOL_VERSION,
and reused by later runs: delete them to measure afresh.

hwacc measures the schedule's modeled time (device cycles, deterministic;
the host's im2col is left out); CPU numbers are the fastest of each
config's timed runs (wall clock) and still move with the machine's load:
say how loaded it was.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HATC = os.path.join(ROOT, "build", "bin", "hatc")
LOTO = os.path.join(ROOT, "build", "bin", "hatc-bench-transfer")
GAP = 0.05
# Bumped when what a record's figure means changes, so that a pool measured
# the old way is not reused: 2, hwacc cycles leave the host's shared work
# (a conv's im2col) out; 3, a CPU record's figure is its fastest timed run
# (the workers' ExecuteOptions::rankByFastest), no longer the median; 4,
# CPU copies into strided views are loops, no longer memrefCopy calls (a
# padded tile's configs ran up to 10x slower) and few-row matmuls have new
# defaults; 5, the default schedule changed again (small ops on more
# threads, attention-sized batch matmuls and one-panel Bs in place, model
# temporaries freed after their last use), and a default record is
# described to the model as today's default derives it, so v4's default
# records no longer match what was measured.
POOL_VERSION = 5
EXAMPLES = {
    "hwacc": ["matmul_1024", "bert_ffn_matmul", "attention_batch_matmul", "resnet50_conv3x3",
              "conv3x3_stride2", "matmul_i8", "matmul_odd", "matmul_bias_relu"],
    "cpu": ["matmul_1024", "bert_ffn_matmul", "resnet50_conv3x3", "conv3x3_stride2", "matmul_odd",
            "matmul_bias_relu"],
}
# Models of tests/onnx/make_models.py whose tasks join the pool.
MODELS = {"hwacc": [], "cpu": ["bert_base_layer", "resnet50_stage", "mobilenetv2_block", "mlp"]}
MAKE_MODELS = os.path.join(ROOT, "tests", "onnx", "make_models.py")
FOCUS = {"hwacc": ["matmul_1024", "resnet50_conv3x3", "bert_ffn_matmul", "conv3x3_stride2"],
         "cpu": ["matmul_1024", "resnet50_conv3x3"]}


def example(name):
    return os.path.join(ROOT, "examples", name + ".mlir")


def tune(name, target, db, trials, seed, search="xgboost"):
    """Tunes one example; returns (workload keys, stderr)."""
    cmd = [HATC, "tune", example(name), "--target", target, "--db", db, "--trials", str(trials),
           "--seed", str(seed), "--search", search, "--json"]
    if target == "hwacc":
        cmd.append("--no-check")  # the model's cycles do not depend on the data
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"transfer.py: {' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    keys = [json.loads(line)["workload"] for line in out.stdout.splitlines() if line.startswith("{")]
    return keys, out.stderr


def model_path(name, workdir):
    """Writes the generated model `name`; returns (model.onnx, --input-shape flags)."""
    out = os.path.join(workdir, "models")
    folder = os.path.join(out, name)
    if not os.path.exists(os.path.join(folder, "model.onnx")):
        run = subprocess.run(["/usr/bin/python3", MAKE_MODELS, "--out", out, "--only", name],
                             capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"transfer.py: make_models.py --only {name} failed ({run.returncode}):\n"
                     f"{run.stderr[-2000:]}")
    flags = []
    shapes = os.path.join(folder, "input_shapes.txt")
    if os.path.exists(shapes):
        for line in open(shapes):
            if line.strip():
                flags += ["--input-shape", line.strip()]
    return os.path.join(folder, "model.onnx"), flags


def tune_model(name, target, db, per_task, seed, workdir, search="xgboost"):
    """Tunes every task of a generated model with per_task trials each (one
    model-wide budget, spread by hatc's task scheduler); returns the tuned
    tasks as key|hash|path: the workload key, its structural hash and the
    module the workers measured (`hatc tune --task-dir`: its weights in
    it)."""
    path, flags = model_path(name, workdir)
    base = [HATC, "tune", path, "--target", target, "--seed", str(seed), "--search", search,
            "--json"] + flags
    if target == "hwacc":
        base.append("--no-check")

    def run(db_path, trials, extra=()):
        out = subprocess.run(base + list(extra) + ["--db", db_path, "--trials", str(trials)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"transfer.py: tune of model {name} failed ({out.returncode}):\n{out.stderr[-2000:]}")
        return json.loads(next(l for l in out.stdout.splitlines() if l.startswith("{")))["tasks"]

    # One trial into a scratch database counts the tasks that get tuned.
    scratch = os.path.join(workdir, f"count.{name}.{target}.db")
    for f in (scratch, scratch + "-wal", scratch + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    tuned = sum(1 for t in run(scratch, 1) if t.get("tuned"))
    task_dir = os.path.join(workdir, f"tasks.{name}.{target}.{search}")
    keys = []
    for k, t in enumerate(run(db, per_task * max(1, tuned), ["--task-dir", task_dir])):
        if not t.get("tuned"):
            continue
        path = os.path.join(task_dir, f"task{k}.weights.mlir")
        if not os.path.exists(path):
            path = os.path.join(task_dir, f"task{k}.mlir")
        keys.append(f"{t['workload']}|{t['hash']}|{path}")
    return keys


def build_pool(kind, pool, models, trials, seed, workdir, search):
    """Tunes every example of `kind` and every task of `models` into the
    database `pool` (trials each, the given --search), or reuses it when its
    keys file is there; returns (keys: name -> workload keys, reused)."""
    keys_file = pool + ".keys.json"
    if os.path.exists(keys_file):
        with open(keys_file) as f:
            return json.load(f), True
    if os.path.exists(pool):
        os.remove(pool)
    keys = {}
    for name in EXAMPLES[kind]:
        keys[name], _ = tune(name, kind, pool, trials, seed, search)
    for name in models:
        keys["model:" + name] = tune_model(name, kind, pool, trials, seed, workdir, search)
    with open(keys_file, "w") as f:
        json.dump(keys, f)
    return keys, False


def build_corpus(kind, tasks, trials, seed, workdir):
    """Tunes `tasks` synthetic tasks (hatc model corpus) into a database of
    the workdir, or reuses it; returns (path, reused)."""
    db = os.path.join(workdir, f"corpus.{kind}.n{tasks}.t{trials}.s{seed}.v{POOL_VERSION}.db")
    done = db + ".done"
    if os.path.exists(done):
        return db, True
    cmd = [HATC, "model", "corpus", "--target", kind, "--db", db, "--tasks", str(tasks),
           "--trials", str(trials), "--seed", str(seed)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"transfer.py: {' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    open(done, "w").close()
    return db, False


def pairwise(a, b, gap=0.0):
    """Pairwise order agreement of two equally indexed lists, over the pairs
    whose b values differ by more than `gap` of the larger."""
    right = pairs = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            if b[i] == b[j] or abs(b[i] - b[j]) <= gap * max(abs(b[i]), abs(b[j])):
                continue
            pairs += 1
            if a[i] == a[j]:
                right += 0.5
            elif (a[i] < a[j]) == (b[i] < b[j]):
                right += 1
    return right / pairs if pairs else float("nan")


def noise_ceiling(name, kind, key, pool_records, workdir, tag, path=None, entry=None,
                  workload_hash=None):
    """Measures the pool's OK configs of `key` again (in `path`, default the
    example `name`); returns (configs, pairwise all, pairwise > gap) of the
    second measurement against the first. One key can name two workloads (a
    model's matmul + gelu and the matmul_bias_relu example): a model task's
    records are told by `workload_hash`, an example's by having no weights."""
    def mine(r):
        if r["workload_key"] != key or r["error"] != "OK":
            return False
        if workload_hash:
            return r.get("workload_hash") == workload_hash
        return not r["extras"].get("weights", False)
    first = {json.dumps(r["config"], sort_keys=True): throughput(r) for r in pool_records
             if mine(r)}
    again_db = os.path.join(workdir, f"noise.{tag}.{name}.db")
    if not os.path.exists(again_db + ".done"):
        for f in (again_db,):
            if os.path.exists(f):
                os.remove(f)
        configs = os.path.join(workdir, f"noise.{tag}.{name}.jsonl")
        with open(configs, "w") as out:
            for c in first:
                out.write(c + "\n")
        cmd = [HATC, "measure", path or example(name), "--target", kind, "--configs", configs,
               "--db", again_db] + (["--entry", entry] if entry else [])
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            sys.exit(f"transfer.py: {' '.join(cmd)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
        open(again_db + ".done", "w").close()
    # The again database holds this one workload (a model's task measured
    # with its weights in it may be keyed apart from its pool records).
    second = {json.dumps(r["config"], sort_keys=True): throughput(r) for r in records(again_db)
              if r["error"] == "OK"}
    common = [c for c in first if c in second and first[c] > 0 and second[c] > 0]
    a, b = [second[c] for c in common], [first[c] for c in common]
    return len(common), pairwise(a, b), pairwise(a, b, GAP)


def records(db):
    out = subprocess.run([HATC, "export", "--db", db], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def throughput(record):
    return record["extras"].get("gflops", 0.0) if record["error"] == "OK" else 0.0


def curve(db, key):
    best, points = 0.0, []
    for r in records(db):
        if r["workload_key"] != key:
            continue
        best = max(best, throughput(r))
        points.append(best)
    return points


def reach(points, goal):
    return next((i + 1 for i, v in enumerate(points) if v >= goal), None)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--targets", default="hwacc,cpu")
    p.add_argument("--pool-trials", default="hwacc=48,cpu=24")
    p.add_argument("--trials", type=int, default=64)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", default=None)
    p.add_argument("--focus", default=None, help="KIND=a,b;KIND=c (default: built in)")
    p.add_argument("--models", default=None,
                   help="generated models whose tasks join the pool, KIND=a,b;KIND=c "
                        "(default: the bench models on cpu)")
    p.add_argument("--no-models", action="store_true", help="pool the examples only")
    p.add_argument("--no-random", action="store_true",
                   help="skip the second LOTO table (held-out tasks ranked on random samples)")
    p.add_argument("--corpus", default="cpu=160,hwacc=0",
                   help="synthetic tasks (hatc model corpus) whose records join the training "
                        "sets, KIND=N,... (0: none)")
    p.add_argument("--corpus-seed", type=int, default=1)
    p.add_argument("--gap", type=float, default=0.05,
                   help="pairs closer than this fraction are left out of pw> (default 0.05)")
    args = p.parse_args()
    pool_trials = dict((k, int(v)) for k, v in (x.split("=") for x in args.pool_trials.split(",")))
    corpus_tasks = dict((k, int(v)) for k, v in (x.split("=") for x in args.corpus.split(",") if x))
    focus = dict(FOCUS)
    if args.focus:
        for part in args.focus.split(";"):
            kind, names = part.split("=")
            focus[kind] = names.split(",")
    models = {k: [] for k in MODELS} if args.no_models else dict(MODELS)
    if args.models:
        for part in args.models.split(";"):
            kind, names = part.split("=")
            models[kind] = [n for n in names.split(",") if n]
    global GAP
    GAP = args.gap
    workdir = args.workdir or os.path.join(ROOT, "build", "transfer")
    os.makedirs(workdir, exist_ok=True)
    load = os.getloadavg()
    print(f"hatc cross-task cost model benchmark; workdir {workdir}; load average "
          f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    summary = []
    for kind in args.targets.split(","):
        tag = f"{kind}.t{pool_trials[kind]}.s{args.seed}.v{POOL_VERSION}"
        pooled_models = models.get(kind, [])
        pool_tag = tag + "".join("." + m for m in pooled_models)
        pool = os.path.join(workdir, f"pool.{pool_tag}.db")
        keys, reused = build_pool(kind, pool, pooled_models, pool_trials[kind], args.seed,
                                  workdir, "xgboost")
        model_tasks = sum(len(keys.get("model:" + m, [])) for m in pooled_models)
        print(f"\n== {kind}: pool of {len(EXAMPLES[kind])} examples x {pool_trials[kind]} trials"
              + (f" and the {model_tasks} tasks of {', '.join(pooled_models)} x {pool_trials[kind]} "
                 f"trials each (one model-wide budget)" if pooled_models else "")
              + f" (guided search, seed {args.seed}{'; reused ' + pool if reused else ''})")
        loto = subprocess.run([LOTO, pool, kind, "--gap", str(args.gap)], capture_output=True, text=True)
        print(loto.stdout.rstrip() or loto.stderr.rstrip())
        if not args.no_random:
            # The same tasks sampled at random: a new task's first trials are
            # drawn from its whole space, where the guided pool's records
            # crowd near the best (near-ties no model can order).
            random_pool = os.path.join(workdir, f"pool.{pool_tag}.random.db")
            _, random_reused = build_pool(kind, random_pool, pooled_models, pool_trials[kind],
                                          args.seed, workdir, "random")
            print(f"\n{kind}: leave-one-task-out, each held-out task ranked on random samples of its "
                  f"space ({pool_trials[kind]} trials a task, hatc tune --search random"
                  f"{'; reused ' + random_pool if random_reused else ''}); trained on the other "
                  f"tasks' records of both pools")
            loto = subprocess.run([LOTO, pool, kind, "--gap", str(args.gap), "--test-db", random_pool],
                                  capture_output=True, text=True)
            print(loto.stdout.rstrip() or loto.stderr.rstrip())
        if corpus_tasks.get(kind, 0) > 0:
            corpus, corpus_reused = build_corpus(kind, corpus_tasks[kind], pool_trials[kind],
                                                 args.corpus_seed, workdir)
            tests = [("the guided pool's records", [])]
            if not args.no_random:
                tests.append(("random samples", ["--test-db", random_pool]))
            for what, flags in tests:
                print(f"\n{kind}: leave-one-task-out as above (held-out tasks ranked on {what}), "
                      f"every model also trained on a corpus of {corpus_tasks[kind]} synthetic "
                      f"tasks (hatc model corpus --seed {args.corpus_seed}: {pool_trials[kind]} "
                      f"random samples and {pool_trials[kind]} guided trials each"
                      f"{'; reused ' + corpus if corpus_reused else ''})")
                loto = subprocess.run([LOTO, pool, kind, "--gap", str(args.gap), "--train-db", corpus]
                                      + flags, capture_output=True, text=True)
                print(loto.stdout.rstrip() or loto.stderr.rstrip())
        pool_records = records(pool)
        if kind == "cpu":
            print(f"\n{kind}: noise ceiling, each OK pool config measured again; pairwise accuracy of "
                  f"the second measurement against the first (pw>: pairs more than {args.gap:.0%} apart)")
            print(f"{'task':<28}{'configs':>8}{'pw':>8}{'pw>':>8}")
            ceilings = []
            for name in EXAMPLES[kind]:
                for key in keys[name]:
                    n, pw, pwg = noise_ceiling(name, kind, key, pool_records, workdir, pool_tag)
                    print(f"{name:<28}{n:>8}{pw:>8.3f}{pwg:>8.3f}")
                    if n >= 8:  # as the LOTO table counts a task
                        ceilings.append(pw)
            for model in pooled_models:
                for k, entry in enumerate(keys.get("model:" + model, [])):
                    key, workload_hash, path = entry.split("|", 2)
                    n, pw, pwg = noise_ceiling(f"{model}.task{k}", kind, key, pool_records, workdir,
                                               pool_tag, path=path, entry="task",
                                               workload_hash=workload_hash)
                    if n >= 8:
                        print(f"{key[:27]:<28}{n:>8}{pw:>8.3f}{pwg:>8.3f}")
                        ceilings.append(pw)
            if ceilings:
                print(f"{'mean':<28}{len(ceilings):>8}{sum(ceilings) / len(ceilings):>8.3f}")
        # The examples' own records (no weights: a model's task that shares
        # an example's key was measured with its weights) form the pool the
        # focus tasks transfer from.
        examples_pool = pool[:-3] + ".examples.db"
        if not os.path.exists(examples_pool):
            example_keys = {k for name in EXAMPLES[kind] for k in keys[name]}
            lines = [json.dumps(r) for r in pool_records
                     if r["workload_key"] in example_keys and not r["extras"].get("weights", False)]
            subprocess.run([HATC, "replay", "-", "--db", examples_pool, "--strict"],
                           input="\n".join(lines) + "\n", text=True, check=True,
                           stdout=subprocess.DEVNULL)
        print(f"\n{kind}: trials to 95% of the best ({args.trials} trials per run, seed {args.seed}; "
              f"transfer from the other examples' records)")
        print(f"{'task':<28}{'best':>12}{'no transfer':>14}{'transfer':>10}"
              f"{'best@' + str(args.trials) + ' no/yes':>22}")
        for name in focus.get(kind, []):
            for key in keys[name]:
                plain_db = os.path.join(workdir, f"{name}.{kind}.plain.db")
                xfer_db = os.path.join(workdir, f"{name}.{kind}.xfer.db")
                for f in (plain_db, xfer_db, xfer_db + f".{kind}.xtask.model"):
                    if os.path.exists(f):
                        os.remove(f)
                tune(name, kind, plain_db, args.trials, args.seed)
                subprocess.run([HATC, "model", "train", "--db", examples_pool, "--target", kind,
                                "--exclude", key,
                                "-o", xfer_db + f".{kind}.xtask.model"],
                               check=True, stdout=subprocess.DEVNULL)
                _, err = tune(name, kind, xfer_db, args.trials, args.seed)
                if "using cross-task cost model" not in err:
                    sys.exit(f"transfer.py: tune of {name} did not use the cross-task model:\n{err[-1000:]}")
                plain, xfer = curve(plain_db, key), curve(xfer_db, key)
                own = max([throughput(r) for r in pool_records if r["workload_key"] == key] + [0.0])
                best = max(plain[-1], xfer[-1], own)
                a, b = reach(plain, 0.95 * best), reach(xfer, 0.95 * best)
                unit = "GF/s(mod)" if kind == "hwacc" else "GF/s"
                print(f"{name:<28}{best:>8.1f} {unit:<4}{(a or 'never'):>9}{(b or 'never'):>10}"
                      f"{plain[-1]:>12.1f} / {xfer[-1]:<8.1f}")
                summary.append((kind, name, a, b))
    print("\nacceptance: trials to 95% with transfer <= 64 (cpu matmul_1024, resnet50_conv3x3)")
    for kind, name, a, b in summary:
        print(f"  {kind}/{name}: without {a or 'never'}, with {b or 'never'}")


if __name__ == "__main__":
    sys.exit(main())
