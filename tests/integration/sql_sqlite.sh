#!/bin/sh
# tests/integration/sql_sqlite.sh: the sqlite plugin type through nginx with
# the SQL suite of tests/lib/sql_suite.sh (the cases of issue #12 that a
# database file has: no server to stop, no statement log, so those cases
# are counted as skipped). Timestamps are ISO text, as SQLite stores them.
# Prints "PVM-RESULT: sql_sqlite: P passed, F failed, S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
. "$top_srcdir/tests/lib/sql_suite.sh"
if ! command -v sqlite3 >/dev/null 2>&1; then
    echo "sql_sqlite.sh: SKIP: the sqlite3 tool is missing (Debian: sqlite3)"
    echo "PVM-RESULT: sql_sqlite: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
pvm_script_begin sql_sqlite

SQL_TYPE=sqlite
SQL_DOUBLE="DOUBLE PRECISION"
SQL_TEXT="VARCHAR(200)"
SQL_TSTYPE=TEXT
sql_admin() {
    sqlite3 -bail "$TMP/sql.db" >/dev/null
}
sql_conn() {
    echo "database = $TMP/sql.db"
}
sql_ts_expr() {
    echo "strftime('%Y-%m-%d %H:%M:%f', $1, 'unixepoch')"
}
sql_slow_query() {
    echo "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT :end AS timestamp, count(*) AS value FROM c"
}

t_start=$(date +%s)
sql_suite_run
echo "sql_sqlite: $(($(date +%s) - t_start)) s"
