/* test_promql_parse.c: the PromQL parser accepts the whole language and
 * builds the expected AST: literals, selectors and matchers, modifiers,
 * subqueries, aggregations, calls, operators and precedence, the function
 * table and the selector walker. */
#include "test_promql_util.h"

#include "functions.h"

/* Every query here must parse and survive print -> parse. */
static const char *const accepted[] = {
    "1",
    "+1",
    "-1",
    ".5",
    "5.",
    "1e3",
    "1E-3",
    "0x3d",
    "0X3D",
    "1_000",
    "010",
    "Inf",
    "-inf",
    "+INF",
    "NaN",
    "nan",
    "5m",
    "-1h30m",
    "500ms",
    "1y",
    "1w",
    "1d",
    "\"a\"",
    "'a'",
    "`a\\n`",
    "\"\\n\\t\\\\\\\"\\x41\\101\\u00e9\\U0001F600\"",
    "'\\''",
    "foo",
    "foo:bar",
    ":foo",
    "foo{}",
    "foo{a=\"b\"}",
    "foo{a=\"b\", c!=\"d\", e=~\"f.*\", g!~\"h\",}",
    "{__name__=\"x\"}",
    "{\"my.metric\"}",
    "{\"my.metric\", \"l.n\"=\"v\"}",
    "{a=~\".+\"}",
    "{a=\"b\"} # comment",
    "foo # trailing comment\n+ 1",
    "sum",
    "by",
    "offset",
    "and",
    "start",
    "range",
    "SUM{a=\"b\"}",
    "foo[5m]",
    "foo[300]",
    "foo[1.5]",
    "foo[1h30m]",
    "foo offset 5m",
    "foo offset -5m",
    "foo offset 1.5",
    "foo @ 100",
    "foo @ -100.5",
    "foo @ start()",
    "foo @ end()",
    "foo offset 5m @ 10",
    "foo @ 10 offset 5m",
    "foo[5m] offset 1m",
    "foo[5m] @ 1 offset -1m",
    "foo[5m:1m]",
    "foo[5m:]",
    "rate(foo[5m])[30m:1m]",
    "(a + b)[5m:] offset 10m @ end()",
    "sum(x)[5m:]",
    "min_over_time(rate(x[1m])[5m:])",
    "sum(x)",
    "sum by (a) (x)",
    "sum(x) by (a)",
    "sum without (a, b) (x)",
    "sum by () (x)",
    "sum by (a,) (x)",
    "sum by (\"a.b\") (x)",
    "sum by (sum, by, on, bool, offset) (x)",
    "avg(x)",
    "count(x)",
    "min(x)",
    "max(x)",
    "group(x)",
    "stddev(x)",
    "stdvar(x)",
    "topk(5, x)",
    "bottomk(5, x)",
    "quantile(0.9, x)",
    "count_values(\"v\", x)",
    "limitk(2, x)",
    "limit_ratio(0.5, x)",
    "SUM BY (a) (x)",
    "rate(x[5m])",
    "time()",
    "pi()",
    "vector(1)",
    "scalar(x)",
    "round(x)",
    "round(x, 5)",
    "label_join(x, \"a\", \",\")",
    "label_join(x, \"a\", \",\", \"b\", \"c\", \"d\")",
    "label_replace(x, \"a\", \"$1\", \"b\", \"(.*)\")",
    "histogram_quantile(0.9, sum by (le) (rate(x[5m])))",
    "histogram_quantiles(x, \"q\", 0.5, 0.9)",
    "info(x)",
    "info(x, {a=\"b\"})",
    "info(x, {__name__=~\"target_info\"})",
    "sort_by_label(x, \"a\", \"b\")",
    "double_exponential_smoothing(x[5m], "
    "0.5, 0.5)",
    "days_in_month()",
    "year(x)",
    "absent_over_time(x[5m])",
    "1 + 2",
    "1 - 2 * 3",
    "2 ^ 3 ^ 2",
    "-2 ^ 2",
    "-a * b",
    "a atan2 b",
    "a % b",
    "1 == bool 1",
    "a == b",
    "a != b",
    "a > b",
    "a < b",
    "a >= b",
    "a <= b",
    "a > bool 1",
    "a and b",
    "a or b",
    "a unless b",
    "a and on (c) b",
    "a or ignoring (c) b",
    "a + on (b) c",
    "a + ignoring (b) c",
    "a * on (b) group_left (c) d",
    "a * on (b) group_right d",
    "a * ignoring () group_left () d",
    "a - -1",
    "a - - b",
    "--a",
    "-(a)",
    "(((a)))",
    "(1 + 2) * 3",
    "a </ 1",
    "a >/ 1",
    "-foo offset 5m",
    "foo offset 5s - 8",
    "1 + foo @ start()",
    "sum(rate(http_requests_total{job=\"api\"}[5m])) by (instance) / "
    "ignoring (instance) group_left sum(x)",
};

static void test_accepted(void **state)
{
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
        roundtrip(*state, parse_ok(*state, accepted[i]));
}

static void test_numbers(void **state)
{
    static const struct {
        const char *q; /* query */
        double v;      /* value */
        bool dur;      /* written as a duration */
    } cases[] = {
        {"1", 1, false},        {"-1", -1, false},
        {".5", 0.5, false},     {"5.", 5, false},
        {"1e3", 1000, false},   {"0x3d", 61, false},
        {"010", 8, false},      {"08", 8, false},
        {"1_000", 1000, false}, {"-Inf", -INFINITY, false},
        {"NaN", NAN, false},    {"5m", 300, true},
        {"1h30m", 5400, true},  {"500ms", 0.5, true},
        {"-1d", -86400, true},  {"1y", 31536000, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pvm_expr *e = parse_ok(*state, cases[i].q);
        assert_int_equal(e->kind, PVM_EXPR_NUMBER);
        assert_double_eq(e->u.number.value, cases[i].v);
        assert_int_equal(e->u.number.is_duration, cases[i].dur);
        assert_int_equal(pvm_expr_type(e), PVM_VT_SCALAR);
    }
}

static void test_strings(void **state)
{
    pvm_expr *e = parse_ok(*state, "\"a\\x00b\\u00e9\\101\"");
    assert_int_equal(e->kind, PVM_EXPR_STRING);
    assert_int_equal(e->u.string.len, 6);
    assert_memory_equal(e->u.string.value,
                        "a\0b\xc3\xa9"
                        "A",
                        6);
    e = parse_ok(*state, "`a\\nb\n`");
    assert_string_equal(e->u.string.value, "a\\nb\n");
    e = parse_ok(*state, "'it\\'s'");
    assert_string_equal(e->u.string.value, "it's");
    assert_int_equal(pvm_expr_type(e), PVM_VT_STRING);
}

static void assert_matcher(const pvm_matcher *m, const char *name,
                           pvm_match_op op, const char *value)
{
    assert_string_equal(m->name, name);
    assert_int_equal(m->op, op);
    assert_string_equal(m->value, value);
}

static void test_vector_selector(void **state)
{
    pvm_expr *e = parse_ok(*state, "foo{a=\"b\", c!~\"d|e\",}");
    const pvm_vector_selector *vs = pvm_expr_vector_selector(e);
    assert_non_null(vs);
    assert_string_equal(vs->name, "foo");
    assert_int_equal(vs->nmatchers, 3);
    assert_matcher(&vs->matchers[0], "a", PVM_MATCH_EQUAL, "b");
    assert_matcher(&vs->matchers[1], "c", PVM_MATCH_NOT_REGEX, "d|e");
    assert_matcher(&vs->matchers[2], "__name__", PVM_MATCH_EQUAL, "foo");
    assert_int_equal(e->pos, 0);
    assert_int_equal(e->end, 21);

    e = parse_ok(*state, "{\"my.metric\", \"label.name\"=~'v'}");
    vs = pvm_expr_vector_selector(e);
    assert_null(vs->name);
    assert_int_equal(vs->nmatchers, 2);
    assert_matcher(&vs->matchers[0], "__name__", PVM_MATCH_EQUAL, "my.metric");
    assert_matcher(&vs->matchers[1], "label.name", PVM_MATCH_REGEX, "v");
    assert_int_equal(pvm_expr_type(e), PVM_VT_VECTOR);
}

static void test_modifiers(void **state)
{
    pvm_expr *e = parse_ok(*state, "foo offset -1h @ 1700000000.123");
    const pvm_vector_selector *vs = pvm_expr_vector_selector(e);
    assert_int_equal(vs->offset_ms, -3600000);
    assert_int_equal(vs->at_kind, PVM_AT_TIMESTAMP);
    assert_int_equal(vs->at_ms, INT64_C(1700000000123));
    assert_int_equal(e->end, 31);

    e = parse_ok(*state, "foo[1m30s] @ end() offset 1.5");
    assert_int_equal(e->kind, PVM_EXPR_MATRIX_SELECTOR);
    assert_int_equal(pvm_expr_range_ms(e), 90000);
    vs = pvm_expr_vector_selector(e);
    assert_int_equal(vs->at_kind, PVM_AT_END);
    assert_int_equal(vs->offset_ms, 1500);
    assert_int_equal(pvm_expr_type(e), PVM_VT_MATRIX);

    e = parse_ok(*state, "sum(x)[1h:5m] offset 2m @ start()");
    assert_int_equal(e->kind, PVM_EXPR_SUBQUERY);
    assert_int_equal(e->u.subquery.range_ms, 3600000);
    assert_int_equal(e->u.subquery.step_ms, 300000);
    assert_int_equal(e->u.subquery.offset_ms, 120000);
    assert_int_equal(e->u.subquery.at_kind, PVM_AT_START);
    assert_int_equal(e->u.subquery.expr->kind, PVM_EXPR_AGGREGATE);
    assert_int_equal(pvm_expr_range_ms(e), 3600000);

    e = parse_ok(*state, "x[10m:]");
    assert_int_equal(e->u.subquery.step_ms, 0);
    e = parse_ok(*state, "x[300]");
    assert_int_equal(pvm_expr_range_ms(e), 300000);
}

static void test_aggregations(void **state)
{
    pvm_expr *e = parse_ok(*state, "topk(3, x) without (a, \"b.c\")");
    assert_int_equal(e->kind, PVM_EXPR_AGGREGATE);
    assert_int_equal(e->u.aggregate.op, PVM_AGGR_TOPK);
    assert_true(e->u.aggregate.without);
    assert_int_equal(e->u.aggregate.grouping.n, 2);
    assert_string_equal(e->u.aggregate.grouping.names[1], "b.c");
    assert_int_equal(e->u.aggregate.param->kind, PVM_EXPR_NUMBER);
    assert_int_equal(e->u.aggregate.expr->kind, PVM_EXPR_VECTOR_SELECTOR);

    e = parse_ok(*state, "sum by () (x)");
    assert_false(e->u.aggregate.without);
    assert_int_equal(e->u.aggregate.grouping.n, 0);
    assert_null(e->u.aggregate.param);

    e = parse_ok(*state, "count_values(\"v\", x)");
    assert_int_equal(e->u.aggregate.param->kind, PVM_EXPR_STRING);
}

static void test_precedence(void **state)
{
    /* 1 + 2 * 3 ^ 2 ^ 1 == 1 + (2 * (3 ^ (2 ^ 1))) */
    pvm_expr *e = parse_ok(*state, "1 + 2 * 3 ^ 2 ^ 1");
    assert_int_equal(e->u.binary.op, PVM_OP_ADD);
    pvm_expr *r = e->u.binary.rhs;
    assert_int_equal(r->u.binary.op, PVM_OP_MUL);
    r = r->u.binary.rhs;
    assert_int_equal(r->u.binary.op, PVM_OP_POW);
    assert_int_equal(r->u.binary.rhs->u.binary.op, PVM_OP_POW);
    /* a - b - c == (a - b) - c */
    e = parse_ok(*state, "a - b - c");
    assert_int_equal(e->u.binary.lhs->kind, PVM_EXPR_BINARY);
    /* a or b and c unless d == a or ((b and c) unless d) */
    e = parse_ok(*state, "a or b and c unless d");
    assert_int_equal(e->u.binary.op, PVM_OP_OR);
    assert_int_equal(e->u.binary.rhs->u.binary.op, PVM_OP_UNLESS);
    /* -a ^ b == -(a ^ b); -a * b == (-a) * b */
    e = parse_ok(*state, "-a ^ b");
    assert_int_equal(e->kind, PVM_EXPR_UNARY);
    e = parse_ok(*state, "-a * b");
    assert_int_equal(e->kind, PVM_EXPR_BINARY);
    assert_int_equal(e->u.binary.lhs->kind, PVM_EXPR_UNARY);
    /* a > b + c == a > (b + c) */
    e = parse_ok(*state, "a > b + c");
    assert_int_equal(e->u.binary.op, PVM_OP_GTR);
    /* unary minus on a literal is folded */
    e = parse_ok(*state, "- 5");
    assert_int_equal(e->kind, PVM_EXPR_NUMBER);
    assert_double_eq(e->u.number.value, -5);
}

static void test_binary_matching(void **state)
{
    pvm_expr *e = parse_ok(*state, "a / on(b, c) group_left(d) e");
    const pvm_vector_matching *m = e->u.binary.matching;
    assert_non_null(m);
    assert_true(m->on);
    assert_int_equal(m->card, PVM_CARD_MANY_TO_ONE);
    assert_int_equal(m->labels.n, 2);
    assert_string_equal(m->include.names[0], "d");
    e = parse_ok(*state, "a and b");
    assert_int_equal(e->u.binary.matching->card, PVM_CARD_MANY_TO_MANY);
    e = parse_ok(*state, "a > bool 1");
    assert_true(e->u.binary.return_bool);
    assert_null(e->u.binary.matching);
    e = parse_ok(*state, "1 + 2");
    assert_null(e->u.binary.matching);
    assert_int_equal(pvm_expr_type(e), PVM_VT_SCALAR);
}

static void test_calls(void **state)
{
    pvm_expr *e = parse_ok(*state, "histogram_quantile(0.9, rate(x[5m]))");
    assert_int_equal(e->kind, PVM_EXPR_CALL);
    assert_int_equal(e->u.call.func->id, PVM_FN_HISTOGRAM_QUANTILE);
    assert_int_equal(e->u.call.nargs, 2);
    assert_int_equal(e->u.call.args[1]->u.call.func->id, PVM_FN_RATE);
    e = parse_ok(*state, "scalar(x)");
    assert_int_equal(pvm_expr_type(e), PVM_VT_SCALAR);
    e = parse_ok(*state, "info(x, {a=\"\"})");
    assert_true(e->u.call.args[1]->u.vs.bypass_empty_check);
}

static void test_function_table(void **state)
{
    (void)state;
    const pvm_function *f = pvm_function_lookup("rate", 4);
    assert_non_null(f);
    assert_int_equal(f->ret, PVM_VT_VECTOR);
    assert_int_equal(pvm_function_arg_type(f, 0), PVM_VT_MATRIX);
    assert_int_equal(pvm_function_arg_type(f, 1), PVM_VT_NONE);
    assert_null(pvm_function_lookup("rat", 3));
    assert_null(pvm_function_lookup("Rate", 4));
    f = pvm_function_lookup("label_join", 10);
    assert_int_equal(pvm_function_min_args(f), 3);
    assert_int_equal(pvm_function_max_args(f), SIZE_MAX);
    assert_int_equal(pvm_function_arg_type(f, 7), PVM_VT_STRING);
    f = pvm_function_lookup("histogram_quantiles", 19);
    assert_true(f->experimental);
    assert_int_equal(pvm_function_min_args(f), 3);
    assert_int_equal(pvm_function_max_args(f), 12);
    f = pvm_function_lookup("round", 5);
    assert_int_equal(pvm_function_max_args(f), 2);
    /* The table is sorted and every entry is found by its name. */
    for (int i = 0; i < PVM_FN_COUNT; i++) {
        const pvm_function *g = pvm_function_at(i);
        assert_int_equal(g->id, i);
        assert_ptr_equal(pvm_function_lookup(g->name, strlen(g->name)), g);
        if (i > 0)
            assert_true(strcmp(pvm_function_at(i - 1)->name, g->name) < 0);
    }
    assert_null(pvm_function_at(PVM_FN_COUNT));
}

static void test_selectors_walker(void **state)
{
    pvm_expr *e = parse_ok(*state, "topk(scalar(n1), a) + on(x) rate(b[5m]) / "
                                   "max_over_time(c[1h:]) or -d offset 1m");
    const pvm_expr **sel;
    size_t n;
    assert_int_equal(pvm_expr_selectors(e, *state, &sel, &n), 0);
    assert_int_equal(n, 5);
    const char *names[] = {"n1", "a", "b", "c", "d"};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sel[i]->kind, PVM_EXPR_VECTOR_SELECTOR);
        assert_string_equal(pvm_expr_vector_selector(sel[i])->name, names[i]);
    }
    assert_int_equal(pvm_expr_vector_selector(sel[4])->offset_ms, 60000);
    e = parse_ok(*state, "1 + 1");
    assert_int_equal(pvm_expr_selectors(e, *state, &sel, &n), 0);
    assert_int_equal(n, 0);
    assert_null(sel);
}

static void test_positions(void **state)
{
    pvm_expr *e = parse_ok(*state, "  sum(rate(x[5m])) by (a) + 1");
    assert_int_equal(e->pos, 2);
    assert_int_equal(e->end, 29);
    pvm_expr *ag = e->u.binary.lhs;
    assert_int_equal(ag->pos, 2);
    assert_int_equal(ag->end, 25);
    pvm_expr *call = ag->u.aggregate.expr;
    assert_int_equal(call->pos, 6);
    assert_int_equal(call->end, 17);
    assert_int_equal(call->u.call.args[0]->pos, 11);
    assert_int_equal(call->u.call.args[0]->end, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)
        T(test_accepted),
        T(test_numbers),
        T(test_strings),
        T(test_vector_selector),
        T(test_modifiers),
        T(test_aggregations),
        T(test_precedence),
        T(test_binary_matching),
        T(test_calls),
        T(test_function_table),
        T(test_selectors_walker),
        T(test_positions),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
