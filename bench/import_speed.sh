#!/usr/bin/env bash
# Import speed of an ONNX model with about 10 MB of weights (big_weights
# from tests/onnx/make_models.py): prints hatc import's time (--time, best
# of REPEAT) and the size of the printed IR with and without
# --elide-weights. The acceptance bar: under 2 s, elided IR under 1 MB.
#   bench/import_speed.sh [REPEAT] [MODEL.onnx]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${1:-5}
HATC=build/bin/hatc
[[ -x $HATC ]] || { echo "build first: ./scripts/build.sh" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ $# -ge 2 ]]; then
  model=$2
else
  /usr/bin/python3 tests/onnx/make_models.py --out "$work" --only big_weights
  model=$work/big_weights/model.onnx
fi
weights=$(find "$(dirname "$model")" -maxdepth 1 \( -name '*.onnx' -o -name '*.bin' \) \
  -printf '%s\n' | awk '{ s += $1 } END { print s }')

best=""  # nanoseconds
for ((i = 0; i < REPEAT; ++i)); do
  start=$(date +%s%N)
  $HATC import "$model" --elide-weights --time -o "$work/elided.mlir" 2> "$work/time.txt"
  wall=$(( $(date +%s%N) - start ))
  if [[ -z $best ]] || (( wall < best )); then
    best=$wall; reported=$(tail -1 "$work/time.txt")
  fi
done
$HATC import "$model" -o "$work/full.mlir"
printf 'model            %s (%s bytes on disk)\n' "$model" "$weights"
printf 'import (--time)  %s\n' "$reported"
printf 'process wall     %d ms (best of %d; bar: < 2 s)\n' "$((best / 1000000))" "$REPEAT"
printf 'elided IR        %s bytes (bar: < 1048576)\n' "$(wc -c < "$work/elided.mlir")"
printf 'full IR          %s bytes\n' "$(wc -c < "$work/full.mlir")"
