/* test_http_parts.c: the parts of the http plugin: the RFC 4180 reader
 * (csv_reader.c), RFC 3339 and sample times and the placeholders of url
 * and body (http_template.c), and the conversion of jq outputs to samples
 * (http_jq.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pvm/pvm.h>

#include "csv_reader.h"
#include "http_jq.h"
#include "http_plugin.h"

/* Reads all records of text, joined as "f1|f2;" per record, or the
 * error message. */
static const char *csv_all(const char *text, size_t len, char delim)
{
    static char out[1024];
    pvm_csv r;
    pvm_error err = {0};
    size_t n = 0;
    int rc;
    pvm_csv_init(&r, text, len, delim);
    out[0] = '\0';
    while ((rc = pvm_csv_next(&r, &err)) > 0)
        for (size_t i = 0; i < r.nf; i++)
            n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%c",
                                  pvm_csv_field(&r, i),
                                  i + 1 < r.nf ? '|' : ';');
    if (rc < 0)
        snprintf(out, sizeof(out), "ERR %s", err.msg);
    pvm_csv_free(&r);
    return out;
}

#define CSV(s) csv_all(s, sizeof(s) - 1, ',')

static void test_csv_reader(void **state)
{
    (void)state;
    assert_string_equal(CSV("a,b\r\nc,d\r\n"), "a|b;c|d;");
    assert_string_equal(CSV("a,b\nc,d"), "a|b;c|d;");
    assert_string_equal(CSV("\xEF\xBB\xBFx\n\n\ny\n"), "x;y;");
    assert_string_equal(CSV("\"a,b\",\"c\"\"d\"\n"), "a,b|c\"d;");
    assert_string_equal(CSV("\"multi\nline\",x\n"), "multi\nline|x;");
    assert_string_equal(CSV("a,,\n"), "a||;");
    assert_string_equal(CSV(",\n"), "|;");
    assert_string_equal(CSV("\"\"\n"), ";");
    assert_string_equal(CSV(""), "");
    assert_string_equal(CSV("a\rb,c\n"), "a\rb|c;");
    assert_string_equal(csv_all("a;b\tc\n", 6, ';'), "a|b\tc;");
    /* hostile input */
    assert_string_equal(CSV("a,\"open\n\n"),
                        "ERR line 1: a quoted field is not closed");
    assert_string_equal(CSV("x\n\"a\"b,c\n"),
                        "ERR line 2: text after the closing quote of a field");
    assert_non_null(strstr(CSV("a\"b\n"), "a quote inside an unquoted"));
    assert_string_equal(csv_all("a,\0b\n", 5, ','), "ERR line 1: a NUL byte");
    char many[3 * PVM_CSV_MAX_FIELDS + 8];
    memset(many, ',', sizeof(many));
    assert_non_null(strstr(csv_all(many, sizeof(many), ','), "fields"));
    /* line numbers count the line breaks inside quotes */
    assert_string_equal(CSV("\"a\nb\"\n\"c\"x\n"),
                        "ERR line 3: text after the closing quote of a field");
}

static void test_times(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(pvm_http_rfc3339_parse("2023-11-14T22:13:20Z", 20, &ms),
                     0);
    assert_int_equal(ms, 1700000000000);
    const char *t = "2023-11-14T23:13:20.5+01:00";
    assert_int_equal(pvm_http_rfc3339_parse(t, strlen(t), &ms), 0);
    assert_int_equal(ms, 1700000000500);
    t = "1969-12-31 23:59:59.001z";
    assert_int_equal(pvm_http_rfc3339_parse(t, strlen(t), &ms), 0);
    assert_int_equal(ms, -999);
    const char *bad[] = {"2023-13-01T00:00:00Z",  "2023-11-14T22:13:20",
                         "2023-11-14T22:13:20.Z", "2023-02-30T00:00:00Z",
                         "2023-11-14T22:13:20Zx", "20231114T221320Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(pvm_http_rfc3339_parse(bad[i], strlen(bad[i]), &ms),
                         PVM_ERR_BAD_DATA);
    char buf[40];
    pvm_http_rfc3339_format(1700000000000, buf, sizeof(buf));
    assert_string_equal(buf, "2023-11-14T22:13:20Z");
    pvm_http_rfc3339_format(-999, buf, sizeof(buf));
    assert_string_equal(buf, "1969-12-31T23:59:59.001Z");
    pvm_http_rfc3339_format(951782400123, buf, sizeof(buf));
    assert_string_equal(buf, "2000-02-29T00:00:00.123Z");
    /* sample times as text and numbers */
    assert_int_equal(pvm_http_time_text(" 1700000000.5 ", 14, false, &ms), 0);
    assert_int_equal(ms, 1700000000500);
    assert_int_equal(pvm_http_time_text("1700000000500", 13, true, &ms), 0);
    assert_int_equal(ms, 1700000000500);
    assert_int_equal(pvm_http_time_text("x", 1, false, &ms), PVM_ERR_BAD_DATA);
    assert_int_equal(pvm_http_time_text("", 0, false, &ms), PVM_ERR_BAD_DATA);
    assert_int_equal(pvm_http_time_number(1.0 / 0.0, false, &ms),
                     PVM_ERR_BAD_DATA);
}

static void test_templates(void **state)
{
    (void)state;
    pvm_error err = {0};
    assert_int_equal(
        pvm_http_template_check("http://h/?a={start}&b={end_ms}&c={step}&"
                                "d={start_rfc3339}&e={matcher.job}",
                                &err),
        0);
    /* JSON braces are text */
    assert_int_equal(pvm_http_template_check("{\"q\": {\"from\": {start}}}",
                                             &err),
                     0);
    assert_int_equal(pvm_http_template_check("x{strat}", &err),
                     PVM_ERR_BAD_DATA);
    assert_non_null(strstr(err.msg, "{strat}"));
    assert_int_equal(pvm_http_template_check("{matcher.a-b}", &err), 0);
    assert_int_equal(pvm_http_template_check("{matcher.1a}", &err),
                     PVM_ERR_BAD_DATA);
    pvm_arena *a = pvm_arena_new(0);
    pvm_http_vars v = {1700000000000, 1700000060500, 15000, NULL};
    assert_string_equal(
        pvm_http_expand(a,
                        "/q?s={start}&e={end}&ems={end_ms}&st={step}&"
                        "r={start_rfc3339}&m={matcher.job}&{x",
                        &v),
        "/q?s=1700000000&e=1700000060.500&ems=1700000060500&st=15&"
        "r=2023-11-14T22:13:20Z&m=&{x");
    assert_string_equal(pvm_http_expand(a, "{\"from\": {start}}", &v),
                        "{\"from\": 1700000000}");
    /* a long template grows its buffer */
    char big[4000];
    memset(big, 'x', sizeof(big) - 8);
    strcpy(big + sizeof(big) - 8, "{end}");
    assert_int_equal(strlen(pvm_http_expand(a, big, &v)),
                     sizeof(big) - 8 + 14);
    pvm_arena_free(a);
}

/* A sink recording "name{l=v,...} t v;" */
struct rec {
    pvm_http_sink base;
    char out[1024];
    size_t n;
};

static int rec_add(pvm_http_sink *self, const char *name,
                   const pvm_label *labels, size_t nl, int64_t t, double v,
                   pvm_error *err)
{
    (void)err;
    struct rec *r = (struct rec *)self;
    r->n += (size_t)snprintf(r->out + r->n, sizeof(r->out) - r->n, "%s{",
                             name);
    for (size_t i = 0; i < nl; i++)
        r->n += (size_t)snprintf(r->out + r->n, sizeof(r->out) - r->n,
                                 "%s=%s,", labels[i].name, labels[i].value);
    r->n += (size_t)snprintf(r->out + r->n, sizeof(r->out) - r->n,
                             "} %lld %g;", (long long)t, v);
    return 0;
}

static const char *convert(const char *text, bool ms)
{
    static struct rec r;
    static char msg[600];
    r = (struct rec){{rec_add}, "", 0};
    pvm_error err = {0};
    if (pvm_http_jq_convert_text(text, strlen(text), ms, &r.base, &err) < 0) {
        snprintf(msg, sizeof(msg), "ERR %s", err.msg);
        return msg;
    }
    return r.out;
}

static void test_jq_conversion(void **state)
{
    (void)state;
    assert_string_equal(
        convert("{\"metric\":\"a\",\"labels\":{\"x\":\"1\",\"n\":2,"
                "\"b\":true,\"z\":null,\"e\":\"\"},\"timestamp\":1,"
                "\"value\":\"2.5\"}",
                false),
        "a{x=1,n=2,b=true,} 1000 2.5;");
    assert_string_equal(convert("{\"metric\":\"a\",\"timestamp\":1500,"
                                "\"value\":1} {\"metric\":\"b\","
                                "\"timestamp\":\"1970-01-01T00:00:02Z\","
                                "\"value\":\"NaN\"}",
                                true),
                        "a{} 1500 1;b{} 2000 nan;");
    /* null values are gaps */
    assert_string_equal(convert("{\"metric\":\"a\",\"timestamp\":1,"
                                "\"value\":null}",
                                false),
                        "");
    assert_string_equal(convert("{\"metric\":\"a b\",\"timestamp\":1,"
                                "\"value\":1}",
                                false),
                        "ERR jq output #1: metric must be a metric name "
                        "string, not string");
    assert_string_equal(convert("{\"metric\":\"a\",\"value\":1}", false),
                        "ERR jq output #1: timestamp must be a number (unix "
                        "seconds) or an RFC 3339 string, not missing");
    assert_string_equal(
        convert("{\"metric\":\"a\",\"timestamp\":1,\"value\":true}", false),
        "ERR jq output #1: value must be a number or a numeric string, not "
        "boolean");
    assert_non_null(strstr(convert("[1]", false), "is array, not an object"));
    assert_non_null(strstr(convert("{\"metric\":\"a\",\"timestamp\":1,"
                                   "\"value\":1,\"labels\":{\"a\":"
                                   "\"x\\u0000y\"}}",
                                   false),
                           "NUL"));
    assert_non_null(strstr(convert("{\"metric\":\"a\",\"timestamp\":1e300,"
                                   "\"value\":1}",
                                   false),
                           "timestamp"));
}

static void test_jq_compile(void **state)
{
    (void)state;
    pvm_error err = {0};
    pvm_http_jq *j = pvm_http_jq_compile(". | {", &err);
    assert_null(j);
    assert_non_null(strstr(err.msg, "jq: "));
    assert_null(pvm_http_jq_compile("$nope", &err));
    assert_non_null(strstr(err.msg, "$nope"));
    /* comments and defs of the user's program survive the wrapper */
    j = pvm_http_jq_compile("def f: {metric: \"m\", timestamp: $start, "
                            "value: $step};\nf # a comment",
                            &err);
    assert_non_null(j);
    struct rec r = {{rec_add}, "", 0};
    pvm_http_jq_vars v = {60000, 120000, 15000, NULL};
    assert_int_equal(pvm_http_jq_run(j, "null", 4, &v, false, &r.base, &err),
                     0);
    assert_string_equal(r.out, "m{} 60000 15;");
    assert_int_equal(pvm_http_jq_run(j, "[1,", 3, &v, false, &r.base, &err),
                     PVM_ERR_EXECUTION);
    assert_non_null(strstr(err.msg, "not valid JSON"));
    pvm_http_jq_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_reader),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_jq_conversion),
        cmocka_unit_test(test_jq_compile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
