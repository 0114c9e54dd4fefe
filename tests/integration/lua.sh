#!/bin/sh
# tests/integration/lua.sh: the lua plugin type through real nginx on
# 127.0.0.1 (a TESTS entry). One pvm-fcgi-test (2 workers) serves the C example
# (metric c_waves), conf/examples/lua/example.lua (metric l_waves) and
# tests/data/lua/cases.lua, and checks:
#   example   the Lua example answers Q1 (1 h at 15 s, 12 series), an
#             instant query, series and label values as the C example
#             does (bodies identical but for the metric name)
#   hooks     discovery and metadata hooks, lazy values, request headers
#   errors    error() is a 500 naming the plugin and file:line;
#             pvm.forbidden a 401
#   bounds    a script looping forever is stopped at the query's timeout
#             (503), one allocating without bound at memory_limit (500);
#             the workers live on and the next requests are answered
#   hostile   NaN, a table as value, a boolean label: answers, not crashes
#   reload    SIGHUP picks up an edited script; a syntax error is rejected
#             and the running script keeps serving
#   startup   a script raising in on_startup: the server refuses to start,
#             naming the instance and file:line; --check-config compiles
#             the script without running it
# Every request and wait is bounded; processes are stopped by PID.
# Prints "PVM-RESULT: lua: P passed, F failed, S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
pvm_script_begin lua

T0=$(date +%s)
NP=$(pvm_free_port) || exit 99
D=$TMP/lua
# pvm-fcgi on a Unix socket in the temp dir: no port another process
# can take between picking it and listening.
FC=$D/pvm.sock
mkdir -p "$D"
cp "$top_srcdir/conf/examples/lua/example.lua" "$D/example.lua" &&
    cp "$top_srcdir/tests/data/lua/cases.lua" "$D/cases.lua" &&
    chmod u+w "$D"/*.lua || exit 99
printf '%s\n' "[server]" "listen = unix:$FC" "workers = 2" "" \
    "[plugin:c]" "type = example" "metric_name = c_waves" "" \
    "[plugin:l]" "type = lua" "script = example.lua" "metric_name = l_waves" \
    "" "[plugin:cases]" "type = lua" "script = cases.lua" \
    "memory_limit = 8M" >"$D/pvm.ini"
"$PVM_BIN" --config "$D/pvm.ini" </dev/null >>"$D/pvm.log" 2>&1 &
MASTER=$!
PVM_PIDS="$PVM_PIDS $MASTER"
pvm_wait_path "$FC" 60 "$MASTER" || {
    bad "pvm-fcgi did not start"
    exit 1
}
mkdir -p "$TMP/nginx"
pvm_nginx_conf "$TMP/nginx" "$NP" "unix:$FC" &&
    pvm_nginx_start "$TMP/nginx" 10 || {
    bad "nginx did not start"
    exit 1
}
NGINX_DIRS="$TMP/nginx"

# get TARGET OUT [CURL ARGS...]: GET through nginx, body in OUT; prints
# the status.
get() {
    g_t=$1
    g_o=$2
    shift 2
    curl -s -o "$g_o" -m 30 -w '%{http_code}' "$@" "http://127.0.0.1:$NP$g_t"
}

# same NAME TARGET: the C and the Lua example answer alike (@M@ in
# TARGET is the metric name).
same() {
    sc=$(get "$(echo "$2" | sed 's/@M@/c_waves/g')" "$TMP/c.body")
    sl=$(get "$(echo "$2" | sed 's/@M@/l_waves/g')" "$TMP/l.body")
    sed 's/l_waves/c_waves/g' "$TMP/l.body" >"$TMP/l2.body"
    [ "$sc" = 200 ] && [ "$sl" = 200 ] &&
        grep -q '"status":"success"' "$TMP/c.body" &&
        cmp -s "$TMP/c.body" "$TMP/l2.body"
    check "example: $1 (C $sc, Lua $sl, identical bodies)" $?
}

echo "=== the Lua example against the C example"
END=$(($(date +%s) / 60 * 60))
same "Q1 range 1 h at 15 s" \
    "/api/v1/query_range?query=@M@&start=$((END - 3600))&end=$END&step=15"
[ "$(grep -o '"metric":' "$TMP/l.body" | wc -l)" = 12 ]
check "example: Q1 has 12 series" $?
same "instant" "/api/v1/query?query=@M@&time=$END.345"
same "rate by type" "/api/v1/query_range?query=sum%20by%20(type)%20(rate(@M@%5B1m%5D))&start=$((END - 600))&end=$END&step=15"
same "series" "/api/v1/series?match%5B%5D=@M@&start=0&end=60"
same "label values" "/api/v1/label/amplitude/values?match%5B%5D=@M@"

echo "=== hooks"
[ "$(get "/api/v1/query?query=lua_lazy&time=100&case=lazy" "$TMP/b")" = 200 ] &&
    grep -q '"calls 2"' "$TMP/b" && grep -q '"t":"a"' "$TMP/b" &&
    grep -q '"t":"b"' "$TMP/b"
check "lazy values: computed for kept samples" $?
[ "$(get "/api/v1/query?query=lua_lazy%7Bt%3D%22b%22%7D&time=1&case=lazy" "$TMP/b")" = 200 ] &&
    grep -q '"calls 1"' "$TMP/b" && ! grep -q '"t":"a"' "$TMP/b"
check "lazy values: a skipped sample is not computed" $?
[ "$(get "/api/v1/query?query=x&time=1&case=header" "$TMP/b" -H 'X-Token: s3')" = 200 ] &&
    grep -q '"token=s3"' "$TMP/b"
check "request.http_headers (case-insensitive)" $?
[ "$(get "/api/v1/label/__name__/values" "$TMP/b")" = 200 ] &&
    grep -q '"l_waves"' "$TMP/b"
check "on_metric_names_request" $?
[ "$(get "/api/v1/labels?match%5B%5D=l_waves" "$TMP/b")" = 200 ] &&
    grep -q '"amplitude"' "$TMP/b"
check "on_label_names_request" $?
[ "$(get "/api/v1/label/type/values?match%5B%5D=l_waves" "$TMP/b")" = 200 ] &&
    grep -q '"sawtooth"' "$TMP/b"
check "on_label_values_request" $?
[ "$(get "/api/v1/metadata?metric=l_waves" "$TMP/b")" = 200 ] &&
    grep -q '"gauge"' "$TMP/b"
check "on_metadata_request" $?

echo "=== errors"
Q="/api/v1/query?query=x&time=1&case"
V="/api/v1/query?query=lua_version&time=1&case=version"
[ "$(get "$Q=error" "$TMP/b")" = 500 ] &&
    grep -q 'plugin cases: on_instant_query_request failed: [^"]*cases.lua:[0-9]*: deliberate failure' "$TMP/b"
check "error(): 500 naming the plugin and file:line" $?
[ "$(get "$Q=forbidden" "$TMP/b")" = 401 ] && grep -q 'token refused' "$TMP/b"
check "error(pvm.forbidden(...)): 401" $?

echo "=== bounds"
t0=$(date +%s)
[ "$(get "$Q=loop&timeout=1s" "$TMP/b")" = 503 ] &&
    grep -q '"errorType":"timeout"' "$TMP/b"
check "an endless loop is stopped at the query's timeout (503)" $?
[ $(($(date +%s) - t0)) -le "${PVM_LUA_STOP_BOUND:-5}" ]
check "... within ${PVM_LUA_STOP_BOUND:-5} s ($(($(date +%s) - t0)) s)" $?
[ "$(get "$Q=alloc" "$TMP/b")" = 500 ] && grep -q 'memory' "$TMP/b"
check "an unbounded allocation is stopped at memory_limit (500)" $?
n=0
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ "$(get "$V" "$TMP/b")" = 200 ] && n=$((n + 1))
done
[ "$n" = 10 ]
check "the next 10 requests are answered ($n)" $?
! grep -q 'killed by signal\|exited with status\|stopped itself' "$D/pvm.log"
check "no worker was lost" $?

echo "=== hostile values"
for c in nan badvalue badlabels; do
    s=$(get "$Q=$c" "$TMP/b")
    { [ "$s" = 200 ] || [ "$s" = 500 ]; } && grep -q '^{"status":' "$TMP/b"
    check "$c: a JSON answer ($s)" $?
done

echo "=== SIGHUP reload"
[ "$(get "$V" "$TMP/b")" = 200 ] && grep -q ',"1"\]' "$TMP/b"
check "version 1 before the reload" $?
sed -i 's/^local VERSION = 1$/local VERSION = 2/' "$D/cases.lua"
kill -HUP "$MASTER"
v2=no
for i in $(seq 1 100); do
    get "$V" "$TMP/b" >/dev/null
    grep -q ',"2"\]' "$TMP/b" && {
        v2=yes
        break
    }
    sleep 0.1
done
[ "$v2" = yes ]
check "an edited script is picked up on SIGHUP" $?
pvm_wait_grep 'reloaded: ' "$D/pvm.log" 10 # the master takes one reload at a time
echo 'local VERSION = 3 function (' >"$D/cases.lua"
kill -HUP "$MASTER"
rej=no
for i in $(seq 1 50); do
    grep -q 'reload failed.*cases.lua' "$D/pvm.log" && {
        rej=yes
        break
    }
    sleep 0.1
done
[ "$rej" = yes ]
check "a syntax error rejects the reload, naming the script" $?
[ "$(get "$V" "$TMP/b")" = 200 ] && grep -q ',"2"\]' "$TMP/b"
check "the running script keeps serving" $?

echo "=== startup failure"
mkdir -p "$TMP/bad"
printf '%s\n' 'function on_startup(context)' \
    '  error("cannot reach the sensor")' 'end' >"$TMP/bad/bad.lua"
printf '%s\n' "[server]" "listen = unix:$TMP/bad/pvm.sock" "workers = 2" "" \
    "[plugin:sensor]" "type = lua" "script = bad.lua" >"$TMP/bad/pvm.ini"
"$PVM_BIN" --config "$TMP/bad/pvm.ini" </dev/null \
    >"$TMP/bad/pvm.log" 2>&1 &
BP=$!
PVM_PIDS="$PVM_PIDS $BP"
n=0
while [ "$n" -lt 300 ] && kill -0 "$BP" 2>/dev/null &&
    ! grep -q '^State:.*Z' "/proc/$BP/status" 2>/dev/null; do
    sleep 0.1
    n=$((n + 1))
done
wait "$BP" 2>/dev/null
RC=$?
[ "$RC" != 0 ] && [ "$n" -lt 300 ] &&
    grep -q 'plugin sensor: on_startup failed: [^ ]*bad.lua:2: cannot reach the sensor' "$TMP/bad/pvm.log"
check "on_startup raising: the server refuses to start (exit $RC), naming it" $?

echo "=== --check-config"
"$PVM_BIN" --check-config --config "$TMP/bad/pvm.ini" >"$TMP/bad/check.out" 2>&1
check "--check-config: a script that compiles is valid (it does not run)" $?
printf '%s\n' 'function on_startup(' >"$TMP/bad/bad.lua"
"$PVM_BIN" --check-config --config "$TMP/bad/pvm.ini" >"$TMP/bad/check.out" 2>&1
RC=$?
[ "$RC" = 1 ] && grep -q 'bad.lua:[0-9]*: ' "$TMP/bad/check.out"
check "--check-config: a syntax error is refused with file:line (exit $RC)" $?

echo "lua.sh: $(($(date +%s) - T0)) s"
