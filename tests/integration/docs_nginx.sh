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

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
pvm_script_begin docs_nginx
PVM_SCRIPT_LOGS=$TMP/pvm.stderr

# get_check NAME EXPECTED-STATUS NEEDLE URL
get_check() {
    got=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 20 "$4" \
        2>/dev/null)
    if [ "$got" = "$2" ] && grep -qF -- "$3" "$TMP/body"; then
        ok "$1"
    else
        bad "$1: HTTP $got, wanted $2 with '$3'"
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
PVM_PIDS=$!
pvm_wait_port "$FPORT" 15 "$PVM_PIDS" || { bad "pvm-fcgi did not start"; exit 1; }

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
    grep -q 'server {' "$file" || { bad "$name: no server block found"; return; }
    dir=$TMP/nginx-$name
    mkdir -p "$dir"
    NGINX_DIRS="$NGINX_DIRS $dir"
    port=$(pvm_free_port) || return
    pvm_nginx_conf "$dir" "$port" "127.0.0.1:$FPORT" "" || {
        bad "$name: template"; return
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
        bad "$name: nginx -t refuses the sample"
        cat "$dir/nginx-t.log"; return
    }
    pvm_nginx_start "$dir" || { bad "$name: nginx"; return; }
    B=http://127.0.0.1:$port
    get_check "$name: the API answers" 200 '"status":"success"' \
        "$B/api/v1/query?query=vector(1)"
    get_check "$name: /metrics is exposed (docs: scrape it there)" 200 \
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
        bad "README: no sh block under 'Querying it'"; return
    }
    while IFS= read -r cmd; do
        case $cmd in
        curl*) want='"status":"success"' ;;
        promtool*)
            command -v promtool >/dev/null 2>&1 || {
                skip "README: $cmd (no promtool)"; continue
            }
            want='prometheus_virtual_metrics_example_metric{' ;;
        *) continue ;;
        esac
        if timeout 20 sh -c "$cmd" >"$TMP/readme.out" 2>&1 </dev/null &&
            grep -qF -- "$want" "$TMP/readme.out"; then
            ok "README: $cmd"
        else
            bad "README: $cmd: wanted '$want' in:"
            head -c 300 "$TMP/readme.out"
            echo
        fi
    done <"$TMP/readme.sh"
}

run_sample docs "$TMP/sample-docs.conf"
run_sample pvm.conf "$TMP/sample-pvm.conf"
