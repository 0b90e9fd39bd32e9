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
tools/build.sh
tools/fetch-geoip.sh
phase "building"
logs=$(mktemp -d)
builder=""
trap '[ -n "$builder" ] && kill "$builder" 2>/dev/null; rm -rf "$logs"' EXIT
# The plain suite keeps the CPUs a third busy (most of its time is waiting: timeouts,
# probes, namespaces), so the sanitizer and fuzz builds run meanwhile, at the lowest
# priority so that they take only what the tests leave.
if [ "${GEOSTEER_QUICK:-0}" != 1 ]; then
  (nice -n 19 tools/test-sanitizers.sh --build-only && nice -n 19 tools/fuzz.sh --build-only) \
    >"$logs/builds.log" 2>&1 &
  builder=$!
fi
(cd build && ctest --output-on-failure --timeout 300 -j"$(nproc)") | tee "$logs/plain.log"
phase "the plain suite (the other builds running beside it)"
[ "${GEOSTEER_QUICK:-0}" = 1 ] && exit 0
if ! wait "$builder"; then
  builder=""
  tail -50 "$logs/builds.log"
  echo "test.sh: the sanitizer or fuzz build failed" >&2
  exit 1
fi
builder=""
phase "the rest of the sanitizer and fuzz builds"
tools/test-sanitizers.sh | tee "$logs/sanitizers.log"
phase "the sanitizer suite"
tools/fuzz.sh "${GEOSTEER_FUZZ_SECONDS:-60}" | tee "$logs/fuzz.log"
phase "the fuzz run"

# One closing line for the three phases (each has failed the script already if it failed).
count() { grep -Eo 'tests failed out of [0-9]+' "$1" | grep -Eo '[0-9]+$' | tail -1; }
plain=$(count "$logs/plain.log") sanitized=$(count "$logs/sanitizers.log")
fuzzed=$(grep -c ' executions in ' "$logs/fuzz.log" || true)
echo "plain ${plain}, sanitized ${sanitized}, fuzz targets ${fuzzed}"
echo "summary: $((plain + sanitized + fuzzed)) passed, 0 failed"
