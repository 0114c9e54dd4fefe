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
. "$(dirname "$0")/lib.sh"
pvm_bench_setup "${1:-.}" || exit 1
METRIC=prometheus_virtual_metrics_example_metric
pvm_bench_begin lua_bench.sh 77 wrk taskset curl
pvm_bench_need_built "$PVM"

NOW=$(date +%s)
END=$((NOW - NOW % 3600 - 3600))
Q1="/api/v1/query_range?query=$METRIC&start=$((END - 3600))&end=$END&step=15"

# pvm-fcgi (one worker process) and nginx (lib.sh).
pvm_bench_start_pvm c "$PVM" '[plugin:example]'
pvm_bench_start_pvm lua "$PVM" "[plugin:example]\ntype = lua\nscript = $top_srcdir/conf/examples/lua/example.lua"

curl -sf -o "$TMP/c.json" "http://127.0.0.1:$PORT_c$Q1" &&
    curl -sf -o "$TMP/lua.json" "http://127.0.0.1:$PORT_lua$Q1" &&
    cmp -s "$TMP/c.json" "$TMP/lua.json" || {
    echo "lua_bench.sh: the Lua and the C example answer Q1 differently" >&2
    exit 1
}

RESULTS=$TMP/results.tsv
: >"$RESULTS"
# run NAME GZIP
run() {
    eval "pid=\$PID_$1 port=\$PORT_$1"
    hdr=
    [ "$2" = gzip ] && hdr="Accept-Encoding: gzip"
    pvm_bench_wrk "http://127.0.0.1:$port$Q1" "$hdr" "$pid"
    cpu=$(pvm_bench_per_req "$TICKS_1")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "${RPS:-0}" "$P50_WRK" "$cpu" \
        "${BAD:-0}" >>"$RESULTS"
    printf 'Q1 %-4s %-5s %7s req/s  p50 %8s  pvm-fcgi cpu/req %6s ms%s\n' \
        "$1" "$2" "${RPS:-0}" "$P50_WRK" "$cpu" "$([ -n "$BAD" ] && echo "  NON-2XX: $BAD")"
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
