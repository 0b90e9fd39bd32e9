#!/usr/bin/env bash
# geosteer under a service manager, as systemd sees it through $NOTIFY_SOCKET:
# READY=1 once it answers, RELOADING=1/READY=1 around a reload (good or bad),
# WATCHDOG=1 only while its listeners answer, STOPPING=1 on SIGTERM. A socket of
# this test stands in for systemd's; geosteer runs in a network namespace of the
# test, where nftables can silence its listener without touching the machine.
#
# Usage (as root): service_manager_test.sh GEOSTEER_BINARY FIXTURE_DIR
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 GEOSTEER_BINARY FIXTURE_DIR" >&2
  exit 2
fi
geosteer=$(realpath "$1") fixtures=$(realpath "$2")
if [ "$(id -u)" -ne 0 ]; then
  echo "FAIL: this test makes a network namespace and must run as root" >&2
  exit 1
fi

work=$(mktemp -d /tmp/geosteer-service-manager-XXXXXX)
netns="gsn$$"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

cleanup() {
  local status=$?
  if [ $status -ne 0 ]; then
    echo "--- notifications" >&2; cat "$work/notifications" >&2 || true
    echo "--- geosteer.log (last 30 lines)" >&2; tail -n 30 "$work/geosteer.log" >&2 || true
  fi
  # shellcheck disable=SC2046
  kill $(ip netns pids "$netns" 2>/dev/null) 2>/dev/null || true
  [ -n "${receiver:-}" ] && kill "$receiver" 2>/dev/null || true
  sleep 0.1
  # shellcheck disable=SC2046
  kill -9 $(ip netns pids "$netns" 2>/dev/null) 2>/dev/null || true
  ip netns del "$netns" 2>/dev/null || true
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$netns"
ip -n "$netns" link set lo up

# systemd's side: every datagram, one line each, its lines joined with '|', with
# the milliseconds it arrived at.
cat >"$work/receiver.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        data = s.recv(4096).decode()
        out.write(f"{time.time_ns() // 1000000} {data.replace(chr(10), '|')}\n")
EOF
python3 "$work/receiver.py" "$work/notify" "$work/notifications" &
receiver=$!
for _ in $(seq 50); do [ -S "$work/notify" ] && break; sleep 0.05; done
touch "$work/notifications"

config() {  # the zone's SOA serial: changing it makes a reload visible
  cat <<EOF
server: {listen: ["127.0.0.1:53"], identity: service-manager-test, drain_time: 1s}
metrics: {listen: "127.0.0.1:9153"}
geoip: {databases: ["$fixtures/benchmark-net.mmdb"]}
zones:
  - origin: guix.example.org.
    soa: {mname: ns1.guix.example.org., rname: hostmaster.guix.example.org., serial: $1}
    ns: [ns1.guix.example.org.]
    records: ["ns1 IN A 198.18.0.53"]
    services:
      - {name: substitutes, mirrors: [berlin], answers: 1, ttl: 3}
mirrors:
  - {id: berlin, url: "https://berlin.example.net/", ipv4: [198.18.10.1], location: {lat: 52.52, lon: 13.40}}
EOF
}
config 1 >"$work/geosteer.yaml"

# WATCHDOG_USEC as systemd sets it for WatchdogSec=0.6: a ping every 300 ms.
ip netns exec "$netns" env NOTIFY_SOCKET="$work/notify" WATCHDOG_USEC=600000 \
  "$geosteer" serve -c "$work/geosteer.yaml" --control-socket "$work/control.sock" --state-dir "$work/state" >"$work/geosteer.log" 2>&1 &
geosteer_pid=$!

# Waits until a notification matching REGEX arrives after line FROM; prints its line number.
wait_for() {  # from regex seconds what
  local deadline=$(($(now_ms) + $3 * 1000)) n
  while [ "$(now_ms)" -lt "$deadline" ]; do
    n=$(awk -v from="$1" -v re="$2" 'NR > from && $0 ~ re { print NR; exit }' "$work/notifications")
    if [ -n "$n" ]; then echo "$n"; return 0; fi
    sleep 0.05
  done
  fail "no $4 within $3 s"
}
lines() { wc -l <"$work/notifications" | tr -d ' '; }
count_after() { awk -v from="$1" -v re="$2" 'NR > from && $0 ~ re' "$work/notifications" | wc -l; }
serial() { ip netns exec "$netns" dig +short +time=1 +tries=1 @127.0.0.1 guix.example.org SOA | awk '{ print $3 }'; }

ready=$(wait_for 0 ' READY=1' 20 "READY=1 at start")
[ "$(serial)" = 1 ] || fail "READY=1 was sent, but the server does not answer"
grep -q "STATUS=serving 1 zone(s) on 127.0.0.1:53" <(sed -n "${ready}p" "$work/notifications") ||
  fail "READY=1 carries no STATUS naming what it serves"
ok "READY=1 once it answers, with a STATUS"

mark=$(lines)
sleep 1.5
pings=$(count_after "$mark" ' WATCHDOG=1')
[ "$pings" -ge 3 ] || fail "only $pings WATCHDOG=1 in 1.5 s with WatchdogSec=0.6"
ok "WATCHDOG=1 every half interval while it answers ($pings in 1.5 s)"

config 2 >"$work/geosteer.yaml"
mark=$(lines)
kill -HUP "$geosteer_pid"
reloading=$(wait_for "$mark" ' RELOADING=1\|MONOTONIC_USEC=[0-9]+' 10 "RELOADING=1 with MONOTONIC_USEC")
wait_for "$reloading" ' READY=1\|STATUS=serving generation 2' 20 "READY=1 after the reload" >/dev/null
[ "$(serial)" = 2 ] || fail "READY=1 after the reload, but the old zone still answers"
ok "a reload is RELOADING=1 (with MONOTONIC_USEC), then READY=1 with the new generation"

echo "zones: [" >"$work/geosteer.yaml"
mark=$(lines)
kill -HUP "$geosteer_pid"
reloading=$(wait_for "$mark" ' RELOADING=1' 10 "RELOADING=1 for the broken file")
wait_for "$reloading" ' READY=1\|STATUS=reload failed; serving generation 2' 20 \
  "READY=1 saying the reload failed" >/dev/null
[ "$(serial)" = 2 ] || fail "a failed reload stopped the answers"
ok "a failed reload is READY=1 again, its STATUS saying it failed"

# Silence the listener: the server runs, but nobody gets an answer.
ip netns exec "$netns" nft add table inet silence
ip netns exec "$netns" nft add chain inet silence input '{ type filter hook input priority 0; }'
ip netns exec "$netns" nft add rule inet silence input udp dport 53 drop
wait_for "$(lines)" ' STATUS=self-check failed: udp 127.0.0.1:53: no answer' 5 "STATUS of a failed self-check" >/dev/null
mark=$(lines)
sleep 1.5
[ "$(count_after "$mark" ' WATCHDOG=1')" = 0 ] || fail "WATCHDOG=1 while the listener gets no answer out"
grep -q "self-check failed: udp 127.0.0.1:53: no answer" "$work/geosteer.log" ||
  fail "the failed self-check is not logged"
ok "no WATCHDOG=1 while the listener is silenced; the STATUS and the log say why"

ip netns exec "$netns" nft delete table inet silence
wait_for "$(lines)" ' WATCHDOG=1' 5 "WATCHDOG=1 once the listener answers again" >/dev/null
ok "WATCHDOG=1 again once the listener answers"

mark=$(lines)
kill -TERM "$geosteer_pid"
wait "$geosteer_pid" || fail "geosteer exited with status $? on SIGTERM"
wait_for "$mark" ' STOPPING=1' 2 "STOPPING=1 on SIGTERM" >/dev/null
ok "STOPPING=1 on SIGTERM, and a clean exit"
