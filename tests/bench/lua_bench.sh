#!/bin/sh
# tests/bench/lua_bench.sh [BUILD_DIR]: the lua plugin type against the C
# plugin it mirrors (make bench; not part of the test command). On
# 127.0.0.1, one pvm-fcgi (single worker) serving plugins/example.c and
# one serving conf/examples/lua/example.lua, each behind its own nginx
# (1 worker), servers pinned to CPU 0 and wrk to CPU 1. Query Q1 of
# docs/performance.md (1 h at 15 s, 12 series; 2,892 samples), plain and
# gzip: req/s, p50 latency and the pvm-fcgi CPU ms per request, and the
# ratio Lua/C of the CPU per request (the target of issue #14: at most 3).
# Writes BUILD_DIR/bench/lua.md and prints it. BENCH_SECONDS (5) per run,
# BENCH_CONNS (16) wrk connections.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/../.." && pwd)
build=$(cd "${1:-.}" && pwd) || exit 1
export top_srcdir
. "$top_srcdir/tests/lib/nginx.sh"

SECS=${BENCH_SECONDS:-5}
CONNS=${BENCH_CONNS:-16}
METRIC=prometheus_virtual_metrics_example_metric
PVM=$build/pvm-fcgi
OUT=$build/bench
mkdir -p "$OUT"
. "$top_srcdir/tests/bench/lib.sh"
pvm_bench_begin lua_bench.sh 77 wrk taskset curl
[ -x "$PVM" ] || {
    echo "lua_bench.sh: build pvm-fcgi first (make bench does)" >&2
    exit 1
}

NOW=$(date +%s)
END=$((NOW - NOW % 3600 - 3600))
Q1="/api/v1/query_range?query=$METRIC&start=$((END - 3600))&end=$END&step=15"

# start NAME PLUGIN_SECTION: pvm-fcgi (one worker process) and nginx.
start() {
    mkdir -p "$TMP/$1"
    fport=$(pvm_free_port) || exit 1
    nport=$(pvm_free_port) || exit 1
    printf '[server]\nlisten = 127.0.0.1:%s\nworkers = 1\naccess_log = off\n%b\n' \
        "$fport" "$2" >"$TMP/$1/pvm.ini"
    taskset -c "$CPU_SERVER" "$PVM" --config "$TMP/$1/pvm.ini" </dev/null \
        >"$TMP/$1/pvm.log" 2>&1 &
    eval "PID_$1=$!"
    PIDS="$PIDS $!"
    pvm_wait_port "$fport" 10 "$!" || exit 1
    pvm_nginx_conf "$TMP/$1" "$nport" "127.0.0.1:$fport" || exit 1
    sed -i -e 's/worker_processes [0-9]*;/worker_processes 1;/' \
        -e 's/worker_connections [0-9]*;/worker_connections 4096;/' \
        -e 's|access_log .*;|access_log off;|' "$TMP/$1/nginx.conf"
    pvm_nginx_start "$TMP/$1" 10 || exit 1
    NGINX_DIRS="$NGINX_DIRS $TMP/$1"
    eval "PORT_$1=$nport"
}
start c '[plugin:example]'
start lua "[plugin:example]\ntype = lua\nscript = $top_srcdir/conf/examples/lua/example.lua"

curl -sf -o "$TMP/c.json" "http://127.0.0.1:$PORT_c$Q1" &&
    curl -sf -o "$TMP/lua.json" "http://127.0.0.1:$PORT_lua$Q1" &&
    cmp -s "$TMP/c.json" "$TMP/lua.json" || {
    echo "lua_bench.sh: the Lua and the C example answer Q1 differently" >&2
    exit 1
}

ticks=$(getconf CLK_TCK)

RESULTS=$TMP/results.tsv
: >"$RESULTS"
# run NAME GZIP
run() {
    eval "pid=\$PID_$1 port=\$PORT_$1"
    hdr=
    [ "$2" = gzip ] && hdr="Accept-Encoding: gzip"
    c0=$(pvm_bench_cpu_ticks "$pid")
    taskset -c "$CPU_CLIENT" wrk -t1 -c"$CONNS" -d"${SECS}s" --latency \
        ${hdr:+-H "$hdr"} "http://127.0.0.1:$port$Q1" >"$TMP/wrk.log" 2>&1
    c1=$(pvm_bench_cpu_ticks "$pid")
    req=$(awk '/ requests in /{print $1}' "$TMP/wrk.log")
    rps=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$TMP/wrk.log")
    p50=$(awk '$1=="50%"{print $2}' "$TMP/wrk.log")
    bad=$(awk '/Non-2xx/{print $5}' "$TMP/wrk.log")
    cpu=$(awk -v d=$((c1 - c0)) -v n="${req:-0}" -v hz="$ticks" \
        'BEGIN{ if (n > 0) printf "%.3f", d * 1000 / hz / n; else print "?" }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${rps:-0}" "$p50" "$cpu" \
        "${bad:-0}" >>"$RESULTS"
    printf 'Q1 %-4s %-5s %7s req/s  p50 %8s  pvm-fcgi cpu/req %6s ms%s\n' \
        "$1" "$2" "${rps:-0}" "$p50" "$cpu" "$([ -n "$bad" ] && echo "  NON-2XX: $bad")"
}
echo "lua_bench.sh: $SECS s per run, $CONNS connections, servers on CPU" \
    "$CPU_SERVER, wrk on CPU $CPU_CLIENT"
for gz in plain gzip; do
    run c "$gz"
    run lua "$gz"
done

{
    echo "Machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1); $(uname -sr)"
    echo "Command: BENCH_SECONDS=$SECS BENCH_CONNS=$CONNS tests/bench/lua_bench.sh (make bench)"
    echo
    echo "| Query | Plugin | Encoding | req/s | p50 | CPU ms/req pvm-fcgi | non-2xx |"
    echo "|---|---|---|---:|---:|---:|---:|"
    awk -F'\t' '{printf "| Q1 | %s | %s | %s | %s | %s | %s |\n", ($1=="c"?"example (C)":"lua example.lua"),$2,$3,$4,$5,$6}' "$RESULTS"
    echo
    for gz in plain gzip; do
        awk -F'\t' -v g="$gz" '$2==g && $1=="c"{c=$5} $2==g && $1=="lua"{l=$5}
            END{ if (c > 0) printf "CPU per request, Lua / C (%s): %.2f (target: at most 3)\n", g, l / c }' "$RESULTS"
    done
} >"$OUT/lua.md"
echo
cat "$OUT/lua.md"
