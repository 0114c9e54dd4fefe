#!/bin/sh
# tests/integration/sql_postgresql.sh: the postgresql plugin type against a
# real PostgreSQL server (tests/lib/postgres.sh: initdb and postgres in a
# temp dir on a Unix socket, started once) through nginx, with the SQL
# suite of tests/lib/sql_suite.sh (every case of issue #12). The server
# logs every statement without parameter values (log_statement = all,
# log_parameter_max_length = 0), which proves that label values arrive
# only as bound parameters. Skipped (exit 77) when PostgreSQL's binaries
# are missing. Prints "PVM-RESULT: sql_postgresql: P passed, F failed,
# S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
. "$top_srcdir/tests/lib/postgres.sh"
. "$top_srcdir/tests/lib/sql_suite.sh"
if ! pg_find; then
    echo "sql_postgresql.sh: SKIP: PostgreSQL's initdb/postgres/psql are missing (Debian: postgresql)"
    echo "PVM-RESULT: sql_postgresql: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
pvm_script_begin sql_postgresql
pvm_script_before_cleanup() {
    pg_stop
    if [ "$FAIL" != 0 ] && [ -f "${PG_LOG:-/nonexistent}" ]; then
        echo "--- the server's log (tail)"
        tail -15 "$PG_LOG"
    fi
    pg_clean
}

SQL_TYPE=postgresql
SQL_DOUBLE="DOUBLE PRECISION"
SQL_TEXT="VARCHAR(200)"
SQL_TSTYPE=TIMESTAMPTZ
SQL_PLACEHOLDER='\$[0-9]+'
sql_admin() {
    pg_psql -f - >/dev/null
}
sql_conn() {
    printf 'host = %s\nport = %s\ndbname = postgres\nuser = postgres\n' \
        "$PG_DIR" "$PG_PORT"
}
sql_ts_expr() {
    echo "to_timestamp($1)"
}
sql_slow_query() {
    echo "SELECT CAST(:end AS float8) AS timestamp, 1 AS value FROM pg_sleep(20)"
}
sql_down() {
    pg_stop
}
sql_up() {
    pg_restart
}
sql_log_mark() {
    wc -c <"$PG_LOG" | tr -d ' '
}
# The statements logged since MARK (their text only: the parameters are
# not logged).
sql_log_since() {
    tail -c +"$(($1 + 1))" "$PG_LOG"
}
sql_cancel_seen() {
    tail -c +"$(($1 + 1))" "$PG_LOG" | grep -q 'canceling statement due to'
}

t_start=$(date +%s)
pg_start "log_statement = 'all'" "log_parameter_max_length = 0" \
    "log_min_error_statement = error" ||
    { bad "PostgreSQL did not start"; exit 1; }
ok "PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $NF }') started ($(($(date +%s) - t_start)) s)"
sql_suite_run

echo "=== conf/examples/postgresql-demo"
demo=$top_srcdir/conf/examples/postgresql-demo
if pg_psql -c 'CREATE DATABASE sensors' &&
    PATH=$PG_BIN:$PATH pg_as sh "$demo/fill.sh" -h "$PG_DIR" -p "$PG_PORT" \
        -U postgres -d sensors >"$TMP/fill.log" 2>&1; then
    ok "fill.sh: $(tail -1 "$TMP/fill.log")"
else
    bad "fill.sh failed: $(tail -3 "$TMP/fill.log")"
fi
sed -e "s|^host = .*|host = $PG_DIR\nport = $PG_PORT|" "$demo/pvm.ini" \
    >"$TMP/demo.ini"
if "$PVM_BIN" --check-config --config "$TMP/demo.ini" >"$TMP/demo.out" 2>&1
then
    ok "the demo's pvm.ini is valid (its query prepared)"
else
    bad "the demo's pvm.ini: $(head -c 300 "$TMP/demo.out")"
fi
echo "sql_postgresql: $(($(date +%s) - t_start)) s"
