#!/bin/sh
# tests/bench/sql_bench.sh BUILD_DIR: the SQL plugin types on 1,000,000
# rows (100 series x 10,000 points), through nginx and pvm-fcgi (one
# worker per driver), against the bare SELECT in psql, mariadb and
# sqlite3 on the same machine. For each driver:
#   full      count_over_time(bench_DRIVER[window]): pvm fetches and
#             converts every row (the answer is 100 numbers)
#   pushed    the same with {series="s42"}: pushed down, the database
#             reads 10,000 rows (its plan is shown)
#   bare      the same SELECT in psql -At / mariadb -N / sqlite3 into
#             /dev/null
# Prints wall times (best of 3), rows per second through pvm and the
# worker's peak RSS (VmHWM); `make bench` runs it (docs/performance.md,
# "SQL sources"). Not a test: nothing is asserted.
set -u
build=$(cd "${1:-.}" && pwd)
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$build
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/lib/postgres.sh"
. "$top_srcdir/tests/lib/mariadb.sh"
PVM=$build/pvm-fcgi
[ -x "$PVM" ] || { echo "sql_bench.sh: $PVM missing: run make" >&2; exit 1; }
. "$top_srcdir/tests/bench/lib.sh"
pvm_bench_begin sql_bench 0 curl
pvm_bench_before_cleanup() {
    pg_stop
    pg_clean
    pvm_mariadb_stop 20
}

T0=1700000000
N=10000 # points per series, 10 s apart
S=100   # series
END=$((T0 + (N - 1) * 10))
SELECT="SELECT ts AS timestamp, value, series, host FROM bench WHERE ts BETWEEN :start AND :end"
BARE="SELECT ts AS timestamp, value, series, host FROM bench WHERE ts BETWEEN $T0 AND $END"

# best_of CMD...: the best wall time (s) of 3 runs.
best_of() {
    best=
    for i in 1 2 3; do
        a=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        b=$(date +%s.%N)
        best=$(awk -v a="$a" -v b="$b" -v m="$best" \
            'BEGIN { t = b - a; if (m == "" || t < m) m = t; printf "%.3f", m }')
    done
    echo "$best"
}

# start_pvm NAME INI-LINES: pvm-fcgi (one worker) and nginx; sets URL, WPID.
start_pvm() {
    fc=$(pvm_free_port) && np=$(pvm_free_port) || exit 1
    mkdir -p "$TMP/$1" "$TMP/nginx-$1"
    printf '[server]\nlisten = 127.0.0.1:%s\nworkers = 1\naccess_log = off\nlog_level = warning\n\n[plugin:%s]\n%s\n' \
        "$fc" "$1" "$2" >"$TMP/$1/pvm.ini"
    "$PVM" --config "$TMP/$1/pvm.ini" </dev/null >"$TMP/$1/log" 2>&1 &
    mp=$!
    PIDS="$PIDS $mp"
    pvm_wait_port "$fc" 15 "$mp" || { cat "$TMP/$1/log"; exit 1; }
    pvm_nginx_conf "$TMP/nginx-$1" "$np" "127.0.0.1:$fc" &&
        pvm_nginx_start "$TMP/nginx-$1" 10 || exit 1
    NGINX_DIRS="$NGINX_DIRS $TMP/nginx-$1"
    URL=http://127.0.0.1:$np/api/v1/query
    WPID=$(ps -o pid= --ppid "$mp" | head -1 | tr -d ' ')
    [ -n "$WPID" ] || WPID=$mp # workers = 1: one process
}

q() { # QUERY: the instant query at END through curl
    curl -sf -m 120 -G -o "$TMP/out" "$URL" --data-urlencode "query=$1" \
        --data-urlencode "time=$END"
}

run_driver() { # NAME BARE-COMMAND...
    name=$1
    shift
    W="[$((N * 10))s]"
    q "count_over_time(bench_$name$W)" || { echo "$name: query failed"; cat "$TMP/out"; return; }
    rows=$(grep -o '"[0-9]*"\]' "$TMP/out" | tr -d '"]' | awk '{ s += $1 } END { print s }')
    full=$(best_of q "count_over_time(bench_$name$W)")
    pushed=$(best_of q "count_over_time(bench_$name{series=\"s42\"}$W)")
    bare=$(best_of "$@")
    hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$WPID/status" 2>/dev/null)
    awk -v n="$name" -v r="$rows" -v f="$full" -v p="$pushed" -v b="$bare" -v h="$hwm" 'BEGIN {
        printf "| %s | %d | %.3f | %.0f | %.3f | %.3f | %.2f | %s |\n",
            n, r, f, r / f, p, b, f / b, h
    }' >>"$TMP/results"
}

echo "== data: $S series x $N points"
# SQLite
sqlite3 "$TMP/bench.db" <<SQL
CREATE TABLE bench (ts DOUBLE PRECISION, series TEXT, host TEXT,
                    value DOUBLE PRECISION);
WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < $N - 1),
s(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM s WHERE k < $S - 1)
INSERT INTO bench SELECT $T0 + n * 10, 's' || k, 'h' || (k % 10),
    (n * 7 + k) % 1000 / 10.0 FROM s, i;
CREATE INDEX bench_series_ts ON bench (series, ts);
CREATE INDEX bench_ts ON bench (ts);
ANALYZE;
SQL
# PostgreSQL
if pg_start "shared_buffers = 128MB" >/dev/null; then
    pg_psql <<SQL
CREATE TABLE bench (ts double precision, series text, host text,
                    value double precision);
INSERT INTO bench SELECT $T0 + n * 10, 's' || k, 'h' || (k % 10),
    (n * 7 + k) % 1000 / 10.0
FROM generate_series(0, $S - 1) k, generate_series(0, $N - 1) n;
CREATE INDEX bench_series_ts ON bench (series, ts);
CREATE INDEX bench_ts ON bench (ts);
VACUUM ANALYZE bench;
SQL
else
    echo "sql_bench.sh: PostgreSQL did not start: skipped"
fi
# MariaDB (tests/lib/mariadb.sh), root over its socket
MY=$TMP/mariadb
if pvm_mariadb_bins >/dev/null && pvm_mariadb_init "$MY" &&
    PVM_MARIADB_ARGS="--innodb-buffer-pool-size=256M" \
        pvm_mariadb_start "$MY" 30; then
    pvm_mariadb_sql "$MY" <<SQL
CREATE DATABASE bench;
USE bench;
CREATE TABLE bench (ts DOUBLE, series VARCHAR(16), host VARCHAR(16),
                    value DOUBLE);
INSERT INTO bench SELECT $T0 + n.seq * 10, CONCAT('s', k.seq),
    CONCAT('h', k.seq % 10), (n.seq * 7 + k.seq) % 1000 / 10.0
FROM seq_0_to_$((S - 1)) k, seq_0_to_$((N - 1)) n;
CREATE INDEX bench_series_ts ON bench (series, ts);
CREATE INDEX bench_ts ON bench (ts);
ANALYZE TABLE bench;
SQL
else
    echo "sql_bench.sh: MariaDB did not start: skipped"
fi

: >"$TMP/results"
start_pvm sq "type = sqlite
database = $TMP/bench.db
metric = bench_sq
query = $SELECT"
run_driver sq sqlite3 "$TMP/bench.db" "$BARE"
sq_plan=$(sqlite3 "$TMP/bench.db" "EXPLAIN QUERY PLAN SELECT * FROM ($BARE) AS pvm_q WHERE \"series\" = 's42'" | tr '\n' ' ')

if [ -n "$PG_PID" ]; then
    start_pvm pg "type = postgresql
host = $PG_DIR
port = $PG_PORT
dbname = postgres
user = postgres
metric = bench_pg
query = $SELECT"
    run_driver pg pg_psql -At -c "$BARE"
    pg_plan=$(pg_psql -At -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT * FROM ($BARE) AS pvm_q WHERE \"series\" = 's42'" |
        grep -E 'Scan|rows=' | head -3 | tr '\n' ' ')
fi

if [ -n "$PVM_MARIADB_PID" ]; then
    start_pvm my "type = mysql
socket = $MY/mysqld.sock
database = bench
user = root
metric = bench_my
query = $SELECT"
    run_driver my pvm_mariadb_sql "$MY" -N bench -e "$BARE"
    my_plan=$(pvm_mariadb_sql "$MY" -N bench -e "EXPLAIN SELECT * FROM ($BARE) AS pvm_q WHERE \`series\` = 's42'" |
        awk -F'\t' '{ printf "type %s, key %s, rows %s", $4, $6, $9 }')
fi

{
    echo "Machine: $(nproc) CPUs, $(uname -sr); $(date -u +%Y-%m-%d)"
    echo "Command: tests/bench/sql_bench.sh BUILD_DIR (make bench); $S series x $N points"
    echo
    echo "| driver | rows | full fetch s | rows/s via pvm | pushed {series=\"s42\"} s | bare SELECT s | pvm / bare | worker peak RSS KiB |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    cat "$TMP/results"
    echo
    echo "SQLite plan of the pushed-down statement: $sq_plan"
    [ -n "${pg_plan:-}" ] && echo "PostgreSQL plan: $pg_plan"
    [ -n "${my_plan:-}" ] && echo "MariaDB plan: $my_plan"
} | tee "$build/sql_bench.md"
