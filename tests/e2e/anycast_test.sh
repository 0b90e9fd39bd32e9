#!/usr/bin/env bash
# Anycast as an operator runs it, in network namespaces of this test on
# 198.18.0.0/15: two sites each run geosteer and BIRD 2 and announce the same
# 198.18.0.53/32 (on their loopback) by eBGP to a router; a client behind the router
# asks 198.18.0.53 ten times a second, and NSID tells which site answered.
#
#   client 198.18.103.2 ── router (AS 65000) ──┬── site-a (AS 65001) 198.18.101.2
#                                              └── site-b (AS 65002) 198.18.102.2
#
# Both sites are announced; the router prefers site-a (the lower router id). Then:
#   - site-a gets SIGTERM: it withdraws at once and keeps answering for its drain
#     time, so the client moves to site-b without a query lost;
#   - site-a comes back and, once its listener answers, announces again;
#   - nftables silences site-a's listener: its self-check fails, it withdraws, and
#     the client is answered by site-b;
#   - `geosteer ctl withdraw` and `announce` move it by hand.
#
# Usage (as root): anycast_test.sh GEOSTEER_BINARY FIXTURE_DIR
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 GEOSTEER_BINARY FIXTURE_DIR" >&2
  exit 2
fi
geosteer=$(realpath "$1") fixtures=$(realpath "$2")
if [ "$(id -u)" -ne 0 ]; then
  echo "FAIL: this test builds network namespaces and must run as root" >&2
  exit 1
fi

readonly anycast=198.18.0.53
# BGP as the test configures it: a withdrawal is an UPDATE sent at once; the hold
# time only matters for a site that dies without saying so.
readonly convergence_ms=2000
work=$(mktemp -d /tmp/geosteer-anycast-XXXXXX)
prefix="gsa$$"
namespaces=()
ns() { echo "$prefix-$1"; }
in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

cleanup() {
  local status=$?
  if [ $status -ne 0 ]; then
    for log in "$work"/*.log; do
      [ -s "$log" ] || continue
      echo "--- ${log#"$work"/} (last 25 lines)" >&2
      tail -n 25 "$log" >&2
    done
  fi
  [ -n "${prober:-}" ] && kill "$prober" 2>/dev/null
  for n in "${namespaces[@]}"; do
    # SIGINT: geosteer stops at once, without its drain.
    # shellcheck disable=SC2046
    kill -INT $(ip netns pids "$n" 2>/dev/null) 2>/dev/null || true
  done
  sleep 0.2
  for n in "${namespaces[@]}"; do
    # shellcheck disable=SC2046
    kill -9 $(ip netns pids "$n" 2>/dev/null) 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the network
for n in router site-a site-b client; do
  ip netns add "$(ns $n)"
  namespaces+=("$(ns $n)")
  ip -n "$(ns $n)" link set lo up
done
link() {  # node router-address node-address subnet-number
  ip -n "$(ns router)" link add "to-$1" type veth peer name uplink netns "$(ns "$1")"
  ip -n "$(ns router)" addr add "$2/30" dev "to-$1"
  ip -n "$(ns router)" link set "to-$1" up
  ip -n "$(ns "$1")" addr add "$3/30" dev uplink
  ip -n "$(ns "$1")" link set uplink up
  ip -n "$(ns "$1")" route add default via "$2"
}
link site-a 198.18.101.1 198.18.101.2
link site-b 198.18.102.1 198.18.102.2
link client 198.18.103.1 198.18.103.2
in_ns router sysctl -qw net.ipv4.ip_forward=1
for site in site-a site-b; do ip -n "$(ns $site)" addr add "$anycast/32" dev lo; done

# ---------------------------------------------------------------- BIRD
cat >"$work/router.conf" <<EOF
router id 198.18.100.1;
protocol device {}
# What BGP learns becomes the router's forwarding table.
protocol kernel { ipv4 { export all; }; }
template bgp site {
  local as 65000;
  connect retry time 1;
  hold time 6;
  ipv4 { import all; export none; };
}
protocol bgp site_a from site { neighbor 198.18.101.2 as 65001; }
protocol bgp site_b from site { neighbor 198.18.102.2 as 65002; }
EOF
site_bird() {  # name as address
  cat >"$work/$1.conf" <<EOF
router id $3;
protocol device {}
# The service prefix, announced while geosteer enables this protocol. Disabled at
# start, so a BIRD that starts (or restarts) without geosteer announces nothing.
protocol static geosteer_anycast {
  disabled;
  ipv4;
  route $anycast/32 blackhole;
}
protocol bgp uplink {
  local $3 as $2;
  neighbor ${3%.2}.1 as 65000;
  connect retry time 1;
  hold time 6;
  ipv4 { import none; export where proto = "geosteer_anycast"; };
}
EOF
}
site_bird site-a 65001 198.18.101.2
site_bird site-b 65002 198.18.102.2
for n in router site-a site-b; do
  ip netns exec "$(ns $n)" bird -f -c "$work/$n.conf" -s "$work/$n.ctl" -P "$work/$n.pid" \
    >"$work/bird-$n.log" 2>&1 &
done

# ---------------------------------------------------------------- geosteer
geosteer_config() {  # site
  cat <<EOF
server: {listen: ["$anycast:53"], identity: $1, drain_time: 3s}
metrics: {listen: "127.0.0.1:9153"}
geoip: {databases: ["$fixtures/benchmark-net.mmdb"]}
zones:
  - origin: guix.example.org.
    soa: {mname: ns1.guix.example.org., rname: hostmaster.guix.example.org.}
    ns: [ns1.guix.example.org.]
    records: ["ns1 IN A $anycast"]
mirrors: []
anycast:
  prefixes: ["$anycast/32"]
  bird_socket: $work/$1.ctl
  protocol: geosteer_anycast
  check_interval: 300ms
EOF
}
declare -A geosteer_pid=()
start_geosteer() {  # site
  geosteer_config "$1" >"$work/$1.yaml"
  ip netns exec "$(ns "$1")" "$geosteer" serve -c "$work/$1.yaml" --control-socket "$work/$1.sock" \
    --state-dir "$work/$1-state" >>"$work/geosteer-$1.log" 2>&1 &
  geosteer_pid[$1]=$!
}
start_geosteer site-a
start_geosteer site-b

# ---------------------------------------------------------------- the client
# Which site answers, as the client sees it (NSID), or "none".
who_answers() {
  in_ns client dig +time=1 +tries=1 +nsid @"$anycast" guix.example.org SOA 2>/dev/null |
    sed -n 's/.*NSID: .*("\(.*\)").*/\1/p' | head -n 1 | grep . || echo none
}
wait_for_site() {  # site seconds what
  local deadline=$(($(now_ms) + $2 * 1000))
  until [ "$(who_answers)" = "$1" ]; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "not within $2 s: $3 (answering: $(who_answers))"
    sleep 0.1
  done
}
route_via() { in_ns router ip route show "$anycast/32" | sed -n 's/.* via \([0-9.]*\).*/\1/p'; }

wait_for_site site-a 30 "the client answered by site-a"
# Both announce: the router knows both paths.
deadline=$(($(now_ms) + 15000))
until in_ns router birdc -s "$work/router.ctl" show route "$anycast/32" all 2>/dev/null | grep -q "AS65002"; do
  [ "$(now_ms)" -lt "$deadline" ] || fail "the router never learnt site-b's route"
  sleep 0.2
done
grep -q "anycast: announced $anycast/32" "$work/geosteer-site-a.log" || fail "site-a did not log its announcement"
ok "both sites announce $anycast/32; the client is answered by site-a"

# The client's view, ten queries a second, from here to the end: one line each.
(while :; do echo "$(now_ms) $(who_answers)"; sleep 0.1; done) >"$work/answers" &
prober=$!
# Longest run of unanswered queries after line FROM, in milliseconds.
longest_gap_after() {
  awk -v from="$1" 'NR > from { if ($2 == "none") { if (!start) start = $1; end = $1 }
                                 else if (start) { if (end - start > worst) worst = end - start; start = 0 } }
                    END { if (start && end - start > worst) worst = end - start; print worst + 0 }' "$work/answers"
}
lines() { wc -l <"$work/answers" | tr -d ' '; }

# ---------------------------------------------------------------- a clean stop
mark=$(lines)
kill -TERM "${geosteer_pid[site-a]}"
wait_for_site site-b 10 "the client moved to site-b after site-a's SIGTERM"
wait "${geosteer_pid[site-a]}" || fail "site-a exited with status $? on SIGTERM"
sleep 0.5
gap=$(longest_gap_after "$mark")
[ "$gap" -le "$convergence_ms" ] || fail "site-a's stop left the client unanswered for $gap ms"
unanswered=$(awk -v from="$mark" 'NR > from && $2 == "none"' "$work/answers" | wc -l)
withdrew=$(grep -n "anycast: withdrew $anycast/32 (stopping)" "$work/geosteer-site-a.log" | cut -d: -f1 | head -n 1)
drained=$(grep -n "drain time over" "$work/geosteer-site-a.log" | cut -d: -f1 | head -n 1)
[ -n "$withdrew" ] || fail "site-a did not log its withdrawal"
[ -n "$drained" ] && [ "$withdrew" -lt "$drained" ] || fail "site-a did not withdraw before its drain ended"
ok "SIGTERM: site-a withdrew first and drained; $unanswered queries unanswered (longest gap $gap ms, bound $convergence_ms ms)"

# ---------------------------------------------------------------- back
start_geosteer site-a
wait_for_site site-a 30 "site-a back after its restart"
ok "site-a announces again once its listener answers"

# ---------------------------------------------------------------- a failing self-check
in_ns site-a nft add table inet silence
in_ns site-a nft add chain inet silence input '{ type filter hook input priority 0; }'
in_ns site-a nft add rule inet silence input udp dport 53 drop
wait_for_site site-b 10 "the client moved to site-b when site-a's listener went silent"
grep -q "anycast: withdrew $anycast/32 (self-check: udp $anycast:53: no answer" "$work/geosteer-site-a.log" ||
  fail "site-a did not log why it withdrew"
[ "$(route_via)" = 198.18.102.2 ] || fail "the router still routes $anycast to $(route_via)"
ok "a silent listener fails site-a's self-check: it withdraws and site-b answers"
in_ns site-a nft delete table inet silence
wait_for_site site-a 15 "site-a back once its listener answers again"
ok "site-a announces again after three good self-checks"

# ---------------------------------------------------------------- by hand
in_ns site-a "$geosteer" ctl -s "$work/site-a.sock" withdraw >/dev/null || fail "ctl withdraw failed"
wait_for_site site-b 10 "site-b after ctl withdraw at site-a"
status=$(in_ns site-a "$geosteer" ctl -s "$work/site-a.sock" status)
grep -q "^anycast: withdrawn .*withdrawn by geosteer ctl withdraw" <<<"$status" ||
  fail "ctl status does not say site-a is withdrawn by hand"
# (Read whole, then searched: grep -q on a pipe would cut curl off, and pipefail
# would count that as a failure.)
announced() { in_ns site-a curl -s http://127.0.0.1:9153/metrics | awk '/^geosteer_anycast_announced / { print $2 }'; }
[ "$(announced)" = 0 ] ||
  fail "geosteer_anycast_announced is not 0 at site-a"
in_ns site-a "$geosteer" ctl -s "$work/site-a.sock" announce >/dev/null || fail "ctl announce failed"
wait_for_site site-a 10 "site-a after ctl announce"
[ "$(announced)" = 1 ] ||
  fail "geosteer_anycast_announced is not 1 at site-a"
ok "ctl withdraw and announce move site-a out and back; the metric follows"
