#!/bin/sh
# tests/check_layers.sh [SRCDIR]: checks the layering of docs/architecture.md
# over the #include lines of src/, plugins/, tests/plugins/ and
# include/pvm/:
#   - no include from a lower layer to a higher one (public < base < promql
#     < server < process < testkit; plugins, the shipped ones and the
#     test plugins, see the public headers only);
#   - no include cycle between modules (a module is NAME.c with NAME.h);
#   - headers are included by name or as <pvm/...>, never by a path that
#     climbs or names a layer directory ("../x.h", "src/...").
# Each finding prints one line; exits 1 when there is one (make check).
set -u
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1

files=$(find include/pvm src plugins tests/plugins -type f \
    \( -name '*.c' -o -name '*.h' -o -name '*.def' \) | sort)
[ -n "$files" ] || { echo "check_layers: no sources under $top"; exit 1; }

{
    for f in $files; do echo "F $f"; done
    # "I file line target" for every quoted or <pvm/...> include.
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]' $files |
        sed -n 's/^\([^:]*\):\([0-9]*\):[[:space:]]*#[[:space:]]*include[[:space:]]*\(["<][^">]*[">]\).*/I \1 \2 \3/p'
} | awk '
function dir(p) { sub(/\/[^\/]*$/, "", p); return p }
function module(p) { sub(/\.(c|h|def)$/, "", p); return p }
# Layer of a file by its directory; plugins are apart (-1).
function layer(p,   d) {
    d = dir(p)
    if (d == "include/pvm") return 0
    if (d == "src/base") return 1
    if (d == "src/promql") return 2
    if (d == "src/server" || d ~ /^src\/server\//) return 3
    if (d == "src/process") return 4
    if (d == "src/testkit") return 5
    if (d == "plugins" || d == "tests/plugins") return -1
    return 99
}
BEGIN {
    name[0] = "public"; name[1] = "base"; name[2] = "promql"
    name[3] = "server"; name[4] = "process"; name[5] = "testkit"
    name[-1] = "plugins"; name[99] = "unknown"
    ndirs = split("src/base src/promql src/server src/process src/testkit", dirs, " ")
    bad = 0
}
$1 == "F" { exists[$2] = 1; next }
$1 == "I" {
    f = $2; line = $3; t = $4
    if (layer(f) == 99) {
        printf "%s: not in a layer directory (docs/architecture.md)\n", f
        bad++
    }
    if (t ~ /^</) {
        if (t !~ /^<pvm\//) next            # system header
        target = "include/" substr(t, 2, length(t) - 2)
    } else {
        t = substr(t, 2, length(t) - 2)
        if (t ~ /(^|\/)\.\.(\/|$)/ || t ~ /^(src|include|plugins|tests)\//) {
            printf "%s:%s: include by path \"%s\": include by name\n", f, line, t
            bad++
            next
        }
        target = ""
        if (exists[dir(f) "/" t]) target = dir(f) "/" t
        for (i = 1; i <= ndirs && target == ""; i++)
            if (exists[dirs[i] "/" t]) target = dirs[i] "/" t
        if (target == "") next               # generated (prompb.pb-c.h)
    }
    lf = layer(f); lt = layer(target)
    if (lf == -1 && lt != 0 && lt != -1 || lf != -1 && lt == -1 || lf >= 0 && lt > lf) {
        printf "%s:%s: %s layer includes %s (%s layer)\n", f, line, \
            name[lf], target, name[lt]
        bad++
    }
    a = module(f); b = module(target)
    if (a != b && !((a, b) in edge)) {
        edge[a, b] = 1
        nsucc[a]++; succ[a, nsucc[a]] = b
        node[a] = 1; node[b] = 1
    }
}
# Depth-first search; a grey successor closes a cycle.
function visit(v,   i, w, k, path) {
    color[v] = 1; stack[++depth] = v
    for (i = 1; i <= nsucc[v]; i++) {
        w = succ[v, i]
        if (color[w] == 1) {
            path = w
            for (k = depth; k >= 1 && stack[k] != w; k--)
                path = stack[k] " -> " path
            printf "include cycle: %s -> %s\n", w, path
            bad++
        } else if (color[w] == 0)
            visit(w)
    }
    depth--; color[v] = 2
}
END {
    for (v in node) color[v] = 0
    depth = 0
    for (v in node) if (color[v] == 0) visit(v)
    if (bad) { printf "check_layers: %d finding(s)\n", bad; exit 1 }
    print "check_layers: no upward include, no include cycle"
}'
