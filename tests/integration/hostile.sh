#!/bin/sh
# tests/integration/hostile.sh: the hostile-input suite through real nginx
# (a TESTS entry). Starts tests/pvm-fcgi-test (example + bench plugins, 2
# workers, max_body_bytes = 2M, max_samples = 1,000,000) behind nginx on
# 127.0.0.1, runs tests/integration/hostile (tests/lib/http.c client),
# then checks that the master and the same workers are still there (no
# worker crashed or was replaced) and stop cleanly. Stops everything by
# PID on exit; prints the logs on failure (PVM_KEEP_TMP=1 keeps them).
# Prints PVM-RESULT lines.
set -u

# The trees, PVM_BIN and the counters ok/bad (PASS, FAIL) are
# tests/lib/script.sh's; its pvm_script_begin is not used: this script
# needs no curl, and its result (hostile-process) is one of two, beside
# the hostile-http of the client.
. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
HOSTILE=$top_builddir/tests/integration/hostile
pvm_script_need hostile "$PVM_BIN" "$HOSTILE"
if ! pvm_nginx_bin >/dev/null; then
    echo "hostile.sh: SKIP: nginx not installed (apt-get install nginx-light)"
    echo "PVM-RESULT: hostile-process: 0 passed, 0 failed, 1 skipped"
    exit 77
fi

FAILED=0
PVM_PID=

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    pvm_nginx_stop "$TMP" 10
    pvm_stop_pid "$PVM_PID" 10
    [ "$FAILED" != 0 ] && [ "$rc" = 0 ] && rc=1
    pvm_test_finish hostile.sh "$TMP" "$rc" 40 \
        "$TMP/pvm.stderr" "$TMP/error.log"
}
pvm_script_tmp hostile cleanup

FCGI_PORT=$(pvm_free_port) || exit 99
PORT=$(pvm_free_port) || exit 99
cat >"$TMP/pvm.ini" <<EOF2
; hostile-input suite
[server]
listen = 127.0.0.1:$FCGI_PORT
workers = 2
max_body_bytes = 2M
max_samples = 1000000
log_level = warning

[plugin:example]

[plugin:bomb]
type = bench
metric = bomb_metric
series = 4
labels = 1
value_len = 20000

[plugin:nan]
type = bench
metric = nan_metric
series = 2
value = nan

[plugin:inf]
type = bench
metric = inf_metric
series = 2
value = inf

[plugin:empty]
type = bench
metric = empty_labels_metric
series = 1
no_id = yes

[plugin:wide]
type = bench
metric = wide_metric
series = 3
labels = 1000
value_len = 100

[plugin:many]
type = bench
metric = many_metric
series = 10000
value = index

[plugin:om]
type = openmetrics_file
path = bare.om
EOF2
# series without labels (a metric name only), alone and next to others
printf '%s\n' 'nolabels_metric 1 990' 'nolabels_metric 2 1000' \
    'mixed_metric 3 1000' 'mixed_metric{a="1"} 4 1000' '# EOF' \
    >"$TMP/bare.om"

"$PVM_BIN" --config "$TMP/pvm.ini" </dev/null >"$TMP/pvm.stdout" \
    2>"$TMP/pvm.stderr" &
PVM_PID=$!
pvm_wait_port "$FCGI_PORT" 10 "$PVM_PID" || { FAILED=1; exit 1; }
pvm_nginx_conf "$TMP" "$PORT" "127.0.0.1:$FCGI_PORT" || { FAILED=1; exit 1; }
pvm_nginx_start "$TMP" 10 || { FAILED=1; exit 1; }

# workers: the children of the master (wait until both are up)
workers() {
    ps -o pid= --ppid "$PVM_PID" 2>/dev/null | tr -d ' ' | sort | tr '\n' ' '
}
n=50
while [ "$n" -gt 0 ] && [ "$(workers | wc -w)" -lt 2 ]; do
    sleep 0.1
    n=$((n - 1))
done
before=$(workers)
echo "hostile.sh: nginx 127.0.0.1:$PORT -> pvm-fcgi $PVM_PID (workers $before)"

PVM_TEST_PORT=$PORT \
    PVM_TEST_HTTP_TIMEOUT_MS=${PVM_TEST_HTTP_TIMEOUT_MS:-30000} "$HOSTILE" || FAILED=1

after=$(workers)
if kill -0 "$PVM_PID" 2>/dev/null && [ "$before" = "$after" ]; then
    ok "the master and its workers ($after) survived"
else
    bad "workers before: $before, after: $after (a worker died or was replaced)"
fi
if grep -q 'signal\|killed\|AddressSanitizer\|runtime error' \
    "$TMP/pvm.stderr"; then
    bad "pvm-fcgi's log reports a crash:"
    grep 'signal\|killed\|AddressSanitizer\|runtime error' "$TMP/pvm.stderr" |
        head -5
else
    PASS=$((PASS + 1))
fi
# a graceful stop within PVM_STOP_SECONDS (10) s
kill -TERM "$PVM_PID"
n=$((${PVM_STOP_SECONDS:-10} * 10))
while [ "$n" -gt 0 ] && kill -0 "$PVM_PID" 2>/dev/null; do
    sleep 0.1
    n=$((n - 1))
done
if kill -0 "$PVM_PID" 2>/dev/null; then
    bad "pvm-fcgi did not stop within ${PVM_STOP_SECONDS:-10} s of SIGTERM"
else
    wait "$PVM_PID"
    st=$?
    if [ "$st" = 0 ]; then
        ok "pvm-fcgi stopped cleanly"
    else
        bad "pvm-fcgi exit status $st after SIGTERM"
    fi
    PVM_PID=
fi
echo "PVM-RESULT: hostile-process: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ] || FAILED=1
exit "$FAILED"
