#!/usr/bin/env bash
# Configures and builds geosteer and its tests into build/.
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache, when present, makes rebuilds in several work trees cheap; CI does without.
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# GEOSTEER_UNITY=ON (tools/test.sh sets it) builds the libraries in unity batches:
# a third less compiling from scratch, but an edit rebuilds its whole batch.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGEOSTEER_WERROR=ON \
  -DCMAKE_UNITY_BUILD="${GEOSTEER_UNITY:-OFF}" "${launcher[@]}" >/dev/null
cmake --build build -j"$(nproc)"
