/* test_promql_limits.c: deep nesting is rejected cleanly (no stack
 * overflow), and big inputs parse in linear time. */
#include <stdlib.h>
#include <time.h>

#include "test_promql_util.h"

static const char too_deep[] =
    "parse error: expression too deeply nested (more than 1000 levels)";

/* Builds prefix*n + mid + suffix*n (malloc; caller frees). */
static char *repeat(const char *prefix, size_t n, const char *mid,
                    const char *suffix, size_t *len)
{
    size_t lp = strlen(prefix), lm = strlen(mid), ls = strlen(suffix);
    char *s = malloc(n * (lp + ls) + lm + 1);
    assert_non_null(s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++, k += lp)
        memcpy(s + k, prefix, lp);
    memcpy(s + k, mid, lm);
    k += lm;
    for (size_t i = 0; i < n; i++, k += ls)
        memcpy(s + k, suffix, ls);
    s[k] = '\0';
    *len = k;
    return s;
}

static void expect_too_deep(pvm_arena *a, const char *q, size_t n)
{
    pvm_error err;
    assert_null(pvm_promql_parse(a, q, n, &err));
    assert_int_equal(err.code, PVM_ERR_BAD_DATA);
    if (!strstr(err.msg, too_deep))
        fail_msg("unexpected error: %s", err.msg);
}

static void test_deep_nesting(void **state)
{
    static const struct {
        const char *prefix, *mid, *suffix; /* repeated around mid */
        size_t n;                          /* repetitions */
    } cases[] = {
        {"(", "1", ")", 10000},     {"-", "x", "", 10000},
        {"-(", "x", ")", 10000},    {"abs(", "x", ")", 10000},
        {"sum(", "x", ")", 10000},  {"x + ", "x", "", 10000},
        {"x ^ ", "x", "", 10000},   {"", "x", " + x", 10000},
        {"", "x", " or x", 100000}, {"(", "x", ")[5m:]", 5000},
        {"((((", "1", "", 3000},    {"(", "", "", 100000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n;
        char *q = repeat(cases[i].prefix, cases[i].n, cases[i].mid,
                         cases[i].suffix, &n);
        expect_too_deep(*state, q, n);
        free(q);
    }
}

static void test_nesting_below_limit(void **state)
{
    size_t n;
    char *q = repeat("(", 500, "1", ")", &n);
    roundtrip(*state, parse_ok(*state, q));
    free(q);
    q = repeat("-", 400, "x", "", &n);
    roundtrip(*state, parse_ok(*state, q));
    free(q);
    q = repeat("", 900, "x", " + x", &n);
    roundtrip(*state, parse_ok(*state, q));
    free(q);
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_big_string(void **state)
{
    size_t n = 1 << 20;
    char *q = malloc(n + 3);
    assert_non_null(q);
    q[0] = '"';
    for (size_t i = 1; i <= n; i++)
        q[i] = (i % 100 == 0) ? '\\' : (i % 100 == 1 ? 'n' : 'a');
    q[n + 1] = '"';
    q[n + 2] = '\0';
    double t = seconds();
    pvm_expr *e = parse_ok(*state, q);
    assert_int_equal(e->kind, PVM_EXPR_STRING);
    assert_true(e->u.string.len < n);
    roundtrip(*state, e);
    assert_true(seconds() - t < 5.0);
    free(q);
}

static void test_many_matchers(void **state)
{
    size_t cap = 100000 * 24, k = 0;
    char *q = malloc(cap);
    assert_non_null(q);
    k += (size_t)snprintf(q + k, cap - k, "foo{");
    for (int i = 0; i < 100000; i++)
        k += (size_t)snprintf(q + k, cap - k, "l%d=\"v%d\",", i, i);
    k += (size_t)snprintf(q + k, cap - k, "}");
    double t = seconds();
    pvm_expr *e = parse_ok(*state, q);
    assert_int_equal(pvm_expr_vector_selector(e)->nmatchers, 100001);
    roundtrip(*state, e);
    assert_true(seconds() - t < 10.0);
    free(q);
}

static void test_many_args_and_terms(void **state)
{
    size_t cap = 50000 * 8, k = 0;
    char *q = malloc(cap);
    assert_non_null(q);
    k += (size_t)snprintf(q + k, cap - k, "label_join(x, \"a\", \",\"");
    for (int i = 0; i < 50000; i++)
        k += (size_t)snprintf(q + k, cap - k, ", \"b\"");
    k += (size_t)snprintf(q + k, cap - k, ")");
    pvm_expr *e = parse_ok(*state, q);
    assert_int_equal(e->u.call.nargs, 50003);
    roundtrip(*state, e);
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, arena_setup, arena_teardown)
        T(test_deep_nesting),  T(test_nesting_below_limit), T(test_big_string),
        T(test_many_matchers), T(test_many_args_and_terms),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
