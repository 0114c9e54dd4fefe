/* tests/integration/test_api_errors.c: every error path of the API
 * through nginx, with its HTTP status and JSON envelope. Part of test_api
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
/* Error paths */

void test_err_missing_query(void **state)
{
    api_expect_error(api_get(state, "/api/v1/query?time=60"), 400, "bad_data",
                     NULL);
    api_expect_error(api_post(state, "/api/v1/query", "time=60", NULL), 400,
                     "bad_data", NULL);
    api_expect_error(api_get(state,
                             "/api/v1/query_range?start=0&end=60&step=15"),
                     400, "bad_data", NULL);
}

void test_err_bad_times(void **state)
{
    /* Prometheus: invalid parameter "time": Invalid time value for 'time':
     * cannot parse "abc" to a valid timestamp */
    test_http_response *r = api_get(state, "/api/v1/query?query=up&time=abc");
    api_expect_error(r, 400, "bad_data", "invalid parameter \"time\"");
    api_expect_error(r, 400, "bad_data",
                     "cannot parse \"abc\" to a valid timestamp");
    api_expect_error(
        api_get(state,
                "/api/v1/query_range?query=up&start=abc&end=60&step=15"),
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

void test_err_end_before_start(void **state)
{
    api_expect_error(
        api_get(state, "/api/v1/query_range?query=up&start=60&end=0&step=15"),
        400, "bad_data", "end timestamp must not be before start time");
}

void test_err_step(void **state)
{
    static const char msg[] = "zero or negative query resolution step widths "
                              "are not accepted. Try a positive integer";
    api_expect_error(
        api_get(state, "/api/v1/query_range?query=up&start=0&end=60&step=0"),
        400, "bad_data", msg);
    api_expect_error(api_post(state, "/api/v1/query_range",
                              "query=up&start=0&end=60&step=-15", NULL),
                     400, "bad_data", msg);
}

void test_err_too_many_points(void **state)
{
    api_expect_error(
        api_get(state,
                "/api/v1/query_range?query=up&start=0&end=11001&step=1"),
        400, "bad_data",
        "exceeded maximum resolution of 11,000 points per timeseries. Try "
        "decreasing the query resolution (?step=XX)");
}

void test_err_parse(void **state)
{
    test_http_response *r = api_post(state, "/api/v1/query",
                                     "query=sum%28&time=60", NULL);
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

void test_err_series_without_match(void **state)
{
    api_expect_error(api_get(state, "/api/v1/series"), 400, "bad_data",
                     "no match[] parameter provided");
    api_expect_error(api_post(state, "/api/v1/series", "start=0&end=60", NULL),
                     400, "bad_data", "no match[] parameter provided");
}

void test_err_empty_matcher(void **state)
{
    /* every matcher matches "": Prometheus refuses */
    api_expect_error(
        api_get(state,
                "/api/v1/series?match%5B%5D=%7B__name__%3D~%22.*%22%7D"),
        400, "bad_data", NULL);
}

void test_err_negative_limit(void **state)
{
    api_expect_error(api_get(state, "/api/v1/labels?limit=-1"), 400,
                     "bad_data", "limit");
    api_expect_error(api_get(state, "/api/v1/label/type/values?limit=-1"), 400,
                     "bad_data", "limit");
    api_expect_error(api_post(state, "/api/v1/series",
                              "match%5B%5D=up&limit=-1", NULL),
                     400, "bad_data", "limit");
}

void test_err_unknown_path(void **state)
{
    api_expect_error(api_get(state, "/api/v1/nope"), 404, NULL, NULL);
    api_expect_error(api_get(state, "/nope"), 404, NULL, NULL);
    api_expect_error(api_post(state, "/api/v1/nope", "query=up", NULL), 404,
                     NULL, NULL);
}

void test_err_methods(void **state)
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

void test_err_body_too_large(void **state)
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

void test_err_plugin_failure(void **state)
{
    char path[256];
    test_http_response *r;

    if (!api_fail_port)
        skip();
    snprintf(path, sizeof(path),
             "%s/api/v1/query?query=example_metric&time=60", api_fail_prefix);
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
    snprintf(path, sizeof(path), "%s/api/v1/status/buildinfo",
             api_fail_prefix);
    api_expect_success(api_do(state, api_fail_port, "GET", path, NULL, NULL));
}

void test_err_plugin_forbid(void **state)
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
