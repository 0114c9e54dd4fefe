#!/bin/sh
# tests/promql/own.sh: a TESTS entry: the promqltest runner over the
# project's own tests/promql/*.test (runner --own). make check runs it in
# the top build directory; $top_builddir takes precedence.
exec "${top_builddir:-.}/tests/promql/runner" --own
