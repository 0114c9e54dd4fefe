/* test_plugin_python.c: the python plugin type through the test kit, in
 * this process (one interpreter, started by the first kit and finalised
 * with it; a second kit starts it again): tests/unit/python/probes.py
 * runs the API's edge cases inside a hook (argument errors, lazy values,
 * add_samples from pairs and buffers, the request's and query's
 * attributes, settings, the original's import paths) and reports them;
 * the C side checks answers, errors and configuration errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

extern const pvm_plugin_type pvm_plugin_python;
extern const pvm_plugin_type pvm_plugin_catch_errors;

static const pvm_plugin_type *const table[] = {&pvm_plugin_python,
                                               &pvm_plugin_catch_errors, NULL};

/* For LeakSanitizer (the sanitizer build): what CPython's finalisation
 * leaves allocated (interned strings, static types) is not pvm's. The
 * runtime calls this hook when it exists; other builds ignore it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libpython3\n";
}

/* tests/unit/python/probes.py in the source tree */
static char probes[4096];

static void find_probes(void)
{
    const char *src = getenv("srcdir");
    snprintf(probes, sizeof probes, "%s/tests/unit/python/probes.py",
             src ? src : ".");
}

/* A kit with `[plugin:probe]` of class cls and extra lines. */
static pvm_testkit *kit_for(const char *cls, const char *extra, char *err,
                            size_t errlen)
{
    char ini[8192];
    snprintf(ini, sizeof ini,
             "[plugin:probe]\ntype = python\nfile = %s\nclass = %s\n%s",
             probes, cls, extra ? extra : "");
    return pvm_testkit_new(ini, table, err, errlen);
}

static int setup(void **state)
{
    char err[1024] = "";
    find_probes();
    *state = kit_for("Probes", "answer = 42\ntags = json:[\"a\", \"b\"]\n",
                     err, sizeof err);
    if (!*state)
        fail_msg("kit: %s", err);
    return 0;
}

static int teardown(void **state)
{
    pvm_testkit_free(*state);
    return 0;
}

static bool body_has(const pvm_test_response *r, const char *needle)
{
    return r && r->body && strstr(r->body, needle);
}

static void expect(pvm_testkit *kit, const char *target, int status,
                   const char *needle)
{
    pvm_test_response *r = pvm_testkit_request(kit, "GET", target, NULL, NULL);
    assert_non_null(r);
    if (r->status != status || !body_has(r, needle))
        fail_msg("%s: %d %s (wanted %d with %s)", target, r->status, r->body,
                 status, needle);
    pvm_test_response_free(r);
}

/* Every probe of probes.py passes inside the hook. */
static void test_probes(void **state)
{
    expect(*state, "/api/v1/query?query=u_probe&time=100.25", 200,
           "\"infos\":[\"probes failed: 0\"]");
    expect(*state, "/api/v1/query?query=u_probe&time=100.25", 200,
           "{\"metric\":{\"__name__\":\"u_probe\",\"k\":\"int\"},"
           "\"value\":[100.250,\"4\"]}");
}

/* A request kept past its hook refuses every use. */
static void test_kept_request(void **state)
{
    expect(*state, "/api/v1/query?query=u_keep", 200, "success");
    expect(*state, "/api/v1/query?query=u_kept", 200,
           "kept: this request has ended");
}

/* An invalid label fails the response: 500 naming the instance. */
static void test_bad_label(void **state)
{
    expect(*state, "/api/v1/query?query=u_bad_label", 500,
           "plugin probe: on_instant_query_request failed");
}

/* Configuration errors, found before Python starts or at its start. */
static void test_config_errors(void **state)
{
    (void)state;
    char err[1024];
    static const struct {
        const char *cls, *extra, *msg;
    } cases[] = {
        {"Probes", "module = x\n", "either file"},
        {"Probes", "1x = 2\n", "not a Python keyword argument name"},
        {"Nope", NULL, "has no attribute 'Nope'"},
        {"Probes", "tags = json:[1,\n", "setting tags: not JSON"},
        {"Probes", "colour = red\n", "unexpected keyword argument 'colour'"},
        {"shielded_object", "answer = 1\n", "is an object, not a class"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 0;
        pvm_testkit *kit = kit_for(cases[i].cls, cases[i].extra, err,
                                   sizeof err);
        if (kit || !strstr(err, cases[i].msg))
            fail_msg("case %zu: %s (wanted %s)", i, kit ? "started" : err,
                     cases[i].msg);
    }
    err[0] = 0;
    assert_null(pvm_testkit_new("[plugin:p]\ntype = python\nfile = x.py\n",
                                table, err, sizeof err));
    assert_non_null(strstr(err, "class"));
}

/* The original's CatchErrorsPlugin and BasicAuthPlugin, and a
 * module-level object named by `class =`; Python restarted for it. */
static void test_shipped_classes(void **state)
{
    (void)state;
    char err[1024] = "";
    char ini[3 * 4096 + 256];
    snprintf(ini, sizeof ini,
             "[plugin:shield]\ntype = python\nfile = %s\nclass = Shielded\n"
             "[plugin:quiet]\ntype = python\nfile = %s\n"
             "class = shielded_object\n"
             "[plugin:auth]\ntype = python\nfile = %s\nclass = Auth\n",
             probes, probes, probes);
    pvm_testkit *kit = pvm_testkit_new(ini, table, err, sizeof err);
    if (!kit)
        fail_msg("kit: %s", err);
    static const char *const good[] = {
        "Authorization: Basic Z3JhZmFuYTpzM2NyZXQ=", NULL};
    static const char *const bad[] = {"Authorization: Basic Z3JhZmFuYTpub3Bl",
                                      NULL};
    pvm_test_response *r = pvm_testkit_request(kit, "GET",
                                               "/api/v1/query?query=up", NULL,
                                               good);
    assert_int_equal(r->status, 200);
    assert_true(body_has(r, "PluginError: 'KeyError: 'gone'' raised while "
                            "running probes.Flaky.on_instant_query_"
                            "request()"));
    pvm_test_response_free(r);
    r = pvm_testkit_request(kit, "GET", "/api/v1/query?query=up", NULL, bad);
    assert_int_equal(r->status, 401);
    /* the challenge of pvm's basic_auth type, with its default realm */
    const char *ch = pvm_test_response_header(r, "WWW-Authenticate");
    assert_non_null(ch);
    assert_string_equal(ch, "Basic realm=\"pvm\"");
    pvm_test_response_free(r);
    r = pvm_testkit_request(kit, "GET", "/api/v1/labels", NULL, NULL);
    assert_int_equal(r->status, 401);
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_probes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kept_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_label, setup, teardown),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_shipped_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
