# tests/lib/promtool.sh: compares pvm's answers with Prometheus' through
# promtool (prometheus.sh, remote_read.sh). The script sets PROMTOOL,
# PROM_URL, PVM_URL and TMP and has ok/bad (tests/lib/script.sh or its
# own); `same NAME KIND OPTIONS EXPR` then counts one result.

# pt OUT ARGS...: promtool with a bounded time, stdout into OUT, in
# promtool's order (series by labels, points by time) or sorted with
# PVM_PT_SORT=1.
pt() {
    pt_out=$1
    shift
    timeout 30 "$PROMTOOL" "$@" >"$pt_out.raw" 2>"$pt_out.err"
    pt_rc=$?
    if [ "${PVM_PT_SORT:-0}" = 1 ]; then
        sort "$pt_out.raw" >"$pt_out"
    else
        cp "$pt_out.raw" "$pt_out"
    fi
    return $pt_rc
}

# same NAME KIND OPTIONS EXPR: `promtool query KIND OPTIONS URL EXPR`
# against Prometheus and against pvm: the same lines (values equal to
# 1e-9 relative), and at least one.
same() {
    name=$1 kind=$2 opts=$3 expr=$4
    # shellcheck disable=SC2086
    pt "$TMP/prom.out" query "$kind" $opts "$PROM_URL" "$expr"
    rc1=$?
    # shellcheck disable=SC2086
    pt "$TMP/pvm.out" query "$kind" $opts "$PVM_URL" "$expr"
    rc2=$?
    if [ "$rc1" != 0 ] || [ "$rc2" != 0 ]; then
        bad "$name: promtool exit status $rc1 (Prometheus) / $rc2 (pvm)"
        sed 's/^/     prometheus: /' "$TMP/prom.out.err" | head -n 5
        sed 's/^/     pvm: /' "$TMP/pvm.out.err" | head -n 5
        return
    fi
    if ! [ -s "$TMP/pvm.out" ]; then
        bad "$name: pvm returned nothing"
        return
    fi
    if awk -v tol=1e-9 '
        NR == FNR { a[FNR] = $0; n = FNR; next }
        {
            if (FNR > n) exit 1
            x = a[FNR]; y = $0
            if (x == y) next
            # "labels => value @[t]" or, in a matrix, "value @[t]"
            if (index(x, " => ")) { split(x, xa, " => "); xl = xa[1]; xr = xa[2] }
            else { xl = ""; xr = x }
            if (index(y, " => ")) { split(y, ya, " => "); yl = ya[1]; yr = ya[2] }
            else { yl = ""; yr = y }
            if (xl != yl) exit 1
            split(xr, xv, " @"); split(yr, yv, " @")
            if (xv[2] != yv[2]) exit 1
            d = xv[1] - yv[1]; if (d < 0) d = -d
            m = yv[1] + 0; if (m < 0) m = -m
            if (d > tol * (m > 1 ? m : 1)) exit 1
        }
        END { if (FNR != n) exit 1 }' "$TMP/prom.out" "$TMP/pvm.out"; then
        ok "$name ($(wc -l <"$TMP/pvm.out") lines)"
    else
        bad "$name: Prometheus and pvm differ"
        diff "$TMP/prom.out" "$TMP/pvm.out" | head -n 20 | sed 's/^/     /'
    fi
}
