#!/bin/bash
# tests/integration/fcgi.sh: the FastCGI transport under misbehaving and
# keep-alive clients, through real nginx on 127.0.0.1 (a TESTS entry).
# Starts tests/pvm-fcgi-test (example + chaos plugins) and checks:
#   idle      with as many idle and as many half-sent FastCGI connections
#             as workers (default request_read_timeout, 5 s), an ordinary
#             query through nginx still answers within request_read_timeout
#             + 2 s; the idle connections are closed by then; logged
#   kill      the master SIGKILLed while idle connections are open: its
#             workers exit (the parent-death signal is not blocked) and a
#             new instance binds the same port at once
#   keepalive nginx with an upstream keepalive pool and fastcgi_keep_conn
#             on (conf/nginx/pvm-nginx-keepalive.conf.in): 60 requests in a
#             row and a concurrent load all answer promptly, over kept
#             connections
#   unix      a second instance on the unix socket of a live one refuses
#             to start and leaves it working; the socket has mode 0660; a
#             stale socket file (its server SIGKILLed) is replaced
# Every request and wait is bounded; processes are stopped by PID.
# Prints "PVM-RESULT: fcgi: P passed, F failed, S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
LOAD=$top_builddir/tests/lib/load
pvm_script_begin fcgi "$LOAD"
pvm_script_before_cleanup() {
    close_attack
}

# now_ms: monotonic enough wall clock in milliseconds.
now_ms() {
    echo $(( $(date +%s%N) / 1000000 ))
}

# write_ini NAME LISTEN WORKERS EXTRA_SERVER_LINES
write_ini() {
    mkdir -p "$TMP/$1"
    cat >"$TMP/$1/pvm.ini" <<EOF
[server]
listen = $2
workers = $3
access_log = debug
$4

[plugin:example]

[plugin:chaos]
EOF
}

# start_pvm NAME PORT: starts pvm-fcgi on $TMP/NAME/pvm.ini, waits for
# 127.0.0.1:PORT; sets PID.
start_pvm() {
    "$PVM_BIN" --config "$TMP/$1/pvm.ini" </dev/null \
        >>"$TMP/$1/pvm.log" 2>&1 &
    PID=$!
    PVM_PIDS="$PVM_PIDS $PID"
    pvm_wait_port "$2" 10 "$PID" || {
        bad "$1: pvm-fcgi did not start"
        exit 1
    }
}

# start_nginx NAME PORT FCGI [TEMPLATE]: nginx in $TMP/NAME-nginx.
start_nginx() {
    mkdir -p "$TMP/$1-nginx"
    PVM_NGINX_TEMPLATE=${4:-} pvm_nginx_conf "$TMP/$1-nginx" "$2" "$3" &&
        pvm_nginx_start "$TMP/$1-nginx" 10 || {
        bad "$1: nginx did not start"
        exit 1
    }
    NGINX_DIRS="$NGINX_DIRS $TMP/$1-nginx"
}

# FastCGI records: BEGIN_REQUEST (id 1, responder, keep the connection)
# and the start of a PARAMS record announcing 64 bytes, of which 3 come.
BEGIN='\x01\x01\x00\x01\x00\x08\x00\x00\x00\x01\x01\x00\x00\x00\x00\x00'
HALF_PARAMS='\x01\x04\x00\x01\x00\x40\x00\x00\x0b\x02HT'

# open_attack PORT IDLE HALF: opens IDLE connections that send nothing and
# HALF that send a BEGIN_REQUEST and half a PARAMS record, on fds 10...
ATTACK_FDS=
open_attack() {
    oa_fd=10
    for _ in $(seq "$2"); do
        eval "exec $oa_fd<>/dev/tcp/127.0.0.1/$1" || return 1
        ATTACK_FDS="$ATTACK_FDS $oa_fd"
        oa_fd=$((oa_fd + 1))
    done
    for _ in $(seq "$3"); do
        eval "exec $oa_fd<>/dev/tcp/127.0.0.1/$1" || return 1
        printf "$BEGIN$HALF_PARAMS" >&"$oa_fd"
        ATTACK_FDS="$ATTACK_FDS $oa_fd"
        oa_fd=$((oa_fd + 1))
    done
}

close_attack() {
    for f in $ATTACK_FDS; do
        eval "exec $f>&-"
    done
    ATTACK_FDS=
}

# closed_by_peer FD SECONDS: true when the server closes the connection on
# FD within SECONDS (reads until EOF or a reset).
closed_by_peer() {
    timeout "$2" cat <&"$1" >/dev/null 2>&1
    [ $? != 124 ]
}

Q=/api/v1/query?query
EX=prometheus_virtual_metrics_example_metric
T0=$(date +%s)

# ---- idle and half-sent connections -------------------------------------
echo "=== idle and half-sent FastCGI connections (workers = 2, defaults)"
FC=$(pvm_free_port) && NP=$(pvm_free_port) || exit 99
write_ini idle "127.0.0.1:$FC" 2 ""
start_pvm idle "$FC"
MASTER=$PID
start_nginx idle "$NP" "127.0.0.1:$FC"
[ "$(curl -s -o /dev/null -m 10 -w '%{http_code}' "http://127.0.0.1:$NP$Q=$EX")" = 200 ]
check "a query answers 200 before the attack" $?

open_attack "$FC" 2 2 || { bad "cannot open the attack connections"; exit 1; }
sleep 0.5
t=$(now_ms)
c=$(curl -s -o /dev/null -m 15 -w '%{http_code}' "http://127.0.0.1:$NP$Q=$EX")
dt=$(( $(now_ms) - t ))
[ "$c" = 200 ] && [ "$dt" -le 7000 ]
check "2 idle + 2 half-sent connections, 2 workers: a query answers ($c in $dt ms, limit 7000)" $?
"$LOAD" -c 2 -n 40 -t 10 "$NP" "$Q=$EX" "/api/v1/labels" >"$TMP/load1" 2>&1
rc=$?
check "40 more requests meanwhile ($(tail -n 1 "$TMP/load1"))" $rc
t=$(now_ms)
closed=0
for f in $ATTACK_FDS; do
    closed_by_peer "$f" 8 && closed=$((closed + 1))
done
dt=$(( $(now_ms) - t ))
[ "$closed" = 4 ]
check "the server closed the 4 attack connections ($closed, $dt ms after the query)" $?
close_attack
grep -q 'no request arrived within \[server\] request_read_timeout' "$TMP/idle/pvm.log" &&
    grep -q 'request header was not complete within \[server\] request_read_timeout' "$TMP/idle/pvm.log"
check "the closes are logged" $?

# more attackers than any worker could hold one by one
open_attack "$FC" 20 20 || { bad "cannot open 40 attack connections"; exit 1; }
t=$(now_ms)
c=$(curl -s -o /dev/null -m 15 -w '%{http_code}' "http://127.0.0.1:$NP$Q=$EX")
dt=$(( $(now_ms) - t ))
[ "$c" = 200 ] && [ "$dt" -le 7000 ]
check "40 attack connections: a query answers ($c in $dt ms)" $?

# ---- master SIGKILLed with idle connections open -------------------------
echo "=== master SIGKILLed while idle connections are open"
WORKERS=$(pgrep -P "$MASTER" | tr '\n' ' ')
kill -KILL "$MASTER"
wait "$MASTER" 2>/dev/null
t=$(now_ms)
# at once, with the attack connections still open
mkdir -p "$TMP/again"
cp "$TMP/idle/pvm.ini" "$TMP/again/pvm.ini"
"$PVM_BIN" --config "$TMP/again/pvm.ini" </dev/null >"$TMP/again/pvm.log" 2>&1 &
AGAIN=$!
PVM_PIDS="$PVM_PIDS $AGAIN"
pvm_wait_port "$FC" 10 "$AGAIN" &&
    [ "$(curl -s -o /dev/null -m 10 -w '%{http_code}' "http://127.0.0.1:$NP$Q=$EX")" = 200 ]
check "a new instance listens on the same port at once and answers" $?
! grep -q 'Address already in use' "$TMP/again/pvm.log"
check "no 'Address already in use'" $?
# request_read_timeout (5 s) bounds how long a stopping worker waits for
# its half-sent connections; 5 s more of slack for a loaded machine (the
# test command runs suites in parallel).
gone=1
while [ $(( $(now_ms) - t )) -lt 10000 ]; do
    gone=1
    for w in $WORKERS; do
        kill -0 "$w" 2>/dev/null && gone=0
    done
    [ "$gone" = 1 ] && break
    sleep 0.1
done
[ "$gone" = 1 ] && [ -n "$WORKERS" ]
check "the old workers ($WORKERS) exit within request_read_timeout + 5 s of the master's death" $?
for w in $WORKERS; do
    kill -KILL "$w" 2>/dev/null
done
close_attack
pvm_stop_pid "$AGAIN" 10

# ---- keep-alive ------------------------------------------------------------
echo "=== nginx keepalive pool with fastcgi_keep_conn on"
FK=$(pvm_free_port) && NK=$(pvm_free_port) || exit 99
write_ini keep "127.0.0.1:$FK" 2 ""
start_pvm keep "$FK"
KM=$PID
start_nginx keep "$NK" "127.0.0.1:$FK" \
    "$top_srcdir/conf/nginx/pvm-nginx-keepalive.conf.in"
fails=0
t=$(now_ms)
for i in $(seq 60); do
    case $((i % 3)) in
    0) c=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$NK$Q=$EX") ;;
    1) c=$(curl -s -o /dev/null -m 3 -w '%{http_code}' \
        --data-urlencode "query=$EX" "http://127.0.0.1:$NK/api/v1/query") ;;
    2) c=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$NK/api/v1/labels") ;;
    esac
    [ "$c" = 200 ] || fails=$((fails + 1))
done
dt=$(( $(now_ms) - t ))
[ "$fails" = 0 ] && [ "$dt" -le 15000 ]
check "60 requests in a row over kept connections: $fails failed or slow, $dt ms" $?
# POST bodies larger than libfcgi's 8 KiB read buffer over kept
# connections (what is left of a body is skipped: test_fcgi_wait)
head -c 20000 /dev/zero | tr '\0' 'x' >"$TMP/pad"
fails=0
for i in $(seq 10); do
    c=$(curl -s -o /dev/null -m 3 -w '%{http_code}' --data-urlencode "query=$EX" \
        --data-urlencode "pad@$TMP/pad" "http://127.0.0.1:$NK/api/v1/query")
    [ "$c" = 200 ] || fails=$((fails + 1))
done
[ "$fails" = 0 ]
check "10 POSTs of 20 KB over kept connections ($fails failed)" $?
"$LOAD" -c 4 -n 400 -t 5 "$NK" "$Q=$EX" "/api/v1/labels" \
    "/api/v1/query_range?query=$EX&start=0&end=600&step=15" >"$TMP/load2" 2>&1
rc=$?
check "400 concurrent requests over kept connections ($(tail -n 1 "$TMP/load2"))" $rc
if command -v ss >/dev/null 2>&1; then
    n=$(ss -Htn state established "( sport = :$FK )" 2>/dev/null | wc -l)
    [ "$n" -ge 1 ]
    check "nginx's connections stay open between requests ($n)" $?
else
    skip "ss not installed: kept connections not counted"
fi
# a kept connection idle past keepalive_timeout is closed by pvm
printf '[server]\nlisten = 127.0.0.1:%s\nworkers = 2\nkeepalive_timeout = 1s\n\n[plugin:example]\n' \
    "$FK" >"$TMP/keep/pvm.ini"
kill -HUP "$KM"
sleep 2
c=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$NK$Q=$EX")
sleep 2
if command -v ss >/dev/null 2>&1; then
    n=$(ss -Htn state established "( sport = :$FK )" 2>/dev/null | wc -l)
    [ "$c" = 200 ] && [ "$n" = 0 ]
    check "keepalive_timeout = 1s: kept connections closed after 1 s idle ($c, $n open)" $?
fi
c=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$NK$Q=$EX")
[ "$c" = 200 ]
check "the next request opens a new connection ($c)" $?
pvm_stop_pid "$KM" 10

# ---- unix socket: no takeover of a live one -------------------------------
echo "=== a second instance on the unix socket of a live one"
SOCK=$TMP/u/pvm.sock
NU=$(pvm_free_port) || exit 99
write_ini u "unix:$SOCK" 2 ""
"$PVM_BIN" --config "$TMP/u/pvm.ini" </dev/null >>"$TMP/u/pvm.log" 2>&1 &
UA=$!
PVM_PIDS="$PVM_PIDS $UA"
pvm_wait_path "$SOCK" 10 "$UA" || { bad "unix: pvm-fcgi did not start"; exit 1; }
start_nginx u "$NU" "unix:$SOCK"
[ "$(stat -c %a "$SOCK")" = 660 ]
check "the socket has mode 0660 ($(stat -c %a "$SOCK"))" $?
mkdir -p "$TMP/u2"
"$PVM_BIN" --config "$TMP/u/pvm.ini" </dev/null >"$TMP/u2/pvm.log" 2>&1 &
UB=$!
PVM_PIDS="$PVM_PIDS $UB"
rc=timeout
for _ in $(seq 50); do
    if ! kill -0 "$UB" 2>/dev/null; then
        wait "$UB"
        rc=$?
        break
    fi
    sleep 0.1
done
[ "$rc" != timeout ] && [ "$rc" != 0 ] &&
    grep -q 'another server is listening there' "$TMP/u2/pvm.log"
check "the second instance refuses to start (exit $rc)" $?
[ -S "$SOCK" ] &&
    [ "$(curl -s -o /dev/null -m 10 -w '%{http_code}' "http://127.0.0.1:$NU$Q=$EX")" = 200 ]
check "the first instance still answers on its socket" $?
UW=$(pgrep -P "$UA" | tr '\n' ' ')
kill -KILL "$UA" $UW 2>/dev/null
wait "$UA" 2>/dev/null
# SIGKILL is asynchronous: until its workers are gone, the socket still
# has a listener (and a new instance rightly refuses it).
for _ in $(seq 50); do
    alive=
    for w in $UW; do kill -0 "$w" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.1
done
[ -S "$SOCK" ]
check "a SIGKILLed instance leaves a stale socket file" $?
"$PVM_BIN" --config "$TMP/u/pvm.ini" </dev/null >"$TMP/u2/pvm3.log" 2>&1 &
UC=$!
PVM_PIDS="$PVM_PIDS $UC"
ok3=1
for _ in $(seq 50); do
    c=$(curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$NU$Q=$EX")
    [ "$c" = 200 ] && { ok3=0; break; }
    kill -0 "$UC" 2>/dev/null || break
    sleep 0.1
done
[ "$ok3" = 0 ]
check "a new instance replaces the stale socket and answers" $?
pvm_stop_pid "$UC" 10

echo "fcgi.sh: $(( $(date +%s) - T0 )) s"
[ "$FAIL" = 0 ]
