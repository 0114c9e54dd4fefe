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
#include "test_api.h"

int api_port, api_fail_port, api_forbid_port;
const char *api_fail_prefix = "";
size_t api_max_body = 65536;

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
void api_dump(const test_http_response *r)
{
    print_error("  HTTP %d, %zu bytes, error '%s'\n  body: %.1500s\n",
                r->status, r->body_len, r->error,
                r->body ? r->body : "(none)");
}

/* Sends a request; fails the test on a transport error. */
test_http_response *api_do(void **state, int port, const char *method,
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

test_http_response *api_get(void **state, const char *path)
{
    return api_do(state, api_port, "GET", path, NULL, NULL);
}

/* POST with a form body (Content-Type ctype, default plain urlencoded). */
test_http_response *api_post(void **state, const char *path, const char *body,
                             const char *ctype)
{
    char hdr[128];
    const char *headers[] = {hdr, NULL};
    snprintf(hdr, sizeof(hdr), "Content-Type: %s", ctype ? ctype : FORM);
    return api_do(state, api_port, "POST", path, headers, body);
}

/* Envelope checks */

void api_expect_success(const test_http_response *r)
{
    const char *ct = test_http_header(r, "Content-Type");
    API_CHECK(r, r->status == 200, "expected HTTP 200, got %d", r->status);
    API_CHECK(r, r->json != NULL, "body is not JSON");
    API_CHECK(r, ct && strncmp(ct, "application/json", 16) == 0,
              "Content-Type is '%s', not application/json", ct ? ct : "");
    API_CHECK(r,
              test_json_string(r->json, "status") &&
                  strcmp(test_json_string(r->json, "status"), "success") == 0,
              "status is not \"success\"");
    API_CHECK(r, test_json_has(r->json, "data"), "no data");
}

/* Checks an error answer: HTTP status, {"status":"error"}, errorType (if
 * not NULL) and that error contains msg (if not NULL). */
void api_expect_error(const test_http_response *r, int http, const char *type,
                      const char *msg)
{
    const char *err;
    API_CHECK(r, r->status == http, "expected HTTP %d, got %d", http,
              r->status);
    API_CHECK(r, r->json != NULL, "error body is not JSON");
    API_CHECK(r,
              test_json_string(r->json, "status") &&
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
bool api_labels_sorted(json_object *metric)
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
json_object *api_expect_result(const test_http_response *r, const char *type,
                               int nseries)
{
    json_object *res;
    long ptype = test_json_key_pos(r->body, "resultType");
    long pres = test_json_key_pos(r->body, "result");
    const char *other = strcmp(type, "vector") == 0 ? "values" : "value";
    const char *mine = strcmp(type, "vector") == 0 ? "value" : "values";

    api_expect_success(r);
    API_CHECK(r,
              test_json_string(r->json, "data.resultType") &&
                  strcmp(test_json_string(r->json, "data.resultType"), type) ==
                      0,
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
            const char *bad = test_json_check_sample(
                test_json_get(item, "value"));
            API_CHECK(r, bad == NULL, "result[%zu].value: %s", i, bad);
        } else {
            json_object *vals = test_json_get(item, "values");
            double prev = -INFINITY;
            API_CHECK(r,
                      json_object_is_type(vals, json_type_array) &&
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
double api_ts(json_object *obj, const char *path)
{
    return json_object_get_double(
        json_object_array_get_idx(test_json_get(obj, path), 0));
}

const char *api_val(json_object *obj, const char *path)
{
    return json_object_get_string(
        json_object_array_get_idx(test_json_get(obj, path), 1));
}

/* Checks a data array of strings: sorted, unique, n items (n >= 0). */
void api_expect_strings(const test_http_response *r, int n)
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

void api_expect_strings_exact(const test_http_response *r,
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
