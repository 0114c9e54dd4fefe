/* test_promql_print.c: the pretty-printer writes Prometheus' canonical
 * text, and print -> parse gives back the same AST. */
#include "test_promql_util.h"

/* Input and its canonical form. */
static const struct {
    const char *in;  /* query as written */
    const char *out; /* pvm_promql_format */
} cases[] = {
    {"sum(rate(x[5m])) by (a)", "sum by (a) (rate(x[5m]))"},
    {"SUM WITHOUT(a,b)(x)", "sum without (a, b) (x)"},
    {"sum by () (x)", "sum(x)"},
    {"sum without () (x)", "sum without () (x)"},
    {"topk(5,x)", "topk(5, x)"},
    {"count_values('v',x)", "count_values(\"v\", x)"},
    {"x[90m]", "x[1h30m]"},
    {"x[300]", "x[5m]"},
    {"x[1.5]", "x[1s500ms]"},
    {"x[14d]", "x[2w]"},
    {"x[15d]", "x[15d]"},
    {"x[365d]", "x[1y]"},
    {"x[366d]", "x[366d]"},
    {"x[1y1d]", "x[366d]"},
    {"x offset 1h30m", "x offset 1h30m"},
    {"x offset -90", "x offset -1m30s"},
    {"x @ 100", "x @ 100.000"},
    {"x @ 1.5 offset 1m", "x @ 1.500 offset 1m"},
    {"x offset 1m @ -1.5", "x @ -1.500 offset 1m"},
    {"x[5m] offset 1m @ start()", "x[5m] @ start() offset 1m"},
    {"x[1h:] @ end()", "x[1h:] @ end()"},
    {"rate(x[5m])[30m:1m] offset 1h", "rate(x[5m])[30m:1m] offset 1h"},
    {"foo{b=\"1\",a=~\"2\",c!=\"3\",d!~'4'}",
     "foo{a=~\"2\",b=\"1\",c!=\"3\",d!~\"4\"}"},
    {"{\"my.metric\",\"l.n\"=\"v\"}",
     "{\"l.n\"=\"v\",__name__=\"my.metric\"}"},
    {"{__name__=\"x\"}", "{__name__=\"x\"}"},
    {"foo{a=`\\n`}", "foo{a=\"\\\\n\"}"},
    {"\"\\x41\\t\\u00e9\"", "\"A\\té\""},
    {"\"\\x00\\x7f\\xff\"", "\"\\x00\\x7f\\xff\""},
    {"1", "1"},
    {"1.50", "1.5"},
    {"1e3", "1000"},
    {"1e21", "1000000000000000000000"},
    {"1e-7", "0.0000001"},
    {"0x10", "16"},
    {"-1", "-1"},
    {"- -1", "1"},
    {"+Inf", "+Inf"},
    {"-inf", "-Inf"},
    {"nan", "NaN"},
    {"0.1+0.2", "0.1 + 0.2"},
    {"5m", "5m"},
    {"-5m", "-5m"},
    {"a+b*c", "a + b * c"},
    {"(a+b)*c", "(a + b) * c"},
    {"a>bool b", "a > bool b"},
    {"a/on(b)group_left(c)d", "a / on (b) group_left (c) d"},
    {"a/on(b)group_right d", "a / on (b) group_right () d"},
    {"a*ignoring(b)c", "a * ignoring (b) c"},
    {"a*ignoring()c", "a * c"},
    {"a and on() b", "a and on () b"},
    {"1 + on() x", "1 + x"},
    {"-x", "-x"},
    {"-(1)", "-(1)"},
    {"-x^2", "-x ^ 2"},
    {"sum by (\"a.b\", c) (x)", "sum by (\"a.b\", c) (x)"},
    {"sum by (a:b) (x)", "sum by (\"a:b\") (x)"},
    {"label_join(x,\"a\",\",\",\"b\")", "label_join(x, \"a\", \",\", \"b\")"},
    {"time()", "time()"},
    {"a # comment\n+ b", "a + b"},
};

static void test_canonical(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pvm_expr *e = parse_ok(*state, cases[i].in);
        const char *s = roundtrip(*state, e);
        if (strcmp(s, cases[i].out) != 0)
            fail_msg("%s printed as %s, want %s", cases[i].in, s,
                     cases[i].out);
    }
}

/* Numbers print in the shortest form that reads back exactly. */
static void test_number_roundtrip(void **state)
{
    static const double values[] = {
        0.1,      1.0 / 3,
        2.5e-300, 1.7976931348623157e308,
        4.9e-324, 123456789.123456789,
        -0.0,     9007199254740993.0,
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char q[64];
        snprintf(q, sizeof(q), "%.17g", values[i]);
        pvm_expr *e = parse_ok(*state, q);
        roundtrip(*state, e);
    }
}

/* The equality used by the round trips notices differences. */
static void test_equal(void **state)
{
    static const char *const pairs[][2] = {
        {"a{x=\"1\"}", "a{x=\"2\"}"},
        {"a{x=\"1\"}", "a{x!=\"1\"}"},
        {"a", "b"},
        {"a offset 1m", "a offset 2m"},
        {"a @ 1", "a @ 2"},
        {"a[1m]", "a[2m]"},
        {"a[1m:]", "a[1m:1m]"},
        {"1", "2"},
        {"5m", "300"},
        {"sum(a)", "avg(a)"},
        {"sum by (x) (a)", "sum without (x) (a)"},
        {"a + b", "a - b"},
        {"a > b", "a > bool b"},
        {"a + on(x) b", "a + ignoring(x) b"},
        {"rate(a[1m])", "irate(a[1m])"},
        {"(a)", "a"},
        {"-a", "+a"},
        {"\"a\"", "\"b\""},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        pvm_expr *a = parse_ok(*state, pairs[i][0]);
        pvm_expr *b = parse_ok(*state, pairs[i][1]);
        if (pvm_expr_equal(a, b))
            fail_msg("%s == %s", pairs[i][0], pairs[i][1]);
        assert_true(pvm_expr_equal(a, a));
    }
    assert_true(pvm_expr_equal(parse_ok(*state, "a{x=\"1\",y=\"2\"}"),
                               parse_ok(*state, "a{y=\"2\",x=\"1\"}")));
    assert_true(
        pvm_expr_equal(parse_ok(*state, "NaN"), parse_ok(*state, "nan")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)
        T(test_canonical),
        T(test_number_roundtrip),
        T(test_equal),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
