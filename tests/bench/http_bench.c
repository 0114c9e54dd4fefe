/* http_bench.c: the http plugin's benchmark (tests/bench/http_bench.sh,
 * make bench): a JSON answer of 100 series x 10,000 points served by
 * nginx on 127.0.0.1, fetched, mapped by jq and answered as a range query
 * of all points, in-process through the test kit:
 *     http_bench URL [RUNS]
 * prints per run the wall time of the fetch alone (the shared client),
 * of jq alone (parse, program, conversion), of the whole range query
 * through the plugin, and "pvm" = whole - fetch - jq (samples into the
 * response, the engine, the JSON answer); then the process's peak RSS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "http_client.h"
#include "http_jq.h"

extern const pvm_plugin_type pvm_plugin_http;
static const pvm_plugin_type *const table[] = {&pvm_plugin_http, NULL};

#define START 1700000000 /* first point; points every 15 s */
#define POINTS 10000
#define JQ                                                                    \
    ".start as $s | .series[] | .host as $h | .points[] | {metric: "          \
    "\"bench_http\", labels: {host: $h}, timestamp: ($s + .[0] * 15), "       \
    "value: .[1]}"

/* Wall and CPU (this process) seconds. */
struct clock2 {
    double wall, cpu;
};

static struct clock2 now(void)
{
    struct timespec w, c;
    clock_gettime(CLOCK_MONOTONIC, &w);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
    return (struct clock2){(double)w.tv_sec + (double)w.tv_nsec / 1e9,
                           (double)c.tv_sec + (double)c.tv_nsec / 1e9};
}

struct count {
    pvm_http_sink base;
    size_t n;
};

static int count_add(pvm_http_sink *self, const char *name,
                     const pvm_label *labels, size_t nl, int64_t t, double v,
                     pvm_error *err)
{
    (void)name, (void)labels, (void)nl, (void)t, (void)v, (void)err;
    ((struct count *)self)->n++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: http_bench URL [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    pvm_error err = {0};
    pvm_http_settings s = {.url = argv[1],
                           .timeout_ms = 60000,
                           .max_response_bytes = 64u << 20};
    pvm_http_client *c = pvm_http_client_new(&s, "bench", &err);
    pvm_http_jq *j = pvm_http_jq_compile(JQ, &err);
    char ini[1024];
    snprintf(ini, sizeof(ini),
             "[server]\nmax_request_memory = 4G\n"
             "[plugin:bench]\ntype = http\nurl = %s\njq = %s\n"
             "max_response_bytes = 64M\n",
             argv[1], JQ);
    char errbuf[512] = "";
    pvm_testkit *kit = pvm_testkit_new(ini, table, errbuf, sizeof(errbuf));
    if (!c || !j || !kit) {
        fprintf(stderr, "http_bench: %s%s\n", err.msg, errbuf);
        return 1;
    }
    printf("wall ms (CPU ms of this process in parentheses):\n\n"
           "| run | answer MB | samples | fetch | jq | whole | pvm = whole "
           "- fetch - jq |\n|---|---|---|---|---|---|---|\n");
    for (int r = 1; r <= runs; r++) {
        pvm_http_call call = {.url = argv[1], .method = PVM_HTTP_GET};
        pvm_http_answer a;
        struct clock2 t0 = now();
        if (pvm_http_fetch(c, NULL, &call, &a, &err) < 0) {
            fprintf(stderr, "http_bench: %s\n", err.msg);
            return 1;
        }
        struct clock2 t1 = now();
        struct count cnt = {{count_add}, 0};
        pvm_http_jq_vars v = {(int64_t)START * 1000,
                              ((int64_t)START + (POINTS - 1) * 15) * 1000,
                              15000, NULL};
        if (pvm_http_jq_run(j, a.body, a.len, &v, false, &cnt.base, &err) <
            0) {
            fprintf(stderr, "http_bench: %s\n", err.msg);
            return 1;
        }
        struct clock2 t2 = now();
        pvm_test_response *resp = pvm_testkit_range(kit, "bench_http", START,
                                                    START + (POINTS - 1) * 15,
                                                    15);
        struct clock2 t3 = now();
        if (resp->status != 200) {
            fprintf(stderr, "http_bench: %d %.300s\n", resp->status,
                    resp->body);
            return 1;
        }
        double fw = (t1.wall - t0.wall) * 1e3, jw = (t2.wall - t1.wall) * 1e3,
               ww = (t3.wall - t2.wall) * 1e3;
        double fc = (t1.cpu - t0.cpu) * 1e3, jc = (t2.cpu - t1.cpu) * 1e3,
               wc = (t3.cpu - t2.cpu) * 1e3;
        printf("| %d | %.1f | %zu | %.0f (%.0f) | %.0f (%.0f) | %.0f (%.0f) "
               "| %.0f (%.0f) |\n",
               r, (double)a.len / 1e6, cnt.n, fw, fc, jw, jc, ww, wc,
               ww - fw - jw, wc - fc - jc);
        pvm_test_response_free(resp);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\npeak RSS of the bench process (client, jq and the kit in one "
           "process): %.0f MB\n",
           (double)ru.ru_maxrss / 1024.0);
    pvm_testkit_free(kit);
    pvm_http_jq_free(j);
    pvm_http_client_free(c);
    return 0;
}
