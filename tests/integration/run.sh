#!/bin/sh
# tests/integration/run.sh: the integration suite (a TESTS entry). Starts
# tests/pvm-fcgi-test (example + fixture plugins) behind real nginx
# instances on 127.0.0.1, then runs test_api (cmocka), test_grafana_replay,
# promtool.sh and vmalert.sh against them, and checks that a plugin failing on_startup
# keeps pvm-fcgi from starting. Stops everything by PID on exit; prints the
# logs on failure (PVM_KEEP_TMP=1 keeps the temp directory).
#
# Instances (each pvm-fcgi behind its own nginx):
#   main    TCP fcgi, [plugin:example] [plugin:fixture] [plugin:special]
#           (fixture_special_metric: NaN/+Inf/-Inf, a warning and an info),
#           max_body_bytes = 65536
#   failing unix socket fcgi, api_url_prefix = /pvm, fixture fail = request
#   forbid  TCP fcgi, fixture forbid = yes
# Finds the sources from its own path and the binaries in the current
# directory (make check runs in the top build directory); top_srcdir and
# top_builddir in the environment take precedence.
set -u

# The trees, PVM_BIN, PVM_PIDS and NGINX_DIRS are tests/lib/script.sh's;
# its pvm_script_begin is not used: this script has no counters of its
# own (the programs it runs print their results) and needs no curl.
. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
TEST_API=$top_builddir/tests/integration/test_api
TEST_REPLAY=$top_builddir/tests/integration/test_grafana_replay
MAX_BODY=65536

pvm_script_need run "$PVM_BIN" "$TEST_API" "$TEST_REPLAY"
pvm_nginx_bin >/dev/null || exit 1

FAILED=0

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    pvm_script_stop
    # Sanitizer builds report leaks at exit, after the tests: count them.
    if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
        "$TMP"/*/pvm.stderr 2>/dev/null; then
        echo "FAIL run.sh: sanitizer reports in the pvm-fcgi logs above"
        FAILED=1
    fi
    [ "$FAILED" != 0 ] && [ "$rc" = 0 ] && rc=1
    pvm_test_finish run.sh "$TMP" "$rc" 60 \
        "$TMP"/*/pvm.stderr "$TMP"/*/error.log "$TMP"/*/nginx.stderr
}
pvm_script_tmp run cleanup

# start_pvm NAME INI LISTEN: starts pvm-fcgi in $TMP/NAME, waits for its
# socket (port or unix path).
start_pvm() {
    pvm_start_fcgi "$@" || { FAILED=1; exit 1; }
}

# start_nginx NAME PORT FCGI [PREFIX]
start_nginx() {
    pvm_nginx_conf "$TMP/$1" "$2" "$3" "${4:-}" || { FAILED=1; exit 1; }
    pvm_nginx_start "$TMP/$1" 10 || { FAILED=1; exit 1; }
    NGINX_DIRS="$NGINX_DIRS $TMP/$1"
}

mkdir -p "$TMP/main" "$TMP/failing" "$TMP/forbid" "$TMP/startup"

MAIN_FCGI_PORT=$(pvm_free_port) || exit 99
MAIN_PORT=$(pvm_free_port) || exit 99
FAIL_PORT=$(pvm_free_port) || exit 99
FORBID_FCGI_PORT=$(pvm_free_port) || exit 99
FORBID_PORT=$(pvm_free_port) || exit 99
FAIL_SOCK=$TMP/failing/pvm.sock

cat >"$TMP/main/pvm.ini" <<EOF
; integration test: the main instance
[server]
listen = 127.0.0.1:$MAIN_FCGI_PORT
max_body_bytes = $MAX_BODY
log_level = info
workers = 2

$(pvm_suite_plugins)
EOF

cat >"$TMP/failing/pvm.ini" <<EOF
; integration test: a plugin failing every request, below a URL prefix
[server]
listen = unix:$FAIL_SOCK
api_url_prefix = /pvm
workers = 1

[plugin:failing]
type = fixture
fail = request
EOF

cat >"$TMP/forbid/pvm.ini" <<EOF
; integration test: a plugin refusing every request (401)
[server]
listen = 127.0.0.1:$FORBID_FCGI_PORT
workers = 1

[plugin:guard]
type = fixture
forbid = yes
EOF

# A socket in TMP, not a TCP port: the port picked free here was taken by
# a suite running beside this one before pvm-fcgi started (a flaky
# "Address already in use" instead of the startup error).
cat >"$TMP/startup/pvm.ini" <<EOF
; integration test: a plugin failing on_startup: pvm-fcgi must not serve
[server]
listen = unix:$TMP/startup/pvm.sock
workers = 1

[plugin:broken]
type = fixture
fail = startup
EOF

start_pvm main "$TMP/main/pvm.ini" "127.0.0.1:$MAIN_FCGI_PORT"
start_pvm failing "$TMP/failing/pvm.ini" "unix:$FAIL_SOCK"
start_pvm forbid "$TMP/forbid/pvm.ini" "127.0.0.1:$FORBID_FCGI_PORT"
start_nginx main "$MAIN_PORT" "127.0.0.1:$MAIN_FCGI_PORT"
start_nginx failing "$FAIL_PORT" "unix:$FAIL_SOCK" /pvm
start_nginx forbid "$FORBID_PORT" "127.0.0.1:$FORBID_FCGI_PORT"
echo "run.sh: nginx 127.0.0.1:$MAIN_PORT -> pvm-fcgi 127.0.0.1:$MAIN_FCGI_PORT;" \
    "failing :$FAIL_PORT/pvm -> unix socket; forbid :$FORBID_PORT"

pvm_suite_env "$MAIN_PORT" "$FAIL_PORT" "$FORBID_PORT" "$MAX_BODY"

echo "=== test_api"
"$TEST_API" || FAILED=1

echo "=== test_grafana_replay"
"$TEST_REPLAY"
case $? in 0 | 77) ;; *) FAILED=1 ;; esac

echo "=== promtool.sh"
sh "$top_srcdir/tests/integration/promtool.sh" "http://127.0.0.1:$MAIN_PORT" ||
    FAILED=1

echo "=== vmalert.sh"
sh "$top_srcdir/tests/integration/vmalert.sh" "http://127.0.0.1:$MAIN_PORT" ||
    FAILED=1

# A plugin whose on_startup fails: pvm-fcgi exits nonzero (bounded wait)
# naming the instance, and never serves.
echo "=== startup failure"
sf_pass=0
sf_fail=0
"$PVM_BIN" --config "$TMP/startup/pvm.ini" </dev/null \
    >"$TMP/startup/pvm.stdout" 2>"$TMP/startup/pvm.stderr" &
sf_pid=$!
sf_n=100
while [ "$sf_n" -gt 0 ] && kill -0 "$sf_pid" 2>/dev/null; do
    sleep 0.1
    sf_n=$((sf_n - 1))
done
if kill -0 "$sf_pid" 2>/dev/null; then
    echo "FAIL startup: pvm-fcgi still running 10 s after a failing on_startup"
    pvm_stop_pid "$sf_pid" 5
    sf_fail=$((sf_fail + 1))
else
    wait "$sf_pid"
    sf_rc=$?
    if [ "$sf_rc" != 0 ]; then
        echo "ok   startup: exit status $sf_rc"
        sf_pass=$((sf_pass + 1))
    else
        echo "FAIL startup: exit status 0 after a failing on_startup"
        sf_fail=$((sf_fail + 1))
    fi
    if grep -q broken "$TMP/startup/pvm.stderr" &&
        grep -q "fixture failure requested" "$TMP/startup/pvm.stderr"; then
        echo "ok   startup: the error names the instance and the reason"
        sf_pass=$((sf_pass + 1))
    else
        echo "FAIL startup: stderr lacks 'broken' / 'fixture failure requested':"
        sed 's/^/     /' "$TMP/startup/pvm.stderr"
        sf_fail=$((sf_fail + 1))
    fi
fi
echo "PVM-RESULT: startup-failure: $sf_pass passed, $sf_fail failed, 0 skipped"
[ "$sf_fail" = 0 ] || FAILED=1

# The servers must have survived everything above.
for p in $PVM_PIDS; do
    if ! kill -0 "$p" 2>/dev/null; then
        echo "FAIL pvm-fcgi $p died during the tests"
        FAILED=1
    fi
done

if [ "$FAILED" = 0 ]; then
    echo "run.sh: integration tests passed"
else
    echo "run.sh: integration tests FAILED"
fi
exit "$FAILED"
