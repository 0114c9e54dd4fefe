# tests/lib/nginx.sh: start a private nginx in front of pvm-fcgi, for the
# integration tests and ./run.sh. Source it (bash, or a POSIX sh with bash
# installed), then:
#   port=$(pvm_free_port)                       a free port on 127.0.0.1
#   pvm_nginx_conf "$dir" "$port" 127.0.0.1:9000 [/prefix]
#   pvm_nginx_start "$dir"                      background, waits for port
#   pvm_nginx_stop "$dir"                       TERM, bounded wait, KILL
# Everything nginx writes (pid, logs, temp files) stays in $dir. Only
# 127.0.0.1 is ever listened on or connected to. Every wait is bounded.
# Functions return nonzero and print a message on stderr on failure.
#
# Environment: PVM_NGINX (nginx binary; default: nginx in PATH, then
# /usr/sbin/nginx), PVM_NGINX_TEMPLATE (default: conf/nginx/pvm-nginx.conf.in
# below $top_srcdir, next to this file under bash, or below the current
# directory).

if [ -n "${BASH_VERSION:-}" ] && [ -n "${BASH_SOURCE[0]:-}" ]; then
    pvm_nginx_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
else
    pvm_nginx_lib_dir=
fi

# pvm_nginx_bin: prints the nginx binary, or fails with install advice.
pvm_nginx_bin() {
    if [ -n "${PVM_NGINX:-}" ]; then
        echo "$PVM_NGINX"
        return 0
    fi
    if command -v nginx >/dev/null 2>&1; then
        command -v nginx
        return 0
    fi
    for pvm_nb_c in /usr/sbin/nginx /usr/local/sbin/nginx; do
        if [ -x "$pvm_nb_c" ]; then
            echo "$pvm_nb_c"
            return 0
        fi
    done
    echo "nginx not installed: run ./test.sh (installs it) or apt-get install nginx-light" >&2
    return 1
}

# pvm_nginx_template: prints the path of pvm-nginx.conf.in.
pvm_nginx_template() {
    if [ -n "${PVM_NGINX_TEMPLATE:-}" ]; then
        echo "$PVM_NGINX_TEMPLATE"
        return 0
    fi
    for pvm_nt_c in "${top_srcdir:-}/conf/nginx/pvm-nginx.conf.in" \
        "$pvm_nginx_lib_dir/../../conf/nginx/pvm-nginx.conf.in" \
        "./conf/nginx/pvm-nginx.conf.in"; do
        if [ -r "$pvm_nt_c" ]; then
            echo "$pvm_nt_c"
            return 0
        fi
    done
    echo "pvm_nginx_template: conf/nginx/pvm-nginx.conf.in not found (set top_srcdir or PVM_NGINX_TEMPLATE)" >&2
    return 1
}

# pvm_port_is_open PORT: true when something accepts on 127.0.0.1:PORT.
pvm_port_is_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# pvm_free_port: prints a port on 127.0.0.1 that nothing listens on.
# Random in 20000..59999, skipping ports handed out before by this shell
# (PVM_PORTS_USED) and, when ss is available, any port in use. Racy by
# nature; the callers fail clearly if a bind fails.
pvm_free_port() {
    pvm_fp_i=0
    while [ "$pvm_fp_i" -lt 100 ]; do
        pvm_fp_i=$((pvm_fp_i + 1))
        pvm_fp_p=$(( ( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000 ) + 20000 ))
        case " ${PVM_PORTS_USED:-} " in
        *" $pvm_fp_p "*) continue ;;
        esac
        if command -v ss >/dev/null 2>&1 &&
            ss -Htan 2>/dev/null | awk '{print $4}' | grep -q ":$pvm_fp_p\$"; then
            continue
        fi
        if pvm_port_is_open "$pvm_fp_p"; then
            continue
        fi
        PVM_PORTS_USED="${PVM_PORTS_USED:-} $pvm_fp_p"
        echo "$pvm_fp_p"
        return 0
    done
    echo "pvm_free_port: no free port found in 100 tries" >&2
    return 1
}

# pvm_wait_port PORT SECONDS [PID]: waits until 127.0.0.1:PORT accepts;
# fails after SECONDS or as soon as process PID (if given) has exited.
pvm_wait_port() {
    pvm_wp_n=$(( $2 * 10 ))
    while [ "$pvm_wp_n" -gt 0 ]; do
        if pvm_port_is_open "$1"; then
            return 0
        fi
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
            echo "pvm_wait_port: process $3 exited before port $1 opened" >&2
            return 1
        fi
        sleep 0.1
        pvm_wp_n=$((pvm_wp_n - 1))
    done
    echo "pvm_wait_port: nothing listens on 127.0.0.1:$1 after $2 s" >&2
    return 1
}

# pvm_wait_path PATH SECONDS [PID]: waits until a unix socket (or any file)
# exists at PATH; bounded like pvm_wait_port.
pvm_wait_path() {
    pvm_wa_n=$(( $2 * 10 ))
    while [ "$pvm_wa_n" -gt 0 ]; do
        if [ -e "$1" ]; then
            return 0
        fi
        if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
            echo "pvm_wait_path: process $3 exited before $1 appeared" >&2
            return 1
        fi
        sleep 0.1
        pvm_wa_n=$((pvm_wa_n - 1))
    done
    echo "pvm_wait_path: $1 did not appear after $2 s" >&2
    return 1
}

# pvm_wait_grep PATTERN FILE SECONDS: waits until FILE has a line matching
# the basic regular expression PATTERN (a log line written by a process
# that is already serving, such as a worker's startup); bounded like
# pvm_wait_port, silent: the caller's check says what was expected.
pvm_wait_grep() {
    pvm_wg_n=$(( $3 * 10 ))
    while ! grep -q -- "$1" "$2" 2>/dev/null; do
        [ "$pvm_wg_n" -gt 0 ] || return 1
        sleep 0.1
        pvm_wg_n=$((pvm_wg_n - 1))
    done
}

# pvm_stop_pid PID [SECONDS]: TERM, waits up to SECONDS (default 10) for
# the process to exit, then KILL. Only this PID is signalled (a master
# process is expected to stop its own workers). Returns 0 once it is gone.
pvm_stop_pid() {
    [ -n "$1" ] || return 0
    kill -0 "$1" 2>/dev/null || return 0
    kill -TERM "$1" 2>/dev/null
    pvm_sp_n=$(( ${2:-10} * 10 ))
    while [ "$pvm_sp_n" -gt 0 ] && kill -0 "$1" 2>/dev/null; do
        sleep 0.1
        pvm_sp_n=$((pvm_sp_n - 1))
    done
    if kill -0 "$1" 2>/dev/null; then
        echo "pvm_stop_pid: $1 did not stop after TERM: KILL" >&2
        kill -KILL "$1" 2>/dev/null
    fi
    wait "$1" 2>/dev/null
    return 0
}

# pvm_sed_escape STRING: escapes STRING for the replacement side of sed s|||.
pvm_sed_escape() {
    printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

# pvm_nginx_conf TMPDIR PORT FCGI_ADDR [PREFIX]: writes TMPDIR/nginx.conf
# (and TMPDIR/fastcgi_params, TMPDIR/nginx.port). FCGI_ADDR is
# 127.0.0.1:PORT or unix:/path. PREFIX is "" or "/path" (no trailing slash).
pvm_nginx_conf() {
    if [ $# -lt 3 ]; then
        echo "usage: pvm_nginx_conf TMPDIR PORT FCGI_ADDR [PREFIX]" >&2
        return 2
    fi
    pvm_nc_dir=$(cd "$1" && pwd) || return 1
    pvm_nc_tpl=$(pvm_nginx_template) || return 1
    pvm_nc_bin=$(pvm_nginx_bin) || return 1
    pvm_nc_prefix=${4:-}
    pvm_nc_prefix=${pvm_nc_prefix%/}
    pvm_nc_user=
    if [ "$(id -u)" = 0 ]; then
        pvm_nc_user="user root $(id -gn root 2>/dev/null || echo root);"
    fi
    # Optional modules create default temp dirs (/var/lib/nginx/...) at
    # startup, which a non-root nginx cannot: point them into TMPDIR.
    pvm_nc_temp=
    pvm_nc_v=$("$pvm_nc_bin" -V 2>&1)
    case "$pvm_nc_v" in *--without-http_scgi_module*) ;;
    *) pvm_nc_temp="scgi_temp_path $pvm_nc_dir/scgi;" ;; esac
    case "$pvm_nc_v" in *--without-http_uwsgi_module*) ;;
    *) pvm_nc_temp="$pvm_nc_temp uwsgi_temp_path $pvm_nc_dir/uwsgi;" ;; esac
    if [ -r /etc/nginx/fastcgi_params ]; then
        cp /etc/nginx/fastcgi_params "$pvm_nc_dir/fastcgi_params" || return 1
    else
        cat >"$pvm_nc_dir/fastcgi_params" <<'PVM_EOF'
fastcgi_param  QUERY_STRING       $query_string;
fastcgi_param  REQUEST_METHOD     $request_method;
fastcgi_param  CONTENT_TYPE       $content_type;
fastcgi_param  CONTENT_LENGTH     $content_length;
fastcgi_param  SCRIPT_NAME        $fastcgi_script_name;
fastcgi_param  REQUEST_URI        $request_uri;
fastcgi_param  DOCUMENT_URI       $document_uri;
fastcgi_param  DOCUMENT_ROOT      $document_root;
fastcgi_param  SERVER_PROTOCOL    $server_protocol;
fastcgi_param  REQUEST_SCHEME     $scheme;
fastcgi_param  HTTPS              $https if_not_empty;
fastcgi_param  GATEWAY_INTERFACE  CGI/1.1;
fastcgi_param  SERVER_SOFTWARE    nginx/$nginx_version;
fastcgi_param  REMOTE_ADDR        $remote_addr;
fastcgi_param  REMOTE_PORT        $remote_port;
fastcgi_param  REMOTE_USER        $remote_user;
fastcgi_param  SERVER_ADDR        $server_addr;
fastcgi_param  SERVER_PORT        $server_port;
fastcgi_param  SERVER_NAME        $server_name;
PVM_EOF
    fi
    sed -e "s|@TMPDIR@|$(pvm_sed_escape "$pvm_nc_dir")|g" \
        -e "s|@PORT@|$(pvm_sed_escape "$2")|g" \
        -e "s|@FCGI_PASS@|$(pvm_sed_escape "$3")|g" \
        -e "s|@API_PREFIX@|$(pvm_sed_escape "$pvm_nc_prefix")|g" \
        -e "s|@USER@|$(pvm_sed_escape "$pvm_nc_user")|g" \
        -e "s|@TEMP_PATHS@|$(pvm_sed_escape "$pvm_nc_temp")|g" \
        "$pvm_nc_tpl" >"$pvm_nc_dir/nginx.conf" || return 1
    echo "$2" >"$pvm_nc_dir/nginx.port"
    # Workers (possibly another user) must read the params and write logs.
    chmod 755 "$pvm_nc_dir" 2>/dev/null
    "$pvm_nc_bin" -t -q -p "$pvm_nc_dir" -c "$pvm_nc_dir/nginx.conf" \
        -e "$pvm_nc_dir/error.log" >>"$pvm_nc_dir/nginx-t.log" 2>&1 || {
        echo "pvm_nginx_conf: nginx -t failed:" >&2
        cat "$pvm_nc_dir/nginx-t.log" >&2
        return 1
    }
}

# pvm_nginx_start TMPDIR [SECONDS]: starts nginx in the background on the
# config written by pvm_nginx_conf, waits (default 10 s) until its port
# answers, and records the master PID in TMPDIR/nginx.master.pid (also in
# $PVM_NGINX_PID). nginx's stderr goes to TMPDIR/nginx.stderr.
pvm_nginx_start() {
    pvm_ns_dir=$(cd "$1" && pwd) || return 1
    pvm_ns_bin=$(pvm_nginx_bin) || return 1
    pvm_ns_port=$(cat "$pvm_ns_dir/nginx.port" 2>/dev/null) || {
        echo "pvm_nginx_start: $pvm_ns_dir/nginx.port missing: run pvm_nginx_conf first" >&2
        return 1
    }
    "$pvm_ns_bin" -p "$pvm_ns_dir" -c "$pvm_ns_dir/nginx.conf" \
        -e "$pvm_ns_dir/error.log" </dev/null >"$pvm_ns_dir/nginx.stderr" 2>&1 &
    PVM_NGINX_PID=$!
    echo "$PVM_NGINX_PID" >"$pvm_ns_dir/nginx.master.pid"
    if ! pvm_wait_port "$pvm_ns_port" "${2:-10}" "$PVM_NGINX_PID"; then
        echo "pvm_nginx_start: nginx did not come up; its logs:" >&2
        cat "$pvm_ns_dir/nginx.stderr" "$pvm_ns_dir/error.log" >&2 2>/dev/null
        pvm_stop_pid "$PVM_NGINX_PID" 5
        return 1
    fi
    return 0
}

# pvm_find_bin ADVICE CANDIDATE...: prints the first CANDIDATE that is
# an executable file (empty ones are passed over); fails with ADVICE on
# stderr when there is none (lighttpd.sh, apache.sh).
pvm_find_bin() {
    pvm_fb_advice=$1
    shift
    for pvm_fb_c in "$@"; do
        if [ -n "$pvm_fb_c" ] && [ -x "$pvm_fb_c" ]; then
            echo "$pvm_fb_c"
            return 0
        fi
    done
    echo "$pvm_fb_advice" >&2
    return 1
}

# pvm_server_start FUNC DIR BASE SECONDS COMMAND...: starts the web server
# COMMAND (in the foreground mode) in the background, its output in
# DIR/BASE.stderr, its PID in DIR/BASE.main.pid and PVM_SERVER_PID, and
# waits up to SECONDS until the port in DIR/BASE.port answers; when it
# does not, shows DIR/BASE.stderr and DIR/error.log (FUNC, the caller,
# says so), stops it and fails (lighttpd.sh, apache.sh).
pvm_server_start() {
    pvm_ss_func=$1 pvm_ss_dir=$2 pvm_ss_base=$3 pvm_ss_secs=$4
    shift 4
    pvm_ss_port=$(cat "$pvm_ss_dir/$pvm_ss_base.port") || return 1
    "$@" </dev/null >"$pvm_ss_dir/$pvm_ss_base.stderr" 2>&1 &
    PVM_SERVER_PID=$!
    echo "$PVM_SERVER_PID" >"$pvm_ss_dir/$pvm_ss_base.main.pid"
    if ! pvm_wait_port "$pvm_ss_port" "$pvm_ss_secs" "$PVM_SERVER_PID"; then
        echo "$pvm_ss_func: $(basename "$1") did not come up; its logs:" >&2
        cat "$pvm_ss_dir/$pvm_ss_base.stderr" "$pvm_ss_dir/error.log" >&2 2>/dev/null
        pvm_stop_pid "$PVM_SERVER_PID" 5
        return 1
    fi
}

# pvm_nginx_stop TMPDIR [SECONDS]: stops the nginx started by
# pvm_nginx_start (TERM = fast shutdown, bounded wait, then KILL).
pvm_nginx_stop() {
    pvm_nx_pid=$(cat "$1/nginx.master.pid" 2>/dev/null) || return 0
    pvm_stop_pid "$pvm_nx_pid" "${2:-10}"
    rm -f "$1/nginx.master.pid"
}

# pvm_test_finish NAME TMP RC LINES FILE...: the end of an integration
# script's cleanup: when RC is not 0 shows the last LINES lines of each
# non-empty FILE (the logs), then removes TMP (kept with PVM_KEEP_TMP=1,
# for debugging) and exits with RC.
pvm_test_finish() {
    pvm_tf_name=$1
    pvm_tf_tmp=$2
    pvm_tf_rc=$3
    pvm_tf_lines=$4
    shift 4
    if [ "$pvm_tf_rc" != 0 ]; then
        for pvm_tf_f in "$@"; do
            [ -s "$pvm_tf_f" ] || continue
            echo "----- $pvm_tf_f (last $pvm_tf_lines lines)"
            tail -n "$pvm_tf_lines" "$pvm_tf_f"
        done
    fi
    if [ "${PVM_KEEP_TMP:-0}" = 1 ]; then
        echo "$pvm_tf_name: kept $pvm_tf_tmp"
    else
        rm -rf "$pvm_tf_tmp"
    fi
    exit "$pvm_tf_rc"
}
