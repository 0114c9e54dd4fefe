#!/bin/sh
# tests/integration/plugins.sh: the shipped plugins through a real nginx on
# 127.0.0.1 (a TESTS entry): basic_auth in front, catch_errors shielding a
# failing instance, openmetrics_file serving a file, and sqlite serving the
# conf/examples/sqlite-demo database (made by its fill.sh). Each check is a
# curl request whose status and body are compared; processes are stopped
# by PID. Prints "PVM-RESULT: plugins: P passed, F failed, S skipped".
set -u

. "$(cd "$(dirname "$0")/../lib" && pwd)/script.sh"
if ! command -v sqlite3 >/dev/null 2>&1; then
    echo "plugins.sh: SKIP: sqlite3 missing (tests/deps.sh installs it)"
    echo "PVM-RESULT: plugins: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
pvm_script_begin plugins
PVM_SCRIPT_LOGS=$TMP/pvm.stderr

# get_check NAME EXPECTED-STATUS NEEDLE CURL-ARGS...
get_check() {
    name=$1 want=$2 needle=$3
    shift 3
    got=$(curl -s -o "$TMP/body" -D "$TMP/head" -w '%{http_code}' \
        --max-time 20 "$@" 2>/dev/null)
    if [ "$got" = "$want" ] && grep -qF -- "$needle" "$TMP/body" "$TMP/head"; then
        ok "$name"
    else
        bad "$name: HTTP $got, wanted $want with '$needle'"
        head -c 600 "$TMP/body"
        echo
    fi
}

# Data: an OpenMetrics file with explicit timestamps (seconds, one with
# milliseconds), and the sqlite demo database.
cat > "$TMP/data.om" <<'OM'
# TYPE room_energy_joules counter
room_energy_joules_total{room="lab"} 10 100.000
room_energy_joules_total{room="lab"} 20 115.001
room_energy_joules_total{room="lab"} 40 130
room_energy_joules_total{room="hall"} 5 100
# EOF
OM
sh "$top_srcdir/conf/examples/sqlite-demo/fill.sh" "$TMP/demo.db" >/dev/null ||
    { echo "plugins.sh: fill.sh failed" >&2; exit 99; }

FPORT=$(pvm_free_port) || exit 99
PORT=$(pvm_free_port) || exit 99
cat > "$TMP/pvm.ini" <<INI
[server]
listen = 127.0.0.1:$FPORT
workers = 1
access_log = off

[plugin:auth]
type = basic_auth
user = grafana:s3cret

[plugin:example]

[plugin:shield]
type = catch_errors
wrap = broken

[plugin:broken]
type = fixture
metric = broken_metric
fail = request

[plugin:file]
type = openmetrics_file
path = $TMP/data.om

[plugin:db]
type = sqlite
database = $TMP/demo.db
metric = room_temperature_celsius
query = SELECT r.ts AS timestamp, r.temperature AS value, r.room, m.floor FROM readings r JOIN rooms m USING (room) WHERE r.ts BETWEEN :start AND :end
labels_query = SELECT room, floor FROM rooms
INI
"$PVM_BIN" --config "$TMP/pvm.ini" 2> "$TMP/pvm.stderr" &
PVM_PIDS=$!
pvm_wait_port "$FPORT" 15 "$PVM_PIDS" || { bad "pvm-fcgi did not start"; exit 1; }
mkdir -p "$TMP/nginx"
NGINX_DIRS=$TMP/nginx
pvm_nginx_conf "$TMP/nginx" "$PORT" "127.0.0.1:$FPORT" "" &&
    pvm_nginx_start "$TMP/nginx" || { bad "nginx did not start"; exit 1; }

U=http://127.0.0.1:$PORT/api/v1
AUTH="-u grafana:s3cret"

# basic_auth: every request hook refuses missing or wrong credentials.
for ep in "query?query=up" "query_range?query=up&start=0&end=60&step=15" \
          "series?match%5B%5D=up" "labels" "label/room/values" \
          "label/__name__/values"; do
    get_check "auth: no credentials /$ep" 401 'WWW-Authenticate: Basic realm="pvm"' "$U/$ep"
    get_check "auth: wrong password /$ep" 401 '"status":"error"' -u grafana:nope "$U/$ep"
done
get_check "auth: right credentials" 200 '"status":"success"' $AUTH "$U/labels"
# The gate (on_request) covers every path, also those that reach no data
# hook: queries without selectors, the static endpoints and /metrics.
B=http://127.0.0.1:$PORT
for ep in "api/v1/query?query=vector(1)" "api/v1/query?query=time()" \
          "api/v1/query_range?query=vector(1)&start=0&end=60&step=15" \
          "metrics" "api/v1/status/buildinfo" "api/v1/format_query?query=up" \
          "api/v1/parse_query?query=up" "api/v1/query_exemplars?query=up" \
          "api/v1/rules" "api/v1/alerts" "api/v1/metadata"; do
    get_check "gate: no credentials /$ep" 401 'WWW-Authenticate: Basic realm="pvm"' "$B/$ep"
    get_check "gate: right credentials /$ep" 200 '200' $AUTH "$B/$ep"
done
get_check "gate: vector(1) needs credentials (POST)" 401 '"errorType":"unauthorized"' \
    --data-urlencode 'query=vector(1)' "$U/query"
get_check "gate: vector(1) with credentials (POST)" 200 '"value":[' $AUTH \
    --data-urlencode 'query=vector(1)' "$U/query"
get_check "gate: unknown path without credentials" 401 'WWW-Authenticate' "$B/nope"
get_check "gate: unknown path with credentials" 404 'not_found' $AUTH "$B/nope"
# A 401 is logged at info level, never as a plugin error.
if grep -q 'info: plugin auth: on_request answered 401' "$TMP/pvm.stderr" &&
   ! grep -q 'error: plugin auth' "$TMP/pvm.stderr"; then
    ok "gate: 401 logged at info level"
else
    bad "gate: 401 not logged at info level"
    grep 'plugin auth' "$TMP/pvm.stderr" | head -5
fi

# openmetrics_file: raw samples, exact milliseconds.
get_check "openmetrics: range selector keeps raw timestamps" 200 \
    '[115.001,"20"]' $AUTH "$U/query?query=room_energy_joules_total%7Broom%3D%22lab%22%7D%5B1m%5D&time=130"
get_check "openmetrics: instant value within lookback" 200 \
    '"value":[200,"40"]' $AUTH "$U/query?query=room_energy_joules_total%7Broom%3D%22lab%22%7D&time=200"
get_check "openmetrics: metric names" 200 'room_energy_joules_total' \
    $AUTH "$U/label/__name__/values"

# catch_errors: the failing instance becomes a warning, the data stays.
get_check "catch_errors: warning names plugin and hook" 200 \
    'raised while running broken.on_instant_query_request()' \
    $AUTH "$U/query?query=room_energy_joules_total&time=200"
get_check "catch_errors: other plugins' data still there" 200 \
    '"room":"hall"' $AUTH "$U/query?query=room_energy_joules_total&time=200"

# sqlite: the demo database charts and is discoverable.
now=$(date +%s)
get_check "sqlite: range query charts the demo" 200 '"resultType":"matrix"' \
    $AUTH "$U/query_range?query=avg%20by%20(floor)%20(room_temperature_celsius)&start=$((now - 3600))&end=$now&step=300"
get_check "sqlite: a series per floor" 200 '"floor":"second"' \
    $AUTH "$U/query_range?query=avg%20by%20(floor)%20(room_temperature_celsius)&start=$((now - 3600))&end=$now&step=300"
get_check "sqlite: metric listed" 200 'room_temperature_celsius' \
    $AUTH "$U/label/__name__/values"
get_check "sqlite: label names" 200 '"floor"' $AUTH "$U/labels"
get_check "sqlite: label values" 200 '"kitchen"' $AUTH "$U/label/room/values"

# The PromQL engine through nginx, on the example plugin: four sums by
# type; the sawtooth's rate equals its slope (amplitude 10: 10/60 per
# second) for windows inside one period (a [1m] window of a 60 s sawtooth
# always holds a wrap, where Prometheus' counter-reset rules apply).
E=prometheus_virtual_metrics_example_metric
get_check "engine: sum by (type) gives 4 series" 200 '"type":"square"},"values":[[0,"16"],[15,"16"],[30,"-16"],[45,"-16"],[60,"16"]]' \
    $AUTH "$U/query_range?query=sum%20by%20(type)%20($E)&start=0&end=60&step=15"
n=$(grep -o '"metric":' "$TMP/body" | wc -l)
if [ "$n" = 4 ]; then ok "engine: exactly 4 series";
else bad "engine: $n series instead of 4"; fi
for t in 3645 3650 3655; do
    get_check "engine: rate of the sawtooth at $t is its slope" 200 \
        "[$t,\"0.1666666666666666" \
        $AUTH "$U/query_range?query=rate($E%7Btype%3D%22sawtooth%22,amplitude%3D%2210%22%7D%5B30s%5D)&start=3645&end=3655&step=5"
done
