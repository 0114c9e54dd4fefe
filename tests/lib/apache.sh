# tests/lib/apache.sh: start a private Apache httpd (Debian's apache2) in
# front of pvm-fcgi with mod_proxy_fcgi, for the integration tests. Source
# tests/lib/nginx.sh first (pvm_free_port, pvm_wait_port, pvm_stop_pid,
# pvm_sed_escape), then:
#   pvm_apache_conf "$dir" "$port" 127.0.0.1:9000 [/prefix]   (or unix:/path)
#   pvm_apache_start "$dir"        apache2 -f DIR/httpd.conf -DFOREGROUND
#                                  (and $PVM_APACHE_DEFINES: -DPVM_CACHE)
#   pvm_apache_stop "$dir"         TERM, bounded wait, KILL
# Never touches the system service: its own config, pid, logs and runtime
# files in $dir, listening on 127.0.0.1 only. Template:
# conf/apache/pvm-apache.conf.in below $top_srcdir.

# pvm_apache_bin: prints the apache2 binary, or fails with advice.
pvm_apache_bin() {
    pvm_find_bin "apache2 not installed: apt-get install apache2" \
        "${PVM_APACHE:-}" "$(command -v apache2 2>/dev/null)" /usr/sbin/apache2
}

# pvm_apache_conf TMPDIR PORT FCGI_ADDR [PREFIX]: writes TMPDIR/httpd.conf
# and checks it (apache2 -t).
pvm_apache_conf() {
    pvm_ac_dir=$(cd "$1" && pwd) || return 1
    pvm_ac_bin=$(pvm_apache_bin) || return 1
    pvm_ac_tpl=
    for pvm_ac_c in "${top_srcdir:-.}/conf/apache/pvm-apache.conf.in" \
        ./conf/apache/pvm-apache.conf.in; do
        [ -r "$pvm_ac_c" ] && { pvm_ac_tpl=$pvm_ac_c; break; }
    done
    [ -n "$pvm_ac_tpl" ] || {
        echo "pvm_apache_conf: conf/apache/pvm-apache.conf.in not found" >&2
        return 1
    }
    case "$3" in
    unix:*) pvm_ac_url="unix:${3#unix:}|fcgi://localhost" ;;
    *) pvm_ac_url="fcgi://$3" ;;
    esac
    pvm_ac_user=
    # Apache refuses to serve as root: its children run as www-data (they
    # only talk to the backend; a unix socket must let them connect).
    if [ "$(id -u)" = 0 ]; then
        pvm_ac_user="User www-data
Group www-data"
        id www-data >/dev/null 2>&1 || pvm_ac_user="User nobody
Group nogroup"
    fi
    pvm_ac_moddir=${PVM_APACHE_MODDIR:-/usr/lib/apache2/modules}
    sed -e "s|@TMPDIR@|$(pvm_sed_escape "$pvm_ac_dir")|g" \
        -e "s|@PORT@|$(pvm_sed_escape "$2")|g" \
        -e "s|@MODDIR@|$(pvm_sed_escape "$pvm_ac_moddir")|g" \
        -e "s|@PROXY_URL@|$(pvm_sed_escape "$pvm_ac_url")|g" \
        -e "s|@API_PREFIX@|$(pvm_sed_escape "${4%/}")|g" \
        "$pvm_ac_tpl" | awk -v u="$pvm_ac_user" '$0 == "@USER@" { print u; next } { print }' \
        >"$pvm_ac_dir/httpd.conf" || return 1
    echo "$2" >"$pvm_ac_dir/httpd.port"
    chmod 755 "$pvm_ac_dir" 2>/dev/null
    # CacheRoot of -DPVM_CACHE: written by the children (www-data as root)
    mkdir -p "$pvm_ac_dir/cache" && chmod 1777 "$pvm_ac_dir/cache"
    "$pvm_ac_bin" -t -f "$pvm_ac_dir/httpd.conf" ${PVM_APACHE_DEFINES:-} \
        >"$pvm_ac_dir/httpd-t.log" 2>&1 || {
        echo "pvm_apache_conf: apache2 -t failed:" >&2
        cat "$pvm_ac_dir/httpd-t.log" >&2
        return 1
    }
}

# pvm_apache_start TMPDIR [SECONDS]: starts apache2 -DFOREGROUND in the
# background, waits until its port answers; PID in TMPDIR/httpd.main.pid.
pvm_apache_start() {
    pvm_as_dir=$(cd "$1" && pwd) || return 1
    pvm_as_bin=$(pvm_apache_bin) || return 1
    pvm_server_start pvm_apache_start "$pvm_as_dir" httpd "${2:-10}" \
        "$pvm_as_bin" -f "$pvm_as_dir/httpd.conf" -DFOREGROUND \
        ${PVM_APACHE_DEFINES:-}
}

# pvm_apache_stop TMPDIR [SECONDS]: TERM to the parent (it stops its
# children), bounded wait, KILL.
pvm_apache_stop() {
    pvm_ax_pid=$(cat "$1/httpd.main.pid" 2>/dev/null) || return 0
    pvm_stop_pid "$pvm_ax_pid" "${2:-10}"
    rm -f "$1/httpd.main.pid"
}
