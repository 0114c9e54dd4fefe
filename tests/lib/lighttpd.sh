# tests/lib/lighttpd.sh: start a private lighttpd in front of pvm-fcgi, for
# the integration tests. Source tests/lib/nginx.sh first (pvm_free_port,
# pvm_wait_port, pvm_stop_pid, pvm_sed_escape), then:
#   pvm_lighttpd_conf "$dir" "$port" 127.0.0.1:9000 [/prefix]
#   pvm_lighttpd_conf_binpath "$dir" "$port" "CMD ARGS" /path/sock [/prefix]
#   pvm_lighttpd_start "$dir"              foreground (-D) in the background
#   pvm_lighttpd_stop "$dir"               TERM, bounded wait, KILL
# Everything lighttpd writes (pid, logs) stays in $dir; it listens on
# 127.0.0.1 only. Templates: conf/lighttpd/*.conf.in below $top_srcdir.

# pvm_lighttpd_bin: prints the lighttpd binary, or fails with advice.
pvm_lighttpd_bin() {
    pvm_find_bin "lighttpd not installed: apt-get install lighttpd lighttpd-mod-deflate" \
        "${PVM_LIGHTTPD:-}" "$(command -v lighttpd 2>/dev/null)" /usr/sbin/lighttpd
}

# pvm_lighttpd_fill TMPDIR PORT TEMPLATE FCGI PREFIX BIN SOCKET: writes
# TMPDIR/lighttpd.conf and checks it (lighttpd -tt).
pvm_lighttpd_fill() {
    pvm_lf_dir=$(cd "$1" && pwd) || return 1
    pvm_lf_bin=$(pvm_lighttpd_bin) || return 1
    # As root lighttpd keeps running as root (it refuses to "switch" to
    # uid 0): nothing to set. Production configs set www-data.
    pvm_lf_user=
    pvm_lf_prefix=${5%/}
    sed -e "s|@TMPDIR@|$(pvm_sed_escape "$pvm_lf_dir")|g" \
        -e "s|@PORT@|$(pvm_sed_escape "$2")|g" \
        -e "s|@FCGI@|$(pvm_sed_escape "$4")|g" \
        -e "s|@API_PREFIX@|$(pvm_sed_escape "$pvm_lf_prefix")|g" \
        -e "s|@USER@|$(pvm_sed_escape "$pvm_lf_user")|g" \
        -e "s|@BIN_PATH@|$(pvm_sed_escape "$6")|g" \
        -e "s|@SOCKET@|$(pvm_sed_escape "$7")|g" \
        "$3" >"$pvm_lf_dir/lighttpd.conf" || return 1
    echo "$2" >"$pvm_lf_dir/lighttpd.port"
    chmod 755 "$pvm_lf_dir" 2>/dev/null
    "$pvm_lf_bin" -tt -f "$pvm_lf_dir/lighttpd.conf" \
        >"$pvm_lf_dir/lighttpd-t.log" 2>&1 &&
        ! grep -q WARNING "$pvm_lf_dir/lighttpd-t.log" || {
        echo "pvm_lighttpd_conf: lighttpd -tt failed:" >&2
        cat "$pvm_lf_dir/lighttpd-t.log" >&2
        return 1
    }
}

# pvm_lighttpd_template NAME: prints the path of conf/lighttpd/NAME.
pvm_lighttpd_template() {
    for pvm_lt_c in "${top_srcdir:-.}/conf/lighttpd/$1" "./conf/lighttpd/$1"; do
        if [ -r "$pvm_lt_c" ]; then
            echo "$pvm_lt_c"
            return 0
        fi
    done
    echo "pvm_lighttpd_template: conf/lighttpd/$1 not found (set top_srcdir)" >&2
    return 1
}

# pvm_lighttpd_conf TMPDIR PORT FCGI_ADDR [PREFIX]: lighttpd in front of a
# running pvm-fcgi at 127.0.0.1:PORT or unix:/path.
pvm_lighttpd_conf() {
    pvm_lc_tpl=$(pvm_lighttpd_template pvm-lighttpd.conf.in) || return 1
    case "$3" in
    unix:*) pvm_lc_fcgi="\"socket\" => \"${3#unix:}\"" ;;
    *) pvm_lc_fcgi="\"host\" => \"${3%:*}\", \"port\" => ${3##*:}" ;;
    esac
    pvm_lighttpd_fill "$1" "$2" "$pvm_lc_tpl" "$pvm_lc_fcgi" "${4:-}" "" ""
}

# pvm_lighttpd_conf_binpath TMPDIR PORT COMMAND SOCKET [PREFIX]: lighttpd
# spawning COMMAND (pvm-fcgi with a config without `listen`) on SOCKET.
pvm_lighttpd_conf_binpath() {
    pvm_lb_tpl=$(pvm_lighttpd_template pvm-lighttpd-binpath.conf.in) || return 1
    pvm_lighttpd_fill "$1" "$2" "$pvm_lb_tpl" "" "${5:-}" "$3" "$4"
}

# pvm_lighttpd_start TMPDIR [SECONDS]: starts lighttpd -D in the
# background, waits until its port answers; PID in TMPDIR/lighttpd.main.pid.
pvm_lighttpd_start() {
    pvm_ls_dir=$(cd "$1" && pwd) || return 1
    pvm_ls_bin=$(pvm_lighttpd_bin) || return 1
    pvm_server_start pvm_lighttpd_start "$pvm_ls_dir" lighttpd "${2:-10}" \
        "$pvm_ls_bin" -D -f "$pvm_ls_dir/lighttpd.conf"
}

# pvm_lighttpd_stop TMPDIR [SECONDS]: stops it (TERM; lighttpd also stops
# the bin-path processes it spawned).
pvm_lighttpd_stop() {
    pvm_lx_pid=$(cat "$1/lighttpd.main.pid" 2>/dev/null) || return 0
    pvm_stop_pid "$pvm_lx_pid" "${2:-10}"
    rm -f "$1/lighttpd.main.pid"
}
