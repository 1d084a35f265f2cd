#!/usr/bin/env bash
# Installs the Debian 12 packages hatc needs, only those that are missing.
# Idempotent and quiet when nothing is missing. Sourced by build.sh.
# postgresql: its server binaries only; the tests start private servers
# (tests/pg/pg_server.sh), so the package's own cluster service is not used.
set -euo pipefail

HATC_PACKAGES=(
  cmake ninja-build g++ git python3 ccache
  llvm-19-dev libmlir-19-dev mlir-19-tools clang-19 libomp-19-dev
  libxgboost-dev xgboost libzstd-dev
  libsqlite3-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas-dev libdnnl-dev ocl-icd-opencl-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  python3-onnx python3-numpy
  libpq-dev postgresql
  openmpi-bin libopenmpi-dev
)

missing=()
for pkg in "${HATC_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]})); then
  echo "hatc: installing missing packages: ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The ONNX model tests (tests/onnx) use ONNX Runtime as the reference,
# through onnxruntime-node, which ctest's onnx.models.setup installs with
# npm into build/ort. Node and npm may come from elsewhere than Debian
# (nodesource ships npm inside its nodejs): install Debian's only when
# neither is on PATH.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "hatc: installing nodejs and npm (the ONNX model tests' reference)" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
