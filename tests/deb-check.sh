#!/bin/sh
# tests/deb-check.sh BUILD_DIR: builds the Debian packages (debian/) from
# the release tarball of BUILD_DIR (make dist), checks them with lintian
# at the error level, unpacks pvm-fcgi into a throwaway root, starts the
# service by the ExecStartPre/ExecStart command lines of its installed
# unit file (paths moved into that root, listening on a Unix socket in a
# temp dir) and queries it through a real nginx on 127.0.0.1.
# Prints PVM-RESULT lines; exits 77 (skip) when dpkg-buildpackage or
# debhelper is missing and cannot be installed. Nothing is installed into
# the machine's own dpkg database.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/build}" && pwd) || exit 1
top_srcdir=$top
export top_srcdir
. "$top/tests/lib/nginx.sh"

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

for t in dpkg-buildpackage dh lintian fakeroot; do
    if ! command -v $t >/dev/null 2>&1; then
        echo "SKIP: $t not installed (apt-get install dpkg-dev debhelper lintian fakeroot)"
        echo "PVM-RESULT: 0 passed, 0 failed, 1 skipped"
        exit 77
    fi
done

TMP=$(mktemp -d /tmp/pvm-deb.XXXXXX)
chmod 755 "$TMP"
PVM_PID=
cleanup() {
    pvm_nginx_stop "$TMP/nginx" 2>/dev/null
    [ -n "$PVM_PID" ] && pvm_stop_pid "$PVM_PID" 10
    rc=$1
    echo "PVM-RESULT: $passed passed, $failed failed, 0 skipped"
    [ "$failed" = 0 ] || rc=1
    pvm_test_finish deb-check "$TMP" "$rc" 40 "$TMP/build.log" \
        "$TMP/lintian.log" "$TMP/pvm.log" "$TMP/nginx/error.log"
}

# The source as released: make dist, unpacked, must carry debian/.
(cd "$build" && make dist >"$TMP/dist.log" 2>&1) || {
    bad "make dist"; cleanup 1; }
tarball=$(ls -t "$build"/pvm-*.tar.gz | head -1)
tar -xzf "$tarball" -C "$TMP" || { bad "unpack $tarball"; cleanup 1; }
src=$(ls -d "$TMP"/pvm-*/ | head -1)
[ -f "$src/debian/control" ] && ok "the release tarball carries debian/" ||
    { bad "debian/ missing from $tarball"; cleanup 1; }

# The tests of the package build are the project's own (./test.sh).
if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
        dpkg-buildpackage -us -uc -b >"$TMP/build.log" 2>&1); then
    ok "dpkg-buildpackage -us -uc -b"
else
    bad "dpkg-buildpackage failed"
    cleanup 1
fi
deb=$(ls "$TMP"/pvm-fcgi_*.deb 2>/dev/null | head -1)
dev=$(ls "$TMP"/pvm-dev_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && [ -n "$dev" ] && ok "built pvm-fcgi and pvm-dev" ||
    { bad "packages missing: $(ls "$TMP")"; cleanup 1; }

if lintian --fail-on error --tag-display-limit 0 "$TMP"/pvm_*.changes \
        >"$TMP/lintian.log" 2>&1; then
    ok "lintian: no errors ($(grep -c '^W:' "$TMP/lintian.log") warnings)"
else
    bad "lintian reports errors:"
    grep '^E:' "$TMP/lintian.log"
fi

root="$TMP/root"
dpkg-deb -x "$deb" "$root" && dpkg-deb -x "$dev" "$root" ||
    { bad "dpkg-deb -x"; cleanup 1; }
for f in usr/sbin/pvm-fcgi etc/pvm/pvm.ini usr/share/man/man8/pvm-fcgi.8.gz \
    usr/share/man/man5/pvm.ini.5.gz lib/systemd/system/pvm-fcgi.service \
    lib/systemd/system/pvm-fcgi.socket usr/include/pvm/plugin.h \
    usr/include/pvm/testkit.h; do
    [ -e "$root/$f" ] && ok "package has /$f" || bad "package lacks /$f"
done
ls "$root"/usr/lib/*/pkgconfig/pvm-testkit.pc >/dev/null 2>&1 &&
    ok "pvm-dev has pvm-testkit.pc" || bad "pvm-dev lacks pvm-testkit.pc"
# pvm-dev installs one library, the test kit, with pvm_ symbols only, and
# a plugin author's test links it by pvm-testkit.pc alone.
libs=$(ls "$root"/usr/lib/*/*.a 2>/dev/null)
[ "$(basename "$libs")" = libpvmtestkit.a ] &&
    ok "pvm-dev installs one library, libpvmtestkit.a" ||
    bad "pvm-dev installs libraries: $libs"
sh "$top/tests/check_symbols.sh" $libs >"$TMP/symbols.log" 2>&1 &&
    ok "libpvmtestkit.a exports pvm_ symbols only" ||
    { bad "libpvmtestkit.a exports other symbols:"; head -20 "$TMP/symbols.log"; }
pcdir=$(dirname "$(ls "$root"/usr/lib/*/pkgconfig/pvm-testkit.pc | head -1)")
if cc -o "$TMP/testkit_link" "$top/tests/lib/testkit_link.c" \
        $(PKG_CONFIG_PATH=$pcdir pkg-config --define-variable=prefix="$root/usr" \
            --cflags --libs pvm-testkit) >"$TMP/link.log" 2>&1 &&
        "$TMP/testkit_link" >>"$TMP/link.log" 2>&1; then
    ok "a plugin test builds and runs against pvm-dev (pvm-testkit.pc)"
else
    bad "a plugin test against pvm-dev:"; tail -20 "$TMP/link.log"
fi
dpkg-deb -I "$deb" conffiles 2>/dev/null | grep -qx /etc/pvm/pvm.ini &&
    ok "/etc/pvm/pvm.ini is a conffile" || bad "/etc/pvm/pvm.ini is no conffile"
dpkg-deb -e "$deb" "$TMP/control"
grep -q 'adduser --system' "$TMP/control/postinst" &&
    ok "postinst creates the pvm system user" || bad "postinst creates no pvm user"
unit="$root/lib/systemd/system/pvm-fcgi.service"
grep -qx 'User=pvm' "$unit" && ok "the service runs as pvm" ||
    bad "the service does not run as pvm"

# Start it as the unit does, with the packaged pvm.ini listening on a
# socket in TMP (the unit's own socket is systemd's /run/pvm/pvm.sock).
sed -e "s|^listen *=.*|listen = unix:$TMP/pvm.sock|" "$root/etc/pvm/pvm.ini" \
    >"$TMP/pvm.ini"
grep -q "^listen = unix:$TMP/pvm.sock" "$TMP/pvm.ini" ||
    echo "listen = unix:$TMP/pvm.sock" | sed -i "/^\[server\]/r /dev/stdin" "$TMP/pvm.ini"
unit_cmd() { # KEY: the unit's command line for KEY, moved into the root
    sed -n "s/^$1=//p" "$unit" | head -1 |
        sed -e "s|/usr/sbin/|$root/usr/sbin/|g" -e "s|/etc/pvm/pvm.ini|$TMP/pvm.ini|g"
}
pre=$(unit_cmd ExecStartPre)
start=$(unit_cmd ExecStart)
[ -n "$pre" ] && [ -n "$start" ] || { bad "no ExecStart/ExecStartPre in the unit"; cleanup 1; }
if $pre >"$TMP/check.log" 2>&1; then
    ok "ExecStartPre ($pre) accepts the packaged configuration"
else
    bad "ExecStartPre failed: $(cat "$TMP/check.log")"
fi
$start 2>"$TMP/pvm.log" &
PVM_PID=$!
pvm_wait_path "$TMP/pvm.sock" 10 "$PVM_PID" ||
    { bad "the packaged pvm-fcgi did not start"; cleanup 1; }
mkdir -p "$TMP/nginx"
port=$(pvm_free_port) || { bad "no free port"; cleanup 1; }
pvm_nginx_conf "$TMP/nginx" "$port" "unix:$TMP/pvm.sock" "" &&
    pvm_nginx_start "$TMP/nginx" || { bad "nginx did not start"; cleanup 1; }
body=$(curl -sS --max-time 10 "http://127.0.0.1:$port/api/v1/query?query=count(prometheus_virtual_metrics_example_metric)&time=1000")
case "$body" in
*'"status":"success"'*'"value":[1000,"'[1-9]*) ok "the packaged service answers a query through nginx" ;;
*) bad "query through nginx: $body" ;;
esac
cleanup 0
