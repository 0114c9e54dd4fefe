#!/bin/sh
# tests/bench/bench.sh [BUILD_DIR]: the HTTP benchmark (make bench; not
# part of the test command). On 127.0.0.1, servers pinned to CPU 0 and wrk
# to CPU 1 (taskset):
#   pvm     nginx (1 worker) + pvm-fcgi (1 worker process, example plugin)
#   prom    Prometheus (GOMAXPROCS=1) holding the same 12 series at 15 s
#           resolution, backfilled with promtool from an OpenMetrics file
#           (when prometheus and promtool are installed)
#   static  nginx serving pvm's own answer bytes as a file (the upper
#           bound of the transport)
#   pvm-keepalive, pvm-unix (Q1, Q3, Q7): pvm with kept FastCGI
#           connections (conf/nginx/pvm-nginx-keepalive.conf.in), and over
#           a Unix socket
# Queries Q1..Q7 (see docs/performance.md), each without and with
# Accept-Encoding: gzip (nginx gzip on for JSON; Prometheus compresses
# itself). For each: req/s, p50/p99 latency, CPU ms per request of the
# server processes (pvm: pvm-fcgi and nginx separately). Then: idle RSS
# per worker, peak RSS of the 11,000-point x 1,000-series range query
# (bench plugin), and tests/load.sh with 1,000,000 requests (the leak
# check). Writes BUILD_DIR/bench/results.md (a Markdown table) and prints
# it. Environment: BENCH_SECONDS (5) per run, BENCH_CONNS (16) wrk
# connections, BENCH_SKIP_LOAD=1 skips the 1M load test,
# BENCH_SKIP_PROM=1 skips Prometheus.
set -u
. "$(dirname "$0")/lib.sh"
pvm_bench_setup "${1:-.}" || exit 1
METRIC=prometheus_virtual_metrics_example_metric
PVM_TEST=$build/tests/pvm-fcgi-test
pvm_bench_begin bench.sh 77 wrk taskset curl
pvm_bench_need_built "$PVM" "$PVM_TEST"

# The benchmark window: 25 h ending on a past hour boundary.
NOW=$(date +%s)
END=$((NOW - NOW % 3600 - 3600))
START_DATA=$((END - 90000))
H1="start=$((END - 3600))&end=$END"
Q1="/api/v1/query_range?query=$METRIC&$H1&step=15"
Q2="/api/v1/query_range?query=$METRIC&start=$((END - 86400))&end=$END&step=60"
Q3="/api/v1/query?query=$METRIC&time=$END"
Q4="/api/v1/labels?$H1"
Q5="/api/v1/label/__name__/values?$H1"
Q6="/api/v1/series?match%5B%5D=$METRIC&$H1"
Q7="/api/v1/query_range?query=sum%20by%20(type)%20($METRIC)&$H1&step=15"
QUERIES=${BENCH_QUERIES:-"Q1 Q2 Q3 Q4 Q5 Q6 Q7"}
qurl() { eval "echo \"\$$1\""; }

# ---- servers ---------------------------------------------------------------

# pvm-fcgi, one worker process (single-process mode), pinned, behind
# nginx from TEMPLATE (default conf/nginx/pvm-nginx.conf.in), over TCP or
# (unix) a Unix socket (lib.sh).
pvm_bench_start_pvm pvm "$PVM" '[plugin:example]'
PVM_PORT=$PORT_pvm
# The transport variants (Q1, Q3, Q7 only): kept FastCGI connections, and
# a Unix socket instead of TCP.
pvm_bench_start_pvm keepalive "$PVM" '[plugin:example]' \
    "$top_srcdir/conf/nginx/pvm-nginx-keepalive.conf.in"
pvm_bench_start_pvm unix "$PVM" '[plugin:example]' "" unix

# nginx serving static files (pvm's answers), same settings.
mkdir -p "$TMP/static/www"
pvm_bench_static_nginx "$TMP/static" "$TMP/static/www" \
    'gzip on; gzip_types application/json; gzip_min_length 256;'
for q in $QUERIES; do
    curl -sf -o "$TMP/static/www/$q.json" "http://127.0.0.1:$PVM_PORT$(qurl "$q")" ||
        echo "bench.sh: pvm answered $q with an error" >&2
done

# Prometheus with the same data.
PROM_PORT=
if [ -z "${BENCH_SKIP_PROM:-}" ] && command -v prometheus >/dev/null 2>&1 &&
    command -v promtool >/dev/null 2>&1; then
    echo "bench.sh: generating OpenMetrics ($START_DATA..$END, 15 s) and backfilling"
    {
        awk -v s="$START_DATA" -v e="$END" -v m="$METRIC" \
            -f "$top_srcdir/tests/lib/example_om.awk"
        echo "# EOF"
    } >"$TMP/data.om"
    pvm_bench_prometheus "$TMP/data.om" "$TMP/prom"
fi

# ---- measuring -------------------------------------------------------------

nginx_pid() { cat "$1/nginx.master.pid"; }

RESULTS=$OUT/results.tsv
: >"$RESULTS"
# bench SERVER QUERY GZIP PORT PATH "SERVER PIDS" "NGINX PIDS"
bench() {
    server=$1 q=$2 gz=$3 port=$4 path=$5 spids=$6 npids=$7
    hdr=
    [ "$gz" = gzip ] && hdr="Accept-Encoding: gzip"
    pvm_bench_wrk "http://127.0.0.1:$port$path" "$hdr" "$spids" "$npids"
    cpu=-
    [ -n "$spids" ] && cpu=$(pvm_bench_per_req "$TICKS_1")
    ncpu=-
    [ -n "$npids" ] && ncpu=$(pvm_bench_per_req "$TICKS_2")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$q" "$server" "$gz" \
        "${RPS:-0}" "$P50" "$P99" "$cpu" "$ncpu" "${BAD:-0}" >>"$RESULTS"
    printf '%-3s %-10s %-5s %7s req/s  p50 %7s ms  p99 %7s ms  cpu/req %6s ms  nginx %6s ms%s\n' \
        "$q" "$server" "$gz" "${RPS:-0}" "$P50" "$P99" "$cpu" "$ncpu" \
        "$([ -n "$BAD" ] && echo "  NON-2XX: $BAD")"
}

PVM_NGINX_PID=$(nginx_pid "$TMP/pvm")
STATIC_PID=$(nginx_pid "$TMP/static")
echo "bench.sh: $SECS s per run, $CONNS connections, servers on CPU" \
    "$CPU_SERVER, wrk on CPU $CPU_CLIENT"
for q in $QUERIES; do
    for gz in plain gzip; do
        path=$(qurl "$q")
        bench pvm "$q" "$gz" "$PVM_PORT" "$path" "$PID_pvm" "$PVM_NGINX_PID"
        [ -n "$PROM_PORT" ] &&
            bench prometheus "$q" "$gz" "$PROM_PORT" "$path" "$PROM_PID" ""
        bench static "$q" "$gz" "$SPORT" "/$q.json" "" "$STATIC_PID"
        case $q in Q1 | Q3 | Q7)
            bench pvm-keepalive "$q" "$gz" "$PORT_keepalive" "$(qurl "$q")" \
                "$PID_keepalive" "$(nginx_pid "$TMP/keepalive")"
            bench pvm-unix "$q" "$gz" "$PORT_unix" "$(qurl "$q")" "$PID_unix" \
                "$(nginx_pid "$TMP/unix")"
            ;;
        esac
    done
done

# ---- memory ----------------------------------------------------------------

IDLE_RSS=$(awk '/^VmRSS:/{print $2}' "/proc/$PID_pvm/status")
echo "bench.sh: pvm-fcgi RSS after the runs: $IDLE_RSS KiB"
# idle workers of a fresh master with 2 workers
mkdir -p "$TMP/idle"
iport=$(pvm_free_port) || exit 1
printf '[server]\nlisten = 127.0.0.1:%s\nworkers = 2\n[plugin:example]\n' \
    "$iport" >"$TMP/idle/pvm.ini"
"$PVM" --config "$TMP/idle/pvm.ini" </dev/null >"$TMP/idle/pvm.log" 2>&1 &
idle_pid=$!
PIDS="$PIDS $idle_pid"
pvm_wait_port "$iport" 10 "$idle_pid"
sleep 1
WORKER_RSS=
for w in $(ps -o pid= --ppid "$idle_pid"); do
    WORKER_RSS="$WORKER_RSS $(awk '/^VmRSS:/{print $2}' "/proc/$w/status")"
done
MASTER_RSS=$(awk '/^VmRSS:/{print $2}' "/proc/$idle_pid/status")
pvm_stop_pid "$idle_pid" 10
echo "bench.sh: idle RSS: workers$WORKER_RSS KiB, master $MASTER_RSS KiB"

# 11,000 points x 1,000 series (bench plugin), one query, peak RSS
pvm_bench_start_pvm big "$PVM_TEST" '[plugin:bench]\nseries = 1000'
BIG_T0=$(date +%s.%N)
curl -s -o "$TMP/big.json" -w '%{http_code} %{size_download}\n' \
    "http://127.0.0.1:$PORT_big/api/v1/query_range?query=bench_metric&start=0&end=164985&step=15" \
    >"$TMP/big.status"
BIG_T1=$(date +%s.%N)
BIG_HWM=$(awk '/^VmHWM:/{print $2}' "/proc/$PID_big/status")
BIG_STATUS=$(cat "$TMP/big.status")
BIG_SECS=$(awk -v a="$BIG_T0" -v b="$BIG_T1" 'BEGIN{printf "%.1f", b - a}')
rm -f "$TMP/big.json"
echo "bench.sh: 11,000 x 1,000 query: HTTP $BIG_STATUS bytes, ${BIG_SECS} s," \
    "peak RSS $BIG_HWM KiB"

# ---- report ----------------------------------------------------------------

{
    echo "Machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1);" \
        "$(uname -sr)"
    echo "Versions: pvm $("$PVM" --version | awk '{print $2}'), $("$NGINX_BIN" -v 2>&1 | sed 's/.*: //')," \
        "$(prometheus --version 2>/dev/null | head -1 | awk '{print "prometheus " $3}'), $(wrk -v 2>&1 | head -1 | awk '{print "wrk " $2}')"
    echo "Command: BENCH_SECONDS=$SECS BENCH_CONNS=$CONNS tests/bench/bench.sh (make bench)"
    echo
    echo "| Query | Server | Encoding | req/s | p50 ms | p99 ms | CPU ms/req server | CPU ms/req nginx | non-2xx |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1,$2,$3,$4,$5,$6,($7==""?"-":$7),$8,$9}' "$RESULTS"
    echo
    echo "pvm-fcgi RSS: idle workers$WORKER_RSS KiB (master $MASTER_RSS KiB); after the runs $IDLE_RSS KiB"
    echo "11,000 points x 1,000 series: HTTP status and bytes $BIG_STATUS, $BIG_SECS s, peak RSS $BIG_HWM KiB"
    echo
    echo "Targets (issue #16), ratios within this run:"
    echo
    echo "| Target | Measured | Verdict |"
    echo "|---|---|---|"
    for q in Q1 Q3 Q7; do
        for gz in plain gzip; do
            awk -F'\t' -v q="$q" -v gz="$gz" '$1 == q && $3 == gz && $9 == 0 { r[$2] = $4 }
                END { if (r["prometheus"] > 0)
                    for (i = 1; i <= 3; i++) {
                        v = i == 1 ? "pvm" : i == 2 ? "pvm-keepalive" : "pvm-unix"
                        if (v in r)
                            printf "| %s %s >= 3x Prometheus req/s (%s) | %d / %d = %.2fx | %s |\n",
                                q, gz, v, r[v], r["prometheus"], r[v] / r["prometheus"],
                                (r[v] >= 3 * r["prometheus"] ? "met" : "**missed**")
                    } }' \
                "$RESULTS"
        done
    done
    maxw=0
    for w in $WORKER_RSS; do [ "$w" -gt "$maxw" ] && maxw=$w; done
    echo "| idle worker RSS < 8 MiB | $maxw KiB | $([ "$maxw" -lt 8192 ] && echo met || echo '**missed**') |"
    echo "| 11,000 x 1,000 answer under 300 MB peak RSS | $BIG_HWM KiB | $([ "${BIG_HWM:-999999}" -lt 292969 ] && echo met || echo '**missed**') |"
} >"$OUT/results.md"
echo
cat "$OUT/results.md"

if [ -z "${BENCH_SKIP_LOAD:-}" ]; then
    echo
    echo "== tests/load.sh with 1,000,000 requests (leak check)"
    LOAD_LEAK_REQUESTS=1000000 sh "$top_srcdir/tests/load.sh" "$build" |
        tee "$OUT/load.log" | grep -v '^ok '
fi
