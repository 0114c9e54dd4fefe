/* tests/integration/test_api_query.c: GET|POST /api/v1/query and
 * /api/v1/query_range through nginx: parameters in the query string and
 * the body, time formats, result shapes and values. Part of test_api
 * (test_api.h). */
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
#include "test_api.h"
/* GET|POST /api/v1/query */

void test_query_get(void **state)
{
    test_http_response *r = api_get(state,
                                    "/api/v1/query?query=" EXAMPLE "&time=60");
    json_object *res = api_expect_result(r, "vector", 12);
    for (int i = 0; i < 12; i++) {
        char p[64];
        snprintf(p, sizeof(p), "[%d].metric.__name__", i);
        API_CHECK(r,
                  test_json_string(res, p) &&
                      strcmp(test_json_string(res, p), EXAMPLE) == 0,
                  "series %d lacks __name__", i);
        snprintf(p, sizeof(p), "[%d].value", i);
        API_CHECK(r, api_ts(res, p) == 60, "series %d not at t=60", i);
    }
    API_CHECK(r,
              test_json_key_pos(r->body, "warnings") < 0 &&
                  test_json_key_pos(r->body, "infos") < 0,
              "warnings/infos present though no plugin added any");
}

void test_query_post(void **state)
{
    test_http_response *r = api_post(state, "/api/v1/query",
                                     "query=" EXAMPLE "&time=60", NULL);
    api_expect_result(r, "vector", 12);
}

void test_query_post_charset(void **state)
{
    test_http_response *r = api_post(state, "/api/v1/query",
                                     "query=" EXAMPLE "&time=60", FORM_UTF8);
    api_expect_result(r, "vector", 12);
}

void test_query_split_params(void **state)
{
    test_http_response *r = api_post(state, "/api/v1/query?time=60",
                                     "query=" EXAMPLE, NULL);
    json_object *res = api_expect_result(r, "vector", 12);
    API_CHECK(r, api_ts(res, "[0].value") == 60, "time from the URL ignored");
}

void test_query_post_chunked(void **state)
{
    /* a chunked request body: nginx buffers it and passes CONTENT_LENGTH */
    const char *headers[] = {"Content-Type: " FORM,
                             "Transfer-Encoding: chunked", NULL};
    test_http_response *r = api_do(state, api_port, "POST", "/api/v1/query",
                                   headers,
                                   "14\r\nquery=example_metric\r\n"
                                   "8\r\n&time=60\r\n0\r\n\r\n");
    json_object *res = api_expect_result(r, "vector", 2);
    API_CHECK(r, api_ts(res, "[0].value") == 60, "time from the body lost");
}

void test_query_fixture_values(void **state)
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

void test_query_selector_encoded(void **state)
{
    /* example_metric{type="a"}, and with '+' (space) before the braces */
    test_http_response *r = api_get(
        state,
        "/api/v1/query?query=example_metric%7Btype%3D%22a%22%7D&time=60");
    json_object *res = api_expect_result(r, "vector", 1);
    API_CHECK(r, strcmp(api_val(res, "[0].value"), "4") == 0, "a@60 != 4");
    r = api_post(state, "/api/v1/query",
                 "query=example_metric+%7Btype%3D%22b%22%7D&time=60", NULL);
    res = api_expect_result(r, "vector", 1);
    API_CHECK(r, strcmp(test_json_string(res, "[0].metric.type"), "b") == 0,
              "'+' not decoded as a space");
}

void test_query_time_formats(void **state)
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

void test_query_time_default_now(void **state)
{
    test_http_response *r = api_get(state,
                                    "/api/v1/query?query=example_metric");
    json_object *res = api_expect_result(r, "vector", 2);
    double now = (double)time(NULL);
    API_CHECK(r, fabs(api_ts(res, "[0].value") - now) < 300,
              "default time is not now");
}

void test_query_empty_result(void **state)
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
            API_CHECK(r, api_ts(res, p) == 15.0 * j,
                      "series %d point %d at %g", i, j, api_ts(res, p));
        }
    }
}

void test_range_get(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/query_range?query=" EXAMPLE
                                           "&start=0&end=60&step=15");
    api_check_example_range(r);
}

void test_range_post(void **state)
{
    test_http_response *r = api_post(state, "/api/v1/query_range",
                                     "end=60&query=" EXAMPLE
                                     "&start=0&step=15",
                                     NULL);
    api_check_example_range(r);
    r = api_post(state, "/api/v1/query_range",
                 "query=" EXAMPLE "&start=0&end=60&step=15", FORM_UTF8);
    api_check_example_range(r);
}

void test_range_split_params(void **state)
{
    test_http_response *r = api_post(state,
                                     "/api/v1/query_range?query=" EXAMPLE
                                     "&step=15",
                                     "start=0&end=60", NULL);
    api_check_example_range(r);
}

void test_range_step_duration(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/query_range?query=" EXAMPLE
                                           "&start=0&end=60&step=15s");
    api_check_example_range(r);
}

void test_range_rfc3339(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/query_range?query=" EXAMPLE
               "&start=1970-01-01T00%3A00%3A00Z&end=1970-01-01T00%3A01%3A00Z"
               "&step=15");
    api_check_example_range(r);
}

void test_range_sawtooth(void **state)
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

void test_range_float_times(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/query_range?query=example_metric%7Btype%3D%22b%22%7D"
               "&start=0.5&end=30.5&step=15");
    json_object *res = api_expect_result(r, "matrix", 1);
    API_CHECK(r, test_json_array_len(res, "[0].values") == 3,
              "expected 3 points");
    API_CHECK(r,
              api_ts(res, "[0].values[0]") == 0.5 &&
                  api_ts(res, "[0].values[2]") == 30.5,
              "fractional timestamps lost");
    /* Prometheus writes sec.mmm ("0.500"); "0.5" parses the same */
    API_CHECK(r,
              strstr(r->body, "[0.500,\"2\"]") != NULL ||
                  strstr(r->body, "[0.5,\"2\"]") != NULL,
              "timestamp 0.5 not written as 0.500 or 0.5");
}

void test_range_11000_points(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/query_range?query=example_metric%7Btype%3D%22b%22%7D"
               "&start=0&end=11000&step=1");
    json_object *res = api_expect_result(r, "matrix", 1);
    API_CHECK(r, test_json_array_len(res, "[0].values") == 11001,
              "expected 11001 points, got %d",
              test_json_array_len(res, "[0].values"));
}

void test_range_empty(void **state)
{
    test_http_response *r = api_get(
        state,
        "/api/v1/query_range?query=no_such_metric&start=0&end=60&step=15");
    api_expect_result(r, "matrix", 0);
}
