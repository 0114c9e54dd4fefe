# tests/lib/script.sh: the frame of an integration script that runs the
# test binary pvm-fcgi-test behind nginx on 127.0.0.1 (process.sh,
# fcgi.sh, deadline.sh). Source it with NAME set, then call
#   pvm_script_begin NAME [BINARY...]
# which finds the source and build trees (top_srcdir, top_builddir),
# sources nginx.sh, checks the binaries (exit 99 when one is missing) and
# curl and nginx (SKIP: exit 77 with a line saying what is missing),
# makes TMP and installs the EXIT trap. The script records the processes
# it starts in PVM_PIDS and nginx directories in NGINX_DIRS; the trap
# runs pvm_script_before_cleanup (define it to stop processes of your
# own), stops nginx and pvm-fcgi by PID, prints
#   PVM-RESULT: NAME: P passed, F failed, S skipped
# and removes TMP (kept with PVM_KEEP_TMP=1), showing the logs on
# failure: TMP/*/pvm.log, TMP/*/error.log and the files listed in
# PVM_SCRIPT_LOGS. ok, bad, skip and check count the results.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
export top_srcdir top_builddir
. "$top_srcdir/tests/lib/nginx.sh"

PVM_BIN=$top_builddir/tests/pvm-fcgi-test
PASS=0
FAIL=0
SKIP=0
PVM_PIDS=
NGINX_DIRS=
PVM_SCRIPT_LOGS=

ok() {
    echo "ok   $1"
    PASS=$((PASS + 1))
}

bad() {
    echo "FAIL $1"
    FAIL=$((FAIL + 1))
}

skip() {
    echo "skip $1"
    SKIP=$((SKIP + 1))
}

# check NAME COND-STATUS: ok/bad from the status of the preceding command.
check() {
    if [ "$2" = 0 ]; then ok "$1"; else bad "$1"; fi
}

# Redefined by scripts that start processes of their own.
pvm_script_before_cleanup() {
    :
}

# pvm_script_stop: stops, by PID, the nginx of NGINX_DIRS and the
# processes of PVM_PIDS (for a script with a cleanup of its own too).
pvm_script_stop() {
    for d in $NGINX_DIRS; do
        pvm_nginx_stop "$d" 10
    done
    for p in $PVM_PIDS; do
        pvm_stop_pid "$p" 10
    done
}

pvm_script_cleanup() {
    rc=$?
    trap - EXIT INT TERM
    pvm_script_before_cleanup
    pvm_script_stop
    [ "$FAIL" != 0 ] && [ "$rc" = 0 ] && rc=1
    echo "PVM-RESULT: $PVM_SCRIPT: $PASS passed, $FAIL failed, $SKIP skipped"
    pvm_test_finish "$PVM_SCRIPT.sh" "$TMP" "$rc" 40 \
        "$TMP"/*/pvm.log "$TMP"/*/error.log $PVM_SCRIPT_LOGS
}

# pvm_script_need NAME BINARY...: exits 99, naming it, when a BINARY is
# missing (make check builds them).
pvm_script_need() {
    pvm_sn_name=$1
    shift
    for b in "$@"; do
        if [ ! -x "$b" ]; then
            echo "$pvm_sn_name.sh: $b is missing: run 'make check'" >&2
            exit 99
        fi
    done
}

# pvm_script_tmp NAME CLEANUP: makes TMP (pvm-NAME.XXXXXX below TMPDIR,
# readable by nginx's workers) and runs the function CLEANUP on exit (also
# on INT and TERM, with 130 and 143).
pvm_script_tmp() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvm-$1.XXXXXX") || exit 99
    chmod 755 "$TMP"
    # shellcheck disable=SC2064 # the name of CLEANUP, expanded now
    trap "$2" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# pvm_script_begin NAME [BINARY...]: see the top of this file.
pvm_script_begin() {
    PVM_SCRIPT=$1
    shift
    pvm_script_need "$PVM_SCRIPT" "$PVM_BIN" "$@"
    if ! command -v curl >/dev/null 2>&1 || ! pvm_nginx_bin >/dev/null; then
        echo "$PVM_SCRIPT.sh: SKIP: curl or nginx missing (tests/deps.sh installs them)"
        echo "PVM-RESULT: $PVM_SCRIPT: 0 passed, 0 failed, 1 skipped"
        exit 77
    fi
    pvm_script_tmp "$PVM_SCRIPT" pvm_script_cleanup
}

# pvm_start_fcgi NAME INI LISTEN: starts PVM_BIN --config INI in the
# background (stdout and stderr in TMP/NAME/pvm.stdout and pvm.stderr),
# adds it to PVM_PIDS and waits up to 10 s for LISTEN (127.0.0.1:PORT or
# unix:PATH); fails, showing its stderr, when it does not come up.
pvm_start_fcgi() {
    "$PVM_BIN" --config "$2" </dev/null >"$TMP/$1/pvm.stdout" \
        2>"$TMP/$1/pvm.stderr" &
    pvm_sf_pid=$!
    PVM_PIDS="$PVM_PIDS $pvm_sf_pid"
    case "$3" in
    unix:*) pvm_wait_path "${3#unix:}" 10 "$pvm_sf_pid" ;;
    *) pvm_wait_port "${3##*:}" 10 "$pvm_sf_pid" ;;
    esac && return 0
    echo "$(basename "$0"): pvm-fcgi ($1) did not start:" >&2
    cat "$TMP/$1/pvm.stderr" >&2
    return 1
}

# The suite of test_api, test_grafana_replay, promtool.sh and vmalert.sh
# (run.sh behind nginx, webservers.sh behind lighttpd and Apache):
# pvm_suite_plugins prints the plugin sections of its main instance (the
# series test_api expects: example, fixture, fixture_special_metric);
# pvm_suite_env MAIN_PORT FAIL_PORT FORBID_PORT MAX_BODY exports the
# PVM_TEST_* variables the programs read (the failing instance below /pvm).
pvm_suite_plugins() {
    cat <<'EOF'
[plugin:example]

[plugin:fixture]
metric = example_metric

[plugin:special]
type = fixture
metric = fixture_special_metric
values = special
warn = special warning
info = special info
EOF
}

pvm_suite_env() {
    PVM_TEST_PORT=$1
    PVM_TEST_FAIL_PORT=$2
    PVM_TEST_FAIL_PREFIX=/pvm
    PVM_TEST_FORBID_PORT=$3
    PVM_TEST_MAX_BODY=$4
    export PVM_TEST_PORT PVM_TEST_FAIL_PORT PVM_TEST_FAIL_PREFIX \
        PVM_TEST_FORBID_PORT PVM_TEST_MAX_BODY
}
