#!/bin/sh
# tests/integration/cache.sh: cacheable answers through a real nginx
# fastcgi_cache (conf/nginx/pvm-nginx-cache.conf.in) on 127.0.0.1 (a
# TESTS entry; nothing is timed). pvm-fcgi-test serves the example plugin
# (a formula: immutable) and openmetrics_file on a file written now (its
# data immutable before its modification time only). A second nginx
# without a cache reaches the same pvm-fcgi, to compare bytes.
#   hit       the second identical GET, and the second identical POST
#             (Grafana's form body), are served by nginx: pvm's /metrics
#             request counter does not move; the cached bytes equal
#             pvm's own answer; another body is another key
#   present   a window reaching the file's modification time, and an
#             instant query of now, are no-store: every request reaches
#             pvm
#   etag      If-None-Match with the ETag gets 304 from pvm and from
#             nginx's cache
#   apache    Apache's mod_cache (conf/apache/pvm-apache.conf.in with
#             -DPVM_CACHE) in front of the same pvm-fcgi: the second GET
#             is a HIT that does not reach pvm, with pvm's bytes; a POST
#             and the mutable present always reach pvm (SKIP without
#             apache2)
# Every request and wait is bounded; processes are stopped by PID.
# Prints "PVM-RESULT: cache: P passed, F failed, S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
pvm_script_begin cache
. "$top_srcdir/tests/lib/apache.sh"
APACHE_DIR=

pvm_script_before_cleanup() {
    [ -n "$APACHE_DIR" ] && pvm_apache_stop "$APACHE_DIR" 10
}

fc=$(pvm_free_port) && NP=$(pvm_free_port) && DP=$(pvm_free_port) || exit 99
mkdir -p "$TMP/pvm" "$TMP/cache-nginx" "$TMP/direct-nginx"
NOW=$(date +%s)
# 20 minutes of a counter up to now, every 15 s
awk -v now="$NOW" 'BEGIN {
    print "# TYPE stored counter"
    for (t = now - 1200; t <= now; t += 15)
        printf "stored_total{job=\"a\"} %d %d\n", (t - now + 1200) / 15, t
    print "# EOF"
}' >"$TMP/pvm/data.om"
cat >"$TMP/pvm/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$fc
workers = 2
cache_max_age = 10m

[plugin:example]

[plugin:stored]
type = openmetrics_file
path = $TMP/pvm/data.om
EOF
"$PVM_BIN" --config "$TMP/pvm/pvm.ini" </dev/null >>"$TMP/pvm/pvm.log" 2>&1 &
PVM_PIDS="$PVM_PIDS $!"
pvm_wait_port "$fc" 10 "$!" || { bad "pvm-fcgi did not start"; exit 1; }
PVM_NGINX_TEMPLATE=$top_srcdir/conf/nginx/pvm-nginx-cache.conf.in \
    pvm_nginx_conf "$TMP/cache-nginx" "$NP" "127.0.0.1:$fc" &&
    pvm_nginx_start "$TMP/cache-nginx" 10 ||
    { bad "caching nginx did not start"; exit 1; }
NGINX_DIRS="$NGINX_DIRS $TMP/cache-nginx"
pvm_nginx_conf "$TMP/direct-nginx" "$DP" "127.0.0.1:$fc" &&
    pvm_nginx_start "$TMP/direct-nginx" 10 ||
    { bad "plain nginx did not start"; exit 1; }
NGINX_DIRS="$NGINX_DIRS $TMP/direct-nginx"

N=0
# req PORT TARGET [BODY] [IF-NONE-MATCH]: GET (POST with BODY) through
# nginx; body in $TMP/bN, headers in $TMP/hN, the status in st.
req() {
    N=$((N + 1))
    set -- "$1" "$2" "${3:-}" "${4:-}"
    if [ -n "$3" ]; then
        st=$(curl -s -m 30 -o "$TMP/b$N" -D "$TMP/h$N" -w '%{http_code}' \
            ${4:+-H "If-None-Match: $4"} --data "$3" "http://127.0.0.1:$1$2")
    else
        st=$(curl -s -m 30 -o "$TMP/b$N" -D "$TMP/h$N" -w '%{http_code}' \
            ${4:+-H "If-None-Match: $4"} "http://127.0.0.1:$1$2")
    fi
}

# hdr NAME: the value of header NAME in the last answer.
hdr() {
    tr -d '\r' <"$TMP/h$N" | awk -v n="$1" 'BEGIN { IGNORECASE = 1 }
        tolower(substr($0, 1, length(n) + 1)) == tolower(n) ":" {
            sub(/^[^:]*: */, ""); print; exit }'
}

# served ROUTE: how many 200 answers pvm counted for /api/v1/ROUTE (its
# /metrics, straight from pvm through the plain nginx).
served() {
    curl -s -m 10 "http://127.0.0.1:$DP/metrics" |
        awk -v h="handler=\"/api/v1/$1\",code=\"200\"" \
            'index($0, h) { n = $NF } END { print n + 0 }'
}

EX=prometheus_virtual_metrics_example_metric
PAST="start=1700000000&end=1700003600&step=15"
Q1="/api/v1/query_range?query=sum%20by%20(type)%20($EX)&$PAST"

echo "=== hit: the second identical request does not reach pvm"
before=$(served query_range)
req "$NP" "$Q1"
[ "$st" = 200 ] && [ "$(hdr X-Cache-Status)" = MISS ] &&
    [ "$(hdr Cache-Control)" = "public, max-age=600" ]
check "a past window: 200, MISS, public, max-age=600" $?
first=$N
etag=$(hdr ETag)
[ "${#etag}" = 34 ]
check "a strong ETag ($etag)" $?
req "$NP" "$Q1"
[ "$st" = 200 ] && [ "$(hdr X-Cache-Status)" = HIT ]
check "the same GET again: HIT" $?
cmp -s "$TMP/b$first" "$TMP/b$N"
check "the cached bytes are the first answer's" $?
[ "$(served query_range)" = $((before + 1)) ]
check "pvm counted one query_range, not two" $?
req "$DP" "$Q1"
cmp -s "$TMP/b$first" "$TMP/b$N" && [ "$(hdr ETag)" = "$etag" ]
check "pvm's own answer (no cache) has the same bytes and ETag" $?

FORM="query=sum%20by%20(type)%20($EX)&$PAST"
before=$(served query_range)
req "$NP" /api/v1/query_range "$FORM"
m1=$(hdr X-Cache-Status)
req "$NP" /api/v1/query_range "$FORM"
[ "$st" = 200 ] && [ "$m1" = MISS ] && [ "$(hdr X-Cache-Status)" = HIT ] &&
    cmp -s "$TMP/b$first" "$TMP/b$N"
check "POST twice (Grafana): MISS then HIT, the same bytes" $?
req "$NP" /api/v1/query_range "query=max($EX)&$PAST"
[ "$(hdr X-Cache-Status)" = MISS ]
check "another POST body is another key (MISS)" $?
[ "$(served query_range)" = $((before + 2)) ]
check "pvm counted the two distinct POSTs only" $?

echo "=== present: what touches the mutable present is never cached"
FROM=$((NOW - 900))
LIVE="/api/v1/query_range?query=rate(stored_total%5B1m%5D)&start=$FROM&end=$((NOW + 60))&step=15"
before=$(served query_range)
req "$NP" "$LIVE"
a=$(hdr X-Cache-Status)
cc=$(hdr Cache-Control)
req "$NP" "$LIVE"
[ "$st" = 200 ] && [ "$cc" = no-store ] && [ "$a" = MISS ] &&
    [ "$(hdr X-Cache-Status)" = MISS ] &&
    [ "$(served query_range)" = $((before + 2)) ]
check "a window past the file's mtime: no-store, both reach pvm" $?
OLD="/api/v1/query_range?query=rate(stored_total%5B1m%5D)&start=$FROM&end=$((NOW - 300))&step=15"
req "$NP" "$OLD"
a=$(hdr X-Cache-Status)
req "$NP" "$OLD"
[ "$st" = 200 ] && [ "$a" = MISS ] && [ "$(hdr X-Cache-Status)" = HIT ] &&
    grep -q '"values":\[\[' "$TMP/b$N"
check "the same file before its mtime: cached (HIT)" $?
before=$(served query)
req "$NP" "/api/v1/query?query=$EX"
cc=$(hdr Cache-Control)
req "$NP" "/api/v1/query?query=$EX"
[ "$cc" = no-store ] && [ "$(hdr X-Cache-Status)" = MISS ] &&
    [ "$(served query)" = $((before + 2)) ]
check "an instant query of now: no-store, both reach pvm" $?

echo "=== etag: If-None-Match"
req "$DP" "$Q1" "" "$etag"
[ "$st" = 304 ] && [ ! -s "$TMP/b$N" ] && [ "$(hdr ETag)" = "$etag" ]
check "pvm answers 304 to its ETag, without a body" $?
req "$DP" "$Q1" "" '"00000000000000000000000000000000"'
[ "$st" = 200 ] && cmp -s "$TMP/b$first" "$TMP/b$N"
check "another ETag: 200 with the answer" $?
req "$NP" "$Q1" "" "$etag"
[ "$st" = 304 ] && [ "$(hdr X-Cache-Status)" = HIT ]
check "nginx's cache answers 304 to the ETag" $?

echo "=== apache: mod_cache in front of the same pvm-fcgi"
if ! pvm_apache_bin >/dev/null 2>&1; then
    skip "apache: apache2 is not installed (apt-get install apache2)"
else
    AP=$(pvm_free_port) || exit 99
    mkdir -p "$TMP/apache"
    if PVM_APACHE_DEFINES=-DPVM_CACHE pvm_apache_conf "$TMP/apache" "$AP" \
        "127.0.0.1:$fc" >>"$TMP/apache.log" 2>&1 &&
        PVM_APACHE_DEFINES=-DPVM_CACHE pvm_apache_start "$TMP/apache" 10 \
            >>"$TMP/apache.log" 2>&1; then
        APACHE_DIR=$TMP/apache
        # Another past window than above: a fresh key for this cache.
        QA="/api/v1/query_range?query=max%20by%20(type)%20($EX)&$PAST"
        before=$(served query_range)
        req "$AP" "$QA"
        a=$(hdr X-Cache)
        afirst=$N
        req "$AP" "$QA"
        [ "$st" = 200 ] && case $a in MISS*) true ;; *) false ;; esac &&
            case $(hdr X-Cache) in HIT*) true ;; *) false ;; esac
        check "the same GET twice: MISS then HIT ($a, $(hdr X-Cache))" $?
        [ "$(served query_range)" = $((before + 1)) ]
        check "pvm counted one query_range, not two" $?
        req "$DP" "$QA"
        cmp -s "$TMP/b$afirst" "$TMP/b$N" && [ -s "$TMP/b$N" ]
        check "Apache's cached bytes are pvm's own answer" $?
        before=$(served query_range)
        req "$AP" /api/v1/query_range "query=max%20by%20(type)%20($EX)&$PAST"
        req "$AP" /api/v1/query_range "query=max%20by%20(type)%20($EX)&$PAST"
        [ "$st" = 200 ] && [ "$(served query_range)" = $((before + 2)) ]
        check "POST is not cached by mod_cache: both reach pvm" $?
        before=$(served query_range)
        req "$AP" "$LIVE"
        req "$AP" "$LIVE"
        [ "$st" = 200 ] && [ "$(hdr Cache-Control)" = no-store ] &&
            [ "$(served query_range)" = $((before + 2)) ]
        check "the mutable present (no-store): both reach pvm" $?
    else
        bad "Apache with -DPVM_CACHE did not start"
        cat "$TMP/apache.log" "$TMP/apache/error.log" 2>/dev/null | tail -n 20
    fi
fi
