#!/usr/bin/python3
"""hatc tune on a whole model (mobilenet_block: conv, depthwise conv,
pooling, GEMM tasks): one budget over its tasks, each task's records in the
database under its own key, interrupted and resumed, a second run that
resumes from the database, then `hatc run MODEL --db` with the tuned
schedules against the default schedule's outputs, `hatc compile --db`
listing each task's schedule, and `hatc report --model`.

  model_tune.py HATC MAKE_MODELS TARGET TRIALS
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

hatc, make_models, target, trials = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tmp = tempfile.mkdtemp(prefix="hatc-model-tune-")
atexit.register(shutil.rmtree, tmp, ignore_errors=True)
subprocess.run(["/usr/bin/python3", make_models, "--out", tmp, "--only", "mobilenet_block"],
               check=True)
folder = os.path.join(tmp, "mobilenet_block")
model = os.path.join(folder, "model.onnx")
shape = ["--input-shape", "input=1,3,32,32"]
db = os.path.join(tmp, "t.db")
tune = [hatc, "tune", model, *shape, "--target", target, "--db", db,
        "--trials", str(trials), "--seed", "5", "--batch", "4", "--threads", "1"]


def fail(message):
    sys.exit(f"model_tune.py ({target}): {message}")


def run(command, expect_rc=0):
    p = subprocess.run(command, capture_output=True, text=True)
    if p.returncode != expect_rc:
        fail(f"{' '.join(command)} exited {p.returncode}, expected {expect_rc}:\n"
             f"{p.stdout}\n{p.stderr}")
    return p


# 1. Interrupted after the first batch: exit 130, everything kept.
first = subprocess.Popen(tune + ["--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
for line in first.stderr:
    if line.startswith("[tune] trial "):
        first.send_signal(signal.SIGINT)
        break
_, err = first.communicate(timeout=300)
if first.returncode != 130 or "Resume with:" not in err:
    fail(f"interrupted run exited {first.returncode}: {err}")

# 2. Resumed: the budget is reached over all tasks.
out = json.loads(run(tune + ["--json"]).stdout)
tasks = out["tasks"]
tuned = [t for t in tasks if t["tuned"]]
if not tuned:
    fail(f"no task was tuned: {out}")
if target == "cpu" and len(tuned) < 4:
    fail(f"expected the convs, pooling and GEMM tasks tuned on cpu: {tasks}")
if target == "hwacc" and any("conv" not in t["workload"] and "matmul" not in t["workload"]
                             for t in tuned):
    fail(f"only GEMM-like tasks are tuned on hwacc: {tuned}")
measured = sum(t["trials"] + t["existing"] for t in tuned)
if measured != trials:
    fail(f"{measured} trials over the tasks, expected the budget {trials}")
if sum(t["trials"] + t["existing"] > 0 for t in tuned) < 2:
    fail(f"the budget went to fewer than two tasks: {tuned}")
if not any(t["existing"] > 0 for t in tuned):
    fail("the resumed run found nothing of the interrupted one")
if any(t["weight"] < 1 for t in tasks) or not out["estimated_latency_s"] > 0:
    fail(f"bad model summary: {out}")
if out["estimated_latency_s"] > out["default_latency_s"] * 1.0001:
    fail(f"the estimate got worse than the defaults: {out}")

# Each tuned task's records are in the database under its own key.
export = run([hatc, "export", "--db", db]).stdout.splitlines()
keys = {json.loads(line)["workload_key"] for line in export}
# Measured with the model's weights in the task (as the compiled model runs
# it), recorded with them as arguments: no weights in the database.
if target == "cpu" and not any(json.loads(line)["extras"].get("weights") for line in export):
    fail("no record says it was measured with the model's weights")
for line in export:
    if "dense_resource" in json.loads(line).get("workload_ir", ""):
        fail(f"weights in the database's workload IR: {line[:300]}")
for t in tuned:
    if t["trials"] + t["existing"] > 0 and t["workload"] not in keys:
        fail(f"no record of task {t['workload']} in the database")

# 3. A second run with the same budget measures nothing new. With
# --task-dir it keeps the task modules it wrote, task K of the JSON's list
# in taskK.mlir, with the weights in taskK.weights.mlir (what the workers
# measured), which `hatc measure` takes.
task_dir = os.path.join(tmp, "tasks")
again = json.loads(run(tune + ["--json", "--task-dir", task_dir]).stdout)
if again["trials"] != 0:
    fail(f"the second run measured {again['trials']} more trials")
for k, t in enumerate(again["tasks"]):
    if not os.path.exists(os.path.join(task_dir, f"task{k}.mlir")):
        fail(f"--task-dir has no task{k}.mlir for {t['workload']}: {os.listdir(task_dir)}")
with_weights = [k for k, t in enumerate(again["tasks"])
                if t["tuned"] and os.path.exists(os.path.join(task_dir, f"task{k}.weights.mlir"))]
if target == "cpu":
    if not with_weights:
        fail(f"--task-dir kept no task with its weights: {os.listdir(task_dir)}")
    k = with_weights[0]
    measured = json.loads(run([hatc, "measure", os.path.join(task_dir, f"task{k}.weights.mlir"),
                               "--entry", "task", "--random", "1", "--threads", "1",
                               "--json"]).stdout.splitlines()[0])
    if measured["error"] != "OK" or measured["workload"] != again["tasks"][k]["workload"]:
        fail(f"task{k}.weights.mlir is not task {again['tasks'][k]['workload']}: {measured}")
refused = run([hatc, "tune", os.path.join(task_dir, "task0.mlir"), "--db", db, "--task-dir",
               task_dir], expect_rc=1)
if "--task-dir is for a model" not in refused.stderr:
    fail(f"--task-dir on a .mlir was not refused: {refused.stderr}")

# 4. The tuned schedules give the default schedule's outputs.
data = os.path.join(folder, "test_data_set_0")
expected = os.path.join(tmp, "expected")
run([hatc, "run", model, *shape, "--target", target, "--inputs", data,
     "--save-outputs", expected])
# The records ran on 1 thread: a run on 1 thread takes them.
check = run([hatc, "run", model, *shape, "--target", target, "--db", db, "--inputs", data,
             "--expect", expected, "--threads", "1"])
if ": db" not in check.stderr:
    fail(f"hatc run --db used no tuned schedule:\n{check.stderr}")
# On the CPU a run on 2 threads keeps the defaults and says why.
if target == "cpu":
    two = run([hatc, "run", model, *shape, "--target", target, "--db", db, "--inputs", data,
               "--expect", expected, "--threads", "2"])
    if ": db" in two.stderr or "its records ran on 1 threads, this runs 2" not in two.stderr:
        fail(f"hatc run --db --threads 2 took 1-thread records:\n{two.stderr}")

# 5. compile --db lists each task's schedule; report --model shows shares.
compiled = run([hatc, "compile", model, *shape, "--target", target, "--db", db,
                "--emit", "mlir", "-o", os.path.join(tmp, "out.mlir")])
for t in tasks:
    if f"hatc: task {t['workload']} x{t['weight']}: " not in compiled.stderr:
        fail(f"compile did not list task {t['workload']}:\n{compiled.stderr}")
report = run([hatc, "report", "--db", db, "--model", model, *shape, "--target", target,
              "-o", os.path.join(tmp, "report.html")])
if "share before" not in open(os.path.join(tmp, "report.html")).read() or \
        "end-to-end" not in report.stdout:
    fail(f"no model view in the report:\n{report.stdout}")
print(f"model_tune.py ({target}): {len(tasks)} tasks, {len(tuned)} tuned, "
      f"{out['default_latency_s'] * 1e3:.4f} ms -> {out['estimated_latency_s'] * 1e3:.4f} ms")
