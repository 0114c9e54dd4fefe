# tests/bench/lib.sh: the frame the benchmark scripts share (bench.sh,
# heavy.sh and the plugin types' benchmarks). A script in tests/bench/
# starts with
#   set -u
#   . "$(dirname "$0")/lib.sh"
#   pvm_bench_setup "${1:-.}" [CONNS] || exit 1
# (below: top_srcdir, build, PVM, OUT, SECS, CONNS and tests/lib/nginx.sh),
# then calls
#   pvm_bench_begin NAME MISSING-STATUS [TOOL...]
# which exits with MISSING-STATUS when a TOOL or nginx is not installed
# (77, or 0 for a benchmark that make bench may skip), sets NGINX_BIN,
# CPU_SERVER (0) and CPU_CLIENT (1; 0 on a single CPU), makes TMP
# (PVM_KEEP_TMP=1 keeps it), PIDS and NGINX_DIRS with the EXIT trap that
# stops them by PID (after pvm_bench_before_cleanup, which a script may
# redefine), and writes TMP/nginx-pinned (nginx on CPU_SERVER),
# exported as PVM_NGINX for pvm_nginx_start. pvm_bench_prometheus (below)
# starts a backfilled Prometheus beside pvm, pvm_bench_start_pvm a pinned
# pvm-fcgi behind nginx, pvm_bench_static_nginx a static file server, and
# pvm_bench_wrk makes one measured wrk run.

# pvm_bench_setup BUILD_DIR [CONNS]: the common preamble of a script in
# tests/bench/ (run as sh tests/bench/SCRIPT: $0 is its path). Sets
# top_srcdir (exported: the source tree, two levels above the script),
# build (BUILD_DIR made absolute), PVM ($build/pvm-fcgi), OUT
# ($build/bench, made), SECS (BENCH_SECONDS, default 5: seconds per wrk
# run) and CONNS (BENCH_CONNS, default CONNS or 16: wrk connections), and
# sources tests/lib/nginx.sh. Status 1 when BUILD_DIR is not a directory.
pvm_bench_setup() {
    top_srcdir=$(cd "$(dirname "$0")/../.." && pwd) || return 1
    build=$(cd "$1" && pwd) || return 1
    export top_srcdir
    . "$top_srcdir/tests/lib/nginx.sh"
    PVM=$build/pvm-fcgi
    OUT=$build/bench
    mkdir -p "$OUT" || return 1
    SECS=${BENCH_SECONDS:-5}
    CONNS=${BENCH_CONNS:-${2:-16}}
}

# pvm_bench_need_built FILE...: unless every FILE is executable, exits 1
# after "SCRIPT: build A and B first (make bench does)" on stderr (the
# FILEs named relative to $build).
pvm_bench_need_built() {
    pvm_nb_ok=1 pvm_nb_names=
    for pvm_nb_f in "$@"; do
        [ -x "$pvm_nb_f" ] || pvm_nb_ok=
        pvm_nb_names="${pvm_nb_names:+$pvm_nb_names and }${pvm_nb_f#"$build"/}"
    done
    [ -n "$pvm_nb_ok" ] && return 0
    echo "$(basename "$0"): build $pvm_nb_names first (make bench does)" >&2
    exit 1
}

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

# pvm_bench_start_pvm NAME BINARY INI-BODY [TEMPLATE] [unix]: pvm-fcgi
# BINARY as one worker process (workers = 1, access_log off; INI-BODY,
# printf %b, follows those [server] lines, so it may add [server] keys
# before its sections) on CPU_SERVER, listening on a free TCP port or,
# with unix, on TMP/NAME/pvm.sock, waited for up to 60 s; behind nginx
# from TEMPLATE (default conf/nginx/pvm-nginx.conf.in) with 1 worker,
# 4096 worker_connections and no access log. Everything in TMP/NAME.
# Sets PID_NAME (pvm-fcgi) and PORT_NAME (nginx), adds them to PIDS and
# NGINX_DIRS; exits 1 on a failure.
pvm_bench_start_pvm() {
    mkdir -p "$TMP/$1"
    fport=$(pvm_free_port) || exit 1
    nport=$(pvm_free_port) || exit 1
    addr=127.0.0.1:$fport
    [ "${5:-}" = unix ] && addr=unix:$TMP/$1/pvm.sock
    printf '[server]\nlisten = %s\nworkers = 1\naccess_log = off\n%b\n' \
        "$addr" "$3" >"$TMP/$1/pvm.ini"
    taskset -c "$CPU_SERVER" "$2" --config "$TMP/$1/pvm.ini" </dev/null \
        >"$TMP/$1/pvm.log" 2>&1 &
    eval "PID_$1=$!"
    PIDS="$PIDS $!"
    if [ "${5:-}" = unix ]; then
        pvm_wait_path "$TMP/$1/pvm.sock" 60 "$!" || exit 1
    else
        pvm_wait_port "$fport" 60 "$!" || exit 1
    fi
    PVM_NGINX_TEMPLATE=${4:-} pvm_nginx_conf "$TMP/$1" "$nport" "$addr" ||
        exit 1
    sed -i -e 's/worker_processes [0-9]*;/worker_processes 1;/' \
        -e 's/worker_connections [0-9]*;/worker_connections 4096;/' \
        -e 's|access_log .*;|access_log off;|' "$TMP/$1/nginx.conf"
    pvm_nginx_start "$TMP/$1" 10 || exit 1
    NGINX_DIRS="$NGINX_DIRS $TMP/$1"
    eval "PORT_$1=$nport"
}

# pvm_bench_static_nginx DIR ROOT [HTTP-LINES]: nginx (1 worker, 4096
# worker_connections, no access log; pinned through PVM_NGINX) serving the
# files below ROOT as application/json on a free port of 127.0.0.1, with
# HTTP-LINES added to its http block (e.g. gzip settings); its
# configuration, logs and temporary files in DIR. Sets SPORT, adds DIR to
# NGINX_DIRS; exits 1 on a failure.
pvm_bench_static_nginx() {
    mkdir -p "$1" || exit 1
    SPORT=$(pvm_free_port) || exit 1
    pvm_sn_user=
    [ "$(id -u)" = 0 ] &&
        pvm_sn_user="user root $(id -gn root 2>/dev/null || echo root);"
    pvm_sn_v=$("$(pvm_nginx_bin)" -V 2>&1)
    cat >"$1/nginx.conf" <<EOF
$pvm_sn_user
daemon off;
master_process on;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $1/cb;
    proxy_temp_path $1/px;
    fastcgi_temp_path $1/fc;
    $(case $pvm_sn_v in *--without-http_uwsgi_module*) ;; *) echo "uwsgi_temp_path $1/uw;" ;; esac)
    $(case $pvm_sn_v in *--without-http_scgi_module*) ;; *) echo "scgi_temp_path $1/sc;" ;; esac)
    ${3:-}
    server {
        listen 127.0.0.1:$SPORT;
        location / { root $2; default_type application/json; }
    }
}
EOF
    echo "$SPORT" >"$1/nginx.port"
    pvm_nginx_start "$1" 10 || exit 1
    NGINX_DIRS="$NGINX_DIRS $1"
}

# pvm_bench_wrk URL [HEADER] [PIDS...]: one wrk run against URL (1
# thread, CONNS connections, SECS seconds, --latency, on CPU_CLIENT; with
# the request header HEADER unless it is empty), its output in
# TMP/wrk.log. Sets REQ (requests done), RPS (req/s rounded to a whole
# number), RPS_WRK (req/s as wrk prints it), P50_WRK (the median latency
# as wrk prints it, e.g. 1.23ms), P50 and P99 (in ms, pvm_bench_to_ms),
# BAD (non-2xx answers; empty when there were none) and TICKS_1,
# TICKS_2, ...: the CPU clock ticks (pvm_bench_cpu_ticks) that the
# processes of the n-th PIDS argument (a space-separated list, may be
# empty) and their children used during the run. REQ, RPS, RPS_WRK and
# P50_WRK are empty when wrk printed no such line.
pvm_bench_wrk() {
    pvm_bw_url=$1 pvm_bw_hdr=${2:-}
    shift
    [ $# -gt 0 ] && shift
    pvm_bw_i=0
    for pvm_bw_p in "$@"; do
        pvm_bw_i=$((pvm_bw_i + 1))
        eval "pvm_bw_t0_$pvm_bw_i=\$(pvm_bench_cpu_ticks \$pvm_bw_p)"
    done
    taskset -c "$CPU_CLIENT" wrk -t1 -c"$CONNS" -d"${SECS}s" --latency \
        ${pvm_bw_hdr:+-H "$pvm_bw_hdr"} "$pvm_bw_url" >"$TMP/wrk.log" 2>&1
    pvm_bw_i=0
    for pvm_bw_p in "$@"; do
        pvm_bw_i=$((pvm_bw_i + 1))
        pvm_bw_t1=$(pvm_bench_cpu_ticks $pvm_bw_p)
        eval "TICKS_$pvm_bw_i=\$((pvm_bw_t1 - pvm_bw_t0_$pvm_bw_i))"
    done
    REQ=$(awk '/ requests in /{print $1}' "$TMP/wrk.log")
    RPS=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$TMP/wrk.log")
    RPS_WRK=$(awk '/^Requests\/sec:/{print $2}' "$TMP/wrk.log")
    P50_WRK=$(awk '$1=="50%"{print $2}' "$TMP/wrk.log")
    P50=$(pvm_bench_to_ms "$P50_WRK")
    P99=$(pvm_bench_to_ms "$(awk '$1=="99%"{print $2}' "$TMP/wrk.log")")
    BAD=$(awk '/Non-2xx/{print $5}' "$TMP/wrk.log")
}

# pvm_bench_per_req TICKS [DIGITS]: TICKS of CPU time (pvm_bench_wrk's
# TICKS_n) in ms per request of the last pvm_bench_wrk run (REQ), with
# DIGITS (3) decimals; "?" when it did no request.
pvm_bench_per_req() {
    awk -v d="$1" -v n="${REQ:-0}" -v hz="$(getconf CLK_TCK)" \
        -v f="%.${2:-3}f" \
        'BEGIN{ if (n > 0) printf f, d * 1000 / hz / n; else print "?" }'
}
