/* test_plugin_api.c: the request and response API as plugins see it, with
 * small plugins defined here, through the test kit. */
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

/* What the probe plugin saw in its last hook call. */
static struct {
    int calls;            /* hooks called */
    int64_t ts[16];       /* timestamps iterated */
    size_t nts;           /* number of them */
    size_t ts_count;      /* pvm_request_timestamp_count */
    char label_name[64];  /* pvm_request_label_name */
    char header[64];      /* X-Test header */
    char url_param[64];   /* custom URL parameter */
    char body_param[64];  /* custom body parameter */
    int name_matches_foo; /* pvm_query_name_matches("foo") */
    int name_matches_bar; /* pvm_query_name_matches("bar") */
    size_t nselectors;    /* selectors in the query */
    int lazy_calls;       /* lazy value callbacks run */
    int add_rc[4];        /* return codes of add_sample calls */
} seen;

static double lazy_value(void *arg)
{
    seen.lazy_calls++;
    return *(double *)arg;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "(null)");
}

static int probe_query(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    seen.calls++;
    pvm_timestamps it = pvm_request_timestamps(req);
    int64_t t;
    seen.nts = 0;
    while (pvm_timestamps_next(&it, &t) && seen.nts < 16)
        seen.ts[seen.nts++] = t;
    seen.ts_count = pvm_request_timestamp_count(req);
    copy(seen.header, sizeof(seen.header),
         pvm_request_http_header(req, "x-test"));
    copy(seen.url_param, sizeof(seen.url_param),
         pvm_request_http_query(req, "custom"));
    copy(seen.body_param, sizeof(seen.body_param),
         pvm_request_http_post_data(req, "custom"));
    const pvm_query *q = pvm_request_query(req);
    seen.name_matches_foo = pvm_query_name_matches(q, "foo");
    seen.name_matches_bar = pvm_query_name_matches(q, "bar");
    seen.nselectors = pvm_query_selector_count(q);
    double v = 42;
    pvm_label l[] = {{"k", "v"}};
    pvm_sample lazy = {.name = "foo",
                       .labels = l,
                       .nlabels = 1,
                       .timestamp = pvm_request_time(req),
                       .value_fn = lazy_value,
                       .value_arg = &v};
    seen.add_rc[0] = pvm_response_add_sample_ex(resp, &lazy, 0);
    lazy.name = "bar";
    seen.add_rc[1] = pvm_response_add_sample_ex(resp, &lazy, 0);
    pvm_sample s = {.name = "bar",
                    .labels = l,
                    .nlabels = 1,
                    .timestamp = pvm_request_time(req),
                    .value = 7};
    seen.add_rc[2] = pvm_response_add_sample_ex(resp, &s,
                                                PVM_SAMPLE_SKIP_QUERY_CHECK);
    seen.add_rc[3] = pvm_response_add_value(resp, "x"); /* wrong type */
    pvm_response_add_warning(resp, "probe warning %d", 1);
    pvm_response_add_info(resp, "probe info");
    return 0;
}

static int probe_values(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    seen.calls++;
    copy(seen.label_name, sizeof(seen.label_name),
         pvm_request_label_name(req));
    const char *v[] = {"b", "a", "b"};
    return pvm_response_add_values(resp, v, 3);
}

static const pvm_plugin_type probe = {
    .name = "probe",
    .description = "records what it sees",
    .on_instant_query_request = probe_query,
    .on_range_query_request = probe_query,
    .on_label_values_request = probe_values,
    .on_label_names_request = probe_values,
    .on_metric_names_request = probe_values,
};

/* A plugin that fails or refuses on demand. */
struct failer {
    int mode; /* 0 fail, 1 forbid, 2 duplicate samples, 3 forbid with
                 100 headers */
};

static int failer_configure(pvm_plugin *self, const char *key,
                            const char *value, pvm_error *err)
{
    struct failer *st = pvm_plugin_state(self);
    if (strcmp(key, "mode") != 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "unknown key");
    st->mode = atoi(value);
    return 0;
}

static int failer_query(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    struct failer *st = pvm_plugin_state(self);
    if (st->mode == 0)
        return pvm_response_fail(resp, "database is down");
    if (st->mode == 3) {
        for (int i = 0; i < 100; i++) {
            char name[16], value[16];
            snprintf(name, sizeof(name), "X-H%d", i);
            snprintf(value, sizeof(value), "v%d", i);
            if (pvm_response_add_header(resp, name, value) < 0)
                return PVM_ERR_NOMEM;
        }
    }
    if (st->mode == 1 || st->mode == 3) {
        pvm_response_add_header(resp, "WWW-Authenticate",
                                "Basic realm=\"pvm\"");
        return pvm_response_set_error(resp, PVM_ERR_FORBIDDEN,
                                      "credentials required");
    }
    for (int i = 0; i < 3; i++)
        pvm_response_add_sample(resp, "dup", i, pvm_request_time(req), NULL,
                                0);
    return 0;
}

static const pvm_plugin_type failer = {
    .name = "failer",
    .state_size = sizeof(struct failer),
    .configure = failer_configure,
    .on_instant_query_request = failer_query,
};

/* Adds many samples (for the sample limit). */
static int flood_query(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    char v[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(v, sizeof(v), "%d", i);
        pvm_label l[] = {{"i", v}};
        int rc = pvm_response_add_sample(resp, "flood", i,
                                         pvm_request_time(req), l, 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static const pvm_plugin_type flood = {
    .name = "flood",
    .on_instant_query_request = flood_query,
};

/* Series found once, points added by handle, mixed with add_sample: four
 * series i="0".."3" of `h`, each value i * 100 + seconds, at every
 * timestamp asked for, time-major. */
static int handles_query(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp)
{
    (void)self;
    static const char *const ids[] = {"0", "1", "2", "3"};
    pvm_series_ref *ser[4];
    for (int i = 0; i < 4; i++) {
        pvm_label l[] = {{"i", ids[i]}, {"x", ""}};
        int rc = pvm_response_find_series(resp, "h", l, 2, 0, &ser[i]);
        if (rc < 0)
            return rc;
    }
    pvm_timestamps it = pvm_request_timestamps(req);
    int64_t t;
    while (pvm_timestamps_next(&it, &t))
        for (int i = 0; i < 4; i++) {
            double v = i * 100 + (double)t / 1000;
            int rc;
            if (i == 3) { /* the same series by name, labels reordered */
                pvm_label l[] = {{"x", ""}, {"i", ids[i]}};
                rc = pvm_response_add_sample(resp, "h", v, t, l, 2);
            } else if (ser[i]) {
                rc = pvm_response_add_point(resp, ser[i], t, v);
            } else {
                continue; /* not selected */
            }
            if (rc < 0)
                return rc;
        }
    return 0;
}

static const pvm_plugin_type handles = {
    .name = "handles",
    .on_instant_query_request = handles_query,
    .on_range_query_request = handles_query,
};

static const pvm_plugin_type *const table[] = {&probe, &failer, &flood,
                                               &handles, NULL};

static pvm_testkit *kit(const char *ini)
{
    char err[512];
    pvm_testkit *k = pvm_testkit_new(ini, table, err, sizeof(err));
    if (!k)
        fprintf(stderr, "testkit: %s\n", err);
    assert_non_null(k);
    memset(&seen, 0, sizeof(seen));
    return k;
}

static void test_request_view(void **state)
{
    (void)state;
    pvm_testkit *k = kit("[plugin:probe]\n");
    const char *hdrs[] = {"X-Test: hello", NULL};
    pvm_test_response *r = pvm_testkit_request(
        k, "POST", "/api/v1/query_range?custom=fromurl&step=15",
        "query=foo%7Bk%3D%22v%22%7D&start=0&end=60&custom=frombody", hdrs);
    assert_int_equal(r->status, 200);
    assert_int_equal(seen.calls, 1);
    /* the query's step grid, widened back to the grid point at or before
     * the start of the 5 m lookback window */
    assert_int_equal(seen.ts_count, 25);
    assert_int_equal(seen.ts[0], -300000);
    assert_int_equal(seen.ts[1], -285000);
    assert_string_equal(seen.header, "hello");
    assert_string_equal(seen.url_param, "fromurl");
    assert_string_equal(seen.body_param, "frombody");
    assert_true(seen.name_matches_foo);
    assert_false(seen.name_matches_bar);
    assert_int_equal(seen.nselectors, 1);
    /* foo added, bar skipped (lazy value never computed), bar forced in
     * (but the engine keeps only what matches the selector) */
    assert_int_equal(seen.add_rc[0], 1);
    assert_int_equal(seen.add_rc[1], 0);
    assert_int_equal(seen.add_rc[2], 1);
    assert_true(seen.add_rc[3] < 0);
    assert_int_equal(seen.lazy_calls, 1);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    /* the probe's one sample, at `end`, is seen only at t = 60 */
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     1);
    assert_string_equal(pvm_test_json_string(r->json, "warnings[0]"),
                        "probe warning 1");
    assert_string_equal(pvm_test_json_string(r->json, "infos[0]"),
                        "probe info");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_values_sorted_unique(void **state)
{
    (void)state;
    pvm_testkit *k = kit("[plugin:probe]\n[plugin:probe2]\ntype = probe\n");
    pvm_test_response *r = pvm_testkit_label_values(k, "job", NULL);
    assert_string_equal(r->body,
                        "{\"status\":\"success\",\"data\":[\"a\",\"b\"]}");
    assert_string_equal(seen.label_name, "job");
    assert_int_equal(seen.calls, 2); /* both instances ran */
    pvm_test_response_free(r);
    r = pvm_testkit_series(k, "{__name__=~\"a|b\"}", 0, 10);
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":["
                                 "{\"__name__\":\"a\"},"
                                 "{\"__name__\":\"b\"}]}");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_failing_hook_is_500_naming_plugin(void **state)
{
    (void)state;
    pvm_testkit *k = kit("[plugin:db]\ntype = failer\nmode = 0\n");
    pvm_test_response *r = pvm_testkit_instant(k, "x", 10);
    assert_int_equal(r->status, 500);
    assert_string_equal(pvm_test_json_string(r->json, "status"), "error");
    assert_string_equal(pvm_test_json_string(r->json, "error"),
                        "plugin db: on_instant_query_request failed: "
                        "database is down");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_forbidden_is_401_with_header(void **state)
{
    (void)state;
    pvm_testkit *k = kit("[plugin:auth]\ntype = failer\nmode = 1\n"
                         "[plugin:probe]\n");
    pvm_test_response *r = pvm_testkit_instant(k, "foo", 10);
    assert_int_equal(r->status, 401);
    assert_string_equal(pvm_test_response_header(r, "WWW-Authenticate"),
                        "Basic realm=\"pvm\"");
    assert_int_equal(seen.calls, 0); /* later plugins did not run */
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

/* Many headers: each kept, in order (the array grows by doubling). */
static void test_many_headers(void **state)
{
    (void)state;
    pvm_testkit *k = kit("[plugin:auth]\ntype = failer\nmode = 3\n");
    pvm_test_response *r = pvm_testkit_instant(k, "foo", 10);
    assert_int_equal(r->status, 401);
    for (int i = 0; i < 100; i++) {
        char name[16], value[16];
        snprintf(name, sizeof(name), "X-H%d", i);
        snprintf(value, sizeof(value), "v%d", i);
        const char *got = pvm_test_response_header(r, name);
        if (!got || strcmp(got, value) != 0)
            fail_msg("header %s: %s, want %s", name, got ? got : "(none)",
                     value);
    }
    assert_string_equal(pvm_test_response_header(r, "WWW-Authenticate"),
                        "Basic realm=\"pvm\"");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_duplicates_keep_last_with_warning(void **state)
{
    (void)state;
    pvm_testkit *k = kit("[plugin:d]\ntype = failer\nmode = 2\n");
    pvm_test_response *r = pvm_testkit_instant(k, "dup", 10);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"value\":[10,\"2\"]"));
    assert_non_null(strstr(pvm_test_json_string(r->json, "warnings[0]"),
                           "2 duplicate samples"));
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_sample_limit_is_422(void **state)
{
    (void)state;
    pvm_testkit *k = kit("[server]\nmax_samples = 100\n[plugin:flood]\n");
    pvm_test_response *r = pvm_testkit_instant(k, "flood", 10);
    assert_int_equal(r->status, 422);
    assert_string_equal(pvm_test_json_string(r->json, "errorType"),
                        "execution");
    assert_non_null(
        strstr(pvm_test_json_string(r->json, "error"), "too many samples"));
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_regex_matching(void **state)
{
    (void)state;
    pvm_testkit *k = kit("[plugin:flood]\n");
    pvm_test_response *r = pvm_testkit_instant(k, "flood{i=~\"1.\"}", 10);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 10);
    pvm_test_response_free(r);
    r = pvm_testkit_instant(k, "flood{i!~\"[0-9]+\"}", 10);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 0);
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":{"
                                 "\"resultType\":\"vector\",\"result\":[]}}");
    pvm_test_response_free(r);
    /* a missing label matches as "" */
    r = pvm_testkit_instant(k, "flood{missing=\"\",i=\"5\"}", 10);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_series_handles(void **state)
{
    (void)state;
    pvm_testkit *k = kit("[plugin:handles]\n");
    pvm_test_response *r = pvm_testkit_range(k, "h{i!=\"1\"}", 0, 30, 15);
    assert_int_equal(r->status, 200);
    assert_string_equal(
        r->body, "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
                 "\"result\":[{\"metric\":{\"__name__\":\"h\",\"i\":\"0\"},"
                 "\"values\":[[0,\"0\"],[15,\"15\"],[30,\"30\"]]},"
                 "{\"metric\":{\"__name__\":\"h\",\"i\":\"2\"},"
                 "\"values\":[[0,\"200\"],[15,\"215\"],[30,\"230\"]]},"
                 "{\"metric\":{\"__name__\":\"h\",\"i\":\"3\"},"
                 "\"values\":[[0,\"300\"],[15,\"315\"],[30,\"330\"]]}]}}");
    pvm_test_response_free(r);
    r = pvm_testkit_instant(k, "sum(h)", 30);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "[30,\"720\"]"));
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_config_errors_name_line(void **state)
{
    (void)state;
    char err[512];
    assert_null(pvm_testkit_new("[plugin:x]\ntype = failer\nbogus = 1\n",
                                table, err, sizeof(err)));
    assert_non_null(strstr(err, ":3:"));
    assert_non_null(strstr(err, "bogus"));
    assert_null(
        pvm_testkit_new("[plugin:x]\ntype = nope\n", table, err, sizeof(err)));
    assert_non_null(strstr(err, "nope"));
}

/* The status table: each status's Prometheus errorType and HTTP status
 * as docs/plugin-api.md lists them. */
static void test_status_table(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *type;
        int http;
    } want[] = {
        {PVM_ERR_BAD_DATA, "bad_data", 400},
        {PVM_ERR_EXECUTION, "execution", 422},
        {PVM_ERR_NOMEM, "execution", 422},
        {PVM_ERR_TIMEOUT, "timeout", 503},
        {PVM_ERR_UNAVAILABLE, "unavailable", 503},
        {PVM_ERR_CANCELED, "canceled", 499},
        {PVM_ERR_INTERNAL, "internal", 500},
        {PVM_ERR_PLUGIN, "internal", 500},
        {PVM_ERR_NOT_FOUND, "not_found", 404},
        {PVM_ERR_FORBIDDEN, "unauthorized", 401},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_string_equal(pvm_status_error_type(want[i].code), want[i].type);
        assert_int_equal(pvm_status_http(want[i].code), want[i].http);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_view),
        cmocka_unit_test(test_values_sorted_unique),
        cmocka_unit_test(test_failing_hook_is_500_naming_plugin),
        cmocka_unit_test(test_forbidden_is_401_with_header),
        cmocka_unit_test(test_many_headers),
        cmocka_unit_test(test_duplicates_keep_last_with_warning),
        cmocka_unit_test(test_sample_limit_is_422),
        cmocka_unit_test(test_regex_matching),
        cmocka_unit_test(test_series_handles),
        cmocka_unit_test(test_config_errors_name_line),
        cmocka_unit_test(test_status_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
