/* test_regex.c: base/regex (the one regex door): Go's class meanings
 * after translation, full anchoring, capture groups with RE2 numbering,
 * subjects with invalid UTF-8, and the match limit on hostile patterns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "goregex.h"

static int setup(void **state)
{
    *state = pvm_arena_new(0);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    pvm_arena_free(*state);
    return 0;
}

static pvm_regex *compile(void **state, const char *pat, unsigned flags)
{
    pvm_error err;
    pvm_regex *re = pvm_regex_compile(*state, pat, strlen(pat), flags, &err);
    if (!re)
        fail_msg("%s: %s", pat, err.msg);
    return re;
}

static int match(void **state, const char *pat, const char *s, size_t n)
{
    return pvm_regex_match(compile(state, pat, 0), s, n);
}

/* Go's regexp/syntax: \s [\t\n\f\r ], \d [0-9], \w [0-9A-Za-z_], \v is
 * U+000B, \b an ASCII word boundary. */
static void test_go_classes(void **state)
{
    assert_int_equal(match(state, "a\\vb", "a\vb", 3), 1);
    assert_int_equal(match(state, "a\\vb", "a\nb", 3), 0);
    assert_int_equal(match(state, "a\\vb",
                           "a\xc2\x85"
                           "b",
                           4),
                     0);
    assert_int_equal(match(state, "a\\sb", "a\vb", 3), 0);
    assert_int_equal(match(state, "a\\sb", "a\fb", 3), 1);
    assert_int_equal(match(state, "a[\\s]b", "a\vb", 3), 0);
    assert_int_equal(match(state, "a\\Sb", "a\vb", 3), 1);
    assert_int_equal(match(state, "\\d", "\xd9\xa1", 2), 0);
    assert_int_equal(match(state, "\\D", "\xd9\xa1", 2), 1);
    assert_int_equal(match(state, "\\w", "\xc3\xa9", 2), 0);
    assert_int_equal(match(state, "\\W", "\xc3\xa9", 2), 1);
    assert_int_equal(match(state, ".*\\bb",
                           "\xc3\xa9"
                           "b",
                           3),
                     1);
    assert_int_equal(match(state, "(?i)\xc3\xa9", "\xc3\x89", 2), 1);
}

/* ^(?s:...)$: the whole value, dot takes \n, $ is not before a final \n. */
static void test_anchoring(void **state)
{
    assert_int_equal(match(state, "b", "abc", 3), 0);
    assert_int_equal(match(state, "a|ab", "ab", 2), 1);
    assert_int_equal(match(state, "a.b", "a\nb", 3), 1);
    assert_int_equal(match(state, "a$", "a\n", 2), 0);
    assert_int_equal(match(state, "a\\z", "a", 1), 1);
    assert_true(pvm_regex_matches_empty(compile(state, "a*", 0)));
    assert_false(pvm_regex_matches_empty(compile(state, "a+", 0)));
}

static void test_errors(void **state)
{
    static const char *const bad[] = {"a(",    "(?<=a)b", "a++", "\\C",
                                      "[z-a]", "a{1001}", "\xff"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pvm_error err = {0};
        assert_null(
            pvm_regex_compile(*state, bad[i], strlen(bad[i]), 0, &err));
        assert_int_equal(err.code, PVM_ERR_BAD_DATA);
        assert_non_null(strstr(err.msg, "invalid regular expression"));
    }
    pvm_error err = {0};
    assert_null(pvm_regex_compile(*state, "a(", 2, PVM_REGEX_CAPTURE, &err));
    assert_string_equal(
        err.msg, "invalid regular expression \"a(\": missing closing )");
}

static void test_groups(void **state)
{
    pvm_regex *re = compile(state, "(?P<x>a)?(?:(b)|c)(?P<x>d*)",
                            PVM_REGEX_CAPTURE);
    assert_int_equal(pvm_regex_group_count(re), 3);
    assert_int_equal(pvm_regex_group_index(re, "x", 1), 1);
    assert_int_equal(pvm_regex_group_index(re, "y", 1), -1);
    const size_t *g;
    assert_int_equal(pvm_regex_exec(re, "cdd", 3, &g), 1);
    assert_int_equal(g[0], 0);
    assert_int_equal(g[1], 3);
    assert_int_equal(g[2], SIZE_MAX); /* (?P<x>a)? took no part */
    assert_int_equal(g[4], SIZE_MAX); /* (b) took no part */
    assert_int_equal(g[6], 1);
    assert_int_equal(g[7], 3);
    assert_int_equal(pvm_regex_exec(re, "x", 1, &g), 0);
    /* A fast-path shape with capture still reports the whole match. */
    re = compile(state, "abc", PVM_REGEX_CAPTURE);
    assert_int_equal(pvm_regex_exec(re, "abc", 3, &g), 1);
    assert_int_equal(g[1], 3);
}

/* Invalid bytes match as U+FFFD; group offsets point into the original. */
static void test_invalid_utf8_subject(void **state)
{
    pvm_regex *re = compile(state, "(.)(.)(b)", PVM_REGEX_CAPTURE);
    const size_t *g;
    assert_int_equal(pvm_regex_exec(re,
                                    "\xff\xe2\x82\xac"
                                    "b",
                                    5, &g),
                     1);
    assert_int_equal(g[2], 0);
    assert_int_equal(g[3], 1);
    assert_int_equal(g[4], 1);
    assert_int_equal(g[5], 4);
    assert_int_equal(g[6], 4);
    assert_int_equal(g[7], 5);
    assert_int_equal(match(state, "\xef\xbf\xbd", "\x80", 1), 1);
}

/* Exponential backtracking stops at the match limit. */
static void test_match_limit(void **state)
{
    char subj[41];
    memset(subj, 'a', sizeof(subj));
    subj[40] = '!';
    static const char *const bombs[] = {"(a|aa)+$", "(.*a){12}"};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(pvm_regex_match(compile(state, bombs[i], 0), subj,
                                         sizeof(subj)),
                         PVM_ERR_EXECUTION);
        const size_t *g;
        assert_int_equal(pvm_regex_exec(compile(state, bombs[i],
                                                PVM_REGEX_CAPTURE),
                                        subj, sizeof(subj), &g),
                         PVM_ERR_EXECUTION);
    }
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_go_classes),
        T(test_anchoring),
        T(test_errors),
        T(test_groups),
        T(test_invalid_utf8_subject),
        T(test_match_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
