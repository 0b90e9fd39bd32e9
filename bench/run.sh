#!/usr/bin/env bash
# bench/run.sh: queries/s, latency and memory of geosteer against gdnsd in the same run.
#
# Installs dnsperf and gdnsd if missing, builds geosteer (tools/build.sh), starts geosteer and
# gdnsd on free 127.0.0.1 ports with the same zone, mirrors and fixture GeoIP database, loads
# each with dnsperf (bounded in time and query count), and prints one table with the figures of
# both servers and their ratio. Machines are noisy: read the ratios, not the absolute numbers.
# Servers are stopped on exit. Not a test; not run by ctest or CI. See bench/README.md.
#
# Environment: BENCH_SECONDS (per dnsperf run, default 4), BENCH_MAX_QUERIES (cap per run,
# default 1000000), BENCH_CLIENTS (dnsperf -c, default 4), BENCH_OUTSTANDING (dnsperf -q,
# default 64), BENCH_KEEP=1 keeps the work directory (configs, logs, raw dnsperf output).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench

SECS=${BENCH_SECONDS:-4}
MAXQ=${BENCH_MAX_QUERIES:-1000000}
CLIENTS=${BENCH_CLIENTS:-4}
OUTSTANDING=${BENCH_OUTSTANDING:-64}
NPROC=$(nproc)

say() { printf 'bench: %s\n' "$*" >&2; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# --- 1. packages, build, fixtures -------------------------------------------------------------
tools/install-deps.sh   # geosteer's build dependencies, dig, perl MMDB writer; quiet when present
missing=()
for p in dnsperf gdnsd; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing: ${missing[*]}"
  # The gdnsd package enables a system service; keep it from being started (and listening on
  # port 53 everywhere) by the install, through Debian's policy-rc.d, unless one exists already.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$own_policy" -eq 0 ] || $SUDO rm -f /usr/sbin/policy-rc.d
fi

WORK=$(mktemp -d /tmp/geosteer-bench.XXXXXX)
declare -a SERVER_PIDS=()
cleanup() {
  local pid i
  for pid in "${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}"; do
    for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then say "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "building geosteer (tools/build.sh, log in $WORK/build.log)"
if ! tools/build.sh >"$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log" >&2
  exit 1
fi
GEOSTEER=$ROOT/build/geosteer

# Both servers read the same database: gdnsd's geoip plugin wants MaxMind's nested City layout,
# which geosteer reads as well. Made by the build (tests/CMakeLists.txt), or here if missing.
GEOIP=$ROOT/build/fixtures/nested-city.mmdb
if [ ! -s "$GEOIP" ]; then
  mkdir -p "$WORK/fixtures"
  perl tools/make-mmdb-fixtures.pl "$WORK/fixtures"
  GEOIP=$WORK/fixtures/nested-city.mmdb
fi

# --- 2. servers --------------------------------------------------------------------------------
# Distinct free ports, each free for both UDP and TCP on 127.0.0.1 (sockets held until all found).
read -r -a PORTS <<<"$(python3 - <<'EOF'
import socket
held, ports = [], []
while len(ports) < 4:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        t.close()
        continue
    held += [t, u]
    ports.append(p)
print(" ".join(map(str, ports)))
EOF
)"

declare -A PID PORT
start_geosteer() {  # key threads port
  local key=$1 threads=$2 port=$3 dir=$WORK/$1
  mkdir -p "$dir"
  sed -e "s|@PORT@|$port|" -e "s|@THREADS@|$threads|" -e "s|@GEOIP@|$GEOIP|" \
    "$BENCH/geosteer.yaml.in" >"$dir/geosteer.yaml"
  "$GEOSTEER" serve -c "$dir/geosteer.yaml" --control-socket "$dir/control.sock" --state-dir "$dir/state" >"$dir/log" 2>&1 &
  PID[$key]=$!; PORT[$key]=$port; SERVER_PIDS+=("$!")
}
start_gdnsd() {  # key threads port
  local key=$1 threads=$2 port=$3 dir=$WORK/$1
  mkdir -p "$dir/zones" "$dir/geoip"
  sed -e "s|@PORT@|$port|" -e "s|@THREADS@|$threads|" -e "s|@DIR@|$dir|g" \
    "$BENCH/gdnsd/config.in" >"$dir/config"
  cp "$BENCH/gdnsd/guix.example.org" "$dir/zones/guix.example.org"
  cp "$GEOIP" "$dir/geoip/nested-city.mmdb"
  gdnsd -c "$dir" start >"$dir/log" 2>&1 &
  PID[$key]=$!; PORT[$key]=$port; SERVER_PIDS+=("$!")
}
wait_ready() {  # key
  local key=$1 i
  for i in $(seq 100); do
    if ! kill -0 "${PID[$key]}" 2>/dev/null; then
      say "$key exited at startup:"; cat "$WORK/$key/log" >&2; exit 1
    fi
    if [ -n "$(dig +short +time=1 +tries=1 @127.0.0.1 -p "${PORT[$key]}" guix.example.org SOA 2>/dev/null)" ]; then
      return 0
    fi
    sleep 0.1
  done
  say "$key does not answer on 127.0.0.1:${PORT[$key]}:"; cat "$WORK/$key/log" >&2; exit 1
}

start_geosteer gs1 1 "${PORTS[0]}"
start_gdnsd gd1 1 "${PORTS[1]}"
pairs=("gs1 gd1")
if [ "$NPROC" -gt 1 ]; then
  start_geosteer gsN "$NPROC" "${PORTS[2]}"
  start_gdnsd gdN "$NPROC" "${PORTS[3]}"
  pairs+=("gsN gdN")
fi
for key in "${!PID[@]}"; do wait_ready "$key"; done

declare -A THREADS=([gs1]=1 [gd1]=1 [gsN]=$NPROC [gdN]=$NPROC)
declare -A SERVER=([gs1]=geosteer [gsN]=geosteer [gd1]=gdnsd [gdN]=gdnsd)

# --- 3. load -----------------------------------------------------------------------------------
# ECS option (RFC 7871) as dnsperf's -E 8:HEX: family 1, source prefix, scope 0, then the
# address truncated to the prefix (130.149.7.0/24 -> 0001 18 00 829507).
ecs_hex() {
  local net=${1%/*} len=${1#*/} hex i n b
  local -a o
  IFS=. read -r -a o <<<"$net"
  n=$(((len + 7) / 8))
  hex=$(printf '0001%02x00' "$len")
  for ((i = 0; i < n; i++)); do
    b=${o[i]}
    if [ $((i + 1)) -eq "$n" ] && [ $((len % 8)) -ne 0 ]; then b=$((b & (0xff << (8 - len % 8)) & 0xff)); fi
    hex+=$(printf '%02x' "$b")
  done
  printf '%s\n' "$hex"
}

rss_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# CPU time of the whole process (every thread), user + system, in clock ticks.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
CLK_TCK=$(getconf CLK_TCK)

# test id | label | query (dnsperf data line) | ECS subnet or empty | which pairs
TESTS=(
  "www|www.guix.example.org A (CNAME, static)|www.guix.example.org A||all"
  "soa|guix.example.org SOA (static)|guix.example.org SOA||all"
  "noecs|substitutes A, no ECS (unlocated: fallback)|substitutes.guix.example.org A||gs1"
  "berlin|substitutes A, ECS 130.149.7.0/24 (Berlin)|substitutes.guix.example.org A|130.149.7.0/24|all"
  "calif|substitutes A, ECS 8.8.8.0/24 (California)|substitutes.guix.example.org A|8.8.8.0/24|gs1"
  "tokyo|substitutes A, ECS 133.11.0.0/24 (Tokyo)|substitutes.guix.example.org A|133.11.0.0/24|gs1"
)
# gdnsd only: a plain A record, to set steered answers against static ones.
STATIC_A="substitutes-static.guix.example.org A"

declare -A QPS LAT CPU LOST RC RSS ANSWER
run_one() {  # key test-id query ecs-subnet
  local key=$1 id=$2 query=$3 subnet=$4 out=$WORK/perf-$1-$2.txt
  local -a ecs=()
  [ -z "$subnet" ] || ecs=(-E "8:$(ecs_hex "$subnet")")
  printf '%s\n' "$query" >"$WORK/query-$id.txt"
  local ticks0 ticks1
  ticks0=$(cpu_ticks "${PID[$key]}")
  dnsperf -s 127.0.0.1 -p "${PORT[$key]}" -d "$WORK/query-$id.txt" -l "$SECS" -n "$MAXQ" \
    -c "$CLIENTS" -q "$OUTSTANDING" -t 2 "${ecs[@]+"${ecs[@]}"}" >"$out" 2>&1 || true
  if ! kill -0 "${PID[$key]}" 2>/dev/null; then
    say "$key died under load:"; tail -20 "$WORK/$key/log" >&2; exit 1
  fi
  ticks1=$(cpu_ticks "${PID[$key]}")
  QPS[$key,$id]=$(awk '/Queries per second:/ {printf "%.0f", $4}' "$out")
  LAT[$key,$id]=$(awk '/Average Latency \(s\):/ {printf "%.0f", $4 * 1e6}' "$out")
  LOST[$key,$id]=$(awk '/Queries lost:/ {print $3}' "$out")
  RC[$key,$id]=$(sed -n 's/^ *Response codes: *//p' "$out" | sed -E 's/ [0-9]+ \(([0-9.]+%)\)/ \1/g')
  # Server CPU per answered query: what the server spends, whoever limits the rate.
  CPU[$key,$id]=$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" '/Queries completed:/ {
    if ($3 > 0) printf "%.2f", t / hz * 1e6 / $3; else print 0 }' "$out")
  RSS[$key,$id]=$(rss_kib "${PID[$key]}" VmRSS)
  if [ -z "${QPS[$key,$id]}" ]; then say "dnsperf failed ($key $id):"; cat "$out" >&2; exit 1; fi
  local sub=()
  [ -z "$subnet" ] || sub=("+subnet=$subnet")
  # shellcheck disable=SC2086
  ANSWER[$key,$id]=$(dig +short +time=1 +tries=1 @127.0.0.1 -p "${PORT[$key]}" $query \
    "${sub[@]+"${sub[@]}"}" | tr '\n' ' ' | sed 's/ $//')
}

declare -A RSS0
for key in "${!PID[@]}"; do RSS0[$key]=$(rss_kib "${PID[$key]}" VmRSS); done

runs=0
for t in "${TESTS[@]}"; do
  IFS='|' read -r _ _ _ _ which <<<"$t"
  for pair in "${pairs[@]}"; do
    [ "$which" = all ] || [ "$which" = "${pair%% *}" ] || continue
    runs=$((runs + 2))
  done
done
runs=$((runs + 1))
say "$runs dnsperf runs of at most ${SECS}s / $MAXQ queries each (-c $CLIENTS -q $OUTSTANDING, UDP)"

flip=0
for t in "${TESTS[@]}"; do
  IFS='|' read -r id _ query subnet which <<<"$t"
  for pair in "${pairs[@]}"; do
    read -r gs gd <<<"$pair"
    [ "$which" = all ] || [ "$which" = "$gs" ] || continue
    # Alternate which server goes first so that neither always runs on a cooler machine.
    if [ $flip -eq 0 ]; then order=("$gs" "$gd"); else order=("$gd" "$gs"); fi
    flip=$((1 - flip))
    for key in "${order[@]}"; do say "  $id on ${SERVER[$key]} (${THREADS[$key]} thread(s))"; run_one "$key" "$id" "$query" "$subnet"; done
  done
done
say "  static-A on gdnsd (1 thread)"
run_one gd1 static "$STATIC_A" ""

declare -A HWM RSS1
for key in "${!PID[@]}"; do
  RSS1[$key]=$(rss_kib "${PID[$key]}" VmRSS)
  HWM[$key]=$(rss_kib "${PID[$key]}" VmHWM)
done

# --- 4. report ---------------------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else printf "n/a"}'; }
row() {  # key id
  local key=$1 id=$2 note=""
  [ "${LOST[$key,$id]}" = 0 ] || note="LOST ${LOST[$key,$id]}"
  printf '  %-26s %11s %9s us %9s us %11s  %-16s %s\n' "${SERVER[$key]} (${THREADS[$key]} thr)" \
    "${QPS[$key,$id]}" "${LAT[$key,$id]}" "${CPU[$key,$id]}" "$(mib "${RSS[$key,$id]}")" "${RC[$key,$id]}" "$note"
}

echo
echo "$("$GEOSTEER" version 2>/dev/null | head -1) vs $(sed -n 's/.*\(gdnsd version [^ ]*\).*/\1/p' "$WORK/gd1/log" | head -1)," \
  "$(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "dnsperf over UDP to 127.0.0.1: ${SECS}s or $MAXQ queries per run, $CLIENTS clients, $OUTSTANDING outstanding;" \
  "dnsperf shares the cores with the server"
echo "GeoIP: the same fixture database for both ($(basename "$GEOIP")). CPU/query: the server's user+system CPU time"
echo "during the run / queries answered. RSS: the server's VmRSS right after the run."
echo
printf '  %-26s %11s %12s %12s %11s  %s\n' "server" "queries/s" "avg latency" "CPU/query" "RSS" "response codes"
for t in "${TESTS[@]}"; do
  IFS='|' read -r id label _ _ which <<<"$t"
  echo "$label"
  for pair in "${pairs[@]}"; do
    read -r gs gd <<<"$pair"
    [ "$which" = all ] || [ "$which" = "$gs" ] || continue
    row "$gs" "$id"
    row "$gd" "$id"
    printf '  %-26s %11s %12s %12s %11s\n' "ratio geosteer/gdnsd" \
      "$(ratio "${QPS[$gs,$id]}" "${QPS[$gd,$id]}")" "$(ratio "${LAT[$gs,$id]}" "${LAT[$gd,$id]}")" \
      "$(ratio "${CPU[$gs,$id]}" "${CPU[$gd,$id]}")" "$(ratio "${RSS[$gs,$id]}" "${RSS[$gd,$id]}")"
  done
done
echo "substitutes-static A (gdnsd only, a plain A record)"
row gd1 static
echo "  ratio, steered (ECS Berlin) / gdnsd static A, 1 thread each:"
printf '  %-26s %11s %12s %12s\n' "  geosteer steered" \
  "$(ratio "${QPS[gs1,berlin]}" "${QPS[gd1,static]}")" "$(ratio "${LAT[gs1,berlin]}" "${LAT[gd1,static]}")" \
  "$(ratio "${CPU[gs1,berlin]}" "${CPU[gd1,static]}")"
printf '  %-26s %11s %12s %12s\n' "  gdnsd steered" \
  "$(ratio "${QPS[gd1,berlin]}" "${QPS[gd1,static]}")" "$(ratio "${LAT[gd1,berlin]}" "${LAT[gd1,static]}")" \
  "$(ratio "${CPU[gd1,berlin]}" "${CPU[gd1,static]}")"

echo
echo "Answers (dig after each run; geosteer answers 2 mirrors, gdnsd's geoip plugin 1 datacenter)"
for t in "${TESTS[@]}"; do
  IFS='|' read -r id label _ _ which <<<"$t"
  case $id in www | soa) continue ;; esac
  printf '  %-44s geosteer: %-28s gdnsd: %s\n' "$label" "${ANSWER[gs1,$id]}" "${ANSWER[gd1,$id]:-(not run)}"
done

echo
echo "Memory (kernel's VmRSS / peak VmHWM of the server process)"
printf '  %-26s %12s %12s %12s\n' "server" "RSS idle" "RSS after" "peak RSS"
for pair in "${pairs[@]}"; do
  read -r gs gd <<<"$pair"
  for key in "$gs" "$gd"; do
    printf '  %-26s %12s %12s %12s\n' "${SERVER[$key]} (${THREADS[$key]} thr)" \
      "$(mib "${RSS0[$key]}")" "$(mib "${RSS1[$key]}")" "$(mib "${HWM[$key]}")"
  done
  printf '  %-26s %12s %12s %12s\n' "ratio geosteer/gdnsd" "$(ratio "${RSS0[$gs]}" "${RSS0[$gd]}")" \
    "$(ratio "${RSS1[$gs]}" "${RSS1[$gd]}")" "$(ratio "${HWM[$gs]}" "${HWM[$gd]}")"
done
echo
echo "queries/s ratio > 1: geosteer is faster; latency, CPU/query and RSS ratio < 1: geosteer is lower."
exit 0
