#!/usr/bin/env bash
# The mirror recipe in deploy/mirror/, as a Guix client and its operator see it:
# nginx built from it in front of the stand-in upstream (tools/substitute-upstream.py),
# both in a network namespace of this test so no port of the machine is taken.
#
# Usage (as root): recipe_test.sh SOURCE_DIR
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 SOURCE_DIR" >&2
  exit 2
fi
source=$(realpath "$1")
if [ "$(id -u)" -ne 0 ]; then
  echo "FAIL: this test makes a network namespace and must run as root" >&2
  exit 1
fi
upstream_tool="$source/tools/substitute-upstream.py"

work=$(mktemp -d /tmp/geosteer-mirror-recipe-XXXXXX)
netns="gsm$$"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

cleanup() {
  local status=$?
  if [ $status -ne 0 ]; then
    for log in "$work"/upstream.log "$work"/mirror/error.log "$work"/mirror/access.log; do
      [ -s "$log" ] && { echo "--- ${log#"$work"/}" >&2; tail -n 30 "$log" >&2; }
    done
  fi
  # shellcheck disable=SC2046
  kill $(ip netns pids "$netns" 2>/dev/null) 2>/dev/null || true
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
in_ns() { ip netns exec "$netns" "$@"; }

# ---------------------------------------------------------------- the operator's example
# deploy/mirror/nginx.conf as an operator installs it, with its upstream, cache and
# log paths pointed into this test (its upstream's name would need DNS) and the TLS
# listeners dropped (no certificate here): nginx must accept the rest as it is.
mkdir -p "$work/example/etc" "$work/example/cache" "$work/example/log"
cp "$source"/deploy/mirror/guix-substitutes*.conf "$work/example/etc/"
sed -e "s|/etc/nginx/|$work/example/etc/|g" \
    -e "s|/var/cache/nginx/guix|$work/example/cache|" \
    -e "s|/var/log/nginx/|$work/example/log/|g" \
    -e "s|/run/nginx.pid|$work/example/nginx.pid|" \
    -e "s|server ci.guix.gnu.org:443;|server 127.0.0.1:8080;|" \
    -e '/listen .*443 ssl/d' -e '/ssl_certificate/d' -e '/^user /d' \
    "$source/deploy/mirror/nginx.conf" >"$work/example/nginx.conf"
in_ns /usr/sbin/nginx -t -q -p "$work/example" -c "$work/example/nginx.conf" \
  -e "$work/example/log/error.log" || fail "nginx rejects deploy/mirror/nginx.conf"
ok "nginx accepts deploy/mirror/nginx.conf"

# ---------------------------------------------------------------- upstream and mirror
python3 "$upstream_tool" generate "$work/store"
ip netns exec "$netns" python3 "$upstream_tool" serve "$work/store" 127.0.0.1 8080 \
  2>"$work/upstream.log" &
upstream_pid=$!
ip netns exec "$netns" "$source/tools/local-mirror.sh" test-mirror 127.0.0.2 80 127.0.0.1:8080 \
  "$work/mirror" >"$work/mirror.out" 2>&1 &

for _ in $(seq 100); do
  in_ns curl -s -o /dev/null http://127.0.0.1:8080/nix-cache-info &&
    in_ns curl -s -o /dev/null http://127.0.0.2/ && break
  sleep 0.05
done

headers="$work/headers" body="$work/body"
get() {  # path: fetches it from the mirror; prints the status
  in_ns curl -s --max-time 5 -D "$headers" -o "$body" -w '%{http_code}' "http://127.0.0.2/$1"
}
header() { tr -d '\r' <"$headers" | awk -v h="$1" -F': ' 'tolower($1) == tolower(h) { print $2 }'; }
upstream_requests() { grep -c "\"GET /$1" "$work/upstream.log" || true; }
field() { sed -n "s/^$1: //p" "$2"; }

read -r hash narinfo nar < <(python3 "$upstream_tool" list "$work/store" | head -n 1)

# ---------------------------------------------------------------- what a client gets
[ "$(get nix-cache-info)" = 200 ] || fail "nix-cache-info: not 200"
grep -q '^StoreDir: /gnu/store$' "$body" || fail "nix-cache-info: no StoreDir"
[ "$(header X-Guix-Mirror)" = test-mirror ] || fail "no X-Guix-Mirror: test-mirror header"
ok "nix-cache-info is served and names the mirror"

[ "$(get "$narinfo")" = 200 ] || fail "$narinfo: not 200"
[ "$(header X-Cache-Status)" = MISS ] || fail "$narinfo: first fetch not a MISS"
cmp -s "$body" "$work/store/$narinfo" || fail "$narinfo differs from upstream's"
[ "$(get "$narinfo")" = 200 ] || fail "$narinfo again: not 200"
[ "$(header X-Cache-Status)" = HIT ] || fail "$narinfo: second fetch not a HIT"
[ "$(header Cache-Control)" = "max-age=86400" ] || fail "$narinfo: upstream's Cache-Control lost on a HIT"
[ "$(upstream_requests "$narinfo")" = 1 ] || fail "$narinfo: upstream asked more than once"
ok "a narinfo is cached, with upstream's max-age for the client"

missing="0000000000000000000000000000000z.narinfo"
[ "$(get $missing)" = 404 ] || fail "a missing narinfo: not 404"
[ "$(header Cache-Control)" = "max-age=60" ] || fail "a missing narinfo's 404 has no short max-age"
[ "$(get $missing)" = 404 ] || fail "a missing narinfo again: not 404"
[ "$(header X-Cache-Status)" = HIT ] || fail "a missing narinfo's 404 is not cached"
ok "a 404 narinfo is cached briefly, and tells the client max-age=60"

cp "$work/store/$narinfo" "$work/narinfo"
[ "$(get "$nar")" = 200 ] || fail "$nar: not 200"
[ "$(stat -c %s "$body")" = "$(field FileSize "$work/narinfo")" ] || fail "$nar: size is not FileSize"
gunzip -c <"$body" >"$work/nar"
[ "$(python3 "$upstream_tool" nar-hash "$work/nar")" = "$(field NarHash "$work/narinfo")" ] ||
  fail "$nar: hash is not the narinfo's NarHash"
[ "$(get "$nar?from=another-client")" = 200 ] || fail "$nar with a query string: not 200"
[ "$(header X-Cache-Status)" = HIT ] || fail "$nar with a query string: not a HIT (key is not the path)"
[ "$(upstream_requests "$nar")" = 1 ] || fail "$nar: upstream asked more than once"
ok "a nar is served whole and cached under its path"

for path in etc/passwd "${hash}x.narinfo" "${hash:0:31}.narinfo" "$(echo "$hash" | tr a-z A-Z).narinfo" \
            "log/$hash-hello" "nar/"; do
  [ "$(get "$path")" = 404 ] || fail "/$path: not 404"
done
[ "$(grep '"GET ' "$work/upstream.log" | grep -c -v -e 'GET /nix-cache-info' -e "GET /$nar" \
     -e "GET /$hash.narinfo" -e "GET /$missing")" = 0 ] ||
  fail "a path that is not a substitute reached upstream"
ok "anything but nix-cache-info, narinfos and nars is a 404 that never reaches upstream"

# ---------------------------------------------------------------- upstream down
kill "$upstream_pid"
wait "$upstream_pid" 2>/dev/null || true
[ "$(get "$narinfo")" = 200 ] || fail "with upstream down, a cached narinfo is not served"
[ "$(get "$nar")" = 200 ] || fail "with upstream down, a cached nar is not served"
read -r _ other_narinfo _ < <(python3 "$upstream_tool" list "$work/store" | sed -n 2p)
status=$(get "$other_narinfo")
[ "$status" = 502 ] || [ "$status" = 504 ] ||
  fail "with upstream down, an uncached narinfo answers $status, not a transient 502/504 (a client would keep a 404)"
ok "with upstream down, the cache serves what it has and the rest is a transient error"
