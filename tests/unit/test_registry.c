/* test_registry.c: unit tests of registry.c (plugin instances, hooks,
 * accessors) and log.c (levels, line format), with small fake plugin
 * types. The response side of a failing hook (response.c) is replaced at
 * link time: -Wl,--wrap=pvm_response_note_failure,
 * -Wl,--wrap=pvm_response_has_error (see tests/unit/core-config.am). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "test_registry.h"

/* Fake response and request */

/* What the fake response records. */
struct pvm_response {
    bool has_error;           /* what pvm_response_has_error answers */
    int noted;                /* calls of pvm_response_note_failure */
    const pvm_plugin *plugin; /* plugin of the last call */
    pvm_hook hook;            /* hook of the last call */
    int rc;                   /* rc of the last call */
    int answer;               /* what note_failure returns, 0: rc */
};

int __wrap_pvm_response_note_failure(pvm_response *r, const pvm_plugin *p,
                                     pvm_hook h, int rc);
bool __wrap_pvm_response_has_error(const pvm_response *r);

int __wrap_pvm_response_note_failure(pvm_response *r, const pvm_plugin *p,
                                     pvm_hook h, int rc)
{
    r->noted++;
    r->plugin = p;
    r->hook = h;
    r->rc = rc;
    return r->answer ? r->answer : rc;
}

bool __wrap_pvm_response_has_error(const pvm_response *r)
{
    return r->has_error;
}

/* The cache bookkeeping around each hook (cache.c) would write into the
 * real response: nothing to do with the fake one. */
void __wrap_pvm_cache_hook_begin(pvm_response *resp);
void __wrap_pvm_cache_hook_end(const pvm_request *req,
                               const pvm_response *resp);

void __wrap_pvm_cache_hook_begin(pvm_response *resp)
{
    (void)resp;
}

void __wrap_pvm_cache_hook_end(const pvm_request *req,
                               const pvm_response *resp)
{
    (void)req;
    (void)resp;
}

/* Trace of hook calls across all fake plugins: "a:startup b:startup " */

static char trace[4096];

static void trace_add(const pvm_plugin *p, const char *what)
{
    size_t n = strlen(trace);
    snprintf(trace + n, sizeof(trace) - n, "%s:%s ", pvm_plugin_name(p), what);
}

/* Fake plugin types */

/* State of the "rec" type. */
struct rec_state {
    char settings[256]; /* "key=value," for each configure() call */
    int checked;        /* check() calls */
};

static int rec_configure(pvm_plugin *self, const char *key, const char *value,
                         pvm_error *err)
{
    struct rec_state *s = pvm_plugin_state(self);
    size_t n = strlen(s->settings);
    snprintf(s->settings + n, sizeof(s->settings) - n, "%s=%s,", key, value);
    if (strcmp(key, "n") == 0 && strspn(value, "0123456789") != strlen(value))
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "not a number: '%s'",
                             value);
    if (strcmp(key, "silent") == 0)
        return PVM_ERR_BAD_DATA; /* fails without a message */
    return 0;
}

static int rec_check(pvm_plugin *self, pvm_error *err)
{
    struct rec_state *s = pvm_plugin_state(self);
    s->checked++;
    trace_add(self, "check");
    if (strstr(s->settings, "require=yes,") && !strstr(s->settings, "n="))
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "n is required");
    return 0;
}

static void rec_destroy(pvm_plugin *self)
{
    trace_add(self, "destroy");
}

static int rec_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    assert_ptr_equal(pvm_plugin_context(self), ctx);
    trace_add(self, "startup");
    return 0;
}

static int rec_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    trace_add(self, "shutdown");
    return 0;
}

static int rec_range(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    trace_add(self, "range");
    return 0;
}

static int rec_instant(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    trace_add(self, "instant");
    return 0;
}

static int rec_gate(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    trace_add(self, "gate");
    return 0;
}

static const pvm_plugin_type type_rec = {
    .name = "rec",
    .description = "records its calls",
    .state_size = sizeof(struct rec_state),
    .configure = rec_configure,
    .check = rec_check,
    .destroy = rec_destroy,
    .on_startup = rec_startup,
    .on_shutdown = rec_shutdown,
    .on_instant_query_request = rec_instant,
    .on_range_query_request = rec_range,
    .on_request = rec_gate,
};

/* "bare": no state, no settings, no hooks but label names. */
static int bare_label_names(pvm_plugin *self, pvm_request *req,
                            pvm_response *resp)
{
    assert_null(pvm_plugin_state(self));
    trace_add(self, "label_names");
    return 0;
}

static const pvm_plugin_type type_bare = {
    .name = "bare",
    .description = "takes nothing",
    .on_label_names_request = bare_label_names,
};

/* "failing": its startup fails when configured so, its range hook fails,
 * its instant hook sets an error and returns 0. */
struct failing_state {
    bool fail_startup;  /* on_startup fails */
    bool fail_shutdown; /* on_shutdown fails */
};

static int failing_configure(pvm_plugin *self, const char *key,
                             const char *value, pvm_error *err)
{
    struct failing_state *s = pvm_plugin_state(self);
    if (strcmp(key, "startup") == 0)
        s->fail_startup = strcmp(value, "fail") == 0;
    else if (strcmp(key, "shutdown") == 0)
        s->fail_shutdown = strcmp(value, "fail") == 0;
    else
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "unknown key");
    return 0;
}

static int failing_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct failing_state *s = pvm_plugin_state(self);
    trace_add(self, "startup");
    if (s->fail_startup)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "cannot connect: boom");
    return 0;
}

static int failing_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct failing_state *s = pvm_plugin_state(self);
    trace_add(self, "shutdown");
    if (s->fail_shutdown)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "flush failed");
    return 0;
}

static int failing_range(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp)
{
    trace_add(self, "range");
    return PVM_ERR_PLUGIN;
}

static int failing_instant(pvm_plugin *self, pvm_request *req,
                           pvm_response *resp)
{
    trace_add(self, "instant");
    resp->has_error = true;
    return 0;
}

/* Its gate answers (a chosen 401), as basic_auth does. */
static int failing_gate(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    trace_add(self, "gate");
    resp->has_error = true;
    return PVM_ERR_FORBIDDEN;
}

static void failing_destroy(pvm_plugin *self)
{
    trace_add(self, "destroy");
}

static const pvm_plugin_type type_failing = {
    .name = "failing",
    .description = "fails on demand",
    .state_size = sizeof(struct failing_state),
    .configure = failing_configure,
    .destroy = failing_destroy,
    .on_startup = failing_startup,
    .on_shutdown = failing_shutdown,
    .on_instant_query_request = failing_instant,
    .on_range_query_request = failing_range,
    .on_request = failing_gate,
};

const pvm_plugin_type *const table[] = {
    &type_rec,
    &type_bare,
    &type_failing,
    NULL,
};

/* Helpers */

static int setup(void **state)
{
    (void)state;
    trace[0] = '\0';
    pvm_log_set_level(PVM_LOG_INFO);
    return 0;
}

/* Creates a context from text; fails the test on error. */
pvm_context *new_ok(const char *text)
{
    pvm_error err = {0};
    pvm_config *cfg = pvm_config_load_string(text, "pvm.ini", &err);
    if (!cfg)
        fail_msg("config error: %s", err.msg);
    pvm_context *ctx = pvm_context_new(cfg, table, &err);
    if (!ctx)
        fail_msg("context error: %s", err.msg);
    return ctx;
}

/* Checks that creating a context from text fails with msg. */
static void new_error(const char *text, const char *msg)
{
    pvm_error err = {0};
    pvm_config *cfg = pvm_config_load_string(text, "pvm.ini", &err);
    if (!cfg)
        fail_msg("config error: %s", err.msg);
    pvm_context *ctx = pvm_context_new(cfg, table, &err);
    if (ctx) {
        pvm_context_free(ctx);
        fail_msg("expected error '%s'", msg);
    }
    assert_string_equal(err.msg, msg);
}

/* Instances */

static void test_instances_in_file_order(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[plugin:zeta]\ntype = rec\nx = 1\n"
                              "[server]\n"
                              "[plugin:alpha]\ntype = rec\ny = 2\nx = 3\n"
                              "[plugin:bare]\n");
    assert_int_equal(pvm_context_plugin_count(ctx), 3);
    pvm_plugin *z = pvm_context_plugin_at(ctx, 0);
    pvm_plugin *a = pvm_context_plugin_at(ctx, 1);
    pvm_plugin *b = pvm_context_plugin_at(ctx, 2);
    assert_null(pvm_context_plugin_at(ctx, 3));
    assert_string_equal(pvm_plugin_name(z), "zeta");
    assert_string_equal(pvm_plugin_name(a), "alpha");
    /* type defaults to NAME */
    assert_string_equal(pvm_plugin_name(b), "bare");
    assert_ptr_equal(pvm_plugin_get_type(b), &type_bare);
    assert_ptr_equal(pvm_plugin_get_type(z), &type_rec);
    assert_ptr_equal(pvm_context_plugin(ctx, "alpha"), a);
    assert_null(pvm_context_plugin(ctx, "nope"));
    assert_ptr_equal(pvm_plugin_context(a), ctx);

    /* Separate, zeroed states; keys in file order, `type` not passed. */
    struct rec_state *zs = pvm_plugin_state(z);
    struct rec_state *as = pvm_plugin_state(a);
    assert_ptr_not_equal(zs, as);
    assert_string_equal(zs->settings, "x=1,");
    assert_string_equal(as->settings, "y=2,x=3,");
    assert_int_equal(zs->checked, 1);
    assert_int_equal(as->checked, 1);
    assert_null(pvm_plugin_state(b));
    assert_string_equal(trace, "zeta:check alpha:check ");

    /* Settings, raw. */
    assert_string_equal(pvm_context_config_path(ctx), "pvm.ini");
    assert_string_equal(pvm_context_setting(ctx, "plugin:alpha", "x"), "3");
    assert_string_equal(pvm_context_setting(ctx, "plugin:alpha", "type"),
                        "rec");
    assert_null(pvm_context_setting(ctx, "plugin:alpha", "z"));
    assert_null(pvm_context_setting(ctx, "plugin:nope", "x"));
    assert_int_equal(pvm_context_config(ctx)->nsections, 4);

    trace[0] = '\0';
    pvm_context_free(ctx);
    /* destroy() even though never started, in reverse order */
    assert_string_equal(trace, "alpha:destroy zeta:destroy ");
    pvm_context_free(NULL);
}

static void test_same_type_twice(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[plugin:one]\ntype = failing\n"
                              "startup = ok\n"
                              "[plugin:two]\ntype = failing\n"
                              "startup = fail\n");
    struct failing_state *one = pvm_plugin_state(
        pvm_context_plugin(ctx, "one"));
    struct failing_state *two = pvm_plugin_state(
        pvm_context_plugin(ctx, "two"));
    assert_false(one->fail_startup);
    assert_true(two->fail_startup);
    pvm_context_free(ctx);
}

static void test_zero_plugins(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[server]\nlog_level = debug\n");
    assert_int_equal(pvm_context_plugin_count(ctx), 0);
    /* The context applies [server] log_level. */
    assert_int_equal(pvm_log_get_level(), PVM_LOG_DEBUG);
    pvm_error err = {0};
    assert_int_equal(pvm_context_startup(ctx, &err), 0);
    pvm_response resp = {0};
    assert_int_equal(pvm_context_run_request_hook(ctx, PVM_HOOK_RANGE_QUERY,
                                                  NULL, &resp),
                     0);
    pvm_context_shutdown(ctx);
    pvm_context_free(ctx);
}

static void test_unknown_type(void **state)
{
    (void)state;
    new_error("[server]\n\n[plugin:foo]\nx = 1\n\n\ntype = bar\n",
              "pvm.ini:7: [plugin:foo] unknown plugin type 'bar' (see "
              "pvm-fcgi --list-plugins)");
    /* Without `type`, the header line and NAME. */
    new_error("[plugin:rec]\n[plugin:nosuch]\n",
              "pvm.ini:2: [plugin:nosuch] unknown plugin type 'nosuch' (see "
              "pvm-fcgi --list-plugins)");
    /* The instance before is destroyed. */
    assert_string_equal(trace, "rec:destroy ");
    assert_null(pvm_plugin_table_find(table, "nope"));
    assert_null(pvm_plugin_table_find(NULL, "rec"));
    assert_ptr_equal(pvm_plugin_table_find(table, "failing"), &type_failing);
}

static void test_configure_errors(void **state)
{
    (void)state;
    new_error("[plugin:demo]\ntype = rec\nn = 1\n\nn = x\n",
              "pvm.ini:5: [plugin:demo] n: not a number: 'x'");
    /* configure() ran until the bad key; the instance is destroyed. */
    assert_string_equal(trace, "demo:destroy ");
    new_error("[plugin:demo]\ntype = rec\nsilent = 1\n",
              "pvm.ini:3: [plugin:demo] silent: invalid value '1'");
    new_error("[plugin:bare]\n; comment\nanything = 1\n",
              "pvm.ini:3: [plugin:bare] anything: plugin type 'bare' takes "
              "no settings");
    /* `type` alone is fine for a type without settings. */
    pvm_context *ctx = new_ok("[plugin:b]\ntype = bare\n");
    pvm_context_free(ctx);
}

static void test_check_errors(void **state)
{
    (void)state;
    new_error("[plugin:ok]\ntype = rec\n"
              "[plugin:demo]\ntype = rec\nrequire = yes\n",
              "pvm.ini:3: [plugin:demo]: n is required");
    /* All instances are configured before any is checked, and all are
     * destroyed. */
    assert_string_equal(trace, "ok:check demo:check demo:destroy "
                               "ok:destroy ");
}

/* Context hooks */

static void test_startup_shutdown_order(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[plugin:a]\ntype = rec\n"
                              "[plugin:b]\ntype = bare\n"
                              "[plugin:c]\ntype = failing\n"
                              "[plugin:d]\ntype = rec\n");
    trace[0] = '\0';
    pvm_error err = {0};
    assert_int_equal(pvm_context_startup(ctx, &err), 0);
    assert_string_equal(trace, "a:startup c:startup d:startup ");
    /* A second call starts nothing again. */
    assert_int_equal(pvm_context_startup(ctx, &err), 0);
    assert_string_equal(trace, "a:startup c:startup d:startup ");
    trace[0] = '\0';
    pvm_context_shutdown(ctx);
    assert_string_equal(trace, "d:shutdown c:shutdown a:shutdown ");
    /* Only started instances are shut down. */
    trace[0] = '\0';
    pvm_context_shutdown(ctx);
    assert_string_equal(trace, "");
    pvm_context_free(ctx);
    assert_string_equal(trace, "d:destroy c:destroy a:destroy ");
}

static void test_startup_failure_rollback(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[plugin:a]\ntype = rec\n"
                              "[plugin:b]\ntype = failing\n"
                              "[plugin:c]\ntype = failing\nstartup = fail\n"
                              "[plugin:d]\ntype = rec\n");
    trace[0] = '\0';
    pvm_error err = {0};
    assert_int_equal(pvm_context_startup(ctx, &err), PVM_ERR_INTERNAL);
    assert_string_equal(err.msg,
                        "plugin c: on_startup failed: cannot connect: boom");
    assert_string_equal(trace, "a:startup b:startup c:startup "
                               "b:shutdown a:shutdown ");
    trace[0] = '\0';
    pvm_context_shutdown(ctx);
    assert_string_equal(trace, "");
    pvm_context_free(ctx);
    assert_string_equal(trace, "d:destroy c:destroy b:destroy a:destroy ");
}

static void test_shutdown_failure_logged(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[plugin:a]\ntype = rec\n"
                              "[plugin:b]\ntype = failing\nshutdown = fail\n");
    pvm_error err = {0};
    assert_int_equal(pvm_context_startup(ctx, &err), 0);
    trace[0] = '\0';
    struct capture cap;
    capture_start(&cap);
    pvm_context_shutdown(ctx);
    char *out = capture_end(&cap);
    assert_string_equal(trace, "b:shutdown a:shutdown ");
    assert_non_null(
        strstr(out, " error: plugin b: on_shutdown failed: flush failed\n"));
    free(out);
    pvm_context_free(ctx);
}

static void test_wrapped_skipped(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[plugin:a]\ntype = rec\n"
                              "[plugin:b]\ntype = rec\n"
                              "[plugin:c]\ntype = rec\n");
    pvm_plugin *b = pvm_context_plugin(ctx, "b");
    assert_false(pvm_plugin_is_wrapped(b));
    pvm_plugin_set_wrapped(b);
    assert_true(pvm_plugin_is_wrapped(b));
    trace[0] = '\0';
    pvm_error err = {0};
    assert_int_equal(pvm_context_startup(ctx, &err), 0);
    pvm_response resp = {0};
    assert_int_equal(pvm_context_run_request_hook(ctx, PVM_HOOK_RANGE_QUERY,
                                                  NULL, &resp),
                     0);
    /* A wrapper calls the hooks of b itself. */
    assert_int_equal(pvm_plugin_request_hook(b, PVM_HOOK_RANGE_QUERY)(b, NULL,
                                                                      &resp),
                     0);
    pvm_context_shutdown(ctx);
    assert_string_equal(trace, "a:startup c:startup a:range c:range b:range "
                               "c:shutdown a:shutdown ");
    pvm_context_free(ctx);
}

/* Request hooks */

static void test_hook_order(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[plugin:second]\ntype = rec\n"
                              "[plugin:bare]\n"
                              "[plugin:first]\ntype = rec\n");
    pvm_response resp = {0};
    trace[0] = '\0';
    assert_int_equal(pvm_context_run_request_hook(ctx, PVM_HOOK_RANGE_QUERY,
                                                  NULL, &resp),
                     0);
    assert_int_equal(pvm_context_run_request_hook(ctx, PVM_HOOK_INSTANT_QUERY,
                                                  NULL, &resp),
                     0);
    assert_int_equal(pvm_context_run_request_hook(ctx, PVM_HOOK_LABEL_NAMES,
                                                  NULL, &resp),
                     0);
    assert_int_equal(pvm_context_run_request_hook(ctx, PVM_HOOK_LABEL_VALUES,
                                                  NULL, &resp),
                     0);
    /* Not a request hook: nothing runs. */
    assert_int_equal(pvm_context_run_request_hook(ctx, PVM_HOOK_STARTUP, NULL,
                                                  &resp),
                     0);
    assert_string_equal(trace, "second:range first:range second:instant "
                               "first:instant bare:label_names ");
    assert_int_equal(resp.noted, 0);
    pvm_context_free(ctx);
}

static void test_hook_failure_stops(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[plugin:a]\ntype = rec\n"
                              "[plugin:bad]\ntype = failing\n"
                              "[plugin:c]\ntype = rec\n");
    pvm_response resp = {0};
    trace[0] = '\0';
    struct capture cap;
    capture_start(&cap);
    int rc = pvm_context_run_request_hook(ctx, PVM_HOOK_RANGE_QUERY, NULL,
                                          &resp);
    char *out = capture_end(&cap);
    assert_int_equal(rc, PVM_ERR_PLUGIN);
    assert_string_equal(trace, "a:range bad:range ");
    assert_int_equal(resp.noted, 1);
    assert_ptr_equal(resp.plugin, pvm_context_plugin(ctx, "bad"));
    assert_int_equal(resp.hook, PVM_HOOK_RANGE_QUERY);
    assert_int_equal(resp.rc, PVM_ERR_PLUGIN);
    assert_non_null(
        strstr(out, " error: plugin bad: on_range_query_request failed\n"));
    free(out);

    /* The status is the one note_failure picks (e.g. a 401 that stands). */
    resp = (pvm_response){.answer = PVM_ERR_FORBIDDEN};
    capture_start(&cap);
    rc = pvm_context_run_request_hook(ctx, PVM_HOOK_RANGE_QUERY, NULL, &resp);
    free(capture_end(&cap));
    assert_int_equal(rc, PVM_ERR_FORBIDDEN);

    /* A hook that sets an error and returns 0 stops the walk too. */
    resp = (pvm_response){.answer = PVM_ERR_BAD_DATA};
    trace[0] = '\0';
    rc = pvm_context_run_request_hook(ctx, PVM_HOOK_INSTANT_QUERY, NULL,
                                      &resp);
    assert_int_equal(rc, PVM_ERR_BAD_DATA);
    assert_string_equal(trace, "a:instant bad:instant ");
    assert_int_equal(resp.noted, 1);
    assert_ptr_equal(resp.plugin, pvm_context_plugin(ctx, "bad"));
    pvm_context_free(ctx);
}

/* The gate on_request: dispatched like the other request hooks, in
 * configuration order; a chosen answer (401) stops the walk and is logged
 * at info level, not as a plugin failure. */
static void test_request_gate(void **state)
{
    (void)state;
    pvm_context *ctx = new_ok("[plugin:a]\ntype = rec\n"
                              "[plugin:bare]\n"
                              "[plugin:bad]\ntype = failing\n"
                              "[plugin:c]\ntype = rec\n");
    pvm_plugin *a = pvm_context_plugin(ctx, "a");
    assert_ptr_equal(pvm_plugin_request_hook(a, PVM_HOOK_REQUEST), rec_gate);
    assert_null(pvm_plugin_request_hook(pvm_context_plugin(ctx, "bare"),
                                        PVM_HOOK_REQUEST));
    pvm_response resp = {0};
    trace[0] = '\0';
    struct capture cap;
    capture_start(&cap);
    int rc = pvm_context_run_request_hook(ctx, PVM_HOOK_REQUEST, NULL, &resp);
    char *out = capture_end(&cap);
    assert_int_equal(rc, PVM_ERR_FORBIDDEN);
    assert_string_equal(trace, "a:gate bad:gate ");
    assert_int_equal(resp.noted, 1);
    assert_int_equal(resp.hook, PVM_HOOK_REQUEST);
    if (!strstr(out, " info: plugin bad: on_request answered 401\n"))
        fprintf(stderr, "log: %s\n", out);
    assert_non_null(
        strstr(out, " info: plugin bad: on_request answered 401\n"));
    assert_null(strstr(out, "error"));
    free(out);

    /* A data hook that chose its answer is not logged as an error either. */
    resp = (pvm_response){0};
    capture_start(&cap);
    rc = pvm_context_run_request_hook(ctx, PVM_HOOK_INSTANT_QUERY, NULL,
                                      &resp);
    out = capture_end(&cap);
    assert_null(strstr(out, "error"));
    assert_non_null(strstr(out, " info: plugin bad: on_instant_query_request "
                                "answered"));
    free(out);

    /* A wrapped instance's gate still runs: no wrapper can skip it. */
    pvm_plugin_set_wrapped(pvm_context_plugin(ctx, "bad"));
    resp = (pvm_response){0};
    trace[0] = '\0';
    capture_start(&cap);
    rc = pvm_context_run_request_hook(ctx, PVM_HOOK_REQUEST, NULL, &resp);
    free(capture_end(&cap));
    assert_int_equal(rc, PVM_ERR_FORBIDDEN);
    assert_string_equal(trace, "a:gate bad:gate ");
    pvm_context_free(ctx);

    /* Gates that let it pass: every one runs, the walk goes on. */
    ctx = new_ok("[plugin:a]\ntype = rec\n[plugin:c]\ntype = rec\n");
    resp = (pvm_response){0};
    trace[0] = '\0';
    assert_int_equal(pvm_context_run_request_hook(ctx, PVM_HOOK_REQUEST, NULL,
                                                  &resp),
                     0);
    assert_string_equal(trace, "a:gate c:gate ");
    pvm_context_free(ctx);
}

static void test_hook_accessors(void **state)
{
    (void)state;
    static const char *const names[PVM_HOOK_COUNT] = {
        "on_startup",
        "on_shutdown",
        "on_instant_query_request",
        "on_range_query_request",
        "on_metric_names_request",
        "on_label_names_request",
        "on_label_values_request",
        "on_request",
        "on_metadata_request",
        "on_master_startup",
        "validate",
    };
    for (int h = 0; h < PVM_HOOK_COUNT; h++)
        assert_string_equal(pvm_hook_name((pvm_hook)h), names[h]);
    assert_string_equal(pvm_hook_name(PVM_HOOK_COUNT), "unknown_hook");

    pvm_context *ctx = new_ok("[plugin:r]\ntype = rec\n[plugin:bare]\n");
    pvm_plugin *r = pvm_context_plugin(ctx, "r");
    pvm_plugin *b = pvm_context_plugin(ctx, "bare");
    assert_ptr_equal(pvm_plugin_request_hook(r, PVM_HOOK_RANGE_QUERY),
                     rec_range);
    assert_ptr_equal(pvm_plugin_request_hook(r, PVM_HOOK_INSTANT_QUERY),
                     rec_instant);
    assert_null(pvm_plugin_request_hook(r, PVM_HOOK_METRIC_NAMES));
    assert_null(pvm_plugin_request_hook(r, PVM_HOOK_STARTUP));
    assert_ptr_equal(pvm_plugin_request_hook(b, PVM_HOOK_LABEL_NAMES),
                     bare_label_names);
    assert_ptr_equal(pvm_plugin_context_hook(r, PVM_HOOK_STARTUP),
                     rec_startup);
    assert_ptr_equal(pvm_plugin_context_hook(r, PVM_HOOK_SHUTDOWN),
                     rec_shutdown);
    assert_null(pvm_plugin_context_hook(r, PVM_HOOK_RANGE_QUERY));
    assert_null(pvm_plugin_context_hook(b, PVM_HOOK_STARTUP));
    assert_null(pvm_plugin_context_hook(b, PVM_HOOK_MASTER_STARTUP));
    assert_null(pvm_plugin_context_hook(b, PVM_HOOK_VALIDATE));
    assert_null(pvm_plugin_request_hook(r, PVM_HOOK_VALIDATE));
    assert_null(pvm_plugin_context_hook(r, PVM_HOOK_COUNT));
    pvm_context_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_instances_in_file_order, setup),
        cmocka_unit_test_setup(test_same_type_twice, setup),
        cmocka_unit_test_setup(test_zero_plugins, setup),
        cmocka_unit_test_setup(test_unknown_type, setup),
        cmocka_unit_test_setup(test_configure_errors, setup),
        cmocka_unit_test_setup(test_check_errors, setup),
        cmocka_unit_test_setup(test_startup_shutdown_order, setup),
        cmocka_unit_test_setup(test_startup_failure_rollback, setup),
        cmocka_unit_test_setup(test_shutdown_failure_logged, setup),
        cmocka_unit_test_setup(test_wrapped_skipped, setup),
        cmocka_unit_test_setup(test_hook_order, setup),
        cmocka_unit_test_setup(test_hook_failure_stops, setup),
        cmocka_unit_test_setup(test_request_gate, setup),
        cmocka_unit_test_setup(test_hook_accessors, setup),
        cmocka_unit_test_setup(test_context_lookback_and_paths, setup),
        cmocka_unit_test_setup(test_log_levels, setup),
        cmocka_unit_test_setup(test_log_format, setup),
        cmocka_unit_test_setup(test_log_long_line, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
