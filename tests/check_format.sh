#!/bin/sh
# tests/check_format.sh [SRCDIR]: checks that the C sources are formatted
# as .clang-format says: clang-format --dry-run --Werror over every *.c and
# *.h of src/, plugins/, include/, tests/ and the top directory. Prints the
# files that differ (clang-format's own messages) and
#   PVM-RESULT: format: P passed, F failed, S skipped
# (one per file); exits 1 when a file differs, 77 (SKIP) without
# clang-format. The formatter is $PVM_CLANG_FORMAT, else clang-format-14,
# else clang-format (other versions may format differently: the style was
# written for clang-format 14). Fix a file with
#   clang-format -i FILE
srcdir=${1:-${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}}
cd "$srcdir" || exit 99
if [ -n "${PVM_CLANG_FORMAT:-}" ]; then
    cf=$PVM_CLANG_FORMAT
elif command -v clang-format-14 >/dev/null 2>&1; then
    cf=clang-format-14
else
    cf=clang-format
fi
if ! command -v "$cf" >/dev/null 2>&1; then
    echo "check_format.sh: SKIP: $cf not installed (apt-get install clang-format)"
    echo "PVM-RESULT: format: 0 passed, 0 failed, 1 skipped"
    exit 77
fi
if [ ! -f .clang-format ]; then
    echo "check_format.sh: $srcdir/.clang-format is missing" >&2
    exit 99
fi
echo "check_format.sh: $("$cf" --version)"
pass=0
fail=0
for f in $(find src plugins include tests -name '*.[ch]' 2>/dev/null | sort) \
    $(ls ./*.c ./*.h 2>/dev/null); do
    if "$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $f: not formatted (clang-format -i $f)"
    fi
done
echo "PVM-RESULT: format: $pass passed, $fail failed, 0 skipped"
[ "$fail" = 0 ]
