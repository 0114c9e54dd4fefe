#!/bin/sh
# tests/bench/heavy.sh BUILD_DIR [BEFORE_BUILD_DIR]: the heavy set of
# issue #16 and the repeated dashboard from nginx's cache (make bench; not
# part of the test command). On 127.0.0.1, servers pinned to CPU 0, the
# client to CPU 1:
#   data    1,000 counter series heavy_total{type="t0".."t3",id="0".."999"}
#           over 6 h at 15 s (1.44 M samples; a few counter resets), one
#           OpenMetrics file
#   pvm     nginx + pvm-fcgi (1 worker) serving it with openmetrics_file
#   prom    Prometheus (GOMAXPROCS=1) with the same file backfilled by
#           promtool
# H1..H5: the five heavy queries, times off the 15 s sample grid; the wall
# time of one request (best of BENCH_HEAVY_TRIES, default 3; 20 for one
# under 50 ms) for each server, the ratio, the verdict against the 3x
# target, the CPU time per request (perf task-clock of pvm-fcgi + nginx,
# of Prometheus: a shared machine disturbs it less than the wall time)
# and whether the answers agree (same series, values within 1e-9
# relative).
# With BEFORE_BUILD_DIR, pvm-fcgi of that build is timed too (a column).
# Then the repeated dashboard: Q1 (example plugin, a past hour at 15 s)
# through nginx's fastcgi_cache (conf/nginx/pvm-nginx-cache.conf.in) and
# as a static file from the same nginx settings, wrk for BENCH_SECONDS
# (5) with BENCH_CONNS (16) connections; target >= 50 % of static.
# BENCH_HEAVY_ONLY_CACHE=1 skips the heavy queries (the cache and the
# buffers only). Writes BUILD_DIR/bench/heavy.md and prints it.
set -u
. "$(dirname "$0")/lib.sh"
pvm_bench_setup "${1:-.}" || exit 1
before=
[ -n "${2:-}" ] && before=$(cd "$2" && pwd)
TRIES=${BENCH_HEAVY_TRIES:-3}
PY=/usr/bin/python3
pvm_bench_begin heavy.sh 77 wrk taskset curl "$PY"

# ---- data ----------------------------------------------------------------

NOW=$(date +%s)
END=$((NOW - NOW % 3600 - 3600))
START_DATA=$((END - 21600))
HEAVY=1
[ -n "${BENCH_HEAVY_ONLY_CACHE:-}" ] && HEAVY=
[ -n "$HEAVY" ] && echo "heavy.sh: generating 1,000 counters x 6 h at 15 s"
awk -v s="$START_DATA" -v e="$END" 'BEGIN {
    srand(16)
    print "# TYPE heavy counter"
    for (i = 0; i < 1000; i++) {
        v = 0
        for (t = s; t <= e; t += 15) {
            # + i / 1024: no two series tie (topk would break ties
            # differently); every value is exact in binary and in %.10f
            v += int(rand() * 80) / 4 + (i % 10) + i / 1024
            if (i % 97 == 0 && t == s + 10800)
                v = 0   # a counter reset
            printf "heavy_total{type=\"t%d\",id=\"%d\"} %.10f %d\n", i % 4, i, v, t
        }
    }
    print "# EOF"
}' >"$TMP/heavy.om"
[ -n "$HEAVY" ] || echo "# EOF" >"$TMP/heavy.om"

# ---- servers -------------------------------------------------------------

# start_pvm NAME BINARY INI_BODY [TEMPLATE]: pvm_bench_start_pvm (pvm-fcgi,
# 1 worker, + nginx, 1 worker, pinned; sets PORT_NAME) with the time
# limits off that a heavy query would hit.
start_pvm() {
    sp_name=$1 sp_bin=$2 sp_ini=$3
    shift 3
    pvm_bench_start_pvm "$sp_name" "$sp_bin" \
        "max_query_timeout = 120s\nrequest_timeout = 0\n$sp_ini" "$@"
}
OM="[plugin:heavy]\ntype = openmetrics_file\npath = $TMP/heavy.om"
start_pvm pvm "$build/pvm-fcgi" "$OM"
[ -n "$before" ] && start_pvm before "$before/pvm-fcgi" "$OM"

PROM_PORT=
if [ -n "$HEAVY" ] && command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    echo "heavy.sh: backfilling Prometheus"
    pvm_bench_prometheus "$TMP/heavy.om" "$TMP/prom"
fi

# ---- the heavy queries ---------------------------------------------------

E=$((END - 7)) # off the 15 s grid
enc() { "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
H1="/api/v1/query_range?query=$(enc 'sum by (type) (rate(heavy_total[5m]))')&start=$((E - 21600 + 600))&end=$E&step=15"
H2="/api/v1/query_range?query=$(enc 'rate(heavy_total[5m])')&start=$((E - 3600))&end=$E&step=15"
H3="/api/v1/query_range?query=$(enc 'topk(5, increase(heavy_total[1h]))')&start=$((E - 21600 + 3600))&end=$E&step=60"
H4="/api/v1/query_range?query=$(enc 'avg_over_time(heavy_total[30m]) / on() group_left() scalar(max(heavy_total))')&start=$((E - 21600 + 1800))&end=$E&step=300"
H5="/api/v1/query?query=$(enc 'count by (type) (rate(heavy_total[5m]) > 10)')&time=$E"
HDESC1='`sum by (type) (rate(x[5m]))`, 6 h at 15 s'
HDESC2='`rate(x[5m])`, 1 h at 15 s, all series'
HDESC3='`topk(5, increase(x[1h]))`, 6 h at 60 s'
HDESC4='`avg_over_time(x[30m]) / on() group_left() scalar(max(x))`, 6 h at 5 m'
HDESC5='instant `count by (type) (rate(x[5m]) > 10)`'

# best PORT TARGET FILE PIDS: the best wall time (ms) of TRIES requests
# (20 for a request under 50 ms); the last answer in FILE. With perf,
# CPU_MS is set to the mean CPU time per request of the processes PIDS
# (comma-separated: the server's), which a shared machine disturbs less.
HAVE_PERF=
command -v perf >/dev/null 2>&1 && perf stat -e task-clock true >/dev/null 2>&1 &&
    HAVE_PERF=1
best() {
    b=
    i=0
    n=$TRIES
    CPU_MS=-
    if [ -n "$HAVE_PERF" ]; then
        perf stat -x, -e task-clock -p "$4" -o "$TMP/perf.txt" &
        perf_pid=$!
        sleep 0.3
    fi
    while [ "$i" -lt "$n" ]; do
        t=$(taskset -c "$CPU_CLIENT" curl -s -m 300 -o "$3" \
            -H 'Accept-Encoding: identity' -w '%{time_total}' \
            "http://127.0.0.1:$1$2")
        t=$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')
        if [ -z "$b" ] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then
            b=$t
        fi
        [ "$i" = 0 ] && awk -v t="$t" 'BEGIN { exit !(t < 50) }' && n=20
        i=$((i + 1))
    done
    if [ -n "$HAVE_PERF" ]; then
        kill -INT "$perf_pid" 2>/dev/null
        wait "$perf_pid" 2>/dev/null
        CPU_MS=$(awk -F, -v n="$n" '/task-clock/ { printf "%.1f", $1 / n }' \
            "$TMP/perf.txt")
    fi
    BEST=$b
}

# agree A B: "identical", "agree (1e-9)" or why not.
agree() {
    "$PY" - "$1" "$2" <<'EOF'
import json, math, sys
def load(p):
    d = json.load(open(p))
    if d.get("status") != "success":
        return None
    r = d["data"]["result"]
    out = {}
    for s in r:
        vals = s.get("values") or [s.get("value")]
        out[json.dumps(s["metric"], sort_keys=True)] = [(v[0], v[1]) for v in vals]
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
if a is None or b is None:
    print("error answer"); sys.exit()
if set(a) != set(b):
    print("different series (%d vs %d)" % (len(a), len(b))); sys.exit()
worst, exact = 0.0, True
for k in a:
    if len(a[k]) != len(b[k]) or any(x[0] != y[0] for x, y in zip(a[k], b[k])):
        print("different timestamps"); sys.exit()
    for x, y in zip(a[k], b[k]):
        if x[1] != y[1]:
            exact = False
            fx, fy = float(x[1]), float(y[1])
            if not (math.isnan(fx) and math.isnan(fy)):
                worst = max(worst, abs(fx - fy) / max(abs(fx), abs(fy), 1e-300))
print("identical" if exact else ("agree (max rel. diff %.1g)" % worst
      if worst <= 1e-9 else "DIFFER (max rel. diff %.2g)" % worst))
EOF
}

ROWS=
[ -n "$HEAVY" ] && echo "heavy.sh: timing H1..H5 (best of $TRIES)"
for h in ${HEAVY:+1 2 3 4 5}; do
    eval "q=\$H$h; d=\$HDESC$h"
    best "$PORT_pvm" "$q" "$TMP/pvm-H$h.json" "$PID_pvm,$(cat "$TMP/pvm/nginx.master.pid")"
    tp=$BEST cp=$CPU_MS
    tb=-
    if [ -n "$before" ]; then
        best "$PORT_before" "$q" "$TMP/before-H$h.json" "$PID_before"
        tb=$BEST
    fi
    tq=- cq=- ratio=- cratio=- verdict="no Prometheus" same=-
    if [ -n "$PROM_PORT" ]; then
        best "$PROM_PORT" "$q" "$TMP/prom-H$h.json" "$PROM_PID"
        tq=$BEST cq=$CPU_MS
        ratio=$(awk -v a="$tq" -v b="$tp" 'BEGIN { printf "%.2f", a / b }')
        cratio=$(awk -v a="$cq" -v b="$cp" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
        verdict=$(awk -v r="$ratio" 'BEGIN { print (r >= 3 ? "met" : "**missed**") }')
        same=$(agree "$TMP/pvm-H$h.json" "$TMP/prom-H$h.json")
    fi
    bytes=$(wc -c <"$TMP/pvm-H$h.json")
    ROWS="$ROWS| H$h | $d | $tb | $tp | $tq | ${ratio}x | $verdict | $cp | $cq | ${cratio}x | $same | $bytes |
"
done

# ---- the repeated dashboard from nginx's cache ----------------------------

METRIC=prometheus_virtual_metrics_example_metric
Q1="/api/v1/query_range?query=$METRIC&start=$((END - 3600))&end=$END&step=15"
start_pvm cached "$build/pvm-fcgi" '[plugin:example]' \
    "$top_srcdir/conf/nginx/pvm-nginx-cache.conf.in"
mkdir -p "$TMP/static/www"
pvm_bench_static_nginx "$TMP/static" "$TMP/static/www"
curl -s -o "$TMP/static/www/Q1.json" "http://127.0.0.1:$PORT_cached$Q1"
curl -s -o /dev/null "http://127.0.0.1:$PORT_cached$Q1" # now cached
cstat=$(curl -s -o /dev/null -D - "http://127.0.0.1:$PORT_cached$Q1" |
    tr -d '\r' | awk -F': ' 'tolower($1) == "x-cache-status" { print $2 }')

# wrk_rps PORT TARGET: requests per second.
wrk_rps() {
    pvm_bench_wrk "http://127.0.0.1:$1$2"
    awk '/^Requests\/sec/ { print int($2) }' "$TMP/wrk.log"
}
echo "heavy.sh: Q1 from nginx's cache and as a static file (${SECS}s each)"
rc=$(wrk_rps "$PORT_cached" "$Q1")
rs=$(wrk_rps "$SPORT" /Q1.json)
pct=$(awk -v a="$rc" -v b="$rs" 'BEGIN { printf "%.0f", 100 * a / b }')
cverdict=$(awk -v p="$pct" 'BEGIN { print (p >= 50 ? "met" : "**missed**") }')

# ---- nginx buffers ---------------------------------------------------------

# Q2 (24 h at 60 s, ~350 KB) and the 11,000-step range (~3 MB) through
# nginx with the shipped fastcgi buffers and with nginx's defaults (the
# same template without them), the same pvm-fcgi binary.
sed -e '/fastcgi_buffer_size/d' -e '/fastcgi_buffers /d' \
    -e '/fastcgi_busy_buffers_size/d' \
    "$top_srcdir/conf/nginx/pvm-nginx.conf.in" >"$TMP/default-buffers.conf.in"
start_pvm tuned "$build/pvm-fcgi" '[plugin:example]' \
    "$top_srcdir/conf/nginx/pvm-nginx.conf.in"
start_pvm dflt "$build/pvm-fcgi" '[plugin:example]' "$TMP/default-buffers.conf.in"
Q2="/api/v1/query_range?query=$METRIC&start=$((END - 86400))&end=$END&step=60"
QL="/api/v1/query_range?query=$METRIC&start=$((END - 110000))&end=$END&step=10"
echo "heavy.sh: nginx buffers, Q2 and an 11,000-step range (${SECS}s each)"
BROWS=
for q in Q2 QL; do
    eval "t=\$$q"
    bytes=$(curl -s "http://127.0.0.1:$PORT_tuned$t" | wc -c)
    a=$(wrk_rps "$PORT_dflt" "$t")
    b=$(wrk_rps "$PORT_tuned" "$t")
    BROWS="$BROWS| $q | $bytes | $a | $b |
"
done

{
    echo "## Heavy queries and cached dashboards"
    echo
    echo "Machine: $(nproc) CPUs, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo); Linux $(uname -r)"
    echo "Command: tests/bench/heavy.sh BUILD${before:+ BEFORE} (make bench), $(date -u +%Y-%m-%d)"
    echo
    echo "1,000 counter series x 6 h at 15 s (1.44 M samples), openmetrics_file vs Prometheus $(prometheus --version 2>/dev/null | head -1 | awk '{print $3}'); wall time of one request, best of $TRIES, ms:"
    echo
    echo "| | Query | pvm before | pvm | Prometheus | Prometheus / pvm | 3x target | CPU pvm | CPU Prometheus | CPU ratio | answers | bytes |"
    echo "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|"
    printf '%s' "$ROWS"
    echo
    echo "nginx fastcgi buffers (pvm-fcgi 1 worker, example plugin, plain, req/s):"
    echo
    echo "| Query | bytes | nginx defaults | shipped (16 x 64k) |"
    echo "|---|---:|---:|---:|"
    printf '%s' "$BROWS"
    echo
    echo "Repeated dashboard (Q1, example plugin, a past hour at 15 s, $CONNS connections, ${SECS}s): from nginx's fastcgi_cache $rc req/s (X-Cache-Status: $cstat), the same bytes as a static file $rs req/s: $pct % of static, target >= 50 %: $cverdict"
} >"$OUT/heavy.md"
cat "$OUT/heavy.md"
