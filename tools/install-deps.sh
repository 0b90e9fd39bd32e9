#!/usr/bin/env bash
# Installs the Debian 12 packages geosteer needs to build, test and demo.
# Idempotent and quiet when everything is already installed.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  libldns-dev libmaxminddb-dev libyaml-cpp-dev prometheus-cpp-dev nlohmann-json3-dev
  libboost-dev libboost-system-dev libssl-dev libgtest-dev libgmock-dev
  # tests and demo: real DNS clients, MMDB fixture writer, GeoIP data via npm (and a CSV
  # parser for its ASN ranges, tools/asn-csv-to-mmdb.pl)
  dnsutils knot-dnsutils ldnsutils mmdb-bin libmaxmind-db-writer-perl libtext-csv-xs-perl
  nodejs npm iproute2 procps nginx openssl
  # the end-to-end test of the Guix path: a real resolver with the ECS subnet cache
  unbound
  # the service manager test silences a listener with nftables in its own namespace
  nftables
  # anycast: BIRD 2, which geosteer enables and disables, in the BGP test and its own
  bird2
  # the unit (systemd-analyze, systemd-sysusers, systemd.pc) and the manual page (man);
  # tools/package.sh also needs lintian, which no test uses: not installed here
  systemd man-db
  # guix.scm and the Guix System service are read with Guile (Guix cannot run here)
  guile-3.0
  # status page and metrics checks: a real Prometheus parser and a headless browser
  prometheus chromium curl python3
  # fuzzing: clang with libFuzzer and the sanitizer runtimes
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm may come from outside Debian (e.g. a NodeSource or nvm install); accept any npm on PATH.
if command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
