#!/bin/sh
# tests/promql/shared.sh: a TESTS entry: the promqltest runner over the
# shared Prometheus scripts (runner --shared): $PVM_PROMQLTEST_DIR, else
# $PVM_SHARED_DIR/promqltest, else ../shared/promqltest next to the source
# tree. Without them it prints a "SKIP:" line and exits 77 (SKIP). make
# check runs it in the top build directory; $top_builddir takes precedence.
exec "${top_builddir:-.}/tests/promql/runner" --shared
