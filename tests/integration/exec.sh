#!/bin/sh
# tests/integration/exec.sh: the exec plugin through real nginx on
# 127.0.0.1 (a TESTS entry). One pvm-fcgi-test (workers = 1: a single
# process, whose children are the commands) serves the
# three examples of conf/examples/exec/ (shell, Python CSV, Python
# persistent) and two instances of hostile commands written here, which
# pick their behaviour from the metric asked for (PVM_METRIC):
#   every request type through the examples; the request's JSON and
#   PVM_* variables; a command that exits 1, prints garbage, prints 100 MB
#   (killed at max_output_bytes), never exits (killed at the timeout, the
#   server keeps serving), forks a child that outlives it (the process
#   group is killed: the child's pid is gone), reads no stdin under a big
#   request; a persistent command that crashes and is restarted; no
#   zombie children of pvm-fcgi, and no process of the commands left
#   once pvm-fcgi stopped. Then a second pvm-fcgi with workers = 2: the
#   workers have no child left after forking, big and failing commands.
# Every request and wait is bounded; processes are stopped by PID. Under
# valgrind (tests/valgrind.sh sets PVM_TEST_HTTP_TIMEOUT_MS) the client
# timeout and the timing slack grow.
# Prints "PVM-RESULT: exec: P passed, F failed, S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
pvm_script_begin exec
EX=$top_srcdir/conf/examples/exec
PY=/usr/bin/python3
SRV=$TMP/srv
HTTP_S=$(( ${PVM_TEST_HTTP_TIMEOUT_MS:-30000} / 1000 ))
SLACK=3 # seconds over the 2 s command timeout
[ -n "${PVM_TEST_HTTP_TIMEOUT_MS:-}" ] && SLACK=30
mkdir -p "$SRV" "$TMP/nginx"

cat >"$SRV/hostile.sh" <<'SH'
#!/bin/sh
# behaviour by metric name; none of them reads stdin but "echo"
case $PVM_METRIC in
fail) echo "fail: no data for $PVM_METRIC" >&2; exit 1 ;;
garbage) echo '<html>garbage</html>'; echo "garbage: sorry" >&2 ;;
big) exec head -c 100000000 /dev/zero ;;
hang) exec sleep 60 ;;
fork)
    sleep 60 >/dev/null 2>&1 &
    echo $! >"$PIDDIR/fork.pid"
    sleep 60 &
    echo "fork 1 $PVM_TIME" ;;
nostdin) echo "nostdin 1 $PVM_TIME" ;;
echo)
    cat >"$PIDDIR/req.json"
    env | grep '^PVM_' | sort >"$PIDDIR/req.env"
    echo "echo 1 ${PVM_TIME:-$PVM_END}" ;;
esac
SH
cat >"$SRV/crashy.sh" <<'SH'
#!/bin/sh
# persistent: "crash_me" exits; "crashy" answers how often it was asked
# (asked for every selector of every request, as every instance is)
n=0
while IFS= read -r line; do
    case $line in *'"crash_me"'*) echo "crashy: asked to crash" >&2; exit 5 ;; esac
    case $line in *'"crashy"'*) n=$((n + 1)); echo "crashy $n 1700000000" ;; esac
    echo '# EOF'
done
SH
chmod +x "$SRV/hostile.sh" "$SRV/crashy.sh"

FC=$(pvm_free_port) && NP=$(pvm_free_port) || exit 99
HAVE_PY=yes
[ -x "$PY" ] || HAVE_PY=
{
    printf '[server]\nlisten = 127.0.0.1:%s\nworkers = 1\n\n' "$FC"
    printf '[plugin:clock]\ntype = exec\ncommand = %s/shell/clock.sh\n\n' "$EX"
    if [ -n "$HAVE_PY" ]; then
        printf '[plugin:csv]\ntype = exec\ncommand = %s %s/csv/csv_metrics.py readings.csv\nworking_directory = %s/csv\n\n' "$PY" "$EX" "$EX"
        printf '[plugin:waves]\ntype = exec\ncommand = %s %s/persistent/waves.py\npersistent = yes\n\n' "$PY" "$EX"
    fi
    printf '[plugin:hostile]\ntype = exec\ncommand = ./hostile.sh\ntimeout = 2s\nmax_output_bytes = 1M\nenv = PIDDIR=%s\npass_headers = X-Test\n\n' "$SRV"
    # the default timeout (10s): dash reads the 600 kB request line below
    # a byte at a time
    printf '[plugin:crashy]\ntype = exec\ncommand = ./crashy.sh\npersistent = yes\n'
} >"$SRV/pvm.ini"

"$PVM_BIN" --config "$SRV/pvm.ini" </dev/null >>"$SRV/pvm.log" 2>&1 &
MASTER=$!
PVM_PIDS="$MASTER"
pvm_wait_port "$FC" 10 "$MASTER" || { bad "pvm-fcgi did not start"; exit 1; }
pvm_nginx_conf "$TMP/nginx" "$NP" "127.0.0.1:$FC" &&
    pvm_nginx_start "$TMP/nginx" 10 || { bad "nginx did not start"; exit 1; }
NGINX_DIRS="$TMP/nginx"
[ -n "$HAVE_PY" ] || skip "the Python examples: $PY missing"

# get TARGET [CURL ARGS...]: GET through nginx; body in $TMP/body, prints
# "STATUS SECONDS".
get() {
    t=$1
    shift
    curl -s -o "$TMP/body" -m "$HTTP_S" -w '%{http_code} %{time_total}' "$@" \
        "http://127.0.0.1:$NP$t"
}

# expect NAME STATUS GREP TARGET [CURL ARGS...]: the answer has STATUS
# and a body matching the fixed string GREP.
expect() {
    name=$1 want=$2 pat=$3 target=$4
    shift 4
    read -r st secs <<EOT
$(get "$target" "$@")
EOT
    [ "$st" = "$want" ] && grep -qF -- "$pat" "$TMP/body"
    check "$name ($st in $secs s: $(head -c 240 "$TMP/body"))" $?
}

# procs: "PID STATE PPID" of every process (one cat and one awk: the
# machine may run hundreds of processes).
procs() {
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk '{ pid = $1; sub(/^.*\) /, ""); print pid, $1, $2 }'
}

# children PID: the ids of PID's child processes.
children() {
    procs | awk -v p="$1" '$3 == p { print $1 }'
}

# runs PID: true while PID is a live process (a zombie counts as gone).
runs() {
    procs | awk -v p="$1" '$1 == p && $2 != "Z" && $2 != "X" { f = 1 }
        END { exit !f }'
}

echo "=== the examples"
T=1700000000
expect "shell: clock_day_seconds at $T is $T mod 86400" 200 '"80000"' \
    "/api/v1/query?query=clock_day_seconds&time=$T"
expect "shell: a range query of clock_weekday" 200 '"clock_weekday"' \
    "/api/v1/query_range?query=clock_weekday&start=$T&end=$((T + 3600))&step=600"
expect "shell: label values of host" 200 "\"$(hostname)\"" \
    "/api/v1/label/host/values"
if [ -n "$HAVE_PY" ]; then
    expect "csv: the kitchen's latest reading at $T+200 is 21.5" 200 \
        '"21.5"' "/api/v1/query?query=room_temperature_celsius%7Broom%3D%22kitchen%22%7D&time=$((T + 200))"
    expect "csv: avg by (floor) over the file" 200 '"floor":"first"' \
        "/api/v1/query?query=avg%20by%20(floor)%20(avg_over_time(room_temperature_celsius%5B5m%5D))&time=$((T + 240))"
    expect "csv: /series with match[]" 200 '"room":"bedroom"' \
        "/api/v1/series?match%5B%5D=room_temperature_celsius&start=$T&end=$((T + 300))"
    expect "csv: label values of room" 200 '"kitchen"' \
        "/api/v1/label/room/values"
    expect "persistent: wave_value sine at $T" 200 '"0.98480775301' \
        "/api/v1/query?query=wave_value%7Bshape%3D%22sine%22%7D&time=$T"
    expect "persistent: a range query of wave_value" 200 '"square"' \
        "/api/v1/query_range?query=wave_value&start=$T&end=$((T + 3600))&step=60"
    expect "all: metric names" 200 '"wave_value"' "/api/v1/label/__name__/values"
    grep -qF '"room_temperature_celsius"' "$TMP/body" &&
        grep -qF '"clock_day_seconds"' "$TMP/body"
    check "... of the three examples" $?
    expect "all: label names" 200 '"shape"' "/api/v1/labels"
fi

echo "=== the request as JSON and PVM_* variables"
expect "echo: an instant query" 200 '"echo"' \
    "/api/v1/query?query=echo%7Bk!~%22a.%2A%22%7D&time=$T.5" \
    -H 'X-Test: hello' -H 'X-Hidden: no'
grep -qF '"type":"instant"' "$SRV/req.json" &&
    grep -qF '"time":1700000000.5' "$SRV/req.json" &&
    grep -qF '{"name":"k","op":"!~","value":"a.*"}' "$SRV/req.json" &&
    grep -qF '"headers":{"X-Test":"hello"}' "$SRV/req.json"
check "stdin JSON: type, time, matchers, the passed header only ($(cat "$SRV/req.json"))" $?
grep -qx 'PVM_TIME=1700000000.5' "$SRV/req.env" &&
    grep -qx 'PVM_METRIC=echo' "$SRV/req.env" &&
    grep -qx 'PVM_REQUEST_TYPE=instant' "$SRV/req.env" &&
    grep -qx 'PVM_START=' "$SRV/req.env"
check "environment: PVM_TIME, PVM_METRIC, PVM_REQUEST_TYPE" $?
expect "echo: a range query" 200 '"echo"' \
    "/api/v1/query_range?query=echo&start=$T&end=$((T + 600))&step=60"
grep -qx "PVM_STEP=60" "$SRV/req.env" &&
    grep -qx "PVM_END=$((T + 600))" "$SRV/req.env" &&
    grep -qx "PVM_REQUEST_TYPE=range" "$SRV/req.env" &&
    grep -qF '"step":60' "$SRV/req.json"
check "range: PVM_STEP, PVM_END, JSON step" $?

echo "=== hostile commands"
expect "exit 1: 500 naming the instance and the first stderr line" 500 \
    'plugin hostile: on_instant_query_request failed: ./hostile.sh exited with status 1: fail: no data for fail' \
    "/api/v1/query?query=fail&time=$T"
expect "garbage: 500, bad output with the first stderr line" 500 "; stderr: garbage: sorry" \
    "/api/v1/query?query=garbage&time=$T"
expect "100 MB: killed at max_output_bytes" 500 \
    'wrote more than max_output_bytes = 1048576 bytes (killed)' \
    "/api/v1/query?query=big&time=$T"
read -r st secs <<EOT
$(get "/api/v1/query?query=hang&time=$T")
EOT
[ "$st" = 500 ] && grep -qF 'did not answer within timeout = 2000 ms' "$TMP/body" &&
    awk -v s="$secs" -v m="$SLACK" 'BEGIN { exit !(s < 2 + m) }'
check "never exits: killed at the 2 s timeout ($st in $secs s)" $?
expect "... and the server keeps serving" 200 '"80000"' \
    "/api/v1/query?query=clock_day_seconds&time=$T"
expect "a child outliving the command: the answer comes" 200 '"fork"' \
    "/api/v1/query?query=fork&time=$T"
FORK=$(cat "$SRV/fork.pid" 2>/dev/null)
n=0
while [ -n "$FORK" ] && runs "$FORK" && [ "$n" -lt 20 ]; do
    sleep 0.1
    n=$((n + 1))
done
[ -n "$FORK" ] && ! runs "$FORK"
check "... and its process group was killed (pid ${FORK:-none} gone)" $?
# a 600 kB query in a POST body, to a command that reads no stdin
awk 'BEGIN { printf "query=nostdin%%7Bx!%%3D%%22"; for (i = 0; i < 600000; i++) printf "x"; printf "%%22%%7D&time=1700000000" }' >"$TMP/big.form"
expect "a command that reads no stdin under a 600 kB request" 200 \
    '"nostdin"' "/api/v1/query" --data-binary "@$TMP/big.form" \
    -H 'Content-Type: application/x-www-form-urlencoded'

echo "=== persistent: crash and restart"
expect "persistent: first answer" 200 '"1"' "/api/v1/query?query=crashy&time=$T"
expect "persistent: the same process answers again" 200 '"2"' \
    "/api/v1/query?query=crashy&time=$T"
expect "persistent: a crash is a 500 with its stderr" 500 \
    'exited with status 5; restarted at the next request: crashy: asked to crash' \
    "/api/v1/query?query=crash_me&time=$T"
expect "persistent: restarted, counting from 1" 200 '"1"' \
    "/api/v1/query?query=crashy&time=$T"
grep -q 'plugin crashy: ./crashy.sh is not running: restarting it' "$SRV/pvm.log"
check "persistent: the restart is logged" $?

echo "=== processes"
KIDS=$(children "$MASTER")
[ -n "$KIDS" ]
check "pvm-fcgi $MASTER has its persistent commands as children ($(echo $KIDS))" $?
Z=0
LEFT=
for k in $KIDS; do
    runs "$k" || Z=$((Z + 1))
    LEFT="$LEFT $(cat "/proc/$k/comm" 2>/dev/null)"
done
[ "$Z" = 0 ]
check "no zombie children of pvm-fcgi (children:$LEFT)" $?
# only the persistent processes (waves, crashy) are still children
[ "$(echo $KIDS | wc -w)" -le 2 ]
check "no one-shot command left running ($(echo $KIDS | wc -w) children)" $?
pvm_stop_pid "$MASTER" "${PVM_STOP_SECONDS:-10}"
PVM_PIDS=
gone=0
for k in $KIDS; do
    runs "$k" && gone=1
done
[ "$gone" = 0 ]
check "the persistent processes stopped with pvm-fcgi" $?
grep -q 'stderr: fail: no data for fail' "$SRV/pvm.log"
check "stderr lines are logged at info" $?

echo "=== workers = 2: the commands of both workers"
SRV2=$TMP/srv2
mkdir -p "$SRV2" "$TMP/nginx2"
FC2=$(pvm_free_port) && NP=$(pvm_free_port) || exit 99
printf '[server]\nlisten = 127.0.0.1:%s\nworkers = 2\n\n[plugin:hostile]\ntype = exec\ncommand = %s/hostile.sh\nmax_output_bytes = 1M\nenv = PIDDIR=%s\n' \
    "$FC2" "$SRV" "$SRV2" >"$SRV2/pvm.ini"
"$PVM_BIN" --config "$SRV2/pvm.ini" </dev/null >>"$SRV2/pvm.log" 2>&1 &
MASTER2=$!
PVM_PIDS="$MASTER2"
pvm_wait_port "$FC2" 10 "$MASTER2" || { bad "pvm-fcgi (2 workers) did not start"; exit 1; }
pvm_nginx_conf "$TMP/nginx2" "$NP" "127.0.0.1:$FC2" &&
    pvm_nginx_start "$TMP/nginx2" 10 || { bad "nginx did not start"; exit 1; }
NGINX_DIRS="$NGINX_DIRS $TMP/nginx2"
FORKS=
for i in 1 2 3 4; do
    get "/api/v1/query?query=fork&time=$T" >/dev/null
    FORKS="$FORKS $(cat "$SRV2/fork.pid" 2>/dev/null)"
    get "/api/v1/query?query=big&time=$T" >/dev/null
    get "/api/v1/query?query=fail&time=$T" >/dev/null
done
expect "2 workers: an answer after 12 runs" 200 '"nostdin"' \
    "/api/v1/query?query=nostdin&time=$T"
WORKERS=$(children "$MASTER2")
[ "$(echo $WORKERS | wc -w)" = 2 ]
check "2 workers: $(echo $WORKERS)" $?
n=0
for w in $WORKERS; do
    n=$((n + $(children "$w" | wc -l)))
done
[ "$n" = 0 ]
check "2 workers: no child left, zombie or not ($n)" $?
left=0
for p in $FORKS; do
    runs "$p" && left=$((left + 1))
done
[ -n "$FORKS" ] && [ "$left" = 0 ]
check "2 workers: none of the forked children ($(echo $FORKS)) runs" $?
