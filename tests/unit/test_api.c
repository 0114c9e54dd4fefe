/* test_api.c: routing, parameter parsing, errors and JSON shapes of the
 * HTTP API, in-process through the test kit with the example plugin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include <pvm/testkit.h>

#include "kitutil.h"

extern const pvm_plugin_type pvm_plugin_example;

static const pvm_plugin_type *const table[] = {&pvm_plugin_example, NULL};

#define METRIC "prometheus_virtual_metrics_example_metric"

static const char ini[] = "[server]\n"
                          "max_body_bytes = 1024\n"
                          "[plugin:example]\n";

static int setup(void **state)
{
    return setup_kit(state, ini, table);
}

/* Checks status and the error envelope; returns the error text. */
static void expect_error(pvm_test_response *r, int status, const char *type,
                         const char *needle)
{
    assert_non_null(r);
    if (r->status != status || !r->json)
        fprintf(stderr, "got %d: %s\n", r->status, r->body);
    assert_int_equal(r->status, status);
    assert_non_null(r->json);
    assert_string_equal(pvm_test_json_string(r->json, "status"), "error");
    assert_string_equal(pvm_test_json_string(r->json, "errorType"), type);
    const char *e = pvm_test_json_string(r->json, "error");
    assert_non_null(e);
    if (!strstr(e, needle))
        fprintf(stderr, "error \"%s\" lacks \"%s\"\n", e, needle);
    assert_non_null(strstr(e, needle));
    pvm_test_response_free(r);
}

static pvm_test_response *req(void **state, const char *method,
                              const char *target, const char *body)
{
    return pvm_testkit_request(*state, method, target, body, NULL);
}

static void test_range_query_shape(void **state)
{
    pvm_test_response *r = pvm_testkit_range(*state, METRIC, 0, 60, 15);
    assert_int_equal(r->status, 200);
    assert_string_equal(pvm_test_json_string(r->json, "status"), "success");
    assert_string_equal(pvm_test_json_string(r->json, "data.resultType"),
                        "matrix");
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 12);
    for (int i = 0; i < 12; i++) {
        char path[64];
        snprintf(path, sizeof(path), "data.result[%d].values", i);
        assert_int_equal(pvm_test_json_length(r->json, path), 5);
    }
    /* resultType before result, compact, values as strings */
    assert_non_null(strstr(r->body, "{\"status\":\"success\",\"data\":{"
                                    "\"resultType\":\"matrix\",\"result\":["));
    /* series sorted by label set: amplitude "1" < "10" < "5" */
    assert_string_equal(
        pvm_test_json_string(r->json, "data.result[0].metric.amplitude"), "1");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.type"),
                        "cosine");
    assert_string_equal(
        pvm_test_json_string(r->json, "data.result[4].metric.amplitude"),
        "10");
    /* cosine amplitude 1 at t=0 is 1; at t=15 it is cos(pi/2) */
    assert_non_null(strstr(r->body, "\"values\":[[0,\"1\"],[15,\""));
    assert_null(strstr(r->body, "warnings"));
    assert_null(strstr(r->body, "infos"));
    pvm_test_response_free(r);
}

static void test_instant_query_vector(void **state)
{
    pvm_test_response *r = pvm_testkit_instant(
        *state, METRIC "{type=\"sawtooth\",amplitude=\"10\"}", 30.5);
    assert_int_equal(r->status, 200);
    assert_string_equal(pvm_test_json_string(r->json, "data.resultType"),
                        "vector");
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_non_null(
        strstr(r->body, "\"value\":[30.500,\"5.083333333333333\"]"));
    pvm_test_response_free(r);
}

static void test_health_check_scalar(void **state)
{
    /* Grafana's Save & test: POST query=1%2B1&time=4 */
    pvm_test_response *r = req(state, "POST", "/api/v1/query",
                               "query=1%2B1&time=4");
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":{"
                                 "\"resultType\":\"scalar\",\"result\":"
                                 "[4,\"2\"]}}");
    pvm_test_response_free(r);
}

static void test_params_from_url_and_body(void **state)
{
    pvm_test_response *r = req(state, "POST", "/api/v1/query_range?step=15",
                               "query=" METRIC "&start=0&end=30");
    assert_int_equal(r->status, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     3);
    pvm_test_response_free(r);
}

static void test_range_errors(void **state)
{
    expect_error(req(state, "GET",
                     "/api/v1/query_range?query=x&start=abc"
                     "&end=10&step=1",
                     NULL),
                 400, "bad_data",
                 "invalid parameter \"start\": cannot parse \"abc\" to a "
                 "valid timestamp");
    expect_error(req(state, "GET",
                     "/api/v1/query_range?query=x&start=10"
                     "&end=1&step=1",
                     NULL),
                 400, "bad_data", "end timestamp must not be before start");
    expect_error(req(state, "GET",
                     "/api/v1/query_range?query=x&start=0"
                     "&end=10&step=0",
                     NULL),
                 400, "bad_data",
                 "zero or negative query resolution step widths are not "
                 "accepted");
    expect_error(req(state, "GET",
                     "/api/v1/query_range?query=x&start=0"
                     "&end=10&step=-1",
                     NULL),
                 400, "bad_data", "zero or negative");
    expect_error(req(state, "GET",
                     "/api/v1/query_range?query=x&start=0"
                     "&end=11001&step=1e-3",
                     NULL),
                 400, "bad_data",
                 "exceeded maximum resolution of 11,000 points");
    /* below 1 ms, as Prometheus: too many points, or fine for one */
    expect_error(req(state, "GET",
                     "/api/v1/query_range?query=x&start=0"
                     "&end=10&step=1e-9",
                     NULL),
                 400, "bad_data", "exceeded maximum resolution");
    pvm_test_response *one = req(state, "GET",
                                 "/api/v1/query_range?"
                                 "query=1&start=5&end=5"
                                 "&step=1e-9",
                                 NULL);
    assert_int_equal(one->status, 200);
    pvm_test_response_free(one);
    expect_error(req(state, "GET",
                     "/api/v1/query_range?query=x&start=0"
                     "&end=10&step=abc",
                     NULL),
                 400, "bad_data",
                 "invalid parameter \"step\": cannot parse \"abc\" to a "
                 "valid duration");
}

static void test_query_errors(void **state)
{
    expect_error(req(state, "GET", "/api/v1/query", NULL), 400, "bad_data",
                 "query");
    expect_error(req(state, "GET", "/api/v1/query?query=sum(x", NULL), 400,
                 "bad_data", "invalid parameter \"query\": 1:");
    expect_error(req(state, "GET", "/api/v1/query?query=x&time=yesterday",
                     NULL),
                 400, "bad_data", "invalid parameter \"time\"");
    expect_error(req(state, "GET", "/api/v1/query?query=x&time=NaN", NULL),
                 400, "bad_data", "invalid parameter \"time\"");
}

static void test_time_formats(void **state)
{
    pvm_test_response *r = req(state, "GET",
                               "/api/v1/query?query=" METRIC
                               "&time=1970-01-01T00:00:15Z",
                               NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"value\":[15,"));
    pvm_test_response_free(r);
    /* a millisecond epoch sent as seconds (Grafana's exemplar probe) */
    r = req(state, "GET", "/api/v1/query?query=" METRIC "&time=1732478212345",
            NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(strstr(r->body, "\"value\":[1732478212345,"));
    pvm_test_response_free(r);
}

static void test_routing(void **state)
{
    expect_error(req(state, "GET", "/api/v1/nope", NULL), 404, "not_found",
                 "not found");
    expect_error(req(state, "GET", "/other", NULL), 404, "not_found",
                 "not found");
    expect_error(req(state, "PUT", "/api/v1/query?query=1", NULL), 405,
                 "bad_data", "method PUT not allowed");
    expect_error(req(state, "DELETE", "/api/v1/labels", NULL), 405, "bad_data",
                 "not allowed");
    expect_error(req(state, "POST", "/api/v1/label/type/values", "a=b"), 405,
                 "bad_data", "use GET");
    pvm_test_response *r = req(state, "GET", "/api/v1/status/buildinfo", NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(pvm_test_json_string(r->json, "data.version"));
    assert_null(pvm_test_json_get(r->json, "data.features"));
    pvm_test_response_free(r);
    r = req(state, "GET", "/api/v1/rules", NULL);
    assert_string_equal(r->body,
                        "{\"status\":\"success\",\"data\":{\"groups\":[]}}");
    pvm_test_response_free(r);
    /* the example plugin declares its metric (on_metadata_request) */
    r = req(state, "GET", "/api/v1/metadata?limit=40000", NULL);
    assert_string_equal(r->body,
                        "{\"status\":\"success\",\"data\":{\"" METRIC
                        "\":[{\"type\":\"gauge\",\"help\":\"Example "
                        "waves (sine, cosine, square, sawtooth) with a 60 s "
                        "period.\",\"unit\":\"\"}]}}");
    pvm_test_response_free(r);
    expect_error(req(state, "GET", "/api/v1/metadata?limit=x", NULL), 400,
                 "bad_data", "limit must be a number");
}

static void test_body_limit_and_content_type(void **state)
{
    char body[2048];
    memset(body, 'a', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    memcpy(body, "query=", 6);
    expect_error(req(state, "POST", "/api/v1/query", body), 413, "bad_data",
                 "max_body_bytes");
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    expect_error(pvm_testkit_request(*state, "POST", "/api/v1/query",
                                     "{\"query\":\"1\"}", hdrs),
                 400, "bad_data", "unsupported Content-Type");
    const char *charset[] = {
        "Content-Type: application/x-www-form-urlencoded;charset=utf-8", NULL};
    pvm_test_response *r = pvm_testkit_request(*state, "POST", "/api/v1/query",
                                               "query=1%2B1&time=4", charset);
    assert_int_equal(r->status, 200);
    pvm_test_response_free(r);
    expect_error(req(state, "GET", "/api/v1/query?query=%zz", NULL), 400,
                 "bad_data", "invalid URL escape");
}

static void test_labels_and_values(void **state)
{
    pvm_test_response *r = pvm_testkit_label_names(*state, NULL);
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":["
                                 "\"__name__\",\"amplitude\",\"type\"]}");
    pvm_test_response_free(r);
    r = pvm_testkit_label_values(*state, "type", METRIC);
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":["
                                 "\"cosine\",\"sawtooth\",\"sine\","
                                 "\"square\"]}");
    pvm_test_response_free(r);
    r = pvm_testkit_label_values(*state, "type", "other_metric");
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":[]}");
    pvm_test_response_free(r);
    r = pvm_testkit_label_values(*state, "__name__",
                                 "{__name__=~\".*exa.*\"}");
    assert_string_equal(r->body,
                        "{\"status\":\"success\",\"data\":[\"" METRIC "\"]}");
    pvm_test_response_free(r);
    /* limit truncates with a warning */
    r = req(state, "GET", "/api/v1/label/type/values?limit=2", NULL);
    assert_int_equal(pvm_test_json_length(r->json, "data"), 2);
    assert_string_equal(pvm_test_json_string(r->json, "warnings[0]"),
                        "results truncated due to limit");
    pvm_test_response_free(r);
    expect_error(req(state, "GET", "/api/v1/labels?limit=-1", NULL), 400,
                 "bad_data", "limit must be non-negative");
    /* U__ escaped label names are unescaped (U__a_2e_b = "a.b") */
    r = req(state, "GET", "/api/v1/label/U__a_2e_b/values", NULL);
    assert_int_equal(r->status, 200);
    pvm_test_response_free(r);
}

static void test_series(void **state)
{
    pvm_test_response *r = pvm_testkit_series(*state, METRIC, 0, 60);
    assert_int_equal(r->status, 200);
    assert_string_equal(pvm_test_json_string(r->json, "data[0].__name__"),
                        METRIC);
    pvm_test_response_free(r);
    expect_error(req(state, "GET", "/api/v1/series", NULL), 400, "bad_data",
                 "no match[] parameter provided");
    expect_error(req(state, "GET", "/api/v1/series?match[]=sum(x)", NULL), 400,
                 "bad_data", "match[]");
    expect_error(req(state, "GET", "/api/v1/series?match[]={a=~\".*\"}", NULL),
                 400, "bad_data", "match[]");
    /* repeated match[]: the union, as whole label sets from the query
     * hooks (12 series), not just {__name__} */
    r = req(state, "POST", "/api/v1/series",
            "match%5B%5D=nothing&match%5B%5D=" METRIC "%7B%7D");
    assert_int_equal(pvm_test_json_length(r->json, "data"), 12);
    assert_string_equal(pvm_test_json_string(r->json, "data[0].type"),
                        "cosine");
    pvm_test_response_free(r);
    r = pvm_testkit_series(*state, METRIC "{type=\"sine\"}", 0, 3600);
    assert_int_equal(pvm_test_json_length(r->json, "data"), 3);
    assert_string_equal(pvm_test_json_string(r->json, "data[2].amplitude"),
                        "5");
    pvm_test_response_free(r);
}

/* With match[], label names and values agree with /series even though the
 * example plugin's discovery hooks ignore the label matchers. */
static void test_discovery_agrees_with_series(void **state)
{
    pvm_test_response *r = pvm_testkit_label_values(*state, "amplitude",
                                                    METRIC
                                                    "{amplitude=~\"1|5\"}");
    assert_string_equal(r->body,
                        "{\"status\":\"success\",\"data\":[\"1\",\"5\"]}");
    pvm_test_response_free(r);
    r = pvm_testkit_label_values(*state, "type",
                                 METRIC "{type=~\"s.*\",type!=\"sine\"}");
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":["
                                 "\"sawtooth\",\"square\"]}");
    pvm_test_response_free(r);
    r = req(state, "GET", "/api/v1/labels?match[]=" METRIC "&start=0&end=3600",
            NULL);
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":["
                                 "\"__name__\",\"amplitude\",\"type\"]}");
    pvm_test_response_free(r);
}

static void test_exemplars_and_format(void **state)
{
    pvm_test_response *r = req(state, "POST", "/api/v1/query_exemplars",
                               "query=test&start=1732478212345&"
                               "end=1732480012345");
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":[]}");
    pvm_test_response_free(r);
    r = req(state, "GET", "/api/v1/format_query?query=sum%28x%29by%28a%29",
            NULL);
    assert_string_equal(pvm_test_json_string(r->json, "data"),
                        "sum by (a) (x)");
    pvm_test_response_free(r);
}

/* The value at index i of series `path` as a double. */
static double value_at(pvm_test_response *r, const char *path)
{
    const char *v = pvm_test_json_string(r->json, path);
    assert_non_null(v);
    return strtod(v, NULL);
}

static void test_engine_sum_by_type(void **state)
{
    pvm_test_response *r = pvm_testkit_range(*state,
                                             "sum by (type) (" METRIC ")", 0,
                                             60, 15);
    assert_int_equal(r->status, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 4);
    /* sorted by label set: cosine, sawtooth, sine, square */
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[1].metric.type"),
                        "sawtooth");
    assert_null(pvm_test_json_get(r->json, "data.result[1].metric.__name__"));
    assert_int_equal(pvm_test_json_length(r->json, "data.result[1].values"),
                     5);
    /* sawtooth at t=15: 15/60 * (1 + 5 + 10) = 4; square at t=45: -16 */
    assert_true(fabs(value_at(r, "data.result[1].values[1][1]") - 4) < 1e-9);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[3].values[3][1]"),
                        "-16");
    pvm_test_response_free(r);
}

static void test_engine_rate_matches_slope(void **state)
{
    /* Between wraps the sawtooth of amplitude 10 rises 10/60 per second:
     * a window inside one period gives exactly that slope. */
    pvm_test_response *r = pvm_testkit_range(
        *state, "rate(" METRIC "{type=\"sawtooth\",amplitude=\"10\"}[30s])",
        3600 + 45, 3600 + 59, 1);
    assert_int_equal(r->status, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     15);
    for (int i = 0; i < 15; i++) {
        char path[64];
        snprintf(path, sizeof(path), "data.result[0].values[%d][1]", i);
        assert_true(fabs(value_at(r, path) - 10.0 / 60) < 1e-9);
    }
    pvm_test_response_free(r);
    /* A [1m] window always holds a wrap: Prometheus extrapolates only down
     * to the counter's zero point. At t=50 the samples at 5, 20, 35, 50
     * (0.833 .. 8.333) give 7.5 * (45 + 5) / 45 / 60 = 0.13888... */
    r = pvm_testkit_instant(*state,
                            "rate(" METRIC
                            "{type=\"sawtooth\",amplitude=\"10\"}[1m])",
                            50);
    assert_int_equal(r->status, 200);
    assert_true(fabs(value_at(r, "data.result[0].value[1]") -
                     7.5 * 50 / 45 / 60) < 1e-9);
    /* and the info annotation Prometheus gives for a non-counter name */
    assert_non_null(strstr(pvm_test_json_string(r->json, "infos[0]"),
                           "metric might not be a counter"));
    pvm_test_response_free(r);
}

/* rate, avg_over_time and offset give a value at every step of a range
 * query at 15 s, and in an instant query. */
static void test_engine_value_at_every_step(void **state)
{
    static const char *const queries[] = {
        "rate(" METRIC "{type=\"sine\",amplitude=\"1\"}[1m])",
        "avg_over_time(" METRIC "{type=\"sine\",amplitude=\"1\"}[5m])",
        METRIC "{type=\"sine\",amplitude=\"1\"} offset 1h",
    };
    for (size_t i = 0; i < 3; i++) {
        pvm_test_response *r = pvm_testkit_range(*state, queries[i], 7200,
                                                 7200 + 600, 15);
        assert_int_equal(r->status, 200);
        assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
        assert_int_equal(pvm_test_json_length(r->json,
                                              "data.result[0].values"),
                         41);
        pvm_test_response_free(r);
        r = pvm_testkit_instant(*state, queries[i], 7200);
        assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
        pvm_test_response_free(r);
    }
    /* offset 1h reads the value of an hour earlier: sine at 0 s is 0 */
    pvm_test_response *r = pvm_testkit_instant(*state, queries[2], 3600 + 15);
    assert_true(fabs(value_at(r, "data.result[0].value[1]") - 1) < 1e-9);
    pvm_test_response_free(r);
}

/* When the request's memory runs out just before the answer is written,
 * the client still gets an error envelope, never a 200 without a body. */
static void test_memory_cap_answers_envelope(void **state)
{
    (void)state;
    pvm_testkit *k = kit_or_fail("[server]\nmax_request_memory = 80k\n"
                                 "access_log = off\n[plugin:example]\n",
                                 table);
    static const char *const targets[] = {
        "/api/v1/query?query=1&time=4",
        "/api/v1/status/buildinfo",
        "/api/v1/label/type/values",
    };
    for (size_t i = 0; i < 3; i++) {
        pvm_test_response *r = pvm_testkit_request(k, "GET", targets[i], NULL,
                                                   NULL);
        assert_non_null(r->json);
        if (r->status == 200) {
            assert_string_equal(pvm_test_json_string(r->json, "status"),
                                "success");
        } else {
            assert_int_equal(r->status, 422);
            assert_string_equal(pvm_test_json_string(r->json, "status"),
                                "error");
        }
        pvm_test_response_free(r);
    }
    pvm_testkit_free(k);
}

/* A catastrophic pattern in label_replace is stopped by the regex match
 * limit (pvm_regex_compile's match context) and answered 422 execution,
 * quickly, instead of pinning the worker. The query is
 *   label_replace(label_replace(vector(1), "src", "aaa...a!", "", ""),
 *                 "d", "x", "src", "(a|aa)+$")                          */
static void test_label_replace_regex_limit(void **state)
{
    expect_error(req(state, "GET",
                     "/api/v1/query?time=0&query="
                     "label_replace(label_replace(vector(1)%2C%22src%22%2C"
                     "%22aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!%22%2C"
                     "%22%22%2C%22%22)%2C%22d%22%2C%22x%22%2C%22src%22%2C"
                     "%22(a%7Caa)%2B%24%22)",
                     NULL),
                 422, "execution",
                 "regular expression match limit exceeded in "
                 "label_replace(): (a|aa)+$");
}

static void test_parse_query(void **state)
{
    pvm_test_response *r = req(state, "GET",
                               "/api/v1/parse_query?query=sum%28x%29", NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(
        r->body,
        "{\"status\":\"success\",\"data\":{\"expr\":{\"matchers\":[{"
        "\"name\":\"__name__\",\"type\":\"=\",\"value\":\"x\"}],"
        "\"name\":\"x\",\"offset\":0,\"startOrEnd\":null,"
        "\"timestamp\":null,\"type\":\"vectorSelector\"},\"grouping\":[],"
        "\"op\":\"sum\",\"param\":null,\"type\":\"aggregation\","
        "\"without\":false}}");
    pvm_test_response_free(r);
    expect_error(req(state, "POST", "/api/v1/parse_query", "query=sum("), 400,
                 "bad_data", "parse error");
}

static void test_constant_range(void **state)
{
    pvm_test_response *r = pvm_testkit_range(*state, "2*3", 0, 30, 15);
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":{"
                                 "\"resultType\":\"matrix\",\"result\":[{"
                                 "\"metric\":{},\"values\":[[0,\"6\"],"
                                 "[15,\"6\"],[30,\"6\"]]}]}}");
    pvm_test_response_free(r);
    expect_error(pvm_testkit_range(*state, "\"s\"", 0, 30, 15), 400,
                 "bad_data", "invalid expression type \"string\"");
    r = pvm_testkit_instant(*state, "\"hello\"", 5);
    assert_string_equal(pvm_test_json_string(r->json, "data.resultType"),
                        "string");
    pvm_test_response_free(r);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown_kit)
    const struct CMUnitTest tests[] = {
        T(test_range_query_shape),
        T(test_instant_query_vector),
        T(test_health_check_scalar),
        T(test_params_from_url_and_body),
        T(test_range_errors),
        T(test_query_errors),
        T(test_time_formats),
        T(test_routing),
        T(test_body_limit_and_content_type),
        T(test_labels_and_values),
        T(test_series),
        T(test_discovery_agrees_with_series),
        T(test_exemplars_and_format),
        T(test_engine_sum_by_type),
        T(test_engine_rate_matches_slope),
        T(test_engine_value_at_every_step),
        cmocka_unit_test(test_memory_cap_answers_envelope),
        T(test_label_replace_regex_limit),
        T(test_parse_query),
        T(test_constant_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
