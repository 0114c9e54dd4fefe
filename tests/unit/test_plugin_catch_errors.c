/* test_plugin_catch_errors.c: the catch_errors plugin through the test
 * kit: the seed's scenario (a flaky plugin wrapped beside a good one),
 * send_warnings, a hooks subset, context hooks and configuration errors. */
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

#include "kitutil.h"

extern const pvm_plugin_type pvm_plugin_catch_errors;

/* ---- a good plugin: one value or sample per hook (the seed's Plugin) -- */

static int good_value(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    switch (pvm_request_get_type(req)) {
    case PVM_REQUEST_LABEL_NAMES:
        return pvm_response_add_value(resp, "label1");
    case PVM_REQUEST_LABEL_VALUES:
        return pvm_response_add_value(resp, "value1");
    default: return pvm_response_add_value(resp, "metric1");
    }
}

static int good_sample(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    int rc = pvm_response_add_sample(resp, "metric1", 1, pvm_request_end(req),
                                     NULL, 0);
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

/* ---- a flaky plugin: every request hook fails with its hook's name ---- */

static int flaky_started, flaky_stopped;

struct flaky {
    int fail_startup; /* on_startup fails */
};

static int flaky_configure(pvm_plugin *self, const char *key,
                           const char *value, pvm_error *err)
{
    struct flaky *st = pvm_plugin_state(self);
    if (strcmp(key, "fail_startup") != 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "unknown key");
    st->fail_startup = strcmp(value, "yes") == 0;
    return 0;
}

static int flaky_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    const struct flaky *st = pvm_plugin_state(self);
    if (st->fail_startup)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "no database");
    flaky_started++;
    return 0;
}

static int flaky_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    flaky_stopped++;
    return 0;
}

static const char *hook_of(pvm_request_type t)
{
    switch (t) {
    case PVM_REQUEST_INSTANT: return "on_instant_query_request";
    case PVM_REQUEST_RANGE: return "on_range_query_request";
    case PVM_REQUEST_LABEL_NAMES: return "on_label_names_request";
    case PVM_REQUEST_LABEL_VALUES: return "on_label_values_request";
    default: return "on_metric_names_request";
    }
}

static int flaky_fail(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    return pvm_response_fail(resp, "%s", hook_of(pvm_request_get_type(req)));
}

static const pvm_plugin_type flaky = {
    .name = "flaky",
    .state_size = sizeof(struct flaky),
    .configure = flaky_configure,
    .on_startup = flaky_startup,
    .on_shutdown = flaky_shutdown,
    .on_instant_query_request = flaky_fail,
    .on_range_query_request = flaky_fail,
    .on_metric_names_request = flaky_fail,
    .on_label_names_request = flaky_fail,
    .on_label_values_request = flaky_fail,
};

static const pvm_plugin_type *const table[] = {&pvm_plugin_catch_errors, &good,
                                               &flaky, NULL};

/* ---- helpers ------------------------------------------------------------ */

static pvm_testkit *kit_new(const char *ini)
{
    return kit_or_fail(ini, table);
}

/* Expects pvm_testkit_new to fail with a message containing want. */
static void expect_config_error(const char *ini, const char *want)
{
    expect_kit_error(ini, table, want);
}

/* One request per endpoint, in the order of hook_of. */
static pvm_test_response *request(pvm_testkit *kit, int i)
{
    switch (i) {
    case 0: return pvm_testkit_instant(kit, "metric1", 0);
    case 1: return pvm_testkit_range(kit, "metric1", 0, 30, 15);
    case 2: return pvm_testkit_label_names(kit, NULL);
    case 3: return pvm_testkit_label_values(kit, "label1", NULL);
    default: return pvm_testkit_label_values(kit, "__name__", NULL);
    }
}

static const pvm_request_type request_types[] = {PVM_REQUEST_INSTANT,
                                                 PVM_REQUEST_RANGE,
                                                 PVM_REQUEST_LABEL_NAMES,
                                                 PVM_REQUEST_LABEL_VALUES,
                                                 PVM_REQUEST_METRIC_NAMES};

/* True when the array at path holds the string s. */
static bool has_string(json_object *root, const char *path, const char *s)
{
    json_object *a = pvm_test_json_get(root, path);
    size_t n = a && json_object_is_type(a, json_type_array)
                   ? json_object_array_length(a)
                   : 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(a, i)),
                   s) == 0)
            return true;
    return false;
}

/* Checks a success with the good plugin's data and `warnings` warnings. */
static void expect_success(pvm_test_response *r, int warnings, int i)
{
    assert_non_null(r);
    assert_int_equal(r->status, 200);
    assert_string_equal(pvm_test_json_string(r->json, "status"), "success");
    static const char *const want_data[] = {"label1", "value1", "metric1"};
    if (i < 2)
        assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    else
        assert_true(has_string(r->json, "data", want_data[i - 2]));
    if (!warnings) {
        assert_null(pvm_test_json_get(r->json, "warnings"));
        return;
    }
    assert_int_equal(pvm_test_json_length(r->json, "warnings"), warnings);
    char want[256];
    const char *hook = hook_of(request_types[i]);
    snprintf(want, sizeof(want),
             "PluginError: '%s' raised while running flaky.%s()", hook, hook);
    assert_string_equal(pvm_test_json_string(r->json, "warnings[0]"), want);
}

#define SCENARIO "[plugin:good]\n[plugin:flaky]\n"

/* ---- tests -------------------------------------------------------------- */

/* The seed's test: every endpoint answers success with the good plugin's
 * data and one warning naming the flaky instance and hook. */
static void test_shields_every_request_hook(void **state)
{
    pvm_testkit *kit = kit_new(SCENARIO "[plugin:shield]\n"
                                        "type = catch_errors\n"
                                        "wrap = flaky\n");
    for (int i = 0; i < 5; i++) {
        pvm_test_response *r = request(kit, i);
        expect_success(r, 1, i);
        pvm_test_response_free(r);
    }
    pvm_testkit_free(kit);
}

static void test_send_warnings_no(void **state)
{
    pvm_testkit *kit = kit_new(SCENARIO "[plugin:shield]\n"
                                        "type = catch_errors\n"
                                        "wrap = flaky\n"
                                        "send_warnings = no\n");
    for (int i = 0; i < 5; i++) {
        pvm_test_response *r = request(kit, i);
        expect_success(r, 0, i);
        pvm_test_response_free(r);
    }
    pvm_testkit_free(kit);
}

/* Without the wrapper the flaky plugin fails every request with 500. */
static void test_unwrapped_fails(void **state)
{
    pvm_testkit *kit = kit_new(SCENARIO);
    for (int i = 0; i < 5; i++) {
        pvm_test_response *r = request(kit, i);
        assert_int_equal(r->status, 500);
        assert_string_equal(pvm_test_json_string(r->json, "status"), "error");
        assert_non_null(
            strstr(pvm_test_json_string(r->json, "error"), "plugin flaky"));
        pvm_test_response_free(r);
    }
    pvm_testkit_free(kit);
}

/* The wrapper may come first: the order of sections does not matter. */
static void test_wrapper_before_wrapped(void **state)
{
    pvm_testkit *kit = kit_new("[plugin:shield]\ntype = catch_errors\n"
                               "wrap = flaky\n" SCENARIO);
    pvm_test_response *r = request(kit, 1);
    expect_success(r, 1, 1);
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

/* Only the listed hooks are shielded; the others fail naming the wrapped
 * instance. */
static void test_hooks_subset(void **state)
{
    pvm_testkit *kit = kit_new(SCENARIO "[plugin:shield]\n"
                                        "type = catch_errors\n"
                                        "wrap = flaky\n"
                                        "hooks = on_range_query_request, "
                                        "on_label_names_request\n");
    pvm_test_response *r = request(kit, 1);
    expect_success(r, 1, 1);
    pvm_test_response_free(r);
    r = request(kit, 2);
    expect_success(r, 1, 2);
    pvm_test_response_free(r);
    r = request(kit, 0);
    assert_int_equal(r->status, 500);
    const char *e = pvm_test_json_string(r->json, "error");
    assert_non_null(e);
    assert_non_null(strstr(e, "wrapped instance flaky: "
                              "on_instant_query_request"));
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

/* The wrapper starts and stops the wrapped instance exactly once. */
static void test_context_hooks_run_once(void **state)
{
    flaky_started = flaky_stopped = 0;
    pvm_testkit *kit = kit_new(SCENARIO "[plugin:shield]\n"
                                        "type = catch_errors\n"
                                        "wrap = flaky\n");
    assert_int_equal(flaky_started, 1);
    assert_int_equal(flaky_stopped, 0);
    pvm_testkit_free(kit);
    assert_int_equal(flaky_stopped, 1);
}

/* A failing on_startup stops the server unless on_startup is shielded. */
static void test_startup_failure(void **state)
{
    expect_config_error("[plugin:flaky]\nfail_startup = yes\n"
                        "[plugin:shield]\ntype = catch_errors\n"
                        "wrap = flaky\n",
                        "wrapped instance flaky: on_startup failed: "
                        "no database");
    pvm_testkit *kit = kit_new("[plugin:flaky]\nfail_startup = yes\n"
                               "[plugin:good]\n"
                               "[plugin:shield]\ntype = catch_errors\n"
                               "wrap = flaky\nhooks = on_startup "
                               "on_range_query_request\n");
    pvm_test_response *r = request(kit, 1);
    expect_success(r, 1, 1);
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

static void test_configuration_errors(void **state)
{
    expect_config_error(SCENARIO "[plugin:shield]\ntype = catch_errors\n",
                        "missing key 'wrap'");
    expect_config_error(SCENARIO "[plugin:shield]\ntype = catch_errors\n"
                                 "wrap = nope\n",
                        "no instance named 'nope'");
    expect_config_error(SCENARIO "[plugin:shield]\ntype = catch_errors\n"
                                 "wrap = flaky\nhooks = on_everything\n",
                        "unknown hook 'on_everything'");
    expect_config_error(SCENARIO "[plugin:shield]\ntype = catch_errors\n"
                                 "wrap = flaky\nhooks = on_master_startup\n",
                        "on_master_startup cannot be shielded");
    expect_config_error(SCENARIO "[plugin:shield]\ntype = catch_errors\n"
                                 "wrap = flaky\nhooks = validate\n",
                        "validate cannot be shielded");
    expect_config_error(SCENARIO "[plugin:shield]\ntype = catch_errors\n"
                                 "wrap = flaky\nsend_warnings = maybe\n",
                        "must be yes or no");
    expect_config_error(SCENARIO "[plugin:shield]\ntype = catch_errors\n"
                                 "wrap = shield\n",
                        "wraps this one back");
    expect_config_error(SCENARIO "[plugin:a]\ntype = catch_errors\n"
                                 "wrap = b\n[plugin:b]\n"
                                 "type = catch_errors\nwrap = a\n",
                        "wraps this one back");
    expect_config_error(SCENARIO "[plugin:a]\ntype = catch_errors\n"
                                 "wrap = flaky\n[plugin:b]\n"
                                 "type = catch_errors\nwrap = flaky\n",
                        "already wrapped");
}

/* A wrapper of a wrapper works: the inner one catches. */
static void test_nested(void **state)
{
    pvm_testkit *kit = kit_new(SCENARIO "[plugin:inner]\n"
                                        "type = catch_errors\n"
                                        "wrap = flaky\n"
                                        "[plugin:outer]\n"
                                        "type = catch_errors\n"
                                        "wrap = inner\n");
    pvm_test_response *r = request(kit, 4);
    expect_success(r, 1, 4);
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shields_every_request_hook),
        cmocka_unit_test(test_send_warnings_no),
        cmocka_unit_test(test_unwrapped_fails),
        cmocka_unit_test(test_wrapper_before_wrapped),
        cmocka_unit_test(test_hooks_subset),
        cmocka_unit_test(test_context_hooks_run_once),
        cmocka_unit_test(test_startup_failure),
        cmocka_unit_test(test_configuration_errors),
        cmocka_unit_test(test_nested),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
