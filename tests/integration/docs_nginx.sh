#!/bin/sh
# tests/integration/docs_nginx.sh: the nginx configurations we tell users
# to copy do what the docs say (a TESTS entry). Takes the server block of
# the first ```nginx sample under "## nginx" in docs/deployment.md and
# conf/nginx/pvm.conf as they are, changes only where they listen and
# where pvm-fcgi is (listen, fastcgi_pass, the fastcgi_params path), runs
# each in a real nginx on 127.0.0.1 in front of pvm-fcgi, and checks that
# the API answers and that /metrics, which the docs say to scrape through
# the web server, is exposed; behind conf/nginx/pvm.conf, the README's
# "Querying it" commands work as pasted. Prints
# "PVM-RESULT: docs_nginx: P passed, F failed, S skipped".
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
. "$top_srcdir/tests/lib/nginx.sh"

PVM_BIN=$top_builddir/tests/pvm-fcgi-test
PASS=0
FAIL=0
SKIP=0
[ -x "$PVM_BIN" ] || { echo "docs_nginx.sh: $PVM_BIN missing" >&2; exit 99; }
command -v curl >/dev/null 2>&1 || {
    echo "docs_nginx.sh: SKIP: curl missing (./test.sh installs it)"
    exit 77
}
pvm_nginx_bin >/dev/null || { echo "docs_nginx.sh: SKIP: nginx missing"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvm-docs-nginx.XXXXXX") || exit 99
chmod 755 "$TMP"
PVM_PID=
cleanup() {
    rc=$?
    trap - EXIT INT TERM
    for d in "$TMP"/nginx-*; do
        [ -d "$d" ] && pvm_nginx_stop "$d" 2>/dev/null
    done
    [ -n "$PVM_PID" ] && pvm_stop_pid "$PVM_PID"
    [ "$FAIL" != 0 ] && [ "$rc" = 0 ] && rc=1
    pvm_test_finish docs_nginx.sh "$TMP" "$rc" 40 "$TMP/pvm.stderr" \
        "$TMP"/nginx-*/error.log
}
trap cleanup EXIT INT TERM

check() { # NAME EXPECTED-STATUS NEEDLE URL
    got=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 20 "$4" \
        2>/dev/null)
    if [ "$got" = "$2" ] && grep -qF -- "$3" "$TMP/body"; then
        PASS=$((PASS + 1))
        echo "ok   $1"
    else
        FAIL=$((FAIL + 1))
        echo "FAIL $1: HTTP $got, wanted $2 with '$3'"
        head -c 300 "$TMP/body"
        echo
    fi
}

FPORT=$(pvm_free_port) || exit 99
cat > "$TMP/pvm.ini" <<INI
[server]
listen = 127.0.0.1:$FPORT
workers = 2
access_log = off

[plugin:example]
INI
"$PVM_BIN" --config "$TMP/pvm.ini" 2> "$TMP/pvm.stderr" &
PVM_PID=$!
pvm_wait_port "$FPORT" 15 "$PVM_PID" || { FAIL=1; echo "pvm-fcgi did not start"; exit 1; }

# The server block of the first ```nginx block after "## nginx".
awk '/^## nginx/ { sec = 1; next }
     /^## / { sec = 0 }
     sec && !done && /^```nginx/ { inblock = 1; next }
     inblock && /^```/ { inblock = 0; done = 1; next }
     inblock { print }' "$top_srcdir/docs/deployment.md" > "$TMP/sample-docs.conf"
cp "$top_srcdir/conf/nginx/pvm.conf" "$TMP/sample-pvm.conf"

# run_sample NAME FILE: the sample's server block in a complete nginx.conf
# (the test template's global part: pid, logs, temp paths), then checks.
run_sample() {
    name=$1 file=$2
    grep -q 'server {' "$file" || {
        FAIL=$((FAIL + 1)); echo "FAIL $name: no server block found"; return
    }
    dir=$TMP/nginx-$name
    mkdir -p "$dir"
    port=$(pvm_free_port) || return
    pvm_nginx_conf "$dir" "$port" "127.0.0.1:$FPORT" "" || {
        FAIL=$((FAIL + 1)); echo "FAIL $name: template"; return
    }
    # Keep the template up to its server block, then the sample, then
    # close the http block.
    sed -n '/^    server {/q;p' "$dir/nginx.conf" > "$dir/head.conf"
    sed -e '/^[[:space:]]*listen[[:space:]]/d' \
        -e "0,/server {/s|server {|server {\n    listen 127.0.0.1:$port;|" \
        -e "s|fastcgi_pass [^;]*;|fastcgi_pass 127.0.0.1:$FPORT;|" \
        -e "s|include fastcgi_params;|include $dir/fastcgi_params;|" \
        "$file" > "$dir/server.conf"
    { cat "$dir/head.conf" "$dir/server.conf"; echo "}"; } > "$dir/nginx.conf"
    "$(pvm_nginx_bin)" -t -q -p "$dir" -c "$dir/nginx.conf" \
        -e "$dir/error.log" > "$dir/nginx-t.log" 2>&1 || {
        FAIL=$((FAIL + 1)); echo "FAIL $name: nginx -t refuses the sample"
        cat "$dir/nginx-t.log"; return
    }
    pvm_nginx_start "$dir" || { FAIL=$((FAIL + 1)); echo "FAIL $name: nginx"; return; }
    B=http://127.0.0.1:$port
    check "$name: the API answers" 200 '"status":"success"' \
        "$B/api/v1/query?query=vector(1)"
    check "$name: /metrics is exposed (docs: scrape it there)" 200 \
        'pvm_http_requests_total' "$B/metrics"
    [ "$name" = pvm.conf ] && readme_queries "$port"
    pvm_nginx_stop "$dir"
}

# readme_queries PORT: each command of the README's "Querying it" block
# (continuation lines joined), run as a user would paste it with its
# 127.0.0.1:9090 turned into PORT: a curl answers success, promtool
# prints example samples (skipped, counted, without promtool).
readme_queries() {
    awk '/^## Querying it/ { sec = 1; next }
         /^## / { sec = 0 }
         sec && !done && /^```sh/ { inblock = 1; next }
         inblock && /^```/ { inblock = 0; done = 1; next }
         inblock && /\\$/ { sub(/\\$/, ""); line = line $0; next }
         inblock { print line $0; line = "" }' "$top_srcdir/README.md" |
        sed "s/127\.0\.0\.1:9090/127.0.0.1:$1/g" >"$TMP/readme.sh"
    [ -s "$TMP/readme.sh" ] || {
        FAIL=$((FAIL + 1)); echo "FAIL README: no sh block under 'Querying it'"; return
    }
    while IFS= read -r cmd; do
        case $cmd in
        curl*) want='"status":"success"' ;;
        promtool*)
            command -v promtool >/dev/null 2>&1 || {
                SKIP=$((SKIP + 1)); echo "skip README: $cmd (no promtool)"; continue
            }
            want='prometheus_virtual_metrics_example_metric{' ;;
        *) continue ;;
        esac
        if timeout 20 sh -c "$cmd" >"$TMP/readme.out" 2>&1 </dev/null &&
            grep -qF -- "$want" "$TMP/readme.out"; then
            PASS=$((PASS + 1))
            echo "ok   README: $cmd"
        else
            FAIL=$((FAIL + 1))
            echo "FAIL README: $cmd: wanted '$want' in:"
            head -c 300 "$TMP/readme.out"
            echo
        fi
    done <"$TMP/readme.sh"
}

run_sample docs "$TMP/sample-docs.conf"
run_sample pvm.conf "$TMP/sample-pvm.conf"

echo "PVM-RESULT: docs_nginx: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
