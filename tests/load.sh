#!/bin/sh
# tests/load.sh [BUILD_DIR]: a bounded load test. Starts BUILD_DIR/pvm-fcgi
# (example plugin, LOAD_WORKERS workers) behind nginx on 127.0.0.1, then
#   1. wrk at LOAD_CONNS (256) connections for LOAD_SECONDS (5) s on a
#      query_range of the example metric (1 h at 15 s: 12 series x 241
#      points): zero socket errors (connect, read, write, timeout) and zero
#      non-2xx answers;
#   2. a leak check: a mix of requests (instant, range, labels, series,
#      label values, and bad ones answered 400) until LOAD_LEAK_BASE
#      (10,000) requests, then until LOAD_LEAK_REQUESTS (200,000; `make
#      bench` runs 1,000,000): the RSS of the serving processes (the
#      workers; the process itself in single-process mode) at the end is
#      within LOAD_RSS_TOLERANCE (10) % of the RSS at the base;
#   3. pvm-fcgi stops on SIGTERM with exit status 0, no worker replaced.
# Prints what it measured and PVM-RESULT lines; exit status 0 when all
# passed (77 without wrk or nginx). Stops everything by PID on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/.." && pwd)
build=$(cd "${1:-.}" && pwd) || exit 1
export top_srcdir
. "$top_srcdir/tests/lib/nginx.sh"

SECONDS_1=${LOAD_SECONDS:-5}
CONNS=${LOAD_CONNS:-256}
BASE=${LOAD_LEAK_BASE:-10000}
TOTAL=${LOAD_LEAK_REQUESTS:-200000}
TOL=${LOAD_RSS_TOLERANCE:-10}
WORKERS=${LOAD_WORKERS:-2}
PVM=${PVM_FCGI:-$build/pvm-fcgi}
METRIC=prometheus_virtual_metrics_example_metric

if ! command -v wrk >/dev/null 2>&1; then
    echo "load.sh: wrk not installed (apt-get install wrk)" >&2
    echo "PVM-RESULT: load: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
if ! pvm_nginx_bin >/dev/null; then
    echo "load.sh: SKIP: nginx not installed (apt-get install nginx-light)"
    echo "PVM-RESULT: load: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
[ -x "$PVM" ] || { echo "load.sh: $PVM missing: run make" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvm-load.XXXXXX") || exit 1
chmod 755 "$TMP"
PVM_PID=
pass=0
fail=0
cleanup() {
    trap - EXIT INT TERM
    pvm_nginx_stop "$TMP" 10
    pvm_stop_pid "$PVM_PID" 10
    if [ "$fail" != 0 ] || [ "${PVM_KEEP_TMP:-0}" = 1 ]; then
        echo "load.sh: kept $TMP"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok() { echo "ok   $*"; pass=$((pass + 1)); }
ko() { echo "FAIL $*"; fail=$((fail + 1)); }

FCGI_PORT=$(pvm_free_port) || exit 1
PORT=$(pvm_free_port) || exit 1
cat >"$TMP/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$FCGI_PORT
workers = $WORKERS
access_log = off
[plugin:example]
EOF
"$PVM" --config "$TMP/pvm.ini" </dev/null >"$TMP/pvm.log" 2>&1 &
PVM_PID=$!
pvm_wait_port "$FCGI_PORT" 10 "$PVM_PID" || { fail=1; exit 1; }
pvm_nginx_conf "$TMP" "$PORT" "127.0.0.1:$FCGI_PORT" || { fail=1; exit 1; }
# 256 clients need 512 nginx connections (client + upstream) per worker
# at worst; no access log (it would measure the disk).
sed -i -e 's/worker_connections [0-9]*;/worker_connections 4096;/' \
    -e "s|access_log .*;|access_log off;|" "$TMP/nginx.conf"
pvm_nginx_start "$TMP" 10 || { fail=1; exit 1; }
BASE_URL="http://127.0.0.1:$PORT"

# The serving processes: the master's children, or the master alone.
servers() {
    s=$(ps -o pid= --ppid "$PVM_PID" 2>/dev/null | tr -d ' ' | sort)
    [ -n "$s" ] || s=$PVM_PID
    echo $s
}
rss_kb() { # sum of VmRSS of the serving processes
    t=0
    for p in $(servers); do
        r=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null)
        t=$((t + ${r:-0}))
    done
    echo "$t"
}
n=50
while [ "$n" -gt 0 ] && [ "$WORKERS" -gt 1 ] &&
    [ "$(servers | wc -w)" -lt "$WORKERS" ]; do
    sleep 0.1
    n=$((n - 1))
done
WORKERS_BEFORE=$(servers)
echo "load.sh: nginx 127.0.0.1:$PORT -> pvm-fcgi $PVM_PID" \
    "(serving: $WORKERS_BEFORE), idle RSS $(rss_kb) KiB"

# wrk's output: requests, socket errors, non-2xx.
wrk_requests() { awk '/ requests in /{print $1}' "$1"; }
wrk_errors() {
    awk '/Socket errors:/{gsub(",",""); print $4+$6+$8+$10; f=1} END{if(!f)print 0}' "$1"
}
wrk_non2xx() {
    awk '/Non-2xx or 3xx responses:/{print $5; f=1} END{if(!f)print 0}' "$1"
}

# 1. concurrency
Q1="$BASE_URL/api/v1/query_range?query=$METRIC&start=1732476600&end=1732480200&step=15"
echo "== wrk -c$CONNS -d${SECONDS_1}s query_range (12 series x 241 points)"
wrk -t2 -c"$CONNS" -d"${SECONDS_1}s" --timeout 10s --latency "$Q1" \
    >"$TMP/wrk1.log" 2>&1
sed -n '/Latency/p;/requests in/p;/Socket/p;/Non-2xx/p;/Requests\/sec/p;/ 50%/p;/ 99%/p' \
    "$TMP/wrk1.log"
req=$(wrk_requests "$TMP/wrk1.log")
err=$(wrk_errors "$TMP/wrk1.log")
bad=$(wrk_non2xx "$TMP/wrk1.log")
if [ "${req:-0}" -gt 0 ] && [ "$err" = 0 ] && [ "$bad" = 0 ]; then
    ok "concurrency $CONNS: $req requests, 0 socket errors, 0 non-2xx"
else
    ko "concurrency $CONNS: ${req:-0} requests, $err socket errors, $bad non-2xx"
fi

# 2. leak check
cat >"$TMP/mix.lua" <<EOF
-- a mix of requests, rotated (some answered 400 on purpose)
local paths = {
  "/api/v1/query?query=$METRIC&time=1732476600",
  "/api/v1/query_range?query=$METRIC&start=1732476600&end=1732476900&step=15",
  "/api/v1/query?query=sum%20by%20(type)%20($METRIC)&time=1732476600",
  "/api/v1/labels",
  "/api/v1/label/type/values?match[]=$METRIC",
  "/api/v1/series?match[]=$METRIC&start=1732476600&end=1732476900",
  "/api/v1/query?query=rate($METRIC%5B1m%5D)&time=1732476600",
  "/api/v1/query?query=%28%28%28&time=1",
  "/api/v1/query_range?query=1&start=10&end=0&step=15",
  "/api/v1/query?query=$METRIC%7Btype%3D~%22(a%2B)%2Bb%22%7D",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
EOF
done_req=0
t0=$(date +%s)
run_until() { # run the mix until at least $1 requests in all
    while [ "$done_req" -lt "$1" ]; do
        left=$(($1 - done_req))
        # about 4,000 req/s on 2 cores: chunks of at most 60 s
        secs=$((left / 4000 + 1))
        [ "$secs" -gt 60 ] && secs=60
        wrk -t2 -c32 -d"${secs}s" --timeout 10s -s "$TMP/mix.lua" "$BASE_URL" \
            >"$TMP/wrk2.log" 2>&1
        r=$(wrk_requests "$TMP/wrk2.log")
        [ -n "$r" ] && [ "$r" -gt 0 ] || { ko "leak check: wrk failed"; cat "$TMP/wrk2.log"; return 1; }
        done_req=$((done_req + r))
    done
}
echo "== leak check: $BASE then $TOTAL requests (mix of 10 kinds, 32 connections)"
run_until "$BASE" || exit 1
rss0=$(rss_kb)
base_req=$done_req
echo "     after $done_req requests: RSS $rss0 KiB"
run_until "$TOTAL" || exit 1
rss1=$(rss_kb)
t1=$(date +%s)
echo "     after $done_req requests: RSS $rss1 KiB ($((t1 - t0)) s," \
    "$((done_req / ( (t1 - t0) > 0 ? (t1 - t0) : 1 ) )) req/s)"
if [ $((rss1 * 100)) -le $((rss0 * (100 + TOL))) ]; then
    ok "RSS after $done_req requests ($rss1 KiB) within $TOL% of after $base_req ($rss0 KiB)"
else
    ko "RSS after $done_req requests ($rss1 KiB) grew more than $TOL% over $rss0 KiB"
fi
echo "PVM-RESULT: load-rss: kib_base=$rss0 kib_end=$rss1 requests=$done_req seconds=$((t1 - t0))" |
    sed 's/^PVM-RESULT: /     /'

# 3. the same workers, and a clean stop
if [ "$(servers)" = "$WORKERS_BEFORE" ]; then
    ok "no worker died or was replaced ($WORKERS_BEFORE)"
else
    ko "workers changed: $WORKERS_BEFORE -> $(servers)"
fi
kill -TERM "$PVM_PID"
n=100
while [ "$n" -gt 0 ] && kill -0 "$PVM_PID" 2>/dev/null; do
    sleep 0.1
    n=$((n - 1))
done
if kill -0 "$PVM_PID" 2>/dev/null; then
    ko "pvm-fcgi still running 10 s after SIGTERM"
else
    wait "$PVM_PID"
    st=$?
    PVM_PID=
    [ "$st" = 0 ] && ok "pvm-fcgi stopped cleanly" ||
        ko "pvm-fcgi exit status $st after SIGTERM"
fi
echo "PVM-RESULT: load: $pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
