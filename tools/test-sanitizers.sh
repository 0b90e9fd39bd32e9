#!/usr/bin/env bash
# Builds geosteer and its tests with AddressSanitizer and UndefinedBehaviorSanitizer
# (GCC, the production compiler, no recovery) into build-asan/ and runs every unit
# and integration test there. A memory error or undefined behaviour fails the test
# that caused it. Expects the Debian packages and data/ that tools/test.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# -O1 (CMakeLists.txt sets it for this build): what the sanitizers recommend, and
# every report still names file and line. No -Werror here: GCC 12 warns falsely under
# -fsanitize (mismatched-new-delete in Asio's coroutine frames); build.sh keeps it.
# Unity batches for the libraries: this tree is built from scratch, never edited in.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=ON \
  -DGEOSTEER_WERROR=OFF -DGEOSTEER_SANITIZE=ON "${launcher[@]}" >/dev/null
cmake --build build-asan -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd build-asan
# Not the tests on the real DB-IP data (*OnDbipData): each compiles the steering map
# of 15 million networks, 20 s under the sanitizers against 3 s without, and the
# plain suite runs them. The same code runs here on the fixtures, property tests
# included.
# Nor the tests of deployment files that run no server, or only a check of one
# (the mirror recipe, Guix, the systemd unit, the install tree, the alert rules),
# nor the Guix path end to end (20 s here: unbound and nginx around a server whose
# probes, ECS and steering the integration tests run here): the plain suite runs
# them, and CI has 20 minutes for everything.
ctest --output-on-failure --timeout 600 -j"$(nproc)" \
  -E 'OnDbipData\.|^MirrorRecipe\.|^Guix\.|^GuixPath\.|^Systemd\.|^Install\.|^Prometheus\.'

