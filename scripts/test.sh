#!/usr/bin/env bash
# Builds hatc and runs the whole test suite (lit + GoogleTest) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/build.sh
cd build
status=0
ctest --output-on-failure -j "${JOBS:-$(nproc)}" "$@" || status=$?
# ctest lists skipped tests without their output; show why (no GPU here).
grep -h "^SKIPPED: " Testing/Temporary/LastTest.log 2>/dev/null | sed 's/^/  /' || true
exit $status
