#!/bin/sh
# tests/integration/webservers.sh: the integration suite of run.sh
# (test_api, test_grafana_replay, promtool.sh, vmalert.sh) behind lighttpd
# and Apache
# instead of nginx (a TESTS entry). Starts the three pvm-fcgi instances
# run.sh uses (masters with workers), then for each web server the three
# front ends, runs the programs with the same environment variables
# (PVM_TEST_PORT, PVM_TEST_FAIL_PORT, PVM_TEST_FAIL_PREFIX,
# PVM_TEST_FORBID_PORT, PVM_TEST_MAX_BODY), and stops them. Also runs
# test_api through lighttpd spawning pvm-fcgi itself (bin-path, socket on
# fd 0). A web server that is not installed is skipped.
#   PVM_WEBSERVERS="lighttpd apache"  the servers to run (default both)
# Prints "PVM-RESULT: webservers: P passed, F failed, S skipped" (one
# pass or failure per program and server).
set -u

# The trees, PVM_BIN, PVM_PIDS and the counters (check, PASS, FAIL, SKIP)
# are tests/lib/script.sh's; its pvm_script_begin is not used: no nginx,
# no curl, and a web server that is missing skips only its part.
. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
. "$top_srcdir/tests/lib/lighttpd.sh"
. "$top_srcdir/tests/lib/apache.sh"

TEST_API=$top_builddir/tests/integration/test_api
TEST_REPLAY=$top_builddir/tests/integration/test_grafana_replay
MAX_BODY=65536

pvm_script_need webservers "$PVM_BIN" "$TEST_API" "$TEST_REPLAY"

FRONTS=

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    stop_fronts
    pvm_script_stop
    [ "$FAIL" != 0 ] && [ "$rc" = 0 ] && rc=1
    pvm_test_finish webservers.sh "$TMP" "$rc" 30 \
        "$TMP"/*/pvm.stderr "$TMP"/*/error.log "$TMP"/*/*.stderr
}
pvm_script_tmp webservers cleanup

# FRONTS holds "kind:dir" of the running front ends.
stop_fronts() {
    for f in $FRONTS; do
        case "$f" in
        lighttpd:*) pvm_lighttpd_stop "${f#*:}" 10 ;;
        apache:*) pvm_apache_stop "${f#*:}" 10 ;;
        esac
    done
    FRONTS=
}

# The three instances of run.sh (same plugins and settings).
mkdir -p "$TMP/main" "$TMP/failing" "$TMP/forbid"
MAIN_FCGI=$(pvm_free_port) && FORBID_FCGI=$(pvm_free_port) || exit 99
FAIL_SOCK=$TMP/failing/pvm.sock
cat >"$TMP/main/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$MAIN_FCGI
max_body_bytes = $MAX_BODY
workers = 2

$(pvm_suite_plugins)
EOF
sed -e '/^listen = /d' -e 's/^workers = 2$/workers = 1/' \
    "$TMP/main/pvm.ini" >"$TMP/main/binpath.ini"
cat >"$TMP/failing/pvm.ini" <<EOF
[server]
listen = unix:$FAIL_SOCK
api_url_prefix = /pvm
workers = 2

[plugin:failing]
type = fixture
fail = request
EOF
cat >"$TMP/forbid/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$FORBID_FCGI
workers = 2

[plugin:guard]
type = fixture
forbid = yes
EOF

start_pvm() {
    pvm_start_fcgi "$1" "$TMP/$1/pvm.ini" "$2" || { FAIL=$((FAIL + 1)); exit 1; }
}
start_pvm main "127.0.0.1:$MAIN_FCGI"
start_pvm failing "unix:$FAIL_SOCK"
start_pvm forbid "127.0.0.1:$FORBID_FCGI"
# Apache's children run as www-data when the tests run as root.
chmod 666 "$FAIL_SOCK"

# suite NAME: runs the four programs against the PVM_TEST_* ports.
suite() {
    echo "=== $1: test_api"
    "$TEST_API" >"$TMP/$1.test_api.log" 2>&1
    rc=$?
    tail -n 3 "$TMP/$1.test_api.log"
    [ "$rc" != 0 ] && grep -E "FAIL|ERROR" "$TMP/$1.test_api.log" | head -20
    check "$1: test_api" "$rc"
    echo "=== $1: test_grafana_replay"
    "$TEST_REPLAY" >"$TMP/$1.replay.log" 2>&1
    rc=$?
    tail -n 2 "$TMP/$1.replay.log"
    [ "$rc" = 77 ] && rc=0
    [ "$rc" != 0 ] && grep -iE "fail|mismatch" "$TMP/$1.replay.log" | head -20
    check "$1: test_grafana_replay" "$rc"
    echo "=== $1: promtool.sh"
    sh "$top_srcdir/tests/integration/promtool.sh" \
        "http://127.0.0.1:$PVM_TEST_PORT" >"$TMP/$1.promtool.log" 2>&1
    rc=$?
    grep -E "^FAIL|PVM-RESULT" "$TMP/$1.promtool.log"
    check "$1: promtool.sh" "$rc"
    echo "=== $1: vmalert.sh"
    sh "$top_srcdir/tests/integration/vmalert.sh" \
        "http://127.0.0.1:$PVM_TEST_PORT" >"$TMP/$1.vmalert.log" 2>&1
    rc=$?
    grep -E "^FAIL|^     |PVM-RESULT" "$TMP/$1.vmalert.log"
    check "$1: vmalert.sh" "$rc"
}

# front KIND NAME FCGI [PREFIX]: starts one front end; prints its port.
front() {
    fr_port=$(pvm_free_port) || return 1
    mkdir -p "$TMP/$1-$2"
    case "$1" in
    lighttpd)
        pvm_lighttpd_conf "$TMP/$1-$2" "$fr_port" "$3" "${4:-}" >&2 &&
            pvm_lighttpd_start "$TMP/$1-$2" 10 >&2 ;;
    apache)
        pvm_apache_conf "$TMP/$1-$2" "$fr_port" "$3" "${4:-}" >&2 &&
            pvm_apache_start "$TMP/$1-$2" 10 >&2 ;;
    esac || return 1
    echo "$fr_port"
}

export PVM_TEST_PREFIX_UNUSED=
for ws in ${PVM_WEBSERVERS:-lighttpd apache}; do
    case "$ws" in
    lighttpd) pvm_lighttpd_bin >/dev/null 2>&1 ;;
    apache) pvm_apache_bin >/dev/null 2>&1 ;;
    *) false ;;
    esac || {
        echo "skip $ws: not installed (tests/deps.sh installs it)"
        SKIP=$((SKIP + 4))
        continue
    }
    MP=$(front "$ws" main "127.0.0.1:$MAIN_FCGI") &&
        FP=$(front "$ws" failing "unix:$FAIL_SOCK" /pvm) &&
        XP=$(front "$ws" forbid "127.0.0.1:$FORBID_FCGI") || {
        FRONTS="$ws:$TMP/$ws-main $ws:$TMP/$ws-failing $ws:$TMP/$ws-forbid"
        check "$ws: front ends start" 1
        stop_fronts
        continue
    }
    FRONTS="$ws:$TMP/$ws-main $ws:$TMP/$ws-failing $ws:$TMP/$ws-forbid"
    echo "webservers.sh: $ws 127.0.0.1:$MP -> pvm-fcgi :$MAIN_FCGI;" \
        "failing :$FP/pvm -> unix socket; forbid :$XP"
    pvm_suite_env "$MP" "$FP" "$XP" "$MAX_BODY"
    suite "$ws"
    stop_fronts
done

# lighttpd spawning pvm-fcgi (bin-path): the socket is inherited on fd 0.
if pvm_lighttpd_bin >/dev/null 2>&1 &&
    case " ${PVM_WEBSERVERS:-lighttpd} " in *" lighttpd "*) true ;; *) false ;; esac; then
    BP=$(pvm_free_port) || exit 99
    mkdir -p "$TMP/lighttpd-binpath"
    if pvm_lighttpd_conf_binpath "$TMP/lighttpd-binpath" "$BP" \
        "$PVM_BIN --config $TMP/main/binpath.ini" \
        "$TMP/lighttpd-binpath/pvm.sock" &&
        pvm_lighttpd_start "$TMP/lighttpd-binpath" 10; then
        FRONTS="lighttpd:$TMP/lighttpd-binpath"
        echo "=== lighttpd bin-path: test_api"
        PVM_TEST_PORT=$BP PVM_TEST_FAIL_PORT= PVM_TEST_FORBID_PORT= \
            "$TEST_API" >"$TMP/binpath.test_api.log" 2>&1
        rc=$?
        tail -n 3 "$TMP/binpath.test_api.log"
        [ "$rc" != 0 ] && grep -E "FAIL|ERROR" "$TMP/binpath.test_api.log" | head
        check "lighttpd bin-path (pvm-fcgi spawned by lighttpd): test_api" "$rc"
        stop_fronts
    else
        check "lighttpd bin-path: lighttpd starts" 1
    fi
fi

for p in $PVM_PIDS; do
    kill -0 "$p" 2>/dev/null || check "pvm-fcgi $p survived the suite" 1
done
echo "PVM-RESULT: webservers: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ] || exit 1
# Nothing ran (no web server installed): SKIP, not PASS.
if [ "$PASS" = 0 ] && [ "$SKIP" != 0 ]; then
    echo "webservers.sh: SKIP: no web server to test was installed"
    exit 77
fi
exit 0
