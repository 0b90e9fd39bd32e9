#!/usr/bin/env bash
# The test command: installs what is missing, builds, fetches the GeoIP data and runs
# every test (unit and integration) with CTest; then the same suite once more under
# ASan+UBSan (tools/test-sanitizers.sh), and the fuzz targets: their corpora replayed
# and each fuzzed for GEOSTEER_FUZZ_SECONDS (default 60; tools/fuzz.sh).
# GEOSTEER_QUICK=1 stops after the plain suite, for a fast local round.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase says how long it took: CI has 20 minutes on 2 cores for all of them.
phase_start=$SECONDS
phase() { echo "test.sh: $1 took $((SECONDS - phase_start))s (total ${SECONDS}s)"; phase_start=$SECONDS; }
tools/install-deps.sh
phase "installing dependencies"
# Unity batches: the build from scratch takes a third less (tools/build.sh).
GEOSTEER_UNITY=${GEOSTEER_UNITY:-ON} tools/build.sh
tools/fetch-geoip.sh
phase "building"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
(cd build && ctest --output-on-failure --timeout 300 -j"$(nproc)") | tee "$logs/plain.log"
phase "the plain suite"
[ "${GEOSTEER_QUICK:-0}" = 1 ] && exit 0
tools/test-sanitizers.sh | tee "$logs/sanitizers.log"
phase "the sanitizer build and suite"
tools/fuzz.sh "${GEOSTEER_FUZZ_SECONDS:-60}" | tee "$logs/fuzz.log"
phase "the fuzz build and run"

# One closing line for the three phases (each has failed the script already if it failed).
count() { grep -Eo 'tests failed out of [0-9]+' "$1" | grep -Eo '[0-9]+$' | tail -1; }
plain=$(count "$logs/plain.log") sanitized=$(count "$logs/sanitizers.log")
fuzzed=$(grep -c ' executions in ' "$logs/fuzz.log" || true)
echo "plain ${plain}, sanitized ${sanitized}, fuzz targets ${fuzzed}"
echo "summary: $((plain + sanitized + fuzzed)) passed, 0 failed"
