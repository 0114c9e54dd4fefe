#!/bin/sh
# clock.sh: an exec plugin in shell (conf/examples/exec/shell/pvm.ini).
# Serves two metrics computed for the times pvm asks for:
#   clock_day_seconds{host="..."}     seconds since midnight UTC
#   clock_weekday{host="...",tz="UTC"} day of the week (0 = Sunday)
# pvm passes the request in PVM_* variables (docs/plugins/exec.md); this
# script ignores its stdin (the same request as JSON).
set -eu
host=$(hostname)

case $PVM_REQUEST_TYPE in
metric_names)
    printf 'clock_day_seconds\nclock_weekday\n'
    exit 0 ;;
label_names)
    printf '__name__\nhost\ntz\n'
    exit 0 ;;
label_values)
    case $PVM_LABEL_NAME in
    host) echo "$host" ;;
    tz) echo UTC ;;
    esac
    exit 0 ;;
instant)
    start=$PVM_TIME end=$PVM_TIME step=1 ;;
*)
    start=$PVM_START end=$PVM_END step=$PVM_STEP ;;
esac

# One sample per timestamp (seconds, fractions allowed), OpenMetrics text
# with timestamps; pvm keeps the series the query's selector asks for.
# The weekday comes from date(1) once; awk derives it for the others.
dow_now=$(date -u +%w)
now=$(date -u +%s)
awk -v start="$start" -v end="$end" -v step="$step" -v host="$host" \
    -v now="$now" -v dow_now="$dow_now" 'BEGIN {
    for (t = start; t <= end; t += step) {
        day = int(t / 86400) - int(now / 86400)
        dow = ((dow_now + day) % 7 + 7) % 7
        printf "clock_day_seconds{host=\"%s\"} %.3f %.3f\n", host, t % 86400, t
        printf "clock_weekday{host=\"%s\",tz=\"UTC\"} %d %.3f\n", host, dow, t
    }
    print "# EOF"
}'
