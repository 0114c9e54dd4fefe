/* test_fcgi_wait.c: unit tests of fcgi_wait.c: the FastCGI request header
 * scan that decides when a connection may be handed to libfcgi (complete,
 * partial with the bytes still needed, or refused), and the waiter over a
 * real unix listening socket: an idle connection is closed after
 * request_read_timeout and does not hide a complete one behind it; more
 * connections at once than it holds lose none; TCP peers outside
 * FCGI_WEB_SERVER_ADDRS are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fcgi_wait.h"

/* A record header (version 1) at b: type, request id, content length,
 * padding; returns 8. */
static size_t rec(unsigned char *b, int type, int id, size_t clen, int pad)
{
    b[0] = 1;
    b[1] = (unsigned char)type;
    b[2] = (unsigned char)(id >> 8);
    b[3] = (unsigned char)id;
    b[4] = (unsigned char)(clen >> 8);
    b[5] = (unsigned char)clen;
    b[6] = (unsigned char)pad;
    b[7] = 0;
    return 8;
}

/* BEGIN_REQUEST (role) + one PARAMS record of plen bytes (padded to 8) +
 * the empty PARAMS record, for request id; returns the length. */
static size_t request(unsigned char *b, int id, int role, size_t plen)
{
    size_t n = rec(b, 1, id, 8, 0);
    memset(b + n, 0, 8);
    b[n + 1] = (unsigned char)role;
    b[n + 2] = 1; /* FCGI_KEEP_CONN */
    n += 8;
    int pad = (int)((8 - plen % 8) % 8);
    n += rec(b + n, 4, id, plen, pad);
    memset(b + n, 'x', plen + (size_t)pad);
    n += plen + (size_t)pad;
    n += rec(b + n, 4, id, 0, 0);
    return n;
}

static void test_complete_and_every_prefix(void **state)
{
    (void)state;
    unsigned char b[512];
    size_t len = request(b, 1, 1, 37), need = 0;
    assert_int_equal(pvm_fcgi_header_scan(b, len, &need),
                     PVM_FCGI_HEADER_COMPLETE);
    assert_int_equal(need, len);
    /* Bytes after the header (STDIN) do not matter. */
    rec(b + len, 5, 1, 0, 0);
    assert_int_equal(pvm_fcgi_header_scan(b, len + 8, &need),
                     PVM_FCGI_HEADER_COMPLETE);
    /* Every proper prefix is partial, and asks for more than it has. */
    for (size_t k = 0; k < len; k++) {
        need = 0;
        assert_int_equal(pvm_fcgi_header_scan(b, k, &need),
                         PVM_FCGI_HEADER_PARTIAL);
        assert_true(need > k);
        assert_true(need <= len);
    }
    /* A partial PARAMS record asks for its end (8 + 8 + 8 + 37 + 3). */
    pvm_fcgi_header_scan(b, 30, &need);
    assert_int_equal(need, 64);
}

static void test_refused(void **state)
{
    (void)state;
    unsigned char b[512];
    size_t len, need;
    /* Not FastCGI (an HTTP request on the FastCGI port). */
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(pvm_fcgi_header_scan((const unsigned char *)http,
                                          sizeof(http) - 1, &need),
                     PVM_FCGI_HEADER_BAD);
    /* Another role than responder (authorizer). */
    len = request(b, 1, 2, 8);
    assert_int_equal(pvm_fcgi_header_scan(b, len, &need), PVM_FCGI_HEADER_BAD);
    /* A BEGIN_REQUEST of the wrong size, or for request id 0. */
    rec(b, 1, 1, 7, 1);
    assert_int_equal(pvm_fcgi_header_scan(b, 16, &need), PVM_FCGI_HEADER_BAD);
    len = request(b, 0, 1, 8);
    assert_int_equal(pvm_fcgi_header_scan(b, len, &need), PVM_FCGI_HEADER_BAD);
    /* A stream record before any BEGIN_REQUEST (left-over STDIN on a kept
     * connection): libfcgi would fail on it. */
    len = rec(b, 5, 1, 0, 0);
    assert_int_equal(pvm_fcgi_header_scan(b, len, &need), PVM_FCGI_HEADER_BAD);
    /* STDIN of the request before the end of its PARAMS. */
    len = request(b, 1, 1, 8);
    rec(b + 16, 5, 1, 8, 0);
    assert_int_equal(pvm_fcgi_header_scan(b, len, &need), PVM_FCGI_HEADER_BAD);
}

static void test_skipped_records(void **state)
{
    (void)state;
    unsigned char b[512];
    size_t need;
    /* A management record (FCGI_GET_VALUES, id 0) first, then a request
     * whose PARAMS are interleaved with another request's record. */
    size_t n = rec(b, 9, 0, 5, 3);
    memset(b + n, 0, 8);
    n += 8;
    size_t r = request(b + n, 7, 1, 16);
    /* Insert a record of request 8 after BEGIN_REQUEST (16 bytes in). */
    unsigned char tail[256];
    memcpy(tail, b + n + 16, r - 16);
    size_t m = n + 16;
    m += rec(b + m, 4, 8, 0, 0);
    memcpy(b + m, tail, r - 16);
    m += r - 16;
    assert_int_equal(pvm_fcgi_header_scan(b, m, &need),
                     PVM_FCGI_HEADER_COMPLETE);
    assert_int_equal(need, m);
    /* Without the end of the PARAMS stream: partial. */
    assert_int_equal(pvm_fcgi_header_scan(b, m - 8, &need),
                     PVM_FCGI_HEADER_PARTIAL);
    assert_int_equal(need, m);
}

/* A unix listening socket in a fresh directory, with a backlog of
 * backlog; its path in path. */
static int listener_backlog(char *path, size_t n, int backlog)
{
    char dir[] = "/tmp/pvm-fcgi-wait.XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(path, n, "%s/s", dir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    return fd;
}

static int listener(char *path, size_t n)
{
    return listener_backlog(path, n, 16);
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_waiter(void **state)
{
    (void)state;
    char path[128];
    int lfd = listener(path, sizeof(path));
    pvm_fcgi_waiter *w = pvm_fcgi_waiter_new(lfd, 300, 60000);
    assert_non_null(w);
    sigset_t mask;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    volatile sig_atomic_t stop = 0;

    /* An idle connection, a half-sent one, then a complete request: the
     * complete one is handed over at once. */
    int idle = connect_to(path), half = connect_to(path);
    int good = connect_to(path);
    unsigned char b[512];
    size_t len = request(b, 1, 1, 20);
    assert_int_equal(write(half, b, 20), 20);
    assert_int_equal(write(good, b, len), (ssize_t)len);
    double t = now_s();
    int fd = pvm_fcgi_waiter_next(w, &mask, &stop);
    assert_true(fd >= 0);
    assert_true(now_s() - t < 0.25);
    /* The whole header is still there for libfcgi to read. */
    unsigned char got[512];
    assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT), (ssize_t)len);
    assert_memory_equal(got, b, len);

    /* Kept: the next request on it is handed over like a new one. */
    pvm_fcgi_waiter_keep(w, fd);
    assert_int_equal(write(good, b, len), (ssize_t)len);
    assert_int_equal(pvm_fcgi_waiter_next(w, &mask, &stop), fd);
    assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT), (ssize_t)len);

    /* Kept again, with what is left of the previous request's body (a
     * STDIN record and the end of the stream, in two writes) before the
     * next request: dropped, the request handed over. */
    pvm_fcgi_waiter_keep(w, fd);
    unsigned char left[64];
    size_t ll = rec(left, 5, 1, 8, 0);
    memset(left + ll, 'b', 8);
    ll += 8;
    ll += rec(left + ll, 5, 1, 0, 0);
    assert_int_equal(write(good, left, 5), 5);
    assert_int_equal(write(good, left + 5, ll - 5), (ssize_t)(ll - 5));
    assert_int_equal(write(good, b, len), (ssize_t)len);
    assert_int_equal(pvm_fcgi_waiter_next(w, &mask, &stop), fd);
    assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT), (ssize_t)len);
    assert_memory_equal(got, b, len);
    close(fd);

    /* Told to stop: the idle and the half-sent connections are closed
     * once their 300 ms are over, then the waiter is done. */
    stop = 1;
    assert_int_equal(pvm_fcgi_waiter_next(w, &mask, &stop),
                     PVM_FCGI_WAIT_DONE);
    assert_true(now_s() - t >= 0.25);
    assert_true(now_s() - t < 2.0);
    char c;
    assert_int_equal(read(idle, &c, 1), 0);
    assert_true(read(half, &c, 1) <= 0);
    pvm_fcgi_waiter_free(w);
    close(idle);
    close(half);
    close(good);
    close(lfd);
    unlink(path);
    *strrchr(path, '/') = '\0';
    rmdir(path);
}

/* More connections at once than a worker holds (PVM_FCGI_MAX_CONNS), each
 * with the start of its request sent and the rest on the way (a web
 * server opening many connections under load): none is closed to make
 * room; past the limit they wait in the backlog, and every request is
 * handed over whole. (Closing the oldest made nginx answer 502.) */
static void test_burst_over_the_limit(void **state)
{
    (void)state;
    enum { N = PVM_FCGI_MAX_CONNS + 16 };
    char path[128];
    int lfd = listener_backlog(path, sizeof(path), 2 * N);
    pvm_fcgi_waiter *w = pvm_fcgi_waiter_new(lfd, 5000, 60000);
    assert_non_null(w);
    sigset_t mask;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    volatile sig_atomic_t stop = 0;
    unsigned char b[512];
    size_t len = request(b, 1, 1, 20);
    int cl[N];
    for (int i = 0; i < N; i++) {
        cl[i] = connect_to(path);
        assert_int_equal(write(cl[i], b, 8), 8);
    }
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* the rest of every request, 300 ms later */
        struct timespec ts = {0, 300000000};
        nanosleep(&ts, NULL);
        for (int i = 0; i < N; i++)
            if (write(cl[i], b + 8, len - 8) != (ssize_t)(len - 8))
                _exit(1);
        _exit(0);
    }
    alarm(20); /* a connection lost would leave next() waiting */
    for (int i = 0; i < N; i++) {
        int fd = pvm_fcgi_waiter_next(w, &mask, &stop);
        assert_true(fd >= 0);
        unsigned char got[512];
        assert_int_equal(recv(fd, got, sizeof(got), MSG_DONTWAIT),
                         (ssize_t)len);
        assert_memory_equal(got, b, len);
        close(fd);
    }
    alarm(0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    pvm_fcgi_waiter_free(w);
    for (int i = 0; i < N; i++)
        close(cl[i]);
    close(lfd);
    unlink(path);
    *strrchr(path, '/') = '\0';
    rmdir(path);
}

/* A TCP listener on 127.0.0.1 (a free port); its port in *port. */
static int tcp_listener(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A connection to 127.0.0.1:port from the local address from. */
static int tcp_connect(int port, const char *from)
{
    struct sockaddr_in me = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, from, &me.sin_addr), 1);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* FCGI_WEB_SERVER_ADDRS, as libfcgi applied it: only listed IPv4 peers. */
static void test_web_server_addrs(void **state)
{
    (void)state;
    int port;
    int lfd = tcp_listener(&port);
    setenv("FCGI_WEB_SERVER_ADDRS", "10.0.0.1,127.0.0.2", 1);
    pvm_fcgi_waiter *w = pvm_fcgi_waiter_new(lfd, 2000, 60000);
    assert_non_null(w);
    sigset_t mask;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    volatile sig_atomic_t stop = 0;
    unsigned char b[512];
    size_t len = request(b, 1, 1, 20);

    /* From 127.0.0.1 first (not listed), then from 127.0.0.2. */
    int refused = tcp_connect(port, "127.0.0.1");
    assert_int_equal(write(refused, b, len), (ssize_t)len);
    int allowed = tcp_connect(port, "127.0.0.2");
    assert_int_equal(write(allowed, b, len), (ssize_t)len);
    int fd = pvm_fcgi_waiter_next(w, &mask, &stop);
    assert_true(fd >= 0);
    struct sockaddr_in peer;
    socklen_t pl = sizeof(peer);
    assert_int_equal(getpeername(fd, (struct sockaddr *)&peer, &pl), 0);
    assert_int_equal(ntohl(peer.sin_addr.s_addr), 0x7f000002);
    close(fd);
    char c;
    assert_true(read(refused, &c, 1) <= 0); /* closed by the waiter */
    unsetenv("FCGI_WEB_SERVER_ADDRS");
    pvm_fcgi_waiter_free(w);
    close(refused);
    close(allowed);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_and_every_prefix),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_skipped_records),
        cmocka_unit_test(test_waiter),
        cmocka_unit_test(test_burst_over_the_limit),
        cmocka_unit_test(test_web_server_addrs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
