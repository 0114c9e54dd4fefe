/* test_api_deadline.c: every request carries a deadline that plugins read
 * (pvm_request_deadline_ms, pvm_request_remaining_ms): the query's
 * `timeout`, capped by [server] max_query_timeout and by 5/6 of
 * request_timeout; a query past it answers Prometheus' 503 timeout
 * envelope, also when a hook returned late or gave up itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <pvm/testkit.h>

#include "kitutil.h"

/* What the last hook saw. */
static struct {
    int calls;         /* hooks run */
    int64_t deadline;  /* pvm_request_deadline_ms */
    int64_t remaining; /* pvm_request_remaining_ms */
    int64_t now;       /* CLOCK_MONOTONIC ms when it ran */
} seen;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void look(pvm_request *req)
{
    seen.calls++;
    seen.now = mono_ms();
    seen.deadline = pvm_request_deadline_ms(req);
    seen.remaining = pvm_request_remaining_ms(req);
}

/* Query hook: records the deadline; ?sleep=MS works that long first;
 * ?giveup=1 stops with PVM_ERR_TIMEOUT once the deadline passed, as
 * docs/plugin-api.md shows. */
static int clock_query(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    look(req);
    const char *s = pvm_request_http_query(req, "sleep");
    const char *g = pvm_request_http_query(req, "giveup");
    int64_t until = mono_ms() + (s ? atoll(s) : 0);
    while (mono_ms() < until) {
        if (g && pvm_request_remaining_ms(req) <= 0)
            return pvm_response_set_error(resp, PVM_ERR_TIMEOUT,
                                          "query timed out in clock");
        struct timespec d = {0, 5000000};
        nanosleep(&d, NULL);
    }
    return pvm_response_add_sample(resp, "up", 1, pvm_request_time(req), NULL,
                                   0) < 0
               ? PVM_ERR_NOMEM
               : 0;
}

static int clock_values(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    look(req);
    const char *v[] = {"up"};
    return pvm_response_add_values(resp, v, 1);
}

static const pvm_plugin_type clock_plugin = {
    .name = "clock",
    .description = "records the deadline it is given",
    .on_instant_query_request = clock_query,
    .on_range_query_request = clock_query,
    .on_metric_names_request = clock_values,
    .on_label_names_request = clock_values,
};

static const pvm_plugin_type *const table[] = {&clock_plugin, NULL};

static pvm_testkit *kit(const char *server)
{
    char ini[512];
    snprintf(ini, sizeof(ini), "[server]\n%s[plugin:clock]\n", server);
    pvm_testkit *k = kit_or_fail(ini, table);
    memset(&seen, 0, sizeof(seen));
    return k;
}

static void get(pvm_testkit *k, const char *target, int status)
{
    pvm_test_response *r = pvm_testkit_request(k, "GET", target, NULL, NULL);
    assert_non_null(r);
    if (r->status != status)
        fail_msg("%s: %d %s, want %d", target, r->status, r->body, status);
    pvm_test_response_free(r);
}

/* The deadline seen by the last hook was about `ms` after it ran. */
static void expect_budget(int64_t ms)
{
    assert_true(seen.calls > 0);
    assert_true(seen.deadline > 0);
    int64_t left = seen.deadline - seen.now;
    if (left > ms || left < ms - 500)
        fail_msg("deadline %lld ms ahead, want about %lld", (long long)left,
                 (long long)ms);
    if (seen.remaining > ms || seen.remaining < ms - 500)
        fail_msg("remaining %lld ms, want about %lld",
                 (long long)seen.remaining, (long long)ms);
}

static void test_timeout_parameter(void **state)
{
    (void)state;
    pvm_testkit *k = kit("max_query_timeout = 10s\n");
    get(k, "/api/v1/query?query=up&timeout=2s", 200);
    expect_budget(2000);
    get(k, "/api/v1/query_range?query=up&start=0&end=60&step=15&timeout=3s",
        200);
    expect_budget(3000);
    /* above max_query_timeout: capped */
    get(k, "/api/v1/query?query=up&timeout=1h", 200);
    expect_budget(10000);
    /* none: max_query_timeout, for queries and the other requests */
    get(k, "/api/v1/query?query=up", 200);
    expect_budget(10000);
    get(k, "/api/v1/label/__name__/values", 200);
    expect_budget(10000);
    pvm_testkit_free(k);
}

/* The default leaves request_timeout room to answer: 50 s of 60 s; a
 * shorter request_timeout shortens every deadline to 5/6 of it. */
static void test_capped_by_request_timeout(void **state)
{
    (void)state;
    pvm_testkit *k = kit("");
    get(k, "/api/v1/query?query=up", 200);
    expect_budget(50000);
    pvm_testkit_free(k);
    k = kit("request_timeout = 6s\nmax_query_timeout = 1h\n");
    get(k, "/api/v1/query?query=up&timeout=1h", 200);
    expect_budget(5000);
    get(k, "/api/v1/labels", 200);
    expect_budget(5000);
    get(k, "/api/v1/query?query=up&timeout=1s", 200);
    expect_budget(1000);
    pvm_testkit_free(k);
}

static void expect_timeout_envelope(pvm_testkit *k, const char *target,
                                    const char *msg)
{
    pvm_test_response *r = pvm_testkit_request(k, "GET", target, NULL, NULL);
    assert_non_null(r);
    if (r->status != 503 || !r->json)
        fail_msg("%s: %d %s, want 503", target, r->status, r->body);
    assert_string_equal(pvm_test_json_string(r->json, "status"), "error");
    assert_string_equal(pvm_test_json_string(r->json, "errorType"), "timeout");
    assert_string_equal(pvm_test_json_string(r->json, "error"), msg);
    pvm_test_response_free(r);
}

/* A hook returning after the deadline: the query answers 503 timeout
 * (Prometheus' envelope), not a late 200. */
static void test_late_hook_times_out(void **state)
{
    (void)state;
    pvm_testkit *k = kit("");
    expect_timeout_envelope(k,
                            "/api/v1/query?query=up&timeout=100ms"
                            "&sleep=300",
                            "query timed out in expression evaluation");
    /* two selectors: the second hook is not even asked */
    seen.calls = 0;
    expect_timeout_envelope(k,
                            "/api/v1/query?query=up%2Bup&timeout=100ms"
                            "&sleep=300",
                            "query timed out in expression evaluation");
    assert_int_equal(seen.calls, 1);
    /* a hook that watches its deadline stops at it */
    int64_t t0 = mono_ms();
    expect_timeout_envelope(k,
                            "/api/v1/query?query=up&timeout=100ms"
                            "&sleep=5000&giveup=1",
                            "query timed out in clock");
    assert_true(mono_ms() - t0 < 2000);
    /* in time: 200 */
    get(k, "/api/v1/query?query=up&timeout=5s&sleep=10", 200);
    pvm_testkit_free(k);
}

/* The engine's own loops, through the API: a subquery of 3e10 steps is
 * refused against the default sample limit (5e7), and stops at its
 * timeout when the limit is raised. */
static void test_heavy_queries(void **state)
{
    (void)state;
    pvm_testkit *k = kit("");
    /* count_over_time(up[1y:1ms]): 3e10 steps, refused at once (422) */
    int64_t t0 = mono_ms();
    pvm_test_response *r = pvm_testkit_request(
        k, "GET",
        "/api/v1/query?query=count_over_time(up%5B1y:1ms%5D)"
        "&timeout=1s",
        NULL, NULL);
    assert_non_null(r);
    assert_int_equal(r->status, 422);
    assert_string_equal(pvm_test_json_string(r->json, "errorType"),
                        "execution");
    assert_string_equal(pvm_test_json_string(r->json, "error"),
                        "query processing would load too many samples "
                        "into memory in query execution");
    pvm_test_response_free(r);
    assert_true(mono_ms() - t0 < 1000);
    pvm_testkit_free(k);
    /* with a higher sample limit it runs, and stops at its timeout */
    k = kit("max_samples = 100000000000\n");
    t0 = mono_ms();
    expect_timeout_envelope(k,
                            "/api/v1/query?query=count_over_time("
                            "up%5B1y:1ms%5D)&timeout=300ms",
                            "query timed out in expression evaluation");
    int64_t took = mono_ms() - t0;
    if (took > 1300)
        fail_msg("answered %lld ms after a 300 ms timeout", (long long)took);
    pvm_testkit_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeout_parameter),
        cmocka_unit_test(test_capped_by_request_timeout),
        cmocka_unit_test(test_late_hook_times_out),
        cmocka_unit_test(test_heavy_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
