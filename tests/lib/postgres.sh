# tests/lib/postgres.sh: a throw-away PostgreSQL server for a test script
# (sourced). It listens on a Unix socket only, in a fresh mktemp -d
# directory, and runs as the invoking user, or as `nobody` when that is
# root (PostgreSQL refuses to run as root), with the directory chowned.
#   pg_find               sets PG_BIN (the directory of initdb, pg_ctl,
#                         postgres, psql); 1 when they are missing
#   pg_start [CONF...]    initdb + postgres in the background; sets PG_DIR
#                         (the socket directory, usable as host=), PG_PORT,
#                         PG_LOG (the server log), PG_PID; extra
#                         postgresql.conf lines as arguments; 1 on failure
#   pg_stop               fast shutdown by PID (bounded), then KILL
#   pg_kill               stops it at once (SIGKILL: the server "goes down")
#   pg_restart            starts it again on the same directory and port
#   pg_psql SQL...        runs psql -X -q -v ON_ERROR_STOP=1 on database
#                         postgres as the server's superuser
# Every wait is bounded; nothing is left running after pg_stop.

pg_find() {
    PG_BIN=
    for d in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/postgres" ] && [ -x "$d/psql" ] &&
            PG_BIN=$d
    done
    [ -n "$PG_BIN" ]
}

# Runs a command as the server's user: setpriv execs it in place (so
# that $! is the server's own PID), runuser forks.
pg_as() {
    if [ "$(id -u)" != 0 ]; then
        "$@"
    elif command -v setpriv >/dev/null 2>&1; then
        HOME=/ setpriv --reuid=nobody --regid="$(id -g nobody)" \
            --clear-groups -- "$@"
    else
        runuser -u nobody -- "$@"
    fi
}

PG_PID=
pg_launch() {
    pg_as "$PG_BIN/postgres" -D "$PG_DIR/data" -k "$PG_DIR" -p "$PG_PORT" \
        -c listen_addresses= >>"$PG_LOG" 2>&1 </dev/null &
    PG_PID=$!
    i=0
    while [ $i -lt 150 ]; do
        [ -S "$PG_DIR/.s.PGSQL.$PG_PORT" ] &&
            pg_as "$PG_BIN/psql" -X -q -h "$PG_DIR" -p "$PG_PORT" \
                -U postgres -d postgres -c "SELECT 1" >/dev/null 2>&1 && return 0
        kill -0 "$PG_PID" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    echo "postgres.sh: the server did not start; its log:" >&2
    tail -20 "$PG_LOG" >&2
    return 1
}

pg_start() {
    pg_find || return 1
    PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pvm-pg.XXXXXX") || return 1
    chmod 755 "$PG_DIR"
    PG_LOG=$PG_DIR/server.log
    PG_PORT=${PG_PORT:-5432}
    : >"$PG_LOG"
    [ "$(id -u)" = 0 ] && chown nobody "$PG_DIR" "$PG_LOG"
    pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust \
        --no-sync -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 || {
        echo "postgres.sh: initdb failed:" >&2
        tail -5 "$PG_DIR/initdb.log" >&2
        return 1
    }
    {
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
        for l in "$@"; do echo "$l"; done
    } >>"$PG_DIR/data/postgresql.conf"
    pg_launch
}

pg_psql() {
    pg_as "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" \
        -p "$PG_PORT" -U postgres -d postgres "$@"
}

pg_stop() {
    [ -n "$PG_PID" ] || return 0
    # the postmaster's own PID (runuser's, when it ran through runuser)
    pg_p=$(head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)
    [ -n "$pg_p" ] && kill -INT "$pg_p" 2>/dev/null
    kill -INT "$PG_PID" 2>/dev/null
    i=0
    while { kill -0 "$PG_PID" 2>/dev/null ||
        { [ -n "$pg_p" ] && kill -0 "$pg_p" 2>/dev/null; }; } &&
        [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -n "$pg_p" ] && kill -KILL "$pg_p" 2>/dev/null
    kill -KILL "$PG_PID" 2>/dev/null
    wait "$PG_PID" 2>/dev/null
    PG_PID=
}

pg_kill() {
    [ -n "$PG_PID" ] || return 0
    pg_stop
}

pg_restart() {
    pg_launch
}

# Removes the server's directory (after pg_stop).
pg_clean() {
    [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] && rm -rf "$PG_DIR"
}
