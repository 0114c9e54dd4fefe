/* test_plugin_openmetrics_file_large.c: the openmetrics_file plugin with
 * many selectors (match[] in the query string and the body), a 200,000-
 * series file, series without labels and the loader's name index. Part
 * of test_plugin_openmetrics_file (test_plugin_openmetrics_file.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <pvm/pvm.h>
#include <pvm/testkit.h>
#include "openmetrics_load.h"
#include "test_plugin_openmetrics_file.h"

/* ---- many selectors, large files, series without labels --------------- */

/* POSTs body (form-encoded) to target. */
static pvm_test_response *post_form(pvm_testkit *kit, const char *target,
                                    const char *body)
{
    static const char *const form[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL};
    return pvm_testkit_request(kit, "POST", target, body, form);
}

/* GETs target?query. */
static pvm_test_response *get_form(pvm_testkit *kit, const char *target,
                                   const char *query)
{
    size_t n = strlen(target) + strlen(query) + 2;
    char *t = malloc(n);
    assert_non_null(t);
    snprintf(t, n, "%s?%s", target, query);
    pvm_test_response *r = pvm_testkit_request(kit, "GET", t, NULL, NULL);
    free(t);
    return r;
}

/* A malloc'd form body: prefix, then n times "&match[]=" fmt(i). */
static char *match_body(const char *prefix, size_t n,
                        int (*sel)(char *buf, size_t len, size_t i))
{
    size_t cap = strlen(prefix) + n * 96 + 1, o = strlen(prefix);
    char *b = malloc(cap);
    assert_non_null(b);
    memcpy(b, prefix, o + 1);
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(b + o, cap - o, "&match[]=");
        o += (size_t)sel(b + o, cap - o, i);
        assert_true(o < cap);
    }
    return b;
}

/* Digits after prefix in s as a number, or -1. */
static long number_after(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    if (!s || strncmp(s, prefix, n) != 0 || !s[n])
        return -1;
    char *end;
    long v = strtol(s + n, &end, 10);
    return *end ? -1 : v;
}

static int sel_metric(char *buf, size_t len, size_t i)
{
    return snprintf(buf, len, "m%zu", i);
}

/* 7,000 match[] selectors (a 7,000-metric file): every metric's series
 * comes back once. The selector array used to grow by exact fit, each
 * copy left in the arena: O(n^2) bytes, 1 GB and a 422 at 7,000. */
void test_many_selectors(void **state)
{
    (void)state;
    enum { N = 7000 };
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    for (int i = 0; i < N; i++)
        fprintf(f, "m%d{k=\"%d\"} %d 100\n", i, i % 7, i);
    fputs("# EOF\n", f);
    fclose(f);
    pvm_testkit *kit = kit_with("");
    char *body = match_body("start=0&end=1000", N, sel_metric);
    assert_true(strlen(body) > 90000);
    pvm_test_response *r = ok(post_form(kit, "/api/v1/series", body));
    assert_int_equal(pvm_test_json_length(r->json, "data"), N);
    char *seen = calloc(N, 1);
    assert_non_null(seen);
    for (int i = 0; i < N; i++) {
        char p[64], want[16];
        snprintf(p, sizeof(p), "data[%d].__name__", i);
        long k = number_after(pvm_test_json_string(r->json, p), "m");
        assert_true(k >= 0 && k < N && !seen[k]);
        seen[k] = 1;
        snprintf(p, sizeof(p), "data[%d].k", i);
        snprintf(want, sizeof(want), "%ld", k % 7);
        assert_string_equal(pvm_test_json_string(r->json, p), want);
    }
    free(seen);
    pvm_test_response_free(r);
    /* the same selectors for the label values */
    memcpy(body, "start=0&end=1000", 16);
    r = ok(get_form(kit, "/api/v1/label/k/values", body));
    assert_string_equal(joined(r), "0,1,2,3,4,5,6");
    pvm_test_response_free(r);
    free(body);
    pvm_testkit_free(kit);
}

/* The large file: NAMES metrics n0.. of PER series each, series j with
 * i="j" and g="j % 3"; every 50th metric also has a series without
 * labels; and one metric `bare` with no labels at all. */
enum { NAMES = 2000, PER = 100 };

static void write_large(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int j = 0; j < PER; j++)
        for (int n = 0; n < NAMES; n++)
            fprintf(f, "n%d{i=\"%d\",g=\"%d\"} %d 100\n", n, j, j % 3, j);
    for (int n = 0; n < NAMES; n += 50)
        fprintf(f, "n%d 7 100\n", n);
    fputs("bare 1 100\nbare 2 200\n# EOF\n", f);
    fclose(f);
}

static int sel_even_g1(char *buf, size_t len, size_t i)
{
    return snprintf(buf, len, "n%zu{g=\"1\"}", 2 * i);
}

static int sel_mixed(char *buf, size_t len, size_t i)
{
    /* 999 named selectors and, first, one without a name */
    return i == 0 ? snprintf(buf, len, "{i=\"5\"}")
                  : snprintf(buf, len, "{__name__=\"n%zu\",i=\"7\"}", i);
}

/* Discovery over a 200,000-series file with 1,000 selectors gives the
 * exact set each time (selectors with a name use the plugin's name
 * index; one without a name scans); the answers are checked, not the
 * time. Series without labels are served (they used to be undefined
 * behaviour: memcpy from NULL). */
void test_large_file_discovery(void **state)
{
    (void)state;
    write_large(file);
    pvm_testkit *kit = kit_with("[server]\nmax_samples = 10000000\n");

    /* 1,000 selectors n0, n2, ..., n1998 with g="1": 33 series each */
    char *body = match_body("start=0&end=1000", 1000, sel_even_g1);
    pvm_test_response *r = ok(post_form(kit, "/api/v1/series", body));
    int n = pvm_test_json_length(r->json, "data");
    assert_int_equal(n, 1000 * 33);
    for (int k = 0; k < n; k++) {
        char p[64];
        snprintf(p, sizeof(p), "data[%d].__name__", k);
        long m = number_after(pvm_test_json_string(r->json, p), "n");
        assert_true(m >= 0 && m % 2 == 0);
        snprintf(p, sizeof(p), "data[%d].g", k);
        assert_string_equal(pvm_test_json_string(r->json, p), "1");
        snprintf(p, sizeof(p), "data[%d].i", k);
        assert_int_equal(number_after(pvm_test_json_string(r->json, p), "") %
                             3,
                         1);
    }
    pvm_test_response_free(r);
    r = ok(get_form(kit, "/api/v1/label/__name__/values", body));
    assert_int_equal(pvm_test_json_length(r->json, "data"), 1000);
    pvm_test_response_free(r);
    free(body);

    /* one selector without a name and 999 with: {i="5"} matches one
     * series of every metric, n1..n999{i="7"} one more each */
    body = match_body("start=0&end=1000", 1000, sel_mixed);
    r = ok(post_form(kit, "/api/v1/series", body));
    assert_int_equal(pvm_test_json_length(r->json, "data"), NAMES + 999);
    pvm_test_response_free(r);
    r = ok(get_form(kit, "/api/v1/label/i/values", body));
    assert_string_equal(joined(r), "5,7");
    pvm_test_response_free(r);
    free(body);

    /* queries whose selectors name several metrics */
    r = ok(pvm_testkit_instant(kit,
                               "count(n1) + count(n2) + "
                               "count({__name__=\"n3\",g=\"0\"})",
                               150));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "234");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_range(kit, "count(n10) + count({__name__=~\"n1.\"})",
                             100, 160, 60));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].values[0][1]"),
                        "1100");
    pvm_test_response_free(r);

    /* series without labels, alone and next to labelled ones */
    r = ok(pvm_testkit_series(kit, "bare", 0, 1000));
    assert_int_equal(pvm_test_json_length(r->json, "data"), 1);
    assert_string_equal(pvm_test_json_string(r->json, "data[0].__name__"),
                        "bare");
    pvm_test_response_free(r);
    /* bare and n50's 100 series; n50's own label-less series is folded
     * into them (the server drops a {__name__="x"} entry when fuller
     * label sets of x were found) */
    r = ok(pvm_testkit_series(kit, "{__name__=~\"bare|n50\"}", 0, 1000));
    assert_int_equal(pvm_test_json_length(r->json, "data"), PER + 1);
    pvm_test_response_free(r);
    r = ok(pvm_testkit_label_names(kit, "bare"));
    assert_string_equal(joined(r), "__name__");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(kit, "bare", 250));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "2");
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

/* The loader's name index: every series under its name, in file order. */
void test_name_index(void **state)
{
    (void)state;
    write_large(file);
    struct timespec mtime;
    off_t size;
    pvm_error err = {0};
    pvm_om_data *d = pvm_om_load(file, false, &mtime, &size, &err);
    assert_non_null(d);
    assert_int_equal(d->nseries, NAMES * PER + NAMES / 50 + 1);
    const uint32_t *idx;
    size_t total = 0;
    for (int m = 0; m < NAMES; m++) {
        char name[16];
        snprintf(name, sizeof(name), "n%d", m);
        size_t k = pvm_om_series_named(d, name, &idx);
        assert_int_equal(k, PER + (m % 50 == 0));
        for (size_t i = 0; i < k; i++) {
            assert_string_equal(d->series[idx[i]].name, name);
            assert_true(i == 0 || idx[i] > idx[i - 1]);
        }
        total += k;
    }
    assert_int_equal(pvm_om_series_named(d, "bare", &idx), 1);
    assert_int_equal(d->series[idx[0]].nlabels, 0);
    assert_int_equal(pvm_om_series_named(d, "nope", &idx), 0);
    assert_int_equal(pvm_om_series_named(d, "", &idx), 0);
    assert_int_equal(total + 1, d->nseries);
    pvm_om_free(d);
}
