# tests/bench/lib.sh: the frame the benchmark scripts share (bench.sh,
# heavy.sh and the plugin types' benchmarks). Source it after
# tests/lib/nginx.sh, then call
#   pvm_bench_begin NAME MISSING-STATUS [TOOL...]
# which exits with MISSING-STATUS when a TOOL or nginx is not installed
# (77, or 0 for a benchmark that make bench may skip), sets NGINX_BIN,
# CPU_SERVER (0) and CPU_CLIENT (1; 0 on a single CPU), makes TMP
# (PVM_KEEP_TMP=1 keeps it), PIDS and NGINX_DIRS with the EXIT trap that
# stops them by PID (after pvm_bench_before_cleanup, which a script may
# redefine), and writes TMP/nginx-pinned (nginx on CPU_SERVER),
# exported as PVM_NGINX for pvm_nginx_start. pvm_bench_prometheus (below)
# starts a backfilled Prometheus beside pvm.

pvm_bench_begin() {
    pvm_bench_name=$1
    pvm_bench_missing=$2
    shift 2
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || {
            echo "$pvm_bench_name: $t not installed: skipped" >&2
            exit "$pvm_bench_missing"
        }
    done
    NGINX_BIN=$(pvm_nginx_bin) || exit "$pvm_bench_missing"
    CPU_SERVER=0
    CPU_CLIENT=1
    [ "$(nproc)" -ge 2 ] || CPU_CLIENT=0
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvm-$pvm_bench_name.XXXXXX") || exit 1
    chmod 755 "$TMP"
    PIDS=
    NGINX_DIRS=
    trap pvm_bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    printf '#!/bin/sh\nexec taskset -c %s "%s" "$@"\n' "$CPU_SERVER" \
        "$NGINX_BIN" >"$TMP/nginx-pinned"
    chmod +x "$TMP/nginx-pinned"
    export PVM_NGINX="$TMP/nginx-pinned"
}

# Redefined by a benchmark that starts servers of its own (databases),
# to stop them: runs first in the EXIT trap.
pvm_bench_before_cleanup() {
    :
}

pvm_bench_cleanup() {
    trap - EXIT INT TERM
    pvm_bench_before_cleanup
    for d in $NGINX_DIRS; do pvm_nginx_stop "$d" 10; done
    for p in $PIDS; do pvm_stop_pid "$p" 10; done
    if [ "${PVM_KEEP_TMP:-0}" = 1 ]; then
        echo "$pvm_bench_name: kept $TMP"
    else
        rm -rf "$TMP"
    fi
}

# pvm_bench_cpu_ticks PID...: utime + stime, in clock ticks, of the
# processes and their children.
pvm_bench_cpu_ticks() {
    t=0
    for p in "$@"; do
        for c in $p $(ps -o pid= --ppid "$p" 2>/dev/null); do
            v=$(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null)
            t=$((t + ${v:-0}))
        done
    done
    echo "$t"
}

# pvm_bench_to_ms LATENCY: wrk's "1.23ms" / "456.00us" / "1.2s" in ms.
pvm_bench_to_ms() {
    echo "$1" | awk '/us$/{sub("us","");printf "%.3f",$0/1000;exit}
        /ms$/{sub("ms","");printf "%.2f",$0;exit}
        /s$/{sub("s","");printf "%.1f",$0*1000;exit} {print "?"}'
}

# pvm_bench_prometheus OM DIR [FLAG...]: Prometheus holding the OpenMetrics
# file OM, backfilled with promtool into DIR/data, pinned to CPU_SERVER
# with GOMAXPROCS=1 on a free port, with FLAGs added; waits until it is
# ready and its backfilled blocks are compacted. Sets PROM_PORT and
# PROM_PID and adds the process to PIDS; on a failure PROM_PORT is empty, the log's end is
# printed, and the status is 1.
pvm_bench_prometheus() {
    pvm_bp_om=$1 pvm_bp_dir=$2
    shift 2
    PROM_PORT=
    mkdir -p "$pvm_bp_dir/data"
    if ! promtool tsdb create-blocks-from openmetrics "$pvm_bp_om" \
        "$pvm_bp_dir/data" >"$pvm_bp_dir/promtool.log" 2>&1; then
        echo "$pvm_bench_name: promtool failed:" >&2
        tail -5 "$pvm_bp_dir/promtool.log" >&2
        return 1
    fi
    printf 'global:\n  scrape_interval: 1h\nscrape_configs: []\n' \
        >"$pvm_bp_dir/prometheus.yml"
    pvm_bp_port=$(pvm_free_port) || return 1
    GOMAXPROCS=1 taskset -c "$CPU_SERVER" prometheus \
        --config.file="$pvm_bp_dir/prometheus.yml" \
        --storage.tsdb.path="$pvm_bp_dir/data" \
        --storage.tsdb.retention.time=100y \
        --web.listen-address="127.0.0.1:$pvm_bp_port" "$@" \
        >"$pvm_bp_dir/prometheus.log" 2>&1 &
    pvm_bp_pid=$!
    PIDS="$PIDS $pvm_bp_pid"
    pvm_wait_port "$pvm_bp_port" 30 "$pvm_bp_pid" || {
        tail -5 "$pvm_bp_dir/prometheus.log" >&2
        return 1
    }
    pvm_bp_n=240
    until curl -sf "http://127.0.0.1:$pvm_bp_port/-/ready" >/dev/null; do
        pvm_bp_n=$((pvm_bp_n - 1))
        if [ "$pvm_bp_n" -le 0 ]; then
            echo "$pvm_bench_name: Prometheus not ready after 120 s" >&2
            return 1
        fi
        sleep 0.5
    done
    sleep 5 # the compaction of the backfilled blocks
    PROM_PORT=$pvm_bp_port
    PROM_PID=$pvm_bp_pid
}
