/* test_engine_limits.c: the evaluator under hostile sizes. The deadline
 * stops long per-step, per-window and per-series loops (a subquery with a
 * millisecond step over days); a subquery whose steps alone exceed the
 * sample limit is refused before any work; and every step that depends on
 * the size of a result (duplicate label sets, sort, topk, count_values,
 * histogram_quantile, label_replace) copes with 100,000 series, still
 * raising Prometheus' errors where it does. An alarm fails the program
 * instead of letting a quadratic step hang the test suite. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "labels.h"
#include "engine.h"
#include "series.h"

/* Series in the big inputs. */
#define NBIG 100000

/* Whole program bound (s): far above what the tests need (about 2 s),
 * far below what the quadratic code needed (minutes). */
#define ALARM_S 120

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* sparse{} has one point at 0: a subquery over days finds it only in its
 * first 5 minutes, so its loops run over steps without allocating. */
static int fetch_sparse(void *ctx, const pvm_fetch_request *req,
                        pvm_series_set *out, pvm_error *err)
{
    (void)ctx;
    (void)err;
    pvm_label l[] = {{"__name__", "sparse"}};
    pvm_series *s = pvm_series_set_get(out, l, 1, pvm_labels_hash(l, 1));
    if (!s)
        return PVM_ERR_NOMEM;
    if (req->mint <= 0 && req->maxt >= 0)
        return pvm_series_append(out, s, 0, 1);
    return 0;
}

/* NBIG series x{i="N"} = N, one y{i="7"} = 7, and NBIG / 10 histograms
 * of 10 buckets h_bucket{g="N",le="..."}, all with one point at 0. */
static int fetch_big(void *ctx, const pvm_fetch_request *req,
                     pvm_series_set *out, pvm_error *err)
{
    (void)ctx;
    (void)req;
    (void)err;
    char num[32], le[32];
    for (int i = 0; i < NBIG; i++) {
        snprintf(num, sizeof(num), "%d", i);
        pvm_label l[] = {{"__name__", "x"}, {"i", num}};
        pvm_series *s = pvm_series_set_get(out, l, 2, pvm_labels_hash(l, 2));
        if (!s || pvm_series_append(out, s, 0, i) < 0)
            return PVM_ERR_NOMEM;
        snprintf(num, sizeof(num), "%d", i / 10);
        if (i % 10 == 9)
            snprintf(le, sizeof(le), "+Inf");
        else
            snprintf(le, sizeof(le), "%d", i % 10);
        pvm_label h[] = {{"__name__", "h_bucket"}, {"g", num}, {"le", le}};
        s = pvm_series_set_get(out, h, 3, pvm_labels_hash(h, 3));
        if (!s || pvm_series_append(out, s, 0, i % 10 + 1) < 0)
            return PVM_ERR_NOMEM;
    }
    pvm_label y[] = {{"__name__", "y"}, {"i", "7"}};
    pvm_series *s = pvm_series_set_get(out, y, 2, pvm_labels_hash(y, 2));
    if (!s || pvm_series_append(out, s, 0, 7) < 0)
        return PVM_ERR_NOMEM;
    return 0;
}

/* NBIG / 2 gauges m<N>{i="<N>"} (names not ending in _total: rate() adds an info
 * naming each) with points at 0 and 60 s. */
static int fetch_names(void *ctx, const pvm_fetch_request *req,
                       pvm_series_set *out, pvm_error *err)
{
    (void)ctx;
    (void)req;
    (void)err;
    char name[32];
    for (int i = 0; i < NBIG / 2; i++) {
        snprintf(name, sizeof(name), "m%d", i);
        pvm_label l[] = {{"__name__", name}, {"i", name + 1}};
        pvm_series *s = pvm_series_set_get(out, l, 2, pvm_labels_hash(l, 2));
        if (!s || pvm_series_append(out, s, 0, 0) < 0 ||
            pvm_series_append(out, s, 60000, i) < 0)
            return PVM_ERR_NOMEM;
    }
    return 0;
}

/* Evaluates q (instant at t ms, or a range) with a deadline timeout_ms
 * from now (0: none); returns the status, *took the seconds spent. */
static int run(pvm_arena *a, const char *q, pvm_fetch_fn fetch, int64_t t,
               int64_t end, int64_t step, size_t max_samples,
               int64_t timeout_ms, pvm_eval_result *res, pvm_error *err,
               double *took)
{
    pvm_expr *e = pvm_promql_parse(a, q, strlen(q), err);
    if (!e)
        fail_msg("%s: %s", q, err->msg);
    pvm_eval_opts o = {.start = t,
                       .end = end,
                       .step = step,
                       .max_samples = max_samples,
                       .fetch = fetch,
                       .deadline_ns = timeout_ms
                                          ? now_ns() + timeout_ms * 1000000
                                          : 0};
    double t0 = now_s();
    int rc = pvm_eval(a, e, &o, res, err);
    *took = now_s() - t0;
    return rc;
}

#define DAY_MS (24LL * 3600 * 1000)

/* Loops over steps and windows stop at the deadline: each query below
 * runs for seconds to minutes without it (10 days at 1 ms: 8.6e8 steps). */
static void test_deadline_in_step_loops(void **state)
{
    (void)state;
    static const char *queries[] = {
        "count_over_time(sparse[10d:1ms])",
        "last_over_time(sparse[10d:1ms])",
        "sum_over_time((sparse offset 1ms)[10d:1ms])",
        "count_over_time(sparse[10d:1ms] @ 1000)",
        "absent_over_time(sparse[10d:1ms])",
        "max_over_time(max_over_time(sparse[10d:1ms])[10d:1d])",
    };
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        pvm_arena *a = pvm_arena_new((size_t)1 << 30);
        pvm_eval_result res;
        pvm_error err;
        double took;
        int rc = run(a, queries[i], fetch_sparse, 10 * DAY_MS, 10 * DAY_MS, 0,
                     0, 100, &res, &err, &took);
        if (rc != PVM_ERR_TIMEOUT && rc != PVM_ERR_NOMEM)
            fail_msg("%s: status %d (%s) after %.3f s, want a timeout",
                     queries[i], rc, err.msg, took);
        if (rc == PVM_ERR_TIMEOUT)
            assert_string_equal(err.msg,
                                "query timed out in expression evaluation");
        if (took > 1.0)
            fail_msg("%s: stopped %.3f s after a 0.1 s deadline", queries[i],
                     took);
        pvm_arena_free(a);
    }
}

/* A range query of many steps over a cheap expression is cut too. */
static void test_deadline_in_range_steps(void **state)
{
    (void)state;
    static const char *queries[] = {
        "sparse + 1", "sum(sparse)", "time()",         "vector(1) * 2",
        "-sparse",    "abs(sparse)", "scalar(sparse)", "absent(nothing)",
    };
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        pvm_arena *a = pvm_arena_new((size_t)1 << 30);
        pvm_eval_result res;
        pvm_error err;
        double took;
        /* 1e8 steps; a deadline already passed */
        int rc = run(a, queries[i], fetch_sparse, 0, 100000000, 1, 0, 1, &res,
                     &err, &took);
        if (rc != PVM_ERR_TIMEOUT && rc != PVM_ERR_NOMEM)
            fail_msg("%s: status %d (%s), want a timeout", queries[i], rc,
                     err.msg);
        if (took > 1.0)
            fail_msg("%s: stopped %.3f s after a 1 ms deadline", queries[i],
                     took);
        pvm_arena_free(a);
    }
}

/* x[1y:1ms] has 3e10 steps: refused at once against the sample limit,
 * with Prometheus' message (422 execution). */
static void test_subquery_steps_over_limit(void **state)
{
    (void)state;
    static const char *queries[] = {
        "count_over_time(sparse[1y:1ms])",
        "count_over_time(sparse[1d:1ms])",
        "rate(sparse[1d:1ms])",
        "max_over_time(sum(sparse)[2d:1ms])",
    };
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        pvm_arena *a = pvm_arena_new((size_t)1 << 30);
        pvm_eval_result res;
        pvm_error err;
        double took;
        int rc = run(a, queries[i], fetch_sparse, 400 * DAY_MS, 400 * DAY_MS,
                     0, 1000000, 0, &res, &err, &took);
        if (rc != PVM_ERR_EXECUTION)
            fail_msg("%s: status %d (%s) after %.3f s, want 422", queries[i],
                     rc, err.msg, took);
        assert_string_equal(err.msg, "query processing would load too many "
                                     "samples into memory in query "
                                     "execution");
        if (took > 0.5)
            fail_msg("%s: refused only after %.3f s", queries[i], took);
        pvm_arena_free(a);
    }
    /* Below the limit it is evaluated as before. */
    pvm_arena *a = pvm_arena_new((size_t)1 << 30);
    pvm_eval_result res;
    pvm_error err;
    double took;
    assert_int_equal(run(a, "count_over_time(sparse[10m:1s])", fetch_sparse,
                         60000, 60000, 0, 1000000, 0, &res, &err, &took),
                     0);
    assert_int_equal(res.nseries, 1);
    assert_int_equal((int)res.series[0].points[0].v, 61);
    pvm_arena_free(a);
}

/* An instant query over NBIG series with its expected series count; the
 * result lives until the next call (big(NULL, 0) frees it). */
static const pvm_eval_result *big(const char *q, size_t nseries)
{
    static pvm_eval_result res;
    static pvm_arena *a;
    pvm_error err;
    double took;
    pvm_arena_free(a);
    a = NULL;
    if (!q)
        return NULL;
    a = pvm_arena_new((size_t)1 << 30);
    assert_non_null(a);
    int rc = run(a, q, fetch_big, 0, 0, 0, 0, 0, &res, &err, &took);
    if (rc < 0)
        fail_msg("%s: %s", q, err.msg);
    if (res.nseries != nseries)
        fail_msg("%s: %zu series, want %zu", q, res.nseries, nseries);
    print_message("%-45s %zu series in %.3f s\n", q, nseries, took);
    return &res;
}

static const char *label(const pvm_result_series *s, const char *name)
{
    for (size_t i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return s->labels[i].value;
    return NULL;
}

static void test_big_results(void **state)
{
    (void)state;
    /* the instant vector duplicate check, without duplicates */
    big("x", NBIG);
    big("-x", NBIG);
    const pvm_eval_result *r = big("sort_desc(x)", NBIG);
    for (size_t i = 0; i < NBIG; i++)
        assert_int_equal((int)r->series[i].points[0].v, NBIG - 1 - (int)i);
    r = big("sort(-x)", NBIG);
    assert_int_equal((int)r->series[0].points[0].v, -(NBIG - 1));
    r = big("sort_by_label(x, \"i\")", NBIG);
    for (size_t i = 0; i < 20; i++) /* natural order: 0 1 2 ... 10 */
        assert_int_equal(atoi(label(&r->series[i], "i")), (int)i);
    r = big("topk(50000, x)", 50000);
    for (size_t i = 0; i < 50000; i++)
        assert_int_equal((int)r->series[i].points[0].v, NBIG - 1 - (int)i);
    r = big("bottomk(3, x)", 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal((int)r->series[i].points[0].v, (int)i);
    r = big("topk by (i) (1, x)", NBIG);
    r = big("count_values(\"v\", x)", NBIG);
    for (size_t i = 0; i < NBIG; i++)
        assert_int_equal((int)r->series[i].points[0].v, 1);
    r = big("count_values(\"v\", x % 10)", 10);
    for (size_t i = 0; i < 10; i++)
        assert_int_equal((int)r->series[i].points[0].v, NBIG / 10);
    r = big("histogram_quantile(0.5, h_bucket)", NBIG / 10);
    for (size_t i = 0; i < NBIG / 10; i++)
        if (!(r->series[i].points[0].v > 3 && r->series[i].points[0].v < 5))
            fail_msg("series %zu: %g", i, r->series[i].points[0].v);
    big("quantile(0.5, x)", 1);
    big("label_replace(x, \"j\", \"$1\", \"i\", \"(.*)\")", NBIG);
    big("x * on (i) x", NBIG);
    big("x * on () group_left y", NBIG);
    big("y * on () group_right x", NBIG);
    big(NULL, 0);
}

/* Duplicates in big results are still found where Prometheus finds
 * them. */
static void test_big_duplicates(void **state)
{
    (void)state;
    static const char *same = "vector cannot contain metrics with the "
                              "same labelset";
    static const struct {
        const char *q, *msg;
    } queries[] = {
        /* y{i="7"} and x{i="7"} lose their names: one duplicate among
         * NBIG + 1 series (cleanup of the instant vector) */
        {"-{__name__=~\"x|y\"}", NULL},
        /* label_replace making every label set equal */
        {"label_replace(x, \"i\", \"same\", \"\", \"\")", NULL},
        /* one match group of NBIG + 1 series, two giving {i="7"} */
        {"{__name__=~\"x|y\"} * on () group_left vector(1)",
         "multiple matches for labels: grouping labels must ensure unique "
         "matches"},
    };
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        pvm_arena *a = pvm_arena_new((size_t)2 << 30);
        pvm_eval_result res;
        pvm_error err;
        double took;
        int rc = run(a, queries[i].q, fetch_big, 0, 0, 0, 0, 0, &res, &err,
                     &took);
        if (rc != PVM_ERR_EXECUTION)
            fail_msg("%s: status %d (%s), want 422", queries[i].q, rc,
                     err.msg);
        assert_string_equal(err.msg, queries[i].msg ? queries[i].msg : same);
        print_message("%-45s duplicate found in %.3f s\n", queries[i].q, took);
        pvm_arena_free(a);
    }
}

/* One annotation per series, positioned on line 2 of a query after a
 * 100 KB comment: deduplicated through a hash table, positioned by a
 * binary search over the line starts (a list and a rescan were
 * quadratic). */
static void test_many_annotations(void **state)
{
    (void)state;
    size_t pad = 100000;
    const char *expr = "\n rate({__name__=~\"m.+\"}[5m])";
    char *q = malloc(pad + strlen(expr) + 1);
    assert_non_null(q);
    q[0] = '#';
    memset(q + 1, 'c', pad - 1);
    strcpy(q + pad, expr);
    pvm_arena *a = pvm_arena_new((size_t)1 << 30);
    pvm_error err;
    pvm_expr *e = pvm_promql_parse(a, q, strlen(q), &err);
    if (!e)
        fail_msg("%s", err.msg);
    pvm_eval_opts o = {.start = 60000,
                       .end = 60000,
                       .fetch = fetch_names,
                       .query = q,
                       .query_len = strlen(q)};
    pvm_eval_result res;
    double t0 = now_s();
    assert_int_equal(pvm_eval(a, e, &o, &res, &err), 0);
    double took = now_s() - t0;
    print_message("%zu infos in %.3f s\n", res.ninfos, took);
    /* a generous bound: 0.1 s here, 26 s with the list and the rescans */
    if (took > 10)
        fail_msg("%zu annotations took %.1f s", res.ninfos, took);
    assert_int_equal(res.nseries, NBIG / 2);
    assert_int_equal(res.ninfos, NBIG / 2);
    for (size_t i = 0; i < res.ninfos; i++) {
        size_t n = strlen(res.infos[i]);
        if (n < 7 || strcmp(res.infos[i] + n - 6, " (2:7)") != 0)
            fail_msg("info %zu: %s", i, res.infos[i]);
    }
    assert_non_null(strstr(res.infos[0], "does not end in "
                                         "_total/_sum/_count/_bucket: "));
    pvm_arena_free(a);
    free(q);
}

int main(void)
{
    alarm(ALARM_S);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deadline_in_step_loops),
        cmocka_unit_test(test_deadline_in_range_steps),
        cmocka_unit_test(test_subquery_steps_over_limit),
        cmocka_unit_test(test_big_results),
        cmocka_unit_test(test_big_duplicates),
        cmocka_unit_test(test_many_annotations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
