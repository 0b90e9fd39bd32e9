# shellcheck shell=bash
# shellcheck disable=SC2034  # its variables are used by the scripts that source it
# Sourced by tools/demo.sh and tools/demo-mirror.sh: where the live demo keeps its
# state, how it reads its mirrors from the configuration, and how it starts and
# stops them. Not a command.
#
# The state directory (GEOSTEER_DEMO_DIR, default /tmp/geosteer-demo-UID) holds,
# while a live demo runs:
#   demo.pid            tools/demo.sh's pid: a demo runs while it is alive
#   config, binary      the configuration served (absolute path) and the geosteer binary
#   mirrors.txt         one line per mirror address: NAME ADDRESS PORT, read from config
#   mirrors/NAME@ADDR/  one nginx mirror (tools/local-mirror.sh): its process.pid,
#                       output.log, and nginx's own files (cache, access.log, error.log)
#   store/              the stand-in upstream's files (substitute-upstream.py generate)
#   upstream.pid, upstream.log, geosteer.pid, geosteer.log
#   control.sock, state/  geosteer's control socket (geosteer ctl -s) and state_dir
# tools/demo.sh removes it when it stops.

demo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
demo_state=${GEOSTEER_DEMO_DIR:-/tmp/geosteer-demo-$(id -u)}
# Fixed by the demo network (deploy/examples/local-mirrors.yaml says so).
demo_upstream=127.0.0.10:8080
demo_dns_port=5353
demo_metrics=127.0.0.1:9153

demo_die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# True when PID is a live process (not a zombie) whose command line contains WORD:
# a pid file never makes us signal a process that merely reused the pid. A process
# in the middle of an exec (the python3 shim of pyenv, local-mirror.sh becoming
# nginx) shows an empty command line for a moment: that is read again.
demo_alive() {  # pid word
  local pid=$1 word=$2 state cmdline _
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] || return 1
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [ -z "$cmdline" ] || break
    sleep 0.05
  done
  [[ $cmdline == *"$word"* ]]
}

demo_pid() {  # pid-file: its pid, or nothing
  cat "$1" 2>/dev/null || true
}

# Stops processes, all at once: each gets SIGTERM (or its SIGNAL), and SIGKILL if
# it still runs 5 s later. Works for processes that are not our children. Each
# argument is "PID|WORD[|SIGNAL]", WORD as for demo_alive.
demo_kill() {  # pid|word[|signal]...
  local entry pid word signal left=() _
  for entry in "$@"; do
    IFS='|' read -r pid word signal <<<"$entry"
    demo_alive "$pid" "$word" || continue
    kill -"${signal:-TERM}" "$pid" 2>/dev/null || true
    left+=("$pid|$word")
  done
  for _ in $(seq 50); do
    [ ${#left[@]} -gt 0 ] || return 0
    local still=()
    for entry in "${left[@]}"; do
      IFS='|' read -r pid word <<<"$entry"
      demo_alive "$pid" "$word" && still+=("$entry")
    done
    left=("${still[@]+"${still[@]}"}")
    [ ${#left[@]} -gt 0 ] || return 0
    sleep 0.1
  done
  for entry in "${left[@]}"; do
    kill -KILL "${entry%%|*}" 2>/dev/null || true
  done
}

# What geosteer's command line holds while it serves the demo's configuration.
demo_geosteer_word() {
  echo " serve -c $(cat "$demo_state/config" 2>/dev/null)"
}

# The pid of the running live demo, or failure.
demo_running() {
  local pid
  pid=$(demo_pid "$demo_state/demo.pid")
  demo_alive "$pid" demo.sh && echo "$pid"
}

# Prints one line per mirror address of CONFIG: NAME ADDRESS PORT. Fails, naming
# the entry, when a mirror is written in a form it cannot read, or when an address
# (or the url, or a freshness upstream) is not on loopback: the demo starts a
# local mirror for every address, and geosteer probes every one of them.
# It reads the usual forms of deploy/examples/*.yaml: entries of the top-level
# `mirrors:` list, in flow style on one or more lines, or in block style, with
# `ipv4: [...]` and `ipv6: [...]` as flow lists.
demo_mirror_table() {  # config
  awk -v upstream="$demo_upstream" '
    function fail(message) { print FILENAME ": " message > "/dev/stderr"; bad = 1 }
    function unquote(s) { gsub(/^[[:space:]"\047]+|[[:space:]"\047]+$/, "", s); return s }
    function loopback(a) { return a ~ /^127\.[0-9]+\.[0-9]+\.[0-9]+$/ || a == "::1" }
    # The value of KEY in TEXT (a scalar up to , } or a space), or "".
    function value(text, key,   v) {
      if (!match(text, "[[:space:]{,]" key ":[[:space:]]*[^,}[:space:]]+")) return ""
      v = substr(text, RSTART, RLENGTH)
      sub("^[[:space:]{,]" key ":[[:space:]]*", "", v)
      return unquote(v)
    }
    # "http://HOST[:PORT]/..." -> sets url_host and url_port; false if not http.
    function parse_url(url,   rest) {
      if (url !~ /^http:\/\//) return 0
      rest = substr(url, 8); sub(/\/.*/, "", rest)
      url_port = 80
      if (rest ~ /^\[/) {
        url_host = rest; sub(/^\[/, "", url_host); sub(/\].*/, "", url_host)
        if (rest ~ /\]:[0-9]+$/) { url_port = rest; sub(/.*\]:/, "", url_port) }
      } else {
        url_host = rest; sub(/:.*/, "", url_host)
        if (rest ~ /:[0-9]+$/) { url_port = rest; sub(/.*:/, "", url_port) }
      }
      return 1
    }
    function entry_done(   e, id, url, family, list, n, i, items, a, count, listed, key) {
      if (entry == "") return
      e = " " entry; entry = ""
      id = value(e, "id")
      if (id == "") { fail("a mirror without an id: " e); return }
      url = value(e, "url")
      if (!parse_url(url)) { fail("mirror " id ": the demo runs plain http mirrors; url " url); return }
      if (!loopback(url_host)) {
        fail("mirror " id ": url " url " is not on loopback (127.0.0.0/8 or [::1])")
        return
      }
      count = 0; listed = 0
      for (family = 4; family <= 6; family += 2) {
        key = "ipv" family
        if (e !~ "[[:space:]{,]" key ":") continue
        if (!match(e, "[[:space:]{,]" key ":[[:space:]]*\\[[^]]*\\]")) {
          fail("mirror " id ": write " key " as a list in brackets, [a, b]"); return
        }
        list = substr(e, RSTART, RLENGTH); sub(/^[^[]*\[/, "", list); sub(/\]$/, "", list)
        n = split(list, items, ",")
        for (i = 1; i <= n; i++) {
          a = unquote(items[i])
          if (a == "") continue
          listed++
          if (!loopback(a)) { fail("mirror " id ": address " a " is not on loopback"); continue }
          if ((a ":" url_port) in taken) {
            fail("mirror " id ": " a " port " url_port " is taken by " taken[a ":" url_port]); continue
          }
          taken[a ":" url_port] = id
          print id, a, url_port
          count++
        }
      }
      if (listed == 0) fail("mirror " id ": no ipv4 or ipv6 address")
      mirrors++
    }
    BEGIN { taken[upstream] = "the upstream" }
    { sub(/[[:space:]]+#.*$/, "") }                 # comments (after a space, as in YAML)
    /^[[:space:]]*(#.*)?$/ { next }
    # A freshness upstream anywhere in the file is probed too.
    /(^|[[:space:]{,])upstream:/ {
      u = value(" " $0, "upstream")
      if (!parse_url(u) || !loopback(url_host)) fail("upstream " u ": not an http URL with a loopback address")
    }
    /^[^[:space:]-]/ {                             # a top-level key
      entry_done()
      in_mirrors = ($0 ~ /^mirrors:/)
      if (in_mirrors && $0 !~ /^mirrors:[[:space:]]*$/) fail("write mirrors: as a list, one entry per item")
      next
    }
    in_mirrors && /^[[:space:]]*-/ { entry_done(); entry = $0; next }
    in_mirrors { entry = entry " " $0 }
    END {
      entry_done()
      if (mirrors == 0 && !bad) fail("no mirror found")
      exit bad
    }
  ' "$1"
}

# The mirrors' names, in configuration order, one a line.
demo_mirror_names() {
  awk '!seen[$1]++ { print $1 }' "$demo_state/mirrors.txt"
}

# The same on one line: "berlin tokyo us-west".
demo_mirror_list() {
  demo_mirror_names | paste -sd ' ' -
}

demo_mirror_dir() {  # name address
  echo "$demo_state/mirrors/$1@${2//:/_}"
}

# Starts the local mirror of each address of each NAME (unless it runs), all at
# once, and waits until each answers HTTP. Fails with nginx's last errors when one
# does not.
demo_start_mirror() {  # name...
  local n address port dir pid url started=() entry log _
  while read -r n address port; do
    printf '%s\n' "$@" | grep -qxF -- "$n" || continue
    dir=$(demo_mirror_dir "$n" "$address")
    if demo_alive "$(demo_pid "$dir/process.pid")" "$dir/"; then
      continue
    fi
    mkdir -p "$dir"
    # Its own session: a Ctrl-C or a closed terminal where `demo-mirror.sh start`
    # ran does not reach it; the demo stops it by its pid. local-mirror.sh execs
    # nginx, so $! is nginx.
    setsid "$demo_root/tools/local-mirror.sh" "$n" "$address" "$port" "$demo_upstream" "$dir" \
      </dev/null >>"$dir/output.log" 2>&1 &
    echo $! >"$dir/process.pid"
    started+=("$n $address $port $dir")
  done <"$demo_state/mirrors.txt"
  for entry in "${started[@]}"; do
    read -r n address port dir <<<"$entry"
    pid=$(demo_pid "$dir/process.pid")
    url="http://$address:$port/nix-cache-info"
    [[ $address == *:* ]] && url="http://[$address]:$port/nix-cache-info"
    for _ in $(seq 100); do
      curl -gs -o /dev/null --max-time 1 "$url" && continue 2
      demo_alive "$pid" "$dir/" || break
      sleep 0.1
    done
    if demo_alive "$pid" "$dir/"; then
      echo "mirror $n does not answer on $address:$port after 10 s" >&2
    else
      echo "mirror $n did not start on $address:$port:" >&2
    fi
    for log in "$dir/output.log" "$dir/error.log"; do
      [ -s "$log" ] && tail -n 5 "$log" | sed "s|^|    ${log##*/}: |" >&2
    done
    return 1
  done
}

demo_stop_mirror() {  # name
  local dir targets=()
  for dir in "$demo_state/mirrors/$1"@*; do
    [ -e "$dir/process.pid" ] && targets+=("$(demo_pid "$dir/process.pid")|$dir/")
  done
  demo_kill "${targets[@]+"${targets[@]}"}"
  rm -f "$demo_state/mirrors/$1"@*/process.pid
}

# One line per address: NAME ADDRESS:PORT running (pid N) | stopped.
demo_mirror_state() {  # name
  local n address port dir pid
  while read -r n address port; do
    [ "$n" = "$1" ] || continue
    dir=$(demo_mirror_dir "$n" "$address")
    pid=$(demo_pid "$dir/process.pid")
    if demo_alive "$pid" "$dir/"; then
      echo "$n $address:$port running (pid $pid)"
    else
      echo "$n $address:$port stopped"
    fi
  done <"$demo_state/mirrors.txt"
}

# geosteer's view from /metrics, one line per address: NAME ADDRESS up|down
# probed|not-probed. No Python: the demo polls it.
demo_geosteer_up() {
  curl -sf --max-time 2 "http://$demo_metrics/metrics" | awk '
    function label(line, key,   v) {
      if (!match(line, key "=\"[^\"]*\"")) return ""
      v = substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 3)
      return v
    }
    /^geosteer_mirror_probes_total\{/ { probes[label($0, "mirror")] += $NF }
    /^geosteer_mirror_address_up\{/ {
      n++; mirror[n] = label($0, "mirror"); address[n] = label($0, "address"); up[n] = $NF
    }
    END {
      for (i = 1; i <= n; i++)
        print mirror[i], address[i], (up[i] == 1 ? "up" : "down"),
              (probes[mirror[i]] > 0 ? "probed" : "not-probed")
    }'
}

# geosteer's view from /status.json, one line per address: NAME ADDRESS STATE
# PROBED|NOT-PROBED REASON.
demo_geosteer_view() {
  curl -sf --max-time 2 "http://$demo_metrics/status.json" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["mirrors"]:
    for a in m["addresses"]:
        print(m["id"], a["address"], a["state"], "probed" if m["probed"] else "not-probed",
              a["reason"] or "-")'
}
