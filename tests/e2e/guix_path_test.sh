#!/usr/bin/env bash
# The whole path a Guix user takes, end to end, on a small Internet of network
# namespaces built by this test on 198.18.0.0/15 (RFC 2544, never routed):
#
#   client-berlin 198.18.1.10 ─┐                      ┌─ mirror berlin    198.18.10.1
#   client-tokyo  198.18.2.10 ─┤                      ├─ mirror amsterdam 198.18.10.2
#   resolver      198.18.0.2  ─┼── one bridge (hub) ──┼─ mirror tokyo     198.18.10.3
#   geosteer      198.18.0.53 ─┘                      └─ upstream         198.18.20.1:8080
#
# The clients resolve substitutes.guix.example.org through their system resolver
# (/etc/netns/NAME/resolv.conf), which is unbound with its subnet cache, so every
# query reaching geosteer carries the client's /24 as EDNS Client Subnet. Each
# client fetches /nix-cache-info, a narinfo and its nar by name with curl, as Guix
# would; the mirrors are nginx built from deploy/mirror/'s recipe, caching the
# stand-in upstream, and name themselves in the X-Guix-Mirror header. Then the
# Berlin client's mirror is stopped and brought back, and the test measures how
# long the client's fetch by name takes to follow: probe detection, plus the DNS
# TTL, plus the resolver's cache.
#
# Usage (as root): guix_path_test.sh GEOSTEER_BINARY FIXTURE_DIR SOURCE_DIR
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 GEOSTEER_BINARY FIXTURE_DIR SOURCE_DIR" >&2
  exit 2
fi
geosteer=$(realpath "$1") fixtures=$(realpath "$2") source=$(realpath "$3")
if [ "$(id -u)" -ne 0 ]; then
  echo "FAIL: this test builds network namespaces and must run as root" >&2
  exit 1
fi

# Health and DNS settings, and the bounds they promise. A dead mirror is seen within
# `fall` probes, each at most interval * (1 + jitter) apart; the resolver may then
# hold the old answer for one TTL. The slack covers a loaded CI machine.
readonly interval=1 jitter=0.1 fall=2 rise=2 ttl=3 slack=4
readonly name=substitutes.guix.example.org

work=$(mktemp -d /tmp/geosteer-guix-path-XXXXXX)
prefix="gs$$"
namespaces=()
ns() { echo "$prefix-$1"; }
in_ns() { local n; n=$(ns "$1"); shift; ip netns exec "$n" "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
fail() { echo "FAIL: $*" >&2; exit 1; }

show_logs() {
  for log in "$work"/geosteer.log "$work"/unbound.log "$work"/upstream.log \
             "$work"/mirror-*/access.log "$work"/mirror-*/error.log; do
    [ -s "$log" ] || continue
    echo "--- ${log#"$work"/} (last 40 lines)" >&2
    tail -n 40 "$log" >&2
  done
}

cleanup() {
  local status=$?
  [ $status -eq 0 ] || show_logs
  for n in "${namespaces[@]}"; do
    # shellcheck disable=SC2046
    kill $(ip netns pids "$n" 2>/dev/null) 2>/dev/null || true
  done
  sleep 0.2
  for n in "${namespaces[@]}"; do
    # shellcheck disable=SC2046
    kill -9 $(ip netns pids "$n" 2>/dev/null) 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
    rm -rf "/etc/netns/$n"
  done
  rm -rf "$work"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the network
add_namespace() {
  local n; n=$(ns "$1")
  ip netns add "$n"
  namespaces+=("$n")
  ip -n "$n" link set lo up
}

# A node on the hub's bridge, with its addresses on the shared /15.
add_node() {  # role address...
  local role=$1; shift
  add_namespace "$role"
  ip -n "$(ns hub)" link add "p-$role" type veth peer name eth0 netns "$(ns "$role")"
  ip -n "$(ns hub)" link set "p-$role" master br0 up
  for address in "$@"; do ip -n "$(ns "$role")" addr add "$address/15" dev eth0; done
  ip -n "$(ns "$role")" link set eth0 up
}

add_namespace hub
ip -n "$(ns hub)" link add br0 type bridge
ip -n "$(ns hub)" link set br0 up
add_node dns 198.18.0.53
add_node resolver 198.18.0.2
add_node mirrors 198.18.10.1 198.18.10.2 198.18.10.3 198.18.20.1
add_node client-berlin 198.18.1.10
add_node client-tokyo 198.18.2.10

# ---------------------------------------------------------------- upstream and mirrors
upstream_tool="$source/tools/substitute-upstream.py"
python3 "$upstream_tool" generate "$work/store"
in_ns mirrors python3 "$upstream_tool" serve "$work/store" 198.18.20.1 8080 \
  2>"$work/upstream.log" &

declare -A mirror_address=([berlin]=198.18.10.1 [amsterdam]=198.18.10.2 [tokyo]=198.18.10.3)
declare -A mirror_pid=()
start_mirror() {
  # Not through in_ns: $! must be nginx itself (ip and the script exec into it).
  ip netns exec "$(ns mirrors)" "$source/tools/local-mirror.sh" "$1" "${mirror_address[$1]}" 80 \
    198.18.20.1:8080 "$work/mirror-$1" >"$work/mirror-$1.out" 2>&1 &
  mirror_pid[$1]=$!
}
stop_mirror() {
  kill "${mirror_pid[$1]}"
  wait "${mirror_pid[$1]}" 2>/dev/null || true
}
for mirror in berlin amsterdam tokyo; do start_mirror "$mirror"; done

# The canary: a narinfo every healthy mirror serves with the upstream's NarHash.
read -r canary_hash canary_narinfo _ < <(python3 "$upstream_tool" list "$work/store" | head -n 1)
[ -n "$canary_narinfo" ] || fail "the stand-in upstream lists no store item"

# ---------------------------------------------------------------- geosteer
cat >"$work/geosteer.yaml" <<EOF
server: {listen: ["198.18.0.53:53"], identity: guix-path-dns, drain_time: 1s}
metrics: {listen: "127.0.0.1:9153"}
geoip: {databases: ["$fixtures/benchmark-net.mmdb"]}
healthcheck:
  interval: ${interval}s
  jitter: $jitter
  timeout: 1s
  rise: $rise
  fall: $fall
  initial: down
  liveness: {path: nix-cache-info, expect_status: 200, expect_body: "StoreDir:"}
  freshness: {method: canary, canaries: [$canary_narinfo], upstream: "http://198.18.20.1:8080/"}
zones:
  - origin: guix.example.org.
    soa: {mname: ns1.guix.example.org., rname: hostmaster.guix.example.org.}
    ns: [ns1.guix.example.org.]
    records: ["ns1 IN A 198.18.0.53"]
    services:
      - {name: substitutes, mirrors: [berlin, amsterdam, tokyo], answers: 1, ttl: $ttl,
         fallback: [amsterdam]}
mirrors:
  - {id: berlin,    url: "http://198.18.10.1/", ipv4: [198.18.10.1], location: {lat: 52.52, lon: 13.40}}
  - {id: amsterdam, url: "http://198.18.10.2/", ipv4: [198.18.10.2], location: {lat: 52.37, lon: 4.90}}
  - {id: tokyo,     url: "http://198.18.10.3/", ipv4: [198.18.10.3], location: {lat: 35.68, lon: 139.69}}
EOF
ip netns exec "$(ns dns)" "$geosteer" serve -c "$work/geosteer.yaml" --control-socket "$work/control.sock" --state-dir "$work/state" >"$work/geosteer.log" 2>&1 &
geosteer_pid=$!

# ---------------------------------------------------------------- the resolver
# unbound as an ISP's resolver: recursion for its clients, the substitute zone
# delegated to geosteer (a stub zone stands in for the delegation from example.org),
# and the subnet cache sending each client's /24 to geosteer and caching answers
# per scope. No validator: the zone is not signed.
mkdir -p "$work/unbound"
cat >"$work/unbound/unbound.conf" <<EOF
server:
  interface: 198.18.0.2
  access-control: 198.18.0.0/15 allow
  username: ""
  chroot: ""
  directory: "$work/unbound"
  pidfile: "$work/unbound/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  do-ip6: no
  module-config: "subnetcache iterator"
  send-client-subnet: 198.18.0.53
  max-client-subnet-ipv4: 24
stub-zone:
  name: "guix.example.org"
  stub-addr: 198.18.0.53
remote-control:
  control-enable: no
EOF
in_ns resolver unbound -d -c "$work/unbound/unbound.conf" >"$work/unbound.log" 2>&1 &

for client in client-berlin client-tokyo; do
  mkdir -p "/etc/netns/$(ns "$client")"
  printf 'nameserver 198.18.0.2\noptions timeout:1 attempts:2\n' >"/etc/netns/$(ns "$client")/resolv.conf"
done

# ---------------------------------------------------------------- ready
wait_until() {  # seconds description command...
  local deadline=$(($(now_ms) + $1 * 1000)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "not within $1 s: $what"
    sleep 0.1
  done
}
# initial: down, so a mirror logged up has passed its probes, canary included.
for mirror in berlin amsterdam tokyo; do
  wait_until 20 "geosteer's probes bring mirror $mirror up" \
    grep -q "mirror $mirror: down -> up" "$work/geosteer.log"
done
wait_until 10 "the resolver answers" \
  in_ns client-berlin dig +time=1 +tries=1 @198.18.0.2 ns1.guix.example.org A

# ---------------------------------------------------------------- fetch by name
headers="$work/headers" body="$work/body"
# GETs http://substitutes.guix.example.org/PATH from CLIENT's namespace, resolving
# the name through the system resolver; prints the mirror that served it.
fetch() {  # client path
  rm -f "$headers" "$body"
  in_ns "$1" curl --silent --show-error --fail --max-time 3 --connect-timeout 1 \
    --dump-header "$headers" --output "$body" "http://$name/$2" || return 1
  tr -d '\r' <"$headers" | awk -F': ' 'tolower($1) == "x-guix-mirror" { print $2 }'
}

field() { sed -n "s/^$1: //p" "$2"; }

# The path a Guix client takes: the cache's info, a narinfo, then the nar it names.
check_substitutes_path() {  # client expected-mirror
  local client=$1 expected=$2 served
  served=$(fetch "$client" nix-cache-info) || fail "$client: nix-cache-info by name"
  [ "$served" = "$expected" ] || fail "$client: nix-cache-info from '$served', not $expected"
  grep -q '^StoreDir: /gnu/store$' "$body" || fail "$client: nix-cache-info has no StoreDir"

  served=$(fetch "$client" "$canary_narinfo") || fail "$client: $canary_narinfo by name"
  [ "$served" = "$expected" ] || fail "$client: narinfo from '$served', not $expected"
  cmp -s "$body" "$work/store/$canary_narinfo" || fail "$client: narinfo differs from upstream's"
  cp "$body" "$work/narinfo"

  local url; url=$(field URL "$work/narinfo")
  served=$(fetch "$client" "$url") || fail "$client: $url by name"
  [ "$served" = "$expected" ] || fail "$client: nar from '$served', not $expected"
  [ "$(stat -c %s "$body")" = "$(field FileSize "$work/narinfo")" ] ||
    fail "$client: the nar's size is not the narinfo's FileSize"
  gunzip -c <"$body" >"$work/nar"
  [ "$(python3 "$upstream_tool" nar-hash "$work/nar")" = "$(field NarHash "$work/narinfo")" ] ||
    fail "$client: the nar's hash is not the narinfo's NarHash"
  echo "guix-path: $client fetched nix-cache-info, $canary_hash.narinfo and its nar from $expected"
}

check_substitutes_path client-berlin berlin
check_substitutes_path client-tokyo tokyo

# Both clients share one resolver: only the client subnet it forwarded can have
# told them apart. geosteer counted those ECS queries.
ecs_queries=$(in_ns dns curl -s http://127.0.0.1:9153/metrics |
  awk '/^geosteer_dns_ecs_queries_total / { print $2 }')
[ "${ecs_queries:-0}" != 0 ] || fail "geosteer saw no query with a client subnet"

# ---------------------------------------------------------------- failover and return
# Polls the Berlin client's fetch by name until MIRROR serves it; prints the
# milliseconds since START, or fails after twice the bound.
time_until_served_by() {  # mirror start-ms bound-seconds
  local deadline=$(($2 + $3 * 2000)) served
  while [ "$(now_ms)" -lt "$deadline" ]; do
    served=$(fetch client-berlin nix-cache-info 2>/dev/null) || served=""
    if [ "$served" = "$1" ]; then
      echo $(($(now_ms) - $2))
      return 0
    fi
    sleep 0.1
  done
  fail "the Berlin client was not served by $1 within $(($3 * 2)) s"
}
seconds() { printf '%d.%01d' $(($1 / 1000)) $((($1 % 1000) / 100)); }
# awk for the arithmetic on the fractional jitter; rounded up to whole seconds.
bound() { awk -v n="$1" -v i=$interval -v j=$jitter -v t=$ttl -v s=$slack \
  'BEGIN { b = n * i * (1 + j) + t + s; print (b == int(b)) ? b : int(b) + 1 }'; }

failover_bound=$(bound $fall)
start=$(now_ms)
stop_mirror berlin
failover_ms=$(time_until_served_by amsterdam "$start" "$failover_bound")
[ "$failover_ms" -le $((failover_bound * 1000)) ] ||
  fail "failover took $(seconds "$failover_ms") s, over the bound of $failover_bound s"
check_substitutes_path client-berlin amsterdam
check_substitutes_path client-tokyo tokyo

return_bound=$(bound $rise)
start=$(now_ms)
start_mirror berlin
return_ms=$(time_until_served_by berlin "$start" "$return_bound")
[ "$return_ms" -le $((return_bound * 1000)) ] ||
  fail "the return took $(seconds "$return_ms") s, over the bound of $return_bound s"
check_substitutes_path client-berlin berlin

# A clean stop, which under the sanitizers also means no leak and no error on exit.
kill -TERM "$geosteer_pid"
wait "$geosteer_pid" || fail "geosteer exited with status $? on SIGTERM"

echo "guix-path: with interval ${interval}s, fall $fall, rise $rise and TTL ${ttl}s, the Berlin client" \
  "moved to amsterdam $(seconds "$failover_ms") s after its mirror stopped (bound ${failover_bound} s)" \
  "and back $(seconds "$return_ms") s after it returned (bound ${return_bound} s)"
