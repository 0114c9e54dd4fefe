#!/bin/sh
# autogen.sh: generate ./configure from configure.ac (needs autoconf,
# automake, pkg-config).
cd "$(dirname "$0")" || exit 1
mkdir -p m4 build-aux
out=$(autoreconf --install --force 2>&1) || { echo "$out" >&2; exit 1; }
echo "$out" | grep -v "installing '" >&2
exit 0
