#!/bin/sh
# tests/bench/prometheus_bench.sh [BUILD_DIR]: the prometheus plugin's
# overhead (make bench; not part of the test command). Prometheus
# (GOMAXPROCS=1) holds Q1's data, the example plugin's 12 series at 15 s,
# backfilled with promtool; pvm-fcgi (1 worker) with one prometheus
# instance pointing at it, behind nginx (1 worker). Prometheus, pvm-fcgi
# and nginx share CPU 0, wrk runs on CPU 1 (taskset). For each query, the
# same request straight to Prometheus and through pvm (which asks
# Prometheus for the raw samples and evaluates itself): req/s, p50 and p99
# latency, CPU ms per request of Prometheus, pvm-fcgi and nginx. Queries:
#   Q1   the 12 series over 1 h at step 15 s (241 points each)
#   Q1r  sum by (type) (rate(...[65s])) over the same hour (65 s: off
#        the sample grid, so that 2.x's closed and 3.x's left-open windows
#        hold the same samples)
#   Q3   the 12 series at one instant
# and what pvm asks Prometheus for Q1 (the raw samples of its window),
# without and with gzip (pvm's HTTP client accepts it).
# Writes BUILD_DIR/bench/prometheus.md and prints it. Environment:
# BENCH_SECONDS (5) per run, BENCH_CONNS (8) wrk connections.
set -u
. "$(dirname "$0")/lib.sh"
pvm_bench_setup "${1:-.}" 8 || exit 1
METRIC=prometheus_virtual_metrics_example_metric
pvm_bench_begin prometheus_bench.sh 0 wrk taskset curl prometheus promtool
pvm_bench_need_built "$PVM"

# ---- Prometheus with 3 h of the 12 series, ending on a past hour -------
NOW=$(date +%s)
END=$((NOW - NOW % 3600 - 3600))
START_DATA=$((END - 10800))
{
    awk -v s="$START_DATA" -v e="$END" -v m="$METRIC" \
        -f "$top_srcdir/tests/lib/example_om.awk"
    echo "# EOF"
} >"$TMP/data.om"
pvm_bench_prometheus "$TMP/data.om" "$TMP/prom" \
    --web.console.templates="$TMP" --web.console.libraries="$TMP" || exit 1

# ---- pvm-fcgi + nginx, pinned --------------------------------------------
mkdir -p "$TMP/pvm"
FPORT=$(pvm_free_port) || exit 1
NPORT=$(pvm_free_port) || exit 1
cat >"$TMP/pvm/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$FPORT
workers = 1
access_log = off

[plugin:upstream]
type = prometheus
url = http://127.0.0.1:$PROM_PORT
EOF
taskset -c "$CPU_SERVER" "$PVM" --config "$TMP/pvm/pvm.ini" </dev/null \
    >"$TMP/pvm/pvm.log" 2>&1 &
PVM_PID=$!
PIDS="$PIDS $PVM_PID"
pvm_wait_port "$FPORT" 10 "$PVM_PID" || exit 1
pvm_nginx_conf "$TMP/pvm" "$NPORT" "127.0.0.1:$FPORT" || exit 1
sed -i -e 's/worker_processes [0-9]*;/worker_processes 1;/' \
    -e 's|access_log .*;|access_log off;|' "$TMP/pvm/nginx.conf"
pvm_nginx_start "$TMP/pvm" 10 || exit 1
NGINX_DIRS="$NGINX_DIRS $TMP/pvm"
NGINX_PID=$(cat "$TMP/pvm/nginx.master.pid")

H1="start=$((END - 3600))&end=$END"
Q1="/api/v1/query_range?query=$METRIC&$H1&step=15"
Q1r="/api/v1/query_range?query=sum%20by%20(type)%20(rate($METRIC%5B65s%5D))&$H1&step=15"
Q3="/api/v1/query?query=$METRIC&time=$END"
# What pvm asks the upstream for Q1: the raw samples of the window.
QRAW="/api/v1/query?query=%7B__name__%3D%22$METRIC%22%7D%5B3900001ms%5D&time=$END"

# The answers agree before anything is timed.
for q in Q1 Q1r Q3; do
    eval "path=\$$q"
    curl -sf "http://127.0.0.1:$PROM_PORT$path" >"$TMP/a.json"
    curl -sf "http://127.0.0.1:$NPORT$path" >"$TMP/b.json"
    # equal labels and times, values to 1e-9 relative (float code differs)
    /usr/bin/python3 - "$TMP/a.json" "$TMP/b.json" <<'PYEOF' ||
import json, sys
def pts(path):
    out = {}
    for r in json.load(open(path))["data"]["result"]:
        key = json.dumps(r["metric"], sort_keys=True)
        out[key] = r.get("values") or [r["value"]]
    return out
a, b = pts(sys.argv[1]), pts(sys.argv[2])
ok = a.keys() == b.keys() and len(a) > 0
for k in a if ok else []:
    ok &= len(a[k]) == len(b[k])
    for (t1, v1), (t2, v2) in zip(a[k], b[k]):
        x, y = float(v1), float(v2)
        ok &= t1 == t2 and (x == y or abs(x - y) <= 1e-9 * max(1, abs(y)))
sys.exit(0 if ok else 1)
PYEOF
        echo "prometheus_bench.sh: $q: pvm and Prometheus answer differently" >&2
done

RES=$OUT/prometheus.md
{
    echo "| query | path | req/s | p50 ms | p99 ms | Prometheus CPU ms/req | pvm-fcgi CPU ms/req | nginx CPU ms/req |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|"
} >"$RES"
run() { # NAME LABEL PORT PATH [HEADER]
    pvm_bench_wrk "http://127.0.0.1:$3$4" "${5:-}" "$PROM_PID" "$PVM_PID" \
        "$NGINX_PID"
    pv=-
    ng=-
    if [ "$2" = pvm ]; then
        pv=$(pvm_bench_per_req "$TICKS_2" 2)
        ng=$(pvm_bench_per_req "$TICKS_3" 2)
    fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |%s\n' "$1" "$2" \
        "${RPS:-0}" "$P50" "$P99" "$(pvm_bench_per_req "$TICKS_1" 2)" \
        "$pv" "$ng" "$([ -n "$BAD" ] && echo " NON-2XX: $BAD")" >>"$RES"
}
echo "prometheus_bench.sh: $SECS s per run, $CONNS connections"
for q in Q1 Q1r Q3; do
    eval "path=\$$q"
    run "$q" direct "$PROM_PORT" "$path"
    run "$q" pvm "$NPORT" "$path"
done
# pvm's client asks for gzip (Accept-Encoding), as over a network
run "Q1's fetch" direct "$PROM_PORT" "$QRAW"
run "Q1's fetch, gzip" direct "$PROM_PORT" "$QRAW" "Accept-Encoding: gzip"
# The same through pvm with compression = no (an upstream on this host):
# pvm-fcgi restarted with that setting on the same socket.
kill "$PVM_PID" 2>/dev/null
wait "$PVM_PID" 2>/dev/null
echo "compression = no" >>"$TMP/pvm/pvm.ini"
taskset -c "$CPU_SERVER" "$PVM" --config "$TMP/pvm/pvm.ini" </dev/null \
    >>"$TMP/pvm/pvm.log" 2>&1 &
PVM_PID=$!
PIDS="$PIDS $PVM_PID"
pvm_wait_port "$FPORT" 10 "$PVM_PID" || exit 1
for q in Q1 Q1r Q3; do
    eval "path=\$$q"
    run "$q, compression = no" pvm "$NPORT" "$path"
done
cat "$RES"
