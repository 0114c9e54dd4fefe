/* test_strbuf.c: the one string buffer (arena-backed or fixed) and Go's
 * strconv.Quote on it, with hostile input: invalid UTF-8, surrogates,
 * overlong forms, control bytes, long printf output, a full fixed buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "strbuf.h"

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

static void test_grow_and_insert(void **state)
{
    pvm_strbuf sb;
    pvm_strbuf_init(&sb, *state);
    for (int i = 0; i < 1000; i++)
        pvm_strbuf_puts(&sb, "ab");
    assert_int_equal(sb.len, 2000);
    pvm_strbuf_insert(&sb, 0, "(");
    pvm_strbuf_insert(&sb, sb.len, ")");
    pvm_strbuf_insert(&sb, 3, "|");
    assert_int_equal(sb.len, 2003);
    assert_memory_equal(sb.buf, "(ab|ab", 6);
    assert_string_equal(sb.buf + 2000, "ab)");
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    pvm_strbuf_printf(&sb, "%s!", big);
    assert_int_equal(sb.len, 2003 + 2000);
    assert_string_equal(sb.buf + sb.len - 2, "x!");
    assert_false(sb.failed);
}

static void test_fixed(void **state)
{
    (void)state;
    char buf[8];
    pvm_strbuf sb;
    pvm_strbuf_init_fixed(&sb, buf, sizeof(buf));
    pvm_strbuf_puts(&sb, "abc");
    pvm_strbuf_insert(&sb, 0, "12345"); /* no room: unchanged */
    assert_string_equal(buf, "abc");
    assert_true(sb.failed);
    pvm_strbuf_init_fixed(&sb, buf, sizeof(buf));
    pvm_strbuf_puts(&sb, "0123456789");
    assert_string_equal(buf, "0123456");
    assert_true(sb.failed);
}

static void expect_quote(void **state, const char *s, size_t n,
                         size_t max_runes, const char *want)
{
    pvm_strbuf sb;
    pvm_strbuf_init(&sb, *state);
    pvm_strbuf_quote(&sb, s, n, max_runes);
    assert_string_equal(sb.buf, want);
}

/* Go: strconv.Quote / fmt "%.Nq". */
static void test_quote(void **state)
{
    expect_quote(state, "", 0, 0, "\"\"");
    expect_quote(state, "a\"b\\\n", 5, 0, "\"a\\\"b\\\\\\n\"");
    expect_quote(state, "\a\b\f\r\t\v", 6, 0, "\"\\a\\b\\f\\r\\t\\v\"");
    expect_quote(state, "\0\x1f\x7f", 3, 0, "\"\\x00\\x1f\\x7f\"");
    expect_quote(state, "h\xc3\xa9\xe2\x98\xba", 6, 0,
                 "\"h\xc3\xa9\xe2\x98\xba\"");
    /* Invalid UTF-8 byte by byte: cut, overlong, surrogate, > U+10FFFF. */
    expect_quote(state, "\xff", 1, 0, "\"\\xff\"");
    expect_quote(state, "\xe2\x98", 2, 0, "\"\\xe2\\x98\"");
    expect_quote(state, "\xc0\xaf", 2, 0, "\"\\xc0\\xaf\"");
    expect_quote(state, "\xed\xa0\x80", 3, 0, "\"\\xed\\xa0\\x80\"");
    expect_quote(state, "\xf4\x90\x80\x80", 4, 0, "\"\\xf4\\x90\\x80\\x80\"");
    /* Non-printable code points are \u-escaped: C1 control, BOM. */
    expect_quote(state, "\xc2\x85", 2, 0, "\"\\u0085\"");
    expect_quote(state, "\xef\xbb\xbf", 3, 0, "\"\\ufeff\"");
    /* %.3q: the first three characters. */
    expect_quote(state, "h\xc3\xa9llo", 6, 3, "\"h\xc3\xa9l\"");
}

static void test_quote_rune(void **state)
{
    pvm_strbuf sb;
    pvm_strbuf_init(&sb, *state);
    pvm_strbuf_quote_rune(&sb, 'a');
    pvm_strbuf_quote_rune(&sb, '\'');
    pvm_strbuf_quote_rune(&sb, '\n');
    pvm_strbuf_quote_rune(&sb, 0xD800);
    assert_string_equal(sb.buf, "'a''\\'''\\n''\xef\xbf\xbd'");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_grow_and_insert),
        T(test_fixed),
        T(test_quote),
        T(test_quote_rune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
