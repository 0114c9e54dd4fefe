/* test_federate.c: /federate (text format and OpenMetrics, families,
 * escaping, timestamps, errors) and /api/v1/metadata (the plugins'
 * metadata, with Prometheus' metric, limit and limit_per_metric), through
 * the test kit with the example and openmetrics_file plugins. */
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

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "kitutil.h"

#include "api_federate.h"
#include "api_metadata.h"

extern const pvm_plugin_type pvm_plugin_example;
extern const pvm_plugin_type pvm_plugin_openmetrics_file;

static const pvm_plugin_type *const table[] = {&pvm_plugin_example,
                                               &pvm_plugin_openmetrics_file,
                                               NULL};

#define METRIC "prometheus_virtual_metrics_example_metric"

/* The OpenMetrics accept header of Prometheus 2.42's scrapes, and
 * vmagent's. */
#define PROM_ACCEPT                                                           \
    "Accept: application/openmetrics-text;version=1.0.0,application/"         \
    "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,"   \
    "*/*;q=0.1"
#define VM_ACCEPT "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1"

static char file_a[64], file_b[64];
static long long now_s;

/* Two files: a histogram, a counter (with _created), a gauge with a
 * unit, a label value and HELP text that need escaping; the second file
 * declares the counter again with another HELP. Samples 10 s ago. */
static void write_files(void)
{
    now_s = (long long)time(NULL);
    long long t = now_s - 10;
    snprintf(file_a, sizeof(file_a), "/tmp/pvm-fed-a-%d.om", (int)getpid());
    snprintf(file_b, sizeof(file_b), "/tmp/pvm-fed-b-%d.om", (int)getpid());
    FILE *f = fopen(file_a, "w");
    assert_non_null(f);
    fprintf(f,
            "# HELP rpc_seconds RPC \"latency\" \\\\ per\\ncall.\n"
            "# TYPE rpc_seconds histogram\n"
            "# UNIT rpc_seconds seconds\n"
            "rpc_seconds_bucket{le=\"0.5\"} 3 %lld.25\n"
            "rpc_seconds_bucket{le=\"10\"} 5 %lld.25\n"
            "rpc_seconds_bucket{le=\"+Inf\"} 6 %lld.25\n"
            "rpc_seconds_count 6 %lld.25\n"
            "rpc_seconds_sum 12.5 %lld.25\n"
            "# HELP jobs Jobs done.\n"
            "# TYPE jobs counter\n"
            "jobs_total{queue=\"a\\\"b\\\\c\\nd\"} 42 %lld\n"
            "jobs_created{queue=\"x\"} 1700000000 %lld\n"
            "# TYPE temp_celsius gauge\n"
            "# UNIT temp_celsius celsius\n"
            "temp_celsius 21.5 %lld\n"
            "plain 7 %lld\n"
            "bad_utf8{v=\"\xff\"} 1 %lld\n"
            "# EOF\n",
            t, t, t, t, t, t, t, t, t, t);
    fclose(f);
    f = fopen(file_b, "w");
    assert_non_null(f);
    fprintf(f, "# HELP jobs Jobs finished.\n# TYPE jobs counter\n"
               "# TYPE old gauge\nold 1 1000\n"
               "# a comment\n# HELP\n# TYPE weird bogus\n# EOF\n");
    fclose(f);
}

static int setup(void **state)
{
    write_files();
    char ini[512];
    snprintf(ini, sizeof(ini),
             "[plugin:example]\n"
             "[plugin:a]\ntype = openmetrics_file\npath = %s\n"
             "[plugin:b]\ntype = openmetrics_file\npath = %s\n",
             file_a, file_b);
    return setup_kit(state, ini, table);
}

static int teardown(void **state)
{
    pvm_testkit_free(*state);
    unlink(file_a);
    unlink(file_b);
    return 0;
}

static pvm_test_response *get(void **state, const char *target,
                              const char *accept)
{
    const char *h[] = {accept, NULL};
    return pvm_testkit_request(*state, "GET", target, NULL, accept ? h : NULL);
}

/* Number of lines of body starting with prefix. */
static int count_lines(const char *body, const char *prefix)
{
    int n = 0;
    size_t k = strlen(prefix);
    for (const char *p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
        n += strncmp(p, prefix, k) == 0;
    return n;
}

/* ---- federation -------------------------------------------------------- */

static void test_federate_text(void **state)
{
    pvm_test_response *r = ok(
        get(state, "/federate?match[]=" METRIC "%7Btype%3D%22sine%22%7D",
            VM_ACCEPT));
    assert_string_equal(pvm_test_response_header(r, "Content-Type"),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(r->body, "# HELP " METRIC " Example waves"));
    assert_non_null(strstr(r->body, "# TYPE " METRIC " gauge\n"));
    assert_int_equal(count_lines(r->body, METRIC "{"), 3);
    assert_int_equal(count_lines(r->body, "# TYPE"), 1);
    /* one series in full: labels sorted, value, timestamp in ms near now */
    const char *p = strstr(r->body, METRIC "{amplitude=\"5\",type=\"sine\"} ");
    assert_non_null(p);
    double v;
    long long t;
    assert_int_equal(sscanf(strchr(p, '}') + 2, "%lf %lld", &v, &t), 2);
    assert_true(v >= -5 && v <= 5);
    assert_true(t / 1000 >= now_s - 5 && t / 1000 <= now_s + 60);
    assert_null(strstr(r->body, "# EOF"));
    pvm_test_response_free(r);
}

static void test_federate_openmetrics(void **state)
{
    pvm_test_response *r = ok(
        get(state, "/federate?match[]=" METRIC "%7Bamplitude%3D%221%22%7D",
            PROM_ACCEPT));
    assert_string_equal(pvm_test_response_header(r, "Content-Type"),
                        "application/openmetrics-text; version=1.0.0; "
                        "charset=utf-8");
    assert_int_equal(count_lines(r->body, METRIC "{"), 4);
    /* timestamps in seconds, and the closing line */
    const char *p = strstr(r->body,
                           METRIC "{amplitude=\"1\",type=\"square\"} ");
    assert_non_null(p);
    double v, t;
    assert_int_equal(sscanf(strchr(p, '}') + 2, "%lf %lf", &v, &t), 2);
    assert_true(t >= (double)now_s - 5 && t <= (double)now_s + 60);
    /* seconds, milliseconds and a 1: read as the same ms by parsers that
     * truncate ts * 1000 */
    const char *ts = strchr(strchr(p, '}') + 2, ' ') + 1;
    assert_int_equal(strcspn(ts, "\n"), 15); /* 1234567890.1231 */
    assert_int_equal(ts[10], '.');
    assert_int_equal(ts[14], '1');
    size_t n = strlen(r->body);
    assert_true(n > 6);
    assert_string_equal(r->body + n - 6, "# EOF\n");
    pvm_test_response_free(r);
}

/* Families from the file's metadata: the histogram's samples grouped
 * under one TYPE, buckets in numeric order, the counter named as each
 * format wants it, the unit only in OpenMetrics, escaping of label
 * values and HELP, untyped series, the samples' own timestamps. */
static void test_federate_families(void **state)
{
    const char *target = "/federate?match[]=%7B__name__%3D~%22rpc.*%7Cjobs.*"
                         "%7Ctemp.*%7Cplain%22%7D";
    pvm_test_response *r = ok(get(state, target, VM_ACCEPT));
    const char *want_text =
        "# HELP jobs_created Jobs done.\n"; /* never: _created is untyped */
    assert_null(strstr(r->body, want_text));
    assert_non_null(
        strstr(r->body,
               "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\n"
               "jobs_total{queue=\"a\\\"b\\\\c\\nd\"} 42 "));
    assert_non_null(strstr(r->body, "# TYPE jobs_created untyped\n"
                                    "jobs_created{queue=\"x\"} 1700000000 "));
    assert_non_null(strstr(r->body, "# TYPE plain untyped\nplain 7 "));
    assert_non_null(
        strstr(r->body, "# HELP rpc_seconds RPC \"latency\" \\\\ per\\ncall.\n"
                        "# TYPE rpc_seconds histogram\n"
                        "rpc_seconds_bucket{le=\"0.5\"} 3 "));
    char *b05 = strstr(r->body, "le=\"0.5\"");
    char *b10 = strstr(r->body, "le=\"10\"");
    char *binf = strstr(r->body, "le=\"+Inf\"");
    char *sum = strstr(r->body, "rpc_seconds_sum 12.5");
    assert_true(b05 && b10 && binf && sum && b05 < b10 && b10 < binf &&
                binf < sum);
    assert_non_null(strstr(r->body, "# TYPE temp_celsius gauge\n"
                                    "temp_celsius 21.5 "));
    assert_null(strstr(r->body, "# UNIT"));
    assert_int_equal(count_lines(r->body, "# TYPE rpc_seconds"), 1);
    pvm_test_response_free(r);

    r = ok(get(state, target, PROM_ACCEPT));
    assert_non_null(strstr(r->body,
                           "# HELP jobs Jobs done.\n# TYPE jobs counter\n"
                           "jobs_created{queue=\"x\"} 1700000000 "));
    assert_non_null(
        strstr(r->body, "jobs_total{queue=\"a\\\"b\\\\c\\nd\"} 42 "));
    assert_non_null(
        strstr(r->body,
               "# HELP rpc_seconds RPC \\\"latency\\\" \\\\ per\\ncall.\n"
               "# TYPE rpc_seconds histogram\n# UNIT rpc_seconds seconds\n"));
    assert_non_null(strstr(r->body, "# TYPE temp_celsius gauge\n"
                                    "# UNIT temp_celsius celsius\n"));
    assert_non_null(strstr(r->body, "# TYPE plain unknown\nplain 7 "));
    pvm_test_response_free(r);
}

/* Series older than the lookback are not federated; no match[] gives an
 * empty answer (as Prometheus); a bad selector is bad_data. */
static void test_federate_edges(void **state)
{
    pvm_test_response *r = ok(get(state, "/federate?match[]=old", NULL));
    assert_string_equal(r->body, "");
    pvm_test_response_free(r);
    r = ok(get(state, "/federate", PROM_ACCEPT));
    assert_string_equal(r->body, "# EOF\n");
    pvm_test_response_free(r);
    r = get(state, "/federate?match[]=rate(x%5B1m%5D)", NULL);
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "invalid parameter \\\"match[]\\\""));
    pvm_test_response_free(r);
    r = pvm_testkit_request(*state, "PUT", "/federate?match[]=x", NULL, NULL);
    assert_int_equal(r->status, 405);
    pvm_test_response_free(r);
    /* POST with a form body, as GET */
    r = pvm_testkit_request(*state, "POST", "/federate", "match[]=plain",
                            NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(count_lines(r->body, "plain "), 1);
    pvm_test_response_free(r);
    /* a label value that is not UTF-8 would fail the whole scrape in
     * Prometheus: that series is left out */
    r = ok(get(state, "/federate?match[]=bad_utf8&match[]=plain", NULL));
    assert_null(strstr(r->body, "bad_utf8"));
    assert_int_equal(count_lines(r->body, "plain "), 1);
    pvm_test_response_free(r);
    /* two selectors over the same series: written once */
    r = get(state,
            "/federate?match[]=plain&match[]=%7B__name__%3D%22plain%22%7D",
            NULL);
    assert_int_equal(count_lines(r->body, "plain "), 1);
    pvm_test_response_free(r);
}

static void test_negotiation(void **state)
{
    (void)state;
    assert_true(pvm_federate_wants_openmetrics(PROM_ACCEPT + 8));
    assert_false(pvm_federate_wants_openmetrics(VM_ACCEPT + 8));
    assert_false(pvm_federate_wants_openmetrics(NULL));
    assert_false(pvm_federate_wants_openmetrics(""));
    assert_false(pvm_federate_wants_openmetrics("*/*"));
    assert_true(
        pvm_federate_wants_openmetrics("application/openmetrics-text"));
    assert_false(pvm_federate_wants_openmetrics(
        "application/openmetrics-text;q=0.3, text/plain;q=0.9"));
    assert_false(
        pvm_federate_wants_openmetrics("application/openmetrics-text;q=0"));
}

static void test_escape(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(0);
    assert_string_equal(pvm_federate_escape(a, "a\"b\\c\nd", false, false),
                        "a\\\"b\\\\c\\nd");
    assert_string_equal(pvm_federate_escape(a, "a\"b\\c\nd", true, false),
                        "a\"b\\\\c\\nd");
    assert_string_equal(pvm_federate_escape(a, "a\"b\\c\nd", true, true),
                        "a\\\"b\\\\c\\nd");
    assert_string_equal(pvm_federate_escape(a, "", false, true), "");
    pvm_arena_free(a);
}

static void test_family_of(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(0);
    const pvm_metric_metadata md[] = {
        {"reqs", PVM_METRIC_COUNTER, "h", NULL},
        {"bytes_total", PVM_METRIC_COUNTER, NULL, NULL},
        {"lat", PVM_METRIC_SUMMARY, NULL, NULL},
        {"st", PVM_METRIC_STATESET, NULL, NULL},
        {"build", PVM_METRIC_INFO, NULL, NULL},
    };
    pvm_federate_family f;
    pvm_federate_family_of(a, "reqs_total", md, 5, true, &f);
    assert_string_equal(f.name, "reqs");
    assert_int_equal(f.type, PVM_METRIC_COUNTER);
    pvm_federate_family_of(a, "reqs_total", md, 5, false, &f);
    assert_string_equal(f.name, "reqs_total");
    assert_int_equal(f.type, PVM_METRIC_COUNTER);
    pvm_federate_family_of(a, "bytes_total", md, 5, true, &f);
    assert_string_equal(f.name, "bytes");
    assert_int_equal(f.type, PVM_METRIC_COUNTER);
    pvm_federate_family_of(a, "reqs", md, 5, true, &f); /* no _total */
    assert_int_equal(f.type, PVM_METRIC_UNKNOWN);
    pvm_federate_family_of(a, "lat", md, 5, false, &f);
    assert_int_equal(f.type, PVM_METRIC_SUMMARY);
    pvm_federate_family_of(a, "lat_count", md, 5, false, &f);
    assert_string_equal(f.name, "lat");
    pvm_federate_family_of(a, "st", md, 5, true, &f);
    assert_int_equal(f.type, PVM_METRIC_STATESET);
    pvm_federate_family_of(a, "st", md, 5, false, &f);
    assert_int_equal(f.type, PVM_METRIC_UNKNOWN);
    pvm_federate_family_of(a, "build_info", md, 5, true, &f);
    assert_string_equal(f.name, "build");
    assert_int_equal(f.type, PVM_METRIC_INFO);
    pvm_federate_family_of(a, "build_info", md, 5, false, &f);
    assert_string_equal(f.name, "build_info");
    assert_int_equal(f.type, PVM_METRIC_UNKNOWN);
    pvm_federate_family_of(a, "nothing_total", md, 5, true, &f);
    assert_string_equal(f.name, "nothing_total");
    assert_null(f.meta);
    pvm_arena_free(a);
}

/* ---- metadata ---------------------------------------------------------- */

static void test_metadata_all(void **state)
{
    pvm_test_response *r = ok(get(state, "/api/v1/metadata", NULL));
    assert_non_null(r->json);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data." METRIC "[0].type"),
                        "gauge");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.rpc_seconds[0].unit"),
                        "seconds");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.rpc_seconds[0].help"),
                        "RPC \"latency\" \\ per\ncall.");
    /* two instances declare jobs with different HELP: both entries */
    assert_int_equal(pvm_test_json_length(r->json, "data.jobs"), 2);
    assert_string_equal(pvm_test_json_string(r->json, "data.jobs[1].help"),
                        "Jobs finished.");
    assert_int_equal(pvm_test_json_length(r->json, "data.old"), 1);
    /* a type no parser knows is served as unknown, not refused */
    assert_string_equal(pvm_test_json_string(r->json, "data.weird[0].type"),
                        "unknown");
    /* key order: by name */
    assert_true(strstr(r->body, "\"jobs\"") < strstr(r->body, "\"old\""));
    pvm_test_response_free(r);
}

/* Prometheus: limit < 0 all, 0 none, n the first n names; limit_per_metric
 * <= 0 all; metric selects one name; a non-number is bad_data. */
static void test_metadata_limits(void **state)
{
    pvm_test_response *r = get(state, "/api/v1/metadata?limit=0", NULL);
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":{}}");
    pvm_test_response_free(r);
    r = get(state, "/api/v1/metadata?limit=1", NULL);
    assert_string_equal(r->body,
                        "{\"status\":\"success\",\"data\":{\"jobs\":"
                        "[{\"type\":\"counter\",\"help\":\"Jobs "
                        "done.\",\"unit\":\"\"},{\"type\":\"counter\","
                        "\"help\":\"Jobs finished.\",\"unit\":\"\"}]}}");
    pvm_test_response_free(r);
    r = ok(get(state, "/api/v1/metadata?limit=-1", NULL));
    assert_non_null(pvm_test_json_get(r->json, "data.temp_celsius"));
    pvm_test_response_free(r);
    r = get(state, "/api/v1/metadata?limit=2&limit_per_metric=1", NULL);
    assert_int_equal(pvm_test_json_length(r->json, "data.jobs"), 1);
    assert_non_null(pvm_test_json_get(r->json, "data.old"));
    assert_null(pvm_test_json_get(r->json, "data." METRIC));
    assert_int_equal(json_object_object_length(
                         pvm_test_json_get(r->json, "data")),
                     2);
    pvm_test_response_free(r);
    r = get(state, "/api/v1/metadata?limit_per_metric=0&metric=jobs", NULL);
    assert_int_equal(pvm_test_json_length(r->json, "data.jobs"), 2);
    assert_int_equal(json_object_object_length(
                         pvm_test_json_get(r->json, "data")),
                     1);
    pvm_test_response_free(r);
    r = get(state, "/api/v1/metadata?metric=nope", NULL);
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":{}}");
    pvm_test_response_free(r);
    r = get(state, "/api/v1/metadata?metric=a%22b%5C", NULL);
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":{}}");
    pvm_test_response_free(r);
    r = get(state, "/api/v1/metadata?limit=x", NULL);
    assert_int_equal(r->status, 400);
    assert_string_equal(r->body, "{\"status\":\"error\",\"errorType\":"
                                 "\"bad_data\",\"error\":\"limit must be a "
                                 "number\"}");
    pvm_test_response_free(r);
    r = get(state, "/api/v1/metadata?limit_per_metric=1.5", NULL);
    assert_int_equal(r->status, 400);
    assert_non_null(strstr(r->body, "limit_per_metric must be a number"));
    pvm_test_response_free(r);
}

static void test_metadata_parse_limit(void **state)
{
    (void)state;
    long long v;
    assert_int_equal(pvm_metadata_parse_limit("+7", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(pvm_metadata_parse_limit("-3", &v), 0);
    assert_int_equal(v, -3);
    assert_int_equal(pvm_metadata_parse_limit("9223372036854775807", &v), 0);
    assert_int_equal(pvm_metadata_parse_limit("-9223372036854775808", &v), 0);
    assert_int_equal(pvm_metadata_parse_limit("9223372036854775808", &v), -1);
    assert_int_equal(pvm_metadata_parse_limit("", &v), -1);
    assert_int_equal(pvm_metadata_parse_limit("-", &v), -1);
    assert_int_equal(pvm_metadata_parse_limit(" 1", &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_federate_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_federate_openmetrics, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_federate_families, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_federate_edges, setup, teardown),
        cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_family_of),
        cmocka_unit_test_setup_teardown(test_metadata_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_limits, setup, teardown),
        cmocka_unit_test(test_metadata_parse_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
