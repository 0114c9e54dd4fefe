#!/bin/sh
# tests/bench/http_bench.sh [BUILD_DIR]: the http plugin's benchmark (make
# bench; not part of the test command). Generates a JSON answer of 100
# series x 10,000 points (about 10 MB: {"start", "series": [{"host",
# "points": [[i, v], ...]}]}), serves it from nginx on 127.0.0.1, then
#   1. tests/bench/http_bench: per run the wall time of the fetch alone,
#      jq alone and the whole range query (all 1,000,000 points) through
#      the plugin in-process, pvm = whole - fetch - jq;
#   2. pvm-fcgi (workers = 1: one process serving) behind nginx: the same
#      query end to end with curl, and that process's peak RSS (VmHWM)
#      and CPU time.
# Writes BUILD_DIR/bench/http.md and prints it.
set -u
. "$(dirname "$0")/lib.sh"
pvm_bench_setup "${1:-.}" || exit 1
BIN=$build/tests/bench/http_bench
pvm_bench_need_built "$PVM" "$BIN"
pvm_bench_begin http_bench 0 curl
mkdir -p "$TMP/www" "$TMP/front"

awk 'BEGIN {
    printf "{\"start\":1700000000,\"series\":["
    for (s = 0; s < 100; s++) {
        printf "%s{\"host\":\"host-%d\",\"points\":[", s ? "," : "", s
        for (i = 0; i < 10000; i++)
            printf "%s[%d,%.1f]", i ? "," : "", i, ((s * 7 + i) % 1000) / 10
        printf "]}"
    }
    print "]}"
}' >"$TMP/www/answer.json"

NP=$(pvm_free_port) && FC=$(pvm_free_port) || exit 1
pvm_bench_static_nginx "$TMP/fix" "$TMP/www"
FP=$SPORT
URL="http://127.0.0.1:$FP/answer.json"
OUT=$build/bench/http.md
{
    echo "## http plugin: 100 series x 10,000 points of JSON through jq"
    echo
    echo "answer: $(wc -c <"$TMP/www/answer.json") bytes; in-process (tests/bench/http_bench):"
    echo
    "$BIN" "$URL" 3 2>/dev/null
    echo
    echo "machine load when run: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT"

JQ='.start as $s | .series[] | .host as $h | .points[] | {metric: "bench_http", labels: {host: $h}, timestamp: ($s + .[0] * 15), value: .[1]}'
cat >"$TMP/pvm.ini" <<INI
[server]
listen = 127.0.0.1:$FC
workers = 1
max_request_memory = 4G

[plugin:bench]
type = http
url = $URL
max_response_bytes = 64M
jq = $JQ
INI
"$PVM" --config "$TMP/pvm.ini" </dev/null >"$TMP/pvm.log" 2>&1 &
MASTER=$!
PIDS="$PIDS $MASTER"
pvm_wait_port "$FC" 30 "$MASTER" || { cat "$TMP/pvm.log"; exit 1; }
pvm_nginx_conf "$TMP/front" "$NP" "127.0.0.1:$FC" && pvm_nginx_start "$TMP/front" 10 || exit 1
NGINX_DIRS="$NGINX_DIRS $TMP/front"
# workers = 1: the process itself serves (no master)
WORKER=$MASTER
rss0=$(awk '/^VmHWM/ {print $2}' /proc/"$WORKER"/status 2>/dev/null)
{
    echo
    echo "end to end through nginx + pvm-fcgi (workers = 1), curl:"
    echo
    echo "| run | status | answer MB | seconds |"
    echo "|---|---|---|---|"
    for r in 1 2 3; do
        curl -s -o "$TMP/answer" -m 120 -w "| $r | %{http_code} | %{size_download} | %{time_total} |\n" \
            "http://127.0.0.1:$NP/api/v1/query_range?query=bench_http&start=1700000000&end=1700149985&step=15" |
            awk -F'|' '{ printf "|%s|%s| %.1f |%s|\n", $2, $3, $4 / 1e6, $5 }'
    done
    rss1=$(awk '/^VmHWM/ {print $2}' /proc/"$WORKER"/status 2>/dev/null)
    echo
    echo "worker peak RSS (VmHWM): ${rss0:-?} kB before, ${rss1:-?} kB after the queries"
    echo "worker CPU: $(awk '{printf "%.1f s user, %.1f s system", $14 / 100, $15 / 100}' /proc/"$WORKER"/stat 2>/dev/null) for the three queries and startup"
} >>"$OUT" 2>&1
cat "$OUT"
