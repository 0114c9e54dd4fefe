/* exec_bench.c: the cost of the exec plugin per request, in-process
 * through the test kit (routing, hooks, engine, JSON; the kit also parses
 * the answer): the same instant query answered by
 *   shell       a one-shot /bin/sh -c command (fork, exec, a pipe each)
 *   python      a one-shot Python script (/usr/bin/python3 -c)
 *   persistent  a persistent /bin/sh loop (one JSON line each way)
 *   persistent-python  the same in Python
 * For each: wall ms per request and CPU ms per request (pvm and its
 * children, getrusage; a persistent process's once it is reaped at the
 * end, its start included), over REPEAT requests. Not a test: `make
 * bench-exec`, figures in docs/performance.md ("exec plugin").
 *   exec_bench [REPEAT]   (default 200) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

extern const pvm_plugin_type pvm_plugin_exec;

static const pvm_plugin_type *const table[] = {&pvm_plugin_exec, NULL};

/* One configuration: a name and the [plugin:...] keys after type. */
struct variant {
    const char *name; /* printed */
    const char *keys; /* the instance's keys, NULL: persistent_py */
};

static const struct variant variants[] = {
    {"shell", "command = echo \"m 1 $PVM_TIME\"\nshell = yes\n"},
    {"python", "command = /usr/bin/python3 -c \"import json,sys; "
               "r=json.load(sys.stdin); print('m 1 %s' % r['time'])\"\n"},
    {"persistent",
     "command = sh -c 'while read -r l; do echo \"m 1 1700000000\"; "
     "echo \"# EOF\"; done'\npersistent = yes\n"},
    {"persistent-python", NULL}, /* the script below */
};

/* The persistent Python program (written to a temporary file: a -c
 * program needs newlines, which a pvm.ini value cannot hold). */
static const char *const persistent_py =
    "import json, sys\n"
    "for line in sys.stdin:\n"
    "    r = json.loads(line)\n"
    "    sys.stdout.write('m 1 %s\\n# EOF\\n' % r['time'])\n"
    "    sys.stdout.flush()\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of this process and its reaped children. */
static double cpu_s(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
                    kids.ru_utime.tv_sec + kids.ru_stime.tv_sec) +
           (self.ru_utime.tv_usec + self.ru_stime.tv_usec +
            kids.ru_utime.tv_usec + kids.ru_stime.tv_usec) /
               1e6;
}

int main(int argc, char **argv)
{
    int repeat = argc > 1 ? atoi(argv[1]) : 200;
    if (repeat < 1)
        repeat = 1;
    char py[] = "/tmp/pvm-exec-bench-XXXXXX";
    int fd = mkstemp(py);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f || fputs(persistent_py, f) < 0 || fclose(f) != 0) {
        perror("exec_bench: temporary file");
        return 1;
    }
    printf("| command | ms per request | CPU ms per request |\n");
    printf("|---|---|---|\n");
    for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
        char ini[1024], keys[512], err[512];
        if (variants[v].keys)
            snprintf(keys, sizeof(keys), "%s", variants[v].keys);
        else
            snprintf(keys, sizeof(keys),
                     "command = /usr/bin/python3 %s\npersistent = yes\n", py);
        snprintf(ini, sizeof(ini),
                 "[server]\nlog_level = warning\n[plugin:m]\ntype = exec\n%s",
                 keys);
        pvm_testkit *k = pvm_testkit_new(ini, table, err, sizeof(err));
        if (!k) {
            fprintf(stderr, "exec_bench: %s\n", err);
            return 1;
        }
        pvm_test_response_free(pvm_testkit_instant(k, "m", 1700000000));
        double t0 = now_s(), c0 = cpu_s();
        for (int i = 0; i < repeat; i++) {
            pvm_test_response *r = pvm_testkit_instant(k, "m", 1700000000);
            if (!r || r->status != 200) {
                fprintf(stderr, "exec_bench: %s: %s\n", variants[v].name,
                        r ? r->body : "no answer");
                return 1;
            }
            pvm_test_response_free(r);
        }
        double t1 = now_s();
        pvm_testkit_free(k); /* reaps a persistent process: its CPU */
        double c1 = cpu_s();
        printf("| %s | %.2f | %.2f |\n", variants[v].name,
               (t1 - t0) * 1000 / repeat, (c1 - c0) * 1000 / repeat);
    }
    unlink(py);
    return 0;
}
