/* tests/lib/load.c: a small HTTP load client for the process-model tests.
 *   load [-c CONC] [-n COUNT] [-d SECONDS] [-t TIMEOUT] PORT PATH...
 * Sends GET requests (HTTP/1.0, one connection each) to 127.0.0.1:PORT,
 * cycling through the PATHs, from CONC processes at once, until COUNT
 * requests were sent (default 200) or SECONDS passed (default 60),
 * whichever comes first; each request gives up after TIMEOUT seconds
 * (default 10). A request succeeds on HTTP 200. Prints one line per
 * failure and a summary
 *   load: N requests, OK ok, F failed in S s
 * and exits 0 when none failed, 1 otherwise, 2 on usage errors. Only
 * 127.0.0.1 is ever contacted. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Settings shared by the client processes. */
typedef struct load_opts {
    int port;       /* 127.0.0.1:port */
    int conc;       /* client processes */
    long count;     /* total requests */
    double seconds; /* time bound */
    int timeout;    /* per request, seconds */
    char **paths;   /* request paths */
    int npaths;     /* number of paths */
} load_opts;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request; returns the HTTP status, or -1 (with why set) on a
 * transport error. */
static int one_request(const load_opts *o, const char *path, char *why,
                       size_t n)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(why, n, "socket: %s", strerror(errno));
        return -1;
    }
    struct timeval tv = {o->timeout, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)o->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    char buf[8192];
    int status = -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        snprintf(why, n, "connect: %s", strerror(errno));
        goto out;
    }
    int len = snprintf(buf, sizeof(buf),
                       "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                       "Connection: close\r\n\r\n",
                       path);
    if (write(fd, buf, (size_t)len) != len) {
        snprintf(why, n, "write: %s", strerror(errno));
        goto out;
    }
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0) {
        got += (size_t)r;
        if (got == sizeof(buf) - 1)
            got = 16; /* keep the status line, drop the rest */
    }
    if (r < 0) {
        snprintf(why, n, "read: %s", strerror(errno));
        goto out;
    }
    buf[got] = '\0';
    if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1) {
        snprintf(why, n, "no HTTP status line (%zu bytes)", got);
        status = -1;
    }
out:
    close(fd);
    return status;
}

/* A client process: requests number id, id+conc, ... Writes its tallies
 * "ok failed" to fd. */
static void client(const load_opts *o, int id, int fd, double deadline)
{
    long ok = 0, failed = 0;
    for (long i = id; i < o->count && now_s() < deadline; i += o->conc) {
        const char *path = o->paths[i % o->npaths];
        char why[256] = "";
        int st = one_request(o, path, why, sizeof(why));
        if (st == 200) {
            ok++;
            continue;
        }
        failed++;
        if (st > 0)
            printf("load: FAIL GET %s: HTTP %d\n", path, st);
        else
            printf("load: FAIL GET %s: %s\n", path, why);
        fflush(stdout);
    }
    dprintf(fd, "%ld %ld\n", ok, failed);
}

int main(int argc, char **argv)
{
    load_opts o = {.conc = 4, .count = 200, .seconds = 60, .timeout = 10};
    int c;
    while ((c = getopt(argc, argv, "c:n:d:t:")) != -1) {
        switch (c) {
        case 'c': o.conc = atoi(optarg); break;
        case 'n': o.count = atol(optarg); break;
        case 'd': o.seconds = atof(optarg); break;
        case 't': o.timeout = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (argc - optind < 2 || o.conc < 1 || o.conc > 64 || o.count < 1 ||
        o.timeout < 1 || !(o.seconds > 0))
        goto usage;
    o.port = atoi(argv[optind]);
    o.paths = argv + optind + 1;
    o.npaths = argc - optind - 1;
    if (o.port <= 0 || o.port > 65535)
        goto usage;
    int p[2];
    if (pipe(p) < 0)
        return 2;
    double t0 = now_s();
    fflush(stdout);
    for (int i = 0; i < o.conc; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(p[0]);
            client(&o, i, p[1], t0 + o.seconds);
            _exit(0);
        }
        if (pid < 0) {
            perror("load: fork");
            return 2;
        }
    }
    close(p[1]);
    FILE *in = fdopen(p[0], "r");
    long ok = 0, failed = 0, a, b;
    while (in && fscanf(in, "%ld %ld", &a, &b) == 2) {
        ok += a;
        failed += b;
    }
    while (wait(NULL) > 0)
        ;
    printf("load: %ld requests, %ld ok, %ld failed in %.2f s\n", ok + failed,
           ok, failed, now_s() - t0);
    return failed ? 1 : 0;
usage:
    fprintf(stderr, "usage: load [-c CONC] [-n COUNT] [-d SECONDS] "
                    "[-t TIMEOUT] PORT PATH...\n");
    return 2;
}
