#!/bin/sh
# tests/bench/webservers_bench.sh [BUILD_DIR]: Q1 (query_range 1 h at
# 15 s, 12 series of the example plugin) through each web server pvm
# ships a configuration for, with the shipped settings and with the
# variants their transport tuning was chosen from (make bench; figures in
# docs/performance.md, "The three web servers"). One pvm-fcgi worker on a
# Unix socket; the web server pinned with it to CPU 0, wrk to CPU 1. For
# each row: req/s, p50, CPU ms per request of the web server and of
# pvm-fcgi, without and with Accept-Encoding: gzip.
#   nginx      conf/nginx/pvm-nginx.conf.in (the reference)
#   lighttpd   conf/lighttpd/pvm-lighttpd.conf.in as shipped
#              (deflate.compression-level = 1), with zlib's default level
#              6, and with server.stream-response-body = 2 (streaming,
#              not the default buffering)
#   apache     conf/apache/pvm-apache.conf.in as shipped
#              (DeflateCompressionLevel 1), with zlib's default level 6,
#              and with 64 KB proxy and deflate buffers (the defaults are
#              8 KB)
# Each server missing is skipped with a line. BENCH_SECONDS (5) per run,
# BENCH_CONNS (16) connections. Writes BUILD_DIR/bench/webservers.md.
set -u
. "$(dirname "$0")/lib.sh"
pvm_bench_setup "${1:-.}" || exit 1
. "$top_srcdir/tests/lib/lighttpd.sh"
. "$top_srcdir/tests/lib/apache.sh"
pvm_bench_begin webservers_bench 0 wrk taskset curl
pvm_bench_need_built "$PVM"
NOW=$(date +%s)
END=$((NOW - NOW % 3600 - 3600))
Q1="/api/v1/query_range?query=prometheus_virtual_metrics_example_metric&start=$((END - 3600))&end=$END&step=15"

mkdir -p "$TMP/pvm"
printf '[server]\nlisten = unix:%s\nworkers = 1\naccess_log = off\n[plugin:example]\n' \
    "$TMP/pvm/pvm.sock" >"$TMP/pvm/pvm.ini"
taskset -c "$CPU_SERVER" "$PVM" --config "$TMP/pvm/pvm.ini" </dev/null \
    >"$TMP/pvm/pvm.log" 2>&1 &
PVM_PID=$!
PIDS="$PIDS $PVM_PID"
pvm_wait_path "$TMP/pvm/pvm.sock" 10 "$PVM_PID" || exit 1
ADDR=unix:$TMP/pvm/pvm.sock
# Apache's children run as www-data when started as root.
chmod 755 "$TMP/pvm" && chmod 666 "$TMP/pvm/pvm.sock"

# Pinned launchers for the web servers (PVM_LIGHTTPD, PVM_APACHE).
for s in lighttpd apache2; do
    b=$(command -v "$s" 2>/dev/null || echo "/usr/sbin/$s")
    [ -x "$b" ] || continue
    printf '#!/bin/sh\nexec taskset -c %s "%s" "$@"\n' "$CPU_SERVER" "$b" \
        >"$TMP/$s-pinned"
    chmod +x "$TMP/$s-pinned"
done
[ -x "$TMP/lighttpd-pinned" ] && export PVM_LIGHTTPD="$TMP/lighttpd-pinned"
[ -x "$TMP/apache2-pinned" ] && export PVM_APACHE="$TMP/apache2-pinned"

TABLE=$OUT/webservers.md
{
    echo "| server | variant | encoding | req/s | p50 ms | web server CPU ms/req | pvm CPU ms/req |"
    echo "|---|---|---|---:|---:|---:|---:|"
} >"$TABLE"

# run SERVER VARIANT PORT "SERVER PIDS": Q1 without and with gzip.
run() {
    for gz in plain gzip; do
        curl -s -m 10 -o /dev/null "http://127.0.0.1:$3$Q1" # warm up
        hdr=
        [ "$gz" = gzip ] && hdr="Accept-Encoding: gzip"
        pvm_bench_wrk "http://127.0.0.1:$3$Q1" "$hdr" "$4" "$PVM_PID"
        wc=$(pvm_bench_per_req "$TICKS_1")
        pc=$(pvm_bench_per_req "$TICKS_2")
        printf '%-9s %-34s %-5s %6s req/s  p50 %7s ms  server %6s ms  pvm %6s ms%s\n' \
            "$1" "$2" "$gz" "${RPS:-0}" "$P50" "$wc" "$pc" \
            "$([ -n "$BAD" ] && echo "  NON-2XX: $BAD")"
        echo "| $1 | $2 | $gz | ${RPS:-0} | $P50 | $wc | $pc |" >>"$TABLE"
    done
}

echo "webservers_bench.sh: Q1, $SECS s per run, $CONNS connections," \
    "servers on CPU $CPU_SERVER, wrk on CPU $CPU_CLIENT"

# ---- nginx (reference) ------------------------------------------------------
d=$TMP/nginx
mkdir -p "$d"
port=$(pvm_free_port) || exit 1
if pvm_nginx_conf "$d" "$port" "$ADDR" >/dev/null 2>&1; then
    sed -i -e 's/worker_processes [0-9]*;/worker_processes 1;/' \
        -e 's|access_log .*;|access_log off;|' "$d/nginx.conf"
    if pvm_nginx_start "$d" 10 >/dev/null 2>&1; then
        NGINX_DIRS="$NGINX_DIRS $d"
        run nginx shipped "$port" "$(cat "$d/nginx.master.pid")"
        pvm_nginx_stop "$d" 10
        NGINX_DIRS=
    fi
fi

# ---- lighttpd and Apache -----------------------------------------------------
# variant SERVER NAME SED: SERVER (lighttpd or apache, through
# tests/lib/SERVER.sh) with the shipped configuration edited by SED.
variant() {
    d=$TMP/$1-$(echo "$2" | tr -c 'a-z0-9\n' _)
    mkdir -p "$d"
    port=$(pvm_free_port) || exit 1
    case $1 in
    lighttpd) conf=$d/lighttpd.conf pid=$d/lighttpd.main.pid ;;
    apache) conf=$d/httpd.conf pid=$d/httpd.main.pid ;;
    esac
    "pvm_$1_conf" "$d" "$port" "$ADDR" >/dev/null 2>&1 || {
        echo "$1 $2: configuration refused" >&2
        return
    }
    [ -n "$3" ] && sed -i -e "$3" "$conf"
    "pvm_$1_start" "$d" 10 >/dev/null 2>&1 || {
        echo "$1 $2: did not start" >&2
        return
    }
    run "$1" "$2" "$port" "$(cat "$pid")"
    "pvm_$1_stop" "$d" 10
}
if pvm_lighttpd_bin >/dev/null 2>&1; then
    variant lighttpd shipped ''
    variant lighttpd "stream-response-body = 2" \
        '$ a server.stream-response-body = 2'
    variant lighttpd "compression-level 6 (zlib's default)" \
        's/^deflate.compression-level = .*/deflate.compression-level = 6/'
else
    echo "webservers_bench.sh: lighttpd not installed: skipped"
fi
if pvm_apache_bin >/dev/null 2>&1; then
    variant apache shipped ''
    variant apache "DeflateCompressionLevel 6 (zlib's default)" \
        's/^DeflateCompressionLevel .*/DeflateCompressionLevel 6/'
    variant apache "ProxyIOBufferSize, DeflateBufferSize 64k" \
        's/^DeflateCompressionLevel .*/DeflateCompressionLevel 1\nProxyIOBufferSize 65536\nDeflateBufferSize 65536/'
else
    echo "webservers_bench.sh: apache2 not installed: skipped"
fi
echo "webservers_bench.sh: table in $TABLE"
