#!/bin/sh
# tests/bench/python_bench.sh [BUILD_DIR]: the python plugin type's
# benchmark (make bench; not part of the test command). On 127.0.0.1,
# servers pinned to CPU 0 and wrk to CPU 1 (taskset), each pvm-fcgi a
# single process (workers = 1) behind nginx (1 worker):
#   c        the C example plugin (plugins/example.c)
#   python   conf/examples/python/waves.py (add_samples, the fast path)
#   sample   the same waves added point by point with add_sample
# Q1 (1 h at 15 s, 12 series: 2,892 points) for BENCH_SECONDS (5) with
# BENCH_CONNS (4) connections: req/s and CPU ms per request of pvm-fcgi;
# the RSS of each pvm-fcgi when idle (started, no request yet) and after
# the run. Writes
# BUILD_DIR/bench/python.md and prints it.
set -u
. "$(dirname "$0")/lib.sh"
pvm_bench_setup "${1:-.}" 4 || exit 1
pvm_bench_begin python_bench.sh 77 wrk taskset curl
"$PVM" --list-plugins 2>/dev/null | grep -q '^python' || {
    echo "python_bench.sh: $PVM has no python type" >&2
    exit 77
}

# The waves added one point per call, as the original's ExamplePlugin.
cat >"$TMP/per_sample.py" <<'EOF'
import math
from waves import TYPES, AMPLITUDES, AMPLITUDE_VALUES, unit_waves


class PerSample:
    metric_name = 'example_metric'

    def on_range_query_request(self, request, response):
        if not request.query.name_matches(self.metric_name):
            return
        add = response.add_sample
        labels = [[{'type': t, 'amplitude': a} for t in TYPES]
                  for a in AMPLITUDES]
        for t in request.timestamps:
            secs = math.fmod(t.timestamp(), 60.0)
            w = unit_waves(secs + 60.0 if secs < 0 else secs)
            for a, scale in enumerate(AMPLITUDE_VALUES):
                for i in range(4):
                    add(self.metric_name, w[i] * scale, t, labels[a][i])
EOF

NOW=$(date +%s)
END=$((NOW - NOW % 3600 - 3600))
Q1="/api/v1/query_range?query=example_metric&start=$((END - 3600))&end=$END&step=15"

# start NAME PLUGIN-SECTION: sets PID_NAME and PORT_NAME.
start() {
    fc=$(pvm_free_port) && np=$(pvm_free_port) || exit 1
    mkdir -p "$TMP/$1" "$TMP/$1-nginx"
    cat >"$TMP/$1/pvm.ini" <<EOF
[server]
listen = 127.0.0.1:$fc
workers = 1
access_log = off

$2
EOF
    taskset -c "$CPU_SERVER" "$PVM" --config "$TMP/$1/pvm.ini" </dev/null \
        >"$TMP/$1/pvm.log" 2>&1 &
    pid=$!
    PIDS="$PIDS $pid"
    pvm_wait_port "$fc" 15 "$pid" || { cat "$TMP/$1/pvm.log"; exit 1; }
    pvm_nginx_conf "$TMP/$1-nginx" "$np" "127.0.0.1:$fc" &&
        pvm_nginx_start "$TMP/$1-nginx" 10 || exit 1
    NGINX_DIRS="$NGINX_DIRS $TMP/$1-nginx"
    eval "PID_$1=$pid PORT_$1=$np"
}

start c "[plugin:waves]
type = example
metric_name = example_metric"
start python "[plugin:waves]
type = python
file = $top_srcdir/conf/examples/python/waves.py
class = Waves
metric_name = example_metric"
start sample "[plugin:waves]
type = python
file = $TMP/per_sample.py
python_path = $top_srcdir/conf/examples/python
class = PerSample"

ROWS=
for s in c python sample; do
    eval "pid=\$PID_$s port=\$PORT_$s"
    idle=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")
    curl -s -o "$TMP/$s.body" "http://127.0.0.1:$port$Q1" || exit 1
    pvm_bench_wrk "http://127.0.0.1:$port$Q1" "" "$pid"
    rps=$RPS_WRK
    cpu=-
    [ "${REQ:-0}" -gt 0 ] && cpu=$(pvm_bench_per_req "$TICKS_1")
    rss=$(awk '/^VmRSS:/{print $2}' "/proc/$pid/status")
    ROWS="$ROWS
| $s | $rps | $cpu | $idle | $rss |"
    eval "CPU_$s=$cpu"
done
cmp -s "$TMP/c.body" "$TMP/python.body" && SAME=yes || SAME=NO
cmp -s "$TMP/c.body" "$TMP/sample.body" && SAME2=yes || SAME2=NO
RATIO=$(awk -v a="$CPU_c" -v b="$CPU_python" 'BEGIN { if (a > 0) printf "%.1f", b / a; else print "-" }')
RATIO2=$(awk -v a="$CPU_c" -v b="$CPU_sample" 'BEGIN { if (a > 0) printf "%.1f", b / a; else print "-" }')
{
    echo "Q1 (1 h at 15 s, 12 series), ${SECS} s, $CONNS connections, pvm-fcgi (workers = 1) and nginx on CPU $CPU_SERVER, wrk on CPU $CPU_CLIENT"
    echo
    echo "| server | req/s | pvm-fcgi CPU ms/request | idle RSS (kB) | RSS after the run (kB) |"
    echo "|---|---|---|---|---|$ROWS"
    echo
    echo "python (add_samples) / c CPU per request: ${RATIO}x; sample (add_sample per point) / c: ${RATIO2}x"
    echo "answers byte-identical to the C example: python $SAME, sample $SAME2"
} >"$OUT/python.md"
cat "$OUT/python.md"
