/* test_hostile_times.c: hostile times, steps and ranges (unparsable,
 * extreme, out of order, too many points), in-process through the test
 * kit. Part of test_hostile (test_hostile.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <pvm/testkit.h>
#include "form.h"
#include "test_hostile.h"

/* ---- times and steps --------------------------------------------------- */

void test_bad_times(void **state)
{
    static const char *const bad[] = {
        "NaN",
        "nan",
        "Inf",
        "+Inf",
        "-Inf",
        "infinity",
        "1e300",
        "-1e300",
        "1e19",
        "9.3e15",
        "x",
        "",
        "1.5.5",
        "0x",
        "1e",
        "--1",
        "9223372036854775807",
        "2024-13-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2024-01-01T25:00:00Z",
        "2024-01-01",
        "99999999999999999999999999999999999999",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *e = pvm_test_urlencode(bad[i]);
        char *t;
        if (*bad[i]) { /* an empty time is "now" for instant queries */
            t = fmt("/api/v1/query?query=1&time=%s", e);
            hit(*state, t, 400);
            free(t);
        }
        t = fmt("/api/v1/query_range?query=1&start=%s&end=100&step=15", e);
        hit(*state, t, 400);
        free(t);
        t = fmt("/api/v1/query_range?query=1&start=0&end=%s&step=15", e);
        hit(*state, t, 400);
        free(t);
        if (*bad[i]) {
            t = fmt("/api/v1/series?match[]=up&start=%s", e);
            hit(*state, t, 400);
            free(t);
            t = fmt("/api/v1/labels?end=%s", e);
            hit(*state, t, 400);
            free(t);
        }
        free(e);
    }
}

void test_extreme_times(void **state)
{
    /* negative, tiny, ms epochs as seconds (year 56,900), the extremes */
    static const char *const ok[] = {
        "-1",
        "-1e9",
        "0",
        "1e-300",
        "1732478212345",
        "1732478212345.678",
        "9.2e15",
        "-9.2e15",
        "-292273086-05-16T16:47:06Z",
        "292277025-08-18T07:12:54.999999999Z",
        "9999-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z",
        "2024-01-01T00:00:00.123456789+14:00",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *e = pvm_test_urlencode(ok[i]);
        char *t = fmt("/api/v1/query?query=" METRIC "&time=%s", e);
        hit(*state, t, 200);
        free(t);
        t = fmt("/api/v1/query?query=rate(" METRIC "[5m])&time=%s", e);
        hit(*state, t, ANY);
        free(t);
        t = fmt("/api/v1/query_range?query=" METRIC "&start=%s&end=%s&step=60",
                e, e);
        hit(*state, t, 200);
        free(t);
        t = fmt("/api/v1/series?match[]=" METRIC "&start=%s&end=%s", e, e);
        hit(*state, t, ANY);
        free(t);
        t = fmt("/api/v1/query_exemplars?query=" METRIC "&start=%s&end=%s", e,
                e);
        hit(*state, t, 200);
        free(t);
        free(e);
    }
    /* the exemplar probe: ms epochs, one hour apart */
    hit(*state,
        "/api/v1/query_exemplars?query=" METRIC
        "&start=1732478212345&end=1732481812345",
        200);
    hit(*state,
        "/api/v1/query_range?query=" METRIC
        "&start=1732478212345&end=1732478812345&step=60",
        200);
    /* spans whose length overflows int64 ms */
    hit(*state, "/api/v1/query_range?query=1&start=-9.2e15&end=9.2e15&step=1",
        400);
    hit(*state,
        "/api/v1/query_range?query=1&start=-292273086-05-16T16:47:06Z"
        "&end=292277025-08-18T07:12:54.999999999Z&step=1e15",
        400);
    hit(*state,
        "/api/v1/query_range?query=1&start=-9.2e15&end=9.2e15&step=1e12", ANY);
    /* offsets and @ at the extremes */
    hit_raw_query(*state, METRIC " offset 292y", ANY);
    hit_raw_query(*state, METRIC " offset -292y", ANY);
    hit_raw_query(*state, METRIC " @ 9.2e15", ANY);
    hit_raw_query(*state, METRIC " @ -9.2e15 offset 1y", ANY);
    hit_raw_query(*state, METRIC " @ 1e300", 400);
    hit_raw_query(*state, "rate(" METRIC "[292y])", ANY);
    hit_raw_query(*state, "rate(" METRIC "[100000000000000d])", 400);
    hit_raw_query(*state, METRIC "[1h:1ms]", ANY);
}

void test_bad_ranges(void **state)
{
    static const struct {
        const char *params; /* start, end, step */
        int status;         /* expected */
    } cases[] = {
        {"start=100&end=0&step=15", 400}, /* end before start */
        {"start=0&end=100&step=0", 400},
        {"start=0&end=100&step=-15", 400},
        {"start=0&end=100&step=1e-9", 400}, /* below 1 ms: too many points */
        {"start=0&end=100&step=0.0001", 400},
        {"start=0&end=100&step=NaN", 400},
        {"start=0&end=100&step=Inf", 400},
        {"start=0&end=100&step=-Inf", 400},
        {"start=0&end=100&step=1e300", 400},
        {"start=0&end=100&step=1e9", 200},  /* one point */
        {"start=0&end=100&step=1e10", 400}, /* overflows int64 ns */
        {"start=0&end=100&step=15s", 200},
        {"start=0&end=100&step=1h30m", 200},
        {"start=0&end=100&step=1x", 400},
        {"start=0&end=100&step=", 400},
        {"start=0&end=100", 400},
        {"start=0&step=15", 400},
        {"end=0&step=15", 400},
        {"start=0&end=11001&step=1", 400}, /* 11,001 points */
        {"start=0&end=11000&step=1", 200}, /* 11,001 steps: allowed */
        {"start=0&end=1e9&step=1", 400},
        {"start=0&end=100&step=0.001", 200}, /* 100,001 points? no: */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int want = cases[i].status;
        if (i == sizeof(cases) / sizeof(cases[0]) - 1)
            want = 400; /* 100 s at 1 ms: 100,000 points, refused */
        char *t = fmt("/api/v1/query_range?query=" METRIC "&%s",
                      cases[i].params);
        hit(*state, t, want);
        free(t);
    }
    hit(*state, "/api/v1/query?query=1&timeout=-1s", ANY);
    hit(*state, "/api/v1/query?query=1&timeout=1e300", 400);
    hit(*state, "/api/v1/query?query=1&timeout=NaN", 400);
    hit(*state, "/api/v1/query?query=1&limit=-1", 400);
    hit(*state, "/api/v1/query?query=1&limit=1e3", 400);
    hit(*state, "/api/v1/query?query=1&limit=99999999999999999999", 400);
    hit(*state, "/api/v1/labels?limit=18446744073709551615", 400);
    hit(*state, "/api/v1/labels?limit=9223372036854775807", 200);
    hit(*state, "/api/v1/query?query=" METRIC "&limit=1", 200);
}
