#!/usr/bin/env bash
# Installs missing Debian packages, configures and builds hatc into build/.
#   ./scripts/build.sh            Release build
#   BUILD_TYPE=Debug ./scripts/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/deps.sh

BUILD_TYPE=${BUILD_TYPE:-Release}
JOBS=${JOBS:-$(nproc)}
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
fi
ninja -C build -j "$JOBS" | grep -v '^\[' || true
# ninja's status is lost in the pipe above; ask again so a failure stops us.
ninja -C build -j "$JOBS" >/dev/null
