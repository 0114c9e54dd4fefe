#!/bin/sh
# tests/integration/federate.sh: pvm in a larger Prometheus setup, with
# the real programs from Debian (a TESTS entry). Starts pvm-fcgi (its
# configuration given by PVM_CONFIG, no -c) behind nginx on 127.0.0.1
# and checks:
#   ops         /-/healthy and /-/ready answer 200 through nginx, and
#               pvm-fcgi --check-config takes PVM_CONFIG (-c wins)
#   prometheus  Prometheus 2.42 scrapes /federate every second
#               (OpenMetrics, honor_labels) and answers a query over the
#               scraped series with pvm's values and metadata
#   vm          vmagent scrapes /federate (text format) and remote-writes
#               into a VictoriaMetrics single node, which returns the
#               series with pvm's values
# Prometheus, vmagent and VictoriaMetrics run side by side in a temporary
# directory, listen on 127.0.0.1 only and are stopped by PID; every wait
# is bounded (about 15 s in all). A missing program skips its part (77
# when all are missing).
# Prints "PVM-RESULT: federate: P passed, F failed, S skipped".
set -u

# The counters ok/bad/skip (PASS, FAIL, SKIP) are tests/lib/script.sh's;
# its pvm_script_begin is not used: the ops checks run without nginx.
. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
PVM_BIN=$top_builddir/pvm-fcgi
PROMETHEUS=${PVM_PROMETHEUS:-$(command -v prometheus 2>/dev/null)}
VMAGENT=${PVM_VMAGENT:-$(command -v vmagent 2>/dev/null)}
VMSINGLE=${PVM_VICTORIA_METRICS:-$(command -v victoria-metrics 2>/dev/null)}
M=prometheus_virtual_metrics_example_metric

pvm_script_need federate "$PVM_BIN"

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    pvm_script_stop
    [ "$FAIL" != 0 ] && [ "$rc" = 0 ] && rc=1
    pvm_test_finish federate.sh "$TMP" "$rc" 30 "$TMP/pvm.log" \
        "$TMP/nginx/error.log" "$TMP/prometheus.log" "$TMP/vmagent.log" \
        "$TMP/vm.log"
}
pvm_script_tmp federate cleanup

# get URL: the body of GET URL (bounded), into $TMP/body; prints nothing.
get() {
    curl -s -m 5 -o "$TMP/body" -w '%{http_code}' "$1" >"$TMP/code" 2>/dev/null
}

# last_sample: "T V" of the last sample in the answer in $TMP/body (a
# matrix: the last [t,"v"] pair of the first series; empty when none).
last_sample() {
    sed -e 's/\]\]}.*//' "$TMP/body" | grep -o '\[[0-9.]*,"[^"]*"' |
        tail -n 1 | sed -e 's/^\[//' -e 's/,"/ /' -e 's/"$//'
}

# pvm_value T: pvm's own value of the sine wave series at time T.
pvm_value() {
    get "$U/api/v1/query?query=$SEL&time=$1" &&
        grep -o '"value":\[[0-9.]*,"[^"]*"' "$TMP/body" |
        sed -e 's/.*,"//' -e 's/"$//'
}

# same A B TOLERANCE: true when the numbers A and B are equal (as
# strings for TOLERANCE 0) or within a relative TOLERANCE.
same() {
    [ "$1" = "$2" ] && return 0
    [ "$3" = 0 ] && return 1
    awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN {
        d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b
        exit !(d <= t * m) }'
}

# ---- pvm-fcgi (PVM_CONFIG) and nginx ----------------------------------------

fport=$(pvm_free_port) && nport=$(pvm_free_port) || exit 99
cat >"$TMP/pvm.ini" <<EOF2
[server]
listen = 127.0.0.1:$fport
workers = 2
[plugin:example]
EOF2
printf '[plugin:example]\n' >"$TMP/other.ini"

out=$(PVM_CONFIG="$TMP/pvm.ini" "$PVM_BIN" --check-config 2>&1)
case "$out" in
*"configuration $TMP/pvm.ini is valid"*) ok "ops: --check-config reads PVM_CONFIG" ;;
*) bad "ops: --check-config with PVM_CONFIG: $out" ;;
esac
out=$(PVM_CONFIG="$TMP/pvm.ini" "$PVM_BIN" -c "$TMP/other.ini" --check-config 2>&1)
case "$out" in
*"configuration $TMP/other.ini is valid"*) ok "ops: -c wins over PVM_CONFIG" ;;
*) bad "ops: -c with PVM_CONFIG: $out" ;;
esac

if ! command -v curl >/dev/null 2>&1 || ! pvm_nginx_bin >/dev/null; then
    echo "federate.sh: curl or nginx missing (tests/deps.sh installs them)"
    SKIP=$((SKIP + 1))
    echo "PVM-RESULT: federate: $PASS passed, $FAIL failed, $SKIP skipped"
    [ "$FAIL" = 0 ] || exit 1
    exit 77
fi

PVM_CONFIG="$TMP/pvm.ini" "$PVM_BIN" >"$TMP/pvm.log" 2>&1 &
PVM_PIDS="$PVM_PIDS $!"
mkdir -p "$TMP/nginx"
NGINX_DIRS=$TMP/nginx
if ! pvm_wait_port "$fport" 10 "$!" ||
    ! pvm_nginx_conf "$TMP/nginx" "$nport" "127.0.0.1:$fport" ||
    ! pvm_nginx_start "$TMP/nginx"; then
    echo "federate.sh: pvm-fcgi or nginx did not start" >&2
    exit 99
fi
U=http://127.0.0.1:$nport
SEL=$M%7Btype%3D%22sine%22%2Camplitude%3D%225%22%7D

get "$U/-/healthy"
[ "$(cat "$TMP/code")" = 200 ] && grep -q "Healthy" "$TMP/body" &&
    ok "ops: /-/healthy 200" || bad "ops: /-/healthy: $(cat "$TMP/code")"
get "$U/-/ready"
[ "$(cat "$TMP/code")" = 200 ] && grep -q "Ready" "$TMP/body" &&
    ok "ops: /-/ready 200" || bad "ops: /-/ready: $(cat "$TMP/code")"
get "$U/federate?match[]=$M"
n=$(grep -c "^$M{" "$TMP/body")
[ "$(cat "$TMP/code")" = 200 ] && [ "$n" = 12 ] &&
    ok "ops: /federate through nginx: 12 series" ||
    bad "ops: /federate through nginx: status $(cat "$TMP/code"), $n series"

# ---- start the scrapers side by side ------------------------------------

SCRAPE="    scrape_interval: 1s
    scrape_timeout: 1s
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]': ['{__name__=\"$M\"}']
    static_configs:
      - targets: ['127.0.0.1:$nport']"

PROM_URL=
if [ -n "$PROMETHEUS" ]; then
    pport=$(pvm_free_port) || exit 99
    cat >"$TMP/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: pvm
$SCRAPE
EOF2
    "$PROMETHEUS" --config.file="$TMP/prometheus.yml" \
        --storage.tsdb.path="$TMP/prom-data" \
        --web.listen-address="127.0.0.1:$pport" \
        >"$TMP/prometheus.log" 2>&1 &
    PVM_PIDS="$PVM_PIDS $!"
    PROM_URL=http://127.0.0.1:$pport
fi

VM_URL=
if [ -n "$VMAGENT" ] && [ -n "$VMSINGLE" ]; then
    vport=$(pvm_free_port) && aport=$(pvm_free_port) || exit 99
    "$VMSINGLE" -storageDataPath="$TMP/vm-data" \
        -httpListenAddr="127.0.0.1:$vport" -search.latencyOffset=1s \
        -retentionPeriod=1d >"$TMP/vm.log" 2>&1 &
    PVM_PIDS="$PVM_PIDS $!"
    cat >"$TMP/vmagent.yml" <<EOF2
scrape_configs:
  - job_name: pvm
$SCRAPE
EOF2
    "$VMAGENT" -promscrape.config="$TMP/vmagent.yml" \
        -remoteWrite.url="http://127.0.0.1:$vport/api/v1/write" \
        -remoteWrite.tmpDataPath="$TMP/vmagent-data" \
        -remoteWrite.flushInterval=1s \
        -httpListenAddr="127.0.0.1:$aport" >"$TMP/vmagent.log" 2>&1 &
    PVM_PIDS="$PVM_PIDS $!"
    VM_URL=http://127.0.0.1:$vport
fi

# wait_series URL NAME: polls URL's /api/v1/query for count(M) until it
# reports the 12 series (up to 20 s).
wait_series() {
    ws_n=40
    while [ "$ws_n" -gt 0 ]; do
        if get "$1/api/v1/query?query=count($M)" &&
            grep -q '"value":\[[0-9.]*,"12"\]' "$TMP/body"; then
            return 0
        fi
        sleep 0.5
        ws_n=$((ws_n - 1))
    done
    echo "     $2 last answered: $(head -c 300 "$TMP/body")"
    return 1
}

# compare URL NAME TOLERANCE: the latest sample of the sine wave stored
# by NAME (raw, with its own timestamp) equals pvm's value at that
# timestamp, within a relative TOLERANCE (0: exactly; VictoriaMetrics
# keeps about 12 significant digits).
compare() {
    get "$1/api/v1/query?query=$SEL%5B30s%5D" || { bad "$2: query failed"; return; }
    ts=$(last_sample)
    if [ -z "$ts" ]; then
        bad "$2: no samples of the sine wave: $(head -c 300 "$TMP/body")"
        return
    fi
    t=${ts% *}
    v=${ts#* }
    pv=$(pvm_value "$t")
    if [ -n "$pv" ] && same "$v" "$pv" "$3"; then
        ok "$2: sample @$t = $v, as pvm serves it ($pv)"
    else
        bad "$2: sample @$t = $v, pvm serves '$pv'"
    fi
}

# ---- Prometheus -----------------------------------------------------------

if [ -n "$PROM_URL" ]; then
    if wait_series "$PROM_URL" prometheus; then
        ok "prometheus: scraped the 12 series from /federate"
        compare "$PROM_URL" prometheus 0
        # honor_labels: pvm's series had no job label; the target's is set
        get "$PROM_URL/api/v1/query?query=count($M%7Bjob%3D%22pvm%22%7D)"
        grep -q '"12"' "$TMP/body" && ok "prometheus: job label of the target" ||
            bad "prometheus: job label: $(head -c 300 "$TMP/body")"
        # the TYPE and HELP lines reached Prometheus' metadata
        get "$PROM_URL/api/v1/metadata?metric=$M"
        grep -q '"type":"gauge","help":"Example waves' "$TMP/body" &&
            ok "prometheus: metadata from # TYPE/# HELP" ||
            bad "prometheus: metadata: $(head -c 300 "$TMP/body")"
        # the scrape used OpenMetrics and found no errors
        get "$PROM_URL/api/v1/targets"
        grep -q '"health":"up"' "$TMP/body" && ok "prometheus: target up" ||
            bad "prometheus: target: $(head -c 400 "$TMP/body")"
    else
        bad "prometheus: the scraped series did not appear"
    fi
else
    skip "prometheus: not installed (apt-get install prometheus)"
fi

# ---- vmagent -> VictoriaMetrics -------------------------------------------

if [ -n "$VM_URL" ]; then
    if wait_series "$VM_URL" victoria-metrics; then
        ok "vm: vmagent scraped /federate into VictoriaMetrics (12 series)"
        compare "$VM_URL" vm 1e-9
    else
        bad "vm: the series did not reach VictoriaMetrics"
    fi
else
    skip "vm: vmagent or victoria-metrics not installed (apt-get install victoria-metrics)"
fi

echo "PVM-RESULT: federate: $PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
