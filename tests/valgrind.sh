#!/bin/sh
# tests/valgrind.sh [BUILD_DIR]: a valgrind memcheck pass of the
# integration suite. Runs tests/integration/run.sh (nginx + the suite's
# test programs: test_api, test_grafana_replay, promtool.sh, the startup
# failure), tests/integration/hostile.sh (the hostile-input suite),
# tests/integration/remote_read.sh (Prometheus reading pvm),
# tests/integration/exec.sh (the exec plugin's commands),
# tests/integration/lua.sh (the lua plugin type),
# tests/integration/python.sh (quick mode, the real pvm-fcgi),
# tests/integration/http.sh (the http plugin: libcurl and libjq),
# tests/integration/prometheus.sh (pvm reading Prometheus) and
# tests/integration/sql_sqlite.sh and sql_postgresql.sh (the SQL core)
# with every pvm-fcgi they start (master and forked workers) under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite
#            --error-exitcode=99
# by giving run.sh a build directory whose tests/pvm-fcgi-test is a
# wrapper. pvm-fcgi stops on SIGTERM and frees everything, so each process
# ends with a leak check. Then reads each process's valgrind log: a process
# passes with "ERROR SUMMARY: 0 errors" and nothing definitely lost (a log
# without a summary, from a process killed before it finished, fails).
# The suite itself counts as one more item. Last line:
#   PVM-RESULT: valgrind: P passed, F failed, 0 skipped
# BUILD_DIR defaults to the current directory (a normal build, after
# `make check` built the test programs); PVM_KEEP_TMP=1 keeps the logs;
# PVM_VALGRIND_SUITES="sql_postgresql lua" runs only the suites named
# (the names given to `suite` below).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=$(cd "$here/.." && pwd)
build=$(cd "${1:-.}" && pwd) || exit 1
for b in tests/pvm-fcgi-test tests/integration/test_api \
    tests/integration/test_grafana_replay; do
    if [ ! -x "$build/$b" ]; then
        echo "valgrind.sh: $build/$b is missing: run 'make check' first" >&2
        echo "PVM-RESULT: valgrind: 0 passed, 1 failed, 0 skipped"
        exit 1
    fi
done
if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind.sh: valgrind not installed (apt-get install valgrind)" >&2
    echo "PVM-RESULT: valgrind: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvm-valgrind.XXXXXX") || exit 1
mkdir -p "$tmp/build/tests/integration" "$tmp/logs" || exit 1
{
    echo '#!/bin/sh'
    echo "exec valgrind --leak-check=full --errors-for-leak-kinds=definite \\"
    echo "    --error-exitcode=99 --show-leak-kinds=definite --num-callers=30 \\"
    echo "    --log-file='$tmp/logs/vg.%p.log' '$build/tests/pvm-fcgi-test' \"\$@\""
} >"$tmp/build/tests/pvm-fcgi-test"
chmod +x "$tmp/build/tests/pvm-fcgi-test"
for b in test_api test_grafana_replay hostile remote_read_client; do
    [ -x "$build/tests/integration/$b" ] &&
        ln -s "$build/tests/integration/$b" "$tmp/build/tests/integration/$b"
done

pass=0
fail=0

# The exec plugin's pvm-fcgi forks the commands: valgrind does not follow
# them into exec (--trace-children=no, the default), and
# --child-silent-after-fork=yes keeps their forked half from leaving a log
# without a summary. (That silences the workers of the suite's 2-worker
# server too: its master is checked, the plugin code ran checked in the
# single-process server.)
mkdir -p "$tmp/build-exec/tests"
sed "s|--num-callers=30|--num-callers=30 --child-silent-after-fork=yes|" \
    "$tmp/build/tests/pvm-fcgi-test" >"$tmp/build-exec/tests/pvm-fcgi-test"
chmod +x "$tmp/build-exec/tests/pvm-fcgi-test"
# The python plugin type runs in the real pvm-fcgi (which has the python
# type), with Python's suppressions (Debian's CPython is built
# --with-valgrind: pymalloc steps aside under valgrind by itself;
# PYTHONMALLOC is ignored, the interpreter is isolated from the
# environment).
supp=
[ -r /usr/lib/valgrind/python3.supp ] &&
    supp=--suppressions=/usr/lib/valgrind/python3.supp
{
    echo '#!/bin/sh'
    echo "exec valgrind --leak-check=full $supp \\"
    echo "    --errors-for-leak-kinds=definite --error-exitcode=99 \\"
    echo "    --show-leak-kinds=definite --num-callers=30 \\"
    echo "    --log-file='$tmp/logs/vg.%p.log' '$build/pvm-fcgi' \"\$@\""
} >"$tmp/build/pvm-fcgi-python"
chmod +x "$tmp/build/pvm-fcgi-python"

# suite NAME SCRIPT [VAR=VALUE...]: runs tests/integration/SCRIPT with the
# wrapped pvm-fcgi (valgrind makes it 20-50 times slower: generous client
# timeouts; the assignments come last and win), its output in
# $tmp/NAME.log and its exit status in $tmp/NAME.rc.
suite() {
    name=$1
    script=$2
    shift 2
    if [ -n "${PVM_VALGRIND_SUITES:-}" ]; then
        case " $PVM_VALGRIND_SUITES " in
        *" $name "*) ;;
        *) return 0 ;;
        esac
    fi
    env top_srcdir="$top_srcdir" top_builddir="$tmp/build" \
        PVM_TEST_HTTP_TIMEOUT_MS=120000 PVM_STOP_SECONDS=60 "$@" \
        timeout 600 sh "$top_srcdir/tests/integration/$script" \
        >"$tmp/$name.log" 2>&1
    echo $? >"$tmp/$name.rc"
}

# report NAME LABEL: the verdict of a suite that ran (nothing when it was
# not run: its tool is missing).
report() {
    [ -f "$tmp/$1.rc" ] || return 0
    echo "== valgrind: $2 with pvm-fcgi under memcheck"
    if [ "$(cat "$tmp/$1.rc")" = 0 ]; then
        echo "ok   $2 under valgrind"
        pass=$((pass + 1))
    else
        echo "FAIL $2 under valgrind: its failed checks, with 3 lines of context:"
        grep -B 3 -A 3 -E '^(FAIL|not ok)' "$tmp/$1.log" | head -n 60
        echo "     (last 15 lines of the suite:)"
        grep -v '^ok ' "$tmp/$1.log" | tail -n 15
        fail=$((fail + 1))
    fi
    grep '^PVM-RESULT' "$tmp/$1.log" | sed 's/^PVM-RESULT: /     suite: /'
}

have() {
    command -v "$1" >/dev/null 2>&1
}

# Two suites at a time (each mostly waits on one valgrind'ed process;
# they listen on ports and sockets of their own).
suite run run.sh &
{ [ -x "$tmp/build/tests/integration/hostile" ] && suite hostile hostile.sh; } &
wait
suite lua lua.sh PVM_LUA_STOP_BOUND=20 &
{ have prometheus && suite remote_read remote_read.sh; } &
wait
suite exec exec.sh top_builddir="$tmp/build-exec" &
{ [ -x "$build/pvm-fcgi" ] && [ -x /usr/bin/python3 ] &&
    "$build/pvm-fcgi" --list-plugins 2>/dev/null | grep -q '^python' &&
    suite python python.sh PVM_PYTHON_BIN="$tmp/build/pvm-fcgi-python" \
        PVM_PYTHON_QUICK=1; } &
wait
# http: against its fixture nginx, without its --check-config and https
# parts (PVM_HTTP_QUICK).
suite http http.sh PVM_HTTP_QUICK=1 &
{ have prometheus && suite prometheus prometheus.sh; } &
wait
# The SQL core: SQLite on a file, PostgreSQL on a throw-away server
# (skipped inside the suite when its binaries are missing).
suite sql_sqlite sql_sqlite.sh &
suite sql_postgresql sql_postgresql.sh &
wait

report run "integration suite (tests/integration/run.sh)"
report hostile "hostile-input suite"
report lua "lua plugin suite"
report remote_read "remote-read suite"
report exec "exec plugin suite"
report python "python plugin suite (quick)"
report http "http plugin suite"
report prometheus "prometheus plugin suite"
report sql_sqlite "SQL suite (sqlite)"
report sql_postgresql "SQL suite (postgresql)"

nlogs=0
for log in "$tmp"/logs/vg.*.log; do
    [ -f "$log" ] || continue
    nlogs=$((nlogs + 1))
    pid=${log##*/vg.}
    pid=${pid%.log}
    what=$(sed -n 's/^==[0-9]*== Command: //p' "$log" | head -n 1)
    if ! grep -q 'ERROR SUMMARY:' "$log"; then
        echo "FAIL process $pid: no valgrind summary (killed?): $what"
        fail=$((fail + 1))
    elif grep -q 'ERROR SUMMARY: 0 errors' "$log" &&
        ! grep -q 'definitely lost: [1-9]' "$log"; then
        pass=$((pass + 1))
    else
        echo "FAIL process $pid: $what"
        grep -E 'ERROR SUMMARY|definitely lost' "$log" | sed 's/^/     /'
        grep -A 25 -E '== (Invalid|Conditional|Use of uninit|Mismatched|Source and dest|Syscall param|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' \
            "$log" | head -n 80
        fail=$((fail + 1))
    fi
done
echo "valgrind: $nlogs pvm-fcgi processes checked"
if [ "$nlogs" = 0 ]; then
    echo "FAIL no valgrind log: pvm-fcgi never ran under valgrind"
    fail=$((fail + 1))
fi
if [ "${PVM_KEEP_TMP:-0}" = 1 ] || [ "$fail" != 0 ]; then
    echo "valgrind.sh: logs kept in $tmp"
else
    rm -rf "$tmp"
fi
echo "PVM-RESULT: valgrind: $pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
