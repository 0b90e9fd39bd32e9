#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan), replays every
# seed and every kept regression input, then fuzzes each target for SECONDS (default
# 60), two at a time. Prints the executions each target ran. A crash fails the run
# and leaves the input in tests/fuzz/regressions/<target>/: fix the bug, then commit
# the input so that every later run replays it.
#
#   tools/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_query fuzz_ecs fuzz_config fuzz_http fuzz_mmdb)

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_UNITY_BUILD=ON -DGEOSTEER_FUZZ=ON "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_targets

work=build-fuzz/run
rm -rf "$work"
mkdir -p "$work"
# MMDB seeds are the fixtures in both layouts, generated, never committed.
mkdir -p "$work/fixtures"
perl tools/make-mmdb-fixtures.pl "$work/fixtures" >/dev/null
for f in "$work"/fixtures/*.mmdb; do cp "$f" "$work/seed-mmdb-$(basename "$f" .mmdb)"; done

# Every target runs in a network namespace with only loopback: a redirect or a
# mutated URL may name any host, and nothing may leave the machine.
isolate=()
if unshare -rn true 2>/dev/null; then
  isolate=(unshare -rn sh -c 'ip link set lo up 2>/dev/null; exec "$@"' isolate)
elif [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
  isolate=(unshare -n sh -c 'ip link set lo up; exec "$@"' isolate)
else
  echo "fuzz: cannot make a network namespace (unshare); not running fuzz_http" >&2
  targets=("${targets[@]/fuzz_http}")
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
# Known leaks of the libraries we call, each explained in the file; never our own.
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_target() {
  local target=$1 seconds=$2
  local seeds=tests/fuzz/corpus/$target regressions=tests/fuzz/regressions/$target
  local corpus=$work/corpus-$target crashes=$work/crashes-$target
  mkdir -p "$corpus" "$crashes" "$regressions" "$seeds"
  [ "$target" = fuzz_mmdb ] && cp "$work"/seed-mmdb-* "$corpus"/
  local binary=build-fuzz/tests/fuzz/$target
  # Replay: every seed and kept regression input, once.
  if ! "${isolate[@]}" "$binary" -runs=0 "$corpus" "$seeds" "$regressions" >"$work/$target.replay.log" 2>&1; then
    echo "$target: replay FAILED"; tail -40 "$work/$target.replay.log"; return 1
  fi
  local status=0
  "${isolate[@]}" "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$corpus" "$seeds" >"$work/$target.log" 2>&1 || status=$?
  local runs
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$work/$target.log" | grep -Eo '[0-9]+$' || echo 0)
  if [ "$status" -ne 0 ]; then
    cp "$crashes"/* "$regressions"/ 2>/dev/null || true
    echo "$target: FAILED after $runs executions; input kept in $regressions/"
    grep -E 'ERROR|runtime error|SUMMARY' "$work/$target.log" | head -5
    tail -60 "$work/$target.log" >"$work/$target.tail"
    return 1
  fi
  local replayed
  replayed=$(grep -Eo 'INITED.*|Done [0-9]+ runs' "$work/$target.replay.log" | grep -Eo 'Done [0-9]+' | grep -Eo '[0-9]+' || echo 0)
  echo "$target: ${runs} executions in ${seconds}s after replaying ${replayed} inputs ($(ls "$regressions" | wc -l) kept regressions)"
}

failed=0
pids=()
running=0
for target in "${targets[@]}"; do
  [ -n "$target" ] || continue
  run_target "$target" "$seconds" &
  pids+=($!)
  running=$((running + 1))
  if [ "$running" -ge "$(nproc)" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
if [ "$failed" -ne 0 ]; then
  for t in "$work"/*.tail; do [ -f "$t" ] && { echo "== $t"; cat "$t"; }; done
  echo "fuzz: FAILED"
  exit 1
fi
echo "fuzz: every target replayed its corpus and fuzzed ${seconds}s without a finding"
