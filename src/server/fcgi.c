/* fcgi.c: listening sockets and the FastCGI accept loop (see fcgi.h). One
 * request at a time; each request gets a fresh arena (reset, not freed,
 * between requests) that owns everything it allocates. */

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "fcgi.h"
#include "fcgi_wait.h"
#include "output.h"
#include "shm.h"

/* Connections waiting for a worker. nginx opens one upstream connection
 * per client request in flight: with a short queue, a burst of more than
 * 128 overflows it and the kernel drops the SYNs, which clients see as
 * 1 s + 3 s retransmission stalls (wrk at 256 connections: timeouts).
 * nginx and PHP-FPM use 511; the kernel caps it at net.core.somaxconn. */
#define LISTEN_BACKLOG 1024

/* Whether a server answers on the unix socket at sa: 1 yes, 0 nobody (a
 * stale socket file), -1 cannot tell (errno set). */
static int unix_socket_is_live(const struct sockaddr_un *sa)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    int e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
        return 1; /* accepted, or a full backlog: alive either way */
    if (e == ECONNREFUSED || e == ENOENT)
        return 0;
    errno = e;
    return -1;
}

/* Listens on a unix socket created with mode 0660 (owner and group: the
 * web server's user belongs to the group). A socket file left by an
 * earlier run is replaced; one a live server answers on is not. */
static int listen_unix(const char *path, pvm_error *err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "unix socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        int live = unix_socket_is_live(&sa);
        if (live > 0)
            return pvm_error_set(err, PVM_ERR_INTERNAL,
                                 "cannot listen on unix:%s: another server "
                                 "is listening there (stop it first, or "
                                 "choose another path)",
                                 path);
        if (live < 0)
            return pvm_error_set(err, PVM_ERR_INTERNAL,
                                 "cannot listen on unix:%s: cannot tell "
                                 "whether a server uses it: %s",
                                 path, strerror(errno));
        unlink(path); /* a stale socket of an earlier run */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "socket: %s",
                             strerror(errno));
    mode_t old = umask(0117); /* the socket file: rw-rw---- */
    int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
        int e = errno;
        close(fd);
        return pvm_error_set(err, PVM_ERR_INTERNAL,
                             "cannot listen on unix:%s: %s", path,
                             strerror(e));
    }
    return fd;
}

/* Splits "host:port" or "[v6]:port" into host and port buffers. */
static int split_host_port(const char *spec, char *host, size_t hn, char *port,
                           size_t pn)
{
    const char *colon;
    const char *h = spec;
    size_t hl;
    if (*spec == '[') {
        const char *close_br = strchr(spec, ']');
        if (!close_br || close_br[1] != ':')
            return -1;
        h = spec + 1;
        hl = (size_t)(close_br - h);
        colon = close_br + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon)
            return -1;
        hl = (size_t)(colon - spec);
    }
    if (hl == 0 || hl >= hn || strlen(colon + 1) == 0 ||
        strlen(colon + 1) >= pn)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    strcpy(port, colon + 1);
    return 0;
}

static int listen_tcp(const char *spec, pvm_error *err)
{
    char host[256], port[32];
    if (split_host_port(spec, host, sizeof(host), port, sizeof(port)) < 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "invalid listen address '%s' (expected "
                             "HOST:PORT, [V6ADDR]:PORT or unix:/path)",
                             spec);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "cannot resolve '%s': %s",
                             spec, gai_strerror(rc));
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            listen(fd, LISTEN_BACKLOG) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "cannot listen on %s: %s",
                             spec, strerror(e));
    return fd;
}

int pvm_fcgi_listen(const char *spec, pvm_error *err)
{
    if (spec && strncmp(spec, "unix:", 5) == 0)
        return listen_unix(spec + 5, err);
    if (spec)
        return listen_tcp(spec, err);
    int type;
    socklen_t len = sizeof(type);
    if (getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
        type != SOCK_STREAM)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "no [server] listen address is set and standard "
                             "input is not a socket: set listen = "
                             "127.0.0.1:9000 in the config, or let a web "
                             "server or spawn-fcgi start pvm-fcgi");
    return 0;
}

/* "HTTP_USER_AGENT" -> "User-Agent" */
static char *header_name(pvm_arena *a, const char *env, size_t len)
{
    char *n = pvm_arena_strndup(a, env, len);
    if (!n)
        return NULL;
    bool up = true;
    for (char *p = n; *p; p++) {
        if (*p == '_') {
            *p = '-';
            up = true;
        } else {
            *p = up ? *p : (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
            up = false;
        }
    }
    return n;
}

/* Collects HTTP_* parameters (and CONTENT_TYPE/LENGTH) as headers. */
static int collect_headers(pvm_arena *a, FCGX_ParamArray envp,
                           pvm_http_request *hr)
{
    size_t n = 0;
    for (char **e = envp; *e; e++)
        n++;
    pvm_kv *h = pvm_arena_calloc(a, n + 1, sizeof(*h));
    if (!h)
        return PVM_ERR_NOMEM;
    size_t k = 0;
    for (char **e = envp; *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        const char *name = *e;
        size_t len = (size_t)(eq - *e);
        if (len > 5 && strncmp(name, "HTTP_", 5) == 0) {
            name += 5;
            len -= 5;
        } else if (!(len == 12 && strncmp(name, "CONTENT_TYPE", 12) == 0) &&
                   !(len == 14 && strncmp(name, "CONTENT_LENGTH", 14) == 0)) {
            continue;
        }
        h[k].key = header_name(a, name, len);
        h[k].value = eq + 1;
        if (!h[k].key)
            return PVM_ERR_NOMEM;
        k++;
    }
    hr->headers = h;
    hr->nheaders = k;
    return 0;
}

/* Reads the body until the end of the FastCGI stdin stream, when the web
 * server gave no CONTENT_LENGTH (Apache's mod_proxy_fcgi forwards a
 * chunked request body that way); at most max bytes. */
static int read_body_to_eof(pvm_arena *a, FCGX_Request *req, size_t max,
                            pvm_http_request *hr)
{
    size_t cap = 0, len = 0;
    char *buf = NULL;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16384;
            if (ncap > max + 1)
                ncap = max + 1;
            char *nb = pvm_arena_realloc(a, buf, buf ? cap + 1 : 0, ncap + 1);
            if (!nb)
                return PVM_ERR_NOMEM;
            buf = nb;
            cap = ncap;
        }
        size_t want = cap - len;
        int got = FCGX_GetStr(buf + len,
                              want > (1u << 30) ? 1 << 30 : (int)want,
                              req->in);
        if (got <= 0)
            break;
        len += (size_t)got;
        if (len > max) {
            hr->body_too_large = true;
            return 0;
        }
    }
    if (len == 0)
        return 0;
    buf[len] = '\0';
    hr->body = buf;
    hr->body_len = len;
    return 0;
}

/* Reads the body (up to max bytes); sets body_too_large beyond. */
static int read_body(pvm_arena *a, FCGX_Request *req, size_t max,
                     pvm_http_request *hr)
{
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", req->envp);
    if (!cl || !*cl)
        return read_body_to_eof(a, req, max, hr);
    char *end = NULL;
    unsigned long long want = strtoull(cl, &end, 10);
    if (*end || want > (unsigned long long)SIZE_MAX / 2)
        want = (unsigned long long)max + 1;
    if (want > max) {
        hr->body_too_large = true;
        return 0;
    }
    if (want == 0)
        return 0;
    char *buf = pvm_arena_alloc(a, (size_t)want + 1);
    if (!buf)
        return PVM_ERR_NOMEM;
    int got = FCGX_GetStr(buf, (int)want, req->in);
    if (got < 0)
        got = 0;
    buf[got] = '\0';
    hr->body = buf;
    hr->body_len = (size_t)got;
    return 0;
}

/* request_timeout in a worker: a timer armed for each request; when it
 * fires and nothing of the answer was written to the socket yet, the
 * signal handler sends a pre-built 503 "timeout" envelope (FastCGI STDOUT
 * records and END_REQUEST) with write(2) and the worker exits with
 * PVM_FCGI_EXIT_TIMEOUT; the master starts another one. Only write(2) and
 * _exit(2) run in the handler, both async-signal-safe. */
static struct {
    volatile sig_atomic_t fd;      /* the request's socket; -1: none */
    volatile sig_atomic_t flushed; /* bytes of the answer were written */
    size_t len;                    /* bytes in msg */
    unsigned char msg[640];        /* the records, request id patched */
} overrun = {.fd = -1};

/* The pvm_http_out sink: ctx is the FCGX_Request. Only libfcgi's public
 * stream API is used (a direct writev of whole records was measured at
 * about 4% faster, but needs the request's private socket field). */
static int fcgi_write(void *ctx, const char *buf, size_t len)
{
    FCGX_Request *req = ctx;
    /* More than the stream buffer holds: libfcgi writes records now, and
     * a timeout can no longer replace the answer (see on_overrun). */
    if (len > (size_t)(req->out->stop - req->out->wrNext))
        overrun.flushed = 1;
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        if (FCGX_PutStr(buf, chunk, req->out) != chunk)
            return -1;
        buf += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

static void handle_one(const pvm_api_env *env, pvm_arena *a, FCGX_Request *req)
{
    pvm_http_request hr = {0};
    hr.method = FCGX_GetParam("REQUEST_METHOD", req->envp);
    hr.request_uri = FCGX_GetParam("REQUEST_URI", req->envp);
    hr.script_name = FCGX_GetParam("SCRIPT_NAME", req->envp);
    hr.path_info = FCGX_GetParam("PATH_INFO", req->envp);
    hr.query_string = FCGX_GetParam("QUERY_STRING", req->envp);
    hr.content_type = FCGX_GetParam("CONTENT_TYPE", req->envp);
    hr.remote_addr = FCGX_GetParam("REMOTE_ADDR", req->envp);
    pvm_http_out out = {fcgi_write, req, NULL};
    if (collect_headers(a, req->envp, &hr) < 0 ||
        read_body(a, req, env->cfg->max_body_bytes, &hr) < 0) {
        pvm_output_error(&out, PVM_ERR_INTERNAL, "out of memory", NULL, 0);
        return;
    }
    pvm_api_handle(env, a, &hr, &out);
}

/* Offsets of the request id bytes in overrun.msg (three records). */
static size_t overrun_id_at[3];

static void overrun_put_header(size_t at, int type, size_t clen, int pad)
{
    unsigned char *h = overrun.msg + at;
    h[0] = 1;
    h[1] = (unsigned char)type;
    h[2] = h[3] = 0; /* the request id, patched per request */
    h[4] = (unsigned char)(clen >> 8);
    h[5] = (unsigned char)clen;
    h[6] = (unsigned char)pad;
    h[7] = 0;
}

/* A pvm_http_out sink into a fixed buffer (the pre-built envelope). */
struct fixed_sink {
    char *buf;  /* destination */
    size_t cap; /* its size */
    size_t len; /* bytes written */
    bool full;  /* something did not fit */
};

static int fixed_write(void *ctx, const char *buf, size_t len)
{
    struct fixed_sink *s = ctx;
    if (s->full || len > s->cap - s->len) {
        s->full = true;
        return -1;
    }
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    return 0;
}

/* Builds the records once, for a limit of timeout_ms. */
static void overrun_build(int64_t timeout_ms)
{
    char body[480], msg[256];
    int ms = timeout_ms % 1000 != 0;
    snprintf(msg, sizeof(msg),
             "the request ran longer than [server] request_timeout "
             "(%lld%s) and was stopped: narrow the query, lower its "
             "timeout= parameter, or raise request_timeout",
             (long long)(ms ? timeout_ms : timeout_ms / 1000),
             ms ? "ms" : "s");
    struct fixed_sink sink = {.buf = body, .cap = sizeof(body)};
    pvm_http_out out = {fixed_write, &sink, NULL};
    pvm_output_error(&out, PVM_ERR_TIMEOUT, msg, NULL, 0);
    size_t clen = sink.full ? 0 : sink.len;
    int pad = (int)((8 - clen % 8) % 8);
    size_t at = 0;
    overrun_put_header(at, 6 /* FCGI_STDOUT */, clen, pad);
    overrun_id_at[0] = at + 2;
    memcpy(overrun.msg + at + 8, body, clen);
    memset(overrun.msg + at + 8 + clen, 0, (size_t)pad);
    at += 8 + clen + (size_t)pad;
    overrun_put_header(at, 6, 0, 0); /* end of the STDOUT stream */
    overrun_id_at[1] = at + 2;
    at += 8;
    overrun_put_header(at, 3 /* FCGI_END_REQUEST */, 8, 0);
    overrun_id_at[2] = at + 2;
    memset(overrun.msg + at + 8, 0, 8); /* app status 0, REQUEST_COMPLETE */
    overrun.len = at + 16;
}

static void on_overrun(int sig)
{
    (void)sig;
    int fd = overrun.fd;
    if (fd >= 0 && !overrun.flushed) {
        size_t off = 0;
        while (off < overrun.len) {
            ssize_t w = write(fd, overrun.msg + off, overrun.len - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
    }
    _exit(PVM_FCGI_EXIT_TIMEOUT);
}

/* Arms the timer for the request on fd (fd >= 0), or disarms it. */
static void overrun_arm(int64_t timeout_ms, int fd, int request_id)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    if (timeout_ms <= 0)
        return;
    if (fd < 0) {
        setitimer(ITIMER_REAL, &it, NULL);
        overrun.fd = -1;
        return;
    }
    for (int i = 0; i < 3; i++) {
        overrun.msg[overrun_id_at[i]] = (unsigned char)(request_id >> 8);
        overrun.msg[overrun_id_at[i] + 1] = (unsigned char)request_id;
    }
    overrun.flushed = 0;
    overrun.fd = fd;
    it.it_value.tv_sec = (time_t)(timeout_ms / 1000);
    it.it_value.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
}

static void overrun_install(int64_t timeout_ms)
{
    if (timeout_ms <= 0)
        return;
    overrun_build(timeout_ms);
    struct sigaction sa = {0};
    sigfillset(&sa.sa_mask);
    sa.sa_handler = on_overrun;
    sigaction(SIGALRM, &sa, NULL);
}

/* Answers one request whose header libfcgi has read. */
static void serve_request(const pvm_api_env *env, pvm_arena *a,
                          FCGX_Request *req, int64_t timeout_ms)
{
    pvm_shm_slot_begin(env->shm, env->slot,
                       FCGX_GetParam("REQUEST_METHOD", req->envp),
                       FCGX_GetParam("REQUEST_URI", req->envp));
    overrun_arm(timeout_ms, req->ipcFd, req->requestId);
    handle_one(env, a, req);
    overrun.flushed = 1;
    FCGX_Finish_r(req);
    overrun_arm(timeout_ms, -1, 0);
    pvm_shm_slot_end(env->shm, env->slot);
    pvm_arena_reset(a);
}

int pvm_fcgi_serve(const pvm_api_env *env, int fd, volatile sig_atomic_t *stop,
                   int64_t request_timeout_ms)
{
    if (FCGX_Init() != 0)
        return PVM_ERR_INTERNAL;
    /* Several processes may accept on fd: a non-blocking socket turns a
     * connection taken by another one into EAGAIN instead of a block. */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return PVM_ERR_INTERNAL;
    /* libfcgi never accepts (listen socket -1): the waiter hands it
     * connections whose request header is complete. */
    FCGX_Request req;
    if (FCGX_InitRequest(&req, -1, 0) != 0)
        return PVM_ERR_INTERNAL;
    pvm_arena *a = pvm_arena_new(env->cfg->max_request_memory);
    pvm_fcgi_waiter *w =
        a ? pvm_fcgi_waiter_new(fd, env->cfg->request_read_timeout_ms,
                                env->cfg->keepalive_timeout_ms)
          : NULL;
    if (!w) {
        pvm_arena_free(a);
        return PVM_ERR_NOMEM;
    }
    overrun_install(request_timeout_ms);
    /* The stop signals stay blocked while a request is served, so that
     * none interrupts its reads and writes: in-flight requests finish. */
    sigset_t stop_set, wait_mask;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_set, &wait_mask);
    sigdelset(&wait_mask, SIGTERM);
    sigdelset(&wait_mask, SIGINT);
    int rc = 0;
    for (;;) {
        int c = pvm_fcgi_waiter_next(w, &wait_mask, stop);
        if (c == PVM_FCGI_WAIT_DONE)
            break;
        if (c < 0) {
            pvm_log(PVM_LOG_ERROR, "accept failed: %s", strerror(errno));
            break;
        }
        /* FCGX_Accept_r first finishes the previous request, closing its
         * connection unless kept: keepConnection = 1 keeps c open. */
        req.ipcFd = c;
        req.keepConnection = 1;
        if (FCGX_Accept_r(&req) < 0)
            continue; /* a protocol error: libfcgi closed c */
        serve_request(env, a, &req, request_timeout_ms);
        if (req.ipcFd >= 0) { /* FCGI_KEEP_CONN: the next request on it */
            pvm_fcgi_waiter_keep(w, req.ipcFd);
            req.ipcFd = -1;
        }
    }
    FCGX_Free(&req, 0);
    pvm_fcgi_waiter_free(w);
    pvm_arena_free(a);
    sigprocmask(SIG_UNBLOCK, &stop_set, NULL);
    return rc;
}
