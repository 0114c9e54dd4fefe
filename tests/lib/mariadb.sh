# tests/lib/mariadb.sh: a private MariaDB server for the integration tests
# and the benchmark, in a directory of the caller's (a mktemp -d), run as
# the invoking user (mariadbd --user=root when uid is 0). Source it after
# tests/lib/nginx.sh (pvm_free_port, pvm_stop_pid), then:
#   pvm_mariadb_bins || skip          the binaries, or a line saying what
#                                     is missing (return 1)
#   pvm_mariadb_init DIR              mariadb-install-db into DIR/data
#                                     (root with an empty password, no
#                                     test database)
#   pvm_mariadb_start DIR [SECONDS]   mariadbd on DIR/mysqld.sock and
#                                     127.0.0.1:PORT, waits until it
#                                     answers; sets PVM_MARIADB_PID,
#                                     PVM_MARIADB_PORT, PVM_MARIADB_SOCK
#   pvm_mariadb_sql DIR [ARGS...]     the mariadb client as root over the
#                                     socket, SQL on stdin (or -e '...')
#   pvm_mariadb_stop [SECONDS]        TERM by PID, bounded wait, KILL
# The data directory survives a stop: pvm_mariadb_start DIR again starts
# the same server on the same port (the "server down and back" cases).
# Every wait is bounded; nothing listens beyond 127.0.0.1 and the socket.
# Environment: PVM_MARIADBD (default /usr/sbin/mariadbd), PVM_MARIADB
# (client, default mariadb in PATH), PVM_MARIADB_INSTALL_DB (default
# mariadb-install-db in PATH), PVM_MARIADB_ARGS (extra mariadbd options).

PVM_MARIADB_PID=
PVM_MARIADB_PORT=
PVM_MARIADB_SOCK=

# pvm_mariadb_bins: 0 when the server, its installer and the client are
# there; otherwise prints which is missing and returns 1.
pvm_mariadb_bins() {
    PVM_MARIADBD=${PVM_MARIADBD:-/usr/sbin/mariadbd}
    PVM_MARIADB=${PVM_MARIADB:-$(command -v mariadb 2>/dev/null)}
    PVM_MARIADB_INSTALL_DB=${PVM_MARIADB_INSTALL_DB:-$(command -v mariadb-install-db 2>/dev/null)}
    pvm_mb_miss=
    [ -x "$PVM_MARIADBD" ] || pvm_mb_miss="$pvm_mb_miss mariadbd"
    [ -n "$PVM_MARIADB" ] && [ -x "$PVM_MARIADB" ] ||
        pvm_mb_miss="$pvm_mb_miss mariadb"
    [ -n "$PVM_MARIADB_INSTALL_DB" ] && [ -x "$PVM_MARIADB_INSTALL_DB" ] ||
        pvm_mb_miss="$pvm_mb_miss mariadb-install-db"
    [ -z "$pvm_mb_miss" ] && return 0
    echo "MariaDB server missing ($pvm_mb_miss): tests/deps.sh installs mariadb-server"
    return 1
}

# The --user option: mariadbd refuses to run as root without it.
pvm_mariadb_user() {
    echo "--user=$(id -un)"
}

# pvm_mariadb_init DIR: a fresh data directory DIR/data (install log in
# DIR/install.log).
pvm_mariadb_init() {
    mkdir -p "$1" || return 1
    "$PVM_MARIADB_INSTALL_DB" --no-defaults --datadir="$1/data" \
        "$(pvm_mariadb_user)" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve >"$1/install.log" 2>&1 || {
        echo "pvm_mariadb_init: mariadb-install-db failed:" >&2
        tail -20 "$1/install.log" >&2
        return 1
    }
}

# pvm_mariadb_start DIR [SECONDS]: see the top. The port is kept in
# DIR/port so that a restart listens where the clients expect it.
pvm_mariadb_start() {
    pvm_ms_dir=$1
    pvm_ms_n=$(( ${2:-20} * 10 ))
    if [ -s "$pvm_ms_dir/port" ]; then
        PVM_MARIADB_PORT=$(cat "$pvm_ms_dir/port")
    else
        PVM_MARIADB_PORT=$(pvm_free_port) || return 1
        echo "$PVM_MARIADB_PORT" >"$pvm_ms_dir/port"
    fi
    PVM_MARIADB_SOCK=$pvm_ms_dir/mysqld.sock
    # small buffers: the test data is tiny and many sessions share the box
    "$PVM_MARIADBD" --no-defaults --datadir="$pvm_ms_dir/data" \
        "$(pvm_mariadb_user)" --socket="$PVM_MARIADB_SOCK" \
        --port="$PVM_MARIADB_PORT" --bind-address=127.0.0.1 \
        --pid-file="$pvm_ms_dir/mysqld.pid" \
        --log-error="$pvm_ms_dir/error.log" --skip-name-resolve \
        --innodb-buffer-pool-size=32M --skip-log-bin \
        ${PVM_MARIADB_ARGS:-} </dev/null >>"$pvm_ms_dir/mariadbd.out" 2>&1 &
    PVM_MARIADB_PID=$!
    while [ "$pvm_ms_n" -gt 0 ]; do
        if [ -S "$PVM_MARIADB_SOCK" ] &&
            pvm_mariadb_sql "$pvm_ms_dir" -e 'SELECT 1' >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$PVM_MARIADB_PID" 2>/dev/null; then
            echo "pvm_mariadb_start: mariadbd exited:" >&2
            tail -20 "$pvm_ms_dir/error.log" >&2
            PVM_MARIADB_PID=
            return 1
        fi
        sleep 0.1
        pvm_ms_n=$((pvm_ms_n - 1))
    done
    echo "pvm_mariadb_start: mariadbd does not answer after ${2:-20} s" >&2
    tail -20 "$pvm_ms_dir/error.log" >&2
    pvm_mariadb_stop 5
    return 1
}

# pvm_mariadb_sql DIR [ARGS...]: the client as root over DIR's socket,
# batch mode (tab-separated, no headers with -N).
pvm_mariadb_sql() {
    pvm_mq_dir=$1
    shift
    "$PVM_MARIADB" --no-defaults --socket="$pvm_mq_dir/mysqld.sock" \
        --user=root --batch --connect-timeout=5 "$@"
}

# pvm_mariadb_stop [SECONDS]: stops the server started last, by PID.
pvm_mariadb_stop() {
    [ -n "$PVM_MARIADB_PID" ] || return 0
    pvm_stop_pid "$PVM_MARIADB_PID" "${1:-20}"
    PVM_MARIADB_PID=
}
