/* test_params.c: times, durations and limits as Prometheus parses them,
 * with Grafana's and client_golang's values and Prometheus' messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>
#include <time.h>

#include <pvm/calendar.h>
#include <pvm/response.h>

#include "params.h"
#include "testutil.h"

static const struct {
    const char *in; /* parameter text */
    int64_t ms;     /* expected value */
} good_times[] = {
    /* Grafana and client_golang shapes. */
    {"4", 4000},
    {"1732476600", 1732476600000},
    {"1732480012.345", 1732480012345},
    {"1732480012.1234567", 1732480012123},
    {"1732480012.9999", 1732480013000},
    {"1732478212345", 1732478212345000}, /* ms sent as s: year ~56,900 */
    /* Go ParseFloat syntax. */
    {"0", 0},
    {"-0", 0},
    {"+1.5", 1500},
    {"-1.5", -1500},
    {"-1.0005", -1000},
    {".5", 500},
    {"5.", 5000},
    {"1e3", 1000000},
    {"1E3", 1000000},
    {"1.5e+2", 150000},
    {"15e-1", 1500},
    {"0x1p-2", 250},
    {"0X1.8P1", 3000},
    {"1_000", 1000000},
    {"0x_1p0", 1000},
    {"1e-9", 0},
    {"-86400", -86400000},
    {"9000000000000000", 9000000000000000000},
    {"-9000000000000000", -9000000000000000000},
    /* RFC 3339. */
    {"2024-11-24T20:30:00Z", 1732480200000},
    {"2024-11-24T21:30:00+01:00", 1732480200000},
    {"2024-11-24T19:00:00-01:30", 1732480200000},
    {"2024-11-24T20:30:00.123456789Z", 1732480200123},
    {"2024-11-24T20:30:00.1Z", 1732480200100},
    {"2024-11-24T20:30:00,5Z", 1732480200500},
    {"2024-11-24T20:30:00.1239999999999Z", 1732480200123},
    {"2000-02-29T09:05:07Z", 951815107000},
    {"2000-02-29T9:05:07Z", 951815107000},
    {"1969-12-31T23:59:59.5Z", -500},
    {"0001-01-01T00:00:00Z", -62135596800000},
    {"9999-12-31T23:59:59Z", 253402300799000},
    {PVM_MIN_TIME_STRING, PVM_PARAMS_MIN_TIME_MS},
    {PVM_MAX_TIME_STRING, PVM_PARAMS_MAX_TIME_MS},
};

static const char *const bad_times[] = {
    "",
    "abc",
    " 4",
    "4 ",
    "1e",
    "1e+",
    "e3",
    ".",
    "-",
    "+",
    "1..2",
    "0x1",
    "0x1.8",
    "0xp1",
    "1__0",
    "_1",
    "1_",
    "1_.5",
    "1._5",
    "NaN",
    "nan",
    "Inf",
    "+Inf",
    "-inf",
    "infinity",
    "-Infinity",
    "1e400",
    "-1e400",
    "1e16",
    "-1e16",
    "9.3e15",
    "1e300",
    "2024-11-24T20:30:00",
    "2024-11-24t20:30:00Z",
    "2024-11-24T20:30:00z",
    "2024-11-24 20:30:00Z",
    "2024-02-30T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2024-13-01T00:00:00Z",
    "2024-11-24T24:00:00Z",
    "2024-11-24T20:60:00Z",
    "2024-11-24T20:30:60Z",
    "2024-11-24T20:30:00.Z",
    "2024-11-24T20:30:00+0100",
    "2024-11-24T20:30:00+25:00",
    "24-11-24T20:30:00Z",
    "-292273086-05-17T16:47:06Z",
    "2024-11-24T20:30Z",
    "0x1p-2 ",
};

static void test_time_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good_times) / sizeof(good_times[0]); i++) {
        int64_t ms = 42;
        pvm_error err = {0};
        int rc = pvm_parse_time(good_times[i].in, &ms, &err);
        if (rc != 0 || ms != good_times[i].ms)
            fail_msg("\"%s\": rc %d ms %lld, want %lld (%s)", good_times[i].in,
                     rc, (long long)ms, (long long)good_times[i].ms, err.msg);
    }
}

static void test_time_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
        int64_t ms = 42;
        pvm_error err = {0};
        char want[128];
        snprintf(want, sizeof(want),
                 "cannot parse \"%s\" to a valid timestamp", bad_times[i]);
        int rc = pvm_parse_time(bad_times[i], &ms, &err);
        if (rc != PVM_ERR_BAD_DATA || strcmp(err.msg, want) != 0)
            fail_msg("\"%s\": rc %d ms %lld msg [%s]", bad_times[i], rc,
                     (long long)ms, err.msg);
        assert_int_equal(err.code, PVM_ERR_BAD_DATA);
    }
    /* Quoting as Go's %q. */
    int64_t ms;
    pvm_error err = {0};
    pvm_parse_time("a\"b\\c\n", &ms, &err);
    assert_string_equal(
        err.msg, "cannot parse \"a\\\"b\\\\c\\n\" to a valid timestamp");
    assert_int_equal(pvm_parse_time("4", &ms, NULL), 0);
    assert_int_equal(pvm_parse_time("x", &ms, NULL), PVM_ERR_BAD_DATA);
}

static void test_duration(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t ms;
    } good[] = {
        {"15", 15000},
        {"60", 60000},
        {"0.5", 500},
        {"1e-9", 0},
        {"0.0005", 0},
        {"1.5e3", 1500000},
        {"-5", -5000},
        {"0", 0},
        {"15s", 15000},
        {"1m30s", 90000},
        {"1h", 3600000},
        {"500ms", 500},
        {"1d", 86400000},
        {"1w", 604800000},
        {"1y", 31536000000},
        {"1h30m", 5400000},
        {"1m0s", 60000},
        {"1h0m0s", 3600000},
        {"1y2w3d4h5m6s7ms", 31536000000 + 2 * 604800000 + 3 * 86400000 +
                                4 * 3600000 + 5 * 60000 + 6000 + 7},
        {"3600s", 3600000},
        {"0s", 0},
        {"00m", 0},
        {"106751d", 9223286400000},
        {"9223372036", 9223372036000},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int64_t ms = 42;
        pvm_error err = {0};
        int rc = pvm_parse_duration(good[i].in, &ms, &err);
        if (rc != 0 || ms != good[i].ms)
            fail_msg("\"%s\": rc %d ms %lld, want %lld (%s)", good[i].in, rc,
                     (long long)ms, (long long)good[i].ms, err.msg);
    }
    static const char *const bad[] = {
        "x",     "",    "1.5s", "1s1m", "1m1m", "5m ",   " 5m",
        "1e400", "NaN", "-5m",  "1",    "s",    "1ms1s", "106752d",
        "1.1s",  "1x",  "1mss", "1_s",  "0x10",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t ms;
        pvm_error err = {0};
        char want[128];
        snprintf(want, sizeof(want), "cannot parse \"%s\" to a valid duration",
                 bad[i]);
        int rc = pvm_parse_duration(bad[i], &ms, &err);
        if (strcmp(bad[i], "1") == 0) { /* a float: 1 s */
            assert_int_equal(rc, 0);
            assert_int_equal(ms, 1000);
            continue;
        }
        if (rc != PVM_ERR_BAD_DATA || strcmp(err.msg, want) != 0)
            fail_msg("\"%s\": rc %d msg [%s]", bad[i], rc, err.msg);
    }
    static const char *const overflow[] = {
        "1e300", "-1e300", "Inf", "-Inf", "9223372036.854775807", "1e10",
    };
    for (size_t i = 0; i < sizeof(overflow) / sizeof(overflow[0]); i++) {
        int64_t ms;
        pvm_error err = {0};
        char want[128];
        snprintf(want, sizeof(want),
                 "cannot parse \"%s\" to a valid duration. It overflows int64",
                 overflow[i]);
        assert_int_equal(pvm_parse_duration(overflow[i], &ms, &err),
                         PVM_ERR_BAD_DATA);
        assert_string_equal(err.msg, want);
    }
}

static void test_prom_duration(void **state)
{
    (void)state;
    int64_t ms;
    pvm_error err = {0};
    assert_int_equal(pvm_parse_prom_duration("1m30s", 5, &ms), 0);
    assert_int_equal(ms, 90000);
    /* Length-delimited: the rest of a PromQL expression is ignored. */
    assert_int_equal(pvm_parse_prom_duration("5m])", 2, &ms), 0);
    assert_int_equal(ms, 300000);
    assert_int_equal(pvm_parse_prom_duration("15", 2, &ms), PVM_ERR_BAD_DATA);
    static const struct {
        const char *in;
        const char *msg;
    } errs[] = {
        {"1x", "unknown unit \"x\" in duration \"1x\""},
        {"1.5h", "unknown unit \".\" in duration \"1.5h\""},
        {"", "empty duration string"},
        {"1s1m", "not a valid duration string: \"1s1m\""},
        {"m", "not a valid duration string: \"m\""},
        {"5", "not a valid duration string: \"5\""},
        {"300y", "duration out of range"},
        {"106752d", "duration out of range"},
        {"99999999999999999999s", "not a valid duration string: "
                                  "\"99999999999999999999s\""},
        {"-1s", "not a valid duration string: \"-1s\""},
    };
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        pvm_error_clear(&err);
        assert_int_equal(pvm_parse_prom_duration_err(errs[i].in,
                                                     strlen(errs[i].in), &ms,
                                                     &err),
                         PVM_ERR_BAD_DATA);
        assert_string_equal(err.msg, errs[i].msg);
    }
    assert_int_equal(pvm_parse_prom_duration_err("292y", 4, &ms, &err), 0);
    assert_int_equal(ms, 292LL * 31536000000);
}

static void test_format_duration(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {5400000, "1h30m"},
        {300000, "5m"},
        {500, "500ms"},
        {0, "0s"},
        {31536000000, "1y"},
        {9 * 86400000LL, "9d"}, /* weeks only when exact, as Go */
        {14 * 86400000LL, "2w"},
        {90 * 86400000LL, "90d"},
        {366 * 86400000LL, "366d"},
        {31536000001, "365d1ms"},
        {3661001, "1h1m1s1ms"},
        {-300000, "-5m"},
        {15000, "15s"},
        {INT64_MIN, "-106751991167d7h12m55s808ms"},
        {INT64_MAX, "106751991167d7h12m55s807ms"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = pvm_format_duration(buf, sizeof(buf), cases[i].ms);
        assert_string_equal(buf, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
        /* Positive outputs parse back. */
        int64_t back;
        if (cases[i].ms >= 0 && cases[i].ms < INT64_MAX / 1000000) {
            assert_int_equal(pvm_parse_prom_duration(buf, n, &back), 0);
            assert_int_equal(back, cases[i].ms);
        }
    }
    char small[4];
    assert_int_equal(pvm_format_duration(small, sizeof(small), 5400000), 5);
    assert_string_equal(small, "1h3");
}

static void test_limit(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t want;
    } good[] = {
        {NULL, 0},
        {"", 0},
        {"0", 0},
        {"40000", 40000},
        {"+5", 5},
        {"-0", 0},
        {"9223372036854775807", (size_t)INT64_MAX},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        size_t v = 42;
        assert_int_equal(pvm_parse_limit(good[i].in, &v, NULL), 0);
        assert_int_equal(v, good[i].want);
    }
    static const struct {
        const char *in;
        const char *msg;
    } bad[] = {
        {"-1", "limit must be non-negative"},
        {"-9223372036854775808", "limit must be non-negative"},
        {"abc", "limit must be a number"},
        {"1.5", "limit must be a number"},
        {" 5", "limit must be a number"},
        {"5 ", "limit must be a number"},
        {"-", "limit must be a number"},
        {"1_000", "limit must be a number"},
        {"9223372036854775808", "limit must be a number"},
        {"-9223372036854775809", "limit must be a number"},
        {"0x10", "limit must be a number"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t v = 42;
        pvm_error err = {0};
        assert_int_equal(pvm_parse_limit(bad[i].in, &v, &err),
                         PVM_ERR_BAD_DATA);
        assert_string_equal(err.msg, bad[i].msg);
        assert_int_equal(v, 0);
    }
}

/* pvm_parse_sample_value: Prometheus' text-format float syntax (Go's
 * ParseFloat without 'p', 'P' and '_'). */
static void test_sample_value(void **state)
{
    (void)state;
    static const struct {
        const char *s; /* text */
        double v;      /* value */
    } good[] = {
        {"42", 42},
        {"-1.5", -1.5},
        {"+.5", 0.5},
        {"5.", 5},
        {"1e3", 1000},
        {"1E-3", 0.001},
        {"007", 7},
        {"1e-400", 0},
        {"Inf", INFINITY},
        {"+inf", INFINITY},
        {"-Infinity", -INFINITY},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        double v = -1;
        assert_int_equal(pvm_parse_sample_value(good[i].s, &v), 0);
        pvm_assert_double_eq(v, good[i].v);
    }
    double v = 0;
    assert_int_equal(pvm_parse_sample_value("NaN", &v), 0);
    assert_true(isnan(v));
    assert_int_equal(pvm_parse_sample_value("nan", &v), 0);
    static const char *const bad[] = {
        "",      " 1",    "1 ",     "0x10", "0X10",    "0x1p4", "0x1P-2",
        "1_000", "1e400", "-1e400", "1e",   "e3",      ".",     "+",
        "--1",   "1.2.3", "inf1",   "-nan", "infinit", "١",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 12345;
        if (pvm_parse_sample_value(bad[i], &v) != PVM_ERR_BAD_DATA)
            fail_msg("'%s' accepted as %g", bad[i], v);
        pvm_assert_double_eq(v, 12345);
    }
}

/* pvm/calendar.h: days <-> dates agree with timegm/gmtime_r over four
 * centuries around the epoch (leap years, 1900, 2000, negative days) and
 * round-trip at the ends of the int64 ms range. */
static void test_calendar(void **state)
{
    (void)state;
    for (int64_t z = -146097; z <= 146097 * 2; z += 7) {
        int64_t y;
        int m, d;
        pvm_civil_from_days(z, &y, &m, &d);
        assert_int_equal(pvm_days_from_civil(y, m, d), z);
        time_t t = (time_t)(z * 86400);
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        assert_int_equal(y, tm.tm_year + 1900);
        assert_int_equal(m, tm.tm_mon + 1);
        assert_int_equal(d, tm.tm_mday);
    }
    assert_int_equal(pvm_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(pvm_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(pvm_days_from_civil(1969, 12, 31), -1);
    int64_t far = INT64_MAX / 86400000;
    int64_t y;
    int m, d;
    pvm_civil_from_days(far, &y, &m, &d);
    assert_int_equal(pvm_days_from_civil(y, m, d), far);
    pvm_civil_from_days(-far, &y, &m, &d);
    assert_int_equal(pvm_days_from_civil(y, m, d), -far);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_good),
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_time_bad),
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_prom_duration),
        cmocka_unit_test(test_format_duration),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_sample_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
