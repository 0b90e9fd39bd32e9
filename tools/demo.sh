#!/usr/bin/env bash
# The demo: installs, builds, fetches DB-IP Lite City once, then serves
# deploy/examples/guix.yaml on 127.0.0.1:5353 and [::1]:5353 and shows clients
# in four cities steered to different mirrors. Ctrl-C stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
tools/build.sh
tools/fetch-geoip.sh

config=deploy/examples/guix.yaml
build/geosteer check -c "$config"
build/geosteer serve -c "$config" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT INT TERM

name=substitutes.guix.example.org
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
build/geosteer locate -c "$config" 133.11.0.0/24 | sed 's/^/    /'
printf '\n# what operators see: the status page and the Prometheus metrics\n'
echo "    http://127.0.0.1:9153/    http://127.0.0.1:9153/metrics"
printf '\ngeosteer is serving on 127.0.0.1:5353 and [::1]:5353; paste the lines above to try, Ctrl-C to stop.\n'
wait $server
