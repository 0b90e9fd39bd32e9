#!/usr/bin/env bash
# Runs one Guix substitute mirror built from deploy/mirror/'s recipe, in the
# foreground: nginx as a caching reverse proxy of UPSTREAM (host:port, plain HTTP),
# listening on ADDRESS:PORT and naming itself NAME in the X-Guix-Mirror header.
# Everything it writes (cache, logs, pid, temporary files) stays under DIR, so it
# touches no system nginx state and several can run side by side.
#
# For the demo and the tests. An operator starts from deploy/mirror/nginx.conf.
# Usage: local-mirror.sh NAME ADDRESS PORT UPSTREAM DIR
set -euo pipefail
if [ $# -ne 5 ]; then
  echo "usage: $0 NAME ADDRESS PORT UPSTREAM DIR" >&2
  exit 2
fi
name=$1 address=$2 port=$3 upstream=$4 dir=$5
recipe="$(cd "$(dirname "$0")/../deploy/mirror" && pwd)"
listen=$address
[[ $address == *:* ]] && listen="[$address]"

mkdir -p "$dir/cache" "$dir/temp"
dir=$(cd "$dir" && pwd)
# One process (master_process off): it runs as whoever started it and dies with a
# single signal, which is what a test that stops and restarts a mirror wants. The
# cache still works; only its size manager is missing, and these caches stay tiny.
cat > "$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
  include $recipe/guix-substitutes-http.conf;
  access_log $dir/access.log guix_mirror;
  client_body_temp_path $dir/temp/body;
  proxy_temp_path $dir/temp/proxy;
  fastcgi_temp_path $dir/temp/fastcgi;
  uwsgi_temp_path $dir/temp/uwsgi;
  scgi_temp_path $dir/temp/scgi;
  default_type application/octet-stream;
  proxy_cache_path $dir/cache levels=1:2 keys_zone=guix_substitutes:10m max_size=1g
                   inactive=30d use_temp_path=off;
  upstream guix_upstream { server $upstream; keepalive 8; }
  server {
    listen $listen:$port;
    server_name _;
    set \$guix_mirror "$name";
    set \$guix_upstream_scheme http;
    set \$guix_upstream_host "$upstream";
    include $recipe/guix-substitutes.conf;
  }
}
EOF
exec /usr/sbin/nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
