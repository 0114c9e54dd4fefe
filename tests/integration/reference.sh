#!/bin/sh
# tests/integration/reference.sh: checks the integration tests themselves
# against the reference, a real Prometheus (Debian's 2.42, package
# prometheus) holding the same data as the test plugins (example_metric
# a/b, the 12 example series, fixture_special_metric), on 127.0.0.1.
# Not part of `make check`: run it by hand after changing a test
#   tests/integration/reference.sh [BUILDDIR]     (default: ./build)
# Expected failures, all features newer than Prometheus 2.42 or specific
# to pvm: test_label_values_escaped_name, test_label_values_limit,
# test_parse_query, test_warnings_infos, test_err_negative_limit,
# test_err_unknown_path, test_err_methods, test_err_body_too_large
# (plugin failure/forbid tests skip). The replay and promtool.sh must pass.
set -u

top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-build}" && pwd) || exit 2
. "$top_srcdir/tests/lib/nginx.sh"
command -v prometheus >/dev/null 2>&1 || {
    echo "reference.sh: prometheus not installed (apt-get install prometheus)" >&2
    exit 2
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvm-ref.XXXXXX") || exit 2
PROM_PID=
trap 'pvm_stop_pid "$PROM_PID" 10; rm -rf "$TMP"' EXIT

now=$(date +%s)
awk -v now="$now" 'BEGIN {
    n = 0
    for (t = 0; t <= 11100; t += 15) ts[n++] = t
    for (t = int((now - 7200) / 15) * 15; t <= now + 600; t += 15) ts[n++] = t
    print "# TYPE example_metric gauge"
    for (i = 0; i < n; i++) printf "example_metric{type=\"a\"} %d %d\n", int(ts[i] / 15) % 10, ts[i]
    for (i = 0; i < n; i++) printf "example_metric{type=\"b\"} 2 %d\n", ts[i]
    print "# TYPE prometheus_virtual_metrics_example_metric gauge"
    split("sine cosine square sawtooth", ty, " ")
    split("1 5 10", am, " ")
    for (a = 1; a <= 4; a++) for (b = 1; b <= 3; b++) for (i = 0; i < n; i++)
        printf "prometheus_virtual_metrics_example_metric{type=\"%s\",amplitude=\"%s\"} %s %d\n", ty[a], am[b], am[b], ts[i]
    print "# TYPE fixture_special_metric gauge"
    split("nan:NaN pos_inf:+Inf neg_inf:-Inf", sp, " ")
    for (s = 1; s <= 3; s++) {
        split(sp[s], kv, ":")
        for (i = 0; i < n; i++) printf "fixture_special_metric{type=\"%s\"} %s %d\n", kv[1], kv[2], ts[i]
    }
    print "# EOF"
}' >"$TMP/data.om"
promtool tsdb create-blocks-from openmetrics "$TMP/data.om" "$TMP/data" >/dev/null || exit 2
printf 'global:\n  scrape_interval: 15s\n' >"$TMP/prom.yml"
PORT=$(pvm_free_port) || exit 2
prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/data" \
    --storage.tsdb.retention.time=200y --web.listen-address="127.0.0.1:$PORT" \
    >"$TMP/prom.log" 2>&1 &
PROM_PID=$!
pvm_wait_port "$PORT" 30 "$PROM_PID" || { cat "$TMP/prom.log"; exit 2; }
# The TSDB loads its blocks after the port opens: wait for the data.
i=0
while [ $i -lt 100 ] && ! timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; printf 'GET /api/v1/query?query=example_metric&time=60 HTTP/1.0\r\n\r\n' >&3; cat <&3" | grep -q '"a"'; do
    sleep 0.2
    i=$((i + 1))
done

echo "=== test_api against Prometheus on 127.0.0.1:$PORT"
PVM_TEST_PORT=$PORT "$BUILD/tests/integration/test_api"
echo "=== test_grafana_replay (strict) against Prometheus"
PVM_TEST_PORT=$PORT PVM_REPLAY_STRICT=1 top_srcdir=$top_srcdir \
    "$BUILD/tests/integration/test_grafana_replay"
echo "=== promtool.sh against Prometheus"
# (its value checks need the example plugin's waves at every timestamp;
# this Prometheus holds constants at 15 s: skipped)
PVM_PROMTOOL_VALUES=0 \
    sh "$top_srcdir/tests/integration/promtool.sh" "http://127.0.0.1:$PORT"
