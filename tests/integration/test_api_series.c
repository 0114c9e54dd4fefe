/* tests/integration/test_api_series.c: /api/v1/series, labels, label
 * values, status/buildinfo, rules, metadata, exemplars, format_query,
 * parse_query, warnings and infos, NaN/Inf spelling, gzip through nginx.
 * Part of test_api (test_api.h). */
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
/* GET|POST /api/v1/series?match[]=&start=&end= */

void test_series_get(void **state)
{
    /* The example plugin adds metric names only (pvm: one {"__name__"}
     * object per name); Prometheus, and a plugin using add_series, list
     * all 12 label sets. */
    test_http_response *r = api_get(state,
                                    "/api/v1/series?match%5B%5D=" EXAMPLE);
    json_object *data;
    int n;
    api_expect_success(r);
    data = test_json_get(r->json, "data");
    n = test_json_array_len(r->json, "data");
    API_CHECK(r, n == 1 || n == 12, "expected 1 or 12 series, got %d", n);
    for (int i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(data, (size_t)i);
        API_CHECK(r, api_labels_sorted(s), "series %d: labels not sorted", i);
        API_CHECK(r,
                  test_json_string(s, "__name__") &&
                      strcmp(test_json_string(s, "__name__"), EXAMPLE) == 0,
                  "series %d: __name__", i);
        if (i)
            API_CHECK(r,
                      test_json_labels_cmp(
                          json_object_array_get_idx(data, (size_t)i - 1), s) <
                          0,
                      "series %d, %d not sorted", i - 1, i);
    }
    /* the fixture adds whole label sets */
    r = api_get(state, "/api/v1/series?match%5B%5D=example_metric");
    api_expect_success(r);
    API_CHECK(r,
              test_json_array_len(r->json, "data") == 2 &&
                  strcmp(test_json_string(r->json, "data[0].__name__"),
                         "example_metric") == 0 &&
                  strcmp(test_json_string(r->json, "data[0].type"), "a") ==
                      0 &&
                  strcmp(test_json_string(r->json, "data[1].type"), "b") == 0,
              "expected [{__name__:example_metric,type:a},{...type:b}]");
    API_CHECK(r,
              strstr(r->body,
                     "{\"__name__\":\"example_metric\",\"type\":\"a\"}"),
              "label set not written as {\"__name__\":...,\"type\":\"a\"}");
}

void test_series_post_repeated(void **state)
{
    test_http_response *r = api_post(
        state, "/api/v1/series",
        "match%5B%5D=example_metric%7Btype%3D%22a%22%7D"
        "&match%5B%5D=example_metric%7Btype%3D%22b%22%7D&start=0&end=60",
        FORM_UTF8);
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 2,
              "expected 2 series");
    API_CHECK(r,
              strcmp(test_json_string(r->json, "data[0].type"), "a") == 0 &&
                  strcmp(test_json_string(r->json, "data[1].type"), "b") == 0,
              "series not a, b");
}

void test_series_split(void **state)
{
    test_http_response *r = api_post(
        state, "/api/v1/series?match%5B%5D=example_metric%7Btype%3D%22a%22%7D",
        "match%5B%5D=example_metric%7Btype%3D%22b%22%7D", NULL);
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 2,
              "match[] of URL and body not merged");
}

void test_series_regex_anchored(void **state)
{
    /* {__name__=~"example_.*"} must not match prometheus_virtual_... */
    test_http_response *r = api_get(
        state,
        "/api/v1/series?match%5B%5D=%7B__name__%3D~%22example_.*%22%7D");
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 2,
              "expected the 2 fixture series, got %d",
              test_json_array_len(r->json, "data"));
}

void test_series_empty(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/series?match%5B%5D=no_such_metric");
    api_expect_success(r);
    API_CHECK(r,
              test_json_array_len(r->json, "data") == 0 &&
                  strstr(r->body, "\"data\":[]"),
              "no series must be written as []");
}

/* GET|POST /api/v1/labels, GET /api/v1/label/<name>/values */

void test_labels_get(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/labels");
    api_expect_strings(r, -1);
    API_CHECK(r,
              test_json_array_has_string(r->json, "data", "__name__") &&
                  test_json_array_has_string(r->json, "data", "type") &&
                  test_json_array_has_string(r->json, "data", "amplitude"),
              "labels lack __name__, type or amplitude");
}

void test_labels_post_match(void **state)
{
    test_http_response *r = api_post(state, "/api/v1/labels",
                                     "match%5B%5D=example_metric&limit=40000",
                                     NULL);
    api_expect_strings(r, -1);
    API_CHECK(r, test_json_array_has_string(r->json, "data", "type"),
              "labels of example_metric lack type");
    API_CHECK(r, !test_json_array_has_string(r->json, "data", "amplitude"),
              "labels of example_metric include amplitude (example plugin "
              "ignores match[])");
}

void test_label_values_type(void **state)
{
    static const char *const example_types[] = {"cosine", "sawtooth", "sine",
                                                "square"};
    test_http_response *r = api_get(state, "/api/v1/label/type/values");
    api_expect_strings(r, -1);
    for (int i = 0; i < 4; i++)
        API_CHECK(r,
                  test_json_array_has_string(r->json, "data",
                                             example_types[i]),
                  "type values lack %s", example_types[i]);
    API_CHECK(r,
              test_json_array_has_string(r->json, "data", "a") &&
                  test_json_array_has_string(r->json, "data", "b"),
              "type values lack the fixture's a, b (two plugins)");
    r = api_get(state, "/api/v1/label/type/values?match%5B%5D=" EXAMPLE);
    api_expect_strings_exact(r, example_types, 4);
    r = api_get(state,
                "/api/v1/label/type/values?match%5B%5D=example_metric%7B"
                "type%3D%22a%22%7D&limit=40000");
    api_expect_strings_exact(r, (const char *const[]){"a"}, 1);
}

void test_label_values_amplitude(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/label/amplitude/values?match%5B%5D=" EXAMPLE);
    api_expect_strings_exact(r, (const char *const[]){"1", "10", "5"}, 3);
}

void test_label_values_names(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/label/__name__/values");
    api_expect_strings(r, -1);
    API_CHECK(r,
              test_json_array_has_string(r->json, "data", EXAMPLE) &&
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
    api_expect_strings_exact(r,
                             (const char *const[]){"example_metric", EXAMPLE},
                             2);
}

void test_label_values_unknown(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/label/no_such/values");
    api_expect_strings(r, 0);
    API_CHECK(r, strstr(r->body, "\"data\":[]") != NULL,
              "empty values not written as []");
}

void test_label_values_escaped_name(void **state)
{
    /* Grafana escapes label names as U__...; U__type is just "type" */
    test_http_response *r = api_get(
        state, "/api/v1/label/U__type/values?match%5B%5D=example_metric");
    api_expect_strings_exact(r, (const char *const[]){"a", "b"}, 2);
}

void test_label_values_limit(void **state)
{
    test_http_response *r = api_get(
        state, "/api/v1/label/type/values?match%5B%5D=" EXAMPLE "&limit=2");
    api_expect_strings(r, 2);
    r = api_get(state,
                "/api/v1/label/type/values?match%5B%5D=" EXAMPLE "&limit=0");
    api_expect_strings(r, 4);
}

/* GET /api/v1/status/buildinfo, /rules, /metadata; query_exemplars,
 * format_query, parse_query */

void test_buildinfo(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/status/buildinfo");
    api_expect_success(r);
    API_CHECK(r, test_json_string(r->json, "data.version") != NULL,
              "no data.version");
    API_CHECK(r,
              !test_json_has(r->json, "data.features") &&
                  test_json_key_pos(r->body, "features") < 0,
              "buildinfo has a features key (Grafana would call it Mimir)");
}

void test_rules(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/rules");
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data.groups") == 0,
              "data is not {\"groups\":[]}");
}

void test_metadata(void **state)
{
    test_http_response *r = api_get(state, "/api/v1/metadata?limit=40000");
    api_expect_success(r);
    API_CHECK(r,
              json_object_is_type(test_json_get(r->json, "data"),
                                  json_type_object),
              "data is not an object");
    json_object_object_foreach(test_json_get(r->json, "data"), key, val)
    {
        API_CHECK(r,
                  json_object_is_type(val, json_type_array) &&
                      json_object_array_length(val) > 0,
                  "metadata of %s is not a non-empty array", key);
    }
}

void test_exemplars(void **state)
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

void test_exemplars_ms_epochs(void **state)
{
    /* Grafana's probe sends ms epochs as seconds (year ~56900) */
    test_http_response *r =
        api_post(state, "/api/v1/query_exemplars",
                 "query=test&start=1732478212345&end=1732480012345", NULL);
    api_expect_success(r);
    API_CHECK(r, test_json_array_len(r->json, "data") == 0, "data is not []");
}

void test_format_query(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/format_query?query=foo%7Bbar%3D%22baz%22%7D");
    api_expect_success(r);
    API_CHECK(r,
              test_json_string(r->json, "data") &&
                  strcmp(test_json_string(r->json, "data"),
                         "foo{bar=\"baz\"}") == 0,
              "format_query data is not foo{bar=\"baz\"}");
    r = api_post(state, "/api/v1/format_query", "query=sum(foo)", NULL);
    api_expect_success(r);
    API_CHECK(r,
              test_json_string(r->json, "data") &&
                  strcmp(test_json_string(r->json, "data"), "sum(foo)") == 0,
              "format_query data is not sum(foo)");
}

void test_parse_query(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/parse_query?query=foo%7Bbar%3D%22baz%22%7D");
    api_expect_success(r);
    API_CHECK(r,
              json_object_is_type(test_json_get(r->json, "data"),
                                  json_type_object),
              "parse_query data is not an object");
    r = api_post(state, "/api/v1/parse_query", "query=sum(foo)", NULL);
    api_expect_success(r);
}

/* Warnings, infos and special values (fixture_special_metric) */

void test_warnings_infos(void **state)
{
    test_http_response *r =
        api_get(state, "/api/v1/query?query=fixture_special_metric&time=60");
    api_expect_result(r, "vector", 3);
    API_CHECK(r,
              test_json_array_len(r->json, "warnings") == 1 &&
                  strcmp(test_json_string(r->json, "warnings[0]"),
                         "special warning") == 0,
              "warnings is not [\"special warning\"]");
    API_CHECK(r,
              test_json_array_len(r->json, "infos") == 1 &&
                  strcmp(test_json_string(r->json, "infos[0]"),
                         "special info") == 0,
              "infos is not [\"special info\"]");
    r = api_get(state, "/api/v1/label/type/values?match%5B%5D=example_metric");
    api_expect_strings(r, 2);
    API_CHECK(r,
              !test_json_has(r->json, "warnings") &&
                  !test_json_has(r->json, "infos"),
              "warnings/infos present though no plugin added any");
}

void test_special_values(void **state)
{
    static const char *const want[] = {"NaN", "-Inf",
                                       "+Inf"}; /* nan, neg_inf, pos_inf */
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

void test_gzip(void **state)
{
    const char *headers[] = {"Accept-Encoding: gzip", NULL};
    test_http_response *r = api_do(state, api_port, "GET",
                                   "/api/v1/query_range?query=" EXAMPLE
                                   "&start=0&end=60&step=15",
                                   headers, NULL);
    const char *ce = test_http_header(r, "Content-Encoding");
    API_CHECK(r, r->status == 200, "HTTP %d", r->status);
    API_CHECK(r, ce && strcmp(ce, "gzip") == 0, "not gzip-compressed");
    API_CHECK(r,
              r->body_len > 2 && (unsigned char)r->body[0] == 0x1f &&
                  (unsigned char)r->body[1] == 0x8b,
              "no gzip magic");
}
