#!/bin/sh
# tests/integration/deadline.sh: query deadlines through real nginx on
# 127.0.0.1 (a TESTS entry), the acceptance bounds of issue #10 item 4.
# pvm-fcgi-test (example plugin) runs with workers = 2:
#   timeout   a CPU-heavy query with timeout=1s answers Prometheus' 503
#             timeout envelope within 1 s of its deadline (the evaluator
#             checks the clock inside its per-step and per-window loops)
#   starve    with two such queries on the two workers, an ordinary query
#             gets through within 3 s
#   steps     count_over_time(x[1y:1ms]) is refused at once (422, too
#             many samples), not iterated over 3e10 steps
#   default   without `timeout`, a query stops at 5/6 of request_timeout
#             and answers the 503 envelope itself, before the master
#             would kill its worker (nginx's HTML 502)
# The timing bounds are acceptance bounds, generous on a loaded machine:
# the old code needed about 8 s for the heavy query whatever its timeout.
# Every request and wait is bounded; processes are stopped by PID.
# Prints "PVM-RESULT: deadline: P passed, F failed, S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
pvm_script_begin deadline
BG=
# the heavy queries still running when the script stops
pvm_script_before_cleanup() {
    for p in $BG; do
        kill "$p" 2>/dev/null
    done
}

# start NAME EXTRA_SERVER_LINE: pvm-fcgi (2 workers) and nginx; sets NP
# (nginx's port).
start() {
    fc=$(pvm_free_port) && NP=$(pvm_free_port) || exit 99
    mkdir -p "$TMP/$1" "$TMP/$1-nginx"
    cat >"$TMP/$1/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$fc
workers = 2
$2

[plugin:example]
EOF
    "$PVM_BIN" --config "$TMP/$1/pvm.ini" </dev/null \
        >>"$TMP/$1/pvm.log" 2>&1 &
    PVM_PIDS="$PVM_PIDS $!"
    pvm_wait_port "$fc" 10 "$!" || { bad "$1: pvm-fcgi did not start"; exit 1; }
    pvm_nginx_conf "$TMP/$1-nginx" "$NP" "127.0.0.1:$fc" &&
        pvm_nginx_start "$TMP/$1-nginx" 10 ||
        { bad "$1: nginx did not start"; exit 1; }
    NGINX_DIRS="$NGINX_DIRS $TMP/$1-nginx"
}

# get PORT TARGET OUT: GET through nginx; body in OUT, prints
# "STATUS SECONDS".
get() {
    curl -s -o "$3" -m 60 -w '%{http_code} %{time_total}' \
        "http://127.0.0.1:$1$2"
}

# lt A B: true when the decimal A < B.
lt() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'
}

EX=prometheus_virtual_metrics_example_metric
# One series, a subquery at 10 s over 20 days behind each of 11,000 steps:
# about 2e9 window additions, no more memory than a few MB.
HEAVY="/api/v1/query_range?query=stddev_over_time(sum($EX)%5B20d:10s%5D)&start=1700000000&end=1700659940&step=60"
TIMEOUT_ENV='{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}'

echo "=== timeout and starvation (workers = 2)"
start main ""
read -r st t <<EOF
$(get "$NP" "/api/v1/query?query=$EX" "$TMP/warm")
EOF
[ "$st" = 200 ]
check "an ordinary query answers 200 ($t s)" $?

read -r st t <<EOF
$(get "$NP" "$HEAVY&timeout=1s" "$TMP/heavy")
EOF
[ "$st" = 503 ] && [ "$(cat "$TMP/heavy")" = "$TIMEOUT_ENV" ]
check "a heavy query with timeout=1s answers the 503 timeout envelope ($st: $(head -c 200 "$TMP/heavy"))" $?
lt "$t" 2.0
check "... within 1 s of its deadline ($t s)" $?

# two heavy queries occupy both workers; an ordinary one comes 0.3 s later
get "$NP" "$HEAVY&timeout=1s" "$TMP/h1" >"$TMP/h1.st" &
H1=$!
get "$NP" "$HEAVY&timeout=1s" "$TMP/h2" >"$TMP/h2.st" &
H2=$!
BG="$H1 $H2"
sleep 0.3
read -r st t <<EOF
$(get "$NP" "/api/v1/query?query=$EX" "$TMP/ordinary")
EOF
[ "$st" = 200 ] && lt "$t" 3.0
check "with both workers on heavy queries an ordinary query gets through within 3 s ($st in $t s)" $?
wait "$H1" "$H2"
BG=
# Three requests share the 2 cores here (and make check runs other suites
# beside this one): 0.5 s of slack over the single query's bound above.
for h in h1 h2; do
    read -r st t <"$TMP/$h.st"
    [ "$st" = 503 ] && lt "$t" 2.5
    check "heavy query $h: 503 after $t s" $?
done

read -r st t <<EOF
$(get "$NP" "/api/v1/query?query=count_over_time($EX%5B1y:1ms%5D)&timeout=1s" "$TMP/steps")
EOF
[ "$st" = 422 ] && lt "$t" 1.0 &&
    grep -q '"errorType":"execution","error":"query processing would load too many samples into memory in query execution"' "$TMP/steps"
check "count_over_time(x[1y:1ms]) is refused at once ($st in $t s: $(head -c 160 "$TMP/steps"))" $?

echo "=== no timeout parameter: 5/6 of request_timeout (3s)"
start short "request_timeout = 3s"
read -r st t <<EOF
$(get "$NP" "$HEAVY" "$TMP/default")
EOF
[ "$st" = 503 ] && [ "$(cat "$TMP/default")" = "$TIMEOUT_ENV" ]
check "the query answers the 503 envelope itself, not a killed worker's 502 ($st: $(head -c 200 "$TMP/default"))" $?
lt "$t" 3.0 && lt 2.3 "$t"
check "... at its 2.5 s deadline ($t s)" $?
! grep -q 'killing it' "$TMP/short/pvm.log"
check "no worker was killed" $?
