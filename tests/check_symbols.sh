#!/bin/sh
# tests/check_symbols.sh [LIBRARY.a...]: every global symbol an installed
# library defines starts with pvm_ (so that it cannot clash with a
# plugin's or a program's own names at link time). Without arguments it
# checks the installed libraries of the build directory (lib_LIBRARIES,
# passed by make check in PVM_INSTALLED_LIBS). Prints each offending
# symbol with its object; exits 1 when there is one.
set -u
[ $# -gt 0 ] || set -- ${PVM_INSTALLED_LIBS:-libpvmtestkit.a}

# Names starting with "__" are the toolchain's (reserved identifiers, e.g.
# the sanitizers' __odr_asan.NAME) and are not checked.
# Other names allowed (an awk regex); none.
allowed='^$'

bad=0
for lib in "$@"; do
    [ -f "$lib" ] || { echo "check_symbols: $lib: missing"; exit 1; }
    out=$(nm -A -g --defined-only "$lib" |
        awk -v allowed="$allowed" '{ s = $NF }
            s !~ /^(pvm_|__)/ && s !~ allowed { print }') || exit 1
    if [ -n "$out" ]; then
        echo "$lib: symbols without the pvm_ prefix:"
        echo "$out"
        bad=1
    else
        echo "check_symbols: $lib: only pvm_ symbols (exceptions: $allowed)"
    fi
done
exit $bad
