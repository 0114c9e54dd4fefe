/* test_promql_util.h: helpers shared by the PromQL unit tests (header-only;
 * each test program includes it once). */
#ifndef PVM_TEST_PROMQL_UTIL_H
#define PVM_TEST_PROMQL_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <pvm/arena.h>

#include "ast.h"
#include "equal.h"

/* Fixture: one arena per test. */
static inline int arena_setup(void **state)
{
    *state = pvm_arena_new(0);
    return *state ? 0 : -1;
}

static inline int arena_teardown(void **state)
{
    pvm_arena_free(*state);
    return 0;
}

/* Double comparison (cmocka 1.1.5 compares as float): NaN equals NaN. */
#define assert_double_eq(a, b)                                                \
    assert_double_eq_at((a), (b), __FILE__, __LINE__)
static inline void assert_double_eq_at(double a, double b, const char *file,
                                       int line)
{
    if ((isnan(a) && isnan(b)) || a == b)
        return;
    fail_msg("%s:%d: %.17g != %.17g", file, line, a, b);
}

/* Parses q; fails the test with the error when it does not parse. */
static inline pvm_expr *parse_ok(pvm_arena *a, const char *q)
{
    pvm_error err;
    pvm_error_clear(&err);
    pvm_expr *e = pvm_promql_parse(a, q, strlen(q), &err);
    if (!e)
        fail_msg("parse of %s failed: %s", q, err.msg);
    assert_int_equal(err.code, 0);
    return e;
}

/* Parses q and checks that it fails with exactly msg, at byte pos. */
static inline void parse_fails(pvm_arena *a, const char *q, const char *msg,
                               size_t pos)
{
    pvm_error err;
    pvm_error_clear(&err);
    pvm_expr *e = pvm_promql_parse(a, q, strlen(q), &err);
    if (e)
        fail_msg("%s parsed, expected: %s", q, msg);
    assert_int_equal(err.code, PVM_ERR_BAD_DATA);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("%s:\n  got  %s\n  want %s", q, err.msg, msg);
    if (err.pos != pos)
        fail_msg("%s: error at %zu, want %zu", q, err.pos, pos);
}

/* Prints e, parses the text again and checks the ASTs are equal; returns
 * the text. */
static inline const char *roundtrip(pvm_arena *a, const pvm_expr *e)
{
    char *s = pvm_promql_format(a, e);
    assert_non_null(s);
    pvm_error err;
    pvm_error_clear(&err);
    pvm_expr *e2 = pvm_promql_parse(a, s, strlen(s), &err);
    if (!e2)
        fail_msg("reparse of %s failed: %s", s, err.msg);
    if (!pvm_expr_equal(e, e2))
        fail_msg("reparse of %s gives a different AST", s);
    return s;
}

#endif
