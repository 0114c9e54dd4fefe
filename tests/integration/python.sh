#!/bin/sh
# tests/integration/python.sh: the python plugin type through real nginx
# on 127.0.0.1 (a TESTS entry), with the pvm-fcgi binary (which has the
# python type compiled in) and Debian's /usr/bin/python3 as the driver.
#   seed      the Python code block of ../shared/seed/plugin-api.md,
#             extracted now and loaded unmodified (METRIC_NAME supplied
#             by a two-line wrapper module): every hook's answer
#   waves     conf/examples/python/waves.py against the C example: every
#             request of the Grafana replay and a set of range, instant
#             and discovery queries answer byte for byte the same
#   features  tests/integration/python/features.py: interpreter (Debian's,
#             sys.prefix /usr), keyword and json: settings, async hooks,
#             lazy values, ForbiddenError -> 401, an exception -> 500
#             naming the instance, a busy loop and a sleep stopped at the
#             deadline (503), sqlite3, a float64 buffer, HTTP details
#   shield    catch_errors (pvm's) and CatchErrorsPlugin (Python's)
#             wrapping a flaky plugin beside a good one: warnings, data
#   reload    SIGHUP picks up an edited plugin file (workers = 2)
#   startup   a failing on_startup stops the server, naming the instance
#   check     --check-config reports a syntax error (file, module in a
#             package) and a missing module, and runs no plugin code
# PVM_PYTHON_BIN replaces the pvm-fcgi binary (tests/valgrind.sh gives a
# valgrind wrapper) and PVM_PYTHON_QUICK=1 runs only the main server's
# checks (seed, features, shields; no timing bounds, no waves comparison,
# reload or startup failure), for the slow runs under valgrind.
# Prints "PVM-RESULT: python: P passed, F failed, S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
PVM_REAL=${PVM_PYTHON_BIN:-$top_builddir/pvm-fcgi}
pvm_script_begin python "$PVM_REAL"
PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
    echo "python.sh: SKIP: $PY (Debian's python3) missing"
    skip "Debian's python3 missing"
    exit 77
fi
if ! "$PVM_REAL" --list-plugins 2>/dev/null | grep -q '^python'; then
    echo "python.sh: SKIP: pvm-fcgi was built without the python type"
    skip "no python type"
    exit 77
fi
# In the sanitizer build: CPython's own allocations that its finalisation
# does not free (interned strings, static types) are not pvm's leaks.
printf 'leak:libpython3\n' >"$TMP/lsan.supp"
LSAN_OPTIONS="suppressions=$TMP/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
QUICK=${PVM_PYTHON_QUICK:-0}
PYDIR=$top_srcdir/tests/integration/python
T0=$(date +%s)

# start NAME WORKERS: pvm-fcgi on $TMP/NAME/pvm.ini.in (@FPORT@ filled)
# and nginx; sets NP (nginx's port) and MASTER (pvm-fcgi's PID).
start() {
    fc=$(pvm_free_port) && NP=$(pvm_free_port) || exit 99
    mkdir -p "$TMP/$1-nginx"
    sed "s/@FPORT@/$fc/" "$TMP/$1/pvm.ini.in" >"$TMP/$1/pvm.ini"
    "$PVM_REAL" --config "$TMP/$1/pvm.ini" </dev/null \
        >>"$TMP/$1/pvm.log" 2>&1 &
    MASTER=$!
    PVM_PIDS="$PVM_PIDS $MASTER"
    pvm_wait_port "$fc" 15 "$MASTER" || { bad "$1: pvm-fcgi did not start"; exit 1; }
    pvm_nginx_conf "$TMP/$1-nginx" "$NP" "127.0.0.1:$fc" &&
        pvm_nginx_start "$TMP/$1-nginx" 10 ||
        { bad "$1: nginx did not start"; exit 1; }
    NGINX_DIRS="$NGINX_DIRS $TMP/$1-nginx"
}

# expect NAME PORT STATUS NEEDLE TARGET [CURL-ARGS...]: a GET through
# nginx answers STATUS with NEEDLE (fixed string) in its body.
expect() {
    en=$1 ep=$2 es=$3 ene=$4 et=$5
    shift 5
    got=$(curl -s -o "$TMP/body" -m 30 -w '%{http_code}' "$@" \
        "http://127.0.0.1:$ep$et")
    if [ "$got" = "$es" ] && grep -qF -- "$ene" "$TMP/body"; then
        ok "$en"
    else
        bad "$en: HTTP $got, wanted $es with '$ene': $(head -c 400 "$TMP/body")"
    fi
}

q() { # URL-encodes $1
    "$PY" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"
}

# ---- the servers -----------------------------------------------------------
mkdir -p "$TMP/c" "$TMP/py" "$TMP/main"
cat >"$TMP/c/pvm.ini.in" <<EOF
[server]
listen = 127.0.0.1:@FPORT@
workers = 1
access_log = off

[plugin:waves]
type = example
metric_name = example_metric
EOF
cat >"$TMP/py/pvm.ini.in" <<EOF
[server]
listen = 127.0.0.1:@FPORT@
workers = 1
access_log = off

[plugin:waves]
type = python
file = $top_srcdir/conf/examples/python/waves.py
class = Waves
metric_name = example_metric
EOF

SEED=${PVM_SHARED_DIR:-$top_srcdir/../shared}/seed/plugin-api.md
HAVE_SEED=0
if [ -r "$SEED" ]; then
    # the page's first ```python block, as it is
    awk '/^```python/ { on = 1; next } on && /^```/ { exit } on' "$SEED" \
        >"$TMP/main/seed_example.py"
    [ -s "$TMP/main/seed_example.py" ] && HAVE_SEED=1
fi
if [ "$HAVE_SEED" = 1 ]; then
    cat >"$TMP/main/seed_wrapper.py" <<'EOF'
from seed_example import ExamplePlugin
ExamplePlugin.METRIC_NAME = 'example_metric'
EOF
    SEED_SECTION="[plugin:seed]
type = python
file = seed_wrapper.py
class = ExamplePlugin"
else
    SEED_SECTION=
fi
cp "$PYDIR/features.py" "$PYDIR/flaky.py" "$PYDIR/reload.py" "$TMP/main/"
sqlite3 "$TMP/main/data.db" "CREATE TABLE readings (ts REAL, value REAL);
INSERT INTO readings VALUES (100, 1.5), (115, 2.5), (130.25, 3.5);" ||
    { bad "sqlite3 could not make the database"; exit 1; }
cat >"$TMP/main/pvm.ini.in" <<EOF
[server]
listen = 127.0.0.1:@FPORT@
workers = 2
access_log = off

$SEED_SECTION

[plugin:feat]
type = python
file = features.py
class = Features
database = $TMP/main/data.db
options = json:{"list": [1, 2, 3]}
greeting = hi there

[plugin:shield]
type = catch_errors
wrap = flaky

[plugin:flaky]
type = python
file = flaky.py
class = Flaky

[plugin:pyshield]
type = python
file = flaky.py
class = ShieldedFlaky

[plugin:reload]
type = python
file = reload.py
class = Reloaded
EOF
if [ "$QUICK" = 0 ]; then
    start c 1
    C_PORT=$NP C_PID=$MASTER
    start py 1
    P_PORT=$NP P_PID=$MASTER
    start main 2
else
    sed -i 's/^workers = 2$/workers = 1/' "$TMP/main/pvm.ini.in"
    start main 1
fi
M=$NP
MAIN_MASTER=$MASTER
echo "# servers up after $(($(date +%s) - T0)) s"

# ---- waves: byte for byte the C example -------------------------------------
if [ "$QUICK" = 0 ]; then
REPLAY=${PVM_GRAFANA_REQUESTS:-${PVM_SHARED_DIR:-$top_srcdir/../shared}/grafana-requests.jsonl}
[ -r "$REPLAY" ] || { skip "waves: the Grafana replay ($REPLAY) is missing"; REPLAY=; }
"$PY" "$PYDIR/compare.py" "$C_PORT" "$P_PORT" $REPLAY >"$TMP/compare.out" 2>&1
grep -v '^COUNTS' "$TMP/compare.out" | sed 's/^/  /' | grep -v '^  ok' || true
set -- $(grep '^COUNTS' "$TMP/compare.out")
if [ "${1:-}" = COUNTS ] && [ "$2" -gt 20 ] && [ "$3" = 0 ]; then
    ok "waves: $2 requests answer byte for byte as the C example"
else
    bad "waves: compare.py: $(tail -3 "$TMP/compare.out")"
fi
fi

# ---- seed: the page's own code --------------------------------------------
if [ "$HAVE_SEED" = 1 ]; then
    expect "seed: instant query, one sample at time" "$M" 200 \
        '"result":[{"metric":{"__name__":"example_metric","label1":"value1"},"value":[100,"1"]}]' \
        "/api/v1/query?query=example_metric&time=100"
    expect "seed: range query, one sample per timestamp" "$M" 200 \
        '"values":[[0,"1"],[15,"1"],[30,"1"],[45,"1"],[60,"1"]]' \
        "/api/v1/query_range?query=example_metric&start=0&end=60&step=15"
    expect "seed: metric names" "$M" 200 '"example_metric"' \
        "/api/v1/label/__name__/values"
    expect "seed: label names" "$M" 200 '"label1","label2"' \
        "/api/v1/labels"
    expect "seed: label1 values" "$M" 200 '{"status":"success","data":["value1"]}' \
        "/api/v1/label/label1/values"
    expect "seed: label2 values" "$M" 200 '"data":["value2.1","value2.2"]' \
        "/api/v1/label/label2/values"
    expect "seed: series" "$M" 200 '{"__name__":"example_metric","label1":"value1"}' \
        "/api/v1/series?match%5B%5D=example_metric"
else
    skip "seed: $SEED has no Python code block"
fi

# ---- features ---------------------------------------------------------------
expect "interpreter: Debian's (sys.prefix /usr)" "$M" 200 '"data":["/usr"]' \
    "/api/v1/label/py_prefix/values"
expect "interpreter: Python 3.11" "$M" 200 '"data":["3.11"]' \
    "/api/v1/label/py_version/values"
expect "settings: json: value parsed" "$M" 200 '"data":["1,2,3"]' \
    "/api/v1/label/option_list/values"
expect "settings: plain string passed" "$M" 200 '"data":["hi there"]' \
    "/api/v1/label/greeting/values"
expect "async on_startup ran with the context" "$M" 200 '"data":["feat"]' \
    "/api/v1/label/started/values"
expect "request: http_headers case-insensitive" "$M" 200 '"data":["yes"]' \
    "/api/v1/label/header/values" -H 'X-PVM-Test: yes'
expect "request: path" "$M" 200 '"data":["label/path/values"]' \
    "/api/v1/label/path/values"
expect "request: http_query case-insensitive" "$M" 200 '"data":["12"]' \
    "/api/v1/label/query_arg/values?start=12"
expect "async range hook (step in seconds)" "$M" 200 \
    '"metric":{"__name__":"feat_async","src":"async"},"values":[[0,"15"],[15,"15"],[30,"15"]]' \
    "/api/v1/query_range?query=feat_async&start=0&end=30&step=15"
expect "lazy value kept" "$M" 200 '"metric":{"__name__":"feat_lazy","kind":"kept"},"value":[50,"42"]' \
    "/api/v1/query?query=$(q 'feat_lazy{kind="kept"}')&time=50"
expect "lazy value computed once, for the kept sample only" "$M" 200 \
    '"infos":["lazy calls: 1, added: [True, False]"]' \
    "/api/v1/query?query=$(q 'feat_lazy{kind="kept"}')&time=50"
expect "add_sample: numbers, seconds, skip_type_checks" "$M" 200 \
    '[{"metric":{"__name__":"feat_types","k":"bool"},"value":[50,"1"]},{"metric":{"__name__":"feat_types","k":"float"},"value":[50,"1.5"]},{"metric":{"__name__":"feat_types","k":"int"},"value":[50,"2"]}]' \
    "/api/v1/query?query=feat_types&time=50"
expect "sqlite3: rows as (timestamp, value) pairs" "$M" 200 \
    '"metric":{"__name__":"feat_sqlite","db":"sqlite"},"values":[[100,"1.5"],[115,"2.5"],[130.250,"3.5"]]' \
    "/api/v1/query?query=$(q 'feat_sqlite[1m]')&time=140"
expect "add_samples: a float64 buffer" "$M" 200 '"values":[[0,"7"],[60,"7"]]' \
    "/api/v1/query_range?query=feat_buffer&start=0&end=60&step=60"
expect "ForbiddenError answers 401" "$M" 401 '"errorType":"unauthorized"' \
    "/api/v1/query?query=feat_forbidden"
expect "an exception answers 500 naming instance, hook and exception" "$M" 500 \
    '"error":"plugin feat: on_instant_query_request failed: ValueError: boom in the plugin"' \
    "/api/v1/query?query=feat_boom"
grep -q 'Traceback' "$TMP/main/pvm.log" && grep -q 'in on_instant_query_request' "$TMP/main/pvm.log"
check "the exception's traceback is logged" $?
DEADLINE_CASES="feat_loop feat_sleep feat_async_loop"
[ "$QUICK" = 1 ] && DEADLINE_CASES=feat_loop
for what in $DEADLINE_CASES; do
    t1=$(date +%s%N)
    ep=query
    [ $what = feat_async_loop ] && ep="query_range" && what="$what&start=0&end=60&step=15"
    expect "deadline: $what stopped with 503" "$M" 503 '"errorType":"timeout"' \
        "/api/v1/$ep?query=$what&timeout=1s"
    ms=$(( ($(date +%s%N) - t1) / 1000000 ))
    if [ "$QUICK" = 0 ]; then
        [ "$ms" -lt 4000 ]
        check "deadline: $what answered within 4 s of a 1 s deadline ($ms ms)" $?
    fi
done
expect "the worker serves on after its hook was interrupted" "$M" 200 \
    '"value":[50,"42"]' "/api/v1/query?query=$(q 'feat_lazy{kind="kept"}')&time=50"
curl -s -m 10 -o "$TMP/pg" "http://127.0.0.1:$M/api/v1/label/psycopg2/values"
if grep -q '"missing"' "$TMP/pg"; then
    skip "psycopg2: python3-psycopg2 is not installed"
else
    grep -q '"psycopg2 2' "$TMP/pg"
    check "a Debian package (psycopg2) imports in a plugin" $?
fi

# ---- shields ------------------------------------------------------------------
expect "catch_errors: the flaky instance becomes a warning" "$M" 200 \
    "PluginError: 'RuntimeError: database is down' raised while running flaky.on_instant_query_request()" \
    "/api/v1/query?query=example_metric&time=100"
expect "CatchErrorsPlugin: its warning" "$M" 200 \
    "PluginError: 'RuntimeError: database is down' raised while running flaky.Flaky.on_instant_query_request()" \
    "/api/v1/query?query=example_metric&time=100"
if [ "$HAVE_SEED" = 1 ]; then
    expect "shields: the good plugin's data stays" "$M" 200 '"value":[100,"1"]' \
        "/api/v1/query?query=example_metric&time=100"
fi
expect "shields: async hooks too" "$M" 200 \
    "database is down (async)' raised while running flaky.Flaky.on_range_query_request()" \
    "/api/v1/query_range?query=example_metric&start=0&end=60&step=15"

if [ "$QUICK" = 0 ]; then
# ---- reload -------------------------------------------------------------------
expect "reload: before" "$M" 200 '"value":[10,"1"]' "/api/v1/query?query=reload_metric&time=10"
sed -i 's/^VALUE = 1$/VALUE = 2/' "$TMP/main/reload.py"
kill -HUP "$MAIN_MASTER"
n=0
while [ $n -lt 50 ]; do
    curl -s -m 5 "http://127.0.0.1:$M/api/v1/query?query=reload_metric&time=10" >"$TMP/reload"
    grep -q '"value":\[10,"2"\]' "$TMP/reload" && break
    sleep 0.2
    n=$((n + 1))
done
grep -q '"value":\[10,"2"\]' "$TMP/reload"
check "reload: SIGHUP picks up the edited file" $?

# ---- a failing on_startup -------------------------------------------------------
mkdir -p "$TMP/bad"
cp "$PYDIR/bad_startup.py" "$TMP/bad/"
for w in 1 2; do
    cat >"$TMP/bad/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$(pvm_free_port)
workers = $w

[plugin:db]
type = python
file = bad_startup.py
class = BadStartup
EOF
    timeout 20 "$PVM_REAL" --config "$TMP/bad/pvm.ini" </dev/null >"$TMP/bad/out" 2>&1
    rc=$?
    [ $rc != 0 ] && [ $rc != 124 ] &&
        grep -q "plugin db: on_startup.*ConnectionError: cannot reach the database" "$TMP/bad/out"
    check "startup: a raising on_startup stops the server (workers = $w, exit $rc)" $?
done

# ---- --check-config compiles the source, running nothing ---------------------
mkdir -p "$TMP/chk/pkg/sub"
printf 'open(%s, "w").close()\n' "'$TMP/chk/ran'" >"$TMP/chk/pkg/__init__.py"
cp "$TMP/chk/pkg/__init__.py" "$TMP/chk/pkg/sub/__init__.py"
printf 'class P:\n    def on_startup(self context):\n        pass\n' \
    >"$TMP/chk/bad.py"
printf 'class P:\n    x = (\n' >"$TMP/chk/pkg/sub/broken.py"
printf 'class P:\n    pass\n' >"$TMP/chk/pkg/sub/good.py"
# chk NAME KEYS EXIT PATTERN: --check-config on a [plugin:p] with KEYS
chk() {
    printf '[plugin:p]\ntype = python\n%s\nclass = P\n' "$2" >"$TMP/chk/pvm.ini"
    timeout 20 "$PVM_REAL" --check-config --config "$TMP/chk/pvm.ini" \
        >"$TMP/chk/out" 2>&1
    rc=$?
    [ "$rc" = "$3" ] && grep -q "$4" "$TMP/chk/out"
    check "--check-config: $1 (exit $rc: $(tail -n 1 "$TMP/chk/out" | cut -c 1-160))" $?
}
chk "a syntax error in file, with its line" 'file = bad.py' 1 \
    "SyntaxError: invalid syntax (bad.py, line 2)"
chk "a syntax error in a module of a package" \
    "module = pkg.sub.broken
python_path = $TMP/chk" 1 "SyntaxError: '(' was never closed"
chk "a module that is nowhere" "module = pkg.nosuch
python_path = $TMP/chk" 1 "ModuleNotFoundError: no module named 'pkg.nosuch'"
chk "a module that compiles" "module = pkg.sub.good
python_path = $TMP/chk" 0 "is valid"
[ ! -e "$TMP/chk/ran" ]
check "--check-config ran no package __init__" $?

fi

# graceful stop runs on_shutdown and finalises: no error logged
pvm_stop_pid "$MAIN_MASTER" 60
if grep -E "error: .*(on_shutdown|Fatal Python|Exception ignored)" "$TMP/main/pvm.log"; then
    bad "shutdown: errors logged"
else
    ok "shutdown: on_shutdown ran without errors"
fi
# the sanitizer build reports into the logs (at exit): there must be none
if [ "$QUICK" = 0 ]; then
    pvm_stop_pid "$C_PID" 15
    pvm_stop_pid "$P_PID" 15
fi
for d in py main c; do
    if [ -f "$TMP/$d/pvm.log" ] && grep -q 'ERROR: [A-Za-z]*Sanitizer\|runtime error:' "$TMP/$d/pvm.log"; then
        bad "sanitizers: a report in $d/pvm.log"
        grep -A12 'ERROR: [A-Za-z]*Sanitizer\|runtime error:' "$TMP/$d/pvm.log" | head -30
    fi
done
echo "# done after $(($(date +%s) - T0)) s"
