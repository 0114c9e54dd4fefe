/* fcgi_wait.c: the connections a worker holds between requests (see
 * fcgi_wait.h). One epoll set: the listening socket (level-triggered) and
 * each held connection (edge-triggered: woken when new bytes arrive, so a
 * header that is still incomplete does not spin). A connection's bytes are
 * only peeked at (MSG_PEEK): libfcgi reads them once the header is whole. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <pvm/plugin.h>

#include "fcgi_wait.h"

/* FastCGI record layout (the FastCGI 1.0 specification). */
#define FCGI_HEADER_LEN 8
#define FCGI_VERSION_1 1
#define FCGI_BEGIN_REQUEST 1
#define FCGI_PARAMS 4
#define FCGI_STDIN 5
#define FCGI_DATA 8
#define FCGI_RESPONDER 1

/* Once stopping: how long a new connection may still take to send its
 * first byte. */
#define STOP_GRACE_NS 1000000000ull

/* A held connection younger than this (since accepted, or since its last
 * request ended) is never closed to make room: a web server writes its
 * request right after connecting, and when it opens many connections at
 * once (nginx under 256 concurrent clients), the youngest have their
 * bytes on the way. With every slot held by such connections, the worker
 * stops accepting instead, and the rest wait in the listen backlog (or
 * go to another worker). An idle attacker's connections age past it. */
#define EVICT_MIN_IDLE_NS 1000000000ull

/* One held connection. */
typedef struct fcgi_conn {
    int fd;               /* the connection */
    int kept;             /* 1: kept open after a request; 0: new */
    int has_data;         /* some bytes of a request arrived */
    int ready;            /* its request header is complete */
    uint64_t idle_ns;     /* accepted, or its last request finished */
    uint64_t deadline_ns; /* closed when not ready by then */
    size_t need;          /* bytes queued before a new scan can progress */
    size_t drained;       /* bytes of a previous request's body dropped */
} fcgi_conn;

struct pvm_fcgi_waiter {
    int listen_fd;       /* shared listening socket */
    int ep;              /* epoll set */
    int accepting;       /* accepting new connections (until stopping) */
    int paused;          /* listen_fd left the set: every slot is held */
    const char *allowed; /* FCGI_WEB_SERVER_ADDRS at the start, or NULL */
    uint64_t read_ns;    /* request_read_timeout */
    uint64_t keep_ns;    /* keepalive_timeout */
    int n;               /* connections held */
    fcgi_conn c[PVM_FCGI_MAX_CONNS];        /* held connections, [0, n) */
    unsigned char buf[PVM_FCGI_MAX_HEADER]; /* peek buffer */
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t ms_ns(int64_t ms)
{
    return ms > 0 ? (uint64_t)ms * 1000000ull : 0;
}

int pvm_fcgi_header_scan(const unsigned char *b, size_t len, size_t *need)
{
    size_t pos = 0;
    unsigned id = 0; /* the request begun; 0: none yet */
    for (;;) {
        if (len - pos < FCGI_HEADER_LEN) {
            *need = pos + FCGI_HEADER_LEN;
            return PVM_FCGI_HEADER_PARTIAL;
        }
        const unsigned char *h = b + pos;
        unsigned type = h[1], rid = (unsigned)h[2] << 8 | h[3];
        size_t clen = (size_t)h[4] << 8 | h[5];
        size_t end = pos + FCGI_HEADER_LEN + clen + h[6];
        if (h[0] != FCGI_VERSION_1)
            return PVM_FCGI_HEADER_BAD;
        if (len < end) {
            *need = end;
            return PVM_FCGI_HEADER_PARTIAL;
        }
        if (type == FCGI_BEGIN_REQUEST) {
            if (clen != 8 || rid == 0)
                return PVM_FCGI_HEADER_BAD;
            if (!id) { /* later ones: libfcgi answers FCGI_CANT_MPX_CONN */
                if (((unsigned)h[8] << 8 | h[9]) != FCGI_RESPONDER)
                    return PVM_FCGI_HEADER_BAD;
                id = rid;
            }
        } else if (rid == 0) {
            /* a management record (FCGI_GET_VALUES): libfcgi answers it */
        } else if (!id) {
            return PVM_FCGI_HEADER_BAD; /* a stream of no request */
        } else if (rid == id) {
            if (type != FCGI_PARAMS)
                return PVM_FCGI_HEADER_BAD;
            if (clen == 0) {
                *need = end;
                return PVM_FCGI_HEADER_COMPLETE;
            }
        } /* else another request's record: skipped by libfcgi */
        pos = end;
    }
}

pvm_fcgi_waiter *pvm_fcgi_waiter_new(int listen_fd, int64_t read_timeout_ms,
                                     int64_t keepalive_timeout_ms)
{
    pvm_fcgi_waiter *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->listen_fd = listen_fd;
    w->allowed = getenv("FCGI_WEB_SERVER_ADDRS");
    w->read_ns = ms_ns(read_timeout_ms);
    w->keep_ns = ms_ns(keepalive_timeout_ms);
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = listen_fd};
    if (w->ep < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
        int e = errno;
        if (w->ep >= 0)
            close(w->ep);
        free(w);
        errno = e;
        return NULL;
    }
    w->accepting = 1;
    return w;
}

/* Closes connection i (its slot is taken by the last one). */
static void conn_close(pvm_fcgi_waiter *w, int i)
{
    close(w->c[i].fd); /* also leaves the epoll set */
    w->c[i] = w->c[--w->n];
}

void pvm_fcgi_waiter_free(pvm_fcgi_waiter *w)
{
    if (!w)
        return;
    while (w->n > 0)
        conn_close(w, w->n - 1);
    close(w->ep);
    free(w);
}

/* Bytes of the complete STDIN and DATA records at the start of buf (len
 * bytes): on a kept connection, what remains of the previous request's
 * body (its end-of-stream record when the body was read by length, or the
 * rest of a body refused as too large). libfcgi would refuse them. *more:
 * the end of such a record that is still incomplete after them, or 0. */
static size_t leftover_len(const unsigned char *b, size_t len, size_t *more)
{
    size_t pos = 0;
    *more = 0;
    while (len - pos >= FCGI_HEADER_LEN) {
        const unsigned char *h = b + pos;
        size_t end = pos + FCGI_HEADER_LEN + ((size_t)h[4] << 8 | h[5]) + h[6];
        if (h[0] != FCGI_VERSION_1 ||
            (h[1] != FCGI_STDIN && h[1] != FCGI_DATA) ||
            (h[2] == 0 && h[3] == 0))
            break;
        if (end > len) {
            *more = end;
            break;
        }
        pos = end;
    }
    return pos;
}

/* Looks at what connection i received so far: marks it ready when its
 * request header is complete, closes it when the peer closed it or sent
 * something libfcgi would refuse. On a kept connection, drops what is
 * left of the previous request's body first (up to PVM_FCGI_MAX_HEADER
 * bytes in all). */
static void conn_look(pvm_fcgi_waiter *w, int i)
{
    fcgi_conn *c = &w->c[i];
    int q = 0;
    if (c->ready)
        return;
again:
    if (ioctl(c->fd, FIONREAD, &q) < 0 || q < 0) {
        conn_close(w, i);
        return;
    }
    if (q == 0) { /* woken by the peer's close, or nothing yet */
        char b;
        ssize_t r = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR))
            conn_close(w, i);
        return;
    }
    if ((size_t)q < c->need)
        goto started;
    size_t want = (size_t)q < sizeof(w->buf) ? (size_t)q : sizeof(w->buf);
    ssize_t r = recv(c->fd, w->buf, want, MSG_PEEK | MSG_DONTWAIT);
    if (r <= 0) {
        if (r == 0 || (errno != EAGAIN && errno != EINTR))
            conn_close(w, i);
        return;
    }
    size_t more = 0, skip = 0;
    if (c->kept)
        skip = leftover_len(w->buf, (size_t)r, &more);
    if (skip > 0) { /* dropped; the connection is idle again */
        c->drained += skip;
        if (c->drained > sizeof(w->buf) ||
            recv(c->fd, w->buf, skip, MSG_DONTWAIT) != (ssize_t)skip) {
            conn_close(w, i);
            return;
        }
        c->need = FCGI_HEADER_LEN;
        c->has_data = 0;
        c->deadline_ns = now_ns() + w->keep_ns;
        goto again;
    }
    if (more > 0) { /* a left-over record still arriving */
        c->need = more;
        goto started;
    }
    int st = pvm_fcgi_header_scan(w->buf, (size_t)r, &c->need);
    if (st == PVM_FCGI_HEADER_COMPLETE) {
        c->ready = 1;
    } else if (st == PVM_FCGI_HEADER_BAD) {
        pvm_log(c->kept ? PVM_LOG_DEBUG : PVM_LOG_WARNING,
                "closed a "
                "connection that sent no FastCGI responder request");
        conn_close(w, i);
        return;
    } else if (c->need > sizeof(w->buf)) {
        pvm_log(PVM_LOG_WARNING,
                "closed a connection whose FastCGI request "
                "header exceeds %d KiB",
                PVM_FCGI_MAX_HEADER / 1024);
        conn_close(w, i);
        return;
    }
started:
    if (!c->has_data) { /* a request started: it has read_timeout to end */
        uint64_t d = now_ns() + w->read_ns;
        c->has_data = 1;
        if (d < c->deadline_ns)
            c->deadline_ns = d;
    }
}

/* The connection to close to make room: of those not ready and idle for
 * EVICT_MIN_IDLE_NS at least, the one idle the longest, preferring those
 * that sent nothing of a request; -1 when there is none. */
static int conn_victim(const pvm_fcgi_waiter *w, uint64_t now)
{
    int best = -1;
    for (int i = 0; i < w->n; i++) {
        const fcgi_conn *c = &w->c[i];
        if (c->ready || now - c->idle_ns < EVICT_MIN_IDLE_NS)
            continue;
        if (best < 0 || (c->has_data < w->c[best].has_data) ||
            (c->has_data == w->c[best].has_data &&
             c->idle_ns < w->c[best].idle_ns))
            best = i;
    }
    return best;
}

/* Makes room for one more connection when every slot is held: closes
 * conn_victim's choice. 0, or -1 when there is no room. */
static int conn_make_room(pvm_fcgi_waiter *w)
{
    if (w->n < PVM_FCGI_MAX_CONNS)
        return 0;
    int i = conn_victim(w, now_ns());
    if (i < 0)
        return -1;
    pvm_log(PVM_LOG_WARNING,
            "holding %d FastCGI connections: closed the one idle the "
            "longest",
            PVM_FCGI_MAX_CONNS);
    conn_close(w, i);
    return 0;
}

/* Adds fd to the held connections; returns its index, or -1 (fd closed:
 * no room). */
static int conn_add(pvm_fcgi_waiter *w, int fd, int kept)
{
    if (conn_make_room(w) < 0) {
        close(fd);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET,
                             .data.fd = fd};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        return -1;
    }
    uint64_t now = now_ns();
    w->c[w->n] = (fcgi_conn){.fd = fd,
                             .kept = kept,
                             .idle_ns = now,
                             .deadline_ns = now +
                                            (kept ? w->keep_ns : w->read_ns),
                             .need = FCGI_HEADER_LEN};
    return w->n++;
}

void pvm_fcgi_waiter_keep(pvm_fcgi_waiter *w, int fd)
{
    int i = conn_add(w, fd, 1);
    if (i >= 0)
        conn_look(w, i);
}

/* Whether the peer ss may connect: libfcgi's FCGI_WEB_SERVER_ADDRS, which
 * its own accept applied: when set and not empty (list), a comma-separated
 * list of the IPv4 addresses whose TCP connections are accepted. */
static int peer_is_allowed(const char *list, const struct sockaddr_storage *ss)
{
    if (!list || !*list || ss->ss_family != AF_INET)
        return 1;
    char addr[INET_ADDRSTRLEN];
    if (!inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, addr,
                   sizeof(addr)))
        return 0;
    size_t n = strlen(addr);
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && memcmp(p, addr, n) == 0)
            return 1;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* Stops or resumes watching the listening socket while every slot is
 * held by connections too young to close (conn_victim). */
static void pause_accepting(pvm_fcgi_waiter *w)
{
    if (!w->paused && epoll_ctl(w->ep, EPOLL_CTL_DEL, w->listen_fd, NULL) == 0)
        w->paused = 1;
}

static void resume_accepting(pvm_fcgi_waiter *w)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = w->listen_fd};
    if (w->paused && w->accepting &&
        (w->n < PVM_FCGI_MAX_CONNS || conn_victim(w, now_ns()) >= 0) &&
        epoll_ctl(w->ep, EPOLL_CTL_ADD, w->listen_fd, &ev) == 0)
        w->paused = 0;
}

/* Accepts one connection, if one is waiting. 0, or -1 with errno on a
 * failure that is not the connection's own. */
static int accept_one(pvm_fcgi_waiter *w)
{
    struct sockaddr_storage ss = {0};
    socklen_t sl = sizeof(ss);
    int fd = accept4(w->listen_fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
            errno == ECONNABORTED || errno == EPROTO || errno == EPERM)
            return 0;
        return -1;
    }
    if (!peer_is_allowed(w->allowed, &ss)) {
        close(fd);
        return 0;
    }
    /* An answer leaves in several writes (libfcgi's 8 KB records, then
     * the END_REQUEST record): with Nagle's algorithm the last small one
     * waits for the web server's delayed ACK (40 ms) on a kept
     * connection, which nothing else ends. */
    if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    int i = conn_add(w, fd, 0);
    if (i >= 0)
        conn_look(w, i);
    return 0;
}

/* Closes the connections past their deadline. */
static void expire(pvm_fcgi_waiter *w, uint64_t now)
{
    for (int i = w->n - 1; i >= 0; i--) {
        const fcgi_conn *c = &w->c[i];
        if (c->ready || now < c->deadline_ns)
            continue;
        if (c->kept && !c->has_data)
            pvm_log(PVM_LOG_DEBUG, "closed a kept FastCGI connection idle "
                                   "for keepalive_timeout");
        else
            pvm_log(PVM_LOG_WARNING,
                    "closed a FastCGI connection: %s within "
                    "[server] request_read_timeout (%.1f s)",
                    c->has_data ? "its request header was not complete"
                                : "no request arrived",
                    (double)w->read_ns / 1e9);
        conn_close(w, i);
    }
}

/* Once told to stop: no more accepts, and this process lets go of the
 * listening socket at once (a new server can bind its address while the
 * last requests finish; the number stays valid, on /dev/null, for the
 * caller's close). Kept connections with nothing pending are closed (the
 * web server opens a new one elsewhere); new ones that sent nothing get
 * STOP_GRACE_NS (a web server writes right after connecting). */
static void wind_down(pvm_fcgi_waiter *w)
{
    if (w->accepting) {
        if (!w->paused)
            epoll_ctl(w->ep, EPOLL_CTL_DEL, w->listen_fd, NULL);
        w->accepting = 0;
        w->paused = 0;
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul >= 0) {
            dup2(nul, w->listen_fd); /* keeps FD_CLOEXEC off: harmless */
            close(nul);
        }
        uint64_t until = now_ns() + STOP_GRACE_NS;
        for (int i = 0; i < w->n; i++)
            if (!w->c[i].has_data && w->c[i].deadline_ns > until)
                w->c[i].deadline_ns = until;
    }
    for (int i = w->n - 1; i >= 0; i--)
        if (w->c[i].kept && !w->c[i].has_data)
            conn_close(w, i);
}

/* Index of the ready connection idle the longest, or -1. */
static int first_ready(const pvm_fcgi_waiter *w)
{
    int best = -1;
    for (int i = 0; i < w->n; i++)
        if (w->c[i].ready &&
            (best < 0 || w->c[i].idle_ns < w->c[best].idle_ns))
            best = i;
    return best;
}

/* Milliseconds until the nearest deadline (rounded up), -1: none. While
 * accepting is paused, also until the first connection may be closed to
 * make room. */
static int wait_ms(const pvm_fcgi_waiter *w, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < w->n; i++) {
        const fcgi_conn *c = &w->c[i];
        if (c->deadline_ns < next)
            next = c->deadline_ns;
        if (w->paused && !c->ready && c->idle_ns + EVICT_MIN_IDLE_NS < next)
            next = c->idle_ns + EVICT_MIN_IDLE_NS;
    }
    if (next == UINT64_MAX)
        return -1;
    if (next <= now)
        return 0;
    uint64_t ms = (next - now + 999999) / 1000000;
    return ms > 60000 ? 60000 : (int)ms;
}

int pvm_fcgi_waiter_next(pvm_fcgi_waiter *w, const sigset_t *wait_mask,
                         volatile sig_atomic_t *stop)
{
    struct epoll_event ev[16];
    for (;;) {
        if (*stop)
            wind_down(w);
        expire(w, now_ns());
        resume_accepting(w);
        int i = first_ready(w);
        if (i >= 0) {
            int fd = w->c[i].fd;
            epoll_ctl(w->ep, EPOLL_CTL_DEL, fd, NULL);
            w->c[i] = w->c[--w->n];
            return fd;
        }
        if (!w->accepting && w->n == 0)
            return PVM_FCGI_WAIT_DONE;
        int n = epoll_pwait(w->ep, ev, 16, wait_ms(w, now_ns()), wait_mask);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -2;
        }
        for (int k = 0; k < n; k++) {
            int fd = ev[k].data.fd;
            if (fd == w->listen_fd) {
                if (!w->accepting || *stop)
                    continue;
                if (conn_make_room(w) < 0)
                    pause_accepting(w); /* the backlog holds the rest */
                else if (accept_one(w) < 0)
                    return -2;
                continue;
            }
            for (int j = 0; j < w->n; j++)
                if (w->c[j].fd == fd) {
                    conn_look(w, j);
                    break;
                }
        }
    }
}
