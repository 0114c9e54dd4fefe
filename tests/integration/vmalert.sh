#!/bin/sh
# tests/integration/vmalert.sh URL: Debian's vmalert (package
# victoria-metrics) evaluates recording and alerting rules over the example
# plugin of pvm-fcgi behind a web server at URL (the main instance of
# run.sh), in replay mode over an unaligned window (-replay.timeFrom/-To
# off the minute and off the step grid) and in live mode, remote-writing
# the results into a victoria-metrics single node started here on
# 127.0.0.1 (temp dir, stopped by PID). Alerts go to a stand-in
# Alertmanager (nginx, tests/integration/alert-sink.conf.in). Then reads
# victoria-metrics' export API and checks every recorded value against the
# example plugin's formula at its own timestamp, and the alert samples
# against the square wave. Prints
#   PVM-RESULT: vmalert: P passed, F failed, S skipped
# and exits nonzero when a check failed. Without vmalert or
# victoria-metrics: all skipped (tests/deps.sh installs them). Every wait
# is bounded; about 15 s in all.
set -u

URL=${1:?usage: vmalert.sh http://127.0.0.1:PORT}
case "$URL" in
http://127.0.0.1:*) ;;
*)
    echo "vmalert.sh: refusing $URL: only 127.0.0.1" >&2
    exit 2
    ;;
esac
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/nginx.sh"

NCHECKS=8
PASS=0
FAIL=0
VMALERT=${PVM_VMALERT:-$(command -v vmalert 2>/dev/null)}
VMSINGLE=${PVM_VICTORIA_METRICS:-$(command -v victoria-metrics 2>/dev/null)}
if [ -z "$VMALERT" ] || [ -z "$VMSINGLE" ]; then
    echo "vmalert.sh: vmalert or victoria-metrics not installed (apt-get install victoria-metrics): skipped"
    echo "PVM-RESULT: vmalert: 0 passed, 0 failed, $NCHECKS skipped"
    exit 0
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvm-vmalert.XXXXXX") || exit 2
chmod 755 "$TMP"
VM_PID=
VA_PID=
cleanup() {
    rc=$?
    trap - EXIT INT TERM
    [ -n "$VA_PID" ] && pvm_stop_pid "$VA_PID" 10
    [ -n "$VM_PID" ] && pvm_stop_pid "$VM_PID" 10
    pvm_nginx_stop "$TMP/sink" 10
    [ "$FAIL" != 0 ] && [ "$rc" = 0 ] && rc=1
    if [ "$rc" != 0 ]; then
        for f in "$TMP"/*.out "$TMP"/vm.err; do
            [ -s "$f" ] || continue
            echo "----- $f (last 15 lines)"
            grep -v 'flag.go' "$f" | tail -n 15
        done
    fi
    if [ "${PVM_KEEP_TMP:-0}" = 1 ]; then
        echo "vmalert.sh: kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ok() {
    echo "ok   vmalert $1"
    PASS=$((PASS + 1))
}

bad() {
    echo "FAIL vmalert $1"
    FAIL=$((FAIL + 1))
}

# victoria-metrics single node, and the stand-in Alertmanager.
VM_PORT=$(pvm_free_port) && SINK_PORT=$(pvm_free_port) &&
    VA_PORT=$(pvm_free_port) || exit 2
"$VMSINGLE" -storageDataPath="$TMP/vm" -httpListenAddr="127.0.0.1:$VM_PORT" \
    -loggerLevel=WARN </dev/null >"$TMP/vm.out" 2>"$TMP/vm.err" &
VM_PID=$!
pvm_wait_port "$VM_PORT" 20 "$VM_PID" || {
    bad "victoria-metrics did not start"
    exit 1
}
VM=http://127.0.0.1:$VM_PORT
mkdir -p "$TMP/sink"
PVM_NGINX_TEMPLATE=$top_srcdir/tests/integration/alert-sink.conf.in \
    pvm_nginx_conf "$TMP/sink" "$SINK_PORT" unused &&
    pvm_nginx_start "$TMP/sink" 10 || {
    bad "the stand-in Alertmanager (nginx) did not start"
    exit 1
}

M=prometheus_virtual_metrics_example_metric
# rules INTERVAL: the rule file, evaluated every INTERVAL.
rules() {
    cat <<EOF
groups:
  - name: pvm
    interval: $1
    rules:
      - record: pvm:sawtooth
        expr: $M{type="sawtooth"}
      - record: pvm:sawtooth:sum
        expr: sum($M{type="sawtooth"})
      - alert: PvmSquareHigh
        expr: $M{type="square",amplitude="5"} > 0
      - alert: PvmAlways
        expr: sum($M{type="sawtooth"}) >= 0
EOF
}

# export MATCH START END: victoria-metrics' raw samples (flushed first) as
# CSV lines "name,amplitude,alertname,ts_ms,value" into $TMP/export.csv.
export_csv() {
    curl -sS -m 10 -o /dev/null "$VM/internal/force_flush"
    curl -sS -m 10 -o "$TMP/export.csv" "$VM/api/v1/export/csv" \
        --data-urlencode 'format=__name__,amplitude,alertname,__timestamp__:unix_ms,__value__' \
        --data-urlencode "match[]=$1" -d "start=$2" -d "end=$3"
}

# check_records FIRST_MS STEP_MS N: the recorded sawtooth series in
# $TMP/export.csv: pvm:sawtooth{amplitude=a} = a * (t mod 60) / 60 and
# pvm:sawtooth:sum = 16 * (t mod 60) / 60 at each timestamp t; with N > 0
# exactly N steps FIRST_MS + k * STEP_MS per series. Prints a summary;
# fails on a wrong value, timestamp or count, or no samples.
check_records() {
    awk -F, -v first="$1" -v step="$2" -v nsteps="$3" '
        $1 == "pvm:sawtooth" || $1 == "pvm:sawtooth:sum" {
            t = $4 / 1000
            s = t - 60 * int(t / 60)
            mult = $1 == "pvm:sawtooth" ? $2 + 0 : 16
            want = mult * s / 60
            d = $5 - want
            if (d < 0) d = -d
            if (d > 1e-9 * (mult > 1 ? mult : 1)) {
                if (wrong < 3)
                    printf "     %s{amplitude=%s} at %.3f: %s, formula %.12g\n", $1, $2, t, $5, want
                wrong++
            }
            if (nsteps > 0 && (($4 - first) % step != 0 || $4 < first ||
                               $4 > first + (nsteps - 1) * step))
                off++
            key = $1 "," $2
            if (!(key in count)) nser++
            count[key]++
            n++
        }
        END {
            for (k in count)
                if (nsteps > 0 && count[k] != nsteps) {
                    printf "     %s: %d samples, expected %d\n", k, count[k], nsteps
                    badcount++
                }
            printf "%d samples in %d series, %d wrong values, %d off the steps\n", n, nser, wrong, off
            exit !(n > 0 && nser == 4 && wrong == 0 && off == 0 && badcount == 0)
        }' "$TMP/export.csv"
}

# check_alerts NAME FIRST_MS STEP_MS N: the ALERTS samples of alert NAME
# in $TMP/export.csv are exactly the steps FIRST_MS + k * STEP_MS (k < N)
# where the square wave is positive ((t mod 60) < 30 s).
check_alerts() {
    awk -F, -v name="$1" -v first="$2" -v step="$3" -v nsteps="$4" '
        BEGIN {
            for (k = 0; k < nsteps; k++) {
                t = first + k * step
                # keys as "%.0f": mawk turns large numbers into "%.6g"
                if ((t / 1000) % 60 < 30) { want[sprintf("%.0f", t)] = 1; nwant++ }
            }
        }
        $1 == "ALERTS" && $3 == name {
            key = sprintf("%.0f", $4)
            if (!(key in want)) {
                if (extra < 3) printf "     firing at %.3f, where the square wave is negative\n", $4 / 1000
                extra++
            } else if (!(key in seen)) {
                seen[key] = 1
                got++
            }
        }
        END {
            printf "%d of %d positive steps firing, %d firing where negative\n", got, nwant, extra
            exit !(nwant > 0 && got == nwant && extra == 0)
        }' "$TMP/export.csv"
}

# 1. Replay over an unaligned window: from 3 s past a minute, 20 min ago,
#    to 604 s later (off the 10 s step grid). vmalert asks query_range
#    with these start and end: every step's value must be the formula's.
rules 10s >"$TMP/replay.yml"
now=$(date +%s)
from=$((now / 60 * 60 - 1200 + 3))
to=$((from + 604))
nsteps=$(((to - from) / 10 + 1))
if timeout 60 "$VMALERT" -rule="$TMP/replay.yml" -datasource.url="$URL" \
    -datasource.queryStep=0 -notifier.url="http://127.0.0.1:$SINK_PORT" \
    -remoteWrite.url="$VM" -httpListenAddr="127.0.0.1:$VA_PORT" \
    -replay.timeFrom="$(date -u -d "@$from" +%Y-%m-%dT%H:%M:%SZ)" \
    -replay.timeTo="$(date -u -d "@$to" +%Y-%m-%dT%H:%M:%SZ)" \
    -replay.disableProgressBar -replay.rulesDelay=0 \
    </dev/null >"$TMP/replay.out" 2>&1; then
    ok "replay: exit status 0 ($(grep -o 'Imported [0-9]* samples' "$TMP/replay.out"))"
else
    bad "replay: exit status $?"
fi
export_csv '{__name__=~"pvm:sawtooth.*"}' $((from - 60)) $((to + 60))
if r=$(check_records $((from * 1000)) 10000 "$nsteps"); then
    ok "replay recording rules, unaligned window: $r"
else
    bad "replay recording rules, unaligned window: $r"
fi
export_csv 'ALERTS{alertname="PvmSquareHigh"}' $((from - 60)) $((to + 60))
if r=$(check_alerts PvmSquareHigh $((from * 1000)) 10000 "$nsteps"); then
    ok "replay alerting rule: $r"
else
    bad "replay alerting rule: $r"
fi

# 2. Live: every 2 s at the current time (vmalert aligns `time` to the
#    interval), for at least 3 evaluations (bounded: 20 s).
rules 2s >"$TMP/live.yml"
live_from=$(date +%s)
# Free ports are picked racily (other suites run beside this one): when
# vmalert cannot listen on its port it exits at once; try another (3 tries).
for _ in 1 2 3; do
    "$VMALERT" -rule="$TMP/live.yml" -datasource.url="$URL" \
        -notifier.url="http://127.0.0.1:$SINK_PORT" -remoteWrite.url="$VM" \
        -remoteWrite.flushInterval=500ms -httpListenAddr="127.0.0.1:$VA_PORT" \
        </dev/null >"$TMP/live.out" 2>&1 &
    VA_PID=$!
    pvm_wait_port "$VA_PORT" 10 "$VA_PID" 2>/dev/null && break
    echo "vmalert did not listen on $VA_PORT: $(tail -n 1 "$TMP/live.out")"
    pvm_stop_pid "$VA_PID" 5
    VA_PORT=$(pvm_free_port) || exit 2
done
n=0
evals=0
while [ "$n" -lt 40 ] && kill -0 "$VA_PID" 2>/dev/null; do
    sleep 0.5
    n=$((n + 1))
    export_csv 'pvm:sawtooth:sum' $((live_from - 10)) $((live_from + 60))
    evals=$(grep -c '^pvm:sawtooth:sum,' "$TMP/export.csv")
    [ "$evals" -ge 3 ] && break
done
if curl -sS -m 5 "http://127.0.0.1:$VA_PORT/api/v1/alerts" |
    grep -q '"name":"PvmAlways".*"state":"firing"\|"state":"firing".*"name":"PvmAlways"'; then
    ok "live: PvmAlways is firing (vmalert /api/v1/alerts)"
else
    bad "live: PvmAlways is not firing in vmalert's /api/v1/alerts"
fi
pvm_stop_pid "$VA_PID" 10
VA_PID=
if [ "$evals" -ge 3 ]; then
    ok "live: $evals evaluations recorded"
else
    bad "live: $evals evaluations recorded in 20 s, expected 3"
fi
export_csv '{__name__=~"pvm:sawtooth.*"}' $((live_from - 10)) $((live_from + 60))
if r=$(check_records 0 1 0); then
    ok "live recording rules: $r"
else
    bad "live recording rules: $r"
fi
# the stand-in Alertmanager got PvmAlways (and nothing failed to send)
if grep -q '"POST /api/v2/alerts HTTP/1.1" 200' "$TMP/sink/access.log" 2>/dev/null; then
    ok "live: alerts sent to the notifier"
else
    bad "live: no alert reached the notifier"
fi
if grep -v 'flag.go' "$TMP/live.out" | grep -qi 'error'; then
    bad "live: vmalert logged errors: $(grep -v 'flag.go' "$TMP/live.out" | grep -i error | head -n 2)"
else
    ok "live: no errors in vmalert's log"
fi

echo "PVM-RESULT: vmalert: $PASS passed, $FAIL failed, $((NCHECKS - PASS - FAIL)) skipped"
[ "$FAIL" = 0 ]
