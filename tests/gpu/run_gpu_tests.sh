#!/usr/bin/env bash
# GPU tests that need a real NVIDIA GPU: every GPU example runs and passes
# the reference check with the default schedule, and a short tuning session
# finds configs that pass it too.
#
#   run_gpu_tests.sh HATC EXAMPLES_DIR
#
# Exits 77 (ctest: skipped) with the reason when there is no GPU here.
set -euo pipefail
hatc=$1
examples=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

probe=$("$hatc" run "$examples/bias_relu.mlir" --target gpu --repeat 1 2>&1) || {
  if grep -q DEVICE_UNAVAILABLE <<<"$probe"; then
    echo "SKIPPED: no usable GPU here: $probe"
    exit 77
  fi
  echo "FAILED: hatc run --target gpu: $probe"
  exit 1
}

status=0
for w in matmul_1024 bert_ffn_matmul matmul_bias_relu matmul_odd bias_relu; do
  if out=$("$hatc" run "$examples/$w.mlir" --target gpu --check --repeat 5 2>&1); then
    echo "ok   run --check $w: $(grep -m1 -i gflop <<<"$out" || true)"
  else
    echo "FAIL run --check $w: $out"
    status=1
  fi
done

# A few tuning trials: every measured config must be OK (checked): a valid
# config that fails on the device is a bug in the sketch or the pipeline.
if "$hatc" tune "$examples/matmul_1024.mlir" --target gpu --db "$work/t.db" \
    --trials 16 --seed 1 --log "$work/t.jsonl" >"$work/tune.out" 2>&1; then
  if summary=$(python3 - "$work/t.jsonl" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
bad = [r for r in records if r.get("error") != "OK"]
for r in bad:
    print(f"  {r.get('error')}: {json.dumps(r.get('config'))}: {r.get('message', '')[:200]}")
print(f"{len(records)} records, {len(bad)} not OK")
sys.exit(1 if bad or not records else 0)
PY
); then
    echo "ok   tune matmul_1024 16 trials: $summary; $(tail -2 "$work/tune.out" | head -1)"
  else
    echo "FAIL tune matmul_1024: $summary"
    status=1
  fi
else
  echo "FAIL tune: $(tail -5 "$work/tune.out")"
  status=1
fi
exit $status
