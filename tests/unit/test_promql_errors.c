/* test_promql_errors.c: every syntax and type error of the PromQL parser
 * gives Prometheus' message, "line:col: parse error: ..." in err->msg, code
 * PVM_ERR_BAD_DATA and the byte position in err->pos. */
#include "test_promql_util.h"

/* Query and the complete expected message; the position is checked
 * against the column of the message (single-line queries). */
static const struct {
    const char *q;   /* query */
    const char *msg; /* expected err->msg */
} cases[] = {
    {"", "unknown position: parse error: no expression found in input"},
    {"   ", "1:1: parse error: no expression found in input"},
    {"foo{a=}",
     "1:7: parse error: unexpected \"}\" in label matching, expected string"},
    {"foo{a=\"b\" c}",
     "1:11: parse error: unexpected identifier \"c\" in label matching, expected \",\" or \"}\""},
    {"foo{a}",
     "1:6: parse error: unexpected \"}\" in label matching, expected label matching operator"},
    {"foo{=}",
     "1:5: parse error: unexpected \"=\" in label matching, expected identifier or \"}\""},
    {"foo{a=\"b\"",
     "1:10: parse error: unexpected end of input inside braces"},
    {"foo{", "1:5: parse error: unexpected end of input inside braces"},
    {"{}",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{a=\"\"}",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{a=~\".*\"}",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{a!=\"x\"}",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"foo{__name__=\"bar\"}",
     "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
    {"foo{\"bar\"}",
     "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
    {"x{a=~\"a(\"}",
     "1:3: parse error: invalid regular expression \"a(\": missing closing )"},
    {"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
    /* quoted label names with a NUL byte (names are C strings) */
    {"sum by (\"a\\x00b\") (x)",
     "1:9: parse error: invalid label name for grouping: \"a\\x00b\""},
    {"x{\"a\\x00b\"=\"c\"}",
     "1:3: parse error: invalid label name: contains a NUL byte"},
    {"1 2", "1:3: parse error: unexpected number \"2\""},
    {"(1))", "1:5: parse error: unexpected right parenthesis ')'"},
    {"((1)", "1:5: parse error: unclosed left parenthesis"},
    {"sum(foo", "1:8: parse error: unclosed left parenthesis"},
    {"foo[5m", "1:7: parse error: unclosed left bracket"},
    {"foo[]",
     "1:5: parse error: unexpected \"]\" in subquery or range selector, expected number, duration, step(), or range()"},
    {"foo[5m 1m]",
     "1:8: parse error: unexpected duration \"1m\" in subquery or range, expected \":\" or \"]\""},
    {"foo[5m:1m 2]",
     "1:11: parse error: unexpected number \"2\" in subquery selector, expected \"]\""},
    {"foo[:5m]",
     "1:6: parse error: unexpected colon before duration in duration expression"},
    {"foo[5m::]", "1:8: parse error: unexpected colon ':'"},
    {"foo[-5m]", "1:5: parse error: duration must be greater than 0"},
    {"foo[0]", "1:5: parse error: duration must be greater than 0"},
    {"foo[0.0001]", "1:5: parse error: duration must be greater than 0"},
    {"foo[5m+1m]",
     "1:7: parse error: experimental duration expression is not enabled"},
    {"foo[step()]",
     "1:5: parse error: experimental duration expression is not enabled"},
    {"foo[x]",
     "1:5: parse error: unexpected character in duration expression: 'x'"},
    {"(foo)[5m]",
     "1:6: parse error: ranges only allowed for vector selectors"},
    {"sum(foo)[5m]",
     "1:9: parse error: ranges only allowed for vector selectors"},
    {"foo[5m][5m]",
     "1:8: parse error: ranges only allowed for vector selectors"},
    {"foo[5m][5m:1m]",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"foo offset 5m [5m]",
     "1:15: parse error: no offset modifiers allowed before range"},
    {"foo @ 1 [5m]", "1:9: parse error: no @ modifiers allowed before range"},
    {"foo offset",
     "1:11: parse error: unexpected end of input in offset, expected number, duration, step(), or range()"},
    {"foo offset bar",
     "1:12: parse error: unexpected identifier \"bar\" in offset, expected number, duration, step(), or range()"},
    {"foo offset 1s offset 2s",
     "1:1: parse error: offset may not be set multiple times"},
    {"foo @",
     "1:6: parse error: unexpected end of input in @, expected timestamp"},
    {"foo @ 1 @ 2",
     "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo @ start",
     "1:12: parse error: unexpected end of input in @, expected timestamp"},
    {"foo @ Inf",
     "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
    {"1 offset 1d",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"sum(x) @ 1",
     "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"},
    {"foo[1.5m]", "1:5: parse error: unknown unit \".\" in duration \"1.5m\""},
    {"foo[5y1hs]",
     "1:5: parse error: unknown unit \"hs\" in duration \"5y1hs\""},
    {"foo[5m5m]", "1:5: parse error: not a valid duration string: \"5m5m\""},
    {"foo offset 300000000000000000000y",
     "1:12: parse error: not a valid duration string: \"300000000000000000000y\""},
    {"1e400",
     "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"1e400\": value out of range"},
    {"0xffffffffffffffffffff",
     "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0xffffffffffffffffffff\": invalid syntax"},
    {"1 +", "1:4: parse error: unexpected end of input"},
    {"-", "1:2: parse error: unexpected end of input"},
    {"sum foo", "1:5: parse error: unexpected identifier \"foo\""},
    {"sum by foo (x)",
     "1:8: parse error: unexpected identifier \"foo\" in grouping opts, expected \"(\""},
    {"sum by (a b) (x)",
     "1:11: parse error: unexpected identifier \"b\" in grouping opts, expected \",\" or \")\""},
    {"sum by (a,,) (x)",
     "1:11: parse error: unexpected \",\" in grouping opts, expected label"},
    {"sum by (\"\") (x)",
     "1:9: parse error: invalid label name for grouping: \"\""},
    {"sum()",
     "1:1: parse error: no arguments for aggregate expression provided"},
    {"sum(x, y)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2"},
    {"topk(x)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"},
    {"topk(x, y)",
     "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"},
    {"count_values(1, x)",
     "1:14: parse error: expected type string in aggregation parameter, got scalar"},
    {"quantile(\"a\", x)",
     "1:10: parse error: expected type scalar in aggregation parameter, got string"},
    {"sum(1 +)", "1:8: parse error: unexpected \")\" in aggregation"},
    {"rate()",
     "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 0"},
    {"rate(x)",
     "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"},
    {"rate(x[5m], 1)",
     "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 2"},
    {"round(x, 1, 2)",
     "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"},
    {"label_join(x)",
     "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 1"},
    {"foo(1)", "1:1: parse error: unknown function with name \"foo\""},
    {"rate(x,)",
     "1:7: parse error: trailing commas not allowed in function call args"},
    {"time(1)",
     "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"},
    {"histogram_quantile(x, y)",
     "1:20: parse error: expected type scalar in call to function \"histogram_quantile\", got instant vector"},
    {"info(x, y)",
     "1:9: parse error: expected label selectors only, got vector selector instead"},
    {"info(x, 1)",
     "1:1: parse error: expected type instant vector in call to function \"info\", got scalar"},
    {"a + bool b",
     "1:3: parse error: bool modifier can only be used on comparison operators"},
    {"1 > 1",
     "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    {"1 == 1",
     "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    {"1 and 1",
     "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
    {"a and 1",
     "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
    {"a and on(b) group_left c",
     "1:1: parse error: no grouping allowed for \"and\" operation"},
    {"a * on(b) group_left(b) c",
     "1:3: parse error: label \"b\" must not occur in ON and GROUP clause at once"},
    {"1 + on(a) 2",
     "1:1: parse error: vector matching only allowed between instant vectors"},
    {"x[5m] + 1",
     "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"\"a\" + 1",
     "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"-\"a\"",
     "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\""},
    {"-x[5m]",
     "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\""},
    {"\"a\"[5m:]",
     "1:1: parse error: subquery is only allowed on instant vector, got string instead"},
    {"1[5m:]",
     "1:1: parse error: subquery is only allowed on instant vector, got scalar instead"},
    {"x offset 5m offset 5m",
     "1:1: parse error: offset may not be set multiple times"},
    {"a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"},
    {"a + fill(0) b",
     "1:5: parse error: binop fill modifiers are experimental and not enabled"},
    {"foo smoothed",
     "1:1: parse error: smoothed modifier is experimental and not enabled"},
    {"foo anchored",
     "1:1: parse error: anchored modifier is experimental and not enabled"},
    {"\"abc", "1:1: parse error: unterminated quoted string"},
    {"'abc", "1:1: parse error: unterminated quoted string"},
    {"`abc", "1:1: parse error: unterminated raw string"},
    {"\"\\q\"", "1:1: parse error: unknown escape sequence U+0071 'q'"},
    {"\"\\x4\"",
     "1:1: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"\"\\uD800\"",
     "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"\"\\777\"",
     "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"foo{a=\"\\x\"}",
     "1:7: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"$", "1:1: parse error: unexpected character: '$'"},
    {"a ! b", "1:3: parse error: unexpected character after '!': ' '"},
    {"a =~ b", "1:3: parse error: unexpected character after '=': '~'"},
    {"foo{a!b}",
     "1:6: parse error: unexpected character after '!' inside braces: 'b'"},
    {"foo{{", "1:5: parse error: unexpected left brace '{'"},
    {"]", "1:1: parse error: unexpected right bracket ']'"},
    {")", "1:2: parse error: unexpected right parenthesis ')'"},
    {"5mm", "1:1: parse error: bad number or duration syntax: \"5mm\""},
    {"1e", "1:1: parse error: bad number or duration syntax: \"1e\""},
    {"0x",
     "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0x\": invalid syntax"},
    {"1.2.3", "1:1: parse error: bad number or duration syntax: \"1.2.\""},
    {"bar)", "1:5: parse error: unexpected right parenthesis ')'"},
};

static void test_error_table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned line = 0, col = 0;
        size_t pos = 0;
        if (sscanf(cases[i].msg, "%u:%u:", &line, &col) == 2)
            pos = col - 1;
        parse_fails(*state, cases[i].q, cases[i].msg, pos);
    }
}

/* Line and column count bytes after the last newline, from 1. */
static void test_multiline_positions(void **state)
{
    parse_fails(*state, "sum(\n  rate(x[5m])\n) by (a\n  b)",
                "4:3: parse error: unexpected identifier \"b\" in grouping "
                "opts, expected \",\" or \")\"",
                29);
    parse_fails(*state, "# comment\nfoo{a=}",
                "2:7: parse error: unexpected \"}\" in label matching, "
                "expected string",
                16);
    parse_fails(*state, "\"\xc3\xa9\" + foo{",
                "1:12: parse error: unexpected end of input inside braces",
                11);
}

/* Error ranges: pos and end bracket the offending part. */
static void test_error_ranges(void **state)
{
    pvm_error err;
    const char *q = "foo + bar{a=\"b\"}[5m] * 2";
    assert_null(pvm_promql_parse(*state, q, strlen(q), &err));
    assert_string_equal(err.msg, "1:7: parse error: binary expression must "
                                 "contain only scalar and instant vector "
                                 "types");
    assert_int_equal(err.pos, 6);
    assert_int_equal(err.end, 20);
    q = "sum(x) by (a) offset 5m";
    assert_null(pvm_promql_parse(*state, q, strlen(q), &err));
    assert_int_equal(err.pos, 0);
    assert_int_equal(err.end, 13);
}

/* Invalid UTF-8 and NUL bytes in the input. */
static void test_binary_input(void **state)
{
    pvm_error err;
    assert_null(pvm_promql_parse(*state, "\"a\xff\"", 4, &err));
    assert_string_equal(err.msg, "1:1: parse error: invalid UTF-8 rune");
    assert_null(pvm_promql_parse(*state, "foo\0", 4, &err));
    assert_string_equal(err.msg,
                        "1:4: parse error: unexpected character: '\\x00'");
    assert_null(pvm_promql_parse(*state, "\xe2\x82\xac", 3, &err));
    assert_string_equal(
        err.msg, "1:1: parse error: unexpected character: '\xe2\x82\xac'");
    assert_null(pvm_promql_parse(*state, NULL, 0, &err));
    assert_string_equal(err.msg,
                        "unknown position: parse error: no expression found "
                        "in input");
}

/* A memory cap too small for the query: PVM_ERR_NOMEM, no crash. */
static void test_arena_cap(void **state)
{
    (void)state;
    pvm_arena *a = pvm_arena_new(4096);
    pvm_error err;
    char q[20000];
    size_t n = 0;
    n += (size_t)snprintf(q + n, sizeof(q) - n, "foo{");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(q + n, sizeof(q) - n, "l%d=\"v\",", i);
    n += (size_t)snprintf(q + n, sizeof(q) - n, "}");
    assert_null(pvm_promql_parse(a, q, n, &err));
    assert_int_equal(err.code, PVM_ERR_NOMEM);
    pvm_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)
        T(test_error_table),  T(test_multiline_positions),
        T(test_error_ranges), T(test_binary_input),
        T(test_arena_cap),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
