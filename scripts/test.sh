#!/usr/bin/env bash
# Builds hatc and runs the whole test suite (lit + GoogleTest) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build.sh
cd build
ctest --output-on-failure -j "${JOBS:-$(nproc)}" "$@"
