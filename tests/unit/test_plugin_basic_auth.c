/* test_plugin_basic_auth.c: the basic_auth plugin through the test kit:
 * 401 with a challenge without or with wrong credentials on every path
 * (the on_request gate: data endpoints, queries without selectors, the
 * static endpoints, /metrics, unknown paths), 200 with right ones for
 * plain, bcrypt and SHA-crypt users, exempt_paths, a wrapped gate that
 * fails closed, htpasswd errors, and pvm_request_basic_credentials(). */
#include <crypt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "kitutil.h"

extern const pvm_plugin_type pvm_plugin_basic_auth;
extern const pvm_plugin_type pvm_plugin_catch_errors;

/* ---- a good plugin, and a probe of pvm_request_basic_credentials -------- */

static int good_value(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    return pvm_response_add_value(resp, "metric1");
}

static int good_sample(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    int rc = pvm_response_add_sample(resp, "metric1", 1,
                                     pvm_request_start(req), NULL, 0);
    return rc < 0 ? rc : 0;
}

static const pvm_plugin_type good = {
    .name = "good",
    .on_instant_query_request = good_sample,
    .on_range_query_request = good_sample,
    .on_metric_names_request = good_value,
    .on_label_names_request = good_value,
    .on_label_values_request = good_value,
};

/* What the probe read. */
static struct {
    int rc;        /* return code */
    char user[16]; /* user read */
    char pass[16]; /* password read */
} seen;

static int probe(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    seen.rc = pvm_request_basic_credentials(req, seen.user, sizeof(seen.user),
                                            seen.pass, sizeof(seen.pass));
    return 0;
}

static const pvm_plugin_type probe_type = {
    .name = "probe",
    .on_label_names_request = probe,
};

/* A gate that fails (as a crashing check would report itself). */
static int broken_gate(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    return pvm_response_fail(resp, "cannot reach the user database");
}

static const pvm_plugin_type broken_gate_type = {
    .name = "broken_gate",
    .on_request = broken_gate,
};

static const pvm_plugin_type *const table[] = {
    &pvm_plugin_basic_auth, &good, &probe_type, &pvm_plugin_catch_errors,
    &broken_gate_type,      NULL};

/* ---- helpers ------------------------------------------------------------ */

static const char *fixture(const char *name)
{
    static char path[1024];
    const char *srcdir = getenv("srcdir");
    snprintf(path, sizeof(path), "%s/tests/data/%s", srcdir ? srcdir : ".",
             name);
    return path;
}

static const char *const targets[] = {
    "/api/v1/query?query=metric1&time=0",
    "/api/v1/query_range?query=metric1&start=0&end=30&step=15",
    "/api/v1/labels",
    "/api/v1/label/label1/values",
    "/api/v1/label/__name__/values",
    "/api/v1/series?match%5B%5D=metric1",
    "/api/v1/metadata",
    "/federate?match%5B%5D=metric1",
};
#define NTARGETS 8

/* Paths that reach no data hook: before the gate they were answered
 * without credentials. */
static const char *const ungated[] = {
    "/api/v1/query?query=vector(1)&time=0",
    "/api/v1/query?query=time()&time=0",
    "/api/v1/query_range?query=vector(1)&start=0&end=30&step=15",
    "/api/v1/query?query=label_join(vector(1),%22a%22,%22%22,%22b%22)",
    "/metrics",
    "/api/v1/status/buildinfo",
    "/api/v1/format_query?query=metric1%2B1",
    "/api/v1/parse_query?query=metric1",
    "/api/v1/query_exemplars?query=metric1",
    "/api/v1/rules",
    "/api/v1/alerts",
    "/api/v1/metadata",
};
#define NUNGATED (sizeof(ungated) / sizeof(ungated[0]))

/* GET target with an Authorization header (none when auth is NULL). */
static pvm_test_response *get(pvm_testkit *kit, const char *target,
                              const char *auth)
{
    char header[600];
    snprintf(header, sizeof(header), "Authorization: %s", auth ? auth : "");
    const char *headers[] = {header, NULL};
    return pvm_testkit_request(kit, "GET", target, NULL,
                               auth ? headers : NULL);
}

/* GET target with Basic credentials user:pass. */
static pvm_test_response *get_as(pvm_testkit *kit, const char *target,
                                 const char *userpass)
{
    char *b = pvm_test_base64(userpass);
    char auth[512];
    snprintf(auth, sizeof(auth), "Basic %s", b);
    free(b);
    return get(kit, target, auth);
}

static void expect_401(pvm_test_response *r, const char *realm)
{
    char want[128];
    assert_non_null(r);
    assert_int_equal(r->status, 401);
    assert_string_equal(pvm_test_json_string(r->json, "status"), "error");
    const char *h = pvm_test_response_header(r, "WWW-Authenticate");
    assert_non_null(h);
    snprintf(want, sizeof(want), "Basic realm=\"%s\"", realm);
    assert_string_equal(h, want);
    pvm_test_response_free(r);
}

static void expect_200(pvm_test_response *r)
{
    assert_non_null(r);
    assert_int_equal(r->status, 200);
    if (r->json) /* /federate answers in the text format */
        assert_string_equal(pvm_test_json_string(r->json, "status"),
                            "success");
    assert_null(pvm_test_response_header(r, "WWW-Authenticate"));
    pvm_test_response_free(r);
}

/* 200 for any body (the /metrics text included). */
static void expect_status(pvm_test_response *r, int status)
{
    assert_non_null(r);
    if (r->status != status)
        fprintf(stderr, "got %d: %s\n", r->status, r->body);
    assert_int_equal(r->status, status);
    assert_null(pvm_test_response_header(r, "WWW-Authenticate"));
    pvm_test_response_free(r);
}

/* A kit with alice (plain), bob ($2y$), carol ($6$), dave ($5$) and a
 * bcrypt $2b$ user erin written to a temporary htpasswd file. */
static char tmp_htpasswd[64];

static int setup(void **state)
{
    struct crypt_data cd = {0};
    const char *hash = crypt_r("erin-pass", "$2b$05$0123456789abcdefghijkl",
                               &cd);
    assert_non_null(hash);
    strcpy(tmp_htpasswd, "/tmp/pvm-test-htpasswd-XXXXXX");
    int fd = mkstemp(tmp_htpasswd);
    assert_true(fd >= 0);
    dprintf(fd, "# generated by the test\nerin:%s\n", hash);
    close(fd);
    char ini[4096];
    snprintf(ini, sizeof(ini),
             "[plugin:auth]\ntype = basic_auth\nuser = alice:secret\n"
             "htpasswd = %s\n"
             "[plugin:files]\ntype = basic_auth\nhtpasswd = %s\n"
             "realm = Virtual metrics\n"
             "[plugin:good]\n",
             tmp_htpasswd, fixture("basic_auth.htpasswd"));
    char err[512];
    *state = pvm_testkit_new(ini, table, err, sizeof(err));
    if (!*state)
        fail_msg("pvm_testkit_new: %s", err);
    return 0;
}

static int teardown(void **state)
{
    pvm_testkit_free(*state);
    unlink(tmp_htpasswd);
    return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_no_credentials(void **state)
{
    for (int i = 0; i < NTARGETS; i++) {
        expect_401(get(*state, targets[i], NULL), "pvm");
        expect_401(get(*state, targets[i], "Bearer abc"), "pvm");
    }
}

/* Wrong password, unknown user, malformed headers: all 401. */
static void test_wrong_credentials(void **state)
{
    for (int i = 0; i < NTARGETS; i++) {
        expect_401(get_as(*state, targets[i], "alice:wrong"), "pvm");
        expect_401(get_as(*state, targets[i], "alice:"), "pvm");
        expect_401(get_as(*state, targets[i], "mallory:secret"), "pvm");
        expect_401(get_as(*state, targets[i], "erin:secret"), "pvm");
        expect_401(get_as(*state, targets[i], "alicesecret"), "pvm");
        expect_401(get(*state, targets[i], "Basic !!!!"), "pvm");
        expect_401(get(*state, targets[i], "Basic "), "pvm");
    }
}

/* The first instance lets alice and erin pass, the second refuses them
 * with its own realm. */
static void test_second_instance_refuses(void **state)
{
    for (int i = 0; i < NTARGETS; i++) {
        expect_401(get_as(*state, targets[i], "alice:secret"),
                   "Virtual metrics");
        expect_401(get_as(*state, targets[i], "bob:bob-pass"), "pvm");
    }
}

/* Every path is gated, whether or not it reaches a plugin hook: queries
 * without selectors, the static endpoints, /metrics, unknown paths, any
 * method. */
static void test_every_path_gated(void **state)
{
    for (size_t i = 0; i < NUNGATED; i++) {
        expect_401(get(*state, ungated[i], NULL), "pvm");
        expect_401(get_as(*state, ungated[i], "alice:wrong"), "pvm");
    }
    expect_401(get(*state, "/nope", NULL), "pvm");
    expect_401(get(*state, "/api/v1/nope", NULL), "pvm");
    expect_401(pvm_testkit_request(*state, "POST", "/api/v1/query",
                                   "query=vector(1)", NULL),
               "pvm");
    expect_401(pvm_testkit_request(*state, "DELETE", "/api/v1/query", NULL,
                                   NULL),
               "pvm");

    pvm_testkit *kit =
        kit_or_fail("[plugin:auth]\ntype = basic_auth\nuser = alice:secret\n"
                    "[plugin:good]\n",
                    table);
    for (size_t i = 0; i < NUNGATED; i++) {
        expect_status(get_as(kit, ungated[i], "alice:secret"), 200);
        expect_401(get(kit, ungated[i], NULL), "pvm");
    }
    expect_status(get_as(kit, "/nope", "alice:secret"), 404);
    pvm_testkit_free(kit);
}

/* exempt_paths: exactly the listed paths pass without credentials. */
static void test_exempt_paths(void **state)
{
    pvm_testkit *kit =
        kit_or_fail("[plugin:auth]\ntype = basic_auth\nuser = alice:secret\n"
                    "exempt_paths = /api/v1/status/buildinfo, /metrics\n"
                    "exempt_paths = /healthz\n"
                    "[plugin:good]\n",
                    table);
    expect_status(get(kit, "/api/v1/status/buildinfo", NULL), 200);
    expect_status(get(kit, "/metrics", NULL), 200);
    expect_status(get(kit, "/healthz", NULL), 404);
    /* exact paths: the query string is not part of it, nothing else */
    expect_status(get(kit, "/metrics?x=1", NULL), 200);
    expect_401(get(kit, "/metrics/", NULL), "pvm");
    expect_401(get(kit, "/api/v1/status/buildinfo/", NULL), "pvm");
    expect_401(get(kit, "/api/v1/rules", NULL), "pvm");
    for (int i = 0; i < NTARGETS; i++)
        expect_401(get(kit, targets[i], NULL), "pvm");
    pvm_testkit_free(kit);
}

/* The health checks pass no gate by default, and every gate with
 * [server] gate_health_checks = yes; the other paths stay gated. */
static void test_health_checks(void **state)
{
    static const char *const health[] = {"/-/healthy", "/-/ready"};
    const char *ini[] = {
        "[plugin:auth]\ntype = basic_auth\nuser = alice:secret\n"
        "[plugin:good]\n",
        "[server]\ngate_health_checks = yes\n"
        "[plugin:auth]\ntype = basic_auth\nuser = alice:secret\n"
        "[plugin:good]\n",
    };
    for (int gated = 0; gated < 2; gated++) {
        pvm_testkit *kit = kit_or_fail(ini[gated], table);
        for (int i = 0; i < 2; i++) {
            if (gated)
                expect_401(get(kit, health[i], NULL), "pvm");
            else
                expect_status(get(kit, health[i], NULL), 200);
            expect_status(get_as(kit, health[i], "alice:secret"), 200);
        }
        expect_401(get(kit, "/api/v1/status/buildinfo", NULL), "pvm");
        pvm_testkit_free(kit);
    }
    (void)state;
}

/* A gate wrapped by catch_errors is still a gate, and a failing gate
 * keeps the request out (500), whatever the wrapper. */
static void test_wrapped_gate_fails_closed(void **state)
{
    char err[512];
    pvm_testkit *kit =
        kit_or_fail("[plugin:shield]\ntype = catch_errors\nwrap = auth\n"
                    "[plugin:auth]\ntype = basic_auth\nuser = alice:secret\n"
                    "[plugin:good]\n",
                    table);
    expect_401(get(kit, ungated[0], NULL), "pvm");
    expect_401(get_as(kit, "/metrics", "alice:nope"), "pvm");
    expect_status(get_as(kit, ungated[0], "alice:secret"), 200);
    pvm_testkit_free(kit);

    kit = kit_or_fail("[plugin:shield]\ntype = catch_errors\n"
                      "wrap = gate\n"
                      "[plugin:gate]\ntype = broken_gate\n"
                      "[plugin:good]\n",
                      table);
    for (size_t i = 0; i < NUNGATED; i++) {
        pvm_test_response *r = get(kit, ungated[i], NULL);
        assert_int_equal(r->status, 500);
        assert_non_null(strstr(r->body, "cannot reach the user database"));
        pvm_test_response_free(r);
    }
    pvm_testkit_free(kit);

    /* Shielding the gate is refused outright. */
    kit = pvm_testkit_new("[plugin:shield]\ntype = catch_errors\n"
                          "wrap = gate\nhooks = on_request\n"
                          "[plugin:gate]\ntype = broken_gate\n",
                          table, err, sizeof(err));
    assert_null(kit);
    assert_non_null(strstr(err, "on_request cannot be shielded"));
}

static void test_right_credentials(void **state)
{
    pvm_testkit *kit =
        kit_or_fail("[plugin:auth]\ntype = basic_auth\nuser = alice:secret\n"
                    "user = zoe:with:colons\n[plugin:good]\n",
                    table);
    for (int i = 0; i < NTARGETS; i++) {
        expect_200(get_as(kit, targets[i], "alice:secret"));
        /* a success is remembered for its request only */
        expect_401(get(kit, targets[i], NULL), "pvm");
        expect_401(get_as(kit, targets[i], "alice:wrong"), "pvm");
        expect_200(get_as(kit, targets[i], "zoe:with:colons"));
    }
    /* several selectors: the hooks run once per selector */
    expect_200(get_as(kit, "/api/v1/query?query=metric1%2Bmetric1&time=0",
                      "alice:secret"));
    expect_401(get_as(kit, "/api/v1/query?query=metric1%2Bmetric1&time=0",
                      "alice:bad"),
               "pvm");
    pvm_testkit_free(kit);
}

/* htpasswd users: bcrypt as htpasswd -B writes it ($2y$), $2b$, and
 * SHA-crypt $6$ and $5$. */
static void test_htpasswd_users(void **state)
{
    char ini[4096];
    snprintf(ini, sizeof(ini),
             "[plugin:auth]\ntype = basic_auth\nhtpasswd = %s\n"
             "[plugin:more]\ntype = basic_auth\nhtpasswd = %s\n"
             "user = bob:bob-pass\nuser = carol:carol:pass\n"
             "user = dave:dave-pass\n[plugin:good]\n",
             fixture("basic_auth.htpasswd"), tmp_htpasswd);
    pvm_testkit *kit = kit_or_fail(ini, table);
    /* erin is in the second instance's file only */
    expect_401(get_as(kit, targets[0], "erin:erin-pass"), "pvm");
    pvm_testkit_free(kit);

    snprintf(ini, sizeof(ini),
             "[plugin:auth]\ntype = basic_auth\nhtpasswd = %s\n"
             "[plugin:good]\n",
             fixture("basic_auth.htpasswd"));
    kit = kit_or_fail(ini, table);
    for (int i = 0; i < NTARGETS; i++) {
        expect_200(get_as(kit, targets[i], "bob:bob-pass"));
        expect_200(get_as(kit, targets[i], "carol:carol:pass"));
        expect_200(get_as(kit, targets[i], "dave:dave-pass"));
        expect_401(get_as(kit, targets[i], "carol:carol"), "pvm");
    }
    pvm_testkit_free(kit);
    snprintf(ini, sizeof(ini),
             "[plugin:auth]\ntype = basic_auth\nhtpasswd = %s\n"
             "[plugin:good]\n",
             tmp_htpasswd);
    kit = kit_or_fail(ini, table);
    expect_200(get_as(kit, targets[1], "erin:erin-pass"));
    pvm_testkit_free(kit);
}

static void expect_error(const char *ini, const char *want)
{
    expect_kit_error(ini, table, want);
}

static void test_configuration_errors(void **state)
{
    char ini[4096], want[4096];
    const char *md5 = fixture("basic_auth_md5.htpasswd");
    snprintf(ini, sizeof(ini),
             "[plugin:a]\ntype = basic_auth\n"
             "htpasswd = %s\n",
             md5);
    snprintf(want, sizeof(want),
             "plugin a: on_startup failed: %s:3: user "
             "'mallory': unsupported hash kind $apr1$",
             md5);
    expect_error(ini, want);
    expect_error("[plugin:a]\ntype = basic_auth\n", "no users");
    expect_error("[plugin:a]\ntype = basic_auth\nuser = nocolon\n",
                 "NAME:PASSWORD");
    expect_error("[plugin:a]\ntype = basic_auth\nuser = a:b\nuser = a:c\n",
                 "user 'a' given twice");
    expect_error("[plugin:a]\ntype = basic_auth\nuser = a:b\n"
                 "realm = say \"hi\"\n",
                 "realm");
    expect_error("[plugin:a]\ntype = basic_auth\n"
                 "htpasswd = /nonexistent/htpasswd\n",
                 "cannot open /nonexistent/htpasswd");
    expect_error("[plugin:a]\ntype = basic_auth\nuser = a:b\nfoo = 1\n",
                 "unknown key");
    expect_error("[plugin:a]\ntype = basic_auth\nuser = a:b\n"
                 "exempt_paths = metrics\n",
                 "exempt_paths: 'metrics' is "
                 "not a path");
    expect_error("[plugin:a]\ntype = basic_auth\nuser = a:b\n"
                 "exempt_paths = /metrics?x=1\n",
                 "not a path");
}

/* pvm_request_basic_credentials, through a probe without basic_auth. */
static void test_credentials_helper(void **state)
{
    pvm_testkit *kit = kit_or_fail("[plugin:probe]\n", table);
    static const struct {
        const char *auth; /* Authorization header, NULL: none */
        int rc;           /* expected return */
        const char *user; /* expected user */
        const char *pass; /* expected password */
    } cases[] = {
        {NULL, PVM_ERR_NOT_FOUND, "", ""},
        {"Bearer xyz", PVM_ERR_NOT_FOUND, "", ""},
        {"Basic dXNlcjpwYXNz", 0, "user", "pass"},
        {"basic   dXNlcjpwYXNz", 0, "user", "pass"},
        {"Basic dXNlcjpwOmFzcw==", 0, "user", "p:ass"},
        {"Basic dTo", 0, "u", ""},
        {"Basic dXNlcg==", PVM_ERR_BAD_DATA, "", ""}, /* "user" */
        {"Basic dXNl*jpw", PVM_ERR_BAD_DATA, "", ""},
        {"Basic dXNlcjpwYXNz=", PVM_ERR_BAD_DATA, "", ""},
        /* "averyveryverylonguser:p": user over 15 bytes */
        {"Basic YXZlcnl2ZXJ5dmVyeWxvbmd1c2VyOnA=", PVM_ERR_BAD_DATA, "", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&seen, 'x', sizeof(seen));
        pvm_test_response_free(get(kit, "/api/v1/labels", cases[i].auth));
        assert_int_equal(seen.rc, cases[i].rc);
        assert_string_equal(seen.user, cases[i].user);
        assert_string_equal(seen.pass, cases[i].pass);
    }
    pvm_testkit_free(kit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_credentials, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_second_instance_refuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_every_path_gated, setup,
                                        teardown),
        cmocka_unit_test(test_exempt_paths),
        cmocka_unit_test(test_wrapped_gate_fails_closed),
        cmocka_unit_test(test_health_checks),
        cmocka_unit_test(test_right_credentials),
        cmocka_unit_test_setup_teardown(test_htpasswd_users, setup, teardown),
        cmocka_unit_test(test_configuration_errors),
        cmocka_unit_test(test_credentials_helper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
