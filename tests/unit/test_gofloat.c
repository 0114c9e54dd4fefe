/* test_gofloat.c: base/gofloat against outputs of Go's
 * strconv.FormatFloat(v, 'f' | 'g', -1, 64) and Prometheus' sample text,
 * at the edges: NaN, infinities, -0, subnormals, the largest double, and
 * the 1e21 / 1e-6 / 1e6 / 1e-4 boundaries between the forms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "gofloat.h"

typedef struct {
    double v;
    const char *f; /* Go: strconv.FormatFloat(v, 'f', -1, 64) */
    const char *g; /* Go: strconv.FormatFloat(v, 'g', -1, 64) */
} go_case;

static const go_case cases[] = {
    {0.0, "0", "0"},
    {-0.0, "-0", "-0"},
    {1.0, "1", "1"},
    {-1.5, "-1.5", "-1.5"},
    {0.1, "0.1", "0.1"},
    {0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"},
    {123.456, "123.456", "123.456"},
    {100.0, "100", "100"},
    {123456.0, "123456", "123456"},
    {1e6, "1000000", "1e+06"},
    {1234567.0, "1234567", "1.234567e+06"},
    {0.0001, "0.0001", "0.0001"},
    {0.00001, "0.00001", "1e-05"},
    {0.000001, "0.000001", "1e-06"},
    {1e20, "100000000000000000000", "1e+20"},
    {1e21, "1000000000000000000000", "1e+21"},
    {9007199254740993.0, "9007199254740992", "9.007199254740992e+15"},
    {1.7976931348623157e308,
     "17976931348623157"
     "00000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000000000000000000000000000000000000000000000000000"
     "00000000000000000000",
     "1.7976931348623157e+308"},
    {2.2250738585072014e-308, NULL, "2.2250738585072014e-308"},
    {5e-324, NULL, "5e-324"},
    {1.5e-323, NULL, "1.5e-323"},
    {-2.5e-310, NULL, "-2.5e-310"},
};

static void test_f_and_g(void **state)
{
    (void)state;
    char buf[PVM_FLOAT_F_BUFSIZE];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = pvm_format_float_g(buf, sizeof(buf), cases[i].v);
        assert_string_equal(buf, cases[i].g);
        assert_int_equal(n, strlen(cases[i].g));
        if (cases[i].f) {
            n = pvm_format_float_f(buf, sizeof(buf), cases[i].v);
            assert_string_equal(buf, cases[i].f);
            assert_int_equal(n, strlen(cases[i].f));
        }
    }
}

static void test_specials(void **state)
{
    (void)state;
    char buf[PVM_FLOAT_BUFSIZE];
    static const double v[] = {NAN, -NAN, INFINITY, -INFINITY};
    static const char *const want[] = {"NaN", "NaN", "+Inf", "-Inf"};
    for (size_t i = 0; i < 4; i++) {
        pvm_format_float_f(buf, sizeof(buf), v[i]);
        assert_string_equal(buf, want[i]);
        pvm_format_float_g(buf, sizeof(buf), v[i]);
        assert_string_equal(buf, want[i]);
        pvm_format_float(buf, v[i]);
        assert_string_equal(buf, want[i]);
    }
}

/* The smallest subnormal in 'f' form: "0.", 323 zeros, "5". */
static void test_subnormal_f(void **state)
{
    (void)state;
    char buf[PVM_FLOAT_F_BUFSIZE];
    size_t n = pvm_format_float_f(buf, sizeof(buf), 5e-324);
    assert_int_equal(n, 326);
    assert_memory_equal(buf, "0.000", 5);
    assert_int_equal(strspn(buf + 2, "0"), 323);
    assert_string_equal(buf + 325, "5");
    n = pvm_format_float_f(buf, sizeof(buf), -2.2250738585072014e-308);
    assert_int_equal(n, 1 + 2 + 307 + 17);
    assert_string_equal(buf + 310, "22250738585072014");
}

/* A short buffer is cut like snprintf; the full length is returned. */
static void test_truncation(void **state)
{
    (void)state;
    char buf[4];
    assert_int_equal(pvm_format_float_f(buf, sizeof(buf), 123.25), 6);
    assert_string_equal(buf, "123");
    assert_int_equal(pvm_format_float_g(buf, 1, 1e21), 5);
    assert_string_equal(buf, "");
}

/* Prometheus' sample text: 'f', but 'e' below 1e-6 and from 1e21. */
static void test_prometheus_text(void **state)
{
    (void)state;
    char buf[PVM_FLOAT_BUFSIZE];
    static const struct {
        double v;
        const char *s;
    } t[] = {
        {0.0, "0"},
        {-0.0, "-0"},
        {1e-6, "0.000001"},
        {9.99e-7, "9.99e-07"},
        {1e20, "100000000000000000000"},
        {1e21, "1e+21"},
        {-1e21, "-1e+21"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {0.1, "0.1"},
        {2.5, "2.5"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        pvm_format_float(buf, t[i].v);
        assert_string_equal(buf, t[i].s);
    }
    pvm_format_timestamp(buf, 1500);
    assert_string_equal(buf, "1.500");
    pvm_format_timestamp(buf, -1);
    assert_string_equal(buf, "-0.001");
    pvm_format_timestamp(buf, 0);
    assert_string_equal(buf, "0");
}

static void test_digits_and_ints(void **state)
{
    (void)state;
    char d[20];
    int dp;
    assert_int_equal(pvm_float_digits(0.001, d, &dp), 1);
    assert_string_equal(d, "1");
    assert_int_equal(dp, -2);
    assert_int_equal(pvm_float_digits(-123.5, d, &dp), 4);
    assert_string_equal(d, "1235");
    assert_int_equal(dp, 3);
    char p[24];
    p[pvm_format_i64(p, INT64_MIN)] = '\0';
    assert_string_equal(p, "-9223372036854775808");
    p[pvm_format_u64(p, UINT64_MAX)] = '\0';
    assert_string_equal(p, "18446744073709551615");
    p[pvm_format_u64(p, 0)] = '\0';
    assert_string_equal(p, "0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f_and_g),
        cmocka_unit_test(test_specials),
        cmocka_unit_test(test_subnormal_f),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_prometheus_text),
        cmocka_unit_test(test_digits_and_ints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
