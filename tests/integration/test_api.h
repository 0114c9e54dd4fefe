/* tests/integration/test_api.h: what the files of the test_api program
 * share: the ports run.sh passes (test_api.c reads them), the request and
 * check helpers (test_api.c) and the tests main() runs:
 *   test_api_query.c   /api/v1/query and query_range
 *   test_api_series.c  series, labels, label values, status, metadata,
 *                      exemplars, format_query/parse_query, annotations,
 *                      special values, gzip
 *   test_api_errors.c  every error path with its status and envelope */
#ifndef PVM_TESTS_INTEGRATION_TEST_API_H
#define PVM_TESTS_INTEGRATION_TEST_API_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "../lib/http.h"

#define EXAMPLE "prometheus_virtual_metrics_example_metric"
#define FORM "application/x-www-form-urlencoded"
#define FORM_UTF8 "application/x-www-form-urlencoded;charset=utf-8"
#define API_MAX_RESP 8 /* responses one test may hold */

/* Set by main() from run.sh's environment. */
extern int api_port, api_fail_port, api_forbid_port;
extern const char *api_fail_prefix;
extern size_t api_max_body;

/* Prints the body of r and fails the test with the message when cond is
 * false. */
#define API_CHECK(r, cond, ...)                                               \
    do {                                                                      \
        if (!(cond)) {                                                        \
            api_dump(r);                                                      \
            fail_msg(__VA_ARGS__);                                            \
        }                                                                     \
    } while (0)

/* Helpers (test_api.c) */
void api_dump(const test_http_response *r);
test_http_response *api_do(void **state, int port, const char *method,
                           const char *path, const char *const *headers,
                           const char *body);
test_http_response *api_get(void **state, const char *path);
test_http_response *api_post(void **state, const char *path, const char *body,
                             const char *ctype);
void api_expect_success(const test_http_response *r);
void api_expect_error(const test_http_response *r, int http, const char *type,
                      const char *msg);
bool api_labels_sorted(json_object *metric);
json_object *api_expect_result(const test_http_response *r, const char *type,
                               int nseries);
double api_ts(json_object *obj, const char *path);
const char *api_val(json_object *obj, const char *path);
void api_expect_strings(const test_http_response *r, int n);
void api_expect_strings_exact(const test_http_response *r,
                              const char *const *want, int n);

/* test_api_query.c */
void test_query_get(void **state);
void test_query_post(void **state);
void test_query_post_charset(void **state);
void test_query_split_params(void **state);
void test_query_post_chunked(void **state);
void test_query_fixture_values(void **state);
void test_query_selector_encoded(void **state);
void test_query_time_formats(void **state);
void test_query_time_default_now(void **state);
void test_query_empty_result(void **state);
void test_range_get(void **state);
void test_range_post(void **state);
void test_range_split_params(void **state);
void test_range_step_duration(void **state);
void test_range_rfc3339(void **state);
void test_range_sawtooth(void **state);
void test_range_float_times(void **state);
void test_range_11000_points(void **state);
void test_range_empty(void **state);

/* test_api_series.c */
void test_series_get(void **state);
void test_series_post_repeated(void **state);
void test_series_split(void **state);
void test_series_regex_anchored(void **state);
void test_series_empty(void **state);
void test_labels_get(void **state);
void test_labels_post_match(void **state);
void test_label_values_type(void **state);
void test_label_values_amplitude(void **state);
void test_label_values_names(void **state);
void test_label_values_unknown(void **state);
void test_label_values_escaped_name(void **state);
void test_label_values_limit(void **state);
void test_buildinfo(void **state);
void test_rules(void **state);
void test_metadata(void **state);
void test_exemplars(void **state);
void test_exemplars_ms_epochs(void **state);
void test_format_query(void **state);
void test_parse_query(void **state);
void test_warnings_infos(void **state);
void test_special_values(void **state);
void test_gzip(void **state);

/* test_api_errors.c */
void test_err_missing_query(void **state);
void test_err_bad_times(void **state);
void test_err_end_before_start(void **state);
void test_err_step(void **state);
void test_err_too_many_points(void **state);
void test_err_parse(void **state);
void test_err_series_without_match(void **state);
void test_err_empty_matcher(void **state);
void test_err_negative_limit(void **state);
void test_err_unknown_path(void **state);
void test_err_methods(void **state);
void test_err_body_too_large(void **state);
void test_err_plugin_failure(void **state);
void test_err_plugin_forbid(void **state);

#endif
