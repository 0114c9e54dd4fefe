/* tests/integration/test_api.c: every endpoint of pvm-fcgi through a real
 * nginx, with GET and POST, and every error path, checked with json-c.
 * Started by tests/integration/run.sh, which sets:
 *   PVM_TEST_PORT         nginx in front of the main instance (example
 *                         plugin, fixture `example_metric`, fixture
 *                         `fixture_special_metric` with values = special,
 *                         warn and info), max_body_bytes = 65536
 *   PVM_TEST_FAIL_PORT    nginx + instance whose fixture fails requests,
 *   PVM_TEST_FAIL_PREFIX  served below this prefix (e.g. /pvm)
 *   PVM_TEST_FORBID_PORT  nginx + instance whose fixture answers 401
 * Without PVM_TEST_PORT it skips (exit 77). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../lib/http.h"

#define EXAMPLE "prometheus_virtual_metrics_example_metric"
#define FORM "application/x-www-form-urlencoded"
#define FORM_UTF8 "application/x-www-form-urlencoded;charset=utf-8"
#define API_MAX_RESP 8 /* responses one test may hold */

static int api_port, api_fail_port, api_forbid_port;
static const char *api_fail_prefix = "";
static size_t api_max_body = 65536;

/* Per-test state: the responses to free in teardown. */
typedef struct api_state {
    test_http_response resp[API_MAX_RESP]; /* zeroed = unused */
    size_t n;                              /* slots handed out */
} api_state;

static int api_setup(void **state)
{
    *state = calloc(1, sizeof(api_state));
    return *state ? 0 : -1;
}

static int api_teardown(void **state)
{
    api_state *st = *state;
    for (size_t i = 0; i < st->n; i++)
        test_http_free(&st->resp[i]);
    free(st);
    return 0;
}

static test_http_response *api_slot(void **state)
{
    api_state *st = *state;
    if (st->n >= API_MAX_RESP)
        fail_msg("test uses more than %d responses", API_MAX_RESP);
    return &st->resp[st->n++];
}

/* Prints the body of r (truncated) after a failed check. */
static void api_dump(const test_http_response *r)
{
    print_error("  HTTP %d, %zu bytes, error '%s'\n  body: %.1500s\n",
                r->status, r->body_len, r->error,
                r->body ? r->body : "(none)");
}

#define API_CHECK(r, cond, ...)                                             \
    do {                                                                    \
        if (!(cond)) {                                                      \
            api_dump(r);                                                    \
            fail_msg(__VA_ARGS__);                                          \
        }                                                                   \
    } while (0)

/* Sends a request; fails the test on a transport error. */
static test_http_response *api_do(void **state, int port, const char *method,
                                  const char *path, const char *const *headers,
                                  const char *body)
{
    test_http_response *r = api_slot(state);
    test_http_request req = {.method = method,
                             .path = path,
                             .headers = headers,
                             .body = body,
                             .body_len = body ? strlen(body) : 0};
    if (test_http_do(port, &req, r) < 0)
        fail_msg("%s %s: %s", method, path, r->error);
    return r;
}

static test_http_response *api_get(void **state, const char *path)
{
    return api_do(state, api_port, "GET", path, NULL, NULL);
}

/* POST with a form body (Content-Type ctype, default plain urlencoded). */
static test_http_response *api_post(void **state, const char *path,
                                    const char *body, const char *ctype)
{
    char hdr[128];
    const char *headers[] = {hdr, NULL};
    snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype ? ctype : FORM);
    return api_do(state, api_port, "POST", path, headers, body);
}

/* Envelope checks */

static void api_expect_success(const test_http_response *r)
{
    const char *ct = test_http_header(r, "Content-Type");
    API_CHECK(r, r->status == 200, "expected HTTP 200, got %d", r->status);
    API_CHECK(r, r->json != NULL, "body is not JSON");
    API_CHECK(r, ct && strncmp(ct, "application/json", 16) == 0,
              "Content-Type is '%s', not application/json", ct ? ct : "");
    API_CHECK(r, test_json_string(r->json, "status") &&
                     strcmp(test_json_string(r->json, "status"), "success") == 0,
              "status is not \"success\"");
    API_CHECK(r, test_json_has(r->json, "data"), "no data");
}

/* Checks an error answer: HTTP status, {"status":"error"}, errorType (if
 * not NULL) and that error contains msg (if not NULL). */
static void api_expect_error(const test_http_response *r, int http,
                             const char *type, const char *msg)
{
    const char *err;
    API_CHECK(r, r->status == http, "expected HTTP %d, got %d", http,
              r->status);
    API_CHECK(r, r->json != NULL, "error body is not JSON");
    API_CHECK(r, test_json_string(r->json, "status") &&
                     strcmp(test_json_string(r->json, "status"), "error") == 0,
              "status is not \"error\"");
    API_CHECK(r, test_json_string(r->json, "errorType") != NULL,
              "no errorType");
    if (type)
        API_CHECK(r, strcmp(test_json_string(r->json, "errorType"), type) == 0,
                  "errorType is not %s", type);
    err = test_json_string(r->json, "error");
    API_CHECK(r, err != NULL, "no error message");
    if (msg)
        API_CHECK(r, strstr(err, msg) != NULL, "error lacks '%s'", msg);
}

/* True when the keys of a label-set object come in ascending order and
 * all values are strings. */
static bool api_labels_sorted(json_object *metric)
{
    const char *prev = NULL;
    if (!json_object_is_type(metric, json_type_object))
        return false;
    json_object_object_foreach(metric, key, val)
    {
        if (!json_object_is_type(val, json_type_string))
            return false;
        if (prev && strcmp(prev, key) >= 0)
            return false;
        prev = key;
    }
    return true;
}

/* Checks data.resultType (first, in the raw text too) and the common
 * shape of a vector or matrix; returns the result array. */
static json_object *api_expect_result(const test_http_response *r,
                                      const char *type, int nseries)
{
    json_object *res;
    long ptype = test_json_key_pos(r->body, "resultType");
    long pres = test_json_key_pos(r->body, "result");
    const char *other = strcmp(type, "vector") == 0 ? "values" : "value";
    const char *mine = strcmp(type, "vector") == 0 ? "value" : "values";

    api_expect_success(r);
    API_CHECK(r, test_json_string(r->json, "data.resultType") &&
                     strcmp(test_json_string(r->json, "data.resultType"),
                            type) == 0,
              "resultType is not %s", type);
    API_CHECK(r, ptype >= 0 && pres > ptype,
              "\"resultType\" does not come before \"result\"");
    res = test_json_get(r->json, "data.result");
    API_CHECK(r, json_object_is_type(res, json_type_array),
              "data.result is not an array");
    if (nseries >= 0)
        API_CHECK(r, (int)json_object_array_length(res) == nseries,
                  "%zu series, expected %d", json_object_array_length(res),
                  nseries);
    for (size_t i = 0; i < json_object_array_length(res); i++) {
        json_object *item = json_object_array_get_idx(res, i);
        json_object *metric = test_json_get(item, "metric");
        API_CHECK(r, api_labels_sorted(metric),
                  "result[%zu].metric is not a sorted string map", i);
        API_CHECK(r, test_json_has(item, mine), "result[%zu] lacks \"%s\"", i,
                  mine);
        API_CHECK(r, !test_json_has(item, other), "result[%zu] has \"%s\"", i,
                  other);
        if (i > 0)
            API_CHECK(r,
                      test_json_labels_cmp(
                          test_json_get(json_object_array_get_idx(res, i - 1),
                                        "metric"),
                          metric) < 0,
                      "series %zu and %zu are not in label order", i - 1, i);
        if (strcmp(type, "vector") == 0) {
            const char *bad = test_json_check_sample(test_json_get(item, "value"));
            API_CHECK(r, bad == NULL, "result[%zu].value: %s", i, bad);
        } else {
            json_object *vals = test_json_get(item, "values");
            double prev = -INFINITY;
            API_CHECK(r, json_object_is_type(vals, json_type_array) &&
                             json_object_array_length(vals) > 0,
                      "result[%zu].values is not a non-empty array", i);
            for (size_t j = 0; j < json_object_array_length(vals); j++) {
                json_object *pair = json_object_array_get_idx(vals, j);
                const char *bad = test_json_check_sample(pair);
                double t;
                API_CHECK(r, bad == NULL, "result[%zu].values[%zu]: %s", i, j,
                          bad);
                t = json_object_get_double(json_object_array_get_idx(pair, 0));
                API_CHECK(r, t > prev, "result[%zu] timestamps not ascending",
                          i);
                prev = t;
            }
        }
    }
    return res;
}

/* Timestamp and value of sample pair at path below obj. */
static double api_ts(json_object *obj, const char *path)
{
    return json_object_get_double(
        json_object_array_get_idx(test_json_get(obj, path), 0));
}

static const char *api_val(json_object *obj, const char *path)
{
    return json_object_get_string(
        json_object_array_get_idx(test_json_get(obj, path), 1));
}

/* Checks a data array of strings: sorted, unique, n items (n >= 0). */
static void api_expect_strings(const test_http_response *r, int n)
{
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") >= 0,
              "data is not an array");
    API_CHECK(r, test_json_is_sorted_strings(r->json, "data"),
              "data is not a sorted, de-duplicated array of strings");
    if (n >= 0)
        API_CHECK(r, test_json_array_len(r->json, "data") == n,
                  "data has %d items, expected %d",
                  test_json_array_len(r->json, "data"), n);
}

static void api_expect_strings_exact(const test_http_response *r,
                                     const char *const *want, int n)
{
    api_expect_strings(r, n);
    for (int i = 0; i < n; i++) {
        char path[32];
        const char *got;
        snprintf(path, sizeof(path), "data[%d]", i);
        got = test_json_string(r->json, path);
        API_CHECK(r, got && strcmp(got, want[i]) == 0,
                  "data[%d] is '%s', expected '%s'", i, got ? got : "",
                  want[i]);
    }
}

/* GET|POST /api/v1/query */

static void test_query_get(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/query?query=" EXAMPLE "&time=60");
    json_object *res = api_expect_result(r, "vector", 12);
    for (int i = 0; i < 12; i++) {
        char p[64];
        snprintf(p, sizeof(p), "[%d].metric.__name__", i);
        API_CHECK(r, test_json_string(res, p) &&
                         strcmp(test_json_string(res, p), EXAMPLE) == 0,
                  "series %d lacks __name__", i);
        snprintf(p, sizeof(p), "[%d].value", i);
        API_CHECK(r, api_ts(res, p) == 60, "series %d not at t=60", i);
    }
    API_CHECK(r, test_json_key_pos(r->body, "warnings") < 0 &&
                     test_json_key_pos(r->body, "infos") < 0,
              "warnings/infos present though no plugin added any");
}

static void test_query_post(void **state)
{
    test_http_response *r =
        api_post(state, "/api/v1/query", "query=" EXAMPLE "&time=60", NULL);
    api_expect_result(r, "vector", 12);
}

static void test_query_post_charset(void **state)
{
    test_http_response *r = api_post(state, "/api/v1/query",
                                     "query=" EXAMPLE "&time=60", FORM_UTF8);
    api_expect_result(r, "vector", 12);
}

static void test_query_split_params(void **state)
{
    test_http_response *r =
        api_post(state, "/api/v1/query?time=60", "query=" EXAMPLE, NULL);
    json_object *res = api_expect_result(r, "vector", 12);
    API_CHECK(r, api_ts(res, "[0].value") == 60, "time from the URL ignored");
}

static void test_query_post_chunked(void **state)
{
    /* a chunked request body: nginx buffers it and passes CONTENT_LENGTH */
    const char *headers[] = {"Content-Type: " FORM,
                             "Transfer-Encoding: chunked", NULL};
    test_http_response *r =
        api_do(state, api_port, "POST", "/api/v1/query", headers,
               "14\r\nquery=example_metric\r\n"
               "8\r\n&time=60\r\n0\r\n\r\n");
    json_object *res = api_expect_result(r, "vector", 2);
    API_CHECK(r, api_ts(res, "[0].value") == 60, "time from the body lost");
}

static void test_query_fixture_values(void **state)
{
    /* type a: floor(150/15) mod 10 = 0; type b: 2 */
    test_http_response *r =
        api_get(state, "/api/v1/query?query=example_metric&time=150");
    json_object *res = api_expect_result(r, "vector", 2);
    API_CHECK(r, strcmp(test_json_string(res, "[0].metric.type"), "a") == 0,
              "first series is not type a");
    API_CHECK(r, strcmp(api_val(res, "[0].value"), "0") == 0, "a@150 != 0");
    API_CHECK(r, strcmp(api_val(res, "[1].value"), "2") == 0, "b@150 != 2");
}

static void test_query_selector_encoded(void **state)
{
    /* example_metric{type="a"}, and with '+' (space) before the braces */
    test_http_response *r = api_get(
        state, "/api/v1/query?query=example_metric%7Btype%3D%22a%22%7D&time=60");
    json_object *res = api_expect_result(r, "vector", 1);
    API_CHECK(r, strcmp(api_val(res, "[0].value"), "4") == 0, "a@60 != 4");
    r = api_post(state, "/api/v1/query",
                 "query=example_metric+%7Btype%3D%22b%22%7D&time=60", NULL);
    res = api_expect_result(r, "vector", 1);
    API_CHECK(r, strcmp(test_json_string(res, "[0].metric.type"), "b") == 0,
              "'+' not decoded as a space");
}

static void test_query_time_formats(void **state)
{
    static const struct {
        const char *time; /* encoded */
        double want;      /* seconds */
    } cases[] = {
        {"1970-01-01T00%3A01%3A00Z", 60},
        {"1970-01-01T01%3A01%3A00%2B01%3A00", 60},
        {"1970-01-01T00%3A01%3A00.250Z", 60.25},
        {"60.123", 60.123},
        {"60.1234567", 60.123},
        {"4", 4},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char path[256];
        test_http_response *r;
        json_object *res;
        snprintf(path, sizeof(path),
                 "/api/v1/query?query=example_metric%%7Btype%%3D%%22b%%22%%7D"
                 "&time=%s",
                 cases[i].time);
        r = api_get(state, path);
        res = api_expect_result(r, "vector", 1);
        API_CHECK(r, fabs(api_ts(res, "[0].value") - cases[i].want) < 1e-9,
                  "time=%s: timestamp %.4f, expected %.3f", cases[i].time,
                  api_ts(res, "[0].value"), cases[i].want);
        test_http_free(r);
    }
}

static void test_query_time_default_now(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/query?query=example_metric");
    json_object *res = api_expect_result(r, "vector", 2);
    double now = (double)time(NULL);
    API_CHECK(r, fabs(api_ts(res, "[0].value") - now) < 300,
              "default time is not now");
}

static void test_query_empty_result(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/query?query=no_such_metric&time=60");
    api_expect_result(r, "vector", 0);
    API_CHECK(r, strstr(r->body, "\"result\":[]") != NULL,
              "empty result not written as []");
}

/* GET|POST /api/v1/query_range */

static void api_check_example_range(const test_http_response *r)
{
    json_object *res = api_expect_result(r, "matrix", 12);
    for (int i = 0; i < 12; i++) {
        char p[64];
        snprintf(p, sizeof(p), "[%d].values", i);
        API_CHECK(r, test_json_array_len(res, p) == 5,
                  "series %d has %d points, expected 5", i,
                  test_json_array_len(res, p));
        for (int j = 0; j < 5; j++) {
            snprintf(p, sizeof(p), "[%d].values[%d]", i, j);
            API_CHECK(r, api_ts(res, p) == 15.0 * j, "series %d point %d at %g",
                      i, j, api_ts(res, p));
        }
    }
}

static void test_range_get(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/query_range?query=" EXAMPLE "&start=0&end=60&step=15");
    api_check_example_range(r);
}

static void test_range_post(void **state)
{
    test_http_response *r = api_post(state, "/api/v1/query_range",
                                     "end=60&query=" EXAMPLE "&start=0&step=15",
                                     NULL);
    api_check_example_range(r);
    r = api_post(state, "/api/v1/query_range",
                 "query=" EXAMPLE "&start=0&end=60&step=15", FORM_UTF8);
    api_check_example_range(r);
}

static void test_range_split_params(void **state)
{
    test_http_response *r =
        api_post(state, "/api/v1/query_range?query=" EXAMPLE "&step=15",
                 "start=0&end=60", NULL);
    api_check_example_range(r);
}

static void test_range_step_duration(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/query_range?query=" EXAMPLE "&start=0&end=60&step=15s");
    api_check_example_range(r);
}

static void test_range_rfc3339(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/query_range?query=" EXAMPLE
               "&start=1970-01-01T00%3A00%3A00Z&end=1970-01-01T00%3A01%3A00Z"
               "&step=15");
    api_check_example_range(r);
}

static void test_range_sawtooth(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/query_range?query=example_metric%7Btype%3D%22a"
                       "%22%7D&start=0&end=300&step=15");
    json_object *res = api_expect_result(r, "matrix", 1);
    API_CHECK(r, test_json_array_len(res, "[0].values") == 21,
              "expected 21 points");
    for (int j = 0; j < 21; j++) {
        char p[64], want[8];
        snprintf(p, sizeof(p), "[0].values[%d]", j);
        snprintf(want, sizeof(want), "%d", j % 10);
        API_CHECK(r, strcmp(api_val(res, p), want) == 0,
                  "point %d is '%s', expected '%s'", j, api_val(res, p), want);
    }
}

static void test_range_float_times(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/query_range?query=example_metric%7Btype%3D%22b%22%7D"
               "&start=0.5&end=30.5&step=15");
    json_object *res = api_expect_result(r, "matrix", 1);
    API_CHECK(r, test_json_array_len(res, "[0].values") == 3,
              "expected 3 points");
    API_CHECK(r, api_ts(res, "[0].values[0]") == 0.5 &&
                     api_ts(res, "[0].values[2]") == 30.5,
              "fractional timestamps lost");
    /* Prometheus writes sec.mmm ("0.500"); "0.5" parses the same */
    API_CHECK(r, strstr(r->body, "[0.500,\"2\"]") != NULL ||
                     strstr(r->body, "[0.5,\"2\"]") != NULL,
              "timestamp 0.5 not written as 0.500 or 0.5");
}

static void test_range_11000_points(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/query_range?query=example_metric%7Btype%3D%22b%22%7D"
               "&start=0&end=11000&step=1");
    json_object *res = api_expect_result(r, "matrix", 1);
    API_CHECK(r, test_json_array_len(res, "[0].values") == 11001,
              "expected 11001 points, got %d",
              test_json_array_len(res, "[0].values"));
}

static void test_range_empty(void **state)
{
    test_http_response *r = api_get(
        state,
        "/api/v1/query_range?query=no_such_metric&start=0&end=60&step=15");
    api_expect_result(r, "matrix", 0);
}

/* GET|POST /api/v1/series?match[]=&start=&end= */

static void test_series_get(void **state)
{
    /* The example plugin adds metric names only (pvm: one {"__name__"}
     * object per name); Prometheus, and a plugin using add_series, list
     * all 12 label sets. */
    test_http_response *r =
        api_get(state, "/api/v1/series?match%5B%5D=" EXAMPLE);
    json_object *data;
    int n;
    api_expect_success(r);
    data = test_json_get(r->json, "data");
    n = test_json_array_len(r->json, "data");
    API_CHECK(r, n == 1 || n == 12, "expected 1 or 12 series, got %d", n);
    for (int i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(data, (size_t)i);
        API_CHECK(r, api_labels_sorted(s), "series %d: labels not sorted", i);
        API_CHECK(r, test_json_string(s, "__name__") &&
                         strcmp(test_json_string(s, "__name__"), EXAMPLE) == 0,
                  "series %d: __name__", i);
        if (i)
            API_CHECK(r,
                      test_json_labels_cmp(
                          json_object_array_get_idx(data, (size_t)i - 1), s) < 0,
                      "series %d, %d not sorted", i - 1, i);
    }
    /* the fixture adds whole label sets */
    r = api_get(state, "/api/v1/series?match%5B%5D=example_metric");
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 2 &&
                     strcmp(test_json_string(r->json, "data[0].__name__"),
                            "example_metric") == 0 &&
                     strcmp(test_json_string(r->json, "data[0].type"), "a") == 0 &&
                     strcmp(test_json_string(r->json, "data[1].type"), "b") == 0,
              "expected [{__name__:example_metric,type:a},{...type:b}]");
    API_CHECK(r, strstr(r->body, "{\"__name__\":\"example_metric\",\"type\":\"a\"}"),
              "label set not written as {\"__name__\":...,\"type\":\"a\"}");
}

static void test_series_post_repeated(void **state)
{
    test_http_response *r = api_post(
        state, "/api/v1/series",
        "match%5B%5D=example_metric%7Btype%3D%22a%22%7D"
        "&match%5B%5D=example_metric%7Btype%3D%22b%22%7D&start=0&end=60",
        FORM_UTF8);
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 2,
              "expected 2 series");
    API_CHECK(r, strcmp(test_json_string(r->json, "data[0].type"), "a") == 0 &&
                     strcmp(test_json_string(r->json, "data[1].type"), "b") == 0,
              "series not a, b");
}

static void test_series_split(void **state)
{
    test_http_response *r =
        api_post(state,
                 "/api/v1/series?match%5B%5D=example_metric%7Btype%3D%22a%22%7D",
                 "match%5B%5D=example_metric%7Btype%3D%22b%22%7D", NULL);
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 2,
              "match[] of URL and body not merged");
}

static void test_series_regex_anchored(void **state)
{
    /* {__name__=~"example_.*"} must not match prometheus_virtual_... */
    test_http_response *r = api_get(
        state, "/api/v1/series?match%5B%5D=%7B__name__%3D~%22example_.*%22%7D");
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 2,
              "expected the 2 fixture series, got %d",
              test_json_array_len(r->json, "data"));
}

static void test_series_empty(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/series?match%5B%5D=no_such_metric");
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 0 &&
                     strstr(r->body, "\"data\":[]"),
              "no series must be written as []");
}

/* GET|POST /api/v1/labels, GET /api/v1/label/<name>/values */

static void test_labels_get(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/labels");
    api_expect_strings(r, -1);
    API_CHECK(r, test_json_array_has_string(r->json, "data", "__name__") &&
                     test_json_array_has_string(r->json, "data", "type") &&
                     test_json_array_has_string(r->json, "data", "amplitude"),
              "labels lack __name__, type or amplitude");
}

static void test_labels_post_match(void **state)
{
    test_http_response *r = api_post(
        state, "/api/v1/labels", "match%5B%5D=example_metric&limit=40000", NULL);
    api_expect_strings(r, -1);
    API_CHECK(r, test_json_array_has_string(r->json, "data", "type"),
              "labels of example_metric lack type");
    API_CHECK(r, !test_json_array_has_string(r->json, "data", "amplitude"),
              "labels of example_metric include amplitude (example plugin "
              "ignores match[])");
}

static void test_label_values_type(void **state)
{
    static const char *const example_types[] = {"cosine", "sawtooth", "sine",
                                                "square"};
    test_http_response *r = api_get(state, "/api/v1/label/type/values");
    api_expect_strings(r, -1);
    for (int i = 0; i < 4; i++)
        API_CHECK(r, test_json_array_has_string(r->json, "data",
                                                example_types[i]),
                  "type values lack %s", example_types[i]);
    API_CHECK(r, test_json_array_has_string(r->json, "data", "a") &&
                     test_json_array_has_string(r->json, "data", "b"),
              "type values lack the fixture's a, b (two plugins)");
    r = api_get(state, "/api/v1/label/type/values?match%5B%5D=" EXAMPLE);
    api_expect_strings_exact(r, example_types, 4);
    r = api_get(state, "/api/v1/label/type/values?match%5B%5D=example_metric%7B"
                       "type%3D%22a%22%7D&limit=40000");
    api_expect_strings_exact(r, (const char *const[]){"a"}, 1);
}

static void test_label_values_amplitude(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/label/amplitude/values?match%5B%5D=" EXAMPLE);
    api_expect_strings_exact(r, (const char *const[]){"1", "10", "5"}, 3);
}

static void test_label_values_names(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/label/__name__/values");
    api_expect_strings(r, -1);
    API_CHECK(r, test_json_array_has_string(r->json, "data", EXAMPLE) &&
                     test_json_array_has_string(r->json, "data",
                                                "example_metric") &&
                     test_json_array_has_string(r->json, "data",
                                                "fixture_special_metric"),
              "metric names lack one plugin's metric");
    r = api_get(state, "/api/v1/label/__name__/values?match%5B%5D="
                       "example_metric%7Btype%3D%22a%22%7D");
    api_expect_strings_exact(r, (const char *const[]){"example_metric"}, 1);
    r = api_get(state, "/api/v1/label/__name__/values?limit=1000&match%5B%5D="
                       "%7B__name__%3D~%22.*exa.*%22%7D");
    api_expect_strings_exact(r, (const char *const[]){"example_metric", EXAMPLE},
                             2);
}

static void test_label_values_unknown(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/label/no_such/values");
    api_expect_strings(r, 0);
    API_CHECK(r, strstr(r->body, "\"data\":[]") != NULL,
              "empty values not written as []");
}

static void test_label_values_escaped_name(void **state)
{
    /* Grafana escapes label names as U__...; U__type is just "type" */
    test_http_response *r = api_get(
        state, "/api/v1/label/U__type/values?match%5B%5D=example_metric");
    api_expect_strings_exact(r, (const char *const[]){"a", "b"}, 2);
}

static void test_label_values_limit(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/label/type/values?match%5B%5D=" EXAMPLE
                       "&limit=2");
    api_expect_strings(r, 2);
    r = api_get(state, "/api/v1/label/type/values?match%5B%5D=" EXAMPLE
                       "&limit=0");
    api_expect_strings(r, 4);
}

/* GET /api/v1/status/buildinfo, /rules, /metadata; query_exemplars,
 * format_query, parse_query */

static void test_buildinfo(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/status/buildinfo");
    api_expect_success(r);
    API_CHECK(r, test_json_string(r->json, "data.version") != NULL,
              "no data.version");
    API_CHECK(r, !test_json_has(r->json, "data.features") &&
                     test_json_key_pos(r->body, "features") < 0,
              "buildinfo has a features key (Grafana would call it Mimir)");
}

static void test_rules(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/rules");
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data.groups") == 0,
              "data is not {\"groups\":[]}");
}

static void test_metadata(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/metadata?limit=40000");
    api_expect_success(r);
    API_CHECK(r, json_object_is_type(test_json_get(r->json, "data"),
                                     json_type_object),
              "data is not an object");
    json_object_object_foreach(test_json_get(r->json, "data"), key, val)
    {
        API_CHECK(r, json_object_is_type(val, json_type_array) &&
                         json_object_array_length(val) > 0,
                  "metadata of %s is not a non-empty array", key);
    }
}

static void test_exemplars(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/query_exemplars?query=example_metric&start=0&end=60");
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 0, "data is not []");
    r = api_post(state, "/api/v1/query_exemplars",
                 "query=example_metric&start=0&end=60", NULL);
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 0, "data is not []");
}

static void test_exemplars_ms_epochs(void **state)
{
    /* Grafana's probe sends ms epochs as seconds (year ~56900) */
    test_http_response *r =
        api_post(state, "/api/v1/query_exemplars",
                 "query=test&start=1732478212345&end=1732480012345", NULL);
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 0, "data is not []");
}

static void test_format_query(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/format_query?query=foo%7Bbar%3D%22baz%22%7D");
    api_expect_success(r);
    API_CHECK(r, test_json_string(r->json, "data") &&
                     strcmp(test_json_string(r->json, "data"),
                            "foo{bar=\"baz\"}") == 0,
              "format_query data is not foo{bar=\"baz\"}");
    r = api_post(state, "/api/v1/format_query", "query=sum(foo)", NULL);
    api_expect_success(r);
    API_CHECK(r, test_json_string(r->json, "data") &&
                     strcmp(test_json_string(r->json, "data"), "sum(foo)") == 0,
              "format_query data is not sum(foo)");
}

static void test_parse_query(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/parse_query?query=foo%7Bbar%3D%22baz%22%7D");
    api_expect_success(r);
    API_CHECK(r, json_object_is_type(test_json_get(r->json, "data"),
                                     json_type_object),
              "parse_query data is not an object");
    r = api_post(state, "/api/v1/parse_query", "query=sum(foo)", NULL);
    api_expect_success(r);
}

/* Warnings, infos and special values (fixture_special_metric) */

static void test_warnings_infos(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/query?query=fixture_special_metric&time=60");
    api_expect_result(r, "vector", 3);
    API_CHECK(r, test_json_array_len(r->json, "warnings") == 1 &&
                     strcmp(test_json_string(r->json, "warnings[0]"),
                            "special warning") == 0,
              "warnings is not [\"special warning\"]");
    API_CHECK(r, test_json_array_len(r->json, "infos") == 1 &&
                     strcmp(test_json_string(r->json, "infos[0]"),
                            "special info") == 0,
              "infos is not [\"special info\"]");
    r = api_get(state, "/api/v1/label/type/values?match%5B%5D=example_metric");
    api_expect_strings(r, 2);
    API_CHECK(r, !test_json_has(r->json, "warnings") &&
                     !test_json_has(r->json, "infos"),
              "warnings/infos present though no plugin added any");
}

static void test_special_values(void **state)
{
    static const char *const want[] = {"NaN", "-Inf", "+Inf"}; /* nan, neg_inf, pos_inf */
    test_http_response *r =
        api_get(state, "/api/v1/query?query=fixture_special_metric&time=60");
    json_object *res = api_expect_result(r, "vector", 3);
    for (int i = 0; i < 3; i++) {
        char p[32];
        snprintf(p, sizeof(p), "[%d].value", i);
        API_CHECK(r, strcmp(api_val(res, p), want[i]) == 0,
                  "series %d value '%s', expected '%s'", i, api_val(res, p),
                  want[i]);
    }
    r = api_post(state, "/api/v1/query_range",
                 "query=fixture_special_metric&start=0&end=30&step=15", NULL);
    res = api_expect_result(r, "matrix", 3);
    API_CHECK(r, strcmp(api_val(res, "[2].values[2]"), "+Inf") == 0,
              "+Inf not in the matrix");
}

/* Compression by nginx (gzip on; gzip_types application/json) */

static void test_gzip(void **state)
{
    const char *headers[] = {"Accept-Encoding: gzip", NULL};
    test_http_response *r =
        api_do(state, api_port, "GET",
               "/api/v1/query_range?query=" EXAMPLE "&start=0&end=60&step=15",
               headers, NULL);
    const char *ce = test_http_header(r, "Content-Encoding");
    API_CHECK(r, r->status == 200, "HTTP %d", r->status);
    API_CHECK(r, ce && strcmp(ce, "gzip") == 0, "not gzip-compressed");
    API_CHECK(r, r->body_len > 2 && (unsigned char)r->body[0] == 0x1f &&
                     (unsigned char)r->body[1] == 0x8b,
              "no gzip magic");
}

/* Error paths */

static void test_err_missing_query(void **state)
{
    api_expect_error(api_get(state, "/api/v1/query?time=60"), 400, "bad_data",
                     NULL);
    api_expect_error(api_post(state, "/api/v1/query", "time=60", NULL), 400,
                     "bad_data", NULL);
    api_expect_error(
        api_get(state, "/api/v1/query_range?start=0&end=60&step=15"), 400,
        "bad_data", NULL);
}

static void test_err_bad_times(void **state)
{
    /* Prometheus: invalid parameter "time": Invalid time value for 'time':
     * cannot parse "abc" to a valid timestamp */
    test_http_response *r = api_get(state, "/api/v1/query?query=up&time=abc");
    api_expect_error(r, 400, "bad_data", "invalid parameter \"time\"");
    api_expect_error(r, 400, "bad_data",
                     "cannot parse \"abc\" to a valid timestamp");
    api_expect_error(
        api_get(state, "/api/v1/query_range?query=up&start=abc&end=60&step=15"),
        400, "bad_data",
        "invalid parameter \"start\": cannot parse \"abc\" to a valid timestamp");
    api_expect_error(
        api_post(state, "/api/v1/query_range",
                 "query=up&start=0&end=abc&step=15", NULL),
        400, "bad_data",
        "invalid parameter \"end\": cannot parse \"abc\" to a valid timestamp");
    api_expect_error(
        api_get(state, "/api/v1/query_range?query=up&start=0&end=60&step=abc"),
        400, "bad_data",
        "invalid parameter \"step\": cannot parse \"abc\" to a valid duration");
}

static void test_err_end_before_start(void **state)
{
    api_expect_error(
        api_get(state, "/api/v1/query_range?query=up&start=60&end=0&step=15"),
        400, "bad_data", "end timestamp must not be before start time");
}

static void test_err_step(void **state)
{
    static const char msg[] = "zero or negative query resolution step widths "
                              "are not accepted. Try a positive integer";
    api_expect_error(
        api_get(state, "/api/v1/query_range?query=up&start=0&end=60&step=0"),
        400, "bad_data", msg);
    api_expect_error(
        api_post(state, "/api/v1/query_range",
                 "query=up&start=0&end=60&step=-15", NULL),
        400, "bad_data", msg);
}

static void test_err_too_many_points(void **state)
{
    api_expect_error(
        api_get(state,
                "/api/v1/query_range?query=up&start=0&end=11001&step=1"),
        400, "bad_data",
        "exceeded maximum resolution of 11,000 points per timeseries. Try "
        "decreasing the query resolution (?step=XX)");
}

static void test_err_parse(void **state)
{
    test_http_response *r =
        api_post(state, "/api/v1/query", "query=sum%28&time=60", NULL);
    /* Prometheus 2.42: invalid parameter "query": 1:5: parse error: ... */
    api_expect_error(r, 400, "bad_data",
                     "1:5: parse error: unclosed left parenthesis");
    r = api_post(state, "/api/v1/query_range",
                 "query=sum%28&start=0&end=60&step=15", NULL);
    api_expect_error(r, 400, "bad_data",
                     "1:5: parse error: unclosed left parenthesis");
    r = api_get(state, "/api/v1/series?match%5B%5D=sum%28");
    api_expect_error(r, 400, "bad_data", NULL);
}

static void test_err_series_without_match(void **state)
{
    api_expect_error(api_get(state, "/api/v1/series"), 400, "bad_data",
                     "no match[] parameter provided");
    api_expect_error(api_post(state, "/api/v1/series", "start=0&end=60", NULL),
                     400, "bad_data", "no match[] parameter provided");
}

static void test_err_empty_matcher(void **state)
{
    /* every matcher matches "": Prometheus refuses */
    api_expect_error(
        api_get(state,
                "/api/v1/series?match%5B%5D=%7B__name__%3D~%22.*%22%7D"),
        400, "bad_data", NULL);
}

static void test_err_negative_limit(void **state)
{
    api_expect_error(api_get(state, "/api/v1/labels?limit=-1"), 400,
                     "bad_data", "limit");
    api_expect_error(api_get(state, "/api/v1/label/type/values?limit=-1"), 400,
                     "bad_data", "limit");
    api_expect_error(
        api_post(state, "/api/v1/series", "match%5B%5D=up&limit=-1", NULL),
        400, "bad_data", "limit");
}

static void test_err_unknown_path(void **state)
{
    api_expect_error(api_get(state, "/api/v1/nope"), 404, NULL, NULL);
    api_expect_error(api_get(state, "/nope"), 404, NULL, NULL);
    api_expect_error(api_post(state, "/api/v1/nope", "query=up", NULL), 404,
                     NULL, NULL);
}

static void test_err_methods(void **state)
{
    const char *form[] = {"Content-Type: " FORM, NULL};
    api_expect_error(api_do(state, api_port, "PUT", "/api/v1/query", form,
                            "query=up"),
                     405, NULL, NULL);
    api_expect_error(api_do(state, api_port, "DELETE",
                            "/api/v1/query?query=up", NULL, NULL),
                     405, NULL, NULL);
    api_expect_error(api_do(state, api_port, "PATCH", "/api/v1/labels", form,
                            "limit=1"),
                     405, NULL, NULL);
    /* GET-only endpoints (as in Prometheus) */
    api_expect_error(api_post(state, "/api/v1/status/buildinfo", "", NULL),
                     405, NULL, NULL);
}

static void test_err_body_too_large(void **state)
{
    size_t n = api_max_body + 4096;
    char *body = malloc(n + 1);
    test_http_response *r;
    assert_non_null(body);
    memcpy(body, "query=", 6);
    memset(body + 6, 'a', n - 6);
    body[n] = '\0';
    r = api_post(state, "/api/v1/query", body, NULL);
    free(body);
    api_expect_error(r, 413, NULL, NULL);
    /* just under the limit is fine (a long metric name) */
    n = api_max_body - 64;
    body = malloc(n + 1);
    assert_non_null(body);
    memcpy(body, "time=60&query=", 14);
    memset(body + 14, 'a', n - 14);
    body[n] = '\0';
    r = api_post(state, "/api/v1/query", body, NULL);
    free(body);
    api_expect_result(r, "vector", 0);
}

static void test_err_plugin_failure(void **state)
{
    char path[256];
    test_http_response *r;

    if (!api_fail_port)
        skip();
    snprintf(path, sizeof(path), "%s/api/v1/query?query=example_metric&time=60",
             api_fail_prefix);
    r = api_do(state, api_fail_port, "GET", path, NULL, NULL);
    api_expect_error(r, 500, NULL, "fixture failure requested");
    API_CHECK(r, strstr(test_json_string(r->json, "error"), "failing") != NULL,
              "error does not name the plugin instance 'failing'");
    snprintf(path, sizeof(path), "%s/api/v1/labels", api_fail_prefix);
    r = api_do(state, api_fail_port, "GET", path, NULL, NULL);
    api_expect_error(r, 500, NULL, "fixture failure requested");
    snprintf(path, sizeof(path), "%s/api/v1/nope", api_fail_prefix);
    r = api_do(state, api_fail_port, "GET", path, NULL, NULL);
    api_expect_error(r, 404, NULL, NULL);
    /* endpoints without plugins still answer below the prefix */
    snprintf(path, sizeof(path), "%s/api/v1/status/buildinfo", api_fail_prefix);
    api_expect_success(api_do(state, api_fail_port, "GET", path, NULL, NULL));
}

static void test_err_plugin_forbid(void **state)
{
    const char *form[] = {"Content-Type: " FORM, NULL};
    if (!api_forbid_port)
        skip();
    api_expect_error(api_do(state, api_forbid_port, "GET",
                            "/api/v1/query?query=example_metric&time=60", NULL,
                            NULL),
                     401, NULL, "forbidden");
    api_expect_error(api_do(state, api_forbid_port, "POST", "/api/v1/series",
                            form, "match%5B%5D=example_metric"),
                     401, NULL, NULL);
}

#define API_TEST(f) cmocka_unit_test_setup_teardown(f, api_setup, api_teardown)

int main(void)
{
    const char *s;
    const struct CMUnitTest tests[] = {
        API_TEST(test_query_get),
        API_TEST(test_query_post),
        API_TEST(test_query_post_charset),
        API_TEST(test_query_split_params),
        API_TEST(test_query_post_chunked),
        API_TEST(test_query_fixture_values),
        API_TEST(test_query_selector_encoded),
        API_TEST(test_query_time_formats),
        API_TEST(test_query_time_default_now),
        API_TEST(test_query_empty_result),
        API_TEST(test_range_get),
        API_TEST(test_range_post),
        API_TEST(test_range_split_params),
        API_TEST(test_range_step_duration),
        API_TEST(test_range_rfc3339),
        API_TEST(test_range_sawtooth),
        API_TEST(test_range_float_times),
        API_TEST(test_range_11000_points),
        API_TEST(test_range_empty),
        API_TEST(test_series_get),
        API_TEST(test_series_post_repeated),
        API_TEST(test_series_split),
        API_TEST(test_series_regex_anchored),
        API_TEST(test_series_empty),
        API_TEST(test_labels_get),
        API_TEST(test_labels_post_match),
        API_TEST(test_label_values_type),
        API_TEST(test_label_values_amplitude),
        API_TEST(test_label_values_names),
        API_TEST(test_label_values_unknown),
        API_TEST(test_label_values_escaped_name),
        API_TEST(test_label_values_limit),
        API_TEST(test_buildinfo),
        API_TEST(test_rules),
        API_TEST(test_metadata),
        API_TEST(test_exemplars),
        API_TEST(test_exemplars_ms_epochs),
        API_TEST(test_format_query),
        API_TEST(test_parse_query),
        API_TEST(test_warnings_infos),
        API_TEST(test_special_values),
        API_TEST(test_gzip),
        API_TEST(test_err_missing_query),
        API_TEST(test_err_bad_times),
        API_TEST(test_err_end_before_start),
        API_TEST(test_err_step),
        API_TEST(test_err_too_many_points),
        API_TEST(test_err_parse),
        API_TEST(test_err_series_without_match),
        API_TEST(test_err_empty_matcher),
        API_TEST(test_err_negative_limit),
        API_TEST(test_err_unknown_path),
        API_TEST(test_err_methods),
        API_TEST(test_err_body_too_large),
        API_TEST(test_err_plugin_failure),
        API_TEST(test_err_plugin_forbid),
    };

    s = getenv("PVM_TEST_PORT");
    if (!s || atoi(s) <= 0) {
        printf("test_api: PVM_TEST_PORT not set: skipped (run "
               "tests/integration/run.sh, which starts nginx and pvm-fcgi)\n");
        return 77;
    }
    api_port = atoi(s);
    if ((s = getenv("PVM_TEST_FAIL_PORT")))
        api_fail_port = atoi(s);
    if ((s = getenv("PVM_TEST_FAIL_PREFIX")))
        api_fail_prefix = s;
    if ((s = getenv("PVM_TEST_FORBID_PORT")))
        api_forbid_port = atoi(s);
    if ((s = getenv("PVM_TEST_MAX_BODY")) && atol(s) > 64)
        api_max_body = (size_t)atol(s);
    return cmocka_run_group_tests_name("integration: api", tests, NULL, NULL);
}
