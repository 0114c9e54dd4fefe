/* test_prometheus_core.c: the prometheus plugin's text module
 * (plugins/prometheus_core.h) without any upstream: quoting, selectors
 * printed from a parsed query and read back by pvm's own PromQL parser
 * with the same bytes (quotes, backslashes, control bytes, UTF-8 and
 * invalid UTF-8), external-label matchers left to pvm, the window of the
 * raw-sample query, the `match` selector parser, and the JSON answers:
 * matrix and vector results, strings, label sets, warnings, error
 * envelopes and malformed answers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pvm/arena.h>

#include "prometheus_core.h"
#include "query_impl.h"

/* ---- quoting and printing --------------------------------------------- */

static char *quoted(const char *s)
{
    static char out[512];
    pvm_prom_buf b = {0};
    pvm_prom_quote(&b, s);
    assert_false(b.failed);
    snprintf(out, sizeof(out), "%s", b.p);
    pvm_prom_buf_free(&b);
    return out;
}

static void test_quote(void **state)
{
    (void)state;
    assert_string_equal(quoted(""), "\"\"");
    assert_string_equal(quoted("plain"), "\"plain\"");
    assert_string_equal(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
    assert_string_equal(quoted("l1\nl2\tx\r"), "\"l1\\nl2\\tx\\r\"");
    assert_string_equal(quoted("\x01\x7f"), "\"\\x01\\x7f\"");
    /* valid UTF-8 as it is, invalid bytes escaped one by one */
    assert_string_equal(quoted("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
                        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    assert_string_equal(quoted("\xff\xc3("), "\"\\xff\\xc3(\"");
    assert_string_equal(quoted("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");
    assert_string_equal(quoted("\xc0\xaf"), "\"\\xc0\\xaf\"");
    assert_string_equal(quoted("`'"), "\"`'\"");
}

/* The selector printed for the first selector of expr, restricted by
 * filter (text, or NULL), with external label names ext (or NULL). */
static char *upstream(const char *expr, const char *filter, const char *ext)
{
    static char out[1024];
    pvm_arena *a = pvm_arena_new(0);
    pvm_error err = {0};
    pvm_query *q = pvm_query_parse(a, expr, &err);
    if (!q)
        fail_msg("%s: %s", expr, err.msg);
    pvm_prom_selector f = {0};
    if (filter)
        assert_int_equal(pvm_prom_selector_parse(filter, strlen(filter), &f,
                                                 &err),
                         0);
    pvm_label e[] = {{ext, "x"}};
    pvm_prom_buf b = {0};
    pvm_prom_upstream_selector(&b, pvm_query_selector(q, 0),
                               filter ? &f : NULL, e, ext ? 1 : 0);
    assert_false(b.failed);
    snprintf(out, sizeof(out), "%s", b.p);
    pvm_prom_buf_free(&b);
    pvm_prom_selector_free(&f);
    pvm_arena_free(a);
    return out;
}

static void test_upstream_selector(void **state)
{
    (void)state;
    assert_string_equal(upstream("up", NULL, NULL), "{__name__=\"up\"}");
    assert_string_equal(upstream("rate(up{job=~\"a.*\",i!=\"\"}[5m])", NULL,
                                 NULL),
                        "{job=~\"a.*\",i!=\"\",__name__=\"up\"}");
    /* no equality with a value: the guard Prometheus needs */
    assert_string_equal(upstream("{job=~\"a.+\"}", NULL, NULL),
                        "{job=~\"a.+\",__name__=~\".+\"}");
    /* a matcher on an external label is pvm's to check */
    assert_string_equal(upstream("up{source=\"p1\",job=\"a\"}", NULL,
                                 "source"),
                        "{job=\"a\",__name__=\"up\"}");
    assert_string_equal(upstream("{source=\"p1\"}", NULL, "source"),
                        "{__name__=~\".+\"}");
    /* the filter's matchers are added */
    assert_string_equal(upstream("up", "{job=\"node\"}", NULL),
                        "{__name__=\"up\",job=\"node\"}");
    assert_string_equal(upstream("{a=~\"x\"}", "{b!=\"\"}", NULL),
                        "{a=~\"x\",b!=\"\",__name__=~\".+\"}");
}

/* Hostile values: printed, they parse back in pvm's PromQL parser as the
 * same bytes (the upstream runs the same Go grammar). */
static void test_round_trip_through_promql(void **state)
{
    (void)state;
    static const char *const values[] = {
        "",
        "a\"b",
        "back\\slash",
        "\\\"",
        "nl\nx",
        "tab\there",
        "\x01\x1f\x7f",
        "\xc3\xa9t\xc3\xa9",
        "\xe2\x82\xac",
        "\xf0\x9f\x98\x80",
        "`'",
        "}{,=~",
        "\xff",
        "\xc3",
        "a\xed\xa0\x80"
        "b",
        "$(rm -rf)",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        pvm_prom_matcher m[] = {{"__name__", PVM_MATCH_EQUAL, "m"},
                                {"lbl", PVM_MATCH_NOT_EQUAL, values[i]},
                                {"utf8.name\xc3\xa9", PVM_MATCH_EQUAL, "v"}};
        pvm_prom_buf b = {0};
        pvm_prom_print_selector(&b, m, 3);
        assert_false(b.failed);
        pvm_arena *a = pvm_arena_new(0);
        pvm_error err = {0};
        pvm_query *q = pvm_query_parse(a, b.p, &err);
        if (!q)
            fail_msg("value %zu: %s: %s", i, b.p, err.msg);
        const pvm_selector *s = pvm_query_selector(q, 0);
        assert_int_equal(pvm_selector_matcher_count(s), 3);
        bool found = false, found_utf8 = false;
        for (size_t k = 0; k < 3; k++) {
            const char *name, *value;
            pvm_match_op op;
            pvm_selector_matcher(s, k, &name, &op, &value);
            if (strcmp(name, "lbl") == 0) {
                assert_int_equal(op, PVM_MATCH_NOT_EQUAL);
                if (strcmp(value, values[i]) != 0)
                    fail_msg("value %zu came back different: %s", i, b.p);
                found = true;
            }
            found_utf8 |= strcmp(name, "utf8.name\xc3\xa9") == 0;
        }
        assert_true(found && found_utf8);
        /* and in the plugin's own selector parser */
        pvm_prom_selector back;
        assert_int_equal(pvm_prom_selector_parse(b.p, b.len, &back, &err), 0);
        assert_int_equal(back.n, 3);
        assert_string_equal(back.m[1].value, values[i]);
        pvm_prom_selector_free(&back);
        pvm_arena_free(a);
        pvm_prom_buf_free(&b);
    }
}

static void test_window_and_time(void **state)
{
    (void)state;
    char t[32];
    assert_string_equal(pvm_prom_format_time(t, sizeof(t), 1700000000123),
                        "1700000000.123");
    assert_string_equal(pvm_prom_format_time(t, sizeof(t), 5), "0.005");
    assert_string_equal(pvm_prom_format_time(t, sizeof(t), -1500), "-1.500");
    assert_string_equal(pvm_prom_format_time(t, sizeof(t), INT64_MIN),
                        "-9223372036854775.808");
    pvm_prom_buf b = {0};
    pvm_prom_window(&b, 1000, 1000);
    pvm_prom_window(&b, 0, 300000);
    assert_string_equal(b.p, "[1ms][300001ms]");
    pvm_prom_buf_free(&b);
}

/* ---- the selector parser ------------------------------------------------ */

static int parse(const char *text, pvm_prom_selector *s, pvm_error *err)
{
    memset(err, 0, sizeof(*err));
    return pvm_prom_selector_parse(text, strlen(text), s, err);
}

static void test_selector_parse(void **state)
{
    (void)state;
    pvm_prom_selector s;
    pvm_error err;
    assert_int_equal(parse(" job:up:rate5m { a = \"x\" , b!~'y\\'z',"
                           " c=~`\\d+`, \"q.n\"!=\"\\u00e9\\x41\\101\" , } ",
                           &s, &err),
                     0);
    assert_int_equal(s.n, 5);
    assert_string_equal(s.m[0].name, "__name__");
    assert_string_equal(s.m[0].value, "job:up:rate5m");
    assert_string_equal(s.m[2].value, "y'z");
    assert_int_equal(s.m[2].op, PVM_MATCH_NOT_REGEX);
    assert_string_equal(s.m[3].value, "\\d+");
    assert_string_equal(s.m[4].name, "q.n");
    assert_string_equal(s.m[4].value, "\xc3\xa9"
                                      "AA");
    pvm_prom_selector_free(&s);

    static const char *const bad[] = {
        "",
        "{}",
        "up{",
        "up{a=}",
        "up{a=\"x}",
        "up{a~\"x\"}",
        "up[5m]",
        "rate(up)",
        "up{a=\"\\q\"}",
        "{a=\"\\x0\"}",
        "{a=\"\\u0000\"}",
        "{a=\"\\ud800\"}",
        "{a=\"\\400\"}",
        "{a=\"x\ny\"}",
        "{=\"x\"}",
        "up{a=\"x\"} or b",
        "{\"\"=\"x\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse(bad[i], &s, &err) != PVM_ERR_BAD_DATA)
            fail_msg("'%s' parsed", bad[i]);
        assert_true(err.msg[0] != '\0');
    }
    /* a NUL byte inside the text */
    assert_int_equal(pvm_prom_selector_parse("{a=\"x\0y\"}", 9, &s, &err),
                     PVM_ERR_BAD_DATA);
}

/* ---- JSON answers ------------------------------------------------------- */

struct got {
    char text[2048]; /* everything delivered, one line per call */
    int stop_at;     /* stop (return -99) at this call, 0 never */
    int calls;
};

static int note(struct got *g, const char *fmt, ...) PVM_PRINTF(2, 3);
static int note(struct got *g, const char *fmt, ...)
{
    size_t n = strlen(g->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->text + n, sizeof(g->text) - n, fmt, ap);
    va_end(ap);
    return ++g->calls == g->stop_at ? -99 : 0;
}

static int on_series(void *arg, const char *name, const pvm_label *l, size_t n)
{
    char buf[256] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s=%s;",
                 l[i].name, l[i].value);
    return note(arg, "S %s %s\n", name ? name : "-", buf);
}

static int on_point(void *arg, int64_t t, double v)
{
    return note(arg, "P %lld %g\n", (long long)t, v);
}

static int on_value(void *arg, const char *s)
{
    return note(arg, "V %s\n", s);
}

static int on_labelset(void *arg, const pvm_label *l, size_t n)
{
    char buf[256] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s=%s;",
                 l[i].name, l[i].value);
    return note(arg, "L %s\n", buf);
}

static int on_warning(void *arg, const char *s, bool info)
{
    return note(arg, "%s %s\n", info ? "I" : "W", s);
}

static int answer(const char *body, pvm_prom_answer kind, struct got *g,
                  pvm_error *err)
{
    pvm_prom_sink sink = {on_series,  on_point, on_value, on_labelset,
                          on_warning, g,        0};
    memset(err, 0, sizeof(*err));
    int rc = pvm_prom_parse_answer(body, strlen(body), kind, &sink, err);
    if (sink.histograms)
        note(g, "H %zu\n", sink.histograms);
    return rc;
}

static void test_answer_matrix(void **state)
{
    (void)state;
    struct got g = {0};
    pvm_error err;
    assert_int_equal(
        answer("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
               "\"result\":[{\"metric\":{\"__name__\":\"up\",\"job\":\"a\"},"
               "\"values\":[[1700000000.123,\"1\"],[1700000015,\"NaN\"],"
               "[1700000030.5,\"-Inf\"]]},{\"metric\":{\"x\":\"\\u00e9\"},"
               "\"values\":[]}]},\"warnings\":[\"careful\"],\"infos\":"
               "[\"fyi\"]}\n",
               PVM_PROM_ANSWER_QUERY, &g, &err),
        0);
    assert_string_equal(g.text, "S up job=a;\n"
                                "P 1700000000123 1\n"
                                "P 1700000015000 nan\n"
                                "P 1700000030500 -inf\n"
                                "S - x=\xc3\xa9;\n"
                                "W careful\n"
                                "I fyi\n");
    /* a vector, and native histograms counted, not delivered */
    memset(&g, 0, sizeof(g));
    assert_int_equal(
        answer("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
               "\"result\":[{\"metric\":{},\"value\":[2,\"3.5e3\"]},"
               "{\"metric\":{\"h\":\"1\"},\"histogram\":[2,{}]}]}}",
               PVM_PROM_ANSWER_QUERY, &g, &err),
        0);
    assert_string_equal(g.text, "S - \nP 2000 3500\nS - h=1;\nH 1\n");
    /* a callback stops the reading with its status */
    memset(&g, 0, sizeof(g));
    g.stop_at = 2;
    assert_int_equal(
        answer("{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
               "\"result\":[{\"metric\":{},\"values\":[[1,\"1\"],[2,\"2\"]]}"
               "]}}",
               PVM_PROM_ANSWER_QUERY, &g, &err),
        -99);
    assert_string_equal(g.text, "S - \nP 1000 1\n");
}

static void test_answer_discovery(void **state)
{
    (void)state;
    struct got g = {0};
    pvm_error err;
    assert_int_equal(answer("{\"status\":\"success\",\"data\":[\"a\",\"b\"]}",
                            PVM_PROM_ANSWER_STRINGS, &g, &err),
                     0);
    assert_string_equal(g.text, "V a\nV b\n");
    memset(&g, 0, sizeof(g));
    assert_int_equal(answer("{\"status\":\"success\",\"data\":[{\"__name__\":"
                            "\"up\",\"j\":\"x\"},{}]}",
                            PVM_PROM_ANSWER_SERIES, &g, &err),
                     0);
    assert_string_equal(g.text, "L __name__=up;j=x;\nL \n");
}

static void test_answer_errors(void **state)
{
    (void)state;
    struct got g = {0};
    pvm_error err;
    assert_int_equal(answer("{\"status\":\"error\",\"errorType\":"
                            "\"bad_data\",\"error\":\"1:3: parse error\"}",
                            PVM_PROM_ANSWER_QUERY, &g, &err),
                     PVM_ERR_PLUGIN);
    assert_string_equal(err.msg, "bad_data: 1:3: parse error");
    assert_int_equal(answer("{\"status\":\"error\",\"errorType\":\"timeout\","
                            "\"error\":\"query timed out\"}",
                            PVM_PROM_ANSWER_QUERY, &g, &err),
                     PVM_ERR_TIMEOUT);
    static const struct {
        const char *body;
        pvm_prom_answer kind;
        const char *msg; /* a part of the message */
    } bad[] = {
        {"", PVM_PROM_ANSWER_QUERY, "not JSON (it ends early)"},
        {"<html>502</html>", PVM_PROM_ANSWER_QUERY, "'<html>502</html>'"},
        {"{\"status\":\"success\"} x", PVM_PROM_ANSWER_QUERY, "text after"},
        {"[1]", PVM_PROM_ANSWER_QUERY, "no \"status\""},
        {"{\"status\":\"success\"}", PVM_PROM_ANSWER_QUERY, "no \"data\""},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
         "\"result\":[1,\"1\"]}}",
         PVM_PROM_ANSWER_QUERY, "not a matrix"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
         "\"result\":[{\"metric\":{\"a\":1},\"values\":[]}]}}",
         PVM_PROM_ANSWER_QUERY, "not a string"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
         "\"result\":[{\"metric\":{\"a\":\"x\\u0000y\"},\"values\":[]}]}}",
         PVM_PROM_ANSWER_QUERY, "NUL"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
         "\"result\":[{\"metric\":{},\"values\":[[1,\"abc\"]]}]}}",
         PVM_PROM_ANSWER_QUERY, "value is not a number"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
         "\"result\":[{\"metric\":{},\"values\":[[\"1\",\"1\"]]}]}}",
         PVM_PROM_ANSWER_QUERY, "time is not a number"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
         "\"result\":[{\"metric\":{},\"values\":[[1e300,\"1\"]]}]}}",
         PVM_PROM_ANSWER_QUERY, "out of range"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
         "\"result\":[{\"metric\":{},\"values\":[[1]]}]}}",
         PVM_PROM_ANSWER_QUERY, "[time, \"value\"]"},
        {"{\"status\":\"success\",\"data\":[\"a\",null]}",
         PVM_PROM_ANSWER_STRINGS, "array of strings"},
        {"{\"status\":\"success\",\"data\":[[]]}", PVM_PROM_ANSWER_SERIES,
         "not an object"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
         "]]]",
         PVM_PROM_ANSWER_QUERY, "not JSON"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&g, 0, sizeof(g));
        int rc = answer(bad[i].body, bad[i].kind, &g, &err);
        if (rc != PVM_ERR_PLUGIN || !strstr(err.msg, bad[i].msg))
            fail_msg("answer %zu: %d '%s', expected '%s'", i, rc, err.msg,
                     bad[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_upstream_selector),
        cmocka_unit_test(test_round_trip_through_promql),
        cmocka_unit_test(test_window_and_time),
        cmocka_unit_test(test_selector_parse),
        cmocka_unit_test(test_answer_matrix),
        cmocka_unit_test(test_answer_discovery),
        cmocka_unit_test(test_answer_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
