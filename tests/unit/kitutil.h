/* kitutil.h: cmocka helpers of the unit tests that run requests through
 * the test kit (pvm/testkit.h): a kit as a group fixture or for one test,
 * the status of an answer, its points and string arrays. They fail the
 * test through cmocka, which is why they are here and not in the test
 * kit (plugin authors may test with another framework). Include after
 * <cmocka.h>. */
#ifndef PVM_TESTS_UNIT_KITUTIL_H
#define PVM_TESTS_UNIT_KITUTIL_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <pvm/testkit.h>

/* Group setup: *state is a kit of ini and table; -1 (with the kit's
 * error on stderr) when it does not start. */
static inline int setup_kit(void **state, const char *ini,
                            const pvm_plugin_type *const *table)
{
    char err[1024];
    *state = pvm_testkit_new(ini, table, err, sizeof(err));
    if (!*state)
        fprintf(stderr, "testkit: %s\n", err);
    return *state ? 0 : -1;
}

/* Group teardown of setup_kit. */
static inline int teardown_kit(void **state)
{
    pvm_testkit_free(*state);
    return 0;
}

/* A kit of ini and table; fails the test when it does not start. */
static inline pvm_testkit *kit_or_fail(const char *ini,
                                       const pvm_plugin_type *const *table)
{
    char err[1024];
    pvm_testkit *k = pvm_testkit_new(ini, table, err, sizeof(err));
    if (!k)
        fail_msg("pvm_testkit_new: %s", err);
    return k;
}

/* Fails the test unless a kit of ini and table fails to start with an
 * error that contains want. */
static inline void expect_kit_error(const char *ini,
                                    const pvm_plugin_type *const *table,
                                    const char *want)
{
    char err[4096] = "";
    pvm_testkit *k = pvm_testkit_new(ini, table, err, sizeof(err));
    if (k) {
        pvm_testkit_free(k);
        fail_msg("accepted, expected '%s'", want);
    }
    if (!strstr(err, want))
        fail_msg("error '%s' does not contain '%s'", err, want);
}

/* Fails the test unless r answered code; returns r. */
static inline pvm_test_response *status(pvm_test_response *r, int code)
{
    assert_non_null(r);
    if (r->status != code)
        fail_msg("status %d, not %d: %s", r->status, code, r->body);
    return r;
}

/* Fails the test unless r answered 200; returns r. */
static inline pvm_test_response *ok(pvm_test_response *r)
{
    return status(r, 200);
}

/* Fails the test unless the instant query q at time t answers 200 with
 * want as the value of its first series. */
static inline void expect_instant_value(pvm_testkit *k, const char *q,
                                        double t, const char *want)
{
    pvm_test_response *r = ok(pvm_testkit_instant(k, q, t));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        want);
    pvm_test_response_free(r);
}

/* Checks one point ([t, "v"]) at path. */
static inline void expect_point(json_object *root, const char *path, double t,
                                const char *v)
{
    char p[128];
    snprintf(p, sizeof(p), "%s[0]", path);
    json_object *ts = pvm_test_json_get(root, p);
    if (!ts)
        fail_msg("no point at %s", path);
    assert_true(fabs(json_object_get_double(ts) - t) < 1e-9);
    snprintf(p, sizeof(p), "%s[1]", path);
    assert_string_equal(pvm_test_json_string(root, p), v);
}

/* The array of strings at data, joined with commas (a static buffer). */
static inline const char *joined(pvm_test_response *r)
{
    static char out[1024];
    out[0] = '\0';
    for (int i = 0; i < pvm_test_json_length(r->json, "data"); i++) {
        char p[32];
        snprintf(p, sizeof(p), "data[%d]", i);
        strcat(out, i ? "," : "");
        strncat(out, pvm_test_json_string(r->json, p),
                sizeof(out) - strlen(out) - 1);
    }
    return out;
}

#endif
