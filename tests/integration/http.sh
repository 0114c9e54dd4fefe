#!/bin/sh
# tests/integration/http.sh: the http plugin through real nginx on
# 127.0.0.1 (a TESTS entry; also run under valgrind by tests/valgrind.sh).
# A fixture nginx serves static JSON and CSV files from a temp directory:
# a JSON API in two shapes (points per series; one object per timestamp),
# the same narrowed by a matcher in the query string and in a POSTed form
# body (read by the fixture through a map), a CSV export, HTTP
# Basic and bearer auth, a 500, a slow answer past the timeout
# (limit_rate), a 50 MB answer over max_response_bytes, invalid JSON, an
# API key header, https with a self-signed certificate (with ca_file,
# without it, insecure_skip_verify), and the conf/examples/http-json
# answer. pvm-fcgi-test runs one instance per
# case (each with its own metric, listed in `metrics`, so a query fetches
# from one instance only) behind a second nginx. Each case gives the
# right series or an error envelope naming the instance; no log holds the
# token or the password; --check-config compiles the jq programs and
# fetches nothing. Prints "PVM-RESULT: http: P passed, F failed, S
# skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
pvm_script_begin http
for tool in openssl awk; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "http.sh: SKIP: $tool missing"
        skip "needs $tool"
        exit 77
    fi
done
T0=$(date +%s)
TOKEN=tok-S3CRET-$$
PASSWORD=pw-S3CRET-$$
WWW=$TMP/www
FIX=$TMP/fixture
mkdir -p "$WWW" "$FIX" "$TMP/pvm" "$TMP/front"

# ---- the fixture's files -----------------------------------------------
# points per series: cpu{host=a} 1,2,3 and cpu{host=b} 10,20,30 at
# 1700000000 + 0, 60, 120
cat >"$WWW/series.json" <<'EOF'
{"series": [
 {"host": "a", "points": [[1700000000, 1], [1700000060, "2"], [1700000120, 3]]},
 {"host": "b", "points": [[1700000000, 10], [1700000060, 20], [1700000120, 30]]}]}
EOF
# one host per file, chosen by ?host= (the {matcher.host} placeholder)
cat >"$WWW/host-a.json" <<'EOF'
{"series": [{"host": "a", "points": [[1700000000, 5]]}]}
EOF
cat >"$WWW/host-b.json" <<'EOF'
{"series": [{"host": "b", "points": [[1700000000, 7]]}]}
EOF
# one object per timestamp, one field per series, milliseconds
cat >"$WWW/wide.json" <<'EOF'
[{"ts": 1700000000000, "kitchen": 20.5, "cellar": 12},
 {"ts": 1700000060000, "kitchen": 21, "cellar": 12.5}]
EOF
printf 'time,site,power\r\n2023-11-14T22:13:20Z,north,1.5\r\n2023-11-14T22:14:20Z,"so,uth",2.5\r\n' \
    >"$WWW/export.csv"
printf '{"series": [' >"$WWW/invalid.json"
cp "$top_srcdir/conf/examples/http-json/sample-answer.json" "$WWW/meters.json"
head -c 2000 /dev/zero | tr '\0' ' ' >"$WWW/slow.json"
# 50 MB, over the default max_response_bytes (32M)
truncate -s 50M "$WWW/big.json" 2>/dev/null ||
    dd if=/dev/zero of="$WWW/big.json" bs=1M count=50 2>/dev/null
printf 'alice:%s\n' "$(openssl passwd -apr1 "$PASSWORD")" >"$FIX/htpasswd"
printf '%s\n' "$PASSWORD" >"$TMP/pvm/password"
printf '%s\n' "$TOKEN" >"$TMP/pvm/token"
printf 'wrong-token\n' >"$TMP/pvm/wrong-token"
# a self-signed certificate for 127.0.0.1 (https with and without ca_file)
TLS=0
if [ "${PVM_HTTP_QUICK:-0}" != 1 ] && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$FIX/key.pem" \
    -out "$FIX/cert.pem" >"$FIX/openssl.log" 2>&1 &&
    "$(pvm_nginx_bin)" -V 2>&1 | grep -q with-http_ssl_module; then
    TLS=1
fi

# ---- the fixture nginx ---------------------------------------------------
FP=$(pvm_free_port) && NP=$(pvm_free_port) && FC=$(pvm_free_port) &&
    SP=$(pvm_free_port) || exit 99
tls_server=
[ "$TLS" = 1 ] && tls_server="server {
        listen 127.0.0.1:$SP ssl;
        ssl_certificate $FIX/cert.pem;
        ssl_certificate_key $FIX/key.pem;
        root $WWW;
    }"
user=
[ "$(id -u)" = 0 ] && user="user root $(id -gn root 2>/dev/null || echo root);"
temps=
case "$("$(pvm_nginx_bin)" -V 2>&1)" in *--without-http_scgi_module*) ;;
*) temps="scgi_temp_path $FIX/scgi;" ;; esac
case "$("$(pvm_nginx_bin)" -V 2>&1)" in *--without-http_uwsgi_module*) ;;
*) temps="$temps uwsgi_temp_path $FIX/uwsgi;" ;; esac
cat >"$FIX/nginx.conf" <<EOF
$user
daemon off;
worker_processes 1;
pid $FIX/nginx.pid;
error_log $FIX/error.log info;
events { worker_connections 64; }
http {
    access_log $FIX/access.log;
    client_body_temp_path $FIX/client_body;
    fastcgi_temp_path $FIX/fastcgi;
    proxy_temp_path $FIX/proxy;
    $temps
    default_type application/json;
    # POST /query: the host is read from the form body (method, type and
    # the body's shape checked), the file served by a GET to /by-body
    log_format posted '\$request_method \$content_type \$request_body';
    map \$request_body \$posted_host {
        "~^host=(?<h>[a-z]+)&from=[0-9]+\$" \$h;
        default "none";
    }
    server {
        listen 127.0.0.1:$FP;
        root $WWW;
        location = /by-host { try_files /host-\$arg_host.json =404; }
        location = /query {
            access_log $FIX/posted.log posted;
            if (\$request_method != POST) { return 405; }
            proxy_method GET;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Host \$posted_host;
            proxy_pass http://127.0.0.1:$FP/by-body;
        }
        location = /by-body { try_files /host-\$http_x_host.json =404; }
        location = /basic.json {
            auth_basic "pvm test";
            auth_basic_user_file $FIX/htpasswd;
            try_files /series.json =404;
        }
        location = /bearer.json {
            if (\$http_authorization != "Bearer $TOKEN") { return 401; }
            try_files /series.json =404;
        }
        location = /apikey.json {
            if (\$http_x_api_key != "$TOKEN") { return 403; }
            try_files /series.json =404;
        }
        location = /500 { return 500; }
        location = /slow.json { limit_rate 100; }
        location / { }
    }
    $tls_server
}
EOF
echo "$FP" >"$FIX/nginx.port"
pvm_nginx_start "$FIX" 10 || { bad "the fixture nginx did not start"; exit 1; }
NGINX_DIRS="$NGINX_DIRS $FIX"

# ---- pvm-fcgi ------------------------------------------------------------
U=http://127.0.0.1:$FP
JQ1='.series[] | .host as $h | .points[] | {metric: $m, labels: {host: $h}, timestamp: .[0], value: .[1]}'
# inst NAME METRIC URL [KEY=VALUE lines...]: a [plugin:NAME] section
# serving METRIC from URL with the shape-1 program
inst() {
    n=$1 m=$2 u=$3
    shift 3
    printf '\n[plugin:%s]\ntype = http\nurl = %s\nmetrics = %s\n' "$n" "$u" "$m"
    has_jq=0
    for kv in "$@"; do
        case "$kv" in jq*|format*) has_jq=1 ;; esac
        printf '%s\n' "$kv"
    done
    [ "$has_jq" = 1 ] || printf 'jq = "%s" as $m | %s\n' "$m" "$JQ1"
}
{
    printf '[server]\nlisten = 127.0.0.1:%s\nworkers = 1\n' "$FC"
    inst shape1 cpu "$U/series.json?from={start}&to={end}&step={step}"
    inst shape2 temp "$U/wide.json?from={start_rfc3339}" \
        'timestamp_unit = milliseconds' \
        'jq = .[] | .ts as $t | to_entries[] | select(.key != "ts") | {metric: "temp", labels: {room: .key}, timestamp: $t, value: .value}'
    inst narrow hostcpu "$U/by-host?host={matcher.host}"
    inst posted postcpu "$U/query" 'method = POST' \
        'body = host={matcher.host}&from={start}' \
        'header = Content-Type: application/x-www-form-urlencoded'
    inst csv power "$U/export.csv" 'format = csv' 'timestamp_column = time' \
        'value_columns = power' 'label_columns = site'
    inst basic basic_cpu "$U/basic.json" 'basic_user = alice' \
        "basic_password_file = $TMP/pvm/password"
    inst bearer bearer_cpu "$U/bearer.json" \
        "bearer_token_file = $TMP/pvm/token" 'cache_ttl = 1m'
    inst wrongtoken wrong_cpu "$U/bearer.json?api_key=hidden-$$" \
        "bearer_token_file = $TMP/pvm/wrong-token"
    inst apikey apikey_cpu "$U/apikey.json" "header = X-Api-Key: $TOKEN" \
        'header = Accept: application/json'
    if [ "$TLS" = 1 ]; then
        inst tls tls_cpu "https://127.0.0.1:$SP/series.json" \
            "ca_file = $FIX/cert.pem"
        inst tlsbad tlsbad_cpu "https://127.0.0.1:$SP/series.json"
        inst tlsskip tlsskip_cpu "https://127.0.0.1:$SP/series.json" \
            'insecure_skip_verify = yes'
    fi
    inst e500 e500_cpu "$U/500"
    inst slow slow_cpu "$U/slow.json" 'timeout = 1s'
    inst big big_cpu "$U/big.json"
    inst invalid invalid_cpu "$U/invalid.json"
    inst wrongtypes wrongt "$U/series.json" \
        'jq = .series[] | {metric: "wrongt", timestamp: 1700000000, value: .points}'
    inst meters meter_energy_kwh "$U/meters.json" \
        "jq_file = $top_srcdir/conf/examples/http-json/readings.jq"
} >"$TMP/pvm/pvm.ini"

# PVM_HTTP_QUICK=1 (tests/valgrind.sh): the --check-config part (four
# more runs of pvm-fcgi) and https (OpenSSL's handshakes and the system
# CA store) are left out: slow under memcheck, and not pvm's code.
if [ "${PVM_HTTP_QUICK:-0}" != 1 ]; then
echo "=== --check-config"
before=$(wc -l <"$FIX/access.log")
"$PVM_BIN" --check-config --config "$TMP/pvm/pvm.ini" >"$TMP/check.out" 2>&1
check "--check-config accepts the configuration ($(tail -n 1 "$TMP/check.out"))" $?
[ "$(wc -l <"$FIX/access.log")" = "$before" ]
check "--check-config fetches nothing" $?
sed 's/^jq = .* as \$m | .series/jq = .series | [/' "$TMP/pvm/pvm.ini" \
    >"$TMP/pvm/broken.ini"
"$PVM_BIN" --check-config --config "$TMP/pvm/broken.ini" >"$TMP/check2.out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'jq: .*syntax error' "$TMP/check2.out"
check "--check-config reports a jq syntax error with jq's message (exit $rc: $(head -c 200 "$TMP/check2.out"))" $?
inst bearer bearer_cpu "$U/bearer.json" "bearer_token_file = $TMP/pvm/none" \
    >"$TMP/pvm/nofile.ini"
"$PVM_BIN" --check-config --config "$TMP/pvm/nofile.ini" >"$TMP/check3.out" 2>&1
[ $? = 1 ] && grep -q "$TMP/pvm/none" "$TMP/check3.out"
check "--check-config reports an unreadable token file" $?
printf '[plugin:x]\ntype = http\nurl = ftp://h/\njq = .\n' >"$TMP/pvm/ftp.ini"
"$PVM_BIN" --check-config --config "$TMP/pvm/ftp.ini" >"$TMP/check4.out" 2>&1
[ $? = 1 ] && grep -q 'http://' "$TMP/check4.out"
check "--check-config refuses an ftp:// url" $?
fi

echo "=== queries through nginx"
"$PVM_BIN" --config "$TMP/pvm/pvm.ini" </dev/null >>"$TMP/pvm/pvm.log" 2>&1 &
PVM_PIDS="$PVM_PIDS $!"
pvm_wait_port "$FC" 60 "$!" || { bad "pvm-fcgi did not start"; exit 1; }
pvm_nginx_conf "$TMP/front" "$NP" "127.0.0.1:$FC" &&
    pvm_nginx_start "$TMP/front" 10 || { bad "nginx did not start"; exit 1; }
NGINX_DIRS="$NGINX_DIRS $TMP/front"

# q QUERY [START END STEP]: a range query (default 1700000000..+120 by 60)
# through nginx; body in $TMP/out, prints the status
q() {
    curl -s -o "$TMP/out" -m 120 -w '%{http_code}' -G \
        "http://127.0.0.1:$NP/api/v1/query_range" \
        --data-urlencode "query=$1" --data-urlencode "start=${2:-1700000000}" \
        --data-urlencode "end=${3:-1700000120}" --data-urlencode "step=${4:-60}"
}
body() { head -c 300 "$TMP/out"; }
# values: the "values" of the answer, flattened: "t:v t:v ..."
values() {
    grep -o '\[[0-9.]*,"[^"]*"\]' "$TMP/out" | tr -d '[]"' | tr ',' ':' |
        tr '\n' ' '
}

st=$(q 'cpu{host="a"}')
[ "$st" = 200 ] && [ "$(values)" = "1700000000:1 1700000060:2 1700000120:3 " ]
check "JSON, points per series: cpu{host=\"a\"} ($st: $(values))" $?
st=$(q 'sum(cpu)')
[ "$st" = 200 ] && [ "$(values)" = "1700000000:11 1700000060:22 1700000120:33 " ]
check "sum(cpu) over both series ($st: $(values))" $?
st=$(q 'temp{room="kitchen"}' 1700000000 1700000060)
[ "$st" = 200 ] && [ "$(values)" = "1700000000:20.5 1700000060:21 " ]
check "JSON, one object per timestamp (ms): temp{room=\"kitchen\"} ($st: $(values))" $?
st=$(q 'hostcpu{host="b"}' 1700000000 1700000000)
[ "$st" = 200 ] && [ "$(values)" = "1700000000:7 " ] &&
    grep -q 'GET /by-host?host=b ' "$FIX/access.log"
check "{matcher.host} narrows the fetch to host b ($st: $(values))" $?
st=$(q 'postcpu{host="b"}' 1700000000 1700000000)
[ "$st" = 200 ] && [ "$(values)" = "1700000000:7 " ] &&
    grep -q '^POST application/x-www-form-urlencoded host=b&from=[0-9]*$' \
        "$FIX/posted.log"
check "method = POST: the body with {matcher.host} and {start} ($st: $(values); $(tail -n 1 "$FIX/posted.log"))" $?
st=$(q 'postcpu{host="a&from=1"}' 1700000000 1700000000)
[ "$st" = 422 ] && grep -q '"error":".*posted' "$TMP/out" &&
    grep -q '^POST [^ ]* host=a%26from%3D1&from=[0-9]*$' "$FIX/posted.log"
check "a matcher value is percent-encoded in the body, not spliced ($st: $(tail -n 1 "$FIX/posted.log"))" $?
st=$(q 'power{site="so,uth"}' 1700000000 1700000060)
[ "$st" = 200 ] && [ "$(values)" = "1700000060:2.5 " ]
check "CSV export: power{site=\"so,uth\"} ($st: $(values))" $?
st=$(q 'basic_cpu{host="b"}')
[ "$st" = 200 ] && [ "$(values)" = "1700000000:10 1700000060:20 1700000120:30 " ]
check "HTTP Basic auth ($st: $(values))" $?
st=$(q 'bearer_cpu{host="a"}')
[ "$st" = 200 ] && [ "$(values)" = "1700000000:1 1700000060:2 1700000120:3 " ]
check "bearer token ($st: $(values))" $?
n1=$(grep -c 'GET /bearer.json' "$FIX/access.log")
st=$(q 'bearer_cpu{host="b"}')
n2=$(grep -c 'GET /bearer.json' "$FIX/access.log")
[ "$st" = 200 ] && [ "$n1" = "$n2" ]
check "cache_ttl: the same window again is not fetched again ($n1 -> $n2 fetches)" $?
st=$(q 'apikey_cpu{host="a"}')
[ "$st" = 200 ] && [ "$(values)" = "1700000000:1 1700000060:2 1700000120:3 " ]
check "a header = X-Api-Key: ... ($st: $(values))" $?
if [ "$TLS" = 1 ]; then
    st=$(q 'tls_cpu{host="a"}')
    [ "$st" = 200 ] && [ "$(values)" = "1700000000:1 1700000060:2 1700000120:3 " ]
    check "https with ca_file ($st: $(values))" $?
    st=$(q 'tlsbad_cpu')
    [ "$st" = 422 ] && grep -q 'instance tlsbad: GET https://127.0.0.1:[0-9]*/series.json: TLS: ' "$TMP/out"
    check "https with an unknown CA: 422 naming the instance ($st: $(body))" $?
    st=$(q 'tlsskip_cpu{host="b"}')
    [ "$st" = 200 ] && [ "$(values)" = "1700000000:10 1700000060:20 1700000120:30 " ]
    check "https with insecure_skip_verify = yes ($st: $(values))" $?
else
    skip "https (PVM_HTTP_QUICK, or openssl or nginx's ssl module missing)"
fi
st=$(q 'sum(meter_energy_kwh)' 1699999200 1700001000 900)
[ "$st" = 200 ] &&
    [ "$(values)" = "1699999200:19.75 1700000100:20.5 1700001000:13.75 " ]
check "conf/examples/http-json's jq program ($st: $(values))" $?

# err QUERY STATUS TEXT WHAT: an error envelope naming the instance
err() {
    st=$(q "$1")
    [ "$st" = "$2" ] && grep -q '"status":"error"' "$TMP/out" &&
        grep -q "instance $3" "$TMP/out" && grep -q -- "$4" "$TMP/out"
    check "$5 ($st: $(body))" $?
}
err 'wrong_cpu' 422 wrongtoken 'HTTP 401' "a wrong token: 422 naming the instance"
grep -q "hidden-$$" "$TMP/out"
[ $? = 1 ]
check "the error shows no query value of the URL" $?
err 'e500_cpu' 422 e500 'HTTP 500' "HTTP 500: 422 naming the instance and the URL"
t1=$(date +%s)
err 'slow_cpu' 503 slow 'no answer within 1000 ms' "a slow answer past timeout = 1s: 503"
t2=$(date +%s)
[ $((t2 - t1)) -le 15 ]
check "... within a few seconds ($((t2 - t1)) s)" $?
err 'big_cpu' 422 big 'max_response_bytes' "a 50 MB answer over max_response_bytes: 422"
err 'invalid_cpu' 422 invalid 'not valid JSON' "invalid JSON: 422"
err 'wrongt' 422 wrongtypes 'value must be a number' "jq emitting wrong types: 422"
st=$(q 'cpu{host="a"}')
[ "$st" = 200 ]
check "the worker still answers after the errors ($st)" $?

echo "=== discovery"
curl -s -m 60 "http://127.0.0.1:$NP/api/v1/label/__name__/values" >"$TMP/names"
grep -q '"meter_energy_kwh"' "$TMP/names" && grep -q '"power"' "$TMP/names"
check "metric names from the metrics lists ($(head -c 200 "$TMP/names"))" $?

echo "=== no secret in any log"
leaks=$(grep -l -e "$TOKEN" -e "$PASSWORD" "$TMP/pvm/pvm.log" "$TMP/front/"*.log \
    "$FIX/error.log" "$TMP"/*.out 2>/dev/null)
[ -z "$leaks" ]
check "neither the token nor the password is in a log ($leaks)" $?

echo "http.sh: $(($(date +%s) - T0)) s"
