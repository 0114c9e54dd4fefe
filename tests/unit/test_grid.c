/* test_grid.c: the timestamps plugins are asked for and the values that
 * come back, through the test kit. A "clock" plugin computes its value at
 * each asked timestamp (value = t in seconds), so every answer must equal
 * its own timestamp (or the time the expression looks at): a point read
 * from a fetch grid off the query's steps shows up as a wrong value. A
 * "store" plugin returns stored samples at their own timestamps, which
 * instant evaluation must keep (timestamp(), staleness alerts). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "kitutil.h"

#include "testutil.h"

extern const pvm_plugin_type pvm_plugin_example;

/* The requests the clock plugin received. */
struct seen_request {
    pvm_request_type type;          /* instant or range */
    int64_t time, start, end, step; /* as the accessors return them */
    size_t count;                   /* pvm_request_timestamp_count */
};

static struct {
    size_t n;                  /* requests recorded */
    struct seen_request r[16]; /* the first 16 */
} seen;

/* Adds clock = t / 1000 at every timestamp asked (time for an instant
 * request). */
static int clock_query(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    if (seen.n < 16)
        seen.r[seen.n++] = (struct seen_request){
            pvm_request_get_type(req), pvm_request_time(req),
            pvm_request_start(req),    pvm_request_end(req),
            pvm_request_step(req),     pvm_request_timestamp_count(req)};
    pvm_series_ref *s;
    int rc = pvm_response_find_series(resp, "clock", NULL, 0, 0, &s);
    if (rc <= 0)
        return rc;
    pvm_timestamps it = pvm_request_timestamps(req);
    int64_t t;
    while (pvm_timestamps_next(&it, &t))
        if ((rc = pvm_response_add_point(resp, s, t, (double)t / 1000)) < 0)
            return rc;
    return 0;
}

static const pvm_plugin_type clock_plugin = {
    .name = "clock",
    .description = "value = the asked timestamp in seconds",
    .on_instant_query_request = clock_query,
    .on_range_query_request = clock_query,
};

/* Stored samples of `stored`: 1 at 100 s, 2 at 160 s, 3 at 220 s. The
 * instant hook returns the latest in (time - lookback, time] at its own
 * timestamp, the range hook those in [start, end]. */
static const int64_t stored_ts[] = {100000, 160000, 220000};

static int stored_query(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    int64_t lookback = pvm_context_lookback_ms(pvm_plugin_context(self));
    bool instant = pvm_request_get_type(req) == PVM_REQUEST_INSTANT;
    int64_t lo = instant ? pvm_request_time(req) - lookback + 1
                         : pvm_request_start(req);
    int64_t hi = instant ? pvm_request_time(req) : pvm_request_end(req);
    for (size_t i = 0; i < 3; i++) {
        if (stored_ts[i] < lo || stored_ts[i] > hi)
            continue;
        if (instant && i + 1 < 3 && stored_ts[i + 1] <= hi)
            continue; /* not the latest */
        int rc = pvm_response_add_sample(resp, "stored", (double)(i + 1),
                                         stored_ts[i], NULL, 0);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static const pvm_plugin_type stored_plugin = {
    .name = "stored",
    .description = "three stored samples",
    .on_instant_query_request = stored_query,
    .on_range_query_request = stored_query,
};

static const pvm_plugin_type *const table[] = {&clock_plugin, &stored_plugin,
                                               &pvm_plugin_example, NULL};

static int setup(void **state)
{
    return setup_kit(state,
                     "[plugin:clock]\n[plugin:stored]\n[plugin:example]\n",
                     table);
}

/* The value of point k of series i: its time (ms) and value. */
static double point(const pvm_test_response *r, int i, int k, int64_t *t)
{
    char path[96];
    snprintf(path, sizeof(path), "data.result[%d].values[%d]", i, k);
    json_object *p = pvm_test_json_get(r->json, path);
    assert_non_null(p);
    *t = (int64_t)(json_object_get_double(json_object_array_get_idx(p, 0)) *
                       1000 +
                   0.5);
    return strtod(json_object_get_string(json_object_array_get_idx(p, 1)),
                  NULL);
}

/* Evaluates query over [start, end] by step (seconds) and checks the
 * steps are exactly start + k * step <= end and that the value at each
 * is fn(t) (t in seconds). */
static void check_range(pvm_testkit *kit, const char *query, double start,
                        double end, double step, double (*fn)(double t))
{
    memset(&seen, 0, sizeof(seen));
    pvm_test_response *r = ok(pvm_testkit_range(kit, query, start, end, step));
    int64_t s = (int64_t)(start * 1000 + 0.5), e = (int64_t)(end * 1000 + 0.5),
            st = (int64_t)(step * 1000 + 0.5);
    int n = (int)((e - s) / st) + 1;
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     n);
    for (int k = 0; k < n; k++) {
        int64_t t;
        double v = point(r, 0, k, &t);
        assert_int_equal(t, s + k * st);
        double want = fn((double)t / 1000);
        if (!pvm_test_double_eq(v, want, 1e-9, false))
            fprintf(stderr, "%s [%g, %g] step %g: at t=%.3f got %.17g\n",
                    query, start, end, step, (double)t / 1000, v);
        assert_double_near(v, want, 1e-9);
    }
    pvm_test_response_free(r);
}

static double identity(double t)
{
    return t;
}
static double minus7(double t)
{
    return t - 7;
}
static double floor7(double t)
{
    return (double)((int64_t)(t / 7) * 7);
}
static double floor7_off3(double t)
{
    return (double)((int64_t)((t - 3) / 7) * 7);
}

/* Windows whose end is off the start + k * step grid: fractional starts,
 * steps that do not divide the window, sub-second steps. */
static const struct {
    double start, end, step;
} windows[] = {
    {1796378404, 1796378470, 15}, /* the example */
    {0.5, 10, 3},                 /* fractional start */
    {0.5, 10.2, 0.25},            /* sub-second step */
    {100, 101.95, 0.1},           /* sub-second, unaligned end */
    {7, 100, 7.5},                /* step does not divide */
    {1000, 1059.999, 60},         /* one step, end just short */
    {1000, 1000, 5},              /* start == end */
    {0, 600, 15},                 /* aligned (as Grafana asks) */
};

/* The plain selector: every value is its own timestamp, and the plugin
 * was asked on a grid that ends at the last step. */
static void test_range_values_at_steps(void **state)
{
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
        check_range(*state, "clock", windows[i].start, windows[i].end,
                    windows[i].step, identity);
        int64_t s = (int64_t)(windows[i].start * 1000 + 0.5),
                e = (int64_t)(windows[i].end * 1000 + 0.5),
                st = (int64_t)(windows[i].step * 1000 + 0.5);
        assert_int_equal(seen.n, 1);
        assert_int_equal(seen.r[0].type, PVM_REQUEST_RANGE);
        assert_int_equal(seen.r[0].step, st);
        assert_int_equal(seen.r[0].end, s + (e - s) / st * st);
        assert_int_equal(seen.r[0].time, seen.r[0].end);
        assert_int_equal((seen.r[0].end - seen.r[0].start) % st, 0);
        assert_int_equal(seen.r[0].count,
                         (seen.r[0].end - seen.r[0].start) / st + 1);
        assert_true(seen.r[0].start <= s - 300000 + 1);
    }
}

/* Range functions, offsets, @ and timestamp() read the same grid. */
static void test_range_functions_at_steps(void **state)
{
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
        double a = windows[i].start, b = windows[i].end, st = windows[i].step;
        check_range(*state, "max_over_time(clock[1m])", a, b, st, identity);
        check_range(*state, "last_over_time(clock[1m])", a, b, st, identity);
        check_range(*state, "timestamp(clock)", a, b, st, identity);
        check_range(*state, "clock offset 7s", a, b, st, minus7);
    }
}

/* @ end() is the query's end as given (Prometheus), not the last step. */
static void test_at_end_is_the_given_end(void **state)
{
    pvm_test_response *r = ok(
        pvm_testkit_range(*state, "clock @ end()", 100, 130.5, 10));
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     4);
    for (int k = 0; k < 4; k++) {
        int64_t t;
        pvm_assert_double_eq(point(r, 0, k, &t), 130.5);
    }
    pvm_test_response_free(r);
}

/* Subqueries run on multiples of their step: their selectors are asked at
 * exactly those, in instant and range queries. */
static void test_subquery_steps(void **state)
{
    memset(&seen, 0, sizeof(seen));
    pvm_test_response *r = ok(
        pvm_testkit_instant(*state, "max_over_time(clock[1m:7s])", 1000.5));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "994");
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.r[0].type, PVM_REQUEST_RANGE);
    assert_int_equal(seen.r[0].end, 994000);
    assert_int_equal(seen.r[0].step, 7000);
    pvm_test_response_free(r);
    check_range(*state, "max_over_time(clock[30s:7s])", 1000, 1100.3, 10,
                floor7);
    check_range(*state, "max_over_time(clock[30s:7s] offset 3s)", 1000.5,
                1100.3, 10, floor7_off3);
    check_range(*state,
                "max_over_time(rate(clock[1m])[2m:7s]) * 0 + "
                "max_over_time(clock[30s:7s])",
                1000, 1100.3, 10, floor7);
}

/* The example plugin's sawtooth at an unaligned end: (t mod 60) / 60. */
static double sawtooth(double t)
{
    double s = fmod(t, 60);
    return (s < 0 ? s + 60 : s) / 60;
}

static void test_example_sawtooth(void **state)
{
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++)
        check_range(*state,
                    "prometheus_virtual_metrics_example_metric{type="
                    "\"sawtooth\",amplitude=\"1\"}",
                    windows[i].start, windows[i].end, windows[i].step,
                    sawtooth);
}

/* A stored sample keeps its own timestamp through instant evaluation:
 * timestamp() gives it, the answer's point is at the evaluation time, and
 * the staleness alert of Prometheus' documentation fires. */
static void test_instant_keeps_sample_time(void **state)
{
    pvm_test_response *r = ok(pvm_testkit_instant(*state, "stored", 250));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "3");
    pvm_assert_double_eq(json_object_get_double(
                             pvm_test_json_get(r->json,
                                               "data.result[0].value[0]")),
                         250);
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(*state, "timestamp(stored)", 250));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "220");
    pvm_test_response_free(r);
    r = ok(
        pvm_testkit_instant(*state, "time() - timestamp(stored) > 60", 250));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 0);
    pvm_test_response_free(r);
    r = ok(
        pvm_testkit_instant(*state, "time() - timestamp(stored) > 60", 300));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "80");
    pvm_test_response_free(r);
    /* a value computed at the time asked keeps that time */
    r = ok(pvm_testkit_instant(*state, "timestamp(clock)", 250.5));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "250.5");
    pvm_test_response_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_values_at_steps),
        cmocka_unit_test(test_range_functions_at_steps),
        cmocka_unit_test(test_at_end_is_the_given_end),
        cmocka_unit_test(test_subquery_steps),
        cmocka_unit_test(test_example_sawtooth),
        cmocka_unit_test(test_instant_keeps_sample_time),
    };
    return cmocka_run_group_tests(tests, setup, teardown_kit);
}
