#!/usr/bin/env bash
# The main job, on a fresh machine: installs, builds, then tunes the matmul
# and conv examples on the hwacc accelerator model and on this CPU with a
# modest budget (a few minutes in all) into hatc.db, prints the best configs
# and their speedup over the default schedule, and writes report.html. Then
# the model path: an ONNX model (the benchmark MLP) is tuned as a whole into
# the same database, compiled into a C library with each task's best
# schedule, run from the plain C program of examples/deploy, and timed
# against ONNX Runtime; its report is report-model.html.
#
#   ./scripts/demo.sh                            # budgets below
#   TRIALS=128 MODEL_TRIALS=256 ./scripts/demo.sh  # more trials
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build.sh
HATC=build/bin/hatc
DB=${DB:-hatc.db}
TRIALS=${TRIALS:-48}
MODEL_TRIALS=${MODEL_TRIALS:-96}

echo
echo "== every example runs correct on the CPU and on hwacc (checked against the reference) =="
for f in examples/*.mlir; do
  for t in cpu hwacc; do
    [[ $t == hwacc && $f == *bias_relu.mlir && $f != *matmul* ]] && continue
    $HATC run "$f" --target $t --check --repeat 3 --json |
      python3 -c 'import json,sys; r=json.load(sys.stdin); print("  %-6s correct=%-5s %s  (%s)" % (r["target"], r["correct"], r["workload"], r["file"]))'
  done
done

echo
echo "== tuning into $DB ($TRIALS trials per task; run again to resume/extend) =="
for f in examples/matmul_1024.mlir examples/resnet50_conv3x3.mlir; do
  for t in hwacc cpu; do
    echo "-- tuning $(basename "$f") on $t"
    $HATC tune "$f" --target $t --db "$DB" --trials "$TRIALS" --seed 1 --log "${DB%.db}.jsonl"
  done
done

echo
echo "== best configs in $DB =="
for f in examples/matmul_1024.mlir examples/resnet50_conv3x3.mlir; do
  for t in hwacc cpu; do
    echo "-- $(basename "$f") on $t"
    $HATC best "$f" --target $t --db "$DB"
  done
done
$HATC db stats --db "$DB"
$HATC report --db "$DB" -o report.html
echo "report: $(pwd)/report.html"

echo
echo "== a whole model: tuned into $DB ($MODEL_TRIALS trials over its tasks), compiled into a C library =="
work=build/demo
/usr/bin/python3 tests/onnx/make_models.py --only mlp --out "$work" >/dev/null
model=$work/mlp/model.onnx
shape="--input-shape $(cat "$work/mlp/input_shapes.txt")"
# shellcheck disable=SC2086 # $shape is two words on purpose
$HATC tune "$model" $shape --target cpu --db "$DB" --trials "$MODEL_TRIALS" --seed 1 --threads 2
# shellcheck disable=SC2086
$HATC report --db "$DB" --model "$model" $shape --target cpu -o report-model.html
rm -rf "$work/lib" # rebuilt with the records of this run
make -s -C examples/deploy run MODEL="$(pwd)/$model" SHAPES="$shape" THREADS=2 \
  DB="$(cd "$(dirname "$DB")" && pwd)/$(basename "$DB")" OUT="$(pwd)/$work/lib" HATC="$(pwd)/$HATC"

echo
echo "== the model against ONNX Runtime (default and tuned schedules, 2 threads) =="
# ORT, default and tuned take turns, one run each (30 turns in 2 rounds,
# about 20 s for the MLP: each waits for the last one's threads to stop
# spinning), so that a host that slows down for seconds slows all alike.
/usr/bin/python3 bench/model_perf.py mlp --db "$DB" --threads 2 --rounds 2 --repeat 15 --work "$work/perf"
echo "model report: $(pwd)/report-model.html"
