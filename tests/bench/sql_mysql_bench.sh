#!/bin/sh
# tests/bench/sql_mysql_bench.sh [BUILD_DIR]: the benchmark of the mysql
# plugin type (make bench; not part of the test command). A private
# mariadbd (tests/lib/mariadb.sh) holds 1,000,000 rows: 100 series x
# 10,000 points 15 s apart (DATETIME(3), series VARCHAR, value DOUBLE,
# primary key (series, ts)). pvm-fcgi (one worker process, the mysql
# instance) behind nginx answers
#   full    bench_value over the whole range (every row fetched), step 60
#   pushed  bench_value{series="s042"}: the = matcher pushed into the
#           generated WHERE (10,000 rows)
# and the mariadb client runs the same bare SELECT (rows to /dev/null).
# For each: wall time (best of BENCH_RUNS, default 3), rows per second, the
# rows the server read from the table (Rows_read before and after: the pushed-down
# query reads the selected series' rows only) and, for pvm, the worker's
# peak RSS (VmHWM). Writes BUILD_DIR/bench/sql_mysql.md and prints it.
set -u
. "$(dirname "$0")/lib.sh"
pvm_bench_setup "${1:-.}" || exit 1
. "$top_srcdir/tests/lib/mariadb.sh"
RUNS=${BENCH_RUNS:-3}
pvm_bench_need_built "$PVM"
pvm_bench_begin sql_mysql_bench 0 curl
pvm_mariadb_bins || { echo "sql_mysql_bench.sh: MariaDB not installed: skipped"; exit 0; }

pvm_bench_before_cleanup() {
    pvm_mariadb_stop 20
}

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
# best of RUNS runs of a command: prints the seconds
best() {
    b=
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        t0=$(now)
        "$@" >/dev/null 2>&1 || echo "sql_mysql_bench.sh: failed: $*" >&2
        t=$(secs "$t0" "$(now)")
        if [ -z "$b" ] || awk -v a="$t" -v b="$b" 'BEGIN { exit !(a < b) }'; then
            b=$t
        fi
        i=$((i + 1))
    done
    echo "$b"
}

echo "sql_mysql_bench.sh: starting mariadbd and loading 1,000,000 rows"
DB=$TMP/db
pvm_mariadb_init "$DB" || exit 1
PVM_MARIADB_ARGS="--innodb-buffer-pool-size=256M" pvm_mariadb_start "$DB" 30 || exit 1
END=1700000000
START=$((END - 9999 * 15))
pvm_mariadb_sql "$DB" <<SQL || exit 1
CREATE DATABASE bench;
USE bench;
CREATE TABLE samples (
    series VARCHAR(16) NOT NULL,
    ts DATETIME(3) NOT NULL,
    value DOUBLE NOT NULL,
    PRIMARY KEY (series, ts)
);
SET time_zone = '+00:00';
INSERT INTO samples
SELECT CONCAT('s', LPAD(s.seq, 3, '0')), FROM_UNIXTIME($START + p.seq * 15),
       s.seq * 1000 + p.seq + 0.5
FROM seq_0_to_99 s, seq_0_to_9999 p;
ANALYZE TABLE samples;
CREATE USER pvm@localhost IDENTIFIED BY 'bench-password';
GRANT SELECT ON bench.* TO pvm@localhost;
SQL
printf 'bench-password\n' >"$TMP/password"
chmod 600 "$TMP/password"
SELECT="SELECT ts AS timestamp, value, series FROM samples WHERE ts BETWEEN FROM_UNIXTIME(:start) AND FROM_UNIXTIME(:end)"

fport=$(pvm_free_port) && nport=$(pvm_free_port) || exit 1
cat >"$TMP/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$fport
workers = 1
access_log = off
request_timeout = 120s
max_query_timeout = 120s

[plugin:bench]
type = mysql
socket = $DB/mysqld.sock
database = bench
user = pvm
password_file = $TMP/password
metric = bench_value
query = $SELECT
EOF
"$PVM" --config "$TMP/pvm.ini" </dev/null >"$TMP/pvm.log" 2>&1 &
PVM_PID=$!
PIDS="$PIDS $PVM_PID"
pvm_wait_port "$fport" 10 "$PVM_PID" || { cat "$TMP/pvm.log"; exit 1; }
mkdir -p "$TMP/nginx"
pvm_nginx_conf "$TMP/nginx" "$nport" "127.0.0.1:$fport" || exit 1
sed -i -e 's/fastcgi_read_timeout [^;]*;/fastcgi_read_timeout 300s;/' "$TMP/nginx/nginx.conf"
pvm_nginx_start "$TMP/nginx" 10 || exit 1
NGINX_DIRS="$NGINX_DIRS $TMP/nginx"

U="http://127.0.0.1:$nport/api/v1/query_range"
FULL="$U?query=bench_value&start=$START&end=$END&step=60&timeout=120s"
PUSHED="$U?query=bench_value%7Bseries%3D%22s042%22%7D&start=$START&end=$END&step=60&timeout=120s"
get() { curl -sf -o "$TMP/answer" --max-time 300 "$1"; }
rows_read() {
    pvm_mariadb_sql "$DB" -N -e "SHOW GLOBAL STATUS LIKE 'Rows_read'" |
        awk '{ print $2 }'
}
# the bare SELECT with :start and :end written in (the client's text
# protocol, every row printed to /dev/null)
BARE=$(echo "$SELECT" | sed -e "s/:start/$((START - 60))/" -e "s/:end/$END/")
bare() {
    q=$1
    shift
    pvm_mariadb_sql "$DB" -N "$@" bench -e "SET time_zone = '+00:00'; $q"
}

get "$FULL" || { echo "sql_mysql_bench.sh: pvm failed:"; head -c 400 "$TMP/answer"; tail "$TMP/pvm.log"; exit 1; }
series=$(grep -o '"metric":' "$TMP/answer" | wc -l)
points=$(grep -o '\],\[' "$TMP/answer" | wc -l)
bytes=$(wc -c <"$TMP/answer")
r0=$(rows_read)
t_full=$(best get "$FULL")
r1=$(rows_read)
t_pushed=$(best get "$PUSHED")
r2=$(rows_read)
get "$PUSHED"
pseries=$(grep -o '"metric":' "$TMP/answer" | wc -l)
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PVM_PID/status")
r3=$(rows_read)
t_bare=$(best bare "$BARE")
r4=$(rows_read)
t_bare_pushed=$(best bare "$BARE AND series = 's042'")
r5=$(rows_read)
t_bare_quick=$(best bare "$BARE" --quick)
plan=$(bare "EXPLAIN SELECT * FROM ($BARE) AS q WHERE series = 's042'" |
    awk -F'\t' '{ print "type " $4 ", key " $6 ", rows " $9 }')

rf=$(((r1 - r0) / RUNS))
rp=$(((r2 - r1) / RUNS))
rbf=$(((r4 - r3) / RUNS))
rbp=$(((r5 - r4) / RUNS))
{
    echo "| query | pvm wall s | pvm rows/s | rows read by the server (Rows_read) | bare SELECT (mariadb client) s | pvm / bare |"
    echo "|---|---|---|---|---|---|"
    echo "| full: bench_value, $series series, step 60 | $t_full | $(rate 1000000 "$t_full") | $rf | $t_bare ($rbf rows read) | $(awk -v a="$t_full" -v b="$t_bare" 'BEGIN { printf "%.2f", a / b }') |"
    echo "| pushed: bench_value{series=\"s042\"}, $pseries series | $t_pushed | $(rate 10000 "$t_pushed") | $rp | $t_bare_pushed ($rbp rows read) | $(awk -v a="$t_pushed" -v b="$t_bare_pushed" 'BEGIN { printf "%.2f", a / b }') |"
    echo
    echo "Full answer: $bytes bytes, about $points points in $series series. Bare full SELECT with --quick (streamed, no client buffer): $t_bare_quick s."
    echo "Worker peak RSS (VmHWM) after both: $hwm KiB. Plan of the pushed-down form (EXPLAIN): $plan."
    echo "Best of $RUNS runs each; MariaDB $(bare 'SELECT VERSION()'), $(nproc) CPUs, machine shared with other jobs."
} >"$OUT/sql_mysql.md"
cat "$OUT/sql_mysql.md"
