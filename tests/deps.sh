#!/bin/sh
# tests/deps.sh: installs the Debian packages the build, the server and the
# tests need, only those missing. As root it runs apt-get; otherwise it
# names what is missing and carries on. Sourced by run.sh and test.sh.

# Packages to build and run pvm-fcgi behind nginx.
PVM_BUILD_PKGS="build-essential autoconf automake pkg-config libfcgi-dev \
libjson-c-dev libinih-dev libpcre2-dev libcmocka-dev libsqlite3-dev \
libcrypt-dev libprotobuf-c-dev protobuf-c-compiler libsnappy-dev \
libpq-dev libmariadb-dev libcurl4-openssl-dev libjq-dev liblua5.4-dev \
python3-dev nginx-light"
# Extra packages for the test command: Prometheus' promtool, clang and
# libFuzzer for the fuzz smoke runs, valgrind, and the other web servers
# (lighttpd, apache2) and curl for the process-model tests; wrk for the
# load test and the benchmark, linux-perf to profile it; victoria-metrics
# (vmalert and the single node) for tests/integration/vmalert.sh; the
# Debian packaging tools for tests/deb-check.sh; clang-format for
# tests/check_format.sh; the PostgreSQL and MariaDB servers the SQL
# plugins are tested against (started as the invoking user in a temp dir),
# and python3-psycopg2 for a Python plugin reading PostgreSQL.
PVM_TEST_PKGS="prometheus clang libclang-rt-14-dev valgrind spawn-fcgi \
lighttpd lighttpd-mod-deflate apache2 curl wrk linux-perf sqlite3 \
victoria-metrics dpkg-dev debhelper lintian fakeroot clang-format \
postgresql mariadb-server python3-psycopg2"

pvm_missing_pkgs() {
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing="$missing $p"
    done
    echo "$missing"
}

# pvm_install_deps PKG...: installs the missing packages (apt-get as root).
pvm_install_deps() {
    missing=$(pvm_missing_pkgs "$@")
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        # Not root: say what is missing and go on; what needs it fails
        # later with its own message (configure names the package).
        echo "missing Debian packages:$missing" >&2
        echo "not root: skipping apt-get; install them with:" >&2
        echo "  sudo apt-get install$missing" >&2
        return 0
    fi
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # Debian's nginx package starts a system nginx on port 80; we only
    # want the binary. policy-rc.d keeps services from starting.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        pvm_policy_added=1
    fi
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >/tmp/pvm-apt.log 2>&1
    rc=$?
    [ -n "${pvm_policy_added:-}" ] && rm -f /usr/sbin/policy-rc.d
    if [ $rc != 0 ]; then
        tail -20 /tmp/pvm-apt.log >&2
        echo "apt-get failed (full log: /tmp/pvm-apt.log)" >&2
        return 1
    fi
}

# pvm_build DIR [CONFIGURE ARGS...]: bootstraps autotools if needed and
# builds out of tree in DIR (relative to the source tree).
pvm_build() {
    dir=$1
    shift
    top=$(pwd)
    [ -x ./configure ] && [ configure -nt configure.ac ] || ./autogen.sh || return 1
    mkdir -p "$dir" || return 1
    (
        cd "$dir" || exit 1
        if [ ! -f Makefile ] || [ "$top/configure" -nt config.status ]; then
            "$top/configure" -q "$@" || exit 1
        fi
        make -j"$(nproc)" -s >make.log 2>&1 || { tail -40 make.log >&2; exit 1; }
    )
}
