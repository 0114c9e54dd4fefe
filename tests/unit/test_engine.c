/* test_engine.c: unit tests of the PromQL evaluator internals (number
 * formatting as Go prints it, label helpers, quantiles) and of pvm_eval
 * through a small in-memory fetch callback. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "labels.h"
#include "engine.h"
#include "engine_internal.h"
#include "series.h"

/* Double-precision, NaN-aware equality (cmocka compares floats). */
static void assert_double(double got, double want)
{
    if (isnan(want) && isnan(got))
        return;
    if (fabs(got - want) > 1e-9 * fmax(1, fabs(want)))
        fail_msg("got %.17g, want %.17g", got, want);
}

static void test_fmt_g(void **state)
{
    (void)state;
    char b[64];
    pvm_format_float_g(b, sizeof(b), 0.1);
    assert_string_equal(b, "0.1");
    pvm_format_float_g(b, sizeof(b), 1e6);
    assert_string_equal(b, "1e+06");
    pvm_format_float_g(b, sizeof(b), 123456);
    assert_string_equal(b, "123456");
    pvm_format_float_g(b, sizeof(b), NAN);
    assert_string_equal(b, "NaN");
    pvm_format_float_g(b, sizeof(b), -INFINITY);
    assert_string_equal(b, "-Inf");
    pvm_format_float_g(b, sizeof(b), 1.5e-7);
    assert_string_equal(b, "1.5e-07");
}

static void test_fmt_f(void **state)
{
    (void)state;
    char b[400];
    pvm_format_float_f(b, sizeof(b), 1e20);
    assert_string_equal(b, "100000000000000000000");
    pvm_format_float_f(b, sizeof(b), 0.001);
    assert_string_equal(b, "0.001");
    pvm_format_float_f(b, sizeof(b), -2.5);
    assert_string_equal(b, "-2.5");
    pvm_format_float_f(b, sizeof(b), INFINITY);
    assert_string_equal(b, "+Inf");
}

static void test_quantile(void **state)
{
    (void)state;
    double v[] = {4, 1, 3, 2};
    assert_double(pvm_eval_quantile(0.5, v, 4), 2.5);
    assert_double(pvm_eval_quantile(0, v, 4), 1);
    assert_double(pvm_eval_quantile(1, v, 4), 4);
    assert_double(pvm_eval_quantile(2, v, 4), INFINITY);
    assert_double(pvm_eval_quantile(NAN, v, 4), NAN);
}

static void test_stale(void **state)
{
    (void)state;
    uint64_t bits = PVM_STALE_NAN_BITS;
    double v;
    memcpy(&v, &bits, sizeof(v));
    assert_true(pvm_is_stale_nan(v));
    assert_false(pvm_is_stale_nan(NAN));
    assert_false(pvm_is_stale_nan(1));
}

/* Serves one series x{a="1"} = 0, 10, 20, ... every minute. */
static int fetch_x(void *ctx, const pvm_fetch_request *req,
                   pvm_series_set *out, pvm_error *err)
{
    (void)ctx;
    (void)err;
    pvm_label l[] = {{"__name__", "x"}, {"a", "1"}};
    pvm_series *s = pvm_series_set_get(out, l, 2, pvm_labels_hash(l, 2));
    for (int64_t t = 0; t <= 600000; t += 60000)
        if (t >= req->mint && t <= req->maxt)
            pvm_series_append(out, s, t, (double)t / 6000);
    return 0;
}

static const pvm_eval_result *eval_text(pvm_arena *a, const char *q,
                                        int64_t start, int64_t end,
                                        int64_t step, size_t max_samples,
                                        pvm_error *err)
{
    static pvm_eval_result r;
    pvm_expr *e = pvm_promql_parse(a, q, strlen(q), err);
    assert_non_null(e);
    pvm_eval_opts o = {.start = start,
                       .end = end,
                       .step = step,
                       .max_samples = max_samples,
                       .fetch = fetch_x};
    return pvm_eval(a, e, &o, &r, err) < 0 ? NULL : &r;
}

static void test_eval_rate(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(0);
    pvm_error err;
    const pvm_eval_result *r = eval_text(a, "rate(x[5m])", 300000, 300000, 0,
                                         0, &err);
    assert_non_null(r);
    assert_int_equal(r->type, PVM_VT_VECTOR);
    assert_int_equal(r->nseries, 1);
    assert_int_equal(r->series[0].nlabels, 1); /* __name__ dropped */
    assert_double(r->series[0].points[0].v, 10.0 / 60);
    pvm_arena_free(a);
}

static void test_eval_range_and_limit(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(0);
    pvm_error err;
    const pvm_eval_result *r = eval_text(a, "x * 2", 0, 600000, 60000, 0,
                                         &err);
    assert_non_null(r);
    assert_int_equal(r->type, PVM_VT_MATRIX);
    assert_int_equal(r->series[0].npoints, 11);
    assert_double(r->series[0].points[10].v, 200);
    r = eval_text(a, "x * 2", 0, 600000, 60000, 5, &err);
    assert_null(r);
    assert_int_equal(err.code, PVM_ERR_EXECUTION);
    assert_non_null(strstr(err.msg, "too many samples"));
    pvm_arena_free(a);
}

static void test_eval_nomem(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(64 * 1024);
    pvm_error err;
    pvm_expr *e = pvm_promql_parse(a, "vector(1) + 1", 13, &err);
    assert_non_null(e);
    pvm_eval_opts o = {.start = 0,
                       .end = 100000000,
                       .step = 1000,
                       .fetch = fetch_x};
    pvm_eval_result r;
    assert_int_equal(pvm_eval(a, e, &o, &r, &err), PVM_ERR_NOMEM);
    pvm_arena_free(a);
}

/* The last fetch request the engine made. */
static pvm_fetch_request last_fetch;

static int fetch_capture(void *ctx, const pvm_fetch_request *req,
                         pvm_series_set *out, pvm_error *err)
{
    (void)ctx;
    (void)out;
    (void)err;
    last_fetch = *req;
    return 0;
}

/* Evaluates q over [start, end] by step (ms) with fetch_capture. */
static void fetch_of(const char *q, int64_t start, int64_t end, int64_t step)
{
    pvm_arena *a = pvm_arena_new(0);
    pvm_error err;
    pvm_expr *e = pvm_promql_parse(a, q, strlen(q), &err);
    assert_non_null(e);
    pvm_eval_opts o = {.start = start,
                       .end = end,
                       .step = step,
                       .fetch = fetch_capture};
    pvm_eval_result r;
    memset(&last_fetch, 0, sizeof(last_fetch));
    assert_int_equal(pvm_eval(a, e, &o, &r, &err), 0);
    pvm_arena_free(a);
}

/* A fetch request names the steps the selector is read at: the last one
 * on the start + k * step grid (not an unaligned end), maxt the last
 * lookup time; subqueries their own steps, multiples of their step. */
static void test_fetch_request_grid(void **state)
{
    (void)state;
    fetch_of("x", 500, 10000, 3000); /* steps 0.5, 3.5, 6.5, 9.5 s */
    assert_false(last_fetch.instant);
    assert_int_equal(last_fetch.start, 500);
    assert_int_equal(last_fetch.end, 9500);
    assert_int_equal(last_fetch.step, 3000);
    assert_int_equal(last_fetch.maxt, 9500);
    assert_int_equal(last_fetch.mint, 500 - 300000 + 1);
    fetch_of("x offset 1s", 500, 10000, 3000);
    assert_int_equal(last_fetch.maxt, 8500);
    fetch_of("rate(x[1m])", 1796378404000, 1796378470000, 15000);
    assert_int_equal(last_fetch.end, 1796378464000);
    assert_int_equal(last_fetch.maxt, 1796378464000);
    assert_int_equal(last_fetch.mint, 1796378404000 - 60000 + 1);
    /* @ end() is the end as given */
    fetch_of("x @ end()", 500, 10000, 3000);
    assert_int_equal(last_fetch.maxt, 10000);
    /* a subquery in an instant query: its steps, multiples of 7 s */
    fetch_of("max_over_time(x[1m:7s])", 100500, 100500, 0);
    assert_false(last_fetch.instant);
    assert_int_equal(last_fetch.step, 7000);
    assert_int_equal(last_fetch.start, 42000);
    assert_int_equal(last_fetch.end, 98000);
    assert_int_equal(last_fetch.maxt, 98000);
    /* nested, with offsets: outer steps of 10 s over (100.5 - 3 - 60,
     * 100.5 - 3], inner steps of 4 s in each */
    fetch_of("max_over_time(max_over_time(x[20s:4s])[1m:10s] offset 3s)",
             100500, 100500, 0);
    assert_int_equal(last_fetch.step, 4000);
    assert_int_equal(last_fetch.end, 88000);
    assert_int_equal(last_fetch.start, 24000);
    /* a plain selector of an instant query: one time */
    fetch_of("x", 100500, 100500, 0);
    assert_true(last_fetch.instant);
    assert_int_equal(last_fetch.time, 100500);
    assert_int_equal(last_fetch.maxt, 100500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_g),
        cmocka_unit_test(test_fmt_f),
        cmocka_unit_test(test_quantile),
        cmocka_unit_test(test_stale),
        cmocka_unit_test(test_eval_rate),
        cmocka_unit_test(test_eval_range_and_limit),
        cmocka_unit_test(test_eval_nomem),
        cmocka_unit_test(test_fetch_request_grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
