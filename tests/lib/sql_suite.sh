# tests/lib/sql_suite.sh: the integration suite of the SQL plugin types
# (sourced by tests/integration/sql_sqlite.sh, sql_postgresql.sh,
# sql_mysql.sh after tests/lib/script.sh and pvm_script_begin). One data
# set is loaded into the driver's database and served through pvm-fcgi
# behind nginx, next to the same data in an OpenMetrics file; every case
# of issue #12 runs against it: range and instant queries with pushed-down
# and post-filtered matchers, several metrics from one query,
# metric_column, timestamp types (to the millisecond), NULLs, a bad row
# in both on_bad_row modes, the server going down and coming back, a
# statement past its timeout, discovery, sum by / rate equal to the
# OpenMetrics file's, and hostile label values that reach the database
# only as bound parameters.
#
# The driver script defines, before calling sql_suite_run:
#   SQL_TYPE            the plugin type (postgresql, mysql, sqlite)
#   sql_admin           runs the SQL on its stdin as an administrator
#                       (several statements; nonzero on error)
#   sql_conn            prints the instance's connection lines of pvm.ini
#   SQL_DOUBLE          a double-precision type (DOUBLE PRECISION)
#   SQL_TEXT            a text type for labels (VARCHAR(200))
#   SQL_TSTYPE          the native timestamp type (TIMESTAMPTZ, DATETIME(3))
#   sql_ts_expr EXPR    SQL turning unix seconds (a literal or :start) into
#                       that type (to_timestamp(EXPR), FROM_UNIXTIME(EXPR))
#   sql_slow_query      prints a SELECT of columns timestamp and value
#                       (using :end) that runs for 10 s or more
#   sql_down, sql_up    stop and restart the server (not defined: skipped)
#   sql_log_mark        prints a mark of the statement log (e.g. its size)
#   sql_log_since MARK  prints the statement text logged since MARK, with
#                       no parameter values (not defined: the
#                       bound-values proof is skipped)
#   SQL_PLACEHOLDER     a grep -E pattern of a placeholder in that log
#   sql_cancel_seen MARK  true when the server logged since MARK that a
#                       statement was cancelled by its timeout (optional)

T0=1700000000
U=

# ---- data -------------------------------------------------------------------

# The readings: 4 rooms on 2 floors, 30 minutes of one row per minute:
# temp (a gauge, NULL for the kitchen at minute 10), hum (a counter).
sql_suite_rows() { # prints "ts room floor temp hum" lines
    awk -v t0=$T0 'BEGIN {
        split("kitchen bath bedroom cellar", room, " ")
        split("ground first first ground", floor, " ")
        for (r = 1; r <= 4; r++)
            for (i = 0; i < 30; i++) {
                temp = 18 + r + (i * 7) % 5
                if (r == 1 && i == 10) temp = "NULL"
                print t0 + 60 * i, room[r], floor[r], temp, 40 * r + 3 * i
            }
    }'
}

sql_suite_load() {
    {
        echo "CREATE TABLE readings (ts $SQL_DOUBLE, room $SQL_TEXT,"
        echo "  floor $SQL_TEXT, temp $SQL_DOUBLE, hum $SQL_DOUBLE);"
        sql_suite_rows | awk '{ printf "INSERT INTO readings VALUES " \
            "(%s, '\''%s'\'', '\''%s'\'', %s, %s);\n", $1, $2, $3, $4, $5 }'
        echo "INSERT INTO readings VALUES ($T0, 'it''s 50%_x_ \"q\"',"
        echo "  'attic', 1, 1);"
        echo "CREATE TABLE stamped (ts $SQL_TSTYPE, room $SQL_TEXT,"
        echo "  v $SQL_DOUBLE);"
        echo "INSERT INTO stamped VALUES"
        echo "  ($(sql_ts_expr "$T0.25"), 'kitchen', 7),"
        echo "  ($(sql_ts_expr "$((T0 + 60))"), 'kitchen', 8),"
        echo "  ($(sql_ts_expr "$((T0 + 120))"), 'kitchen', NULL);"
        echo "CREATE TABLE bad (ts $SQL_DOUBLE, room $SQL_TEXT, v $SQL_TEXT);"
        echo "INSERT INTO bad VALUES ($T0, 'kitchen', '1.5'),"
        echo "  ($T0, 'bath', 'warm'), ($((T0 + 60)), 'bath', '2');"
        echo "CREATE TABLE named (ts $SQL_DOUBLE, name $SQL_TEXT,"
        echo "  v $SQL_DOUBLE, room $SQL_TEXT);"
        echo "INSERT INTO named VALUES ($T0, 'mc_a', 1, 'x'),"
        echo "  ($T0, 'mc_b', 2, 'x'), ($T0, 'mc_b', 3, 'y');"
        echo "CREATE TABLE rooms (room $SQL_TEXT, floor $SQL_TEXT);"
        echo "INSERT INTO rooms VALUES ('kitchen', 'ground'),"
        echo "  ('bath', 'first'), ('bedroom', 'first'),"
        echo "  ('cellar', 'ground'), ('attic', 'top');"
    } | sql_admin
}

# The same readings as an OpenMetrics file (om_room_temp, om_room_hum).
sql_suite_om() {
    sql_suite_rows | awk '{
        if ($4 != "NULL")
            printf "om_room_temp{room=\"%s\",floor=\"%s\"} %s %s\n", $2, $3, $4, $1
        printf "om_room_hum{room=\"%s\",floor=\"%s\"} %s %s\n", $2, $3, $5, $1
    } END { print "# EOF" }'
}

# ---- requests ---------------------------------------------------------------

# req NAME WANT-STATUS NEEDLE PATH [CURL-ARGS...]: a GET through nginx
# (query arguments url-encoded with -G --data-urlencode); ok when the
# status and the needle (grep -F; "" for any) are there.
req() {
    name=$1 want=$2 needle=$3 path=$4
    shift 4
    got=$(curl -s -o "$TMP/body" -m 30 -w '%{http_code}' -G "$@" \
        "$U$path" 2>/dev/null)
    if [ "$got" = "$want" ] &&
        { [ -z "$needle" ] || grep -qF -- "$needle" "$TMP/body"; }; then
        ok "$name"
        return 0
    fi
    bad "$name: HTTP $got, wanted $want with '$needle'"
    head -c 400 "$TMP/body"
    echo
    return 1
}

# rng QUERY: the url-encoded arguments of a range query over the data.
RANGE="--data-urlencode start=$T0 --data-urlencode end=$((T0 + 1740)) --data-urlencode step=60"

# count NEEDLE: occurrences of NEEDLE in the last body.
count() {
    grep -oF -- "$1" "$TMP/body" | wc -l | tr -d ' '
}

# bodyis NAME CMD...: ok when the command (on the last body) is true.
expect() {
    name=$1
    shift
    if "$@"; then ok "$name"; else
        bad "$name"
        head -c 400 "$TMP/body"
        echo
    fi
}

eq() { [ "$1" = "$2" ]; }

# ---- the suite --------------------------------------------------------------

sql_suite_start() {
    sql_suite_om >"$TMP/data.om"
    fc=$(pvm_free_port) && np=$(pvm_free_port) || exit 99
    conn=$(sql_conn)
    slow=$(sql_slow_query)
    tsq="SELECT ts AS timestamp, v AS value, room FROM stamped WHERE ts BETWEEN $(sql_ts_expr :start) AND $(sql_ts_expr :end)"
    mkdir -p "$TMP/pvm"
    cat >"$TMP/pvm/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$fc
workers = 2
max_body_bytes = 4M

[plugin:db]
type = $SQL_TYPE
$conn
metrics = temp:room_temp, hum:room_hum
query = SELECT ts AS timestamp, temp, hum, room, floor FROM readings WHERE ts BETWEEN :start AND :end
labels_query = SELECT room, floor FROM rooms
help = room readings
metric_type = gauge

[plugin:stamped]
type = $SQL_TYPE
$conn
metric = room_temp_ts
query = $tsq

[plugin:badfail]
type = $SQL_TYPE
$conn
metric = bad_fail
query = SELECT ts AS timestamp, v AS value, room FROM bad WHERE ts BETWEEN :start AND :end

[plugin:badskip]
type = $SQL_TYPE
$conn
metric = bad_skip
on_bad_row = skip
query = SELECT ts AS timestamp, v AS value, room FROM bad WHERE ts BETWEEN :start AND :end

[plugin:named]
type = $SQL_TYPE
$conn
metric_column = metric
query = SELECT ts AS timestamp, name AS metric, v AS value, room FROM named WHERE ts BETWEEN :start AND :end

[plugin:slow]
type = $SQL_TYPE
$conn
metric = slow_metric
query = $slow
labels_query = SELECT room FROM rooms

[plugin:slow2]
type = $SQL_TYPE
$conn
metric = slow_metric2
statement_timeout = 1s
query = $slow
labels_query = SELECT room FROM rooms

[plugin:file]
type = openmetrics_file
path = $TMP/data.om
EOF
    sql_suite_serve pvm "$fc" "$np" || exit 1
    U=$SERVED
}

# sql_suite_serve NAME FCGI-PORT NGINX-PORT: starts pvm-fcgi on
# $TMP/NAME/pvm.ini and nginx in front (stopped by the EXIT trap); sets
# SERVED to the API's URL.
sql_suite_serve() {
    "$PVM_BIN" --config "$TMP/$1/pvm.ini" </dev/null \
        >>"$TMP/$1/pvm.log" 2>&1 &
    PVM_PIDS="$PVM_PIDS $!"
    pvm_wait_port "$2" 15 "$!" || { bad "$1: pvm-fcgi did not start"; return 1; }
    mkdir -p "$TMP/$1-nginx"
    NGINX_DIRS="$NGINX_DIRS $TMP/$1-nginx"
    pvm_nginx_conf "$TMP/$1-nginx" "$3" "127.0.0.1:$2" &&
        pvm_nginx_start "$TMP/$1-nginx" 10 ||
        { bad "$1: nginx did not start"; return 1; }
    SERVED=http://127.0.0.1:$3/api/v1
}

sql_suite_queries() {
    echo "=== queries"
    req "range: every series of both metrics" 200 '"resultType":"matrix"' \
        /query_range --data-urlencode 'query={__name__=~"room_temp|room_hum"}' $RANGE
    expect "range: 5 temp + 5 hum series" eq "$(count '"__name__":"room_')" 10
    req "pushed down =: one room" 200 '"room":"kitchen"' \
        /query_range --data-urlencode 'query=room_temp{room="kitchen"}' $RANGE
    expect "pushed down =: only the kitchen" eq "$(count '"room":')" 1
    req "NULL skipped: 29 kitchen rows" 200 '"value":[1700001740,"29"]' \
        /query --data-urlencode 'query=count_over_time(room_temp{room="kitchen"}[30m])' \
        --data-urlencode "time=$((T0 + 1740))"
    req "pushed down !=" 200 '"room":"bath"' \
        /query_range --data-urlencode 'query=room_temp{room!="kitchen",floor="first"}' $RANGE
    expect "pushed down !=: bath and bedroom" eq "$(count '"room":')" 2
    req "pushed down alternation" 200 '"room":"cellar"' \
        /query_range --data-urlencode 'query=room_hum{room=~"kitchen|cellar|nowhere"}' $RANGE
    expect "alternation: 2 series" eq "$(count '"room":')" 2
    req "post-filtered regex" 200 '"room":"bedroom"' \
        /query_range --data-urlencode 'query=room_temp{room=~"b.*"}' $RANGE
    expect "post-filtered regex: bath and bedroom" eq "$(count '"room":')" 2
    req "post-filtered !~" 200 '"room":"cellar"' \
        /query_range --data-urlencode 'query=room_temp{room!~"kitchen|b.*",floor="ground"}' $RANGE
    expect "post-filtered !~: cellar only" eq "$(count '"room":')" 1
    req "instant: the latest row" 200 "\"value\":[$((T0 + 330)),\"55\"]" \
        /query --data-urlencode 'query=room_hum{room="kitchen"}' \
        --data-urlencode "time=$((T0 + 330))"
    req "instant: at its own timestamp" 200 "\"$((T0 + 300))\"]" \
        /query --data-urlencode 'query=timestamp(room_hum{room="kitchen"})' \
        --data-urlencode "time=$((T0 + 330))"
    req "instant: several metrics of one row" 200 '"room_hum"' \
        /query --data-urlencode 'query={__name__=~"room_.*",room="cellar"}' \
        --data-urlencode "time=$((T0 + 60))"
    expect "instant: temp and hum of the cellar" eq "$(count '"__name__"')" 2
    req "metric_column: mc_b" 200 '"room":"y"' \
        /query --data-urlencode 'query=mc_b' --data-urlencode "time=$((T0 + 1))"
    expect "metric_column: two mc_b series" eq "$(count '"__name__":"mc_b"')" 2
    req "metric_column: pushed-down name" 200 '"mc_a"' \
        /query --data-urlencode 'query={__name__="mc_a"}' --data-urlencode "time=$((T0 + 1))"
    req "timestamp type: milliseconds kept" 200 "\"$T0.25\"]" \
        /query --data-urlencode 'query=timestamp(room_temp_ts)' \
        --data-urlencode "time=$((T0 + 1))"
    req "timestamp type: instant" 200 "\"value\":[$((T0 + 61)),\"8\"]" \
        /query --data-urlencode 'query=room_temp_ts' --data-urlencode "time=$((T0 + 61))"
    req "timestamp type: NULL value skipped" 200 "\"value\":[$((T0 + 121)),\"8\"]" \
        /query --data-urlencode 'query=room_temp_ts' --data-urlencode "time=$((T0 + 121))"
}

sql_suite_bad_rows() {
    echo "=== bad rows"
    req "on_bad_row = fail: the bad row's series fails" 500 "column 'value'" \
        /query --data-urlencode 'query=bad_fail{room="bath"}' --data-urlencode "time=$((T0 + 30))"
    expect "the error names instance and row" grep -q 'plugin badfail.*row 1' "$TMP/body"
    req "on_bad_row = fail: another series is not failed" 200 '"1.5"' \
        /query --data-urlencode 'query=bad_fail{room="kitchen"}' --data-urlencode "time=$((T0 + 30))"
    req "on_bad_row = fail: post-filtered, the bad row not kept" 200 '"1.5"' \
        /query --data-urlencode 'query=bad_fail{room=~"k.*"}' --data-urlencode "time=$((T0 + 30))"
    req "on_bad_row = skip: a warning, the other rows" 200 '"warnings"' \
        /query_range --data-urlencode 'query=bad_skip' $RANGE
    expect "on_bad_row = skip: the warning names the row" grep -q 'skipped a bad row.*row' "$TMP/body"
    expect "on_bad_row = skip: the good bath row kept" grep -qF "[$((T0 + 60)),\"2\"]" "$TMP/body"
}

sql_suite_discovery() {
    echo "=== discovery"
    req "labels" 200 '"floor"' /labels
    req "label values pushed down" 200 '"bath"' /label/room/values \
        --data-urlencode 'match[]=room_temp{floor="first"}'
    expect "label values: only the first floor" eq "$(count '"')" 10
    req "series" 200 '"room":"cellar"' /series \
        --data-urlencode 'match[]=room_hum{room=~"cellar|attic"}'
    expect "series: cellar and attic" eq "$(count '"__name__":"room_hum"')" 2
    req "metric names" 200 '"room_temp_ts"' /label/__name__/values
    expect "metric names: the metric_column names" grep -q '"mc_b"' "$TMP/body"
    req "metadata" 200 '"room readings"' /metadata
}

# same_numbers A B: the two answers are equal but for the last bits of
# their numbers (sums of floats in another series order).
same_numbers() {
    awk 'NR == FNR { a = a $0; next } { b = b $0 }
    END {
        na = split(a, x, /[^0-9eE.+-]+/); nb = split(b, y, /[^0-9eE.+-]+/)
        if (na != nb) exit 1
        for (i = 1; i <= na; i++) {
            if (x[i] == y[i]) continue
            d = x[i] - y[i]; m = x[i] < 0 ? -x[i] : x[i]
            if (d < 0) d = -d
            if (d > 1e-9 * (m > 1 ? m : 1)) exit 1
        }
    }' "$1" "$2"
}

# The same numbers as the OpenMetrics file, for aggregations and rates.
sql_suite_same() {
    echo "=== same answers as openmetrics_file"
    for q in 'sum by (floor) (%s_temp{floor!="attic"})' \
        'sum by (floor) (rate(%s_hum{floor!="attic"}[5m]))' \
        'avg_over_time(%s_temp{room!="kitchen",floor!="attic"}[10m])' \
        'max by (room) (%s_temp{room=~"kitchen|bath"})'; do
        # shellcheck disable=SC2059
        sq=$(printf "$q" room) oq=$(printf "$q" om_room)
        curl -s -m 30 -G -o "$TMP/a" "$U/query_range" --data-urlencode "query=$sq" $RANGE
        curl -s -m 30 -G -o "$TMP/b" "$U/query_range" --data-urlencode "query=$oq" $RANGE
        sed 's/"__name__":"[a-z_]*",\{0,1\}//g' "$TMP/a" >"$TMP/a2"
        sed 's/"__name__":"[a-z_]*",\{0,1\}//g' "$TMP/b" >"$TMP/b2"
        if grep -q '"success"' "$TMP/a" && grep -q '"values"' "$TMP/a" &&
            same_numbers "$TMP/a2" "$TMP/b2"; then
            ok "$sq equals the file's"
        else
            bad "$sq differs from $oq"
            head -c 300 "$TMP/a"
            echo
            head -c 300 "$TMP/b"
            echo
        fi
    done
}

# Label values that would break spliced SQL reach the database only as
# bound parameters: the answers are exact, and the statement log shows
# placeholders, never the values.
sql_suite_hostile() {
    echo "=== hostile label values"
    mark=
    command -v sql_log_since >/dev/null 2>&1 && mark=$(sql_log_mark)
    req "quote, %, _ and double quotes match exactly" 200 '"attic"' \
        /query --data-urlencode 'query=room_temp{room="it'"'"'s 50%_x_ \"q\""}' \
        --data-urlencode "time=$((T0 + 1))"
    expect "exactly that row" eq "$(count '"room":')" 1
    for v in '%' '_' "it'" "x' OR '1'='1" "'; DROP TABLE readings; --" \
        '\\' '\" OR 1=1 --' 'kitchen\\'"'"' UNION SELECT 1' '$1' ':start' \
        "HOSTILE_MARK') OR ('a'='a"; do
        req "hostile $v: nothing selected" 200 '"result":[]' \
            /query --data-urlencode "query=room_temp{room=\"$v\"}" \
            --data-urlencode "time=$((T0 + 60))"
        case $v in *[\(\)]*) continue ;; esac # not a regex
        req "hostile $v in a regex list" 200 '"result":[]' \
            /query --data-urlencode "query=room_temp{room=~\"$v|zz\"}" \
            --data-urlencode "time=$((T0 + 60))"
    done
    req "a NUL byte selects nothing" 200 '"result":[]' \
        /query --data-urlencode 'query=room_temp{room="kitchen\x00"}' \
        --data-urlencode "time=$((T0 + 60))"
    awk 'BEGIN { printf "query=room_temp{room=\"HUGE"; for (i = 0; i < 65536; i++) printf "0123456789abcdef"; printf "\"}" }' >"$TMP/huge"
    got=$(curl -s -o "$TMP/body" -m 30 -w '%{http_code}' \
        --data-binary "@$TMP/huge" --data-urlencode "time=$((T0 + 60))" \
        "$U/query" 2>/dev/null)
    expect "a 1 MB label value: answered, nothing selected" \
        eq "$got $(count '"result":[]')" "200 1"
    req "the table is still there" 200 '"room":"kitchen"' \
        /query --data-urlencode 'query=room_temp{room="kitchen"}' --data-urlencode "time=$((T0 + 60))"
    if [ -z "$mark" ]; then
        skip "statement log: $SQL_TYPE has none to look at"
        return
    fi
    sql_log_since "$mark" >"$TMP/stmts"
    if grep -q 'pvm_q WHERE' "$TMP/stmts" &&
        grep -E 'pvm_q WHERE' "$TMP/stmts" | grep -qE "$SQL_PLACEHOLDER"; then
        ok "statement log: pushed-down conditions with placeholders"
    else
        bad "statement log: no pushed-down statement with placeholders"
        tail -5 "$TMP/stmts"
    fi
    if grep -qE 'HOSTILE_MARK|HUGE0123|DROP TABLE|50%_x_|UNION SELECT' "$TMP/stmts"; then
        bad "statement log: a label value was spliced into SQL text"
        grep -E 'HOSTILE_MARK|HUGE|DROP TABLE|50%_x_|UNION' "$TMP/stmts" | head -c 400
    else
        ok "statement log: no label value in any statement text"
    fi
}

sql_suite_timeout() {
    echo "=== a statement past its timeout"
    mark=
    command -v sql_cancel_seen >/dev/null 2>&1 && mark=$(sql_log_mark)
    t0=$(date +%s)
    req "the slow statement answers 503 timeout" 503 '"errorType":"timeout"' \
        /query --data-urlencode 'query=slow_metric' --data-urlencode timeout=1s
    t1=$(date +%s)
    expect "within 4 s of a 1 s timeout ($((t1 - t0)) s)" [ $((t1 - t0)) -le 4 ]
    if [ -n "$mark" ]; then
        i=0
        while ! sql_cancel_seen "$mark" && [ $i -lt 30 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        expect "the server cancelled the statement" sql_cancel_seen "$mark"
    else
        skip "the server's cancel: $SQL_TYPE has no log to show it"
    fi
    t0=$(date +%s)
    req "statement_timeout = 1s stops it without a query timeout" 503 \
        '"errorType":"timeout"' /query --data-urlencode 'query=slow_metric2'
    t1=$(date +%s)
    expect "statement_timeout: within 4 s ($((t1 - t0)) s)" [ $((t1 - t0)) -le 4 ]
    req "the connection serves the next query" 200 '"room":"kitchen"' \
        /query --data-urlencode 'query=room_temp{room="kitchen"}' --data-urlencode "time=$((T0 + 60))"
}

sql_suite_down() {
    echo "=== the server goes down and comes back"
    if ! command -v sql_down >/dev/null 2>&1; then
        skip "server down: $SQL_TYPE has no server"
        return
    fi
    sql_down
    for i in 1 2; do
        req "down ($i): 503 unavailable naming the instance" 503 "\"errorType\":\"unavailable\",\"error\":\"$SQL_TYPE instance db" \
            /query --data-urlencode 'query=room_temp' --data-urlencode "time=$((T0 + 60))"
    done
    # a second pvm-fcgi started while the server is down: it starts
    # (logging it), answers 503, and serves once the server is back
    fc=$(pvm_free_port) && np=$(pvm_free_port) || exit 99
    mkdir -p "$TMP/late"
    sed -e "s|^listen = .*|listen = 127.0.0.1:$fc|" -e '/^workers/d' \
        "$TMP/pvm/pvm.ini" >"$TMP/late/pvm.ini"
    U1=$U
    if sql_suite_serve late "$fc" "$np"; then
        U=$SERVED
        ok "started while the database is down"
        # logged by the worker's startup, which may still be trying when
        # the listening socket (the master's) already accepts
        expect "the start logged that it could not connect" \
            pvm_wait_grep 'cannot connect (retried at each request' "$TMP/late/pvm.log" 30
        req "started down: 503 unavailable" 503 '"errorType":"unavailable"' \
            /query --data-urlencode 'query=room_temp' --data-urlencode "time=$((T0 + 60))"
    fi
    late=$U
    U=$U1
    sql_up || { bad "the server did not come back"; return; }
    for i in 1 2 3; do
        req "back ($i): answers again" 200 '"room":"kitchen"' \
            /query --data-urlencode 'query=room_temp' --data-urlencode "time=$((T0 + 60))"
    done
    U=$late
    req "started down, server back: answers" 200 '"room":"kitchen"' \
        /query --data-urlencode 'query=room_temp' --data-urlencode "time=$((T0 + 60))"
    U=$U1
}

sql_suite_run() {
    sql_suite_load || { bad "loading the data failed"; exit 1; }
    sql_suite_start
    sql_suite_queries
    sql_suite_bad_rows
    sql_suite_discovery
    sql_suite_same
    sql_suite_hostile
    sql_suite_timeout
    sql_suite_down
}
