#!/bin/sh
# tests/integration/check_config.sh: `pvm-fcgi --check-config` from the
# command line (a TESTS entry). Each plugin's own validation runs: a
# missing openmetrics_file path, a file with a syntax error, an sqlite
# query that would write or holds two statements, a missing database
# (not created) are refused with exit status 1 and a message naming the
# file, line and instance; no password is printed. A configuration that
# is not a small regular file (/dev/zero, a directory, a FIFO, a file over
# 1 MiB) is refused at once, also by a SIGHUP reload of a running server,
# which keeps serving. Every command is bounded by `timeout`. Prints
# PVM-RESULT lines.
set -u

# The counters ok/bad (PASS, FAIL) are tests/lib/script.sh's; its
# pvm_script_begin is not used: no nginx, no curl.
. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
PVM_BIN=$top_builddir/pvm-fcgi
pvm_script_need check_config "$PVM_BIN"
for t in timeout sqlite3 mkfifo; do
    if ! command -v "$t" >/dev/null 2>&1; then
        echo "check_config.sh: SKIP: '$t' is missing (Debian package" \
            "$([ "$t" = sqlite3 ] && echo sqlite3 || echo coreutils))"
        exit 77
    fi
done

PVM_PID=

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    pvm_stop_pid "$PVM_PID" 10
    [ "$FAIL" != 0 ] && [ "$rc" = 0 ] && rc=1
    pvm_test_finish check_config.sh "$TMP" "$rc" 40 "$TMP/pvm.stderr"
}
pvm_script_tmp check_config cleanup

# refused NAME CONFIG PATTERN: --check-config CONFIG exits 1 within 10 s
# with PATTERN (grep -E) on stderr and nothing on stdout.
refused() {
    timeout 10 "$PVM_BIN" --check-config --config "$2" \
        >"$TMP/out" 2>"$TMP/err" </dev/null
    st=$?
    if [ "$st" = 1 ] && grep -Eq -- "$3" "$TMP/err" && [ ! -s "$TMP/out" ]
    then
        ok "$1: $(head -c 160 "$TMP/err")"
    else
        bad "$1: exit $st (want 1; 124: hung), stdout: $(head -c 200 \
"$TMP/out"), stderr: $(head -c 300 "$TMP/err") (want /$3/)"
    fi
}

# valid NAME CONFIG: exit 0 and "is valid".
valid() {
    timeout 10 "$PVM_BIN" --check-config --config "$2" \
        >"$TMP/out" 2>"$TMP/err" </dev/null
    st=$?
    if [ "$st" = 0 ] && grep -q 'is valid' "$TMP/out"; then
        ok "$1"
    else
        bad "$1: exit $st, $(head -c 300 "$TMP/err")"
    fi
}

cd "$TMP" || exit 99

# ---- openmetrics_file ----------------------------------------------------
printf 'up{job="a"} 1 1700000000\nup 1 1700000000\n# EOF\n' >ok.om
printf 'up{job="a"} 1 1700000000\nup{job="a 2 1700000015\n' >bad.om
printf '[plugin:om]\ntype = openmetrics_file\npath = ok.om\n' >om-ok.ini
printf '[plugin:om]\ntype = openmetrics_file\npath = gone.om\n' >om-gone.ini
printf '[plugin:om]\ntype = openmetrics_file\npath = bad.om\n' >om-bad.ini
valid "openmetrics_file with a good file" om-ok.ini
refused "openmetrics_file path that does not exist" om-gone.ini \
    'om-gone.ini:1: \[plugin:om\]: cannot open .*gone.om: No such file'
refused "openmetrics_file with a syntax error" om-bad.ini \
    'bad.om:2: unterminated label set'

# ---- sqlite --------------------------------------------------------------
sqlite3 db.sqlite "CREATE TABLE t (timestamp, value, host TEXT);
INSERT INTO t VALUES (1700000000, 1, 'a');" || exit 99
sq() { # sq FILE DATABASE QUERY
    printf '[plugin:s]\ntype = sqlite\ndatabase = %s\nmetric = m\nquery = %s\n' \
        "$2" "$3" >"$1"
}
sq sq-ok.ini db.sqlite 'SELECT * FROM t WHERE timestamp BETWEEN :start AND :end'
sq sq-delete.ini db.sqlite 'DELETE FROM t'
sq sq-two.ini db.sqlite 'SELECT * FROM t; DELETE FROM t'
sq sq-nodb.ini nodb.sqlite 'SELECT * FROM t'
valid "sqlite with a SELECT" sq-ok.ini
refused "sqlite DELETE" sq-delete.ini \
    'sq-delete.ini:1: \[plugin:s\]: query: must be a SELECT \(it would write\)'
refused "sqlite with two statements" sq-two.ini \
    'query: must be exactly one SELECT statement'
refused "sqlite database that does not exist" sq-nodb.ini \
    '\[plugin:s\]: database .*nodb.sqlite: unable to open'
if [ "$(sqlite3 db.sqlite 'SELECT count(*) FROM t')" = 1 ] &&
    [ ! -e nodb.sqlite ]; then
    ok "no row deleted, no database created"
else
    bad "--check-config changed the database or created nodb.sqlite"
fi
# the same refusal at the start, with the same message
timeout 10 "$PVM_BIN" --single-process --config sq-delete.ini \
    --listen "127.0.0.1:$(pvm_free_port)" >"$TMP/out" 2>"$TMP/err" </dev/null
st=$?
if [ "$st" != 0 ] && [ "$st" != 124 ] &&
    grep -q 'query: must be a SELECT (it would write)' "$TMP/err"; then
    ok "the start refuses the DELETE the same way"
else
    bad "start with a DELETE query: exit $st, $(head -c 300 "$TMP/err")"
fi

# ---- secrets -------------------------------------------------------------
printf 'bob:$2y$05$notavalidhashatall\n' >users
printf '[plugin:auth]\ntype = basic_auth\nuser = alice:s3cr3t-pw\nhtpasswd = users\n' \
    >auth-bad.ini
printf '[plugin:auth]\ntype = basic_auth\nuser = alice:s3cr3t-pw\n[plugin:om]\ntype = openmetrics_file\npath = gone.om\n' \
    >auth-om.ini
printf '[plugin:auth]\ntype = basic_auth\nuser alice s3cr3t-pw\n' >auth-syntax.ini
for f in auth-bad.ini auth-om.ini auth-syntax.ini; do
    timeout 10 "$PVM_BIN" --check-config --config "$f" >"$TMP/out" \
        2>"$TMP/err" </dev/null
    st=$?
    if [ "$st" = 1 ] && ! grep -q 's3cr3t\|notavalidhash' "$TMP/out" "$TMP/err"
    then
        ok "$f refused without printing a password or hash"
    else
        bad "$f: exit $st, or a secret printed: $(cat "$TMP/out" "$TMP/err")"
    fi
done

# postgresql: a conninfo holding a password (a secret key), a malformed
# one, a password_file; no server listens on the socket directory given.
printf 'PgS3cretPW\n' >pg.password
pgq='metric = m\nquery = SELECT 1 AS timestamp, 2 AS value\n'
printf "[plugin:pg]\ntype = postgresql\nconninfo = host=$TMP port=5999 dbname=x user=u password=PgS3cretPW\nrequire_at_startup = yes\n$pgq" >pg-down.ini
printf "[plugin:pg]\ntype = postgresql\nconninfo = host=$TMP password=PgS3cretPW junk\n$pgq" >pg-malformed.ini
printf "[plugin:pg]\ntype = postgresql\nhost = $TMP\nport = 5999\ndbname = x\npassword_file = pg.password\nrequire_at_startup = yes\n$pgq" >pg-pwfile.ini
for f in pg-down.ini pg-malformed.ini pg-pwfile.ini; do
    timeout 10 "$PVM_BIN" --check-config --config "$f" >"$TMP/out" \
        2>"$TMP/err" </dev/null
    st=$?
    if [ "$st" = 1 ] && ! grep -q 'PgS3cretPW' "$TMP/out" "$TMP/err" &&
        grep -q 'plugin:pg' "$TMP/err"; then
        ok "$f refused without printing the password: $(head -c 120 "$TMP/err")"
    else
        bad "$f: exit $st, or the password printed: $(cat "$TMP/out" "$TMP/err")"
    fi
done
refused "a malformed conninfo is named as such" pg-malformed.ini \
    'conninfo: not a libpq connection string'
sed '/require_at_startup/d' pg-down.ini >pg-later.ini
timeout 10 "$PVM_BIN" --check-config --config pg-later.ini >"$TMP/out" \
    2>"$TMP/err" </dev/null
st=$?
if [ "$st" = 0 ] && grep -q 'cannot connect' "$TMP/err" &&
    ! grep -q 'PgS3cretPW' "$TMP/out" "$TMP/err"; then
    ok "a server down is a warning without require_at_startup"
else
    bad "pg-later.ini: exit $st: $(cat "$TMP/out" "$TMP/err")"
fi

# ---- what is not a configuration file ------------------------------------
mkdir adir
mkfifo fifo
head -c 1100000 /dev/zero | tr '\0' ';' >huge.ini
refused "--config /dev/zero" /dev/zero 'not a regular file \(it is a character device\)'
refused "--config a directory" adir 'not a regular file \(it is a directory\)'
refused "--config a FIFO" fifo 'not a regular file \(it is a FIFO\)'
refused "--config a file over 1 MiB" huge.ini 'too large \(more than 1048576 bytes\)'

# ---- the same for a SIGHUP reload ----------------------------------------
PORT=$(pvm_free_port) || exit 99
printf '[server]\nlisten = 127.0.0.1:%s\nworkers = 2\nlog_level = info\n[plugin:example]\n' \
    "$PORT" >served.ini
ln -s served.ini pvm.ini
"$PVM_BIN" --config "$TMP/pvm.ini" </dev/null >"$TMP/pvm.stdout" \
    2>"$TMP/pvm.stderr" &
PVM_PID=$!
if ! pvm_wait_port "$PORT" 10 "$PVM_PID"; then
    bad "pvm-fcgi did not start"
    exit 1
fi
n=0
for target in /dev/zero fifo adir huge.ini; do
    n=$((n + 1))
    ln -sfn "$target" pvm.ini
    kill -HUP "$PVM_PID"
    k=50
    while [ "$k" -gt 0 ] &&
        [ "$(grep -c 'reload failed' "$TMP/pvm.stderr")" -lt "$n" ]; do
        sleep 0.1
        k=$((k - 1))
    done
    if [ "$(grep -c 'reload failed' "$TMP/pvm.stderr")" -ge "$n" ] &&
        kill -0 "$PVM_PID" 2>/dev/null; then
        ok "SIGHUP with the configuration on $target: refused within 5 s, still running"
    else
        bad "SIGHUP with the configuration on $target: no 'reload failed' within 5 s (the master hangs?)"
    fi
done
# and a good configuration is still applied
ln -sfn served.ini pvm.ini
kill -HUP "$PVM_PID"
if pvm_wait_grep 'reloaded: ' "$TMP/pvm.stderr" 10 && kill -0 "$PVM_PID" 2>/dev/null
then
    ok "after the refused reloads, a good one is applied"
else
    bad "no 'reloaded:' within 10 s after the refused reloads"
fi

echo "PVM-RESULT: check-config: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
