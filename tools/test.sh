#!/usr/bin/env bash
# The test command: installs what is missing, builds, fetches the GeoIP data
# and runs every test (unit and integration) with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
tools/fetch-geoip.sh
cd build
ctest --output-on-failure --timeout 300 -j"$(nproc)"
