#!/bin/sh
# tests/integration/process.sh: the process model through real nginx on
# 127.0.0.1 (a TESTS entry). Starts tests/pvm-fcgi-test (example + chaos
# plugins) as a master with workers and checks:
#   crash     a hook segfaulting on `crash_me` loses only that request
#             (502), the next 100 succeed, the master logs the signal and
#             the request line, the workers are back to full strength
#   timeout   a hook sleeping past request_timeout is stopped (the client
#             gets a 503 JSON envelope) while the other worker keeps
#             answering; counted in /metrics
#   metrics   /metrics counts requests, restarts and plugin errors
#   crashloop workers dying in on_startup are restarted with a back-off;
#             a failing on_startup in the first workers stops the master
#   reload    SIGHUP under load (twice, then a broken config that is
#             rejected): zero failed requests
#   stop      SIGTERM with requests in flight: they all succeed, every
#             worker runs on_shutdown, the master exits 0
#   failover  nginx in front of two instances (conf/nginx/
#             pvm-nginx-upstream.conf.in), one SIGKILLed with its workers
#             during a load run: zero failed requests
#   activate  systemd socket activation (LISTEN_FDS/LISTEN_PID, through
#             systemd-socket-activate) and a socket inherited on fd 0
#             (spawn-fcgi)
# Every request and wait is bounded; processes are stopped by PID.
# Prints "PVM-RESULT: process: P passed, F failed, S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
LOAD=$top_builddir/tests/lib/load
pvm_script_begin process "$LOAD"

# code PORT PATH: prints the HTTP status of GET PATH through nginx.
code() {
    curl -s -o /dev/null -m 20 -w '%{http_code}' "http://127.0.0.1:$1$2"
}

# metric PORT SERIES: prints the value of one series of /metrics (empty
# when absent), e.g. metric 8080 'pvm_workers{state="idle"}'.
metric() {
    curl -s -m 10 "http://127.0.0.1:$1/metrics" |
        awk -v s="$2" '$1 == s { print $2; exit }'
}

# workers PORT: busy + idle workers reported by /metrics.
workers() {
    wk_b=$(metric "$1" 'pvm_workers{state="busy"}')
    wk_i=$(metric "$1" 'pvm_workers{state="idle"}')
    echo $(( ${wk_b:-0} + ${wk_i:-0} ))
}

# wait_workers PORT N SECONDS: true once /metrics reports N workers
# (the one answering included).
wait_workers() {
    ww_n=$(( $3 * 10 ))
    while [ "$ww_n" -gt 0 ]; do
        [ "$(workers "$1")" = "$2" ] && return 0
        sleep 0.1
        ww_n=$((ww_n - 1))
    done
    return 1
}

# children PID: number of child processes of PID.
children() {
    pgrep -P "$1" 2>/dev/null | wc -l | tr -d ' '
}

# wait_exit PID SECONDS: waits for a background child of this shell
# (not in a subshell: only the parent can reap it); sets RC to its exit
# status, or "timeout" (then it is killed). A zombie counts as exited.
wait_exit() {
    we_n=$(( $2 * 10 ))
    while [ "$we_n" -gt 0 ] && kill -0 "$1" 2>/dev/null &&
        ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; do
        sleep 0.1
        we_n=$((we_n - 1))
    done
    if [ "$we_n" = 0 ]; then
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        RC=timeout
        return
    fi
    wait "$1"
    RC=$?
}

# start_pvm NAME PORT [ARGS...]: starts pvm-fcgi on $TMP/NAME/pvm.ini
# listening on 127.0.0.1:PORT; sets PID.
start_pvm() {
    sp_name=$1
    sp_port=$2
    shift 2
    "$PVM_BIN" --config "$TMP/$sp_name/pvm.ini" "$@" </dev/null \
        >>"$TMP/$sp_name/pvm.log" 2>&1 &
    PID=$!
    PVM_PIDS="$PVM_PIDS $PID"
    pvm_wait_port "$sp_port" 10 "$PID" || {
        bad "$sp_name: pvm-fcgi did not start"
        exit 1
    }
}

# start_nginx NAME PORT FCGI: nginx in $TMP/NAME-nginx.
start_nginx() {
    mkdir -p "$TMP/$1-nginx"
    pvm_nginx_conf "$TMP/$1-nginx" "$2" "$3" &&
        pvm_nginx_start "$TMP/$1-nginx" 10 || {
        bad "$1: nginx did not start"
        exit 1
    }
    NGINX_DIRS="$NGINX_DIRS $TMP/$1-nginx"
}

# write_ini NAME FCGI_PORT WORKERS EXTRA_SERVER_LINES CHAOS_LINES
write_ini() {
    mkdir -p "$TMP/$1"
    cat >"$TMP/$1/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$2
workers = $3
access_log = debug
$4

[plugin:example]

[plugin:chaos]
$5
EOF
}

Q=/api/v1/query?query
EX=prometheus_virtual_metrics_example_metric
T0=$(date +%s)

# ---- crash, timeout, metrics ------------------------------------------
echo "=== crash and timeout (workers = 2, request_timeout = 2s)"
FC=$(pvm_free_port) && NP=$(pvm_free_port) || exit 99
write_ini chaos "$FC" 2 "request_timeout = 2s" "sleep = 6"
start_pvm chaos "$FC"
MASTER=$PID
start_nginx chaos "$NP" "127.0.0.1:$FC"
LOG=$TMP/chaos/pvm.log

[ "$(children "$MASTER")" = 2 ]
check "master has 2 workers" $?
[ "$(code "$NP" "$Q=$EX")" = 200 ]
check "a query answers 200" $?
[ "$(code "$NP" "$Q=crash_me")" = 502 ]
check "the crashing request fails (502 from nginx)" $?
"$LOAD" -c 4 -n 100 "$NP" "$Q=$EX" "/api/v1/labels" \
    "/api/v1/query_range?query=$EX&start=0&end=60&step=15" >"$TMP/load1" 2>&1
check "the next 100 requests all succeed ($(tail -n 1 "$TMP/load1"))" $?
wait_workers "$NP" 2 5
check "2 workers again after the crash (/metrics)" $?
[ "$(children "$MASTER")" = 2 ]
check "2 workers again after the crash (pgrep -P)" $?
grep -q 'error: worker [0-9]* .*while serving "GET /api/v1/query?query=crash_me"' "$LOG"
check "the master logged the lost request line" $?
grep -q 'killed by signal 11' "$LOG" || grep -q 'exited with status' "$LOG"
check "the master logged the signal (or the sanitizer's exit)" $?
c=$(metric "$NP" 'pvm_worker_restarts_total{reason="crash"}')
e=$(metric "$NP" 'pvm_worker_restarts_total{reason="exit"}')
[ $(( ${c:-0} + ${e:-0} )) = 1 ]
check "one restart counted (crash=${c:-?} exit=${e:-?})" $?

# timeout: one worker sleeps 6 s, the other answers meanwhile
t_start=$(date +%s)
curl -s -o "$TMP/sleep.body" -m 20 -w '%{http_code}' \
    "http://127.0.0.1:$NP$Q=sleep_me" >"$TMP/sleep.code" 2>/dev/null &
SLEEPER=$!
sleep 0.3
"$LOAD" -c 1 -n 20 "$NP" "$Q=$EX" >"$TMP/load2" 2>&1
check "the other worker answers during the sleep ($(tail -n 1 "$TMP/load2"))" $?
wait "$SLEEPER"
t_end=$(date +%s)
[ "$(cat "$TMP/sleep.code")" = 503 ] && [ $((t_end - t_start)) -lt 5 ]
check "the sleeping request is stopped after request_timeout ($(cat "$TMP/sleep.code") in $((t_end - t_start)) s)" $?
grep -q '^{"status":"error","errorType":"timeout","error":".*request_timeout' "$TMP/sleep.body"
check "the client gets the JSON timeout envelope, not nginx's 502 page" $?
grep -q 'worker [0-9]* stopped itself serving "GET /api/v1/query?query=sleep_me" (over \[server\] request_timeout)' "$LOG"
check "the master logged the timeout with the request line" $?
wait_workers "$NP" 2 5
check "2 workers again after the timeout" $?
[ "$(metric "$NP" 'pvm_worker_restarts_total{reason="timeout"}')" = 1 ]
check "the timeout restart is counted" $?

# metrics
[ "$(code "$NP" "$Q=fail_me")" = 500 ]
check "a failing hook answers 500" $?
[ "$(metric "$NP" 'pvm_plugin_errors_total{plugin="chaos"}')" = 1 ]
check "pvm_plugin_errors_total{plugin=\"chaos\"} = 1" $?
n=$(metric "$NP" 'pvm_http_requests_total{handler="/api/v1/query",code="200"}')
[ "${n:-0}" -ge 50 ]
check "requests counted across workers (query 200: ${n:-none})" $?
n=$(metric "$NP" 'pvm_http_request_duration_seconds_count{handler="/api/v1/labels"}')
[ "${n:-0}" -ge 30 ]
check "duration histogram counts labels requests (${n:-none})" $?
[ "$(grep -c 'chaos: on_master_startup' "$LOG")" = 1 ]
check "on_master_startup ran once" $?
pvm_stop_pid "$MASTER" 10

# ---- crash loop -------------------------------------------------------
echo "=== crash loop back-off and startup failure"
FL=$(pvm_free_port) || exit 99
write_ini loop "$FL" 2 "" "startup = crash"
"$PVM_BIN" --config "$TMP/loop/pvm.ini" </dev/null >"$TMP/loop/pvm.log" 2>&1 &
LOOP=$!
PVM_PIDS="$PVM_PIDS $LOOP"
# Until the master says it backs off (at least 3 s; at most 10 s: an
# ASan build on a loaded machine starts workers slowly). Without the
# back-off, workers dying at once would restart hundreds of times a
# second; with it, a few.
n=0
while [ "$n" -lt 100 ] && { [ "$n" -lt 30 ] ||
    ! grep -q 'workers keep dying within 1 s' "$TMP/loop/pvm.log"; }; do
    sleep 0.1
    n=$((n + 1))
done
starts=$(grep -c 'chaos: on_startup' "$TMP/loop/pvm.log")
[ "$starts" -ge 3 ] && [ "$starts" -le "$n" ] &&
    grep -q 'workers keep dying within 1 s' "$TMP/loop/pvm.log"
check "a crash loop backs off ($starts worker starts in $((n / 10)) s)" $?
pvm_stop_pid "$LOOP" 10
FS=$(pvm_free_port) || exit 99
write_ini startfail "$FS" 2 "" "startup = fail"
"$PVM_BIN" --config "$TMP/startfail/pvm.ini" </dev/null \
    >"$TMP/startfail/pvm.log" 2>&1 &
SF=$!
wait_exit "$SF" 10
[ "$RC" = 1 ] && grep -q 'on_startup failed: chaos: startup = fail' \
    "$TMP/startfail/pvm.log"
check "failing on_startup in the first workers: the master exits 1 ($RC)" $?

# ---- reload under load, then graceful stop ------------------------------
echo "=== SIGHUP under load, SIGTERM with requests in flight"
FR=$(pvm_free_port) && NR=$(pvm_free_port) || exit 99
write_ini reload "$FR" 2 "shutdown_timeout = 10s" "sleep = 1"
start_pvm reload "$FR"
RM=$PID
start_nginx reload "$NR" "127.0.0.1:$FR"
RLOG=$TMP/reload/pvm.log
"$LOAD" -c 4 -n 100000 -d 3 "$NR" "$Q=$EX" "/api/v1/labels" \
    "/api/v1/series?match[]=$EX" >"$TMP/load3" 2>&1 &
LP=$!
sleep 0.5
kill -HUP "$RM"
sleep 0.8
sed -i 's/^sleep = 1$/sleep = 0.5/' "$TMP/reload/pvm.ini"
kill -HUP "$RM"
sleep 0.8
cp "$TMP/reload/pvm.ini" "$TMP/reload/pvm.ini.good"
printf 'bogus_key = 1\n' >>"$TMP/reload/pvm.ini"
kill -HUP "$RM"
sleep 0.3
wait_exit "$LP" 20
[ "$RC" = 0 ]
check "SIGHUP x2 + a broken config under load: no failed request ($(tail -n 1 "$TMP/load3"))" $?
cp "$TMP/reload/pvm.ini.good" "$TMP/reload/pvm.ini"
[ "$(metric "$NR" 'pvm_config_reloads_total{result="success"}')" = 2 ] &&
    [ "$(metric "$NR" 'pvm_config_reloads_total{result="failure"}')" = 1 ]
check "2 reloads applied, 1 rejected (/metrics)" $?
grep -q 'reload failed, keeping the running configuration: .*bogus_key' "$RLOG"
check "the broken config is logged and rejected" $?
wait_workers "$NR" 2 5 && [ "$(children "$RM")" = 2 ]
check "2 workers after the reloads" $?

# graceful stop: two requests in flight (sleep 0.5 s each) finish
for i in 1 2; do
    curl -s -o /dev/null -m 20 -w '%{http_code}' \
        "http://127.0.0.1:$NR$Q=sleep_me" >"$TMP/inflight.$i" 2>/dev/null &
    eval "IF$i=\$!"
done
sleep 0.25
kill -TERM "$RM"
wait "$IF1"
wait "$IF2"
[ "$(cat "$TMP/inflight.1")" = 200 ] && [ "$(cat "$TMP/inflight.2")" = 200 ]
check "SIGTERM: the requests in flight succeed ($(cat "$TMP/inflight.1") $(cat "$TMP/inflight.2"))" $?
wait_exit "$RM" 10
[ "$RC" = 0 ]
check "SIGTERM: the master exits 0 ($RC)" $?
n=$(sed -n '/stopping: /,$p' "$RLOG" | grep -c 'chaos: on_shutdown')
[ "$n" = 2 ]
check "SIGTERM: on_shutdown ran in each of the 2 workers ($n)" $?

# ---- failover -------------------------------------------------------------
echo "=== nginx upstream failover (two instances, one killed under load)"
FA=$(pvm_free_port) && FB=$(pvm_free_port) && NU=$(pvm_free_port) || exit 99
write_ini fa "$FA" 2 "" ""
write_ini fb "$FB" 2 "" ""
start_pvm fa "$FA"
PA=$PID
start_pvm fb "$FB"
mkdir -p "$TMP/up-nginx"
sed "s|@FCGI_PASS2@|127.0.0.1:$FB|" \
    "$top_srcdir/conf/nginx/pvm-nginx-upstream.conf.in" >"$TMP/up-nginx.in"
PVM_NGINX_TEMPLATE=$TMP/up-nginx.in pvm_nginx_conf "$TMP/up-nginx" "$NU" \
    "127.0.0.1:$FA" && pvm_nginx_start "$TMP/up-nginx" 10 || {
    bad "failover: nginx did not start"
    exit 1
}
NGINX_DIRS="$NGINX_DIRS $TMP/up-nginx"
"$LOAD" -c 4 -n 100000 -d 3 "$NU" "$Q=$EX" \
    "/api/v1/query_range?query=$EX&start=0&end=600&step=15" >"$TMP/load4" 2>&1 &
LP=$!
sleep 1
kill -KILL "$PA" $(pgrep -P "$PA") 2>/dev/null
wait_exit "$LP" 20
[ "$RC" = 0 ]
check "one of two instances SIGKILLed under load: no failed request ($(tail -n 1 "$TMP/load4"))" $?

# ---- socket activation, inherited socket --------------------------------
echo "=== systemd socket activation and an inherited socket"
if command -v systemd-socket-activate >/dev/null 2>&1; then
    FT=$(pvm_free_port) && NT=$(pvm_free_port) || exit 99
    mkdir -p "$TMP/sd"
    printf '[server]\nworkers = 2\n\n[plugin:example]\n' >"$TMP/sd/pvm.ini"
    systemd-socket-activate -l "127.0.0.1:$FT" "$PVM_BIN" \
        --config "$TMP/sd/pvm.ini" </dev/null >"$TMP/sd/pvm.log" 2>&1 &
    SD=$!
    PVM_PIDS="$PVM_PIDS $SD"
    pvm_wait_port "$FT" 10 "$SD"
    start_nginx sd "$NT" "127.0.0.1:$FT"
    [ "$(code "$NT" "$Q=$EX")" = 200 ] &&
        grep -q 'serving on a systemd socket' "$TMP/sd/pvm.log"
    check "socket activation (LISTEN_FDS=1, fd 3): answers 200" $?
    wait_workers "$NT" 2 5
    check "socket activation: the master runs 2 workers" $?
    pvm_stop_pid "$SD" 10
else
    skip "systemd-socket-activate not installed (Debian package systemd)"
fi
if command -v spawn-fcgi >/dev/null 2>&1; then
    FI=$(pvm_free_port) && NI=$(pvm_free_port) || exit 99
    mkdir -p "$TMP/inh"
    printf '[server]\nworkers = 2\n\n[plugin:example]\n' >"$TMP/inh/pvm.ini"
    spawn-fcgi -n -a 127.0.0.1 -p "$FI" -- "$PVM_BIN" \
        --config "$TMP/inh/pvm.ini" </dev/null >"$TMP/inh/pvm.log" 2>&1 &
    SI=$!
    PVM_PIDS="$PVM_PIDS $SI"
    pvm_wait_port "$FI" 10 "$SI"
    start_nginx inh "$NI" "127.0.0.1:$FI"
    [ "$(code "$NI" "$Q=$EX")" = 200 ] && wait_workers "$NI" 2 5
    check "socket inherited on fd 0 (spawn-fcgi -n): 2 workers answer" $?
    pvm_stop_pid "$SI" 10
else
    skip "spawn-fcgi not installed"
fi

echo "process.sh: $(( $(date +%s) - T0 )) s"
[ "$FAIL" = 0 ]
