#!/bin/sh
# tests/integration/prometheus.sh: the prometheus plugin type against
# Debian's Prometheus (2.42) on 127.0.0.1 (a TESTS entry). Prometheus
# holds a TSDB backfilled with `promtool tsdb create-blocks-from
# openmetrics`: counters and gauges (pvmtest_*), series with hostile label
# values, and a copy of the example plugin's 12 series. pvm-fcgi-test
# behind nginx runs the example plugin and two prometheus instances:
# `prom` (match: the pvmtest_ series but pvmtest_second) and `second`
# (match: pvmtest_second, external_labels). Checked:
#   - raw selectors, rate, sum by, offset, *_over_time and a binary
#     operation of an upstream series with the example plugin's, instant
#     and range, give through pvm what Prometheus gives for its own series
#     (promtool query against both; query times 7 s off the 15 s sample
#     grid, so that Prometheus 2.x's closed and pvm's left-open windows
#     see the same samples);
#   - /series, /labels, /label/<name>/values with match[], start and end
#     equal Prometheus' answers;
#   - hostile label values (quotes, backslashes, newline, UTF-8) select
#     their series through pvm's selector text;
#   - external_labels: added, a series' own label wins, selectable, listed;
#   - errors: a selector Prometheus 2.42 refuses, an answer over
#     max_response_bytes, an upstream that is down (a second pvm-fcgi), a
#     slow one (a third, on a Python server answering after 6 s) past the
#     instance's timeout and past the request's deadline, all as error
#     envelopes naming the instance, no password in the answer or the
#     log; --check-config checks the URL without fetching.
# Every wait is bounded; processes are stopped by PID (the frame:
# tests/lib/script.sh). Prints "PVM-RESULT: prometheus: P passed, F
# failed, S skipped"; exits 77 without prometheus/promtool.
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
PROMETHEUS=${PVM_PROMETHEUS:-$(command -v prometheus 2>/dev/null)}
PROMTOOL=${PVM_PROMTOOL:-$(command -v promtool 2>/dev/null)}
if [ -z "$PROMETHEUS" ] || [ -z "$PROMTOOL" ]; then
    echo "prometheus.sh: SKIP: prometheus/promtool not installed (apt-get install prometheus)"
    echo "PVM-RESULT: prometheus: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
pvm_script_begin prometheus
PROM_PID=
SLOW_PID=
pvm_script_before_cleanup() {
    pvm_stop_pid "$PROM_PID" 10
    pvm_stop_pid "$SLOW_PID" 10
    if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
        "$TMP"/*/pvm.log 2>/dev/null; then
        bad "sanitizer reports in a pvm-fcgi log"
    fi
}
T0=$(date +%s)

# ---- the data: 90 minutes at 15 s, the middle of a 2 h block 3 h back --
e=$(( ( $(date +%s) - 3 * 3600 ) / 7200 * 7200 + 3600 ))
S=$((e - 3600))
E=$((e + 1800))
EX=prometheus_virtual_metrics_example_metric
{
    awk -v s="$S" -v e="$E" 'BEGIN {
    print "# TYPE pvmtest_requests counter"
    for (h = 0; h < 3; h++) for (c = 0; c < 2; c++)
        for (t = s; t <= e; t += 15) {
            n = (t - s) / 15
            v = n * (h + 1) * (c ? 0.25 : 1) + int(n / 7) * 3
            printf "pvmtest_requests_total{host=\"%s\",code=\"%s\"} %.17g %d\n", \
                substr("abc", h + 1, 1), c ? "500" : "200", v, t
        }
    print "# TYPE pvmtest_temp_celsius gauge"
    for (h = 0; h < 3; h++) for (t = s; t <= e; t += 15)
        printf "pvmtest_temp_celsius{host=\"%s\"} %.17g %d\n", \
            substr("abc", h + 1, 1), 20 + h + sin((t - s) / 150), t
    print "# TYPE pvmtest_hostile gauge"
    split("quote\\\"and\\\\backslash|caf\303\251 \342\202\254 \360\237\230\200|new\\nline|curly{x},a=\\\"b\\\"", hv, "|")
    for (k = 1; k <= 4; k++) for (t = s; t <= e; t += 15)
        printf "pvmtest_hostile{v=\"%s\"} %d %d\n", hv[k], k, t
    print "# TYPE pvmtest_second gauge"
    for (t = s; t <= e; t += 15)
        printf "pvmtest_second{host=\"a\"} %d %d\n", (t - s) / 15, t
    }'
    awk -v s="$S" -v e="$E" -v m="$EX" -f "$top_srcdir/tests/lib/example_om.awk"
    echo "# EOF"
} >"$TMP/data.om"
timeout 60 "$PROMTOOL" tsdb create-blocks-from openmetrics "$TMP/data.om" \
    "$TMP/data" >"$TMP/create-blocks.log" 2>&1 || {
    cat "$TMP/create-blocks.log" >&2
    bad "promtool tsdb create-blocks-from openmetrics failed"
    exit 1
}

# ---- Prometheus ----------------------------------------------------------
PROM_PORT=$(pvm_free_port) || exit 99
PROM_URL=http://127.0.0.1:$PROM_PORT
printf 'global:\n  evaluation_interval: 1h\nscrape_configs: []\n' \
    >"$TMP/prometheus.yml"
"$PROMETHEUS" --config.file="$TMP/prometheus.yml" \
    --storage.tsdb.path="$TMP/data" --storage.tsdb.retention.time=100y \
    --web.listen-address="127.0.0.1:$PROM_PORT" \
    --web.console.templates="$TMP" --web.console.libraries="$TMP" \
    </dev/null >"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
pvm_wait_port "$PROM_PORT" 20 "$PROM_PID" || {
    bad "Prometheus did not start"
    exit 1
}
i=0
until curl -fsS "$PROM_URL/-/ready" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 200 ] || ! kill -0 "$PROM_PID" 2>/dev/null; then
        bad "Prometheus did not become ready"
        exit 1
    fi
    sleep 0.1
done

# ---- pvm: NAME with the ini text on stdin; sets PORT_<NAME> -------------
start_pvm() {
    mkdir -p "$TMP/$1" "$TMP/$1-nginx"
    fc=$(pvm_free_port) && np=$(pvm_free_port) || exit 99
    { printf '[server]\nlisten = 127.0.0.1:%s\nworkers = 2\n\n' "$fc"; cat; } \
        >"$TMP/$1/pvm.ini"
    "$PVM_BIN" --config "$TMP/$1/pvm.ini" </dev/null >>"$TMP/$1/pvm.log" 2>&1 &
    PVM_PIDS="$PVM_PIDS $!"
    pvm_wait_port "$fc" 20 "$!" || { bad "$1: pvm-fcgi did not start"; exit 1; }
    pvm_nginx_conf "$TMP/$1-nginx" "$np" "127.0.0.1:$fc" &&
        pvm_nginx_start "$TMP/$1-nginx" 10 ||
        { bad "$1: nginx did not start"; exit 1; }
    NGINX_DIRS="$NGINX_DIRS $TMP/$1-nginx"
    eval "PORT_$1=$np"
}
start_pvm main <<EOF
[plugin:example]

[plugin:prom]
type = prometheus
url = $PROM_URL
match = {__name__=~"pvmtest_.+",__name__!="pvmtest_second"}
; a second filter overlapping the first: its series are served once
match = pvmtest_temp_celsius{host=~"a|b"}
; enough for the queries below (25 minutes of samples), not for 90
; minutes of pvmtest_requests_total (~50 KB): discovery must ask /series
max_response_bytes = 32k

[plugin:second]
type = prometheus
url = $PROM_URL/
method = POST
match = pvmtest_second
external_labels = source="second", host="ignored"
EOF
PVM_URL=http://127.0.0.1:$PORT_main

. "$top_srcdir/tests/lib/promtool.sh"

# Off the 15 s grid by 7 s; the range queries step 60 s over 20 minutes.
t=$((e + 1207))
start=$((t - 1200))
R="--start=$start --end=$t --step=1m"
echo "=== queries: pvm (example + prometheus plugin) vs Prometheus"
same "instant raw selector" instant "--time=$t" "pvmtest_temp_celsius"
same "instant, matchers" instant "--time=$t" \
    'pvmtest_requests_total{code="500",host=~"a|c"}'
same "instant rate[5m]" instant "--time=$t" "rate(pvmtest_requests_total[5m])"
same "range rate[5m]" range "$R" "rate(pvmtest_requests_total[5m])"
same "instant sum by (host)" instant "--time=$t" \
    "sum by (host) (rate(pvmtest_requests_total[5m]))"
same "range sum by (code)" range "$R" \
    "sum by (code) (increase(pvmtest_requests_total[10m]))"
same "range raw selector, 15 s step" range \
    "--start=$start --end=$t --step=15s" "pvmtest_temp_celsius{host=\"b\"}"
same "instant offset" instant "--time=$t" "pvmtest_temp_celsius offset 10m"
same "range avg_over_time" range "$R" "avg_over_time(pvmtest_temp_celsius[7m])"
# The upstream's counter times the example plugin's square wave (constant
# within each half minute, so equal at t and at the sample before t).
MIX="rate(pvmtest_requests_total{code=\"200\"}[5m]) * on() group_left() $EX{type=\"square\",amplitude=\"5\"}"
same "instant binary op with the example plugin" instant "--time=$t" "$MIX"
same "range binary op with the example plugin" range "$R" "$MIX"
same "instant, the upstream series by pvm's own selector text" instant \
    "--time=$t" 'pvmtest_hostile{v="quote\"and\\backslash"}'
same "instant, UTF-8 label value" instant "--time=$t" \
    'pvmtest_hostile{v="café € 😀"}'
same "instant, newline and braces in values" instant "--time=$t" \
    'pvmtest_hostile{v=~"new\nline|curly\\{x\\},a=\"b\""}'
same "range, every hostile series" range "$R" 'pvmtest_hostile'

# get URL OUT: body into OUT, prints the HTTP status.
get() {
    curl -s -o "$2" -m 30 -w '%{http_code}' "$1"
}

# same_json NAME PATH-AND-QUERY: the "data" of pvm's and Prometheus'
# answers are equal (sorted lists).
same_json() {
    s1=$(get "$PROM_URL$2" "$TMP/p.json")
    s2=$(get "$PVM_URL$2" "$TMP/v.json")
    if [ "$s1" = 200 ] && [ "$s2" = 200 ] && "$PY" - "$TMP/p.json" "$TMP/v.json" <<'PYEOF'
import json, sys
def norm(path):
    d = json.load(open(path, encoding="utf-8"))["data"]
    if d and isinstance(d[0], dict):
        return sorted(json.dumps(x, sort_keys=True) for x in d)
    return sorted(d)
a, b = norm(sys.argv[1]), norm(sys.argv[2])
sys.exit(0 if a == b and a else 1)
PYEOF
    then
        ok "$1"
    else
        bad "$1: HTTP $s1 (Prometheus) / $s2 (pvm)"
        head -c 400 "$TMP/p.json" | sed 's/^/     prometheus: /'
        echo
        head -c 400 "$TMP/v.json" | sed 's/^/     pvm: /'
        echo
    fi
}

echo "=== discovery passes through"
W="start=$S&end=$E"
same_json "/series" "/api/v1/series?match%5B%5D=pvmtest_requests_total&$W"
same_json "/series, two match[]" \
    "/api/v1/series?match%5B%5D=pvmtest_temp_celsius%7Bhost%3D%22a%22%7D&match%5B%5D=pvmtest_hostile&$W"
same_json "/labels" "/api/v1/labels?match%5B%5D=pvmtest_requests_total&$W"
same_json "/label/host/values" \
    "/api/v1/label/host/values?match%5B%5D=%7B__name__%3D~%22pvmtest_(temp|req).*%22%7D&$W"
same_json "/label/__name__/values" \
    "/api/v1/label/__name__/values?match%5B%5D=%7B__name__%3D~%22pvmtest_.%2B%22%7D&$W"
same_json "/label/v/values (hostile values)" \
    "/api/v1/label/v/values?match%5B%5D=pvmtest_hostile&$W"
get "$PVM_URL/api/v1/labels?$W" "$TMP/l.json" >/dev/null
jq -e '.data | (index("host") and index("source") and index("type"))' \
    "$TMP/l.json" >/dev/null
check "/labels without match[]: the upstream's, the example's and the external ones" $?

st=$(get "$PVM_URL/api/v1/query?query=count_over_time(pvmtest_requests_total%5B90m%5D)&time=$E" "$TMP/x.json")
[ "$st" = 422 ] && jq -e '.errorType == "execution" and
    (.error | test("instance prom: .*max_response_bytes"))' "$TMP/x.json" >/dev/null
r=$?
check "samples over max_response_bytes: 422 naming the instance (HTTP $st)" $r
[ $r = 0 ] || head -c 300 "$TMP/x.json"

get "$PVM_URL/api/v1/query_range?query=pvmtest_temp_celsius&start=$start&end=$t&step=15" \
    "$TMP/x.json" >/dev/null
jq -e '.status == "success" and (.data.result | length == 3) and
    (has("warnings") | not)' "$TMP/x.json" >/dev/null
r=$?
check "two overlapping match filters: each series once, no duplicate samples" $r
[ $r = 0 ] || head -c 600 "$TMP/x.json"

echo "=== external_labels"
get "$PVM_URL/api/v1/query?query=pvmtest_second&time=$t" "$TMP/x.json" >/dev/null
jq -e '.data.result | length == 1 and .[0].metric.source == "second" and .[0].metric.host == "a"' \
    "$TMP/x.json" >/dev/null
check "added to every series, the series' own label wins" $?
get "$PVM_URL/api/v1/query?query=pvmtest_second%7Bsource%3D%22second%22%7D&time=$t" \
    "$TMP/x.json" >/dev/null
jq -e '.data.result | length == 1' "$TMP/x.json" >/dev/null
check "a matcher on an external label selects" $?
get "$PVM_URL/api/v1/query?query=pvmtest_second%7Bsource%3D%22other%22%7D&time=$t" \
    "$TMP/x.json" >/dev/null
jq -e '.status == "success" and (.data.result | length == 0)' "$TMP/x.json" >/dev/null
check "... and excludes" $?
get "$PVM_URL/api/v1/label/source/values?$W" "$TMP/x.json" >/dev/null
jq -e '.data == ["second"]' "$TMP/x.json" >/dev/null
check "/label/source/values lists the external label's value" $?
get "$PVM_URL/api/v1/series?match%5B%5D=%7Bsource%3D%22second%22%7D&$W" \
    "$TMP/x.json" >/dev/null
# (the example plugin lists its bare name for any selector without one)
jq -e '[.data[] | select(.__name__ | startswith("pvmtest_"))] ==
    [{"__name__":"pvmtest_second","host":"a","source":"second"}]' \
    "$TMP/x.json" >/dev/null
r=$?
check "/series by an external label" $r
[ $r = 0 ] || head -c 400 "$TMP/x.json"

echo "=== errors"
# Prometheus 2.42 does not know quoted (UTF-8) label names; pvm does.
st=$(get "$PVM_URL/api/v1/query?query=%7B%22utf8.name%22%3D%22x%22%7D&time=$t" "$TMP/x.json")
[ "$st" = 500 ] && jq -e '.errorType == "internal" and
    (.error | test("plugin prom: .*instance prom: GET http://127.0.0.1:[0-9]+/api/v1/query\\?query=...&time=...: the upstream answered HTTP 400: bad_data: "))' \
    "$TMP/x.json" >/dev/null
check "the upstream's error envelope, naming the instance (HTTP $st)" $?
[ "$st" = 500 ] || head -c 300 "$TMP/x.json"

printf 's3cret-pw\n' >"$TMP/pw"
DEAD=$(pvm_free_port) || exit 99
start_pvm down <<EOF
[plugin:example]

[plugin:gone]
type = prometheus
url = http://127.0.0.1:$DEAD/prefix
basic_user = alice
basic_password_file = $TMP/pw
timeout = 5s
EOF
st=$(get "http://127.0.0.1:$PORT_down/api/v1/query?query=up&time=$t" "$TMP/x.json")
[ "$st" = 422 ] || [ "$st" = 500 ]
r1=$?
jq -e '.status == "error" and (.error | test("instance gone: GET http://127.0.0.1:[0-9]+/prefix/api/v1/query"))' \
    "$TMP/x.json" >/dev/null
[ "$r1" = 0 ] && [ $? = 0 ]
check "an upstream that is down: an error envelope naming the instance (HTTP $st)" $?
st=$(get "http://127.0.0.1:$PORT_down/api/v1/series?match%5B%5D=up" "$TMP/y.json")
[ "$st" != 200 ] && jq -e '.error | test("instance gone")' "$TMP/y.json" >/dev/null
check "... for /series too (HTTP $st)" $?
! grep -q 's3cret' "$TMP/x.json" "$TMP/y.json" "$TMP/down/pvm.log"
check "the password is in no answer and no log line" $?

# An upstream that answers after 6 s: the instance's timeout (1 s) and
# the request's own deadline (timeout=300ms) end the fetch: 503 timeout.
SLOW_PORT=$(pvm_free_port) || exit 99
"$PY" -c '
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(6)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$SLOW_PORT" </dev/null >"$TMP/slow.log" 2>&1 &
SLOW_PID=$!
pvm_wait_port "$SLOW_PORT" 10 "$SLOW_PID" || { bad "the slow upstream did not start"; exit 1; }
start_pvm slow <<EOF
[plugin:late]
type = prometheus
url = http://127.0.0.1:$SLOW_PORT
timeout = 1s
EOF
SLOW_URL=http://127.0.0.1:$PORT_slow/api/v1/query
s0=$(date +%s)
st=$(get "$SLOW_URL?query=up&time=$t" "$TMP/x.json")
s1=$(date +%s)
[ "$st" = 503 ] && [ $((s1 - s0)) -lt 4 ] && jq -e '.errorType == "timeout" and
    (.error | test("instance late: .*the instance.s timeout"))' "$TMP/x.json" >/dev/null
r=$?
check "a slow upstream: the instance's timeout, 503 naming it (HTTP $st, $((s1 - s0)) s)" $r
[ $r = 0 ] || head -c 300 "$TMP/x.json"
s0=$(date +%s)
st=$(get "$SLOW_URL?query=up&time=$t&timeout=300ms" "$TMP/x.json")
s1=$(date +%s)
[ "$st" = 503 ] && [ $((s1 - s0)) -lt 4 ] &&
    jq -e '.errorType == "timeout"' "$TMP/x.json" >/dev/null
r=$?
check "... and the request's deadline (timeout=300ms: HTTP $st, $((s1 - s0)) s)" $r
[ $r = 0 ] || head -c 300 "$TMP/x.json"

echo "=== --check-config: the URL, without fetching"
ck() { # NAME EXPECTED-STATUS URL-LINE [MORE LINES]
    n=$1 want=$2
    shift 2
    printf '[plugin:p]\ntype = prometheus\n' >"$TMP/ck.ini"
    for l in "$@"; do printf '%s\n' "$l" >>"$TMP/ck.ini"; done
    "$PVM_BIN" --check-config --config "$TMP/ck.ini" >"$TMP/ck.out" 2>&1
    got=$?
    [ "$got" = "$want" ]
    check "--check-config $n: status $got" $?
    [ "$got" = "$want" ] || sed 's/^/     /' "$TMP/ck.out"
}
ck "a URL nobody listens on (not fetched)" 0 "url = http://127.0.0.1:$DEAD"
ck "an ftp URL" 1 "url = ftp://127.0.0.1/"
grep -q 'url' "$TMP/ck.out"
check "... names the url key" $?
ck "a URL with a query" 1 "url = http://127.0.0.1:$DEAD/?x=1"
ck "a bad match selector" 1 "url = http://127.0.0.1:$DEAD" 'match = up{'
grep -q "match 'up{'" "$TMP/ck.out"
check "... names the selector" $?
ck "bad external_labels" 1 "url = http://127.0.0.1:$DEAD" 'external_labels = a=~"x"'
ck "no url" 1
"$PVM_BIN" --check-config \
    --config "$top_srcdir/conf/examples/prometheus-mix/pvm.ini" >"$TMP/ck.out" 2>&1
check "--check-config conf/examples/prometheus-mix/pvm.ini" $?
echo "prometheus.sh: $(( $(date +%s) - T0 )) s"
