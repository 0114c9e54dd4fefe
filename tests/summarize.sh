#!/bin/sh
# tests/summarize.sh LABEL DIR...: counts test results in the automake logs
# (*.log next to *.trs) and fuzz logs under each DIR. cmocka programs count
# their "[  PASSED  ] N test(s)" / "[  FAILED  ] N test(s)" /
# "[  SKIPPED ] N test(s)" lines; other programs print "PVM-RESULT: NAME:
# P passed, F failed, S skipped". A test that failed without saying how
# many cases (a crash) counts as 1 failure; a test automake reports as SKIP
# (exit 77) without saying how many cases counts as 1 skipped.
# Prints "LABEL: P passed, F failed, S skipped" and appends the counts to
# $PVM_COUNTS (one line "P F S") when set.
label=$1
shift
p=0; f=0; s=0
for dir in "$@"; do
    for trs in $(find "$dir" -name '*.trs' 2>/dev/null | sort); do
        log=${trs%.trs}.log
        counts=$(awk '
            /^\[  PASSED  \] [0-9]+ test/ { p += $4 }
            /^\[  FAILED  \] [0-9]+ test/ { f += $4 }
            /^\[  SKIPPED \] [0-9]+ test/ { s += $4 }
            /^PVM-RESULT: / {
                for (i = 1; i <= NF; i++) {
                    if ($(i+1) ~ /^passed/) p += $i
                    if ($(i+1) ~ /^failed/) f += $i
                    if ($(i+1) ~ /^skipped/) s += $i
                }
            }
            END { printf "%d %d %d\n", p, f, s }' "$log" 2>/dev/null)
        set -- $counts
        tp=${1:-0}; tf=${2:-0}; ts=${3:-0}
        result=$(sed -n 's/^:test-result: //p' "$trs" | head -1)
        if [ "$result" != PASS ] && [ "$result" != SKIP ] && [ "$tf" = 0 ]; then
            tf=1
        fi
        if [ "$result" = SKIP ] && [ "$ts" = 0 ]; then
            ts=1
        fi
        name=${log#"$dir"/}
        printf '  %-50s %s passed, %s failed, %s skipped\n' "$name" "$tp" "$tf" "$ts"
        p=$((p + tp)); f=$((f + tf)); s=$((s + ts))
    done
done
echo "$label: $p passed, $f failed, $s skipped"
[ -n "${PVM_COUNTS:-}" ] && echo "$p $f $s" >> "$PVM_COUNTS"
exit 0
