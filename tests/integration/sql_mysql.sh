#!/bin/sh
# tests/integration/sql_mysql.sh: the mysql plugin type against a real
# MariaDB server (tests/lib/mariadb.sh: mariadbd in a temp dir, as the
# invoking user, on a Unix socket and 127.0.0.1 with TLS), through pvm-fcgi
# (the shipped binary, 2 workers) behind nginx (a TESTS entry). Cases:
#   matchers   range and instant queries with pushed-down (=, !=, a|b)
#              and post-filtered (other regexes, !~) matchers; a case
#              variant ('Kitchen') kept apart from 'kitchen' both ways
#   metrics    two metrics from one query (metrics =), NULLs skipped
#   types      timestamps as BIGINT, DOUBLE, DECIMAL, DATETIME(3),
#              TIMESTAMP(3) to the millisecond; values INT, BOOLEAN,
#              DECIMAL, text, BIT, FLOAT
#   bad rows   on_bad_row = fail (an error naming instance, row, column,
#              only for rows the selector keeps) and skip (a warning)
#   discovery  /labels, /label/room/values, /series with pushdown and
#              labels_query
#   same       sum by / rate equal to the same data in openmetrics_file
#   hostile    quotes, backslashes, %, _, SQL fragments, NUL, 1 MB
#              values: the general query log shows them only in Execute
#              entries (bound), never in a Prepare or Query text
#   timeout    a statement past the query's timeout is stopped by the
#              server (503 timeout envelope; not in the process list)
#   down       the server stopped: 503 naming the instance; started again:
#              the next requests succeed (reconnect)
#   tls        an instance over TCP with tls = verify (the server counts a
#              TLS handshake)
#   config     --check-config passes without printing the password,
#              fails on a missing table naming it; with the server down
#              it warns (an error with require_at_startup = yes)
# then the shared suite of the SQL plugin types (tests/lib/sql_suite.sh)
# in a second database: its statement log is the general query log, its
# cancel proof the server's Max_statement_time_exceeded count.
# mariadbd starts once (plus one restart); every wait is bounded;
# processes are stopped by PID. Prints
# "PVM-RESULT: sql_mysql: P passed, F failed, S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
. "$top_srcdir/tests/lib/mariadb.sh"
. "$top_srcdir/tests/lib/sql_suite.sh"
PVM_SCRIPT=sql_mysql
if ! pvm_mariadb_bins; then
    echo "sql_mysql.sh: SKIP: no MariaDB server to test against"
    echo "PVM-RESULT: sql_mysql: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
pvm_script_begin sql_mysql "$top_builddir/pvm-fcgi"
PVM_BIN=$top_builddir/pvm-fcgi
pvm_script_before_cleanup() {
    pvm_mariadb_stop 20
}
T_BEGIN=$(date +%s)
DB=$TMP/db
sql() { pvm_mariadb_sql "$DB" "$@"; }

# ---- the server and its data --------------------------------------------

TLS=
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" \
        -out "$TMP/cert.pem" >"$TMP/openssl.log" 2>&1; then
    TLS=1
    PVM_MARIADB_ARGS="--ssl-ca=$TMP/cert.pem --ssl-cert=$TMP/cert.pem --ssl-key=$TMP/key.pem"
fi
# the general query log from the start (a statement prepared while it is
# off logs its executions with '?' only)
PVM_MARIADB_ARGS="${PVM_MARIADB_ARGS:-} --general-log --log-output=TABLE"
pvm_mariadb_init "$DB" && pvm_mariadb_start "$DB" 30 ||
    { bad "mariadbd did not start"; exit 1; }
ok "mariadbd started (port $PVM_MARIADB_PORT, $(($(date +%s) - T_BEGIN)) s)"

T0=1700000000
PW="pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$PW" >"$TMP/password"
chmod 600 "$TMP/password"
HOSTILE="it's \"q\" \\ 100%_x"
sql <<SQL || { bad "loading the test data"; exit 1; }
CREATE DATABASE t CHARACTER SET utf8mb4;
CREATE USER pvm@localhost IDENTIFIED BY '$PW';
CREATE USER pvm@'127.0.0.1' IDENTIFIED BY '$PW';
GRANT SELECT ON t.* TO pvm@localhost;
GRANT SELECT ON t.* TO pvm@'127.0.0.1';
USE t;
SET time_zone = '+00:00';
CREATE TABLE rooms (room VARCHAR(64) COLLATE utf8mb4_bin PRIMARY KEY,
    floor VARCHAR(16));
INSERT INTO rooms VALUES ('kitchen', 'ground'), ('Kitchen', 'ground'),
    ('bath', 'first'), ('it''s "q" \\\\ 100%_x', 'attic');
CREATE TABLE readings (ts DATETIME(3), room VARCHAR(64), floor VARCHAR(16),
    temp DOUBLE, hum DECIMAL(6,2), KEY (room, ts));
INSERT INTO readings
SELECT FROM_UNIXTIME($T0 + s.seq * 15), r.room, r.floor,
       IF(r.room = 'bath' AND s.seq % 10 = 0, NULL, 20 + s.seq / 10),
       IF(r.room = 'kitchen' AND s.seq % 4 = 1, NULL, 50 + s.seq)
FROM seq_0_to_39 s, rooms r;
-- a counter per room (a reset in the bath), for rate()
CREATE TABLE energy (ts BIGINT, room VARCHAR(64), joules BIGINT);
INSERT INTO energy SELECT $T0 + s.seq * 15, r.room,
    IF(r.room = 'bath' AND s.seq >= 20, (s.seq - 20) * 7, s.seq * s.seq * 3)
FROM seq_0_to_39 s, (SELECT 'kitchen' AS room UNION ALL SELECT 'bath') r;
-- one row of every type
CREATE TABLE types (t_int BIGINT, t_dbl DOUBLE, t_dec DECIMAL(14,3),
    t_dt DATETIME(3), t_tsp TIMESTAMP(3) NULL, v_int INT, v_bool BOOLEAN,
    v_dec DECIMAL(10,3), v_txt VARCHAR(20), v_bit BIT(4), v_float FLOAT,
    v_null DOUBLE, v_big BIGINT UNSIGNED);
INSERT INTO types VALUES ($T0, $T0.25, $T0.125, FROM_UNIXTIME($T0.375),
    FROM_UNIXTIME($T0.5), -42, TRUE, 1.500, ' 2.5e3 ', b'1010', 0.1, NULL,
    12345678901);
-- bad rows: the bath's value is not a number
CREATE TABLE bad (ts BIGINT, room VARCHAR(16), v VARCHAR(16));
INSERT INTO bad VALUES ($T0, 'kitchen', '1'), ($T0 + 15, 'kitchen', '2'),
    ($T0, 'bath', 'abc'), ($T0 + 15, 'bath', '3');
SQL
ok "test data loaded"
# the same counters as OpenMetrics, for openmetrics_file
sql -N t -e "SELECT room, joules, ts FROM energy ORDER BY room, ts" |
    awk 'BEGIN { print "# TYPE omenergy_joules counter" }
         { printf "omenergy_joules_total{room=\"%s\"} %s %s\n", $1, $2, $3 }
         END { print "# EOF" }' >"$TMP/energy.om"

# ---- pvm-fcgi and nginx ---------------------------------------------------

FC=$(pvm_free_port) && NP=$(pvm_free_port) || exit 99
CONN="socket = $DB/mysqld.sock
database = t
user = pvm
password_file = $TMP/password"
ROOMS_Q="SELECT ts AS timestamp, temp, hum, room, floor FROM readings WHERE ts BETWEEN FROM_UNIXTIME(:start) AND FROM_UNIXTIME(:end)"
mkdir -p "$TMP/pvm" "$TMP/nginx"
{
    cat <<EOF
[server]
listen = 127.0.0.1:$FC
workers = 2
max_body_bytes = 4M

[plugin:rooms]
type = mysql
$CONN
metrics = temp:room_temp_celsius, hum:room_hum_percent
query = $ROOMS_Q

[plugin:roomlist]
type = mysql
$CONN
metric = roomlist_info
query = SELECT ts AS timestamp, 1 AS value, room, floor FROM readings WHERE ts BETWEEN FROM_UNIXTIME(:start) AND FROM_UNIXTIME(:end)
labels_query = SELECT room, floor FROM rooms

[plugin:energy]
type = mysql
$CONN
metric = energy_joules_total
value_column = joules
timestamp_column = ts
query = SELECT ts, joules, room FROM energy WHERE ts BETWEEN :start AND :end

[plugin:energy_om]
type = openmetrics_file
path = $TMP/energy.om

[plugin:badfail]
type = mysql
$CONN
metric = bad_fail
query = SELECT ts AS timestamp, v AS value, room FROM bad

[plugin:badskip]
type = mysql
$CONN
metric = bad_skip
on_bad_row = skip
query = SELECT ts AS timestamp, v AS value, room FROM bad

[plugin:slow]
type = mysql
$CONN
metric = slow_value
query = SELECT :end AS timestamp, SLEEP(20) AS value
EOF
    for t in int dbl dec dt tsp; do
        cat <<EOF

[plugin:ts_$t]
type = mysql
$CONN
metric = ts_$t
timestamp_column = t_$t
value_column = v_int
query = SELECT t_$t, v_int FROM types
EOF
    done
    cat <<EOF

[plugin:values]
type = mysql
$CONN
timestamp_column = t_int
metrics = v_int:val_int, v_bool:val_bool, v_dec:val_dec, v_txt:val_txt, v_bit:val_bit, v_float:val_float, v_null:val_null, v_big:val_big
query = SELECT * FROM types
EOF
    if [ -n "$TLS" ]; then
        cat <<EOF

[plugin:tls]
type = mysql
host = 127.0.0.1
port = $PVM_MARIADB_PORT
tls = verify
tls_ca = $TMP/cert.pem
database = t
user = pvm
password_file = $TMP/password
metric = tls_temp
query = SELECT ts AS timestamp, temp AS value, room FROM readings
EOF
    fi
} >"$TMP/pvm/pvm.ini"
ssl0=$(sql -N -e "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'" | awk '{ print $2 }')
"$PVM_BIN" --config "$TMP/pvm/pvm.ini" </dev/null >>"$TMP/pvm/pvm.log" 2>&1 &
PVM_PIDS="$PVM_PIDS $!"
pvm_wait_port "$FC" 10 "$!" || { bad "pvm-fcgi did not start"; exit 1; }
pvm_nginx_conf "$TMP/nginx" "$NP" "127.0.0.1:$FC" &&
    pvm_nginx_start "$TMP/nginx" 10 || { bad "nginx did not start"; exit 1; }
NGINX_DIRS="$NGINX_DIRS $TMP/nginx"
U="http://127.0.0.1:$NP/api/v1"

# q NAME PATH [CURL-ARGS...]: GET (or POST with -d) into $TMP/NAME;
# prints the HTTP status.
q() {
    n=$1 p=$2
    shift 2
    curl -s -o "$TMP/$n" -m 30 -w '%{http_code}' "$@" "$U/$p"
}
# has NAME NEEDLE: the body of NAME holds NEEDLE
has() { grep -qF -- "$2" "$TMP/$1"; }
# nseries NAME: the number of series (or label sets) in NAME
nseries() { grep -o '"metric":{' "$TMP/$1" | wc -l; }
body() { head -c 300 "$TMP/$1"; }
# enc TEXT: URL-encoded (all but unreserved characters)
enc() {
    /usr/bin/python3 -c 'import sys, urllib.parse
sys.stdout.write(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}
R="start=$T0&end=$((T0 + 585))&step=15"
TI="time=$((T0 + 590))"

echo "=== matchers"
st=$(q m1 "query_range?query=room_temp_celsius&$R")
[ "$st" = 200 ] && [ "$(nseries m1)" = 4 ]
check "range, no matcher: 4 rooms ($st, $(nseries m1) series)" $?
st=$(q m2 "query_range?query=$(enc 'room_temp_celsius{room="kitchen"}')&$R")
[ "$st" = 200 ] && [ "$(nseries m2)" = 1 ] && has m2 '"room":"kitchen"' &&
    has m2 '[1700000000,"20"]' && has m2 '[1700000585,"23.9"]'
check "range, room=\"kitchen\" (pushed down): kitchen only, not Kitchen ($st: $(body m2))" $?
st=$(q m3 "query_range?query=$(enc 'room_temp_celsius{room!="kitchen"}')&$R")
[ "$st" = 200 ] && [ "$(nseries m3)" = 3 ] && has m3 '"room":"Kitchen"' &&
    ! has m3 '"room":"kitchen"'
check "range, room!=\"kitchen\" (pushed down): 3 rooms, Kitchen kept ($st, $(nseries m3))" $?
st=$(q m4 "query?query=$(enc 'room_temp_celsius{room=~"kitchen|bath"}')&$TI")
[ "$st" = 200 ] && [ "$(nseries m4)" = 2 ] && ! has m4 '"room":"Kitchen"' &&
    has m4 '"value":[1700000590,"23.9"]'
check "instant, room=~\"kitchen|bath\" (IN): 2 rooms ($st: $(body m4))" $?
st=$(q m5 "query?query=$(enc 'room_temp_celsius{room=~"(?i)KITCHEN"}')&$TI")
[ "$st" = 200 ] && [ "$(nseries m5)" = 2 ]
check "instant, room=~\"(?i)KITCHEN\" (post-filtered): both kitchens ($st, $(nseries m5))" $?
st=$(q m6 "query?query=$(enc 'room_temp_celsius{room!~"k.*|b.*",floor="ground"}')&$TI")
[ "$st" = 200 ] && [ "$(nseries m6)" = 1 ] && has m6 '"room":"Kitchen"'
check "instant, room!~ (post-filtered) with floor= (pushed): Kitchen ($st: $(body m6))" $?
st=$(q m7 "query?query=$(enc 'room_temp_celsius{room="nowhere"}')&$TI")
[ "$st" = 200 ] && [ "$(nseries m7)" = 0 ]
check "instant, a room that does not exist: empty ($st)" $?

echo "=== several metrics, NULLs"
st=$(q s1 "query_range?query=$(enc 'room_hum_percent{room="kitchen"}')&start=$T0&end=$((T0 + 60))&step=15")
# humidity NULL at seq 1 (T0+15): the range query shows the previous
# value there (lookback), so count the rows through count_over_time
st2=$(q s2 "query?query=$(enc 'count_over_time(room_hum_percent{room="kitchen"}[10m])')&$TI")
st3=$(q s3 "query?query=$(enc 'count_over_time(room_temp_celsius{room="bath"}[10m])')&$TI")
[ "$st" = 200 ] && has s1 '[1700000000,"50"]' && has s1 '[1700000030,"52"]' &&
    [ "$st2" = 200 ] && has s2 '"30"' && [ "$st3" = 200 ] && has s3 '"36"'
check "two metrics from one query; NULL humidity (10 of 40) and temperature (4 of 40) skipped ($(body s2) / $(body s3))" $?

echo "=== types"
for t in int:1700000000 dbl:1700000000.25 dec:1700000000.125 dt:1700000000.375 tsp:1700000000.5; do
    n=${t%%:*} want=${t#*:}
    st=$(q ty_$n "query?query=timestamp(ts_$n)&time=$((T0 + 10))")
    [ "$st" = 200 ] && has ty_$n "\"$want\""
    check "timestamp column $n: $want ($st: $(body ty_$n))" $?
done
for v in int:-42 bool:1 dec:1.5 txt:2500 bit:10 float:0.1 big:12345678901; do
    n=${v%%:*} want=${v#*:}
    st=$(q va_$n "query?query=val_$n&time=$((T0 + 10))")
    [ "$st" = 200 ] && has va_$n "\"$want\"]"
    check "value column $n: $want ($st: $(body va_$n))" $?
done
st=$(q va_null "query?query=val_null&time=$((T0 + 10))")
[ "$st" = 200 ] && [ "$(nseries va_null)" = 0 ]
check "a NULL value: no sample ($st)" $?

echo "=== bad rows"
st=$(q b1 "query?query=$(enc 'bad_fail{room="bath"}')&time=$((T0 + 20))")
[ "$st" != 200 ] && has b1 '"status":"error"' && has b1 badfail &&
    has b1 "'value'" && has b1 'row'
check "on_bad_row = fail: the bath's bad value fails the request, naming instance, row and column ($st: $(body b1))" $?
st=$(q b2 "query?query=$(enc 'bad_fail{room=~"kit.*"}')&time=$((T0 + 20))")
[ "$st" = 200 ] && [ "$(nseries b2)" = 1 ] && has b2 '"2"]'
check "on_bad_row = fail: a selector that drops the bad row after fetching it succeeds ($st: $(body b2))" $?
st=$(q b3 "query?query=bad_skip&time=$((T0 + 20))")
[ "$st" = 200 ] && [ "$(nseries b3)" = 2 ] && has b3 '"warnings"' &&
    has b3 '"3"]'
check "on_bad_row = skip: the row is skipped with a warning ($st: $(head -c 400 "$TMP/b3"))" $?

echo "=== discovery"
st=$(q d1 "labels?match%5B%5D=room_temp_celsius&start=$T0&end=$((T0 + 585))")
[ "$st" = 200 ] && has d1 '"floor"' && has d1 '"room"' && has d1 '"__name__"'
check "/labels ($st: $(body d1))" $?
st=$(q d2 "label/room/values?match%5B%5D=$(enc 'roomlist_info{floor="ground"}')")
[ "$st" = 200 ] && has d2 '["Kitchen","kitchen"]'
check "/label/room/values with floor=\"ground\" (labels_query, pushed down) ($st: $(body d2))" $?
st=$(q d3 "series?match%5B%5D=$(enc 'room_hum_percent{room!="bath"}')&start=$T0&end=$((T0 + 585))")
n=$(grep -o '"__name__"' "$TMP/d3" | wc -l)
[ "$st" = 200 ] && [ "$n" = 3 ] && ! has d3 '"bath"'
check "/series room_hum_percent{room!=\"bath\"}: 3 ($st, $n: $(body d3))" $?
st=$(q d4 "label/__name__/values?match%5B%5D=$(enc '{__name__=~"room.*"}')&start=$T0&end=$((T0 + 585))")
[ "$st" = 200 ] && has d4 '"room_temp_celsius"' && has d4 '"room_hum_percent"' &&
    has d4 '"roomlist_info"'
check "/label/__name__/values names the metrics ($st)" $?

echo "=== the same numbers as openmetrics_file"
for e in 'sum by (room) (rate(%s[1m]))' 'sum by (room) (%s)' 'increase(%s[2m])'; do
    # shellcheck disable=SC2059
    a=$(printf "$e" energy_joules_total) b=$(printf "$e" omenergy_joules_total)
    sa=$(q c1 "query_range?query=$(enc "$a")&start=$((T0 + 60))&end=$((T0 + 585))&step=30")
    sb=$(q c2 "query_range?query=$(enc "$b")&start=$((T0 + 60))&end=$((T0 + 585))&step=30")
    sed -e 's/omenergy/energy/g' "$TMP/c2" >"$TMP/c2e"
    [ "$sa" = 200 ] && [ "$sb" = 200 ] && [ "$(nseries c1)" = 2 ] &&
        cmp -s "$TMP/c1" "$TMP/c2e"
    check "$a equals openmetrics_file's ($sa/$sb: $(body c1))" $?
done

echo "=== hostile values arrive only as bound values"
MARK=zq9mark
st=$(q h1 "query?query=$(enc "room_temp_celsius{room=\"$(printf '%s' "$HOSTILE" | sed 's/\\/\\\\/g; s/"/\\"/g')\"}")&$TI")
[ "$st" = 200 ] && [ "$(nseries h1)" = 1 ] && has h1 'attic'
check "a room named with quotes, a backslash, % and _ is found exactly ($st: $(body h1))" $?
for v in "x' OR '1'='1 $MARK" "'); DROP TABLE readings; -- $MARK" "100% $MARK" \
    "a_b\\\\ \\\" $MARK" "\\\\x00 $MARK" "$MARK\\x00nul"; do
    st=$(q h2 "query?query=$(enc "room_temp_celsius{room=\"$v\"}")&$TI")
    [ "$st" = 200 ] && [ "$(nseries h2)" = 0 ]
    check "room=\"$v\": nothing, no error ($st: $(body h2))" $?
done
st=$(q h3 "query?query=$(enc "room_temp_celsius{room=~\"a'b|$MARK%|c\\\\\\\\_d\"}")&$TI")
[ "$st" = 200 ] && [ "$(nseries h3)" = 0 ]
check "a hostile alternation (IN): nothing, no error ($st: $(body h3))" $?
# 1 MB: POST, the form body
awk -v m="$MARK" 'BEGIN { printf "query=room_temp_celsius%%7Broom%%3D%%22"; for (i = 0; i < 65536; i++) printf "AAAAAAAAAAAAAAAA"; printf "%s%%22%%7D&time=%d", m, 1700000590 }' >"$TMP/big.form"
st=$(q h4 query --data-binary "@$TMP/big.form" -H 'Content-Type: application/x-www-form-urlencoded')
[ "$st" = 200 ] && [ "$(nseries h4)" = 0 ]
check "a 1 MB label value: nothing, no error ($st: $(body h4))" $?
LOGQ="SELECT command_type, COUNT(*) FROM mysql.general_log WHERE argument LIKE CONCAT('%', UNHEX('$(printf %s "$MARK" | od -An -tx1 | tr -d ' \n')'), '%') GROUP BY command_type ORDER BY 1"
sql -N -e "$LOGQ" >"$TMP/log.counts"
texts=$(awk '$1 == "Prepare" || $1 == "Query" { n += $2 } END { print n + 0 }' "$TMP/log.counts")
execs=$(awk '$1 == "Execute" { n += $2 } END { print n + 0 }' "$TMP/log.counts")
[ "$texts" = 0 ] && [ "$execs" -ge 5 ]
check "general query log: the hostile values are in $execs Execute entries (bound), in no Prepare or Query text ($texts)" $?
sql -N -e "SELECT REPLACE(argument, '\n', ' ') FROM mysql.general_log WHERE command_type = 'Prepare' AND argument LIKE '%pvm_q WHERE%'" >"$TMP/prepare.txt"
grep -q '`room` = ?)' "$TMP/prepare.txt" && grep -q '`room` IN (?, ?, ?)' "$TMP/prepare.txt"
check "the pushed-down conditions are placeholders: $(grep -m1 '`room` = ?' "$TMP/prepare.txt" | head -c 400)" $?

n=$(sql -N -e "SELECT COUNT(*) FROM mysql.general_log WHERE command_type = 'Query' AND argument = 'SET SESSION TRANSACTION READ ONLY'")
[ "$n" -ge 2 ]
check "each connection is set read-only ($n in the general log)" $?

echo "=== a statement past its time"
t0=$(date +%s.%N)
st=$(q t1 "query?query=slow_value&time=$T0&timeout=1s")
t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
[ "$st" = 503 ] && has t1 '"errorType":"timeout"' &&
    awk -v t="$t" 'BEGIN { exit !(t < 3) }'
check "SLEEP(20) with timeout=1s: 503 timeout envelope after $t s ($st: $(body t1))" $?
n=$(sql -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%SLEEP(20)%' AND ID <> CONNECTION_ID()")
[ "$n" = 0 ]
check "the statement no longer runs on the server ($n in the process list)" $?

echo "=== the server goes down and comes back"
pvm_mariadb_stop 20
st=$(q x1 "query?query=$(enc 'room_temp_celsius{room="kitchen"}')&$TI")
[ "$st" = 503 ] && has x1 '"status":"error"' && has x1 'rooms' &&
    ! has x1 "$PW"
check "server down: 503 naming the instance ($st: $(body x1))" $?
st=$(q x2 "query?query=$(enc 'room_temp_celsius{room="kitchen"}')&$TI")
[ "$st" = 503 ]
check "still down: 503 again ($st)" $?
printf '[plugin:down]\ntype = mysql\n%s\nmetric = down_x\nquery = SELECT 1 AS timestamp, 2 AS value\n' \
    "$CONN" >"$TMP/pvm/down.ini"
"$PVM_BIN" --check-config --config "$TMP/pvm/down.ini" >"$TMP/cc3" 2>&1
rc=$?
[ "$rc" = 0 ] && grep -q 'not checked' "$TMP/cc3"
check "--check-config with the server down: a warning, not an error (rc $rc: $(head -c 250 "$TMP/cc3"))" $?
printf 'require_at_startup = yes\n' >>"$TMP/pvm/down.ini"
"$PVM_BIN" --check-config --config "$TMP/pvm/down.ini" >"$TMP/cc4" 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q "Can't connect" "$TMP/cc4" && ! grep -qF "$PW" "$TMP/cc4"
check "... an error with require_at_startup = yes (rc $rc: $(head -c 250 "$TMP/cc4"))" $?
pvm_mariadb_start "$DB" 30 || { bad "mariadbd did not start again"; exit 1; }
okn=0
for i in 1 2 3 4; do
    st=$(q x3 "query?query=$(enc 'room_temp_celsius{room="kitchen"}')&$TI")
    [ "$st" = 200 ] && [ "$(nseries x3)" = 1 ] && okn=$((okn + 1))
done
[ "$okn" = 4 ]
check "server back: the next 4 requests (both workers) succeed ($okn of 4)" $?

if [ -n "$TLS" ]; then
    echo "=== TLS"
    ssl1=$(sql -N -e "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'" | awk '{ print $2 }')
    st=$(q l1 "query?query=$(enc 'tls_temp{room="bath"}')&$TI")
    ssl2=$(sql -N -e "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'" | awk '{ print $2 }')
    [ "$st" = 200 ] && [ "$(nseries l1)" = 1 ] && [ "$ssl2" -gt "$ssl1" ]
    check "tls = verify over 127.0.0.1: answers, the server counted TLS handshakes ($st, $ssl0/$ssl1 -> $ssl2)" $?
else
    skip "TLS: openssl could not make a certificate"
fi

echo "=== --check-config"
"$PVM_BIN" --check-config --config "$TMP/pvm/pvm.ini" >"$TMP/cc1" 2>&1
rc=$?
[ "$rc" = 0 ] && ! grep -qF "$PW" "$TMP/cc1"
check "--check-config passes and never prints the password (rc $rc: $(head -c 200 "$TMP/cc1"))" $?
sed -e 's/FROM bad$/FROM no_such_table/' "$TMP/pvm/pvm.ini" >"$TMP/pvm/bad.ini"
"$PVM_BIN" --check-config --config "$TMP/pvm/bad.ini" >"$TMP/cc2" 2>&1
rc=$?
[ "$rc" != 0 ] && grep -q 'no_such_table' "$TMP/cc2" && grep -q 'badfail' "$TMP/cc2" &&
    ! grep -qF "$PW" "$TMP/cc2"
check "--check-config: a missing table fails, naming instance and table ($(head -c 300 "$TMP/cc2"))" $?


echo "=== conf/examples/mariadb-demo"
demo=$top_srcdir/conf/examples/mariadb-demo
mkdir -p "$TMP/demo"
# the demo's account is pvm@localhost too: keep its password
cp "$TMP/password" "$TMP/demo/pvm-password"
PASSWORD_FILE=$TMP/demo/pvm-password sh "$demo/fill.sh" \
    --socket="$DB/mysqld.sock" --user=root >"$TMP/demo/fill.log" 2>&1
check "fill.sh: $(tail -1 "$TMP/demo/fill.log")" $?
dfc=$(pvm_free_port) && dnp=$(pvm_free_port) || exit 99
sed -e "s|^listen = .*|listen = 127.0.0.1:$dfc|" \
    -e "s|^socket = .*|socket = $DB/mysqld.sock|" \
    -e "s|^password_file = .*|password_file = $TMP/demo/pvm-password|" \
    "$demo/pvm.ini" >"$TMP/demo/pvm.ini"
"$PVM_BIN" --config "$TMP/demo/pvm.ini" </dev/null >>"$TMP/demo/pvm.log" 2>&1 &
PVM_PIDS="$PVM_PIDS $!"
mkdir -p "$TMP/demo-nginx"
pvm_wait_port "$dfc" 10 "$!" && pvm_nginx_conf "$TMP/demo-nginx" "$dnp" "127.0.0.1:$dfc" &&
    pvm_nginx_start "$TMP/demo-nginx" 10 || { bad "the demo did not start"; exit 1; }
NGINX_DIRS="$NGINX_DIRS $TMP/demo-nginx"
st=$(curl -s -o "$TMP/demo1" -m 30 -w '%{http_code}' -G \
    --data-urlencode 'query=avg by (floor) (room_humidity_percent)' \
    "http://127.0.0.1:$dnp/api/v1/query")
[ "$st" = 200 ] && [ "$(nseries demo1)" = 3 ]
check "the demo's pvm.ini: avg by (floor) (room_humidity_percent) gives 3 floors ($st: $(body demo1))" $?
st=$(curl -s -o "$TMP/demo2" -m 30 -w '%{http_code}' -G \
    --data-urlencode 'query=room_temperature_celsius{room="kitchen"}' \
    "http://127.0.0.1:$dnp/api/v1/query")
[ "$st" = 200 ] && [ "$(nseries demo2)" = 1 ]
check "the demo's pvm.ini: the kitchen's temperature ($st: $(body demo2))" $?

echo "=== the shared SQL suite (tests/lib/sql_suite.sh), in database s"
sql <<SQL || { bad "creating database s"; exit 1; }
CREATE DATABASE s CHARACTER SET utf8mb4;
GRANT SELECT ON s.* TO pvm@localhost;
SQL
SQL_TYPE=mysql
SQL_DOUBLE=DOUBLE
SQL_TEXT="VARCHAR(200)"
SQL_TSTYPE="DATETIME(3)"
SQL_PLACEHOLDER='\?'
sql_admin() {
    { echo "SET time_zone = '+00:00';"; cat; } | sql s >/dev/null
}
sql_conn() {
    printf 'socket = %s\ndatabase = s\nuser = pvm\npassword_file = %s\n' \
        "$DB/mysqld.sock" "$TMP/password"
}
# FROM_UNIXTIME() takes 0 to 2^31-1 only (NULL otherwise, e.g. for the
# years 1..9999 of a request without start and end)
sql_ts_expr() {
    echo "('1970-01-01' + INTERVAL $1 SECOND)"
}
sql_slow_query() {
    echo "SELECT :end AS timestamp, SLEEP(20) AS value"
}
sql_down() {
    pvm_mariadb_stop 20
}
sql_up() {
    pvm_mariadb_start "$DB" 30
}
# A mark is the count of statements the server stopped at their
# max_statement_time (a status variable): the cancel is seen when it grew.
mte() {
    sql -N -e "SHOW GLOBAL STATUS LIKE 'Max_statement_time_exceeded'" |
        awk '{ print $2 }'
}
sql_log_mark() {
    mte
}
sql_cancel_seen() {
    [ "$(mte)" -gt "$1" ]
}
# The statement log is the general query log (a table). Statements are
# prepared once per worker and cached, so the text a hostile request ran
# was logged when it was first prepared, maybe before MARK: this gives
# every Prepare (the text with placeholders) and Query entry pvm sent in
# the run. Execute entries, which show the bound values, are left out
# (the checks above look at them).
sql_log_since() {
    sql -N -e "SELECT REPLACE(argument, '\n', ' ') FROM mysql.general_log WHERE command_type IN ('Prepare', 'Query') AND user_host LIKE 'pvm[%'"
}
sql_suite_run

echo "sql_mysql.sh: $(($(date +%s) - T_BEGIN)) s"
