#!/bin/sh
# tests/integration/remote_read.sh: Debian's Prometheus (2.42) reading
# pvm's series through remote read (a TESTS entry). Starts
# tests/pvm-fcgi-test (the example plugin) behind nginx and a Prometheus
# with a remote_read section pointing at pvm's POST /api/v1/read
# (read_recent: true, no scrapes), all on 127.0.0.1 in a temporary
# directory; then `promtool query instant` and `promtool query range`
# against Prometheus must print the values pvm's own query API prints for
# the same queries at the same times. Also, with remote_read_client: a
# copy of 15 minutes of pvm's series, stored in Prometheus' TSDB under
# another name, must come back from Prometheus' own /api/v1/read as the
# very XOR chunks pvm streams (STREAMED_XOR_CHUNKS). Everything is stopped
# by PID; every wait is bounded (the whole script takes ~10 s).
# Prints "PVM-RESULT: remote_read: P passed, F failed, S skipped"; exits
# 77 (skip) without prometheus/promtool.
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
CLIENT=$top_builddir/tests/integration/remote_read_client
PROMETHEUS=${PVM_PROMETHEUS:-$(command -v prometheus 2>/dev/null)}
PROMTOOL=${PVM_PROMTOOL:-$(command -v promtool 2>/dev/null)}
M=prometheus_virtual_metrics_example_metric

if [ -z "$PROMETHEUS" ] || [ -z "$PROMTOOL" ]; then
    echo "remote_read.sh: prometheus/promtool not installed (apt-get install prometheus): skipped"
    echo "PVM-RESULT: remote_read: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
pvm_script_begin remote_read "$CLIENT"
PVM_SCRIPT_LOGS="$TMP/pvm.stderr $TMP/prometheus.log"
PVM_PID=
PROM_PID=

# Sanitizer builds report leaks at exit: stop everything (the frame's
# own stops then find nothing left), then look at pvm-fcgi's log.
pvm_script_before_cleanup() {
    pvm_stop_pid "$PROM_PID" 10
    pvm_nginx_stop "$TMP/nginx" 10
    pvm_stop_pid "$PVM_PID" 10
    if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
        "$TMP/pvm.stderr" 2>/dev/null; then
        bad "remote_read.sh: sanitizer reports in the pvm-fcgi log"
    fi
}

FCGI_PORT=$(pvm_free_port) || exit 99
HTTP_PORT=$(pvm_free_port) || exit 99
PROM_PORT=$(pvm_free_port) || exit 99
PVM_URL=http://127.0.0.1:$HTTP_PORT
PROM_URL=http://127.0.0.1:$PROM_PORT

cat >"$TMP/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$FCGI_PORT
log_level = info
workers = 2

[plugin:example]
EOF
"$PVM_BIN" --config "$TMP/pvm.ini" </dev/null >"$TMP/pvm.stdout" \
    2>"$TMP/pvm.stderr" &
PVM_PID=$!
pvm_wait_port "$FCGI_PORT" 10 "$PVM_PID" || exit 1
mkdir -p "$TMP/nginx"
pvm_nginx_conf "$TMP/nginx" "$HTTP_PORT" "127.0.0.1:$FCGI_PORT" || exit 1
pvm_nginx_start "$TMP/nginx" 10 || exit 1

# A copy of 15 minutes of pvm's series (61 samples each, one TSDB chunk)
# in Prometheus' own storage under another name, placed in the middle of
# a 2 h block three hours back: Prometheus must serve exactly pvm's XOR
# chunks for them (the last check below).
e=$(( ( $(date +%s) - 3 * 3600 ) / 7200 * 7200 + 3600 ))
COPY_END=$((e * 1000))
COPY_START=$((COPY_END - 900000))
"$CLIENT" "$HTTP_PORT" export pvm_copy "$COPY_START" "$COPY_END" \
    "__name__=$M" >"$TMP/copy.om" || exit 1
timeout 60 "$PROMTOOL" tsdb create-blocks-from openmetrics "$TMP/copy.om" \
    "$TMP/data" >"$TMP/create-blocks.log" 2>&1 || {
    cat "$TMP/create-blocks.log" >&2
    exit 1
}

cat >"$TMP/prometheus.yml" <<EOF
# No scrapes: every sample comes from pvm through remote read.
global:
  evaluation_interval: 1h
remote_read:
  - url: $PVM_URL/api/v1/read
    read_recent: true
    remote_timeout: 10s
EOF
"$PROMETHEUS" --config.file="$TMP/prometheus.yml" \
    --storage.tsdb.path="$TMP/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" \
    --web.console.templates="$TMP" --web.console.libraries="$TMP" \
    </dev/null >"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
pvm_wait_port "$PROM_PORT" 20 "$PROM_PID" || exit 1
# Ready once its storage is open (/-/ready answers 200), bounded.
i=0
until curl -fsS "$PROM_URL/-/ready" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 100 ] || ! kill -0 "$PROM_PID" 2>/dev/null; then
        echo "remote_read.sh: Prometheus did not become ready" >&2
        exit 1
    fi
    sleep 0.1
done

# Both outputs sorted: pvm and Prometheus list series in their own order.
PVM_PT_SORT=1
. "$top_srcdir/tests/lib/promtool.sh"

# Times a few minutes back on a 15 s grid (the grid of pvm's fetches and
# of the range queries' steps), so both sides sample the same instants.
now=$(date +%s)
t=$(( (now - 300) / 15 * 15 ))
start=$((t - 600))

same "instant, all 12 series" instant "--time=$t" "$M"
same "instant, one series off the grid" instant "--time=$((t - 7))" \
    "$M{type=\"sine\",amplitude=\"5\"}"
same "instant, regex and negative matchers" instant "--time=$t" \
    "$M{type=~\"s.*\",amplitude!=\"1\"}"
# A range of 65 s, not 60: pvm evaluates ranges left-open (Prometheus 3),
# Prometheus 2.42 closed, so a sample exactly at t - range would count
# for one side only.
same "instant, rate over 65s" instant "--time=$t" \
    "rate($M{type=\"sawtooth\"}[65s])"
same "range, 1m step, increase over 65s" range \
    "--start=$start --end=$t --step=1m" "increase($M{type=\"sine\"}[65s])"
same "instant, offset" instant "--time=$t" "$M{type=\"cosine\"} offset 2m"
same "instant, sum by type" instant "--time=$t" "sum by (type) ($M)"
same "range, 15s step" range "--start=$start --end=$t --step=15s" \
    "$M{amplitude=\"10\"}"
same "range, 1m step, max_over_time" range \
    "--start=$start --end=$t --step=1m" "max_over_time($M{type=\"cosine\"}[2m])"
same "range, nothing matches" range "--start=$start --end=$t --step=1m" \
    "$M{type=\"triangle\"} or vector(1)"

# Prometheus really asked pvm (nginx's access log shows the reads).
n=$(grep -c 'POST /api/v1/read HTTP' "$TMP/nginx/access.log" 2>/dev/null)
if [ "${n:-0}" -ge 10 ]; then
    ok "Prometheus sent $n remote-read requests to pvm"
else
    bad "Prometheus sent ${n:-0} remote-read requests to pvm, expected >= 10"
fi

# ... and pvm counted them under their own handler on /metrics.
n=$(curl -fsS --max-time 10 "$PVM_URL/metrics" 2>/dev/null |
    sed -n 's/^pvm_http_requests_total{handler="\/api\/v1\/read",code="200"} //p')
if [ "${n:-0}" -ge 10 ]; then
    ok "pvm_http_requests_total{handler=\"/api/v1/read\",code=\"200\"} = $n"
else
    bad "pvm_http_requests_total{handler=\"/api/v1/read\",code=\"200\"} = ${n:-none}, expected >= 10"
fi

# STREAMED_XOR_CHUNKS: pvm's chunks of the copied window are byte for byte
# the chunks Prometheus' TSDB stores for the same samples.
if "$CLIENT" "$PROM_PORT" chunks "$COPY_START" "$COPY_END" \
    "__name__=pvm_copy" >"$TMP/prom.chunks" 2>"$TMP/prom.chunks.err" &&
    "$CLIENT" "$HTTP_PORT" chunks "$COPY_START" "$COPY_END" \
        "__name__=$M" >"$TMP/pvm.chunks" 2>"$TMP/pvm.chunks.err"; then
    n=$(wc -l <"$TMP/pvm.chunks")
    if [ "$n" = 12 ] && cmp -s "$TMP/prom.chunks" "$TMP/pvm.chunks"; then
        ok "XOR chunks of 12 series identical to Prometheus' TSDB chunks"
    else
        bad "XOR chunks differ from Prometheus' ($n series from pvm)"
        diff "$TMP/prom.chunks" "$TMP/pvm.chunks" | cut -c 1-200 |
            head -n 8 | sed 's/^/     /'
    fi
else
    bad "remote_read_client chunks failed"
    cat "$TMP/prom.chunks.err" "$TMP/pvm.chunks.err" | sed 's/^/     /'
fi
