#!/usr/bin/env bash
# Configures and builds geosteer and its tests into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGEOSTEER_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
