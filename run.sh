#!/bin/sh
# run.sh: install what is missing, build, and run pvm-fcgi (conf/pvm.ini,
# the example plugin) behind nginx on 127.0.0.1:${PORT:-9090}, both in the
# foreground. Ctrl-C stops both.
#   ./run.sh                 port 9090
#   PORT=8080 ./run.sh       another port
#   PVM_CONFIG=my.ini ./run.sh   another pvm.ini (its listen is overridden)
set -u
cd "$(dirname "$0")" || exit 1
. ./tests/deps.sh
. ./tests/lib/nginx.sh

PORT=${PORT:-9090}
CONFIG=${PVM_CONFIG:-conf/pvm.ini}

pvm_install_deps $PVM_BUILD_PKGS || exit 1
echo "building (log: build/make.log)..."
pvm_build build || exit 1

TMP=$(mktemp -d /tmp/pvm-run.XXXXXX)
FCGI="unix:$TMP/pvm.sock"
build/pvm-fcgi --config "$CONFIG" --check-config >/dev/null || {
    build/pvm-fcgi --config "$CONFIG" --check-config; exit 1; }

cleanup() {
    trap - INT TERM EXIT
    pvm_nginx_stop "$TMP" 2>/dev/null
    [ -n "${PVM_PID:-}" ] && kill "$PVM_PID" 2>/dev/null && wait "$PVM_PID" 2>/dev/null
    rm -rf "$TMP"
    echo "stopped."
}
trap cleanup INT TERM EXIT

build/pvm-fcgi --config "$CONFIG" --listen "$FCGI" &
PVM_PID=$!
i=0
while [ ! -S "$TMP/pvm.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$PVM_PID" 2>/dev/null || { echo "pvm-fcgi did not start" >&2; exit 1; }
pvm_nginx_conf "$TMP" "$PORT" "$FCGI" "" || exit 1
pvm_nginx_start "$TMP" || { cat "$TMP/error.log" >&2; exit 1; }

URL="http://127.0.0.1:$PORT"
cat <<EOT

pvm-fcgi is serving the Prometheus API through nginx at $URL

Try:
  curl -s $URL/api/v1/query_range -d query=prometheus_virtual_metrics_example_metric -d start=0 -d end=60 -d step=15
  curl -s '$URL/api/v1/label/__name__/values'

Grafana: add a data source of type "Prometheus" with the URL $URL
(Connections > Data sources > Add > Prometheus; "Save & test").

Ctrl-C stops pvm-fcgi and nginx.
EOT
wait "$PVM_PID"
