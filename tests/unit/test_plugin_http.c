/* test_plugin_http.c: the http plugin through the test kit, on local
 * files (file:// and path; HTTP itself is tests/integration/http.sh):
 * JSON in two shapes through jq, CSV with a header and with column
 * numbers, re-reading a changed file, discovery (static lists and
 * fetched), jq variables, and the errors: jq syntax (a configuration
 * error with jq's message), invalid JSON, outputs of the wrong types, a
 * bad CSV row (each an error envelope naming the instance). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "kitutil.h"

extern const pvm_plugin_type pvm_plugin_http;

static const pvm_plugin_type *const table[] = {&pvm_plugin_http, NULL};

static char dir[64];

/* points per series: cpu{host=a} 1,2,3 and cpu{host=b} 10 at
 * 1700000000 + 0, 60, 120 */
static const char shape1[] =
    "{\"series\":[{\"host\":\"a\",\"points\":[[1700000000,1],"
    "[1700000060,\"2\"],[1700000120,3]]},"
    "{\"host\":\"b\",\"points\":[[1700000000,10]]}]}";
#define JQ1                                                                   \
    ".series[] | .host as $h | .points[] | {metric: \"cpu\", labels: "        \
    "{host: $h}, timestamp: .[0], value: .[1]}"

/* one object per timestamp, one field per series, RFC 3339 times */
static const char shape2[] =
    "[{\"time\":\"2023-11-14T22:13:20Z\",\"kitchen\":20.5,\"cellar\":12},"
    "{\"time\":\"2023-11-14T22:14:20Z\",\"kitchen\":21,\"cellar\":null}]";
#define JQ2                                                                   \
    ".[] | .time as $t | to_entries[] | select(.key != \"time\") | "          \
    "{metric: \"temp\", labels: {room: .key}, timestamp: $t, value: .value}"

static const char csv[] = "time,site,\"power kw\",temp\r\n"
                          "1700000000,north,1.5,20\r\n"
                          "1700000060,\"so,uth\",2.5,\r\n";

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/pvm-http-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    write_file("shape1.json", shape1);
    write_file("shape2.json", shape2);
    write_file("data.csv", csv);
    write_file("bad.json", "{\"series\": [");
    write_file("prog.jq", JQ1 "\n");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A kit with one [plugin:web] section of the given keys. */
static pvm_testkit *kit(const char *keys, char *errbuf, size_t n)
{
    char ini[2048];
    snprintf(ini, sizeof(ini), "[plugin:web]\ntype = http\n%s\n", keys);
    return pvm_testkit_new(ini, table, errbuf, n);
}

static pvm_testkit *kit_ok(const char *keys)
{
    char err[512] = "";
    pvm_testkit *k = kit(keys, err, sizeof(err));
    if (!k)
        fail_msg("%s", err);
    return k;
}

/* The value of series i at point j of a matrix answer, as text. */
static const char *point(pvm_test_response *r, int i, int j)
{
    char path[64];
    snprintf(path, sizeof(path), "data.result[%d].values[%d][1]", i, j);
    return pvm_test_json_string(r->json, path);
}

static void test_json_shape1(void **state)
{
    (void)state;
    char keys[512];
    snprintf(keys, sizeof(keys), "url = file://%s/shape1.json\njq = %s", dir,
             JQ1);
    pvm_testkit *k = kit_ok(keys);
    pvm_test_response *r = pvm_testkit_range(k, "cpu{host=\"a\"}", 1700000000,
                                             1700000120, 60);
    assert_int_equal(r->status, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_string_equal(point(r, 0, 0), "1");
    assert_string_equal(point(r, 0, 1), "2");
    assert_string_equal(point(r, 0, 2), "3");
    pvm_test_response_free(r);
    expect_instant_value(k, "sum(cpu)", 1700000030, "11");
    /* fetched discovery */
    r = pvm_testkit_label_values(k, "host", NULL);
    assert_int_equal(r->status, 200);
    pvm_test_response_free(r);
    pvm_testkit_free(k);

    /* the same program from jq_file, the file from path */
    snprintf(keys, sizeof(keys),
             "path = %s/shape1.json\njq_file = %s/prog.jq\nmetrics = cpu\n"
             "labels = host",
             dir, dir);
    k = kit_ok(keys);
    r = pvm_testkit_range(k, "cpu", 1700000000, 1700000120, 60);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 2);
    pvm_test_response_free(r);
    r = pvm_testkit_label_names(k, NULL);
    assert_int_equal(pvm_test_json_length(r->json, "data"), 2);
    assert_string_equal(pvm_test_json_string(r->json, "data[1]"), "host");
    pvm_test_response_free(r);
    r = pvm_testkit_metric_names_opt(k, NULL);
    assert_string_equal(pvm_test_json_string(r->json, "data[0]"), "cpu");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_json_shape2(void **state)
{
    (void)state;
    char keys[512];
    snprintf(keys, sizeof(keys), "url = file://%s/shape2.json\njq = %s", dir,
             JQ2);
    pvm_testkit *k = kit_ok(keys);
    pvm_test_response *r = pvm_testkit_range(k, "temp", 1700000000, 1700000060,
                                             60);
    assert_int_equal(r->status, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 2);
    pvm_test_response_free(r);
    r = pvm_testkit_range(k, "temp{room=\"kitchen\"}", 1700000000, 1700000060,
                          60);
    assert_string_equal(point(r, 0, 0), "20.5");
    assert_string_equal(point(r, 0, 1), "21");
    pvm_test_response_free(r);
    /* null is a gap: the cellar has one point */
    r = pvm_testkit_instant(k, "count_over_time(temp[2m])", 1700000090);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 2);
    const char *c0 = pvm_test_json_string(r->json,
                                          "data.result[0].metric.room");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        strcmp(c0, "cellar") == 0 ? "1" : "2");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_jq_vars(void **state)
{
    (void)state;
    char keys[512];
    /* one sample at $end whose value is $step, labelled by $matchers */
    snprintf(
        keys, sizeof(keys),
        "url = file://%s/shape1.json\njq = {metric: \"v\", labels: "
        "{job: $matchers.job}, timestamp: $stop, value: ($stop - $start)}",
        dir);
    pvm_testkit *k = kit_ok(keys);
    pvm_test_response *r = pvm_testkit_range(k, "v{job=\"x\"}", 1700000000,
                                             1700000600, 600);
    assert_int_equal(r->status, 200);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.job"),
                        "x");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_csv(void **state)
{
    (void)state;
    char keys[512];
    snprintf(keys, sizeof(keys),
             "url = file://%s/data.csv\nformat = csv\ntimestamp_column = "
             "time\nvalue_columns = power kw=power_kw, temp=temp_c",
             dir);
    pvm_testkit *k = kit_ok(keys);
    pvm_test_response *r = pvm_testkit_range(k, "power_kw{site=\"so,uth\"}",
                                             1700000000, 1700000060, 60);
    assert_int_equal(r->status, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_string_equal(point(r, 0, 0), "2.5");
    pvm_test_response_free(r);
    /* the empty temp is a gap */
    r = pvm_testkit_range(k, "temp_c", 1700000000, 1700000060, 60);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    pvm_test_response_free(r);

    /* the file changes: it is read again */
    sleep(0);
    write_file("data.csv", "time,site,\"power kw\",temp\n"
                           "1700000000,north,7,20\n");
    r = pvm_testkit_range(k, "power_kw", 1700000000, 1700000060, 60);
    assert_string_equal(point(r, 0, 0), "7");
    pvm_test_response_free(r);
    write_file("data.csv", csv);
    pvm_testkit_free(k);

    /* columns by number, no header row */
    write_file("nohdr.csv", "1700000000;a;5\n1700000060;a;6\n");
    snprintf(
        keys, sizeof(keys),
        "path = %s/nohdr.csv\nformat = csv\nheader_row = no\n"
        "delimiter = semicolon\ntimestamp_column = 1\nvalue_columns = 3=x\n"
        "label_columns = 2=k",
        dir);
    k = kit_ok(keys);
    r = pvm_testkit_range(k, "x{k=\"a\"}", 1700000000, 1700000060, 60);
    assert_string_equal(point(r, 0, 1), "6");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

/* An error answer: status and a message naming the instance. */
static void expect_error(pvm_testkit *k, int status, const char *part)
{
    pvm_test_response *r = pvm_testkit_range(k, "cpu", 1700000000, 1700000120,
                                             60);
    const char *msg = pvm_test_json_string(r->json, "error");
    if (r->status != status)
        fail_msg("status %d: %s", r->status, r->body);
    assert_non_null(msg);
    if (!strstr(msg, "instance web") || !strstr(msg, part))
        fail_msg("message: %s", msg);
    pvm_test_response_free(r);
}

static void test_errors(void **state)
{
    (void)state;
    char keys[512], err[512] = "";
    /* a jq syntax error is a configuration error with jq's message */
    snprintf(keys, sizeof(keys), "url = file://%s/shape1.json\njq = .[ | x",
             dir);
    assert_null(kit(keys, err, sizeof(err)));
    if (!strstr(err, "jq: ") || !strstr(err, "syntax error"))
        fail_msg("%s", err);
    /* format = json without a program */
    snprintf(keys, sizeof(keys), "url = file://%s/shape1.json", dir);
    assert_null(kit(keys, err, sizeof(err)));
    /* a body without POST, jq for CSV */
    assert_null(
        kit("url = http://127.0.0.1:1/\nbody = x\njq = .", err, sizeof(err)));
    assert_non_null(strstr(err, "method = POST"));
    assert_null(kit("url = http://127.0.0.1:1/\nformat = csv\njq = .\n"
                    "timestamp_column = t\nvalue_columns = v",
                    err, sizeof(err)));
    assert_non_null(strstr(err, "format = json"));
    /* unknown placeholder */
    assert_null(kit("url = http://127.0.0.1:1/?from={begin}\njq = .", err,
                    sizeof(err)));
    assert_non_null(strstr(err, "{begin}"));

    snprintf(keys, sizeof(keys), "url = file://%s/bad.json\njq = .", dir);
    pvm_testkit *k = kit_ok(keys);
    expect_error(k, 422, "not valid JSON");
    pvm_testkit_free(k);

    const char *wrong[][2] = {
        {"{metric: \"cpu\", timestamp: 1700000000, value: [1]}", "value"},
        {"{metric: \"cpu\", timestamp: {}, value: 1}", "timestamp"},
        {"{metric: 5, timestamp: 1700000000, value: 1}", "metric"},
        {"{metric: \"cpu\", timestamp: 1700000000, value: \"x1\"}", "value"},
        {"{metric: \"cpu\", labels: {a: [1]}, timestamp: 1, value: 1}",
         "label 'a'"},
        {"{metric: \"cpu\", labels: {__x: \"1\"}, timestamp: 1, value: 1}",
         "reserved"},
        {"{metric: \"cpu\", labels: 3, timestamp: 1, value: 1}", "labels"},
        {"1", "not an object"},
        {"error(\"boom\")", "jq: boom"},
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        snprintf(keys, sizeof(keys), "url = file://%s/shape1.json\njq = %s",
                 dir, wrong[i][0]);
        k = kit_ok(keys);
        expect_error(k, 422, wrong[i][1]);
        pvm_testkit_free(k);
    }

    write_file("bad.csv", "time,v\n1700000000,1\n1700000060,\"x\"y\n");
    snprintf(keys, sizeof(keys),
             "path = %s/bad.csv\nformat = csv\ntimestamp_column = time\n"
             "value_columns = v=cpu",
             dir);
    k = kit_ok(keys);
    expect_error(k, 422, "line 3");
    pvm_testkit_free(k);
    /* a missing column */
    snprintf(keys, sizeof(keys),
             "path = %s/data.csv\nformat = csv\ntimestamp_column = when\n"
             "value_columns = temp=cpu",
             dir);
    k = kit_ok(keys);
    expect_error(k, 422, "timestamp_column 'when'");
    pvm_testkit_free(k);
    /* a missing file */
    snprintf(keys, sizeof(keys), "path = %s/none.json\njq = .", dir);
    k = kit_ok(keys);
    expect_error(k, 422, "none.json");
    pvm_testkit_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_shape1), cmocka_unit_test(test_json_shape2),
        cmocka_unit_test(test_jq_vars),     cmocka_unit_test(test_csv),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
