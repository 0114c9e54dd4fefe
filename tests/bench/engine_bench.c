/* engine_bench.c: times PromQL evaluation in-process (test kit: routing,
 * plugin hooks, engine, JSON), without HTTP. A plugin defined here serves
 * N series counter_total{type="t0".."t3", id=...} rising 1 per second.
 * Prints wall time per query and the peak RSS. Not a test: `make bench`.
 *   engine_bench [SERIES] [STEPS] [REPEAT]   (default 1000 1440 5)   */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

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
                                             (double)(t / 1000) + s, t,
                                             labels, 2);
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(pvm_testkit *kit, const char *q, int steps, int repeat)
{
    double best = 1e9, total = 0;
    size_t bytes = 0;
    int status = 0;
    for (int i = 0; i < repeat; i++) {
        double t0 = now_s();
        pvm_test_response *r =
            pvm_testkit_range(kit, q, 1e6, 1e6 + (steps - 1) * 60.0, 60);
        double dt = now_s() - t0;
        status = r ? r->status : -1;
        bytes = r ? r->body_len : 0;
        pvm_test_response_free(r);
        total += dt;
        if (dt < best)
            best = dt;
    }
    printf("| `%s` | %d | %.1f ms | %.1f ms | %zu |\n", q, status,
           best * 1e3, total / repeat * 1e3, bytes);
}

int main(int argc, char **argv)
{
    int steps = 1440, repeat = 5;
    if (argc > 1)
        nseries = atoi(argv[1]);
    if (argc > 2)
        steps = atoi(argv[2]);
    if (argc > 3)
        repeat = atoi(argv[3]);
    char err[512];
    pvm_testkit *kit = pvm_testkit_new("[server]\naccess_log = off\n"
                                       "[plugin:bench]\n",
                                       table, err, sizeof(err));
    if (!kit) {
        fprintf(stderr, "engine_bench: %s\n", err);
        return 1;
    }
    printf("%d series x %d steps (step 60 s), best and mean of %d\n\n",
           nseries, steps, repeat);
    printf("| query | status | best | mean | response bytes |\n");
    printf("|---|---|---|---|---|\n");
    run(kit, "sum by (type) (rate(counter_total[5m]))", steps, repeat);
    run(kit, "rate(counter_total[5m])", steps, repeat);
    run(kit, "counter_total", steps, repeat);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("\npeak RSS: %.1f MiB\n", ru.ru_maxrss / 1024.0);
    pvm_testkit_free(kit);
    return 0;
}
