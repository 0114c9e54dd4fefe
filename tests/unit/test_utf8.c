/* test_utf8.c: base/utf8 against Go's unicode/utf8 rules, hostile input
 * first: overlong forms, surrogates, > U+10FFFF, cut sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

static void test_decode_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t w;
        uint32_t cp;
    } cases[] = {
        {"\x00", 1, 0},
        {"a", 1, 'a'},
        {"\x7f", 1, 0x7F},
        {"\xc2\x80", 2, 0x80},
        {"\xdf\xbf", 2, 0x7FF},
        {"\xe0\xa0\x80", 3, 0x800},
        {"\xed\x9f\xbf", 3, 0xD7FF},
        {"\xee\x80\x80", 3, 0xE000},
        {"\xef\xbf\xbd", 3, 0xFFFD},
        {"\xef\xbf\xbf", 3, 0xFFFF},
        {"\xf0\x90\x80\x80", 4, 0x10000},
        {"\xf4\x8f\xbf\xbf", 4, 0x10FFFF},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t cp = 0xDEAD;
        size_t n = cases[i].w;
        assert_int_equal(pvm_utf8_decode(cases[i].s, n, &cp), cases[i].w);
        assert_int_equal(cp, cases[i].cp);
        char out[4];
        assert_int_equal(pvm_utf8_encode((int32_t)cp, out), n);
        assert_memory_equal(out, cases[i].s, n);
    }
}

static void test_decode_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\x80", /* lone continuation */
        "\xbf",
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong 0x7F */
        "\xe0\x80\x80",     /* overlong 3-byte */
        "\xe0\x9f\xbf",     /* overlong U+07FF */
        "\xf0\x80\x80\x80", /* overlong 4-byte */
        "\xf0\x8f\xbf\xbf", /* overlong U+FFFF */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xed\xbf\xbf",     /* surrogate U+DFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* lead byte past F4 */
        "\xff",
        "\xfe",
        "\xc2",         /* cut */
        "\xe2\x82",     /* cut */
        "\xf0\x9f\x98", /* cut */
        "\xc2\x41",     /* bad continuation */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t cp = 0xDEAD;
        size_t n = strlen(bad[i]);
        assert_int_equal(pvm_utf8_decode(bad[i], n, &cp), 0);
        assert_int_equal(cp, 0xDEAD);
        int32_t r;
        assert_int_equal(pvm_utf8_decode_rune(bad[i], n, &r), 1);
        assert_int_equal(r, 0xFFFD);
        assert_false(pvm_utf8_is_valid(bad[i], n));
        assert_int_equal(pvm_utf8_invalid_at(bad[i], n), 0);
    }
}

static void test_invalid_at(void **state)
{
    (void)state;
    assert_int_equal(pvm_utf8_invalid_at("", 0), 0);
    assert_true(pvm_utf8_is_valid("", 0));
    assert_true(pvm_utf8_is_valid("h\xc3\xa9llo \xe2\x82\xac", 10));
    assert_int_equal(pvm_utf8_invalid_at("ab\xc3\xa9\xed\xa0\x80z", 8), 4);
    /* A sequence cut by n is invalid even when more bytes follow. */
    assert_int_equal(pvm_utf8_invalid_at("a\xe2\x82\xac", 3), 1);
    /* NUL is a valid character. */
    assert_true(pvm_utf8_is_valid("a\0b", 3));
}

static void test_encode_hostile(void **state)
{
    (void)state;
    char out[4];
    static const int32_t bad[] = {-1,     0xD800,   0xDBFF,    0xDC00,
                                  0xDFFF, 0x110000, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(pvm_utf8_encode(bad[i], out), 3);
        assert_memory_equal(out, PVM_UTF8_REPLACEMENT, 3);
    }
    int32_t r;
    assert_int_equal(pvm_utf8_decode_rune("\xe2\x82\xac!", 4, &r), 3);
    assert_int_equal(r, 0x20AC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_valid),
        cmocka_unit_test(test_decode_invalid),
        cmocka_unit_test(test_invalid_at),
        cmocka_unit_test(test_encode_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
