#!/usr/bin/env bash
# The operator files in deploy/prometheus/ and deploy/grafana/ against promtool and
# a running geosteer:
#   1. promtool check rules, test rules (alerts_test.yml) and check config;
#   2. every alert of alerts.yml has unit tests in alerts_test.yml;
#   3. every expression of the Grafana dashboard parses (as a rule, through promtool,
#      its template variables replaced);
#   4. a geosteer server, in a network namespace of this test with fake mirrors on
#      127.0.0.2 (answering, with a fresh trace) and 127.0.0.3 (refusing), probed and
#      queried until its labelled families have samples; then every metric name that
#      alerts.yml and geosteer.json use must be in its /metrics (as a # TYPE line or
#      samples; _bucket, _sum and _count of a histogram count as its own), and the
#      labels their selectors match on must be labels of those samples.
# Every check runs; the test fails at the end naming each one that failed.
#
# Usage (as root): prometheus_test.sh GEOSTEER_BINARY SOURCE_DIR FIXTURE_DIR
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 GEOSTEER_BINARY SOURCE_DIR FIXTURE_DIR" >&2
  exit 2
fi
geosteer=$(realpath "$1") source=$(realpath "$2") fixtures=$(realpath "$3")
alerts="$source/deploy/prometheus/alerts.yml"
alerts_test="$source/deploy/prometheus/alerts_test.yml"
prom_config="$source/deploy/prometheus/prometheus.yml"
dashboard="$source/deploy/grafana/geosteer.json"

fail() { echo "FAIL: $*" >&2; exit 1; }
failures=()
check_failed() { echo "FAIL: $*" >&2; failures+=("$*"); }
ok() { echo "ok: $*"; }

command -v promtool >/dev/null 2>&1 ||
  fail "promtool is missing: tools/install-deps.sh installs it (Debian package prometheus)"
command -v python3 >/dev/null 2>&1 || fail "python3 is missing (tools/install-deps.sh installs it)"
for f in "$alerts" "$alerts_test" "$prom_config" "$dashboard"; do
  [ -f "$f" ] || fail "missing $f"
done
[ "$(id -u)" -eq 0 ] || fail "this test makes a network namespace and must run as root"
for tool in curl dig ip; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (tools/install-deps.sh installs it)"
done

work=$(mktemp -d /tmp/geosteer-prometheus-XXXXXX)
netns="gsprom$$"
cleanup() {
  local status=$?
  if [ $status -ne 0 ] && [ -f "$work/geosteer.log" ]; then
    echo "--- geosteer.log (last 30 lines)" >&2
    tail -n 30 "$work/geosteer.log" >&2
  fi
  # Only what runs in this test's own namespace: geosteer and the fake mirror.
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

# ---------------------------------------------------------------- promtool
if promtool check rules "$alerts" >"$work/out" 2>&1; then ok "promtool check rules alerts.yml"
else cat "$work/out" >&2; check_failed "promtool check rules deploy/prometheus/alerts.yml"; fi
# test rules reads rule_files relative to the test file.
if promtool test rules "$alerts_test" >"$work/out" 2>&1; then ok "promtool test rules alerts_test.yml"
else cat "$work/out" >&2; check_failed "promtool test rules deploy/prometheus/alerts_test.yml"; fi
if promtool check config "$prom_config" >"$work/out" 2>&1; then ok "promtool check config prometheus.yml"
else cat "$work/out" >&2; check_failed "promtool check config deploy/prometheus/prometheus.yml"; fi

# Every alert has unit tests.
untested=$(comm -23 \
  <(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' "$alerts" | sort -u) \
  <(sed -n 's/^ *alertname: *\([A-Za-z0-9_]*\).*/\1/p' "$alerts_test" | sort -u))
if [ -z "$untested" ]; then ok "every alert of alerts.yml has unit tests"
else check_failed "alerts without a test in alerts_test.yml: $(tr "\n" " " <<<"$untested")"; fi

# ---------------------------------------------------------------- the expressions
# One Python program for the files' expressions: `rules` writes the dashboard's
# expressions as recording rules for promtool, `check` compares the metric names
# and labels used in both files with a /metrics exposition.
cat >"$work/metric_names.py" <<'PYEOF'
import json, re, sys

def yaml_exprs(path):
    """The `expr:` values of a rules file (inline or block scalars), the names it
    records, and its non-comment text; no YAML library needed for the rules style."""
    lines = open(path, encoding="utf-8").read().split("\n")
    exprs, records, i = [], set(), 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(\s*)(?:-\s+)?(expr|record):\s*(.*)$", line)
        if not m:
            i += 1
            continue
        indent, key, rest = len(m.group(1)), m.group(2), m.group(3).strip()
        i += 1
        if rest[:1] in ("|", ">"):
            block = []
            while i < len(lines) and (not lines[i].strip() or
                                      len(lines[i]) - len(lines[i].lstrip()) > indent):
                block.append(lines[i])
                i += 1
            value = "\n".join(block)
        elif rest[:1] in ("'", '"'):
            q = rest[0]
            value = rest[1:rest.rindex(q)]
            value = value.replace("''", "'") if q == "'" else value.replace('\\"', '"')
        else:
            value = rest
        if key == "expr":
            exprs.append(value)
        else:
            records.add(value)
    text = "\n".join(l for l in lines if not l.lstrip().startswith("#"))
    count = sum(1 for l in lines if re.match(r"^\s*(-\s+)?expr:", l))
    if count != len(exprs):
        sys.exit(f"{path}: read {len(exprs)} of {count} expressions")
    return exprs, records, text

def dashboard_exprs(path):
    """Every target expression and query variable of a Grafana dashboard."""
    doc = json.load(open(path, encoding="utf-8"))
    exprs = []
    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                exprs.append(node["expr"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(doc.get("panels", []))
    for var in doc.get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query", "")
        m = re.match(r"^\s*(label_values|query_result)\s*\((.*)\)\s*$", query or "", re.S)
        if not m:
            continue
        if m.group(1) == "query_result":
            exprs.append(m.group(2))
        elif "," in m.group(2):  # label_values(selector, label); not label_values(label)
            exprs.append(m.group(2).rsplit(",", 1)[0])
    return exprs, json.dumps(doc)

def grafana_to_promql(expr):
    expr = re.sub(r"\[\s*\$\{?__\w+\}?\s*\]", "[5m]", expr)
    return re.sub(r"\$\{[^}]*\}|\$\w+", ".*", expr)

STRING = r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`'
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan", "atan2"}

def used(expr):
    """(metric name, label names of its selector) for every selector of `expr`."""
    s = re.sub(STRING, '""', expr)
    s = re.sub(r"#[^\n]*", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)                     # ranges and subqueries
    s = re.sub(r"\boffset\s+-?\w+|@\s*[\w.()]+", " ", s)
    found = []
    def selector(m):
        labels = set(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", m.group(2)))
        if m.group(1):
            found.append((m.group(1), labels))
        return " "
    s = re.sub(r"(?<![\w:])([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}", selector, s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    for m in re.finditer(r"(?<![\w:.])([A-Za-z_:][\w:]*)(\s*\()?", s):
        if m.group(2) or m.group(1).lower() in KEYWORDS:
            continue
        found.append((m.group(1), set()))
    return found

def exposition(path):
    types, samples = {}, {}
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r"^# TYPE (\S+) (\S+)", line)
        if m:
            types[m.group(1)] = m.group(2)
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z_:][\w:]*)(\{(.*)\})?\s", line)
        if m:
            labels = set(re.findall(r'([A-Za-z_]\w*)="(?:\\.|[^"\\])*"', m.group(3) or ""))
            samples.setdefault(m.group(1), set()).update(labels)
    return types, samples

def family_of(name, types):
    for suffix, kinds in (("_bucket", ("histogram",)), ("_sum", ("histogram", "summary")),
                          ("_count", ("histogram", "summary"))):
        if name.endswith(suffix) and types.get(name[: -len(suffix)]) in kinds:
            return name[: -len(suffix)]
    return name

def main():
    if sys.argv[1] == "rules":  # dashboard.json -> a rules file for promtool check rules
        exprs, _ = dashboard_exprs(sys.argv[2])
        print("groups:\n  - name: dashboard\n    rules:")
        for n, expr in enumerate(exprs):
            print(f"      - record: dashboard:expr_{n}")
            print(f"        expr: {json.dumps(grafana_to_promql(expr))}")
        return
    _, alerts_path, dashboard_path, metrics_path = sys.argv[1:]
    types, samples = exposition(metrics_path)
    alert_exprs, records, alert_text = yaml_exprs(alerts_path)
    board_exprs, board_text = dashboard_exprs(dashboard_path)
    # Prometheus adds these at scrape time; they are never in the exposition.
    target_labels = {"job", "instance", "__name__"}
    problems, names = [], set()
    for where, exprs, text, recorded in (("alerts.yml", alert_exprs, alert_text, records),
                                         ("geosteer.json", board_exprs, board_text, set())):
        uses = [u for e in exprs for u in used(grafana_to_promql(e))]
        # Names in annotations' template queries and in descriptions count too.
        uses += [(n, set()) for n in re.findall(r"\bgeosteer_[a-z0-9_]+", text)]
        for name, labels in uses:
            if name in recorded:
                continue
            names.add(name)
            if name not in samples and name not in types and family_of(name, types) == name:
                problems.append(f"{where}: {name} is not in /metrics")
                continue
            missing = labels - target_labels - samples.get(name, set())
            if missing and name not in samples:
                problems.append(f"{where}: {name} has no samples to check its labels "
                                f"{', '.join(sorted(missing))} against")
            elif missing:
                problems.append(f"{where}: {name} has no label {', '.join(sorted(missing))} "
                                f"(its labels: {', '.join(sorted(samples[name])) or 'none'})")
    for p in sorted(set(problems)):
        print(p)
    print(f"{len(names)} metric names checked", file=sys.stderr)
    sys.exit(1 if problems else 0)

main()
PYEOF

if python3 "$work/metric_names.py" rules "$dashboard" >"$work/dashboard_rules.yml" 2>"$work/out" &&
   promtool check rules "$work/dashboard_rules.yml" >>"$work/out" 2>&1; then
  ok "every expression of geosteer.json parses ($(grep -c 'record:' "$work/dashboard_rules.yml"))"
else
  cat "$work/out" >&2
  check_failed "deploy/grafana/geosteer.json has expressions promtool cannot parse"
fi

# ---------------------------------------------------------------- a running geosteer
ip netns add "$netns"
ip -n "$netns" link set lo up
in_ns() { ip netns exec "$netns" "$@"; }

# The fake mirror: liveness and a fresh trace, so that freshness gauges and the
# latency histogram have samples. 127.0.0.3 refuses: a mirror down, a transition.
mkdir -p "$work/mirror/trace"
printf 'StoreDir: /gnu/store\nWantMassQuery: 1\nPriority: 40\n' >"$work/mirror/nix-cache-info"
date -u +%s >"$work/mirror/trace/last-sync"
in_ns python3 -m http.server --bind 127.0.0.2 --directory "$work/mirror" 80 \
  >"$work/mirror.log" 2>&1 &

for db in flat-ipv4.mmdb flat-ipv6.mmdb; do
  [ -f "$fixtures/$db" ] || fail "missing $fixtures/$db (built with the tests: mmdb_fixtures)"
done
# metrics.listen: the README's and deploy/examples/local-mirrors.yaml's key.
cat >"$work/geosteer.yaml" <<EOF
server: {listen: ["127.0.0.1:53"], identity: prometheus-test, threads: 1}
metrics: {listen: "127.0.0.1:9153"}
geoip: {databases: ["$fixtures/flat-ipv4.mmdb", "$fixtures/flat-ipv6.mmdb"]}
healthcheck:
  interval: 1s
  jitter: 0.1
  timeout: 1s
  rise: 1
  fall: 1
  initial: down
  liveness: {path: nix-cache-info, expect_status: 200, expect_body: "StoreDir:"}
  freshness: {method: trace, path: trace/last-sync, max_lag: 1h}
zones:
  - origin: guix.example.org.
    soa: {mname: ns1.guix.example.org., rname: hostmaster.guix.example.org.}
    ns: [ns1.guix.example.org.]
    records: ["ns1 IN A 127.0.0.1"]
    services:
      - {name: substitutes, mirrors: [berlin, tokyo], answers: 2, ttl: 60, fallback: [berlin]}
mirrors:
  - {id: berlin, url: "http://127.0.0.2/", ipv4: [127.0.0.2], location: {lat: 52.52, lon: 13.40}}
  - {id: tokyo,  url: "http://127.0.0.3/", ipv4: [127.0.0.3], location: {lat: 35.68, lon: 139.69}}
# Anycast, so that geosteer_anycast_announced is exposed; no BIRD answers here, so
# the node stays withdrawn (and says why in its log).
anycast: {prefixes: ["127.0.0.1/32"], bird_socket: "$work/no-bird.ctl", protocol: geosteer_anycast}
EOF
in_ns "$geosteer" serve -c "$work/geosteer.yaml" --control-socket "$work/control.sock" --state-dir "$work/state" >"$work/geosteer.log" 2>&1 &
geosteer_pid=$!

scrape() { in_ns curl -sf --max-time 2 http://127.0.0.1:9153/metrics >"$work/metrics.txt"; }
# Families (by # TYPE) without a sample yet.
empty_families() {
  awk '/^# TYPE /{ family[$3] = 1; next }
       /^[^#]/ { name = $1; sub(/\{.*/, "", name); seen[name] = 1 }
       END { for (f in family) if (!seen[f] && !seen[f "_count"]) print f }' "$work/metrics.txt" | sort
}
deadline=$((SECONDS + 20))
until scrape; do
  if ! kill -0 "$geosteer_pid" 2>/dev/null; then
    status=0; wait "$geosteer_pid" || status=$?
    fail "geosteer exited with status $status at start (log below)"
  fi
  [ $SECONDS -lt $deadline ] || fail "no /metrics on 127.0.0.1:9153 within 20 s"
  sleep 0.2
done
# Queries for the query families: steered with ECS, NXDOMAIN, over TCP.
in_ns dig +tries=1 +time=2 @127.0.0.1 substitutes.guix.example.org A +subnet=130.149.7.0/24 >/dev/null ||
  fail "no answer to a DNS query"
in_ns dig +tries=1 +time=2 @127.0.0.1 nothing.guix.example.org AAAA >/dev/null || true
in_ns dig +tries=1 +time=2 +tcp @127.0.0.1 guix.example.org SOA >/dev/null || true
while scrape && [ -n "$(empty_families)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
scrape || fail "/metrics stopped answering"
if [ -n "$(empty_families)" ]; then
  echo "note: families still without samples: $(empty_families | tr '\n' ' ')" >&2
else
  ok "every metric family of the running server has samples"
fi

if python3 "$work/metric_names.py" check "$alerts" "$dashboard" "$work/metrics.txt" >"$work/out" 2>&1; then
  ok "alerts.yml and geosteer.json use only metrics and labels of /metrics ($(tail -n 1 "$work/out"))"
else
  cat "$work/out" >&2
  check_failed "alerts.yml or geosteer.json use metrics or labels that /metrics lacks"
fi

if [ ${#failures[@]} -ne 0 ]; then
  echo "FAILED: ${#failures[@]} check(s):" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "PASS"
