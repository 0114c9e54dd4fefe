/* engine_bench.c: times PromQL evaluation in-process: routing, plugin
 * hooks, engine and JSON writer, as pvm-fcgi runs them behind nginx but
 * without HTTP. The answer goes to a sink that only counts bytes, so the
 * figures are pvm's own work (the test kit would also parse the answer
 * with json-c, which costs more than producing it).
 *
 * Two parts:
 *   - Q1 and Q7 of docs/performance.md with the example plugin (12 series,
 *     1 h at 15 s): CPU time per request over many requests;
 *   - range queries of a plugin defined here serving SERIES counters
 *     counter_total{type="t0".."t3", id=...} rising 1 per second, over
 *     STEPS steps of 60 s: wall time per query and the peak RSS of each
 *     (the fourth, a vector-to-vector division, exercises binary
 *     operators).
 * Not a test: `make bench-engine`.
 *   engine_bench [SERIES] [STEPS] [REPEAT] [ONLY]   (default 1000 1440 5)
 * ONLY = 1, 2, 3 or 4 runs only that counter query (and not Q1/Q7), so that
 * the peak RSS printed is its own; ONLY = q runs only Q1 and Q7, Q1 or Q7
 * only that one (e.g. under callgrind). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "api.h"
#include "registry.h"

#define EXAMPLE_METRIC "prometheus_virtual_metrics_example_metric"

static int nseries = 1000;

static int bench_range(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    char id[16], type[8];
    pvm_label labels[] = {{"type", type}, {"id", id}};
    for (int s = 0; s < nseries; s++) {
        snprintf(type, sizeof(type), "t%d", s % 4);
        snprintf(id, sizeof(id), "%d", s);
        pvm_timestamps it = pvm_request_timestamps(req);
        int64_t t;
        while (pvm_timestamps_next(&it, &t)) {
            int rc = pvm_response_add_sample(resp, "counter_total",
                                             (double)(t / 1000) + s, t, labels,
                                             2);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break; /* this series does not match */
        }
    }
    return 0;
}

static const pvm_plugin_type bench = {
    .name = "bench",
    .on_instant_query_request = bench_range,
    .on_range_query_request = bench_range,
};

static const pvm_plugin_type *const table[] = {&bench, NULL};

extern const pvm_plugin_type pvm_plugin_example; /* plugins/example.c */

static const pvm_plugin_type *const example_table[] = {&pvm_plugin_example,
                                                       NULL};

/* Counts what the pipeline writes. */
struct sink {
    size_t bytes; /* bytes written (header block and body) */
    int status;   /* HTTP status of the last answer */
};

static int count_write(void *ctx, const char *buf, size_t len)
{
    (void)buf;
    ((struct sink *)ctx)->bytes += len;
    return 0;
}

static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Answers one GET target through the pipeline; returns the status. */
static int request(pvm_testkit *kit, pvm_arena *a, const char *target,
                   struct sink *s)
{
    pvm_context *ctx = pvm_testkit_context(kit);
    pvm_api_env env = {.ctx = ctx, .cfg = &pvm_context_config(ctx)->server};
    pvm_http_request hr = {.method = "GET",
                           .request_uri = target,
                           .remote_addr = "127.0.0.1"};
    const char *q = strchr(target, '?');
    hr.query_string = q ? q + 1 : "";
    pvm_http_out out = {count_write, s, NULL};
    s->bytes = 0;
    s->status = pvm_api_handle(&env, a, &hr, &out);
    pvm_arena_reset(a);
    return s->status;
}

/* A request arena as pvm-fcgi makes it: capped at max_request_memory. */
static pvm_arena *new_arena(pvm_testkit *kit)
{
    const pvm_config *cfg = pvm_context_config(pvm_testkit_context(kit));
    return pvm_arena_new(cfg->server.max_request_memory);
}

/* Resets the peak RSS (VmHWM) of this process, where Linux allows it. */
static void reset_peak_rss(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "5", 1) < 0)
            perror("clear_refs");
        close(fd);
    }
}

/* Peak RSS in MiB since the last reset_peak_rss (VmHWM). */
static double peak_rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmHWM: %ld", &kib) == 1)
            break;
    if (f)
        fclose(f);
    if (kib < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kib = ru.ru_maxrss;
    }
    return (double)kib / 1024.0;
}

/* One counter query, repeat times: best and mean wall time. */
static void run(pvm_testkit *kit, pvm_arena *a, const char *q, int steps,
                int repeat)
{
    char *enc = pvm_test_urlencode(q);
    char target[512];
    snprintf(target, sizeof(target),
             "/api/v1/query_range?query=%s&start=1000000&end=%.0f&step=60",
             enc, 1e6 + (steps - 1) * 60.0);
    free(enc);
    double best = 1e9, total = 0;
    struct sink s = {0};
    reset_peak_rss();
    for (int i = 0; i < repeat; i++) {
        double t0 = now_s(CLOCK_MONOTONIC);
        request(kit, a, target, &s);
        double dt = now_s(CLOCK_MONOTONIC) - t0;
        total += dt;
        if (dt < best)
            best = dt;
    }
    printf("| `%s` | %d | %.1f ms | %.1f ms | %zu | %.1f MiB |\n", q, s.status,
           best * 1e3, total / repeat * 1e3, s.bytes, peak_rss_mib());
}

/* Q1 and Q7 of docs/performance.md: CPU time per request. */
static int run_example(const char *only)
{
    char err[512];
    pvm_testkit *kit = pvm_testkit_new("[server]\naccess_log = off\n"
                                       "[plugin:example]\n",
                                       example_table, err, sizeof(err));
    pvm_arena *a = kit ? new_arena(kit) : NULL;
    if (!kit || !a) {
        fprintf(stderr, "engine_bench: %s\n", kit ? "out of memory" : err);
        return 1;
    }
    static const struct {
        const char *name;  /* row */
        const char *query; /* encoded query */
    } qs[] = {
        {"Q1", EXAMPLE_METRIC},
        {"Q7", "sum%20by%20(type)%20(" EXAMPLE_METRIC ")"},
    };
    printf("| query | status | CPU per request | response bytes |\n");
    printf("|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        if (only && only[0] == 'Q' && strcmp(only, qs[i].name) != 0)
            continue;
        char target[512];
        snprintf(target, sizeof(target),
                 "/api/v1/query_range?query=%s&start=1767222000"
                 "&end=1767225600&step=15",
                 qs[i].query);
        struct sink s = {0};
        for (int k = 0; k < 50; k++) /* warm up */
            request(kit, a, target, &s);
        int n = 0;
        double t0 = now_s(CLOCK_PROCESS_CPUTIME_ID), dt;
        do {
            for (int k = 0; k < 100; k++, n++)
                request(kit, a, target, &s);
            dt = now_s(CLOCK_PROCESS_CPUTIME_ID) - t0;
        } while (dt < 2.0);
        printf("| %s | %d | %.1f us | %zu |\n", qs[i].name, s.status,
               dt / n * 1e6, s.bytes);
    }
    printf("\n");
    pvm_arena_free(a);
    pvm_testkit_free(kit);
    return 0;
}

int main(int argc, char **argv)
{
    int steps = 1440, repeat = 5, only = 0;
    const char *which = argc > 4 ? argv[4] : NULL;
    if (argc > 1)
        nseries = atoi(argv[1]);
    if (argc > 2)
        steps = atoi(argv[2]);
    if (argc > 3)
        repeat = atoi(argv[3]);
    if (argc > 4)
        only = (which[0] == 'q' || which[0] == 'Q') ? -1 : atoi(which);
    if (only <= 0 && run_example(which) != 0)
        return 1;
    if (only < 0)
        return 0;
    char err[512];
    pvm_testkit *kit = pvm_testkit_new("[server]\naccess_log = off\n"
                                       "[plugin:bench]\n",
                                       table, err, sizeof(err));
    pvm_arena *a = kit ? new_arena(kit) : NULL;
    if (!kit || !a) {
        fprintf(stderr, "engine_bench: %s\n", kit ? "out of memory" : err);
        return 1;
    }
    static const char *const queries[] = {
        "sum by (type) (rate(counter_total[5m]))",
        "rate(counter_total[5m])",
        "counter_total",
        "counter_total / counter_total",
        "avg_over_time(counter_total[30m])",
    };
    printf("%d series x %d steps (step 60 s), best and mean of %d\n\n",
           nseries, steps, repeat);
    printf("| query | status | best | mean | response bytes | peak RSS |\n");
    printf("|---|---|---|---|---|---|\n");
    for (int i = 0; i < (int)(sizeof(queries) / sizeof(queries[0])); i++)
        if (!only || only == i + 1)
            run(kit, a, queries[i], steps, repeat);
    pvm_arena_free(a);
    pvm_testkit_free(kit);
    return 0;
}
