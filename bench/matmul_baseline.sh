#!/usr/bin/env bash
# Baseline bench for sgemm 1024^3, printed as one table in one run:
#   hatc default schedule | hatc hand-written tiled+vectorized schedule |
#   OpenBLAS sgemm, each on 1 and 2 threads, medians over REPEAT runs, with
#   ratios to OpenBLAS. Usage: bench/matmul_baseline.sh [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${1:-10}
HATC=build/bin/hatc
SGEMM=build/bin/hatc-bench-sgemm
W=examples/matmul_1024.mlir
S=examples/schedules/matmul_tile_vectorize.mlir
[[ -x $HATC && -x $SGEMM ]] || { echo "build first: ./scripts/build.sh" >&2; exit 1; }

rows=()
for t in 1 2; do
  rows+=("default $t $($HATC run $W --threads $t --repeat $REPEAT --check --json)")
  rows+=("tiled+vectorized $t $($HATC run $W --schedule $S --threads $t --repeat $REPEAT --check --json)")
  rows+=("openblas $t $($SGEMM 1024 1024 1024 $t $REPEAT)")
done
printf '%s\n' "${rows[@]}" | python3 bench/matmul_table.py
