#!/usr/bin/env bash
# Stops, starts or shows a mirror of the live demo (tools/demo.sh) while it runs,
# to watch geosteer take it out of the answers and bring it back.
#
# Usage: tools/demo-mirror.sh stop|start NAME
#        tools/demo-mirror.sh status [NAME]
#        tools/demo-mirror.sh reload
#   stop NAME    stops the mirror's nginx (every address of it): its probes fail
#   start NAME   starts it again with the arguments the demo gave it, and its cache
#   status       whether each mirror runs, and geosteer's verdict on it
#   reload       after an edit of the configuration the demo serves: checks it (its
#                mirrors on loopback, then geosteer check), starts the local mirrors
#                of new or changed entries, and sends SIGHUP to geosteer
# The demo keeps its state in GEOSTEER_DEMO_DIR (default /tmp/geosteer-demo-UID).
set -euo pipefail
# shellcheck source=tools/demo-common.sh
. "$(dirname "$0")/demo-common.sh"

usage() {
  sed -n 's/^# \{0,1\}//; /^Usage:/,/^The demo keeps/p' "$0" >&2
  exit 2
}
[ $# -ge 1 ] || usage
command=$1 name=${2:-}
case $command in
  stop|start) [ $# -eq 2 ] || usage ;;
  status) [ $# -le 2 ] || usage ;;
  reload) [ $# -eq 1 ] || usage ;;
  -h|--help) usage ;;
  *) echo "demo-mirror.sh: unknown command '$command'" >&2; usage ;;
esac

demo_running >/dev/null ||
  demo_die "no live demo runs (no running tools/demo.sh recorded in $demo_state); start one with tools/demo.sh"

if [ -n "$name" ] && ! demo_mirror_names | grep -qxF -- "$name"; then
  demo_die "unknown mirror '$name'; the demo's mirrors are: $(demo_mirror_list)"
fi

status() {
  local view mirror n address state probed reason
  view=$(demo_geosteer_view 2>/dev/null) || view=""
  for mirror in $(demo_mirror_names); do
    [ -z "$name" ] || [ "$mirror" = "$name" ] || continue
    while read -r n address rest; do
      read -r _ _ state probed reason < <(awk -v n="$n" -v a="${address%:*}" \
        '$1 == n && $2 == a' <<<"$view") || true
      [ "${reason:-}" != "-" ] || reason=""
      if [ -z "${state:-}" ]; then
        echo "$n $address $rest; geosteer: no answer from http://$demo_metrics/status.json"
      elif [ "$probed" = probed ]; then
        echo "$n $address $rest; geosteer: $state${reason:+ ($reason)}"
      else
        echo "$n $address $rest; geosteer: not probed yet"
      fi
      state=""
    done < <(demo_mirror_state "$mirror")
  done
}

case $command in
  stop)
    demo_stop_mirror "$name"
    demo_mirror_state "$name"
    ;;
  start)
    demo_start_mirror "$name"
    demo_mirror_state "$name"
    ;;
  status)
    status
    ;;
  reload)
    config=$(cat "$demo_state/config")
    binary=$(cat "$demo_state/binary")
    table=$(demo_mirror_table "$config") || demo_die "$config not reloaded"
    cd "$demo_root"   # the configuration's relative paths are from the repository root
    "$binary" check --log-level warning -c "$config" || demo_die "$config not reloaded"
    # Mirrors gone from the file, or whose addresses changed, are stopped; new and
    # changed ones are started.
    old=$(cat "$demo_state/mirrors.txt")
    for mirror in $(demo_mirror_names); do
      [ "$(awk -v n="$mirror" '$1 == n' <<<"$old")" = "$(awk -v n="$mirror" '$1 == n' <<<"$table")" ] ||
        demo_stop_mirror "$mirror"
    done
    echo "$table" >"$demo_state/mirrors.txt"
    # shellcheck disable=SC2046  # one word per name
    demo_start_mirror $(demo_mirror_names)
    pid=$(demo_pid "$demo_state/geosteer.pid")
    demo_alive "$pid" "$(demo_geosteer_word)" || demo_die "geosteer does not run"
    kill -HUP "$pid"
    echo "sent SIGHUP to geosteer (pid $pid); its log, in the demo's terminal, says when the new configuration serves"
    ;;
esac
