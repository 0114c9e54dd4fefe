/* test_api_log.c: what a request leaves behind besides its answer: the
 * access log line (the path of a 404, the query of a request refused for
 * another parameter) and the /metrics counters (every endpoint under its
 * own handler label, a request stopped by a plugin's gate under the
 * endpoint it asked for). In-process, through pvm_api_handle with a
 * shared-memory segment as the server has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "apiutil.h"
#include "capture.h"
#include "kitutil.h"

#include "api.h"
#include "metrics.h"
#include "registry.h"
#include "shm.h"

extern const pvm_plugin_type pvm_plugin_example;

/* A gate refusing requests without an X-Pass header. */
static int gate(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    if (pvm_request_http_header(req, "X-Pass"))
        return 0;
    return pvm_response_set_error(resp, PVM_ERR_FORBIDDEN, "no pass");
}

static const pvm_plugin_type gate_type = {
    .name = "gate",
    .on_request = gate,
};

static const pvm_plugin_type *const table[] = {&pvm_plugin_example, &gate_type,
                                               NULL};

/* The log of one GET through the kit, with its status checked. */
static char *logged(pvm_testkit *kit, const char *target, int status)
{
    struct capture cap;
    capture_start(&cap);
    pvm_test_response *r = pvm_testkit_request(kit, "GET", target, NULL, NULL);
    char *out = capture_end(&cap);
    assert_non_null(r);
    if (r->status != status)
        fail_msg("%s: %d, not %d: %s", target, r->status, status, r->body);
    pvm_test_response_free(r);
    return out;
}

static void expect_in(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' not in:\n%s", needle, haystack);
}

/* ---- access log --------------------------------------------------------- */

/* A 404 names the path it was asked for (without the query string). */
static void test_404_logs_path(void **state)
{
    (void)state;
    pvm_testkit *kit = kit_or_fail("[plugin:example]\n", table);
    char *out = logged(kit, "/no/such/path?x=1", 404);
    expect_in(out, "[status=404, path=\"/no/such/path\", query=\"\"");
    free(out);
    out = logged(kit, "/api/v1/nope", 404);
    expect_in(out, "path=\"/api/v1/nope\"");
    free(out);
    out = logged(kit, "/api/v1/query?query=up&time=0", 200);
    expect_in(out, "[status=200, path=\"/api/v1/query\", query=\"up\"");
    free(out);
    pvm_testkit_free(kit);
}

/* A request refused for another parameter still logs its query. */
static void test_bad_param_logs_query(void **state)
{
    (void)state;
    pvm_testkit *kit = kit_or_fail("[plugin:example]\n", table);
    static const char *const targets[] = {
        "/api/v1/query_range?query=sum(up)&start=0&end=60&step=0",
        "/api/v1/query_range?query=sum(up)&start=0&end=60&step=x",
        "/api/v1/query_range?query=sum(up)&start=x&end=60&step=15",
        "/api/v1/query_range?query=sum(up)&start=60&end=0&step=15",
        "/api/v1/query?query=sum(up)&time=x",
        "/api/v1/query?query=sum(up)&timeout=x",
        "/api/v1/query_exemplars?query=sum(up)&start=x",
    };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        char *out = logged(kit, targets[i], 400);
        expect_in(out, "status=400, path=\"/api/v1/");
        expect_in(out, "query=\"sum(up)\"");
        free(out);
    }
    pvm_testkit_free(kit);
}

/* ---- /metrics ----------------------------------------------------------- */

/* GET target through pvm_api_handle with env, with X-Pass when pass;
 * the answer lands in s. */
static int handle(const pvm_api_env *env, const char *target, bool pass,
                  struct sink *s)
{
    pvm_kv header = {"X-Pass", "1"};
    return api_request(env, target, NULL, &header, pass ? 1 : 0, s);
}

/* The api env of kit's context with the plugins' metrics in a shm of
 * its own (free it with pvm_shm_free(env.shm)), as /metrics needs. */
static pvm_api_env metrics_env(pvm_testkit *kit)
{
    pvm_context *ctx = pvm_testkit_context(kit);
    pvm_shm *shm = pvm_shm_new();
    assert_non_null(shm);
    pvm_metrics_register_plugins(shm, ctx);
    return (pvm_api_env){.ctx = ctx,
                         .cfg = &pvm_context_config(ctx)->server,
                         .shm = shm};
}

/* parse_query has its own handler label (it was counted as "other"), and
 * a request the gate answered counts under the endpoint asked for. */
static void test_metrics_handler_labels(void **state)
{
    (void)state;
    pvm_testkit *kit = kit_or_fail("[server]\naccess_log = off\n"
                                   "[plugin:example]\n[plugin:gate]\n",
                                   table);
    pvm_api_env env = metrics_env(kit);
    struct sink *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(handle(&env, "/api/v1/parse_query?query=up", true, s),
                     200);
    assert_int_equal(handle(&env, "/api/v1/parse_query?query=up", true, s),
                     200);
    assert_int_equal(handle(&env, "/api/v1/query?query=vector(1)", false, s),
                     401);
    assert_int_equal(handle(&env, "/nope", false, s), 401);
    assert_int_equal(handle(&env, "/metrics", true, s), 200);
    expect_in(s->buf, "pvm_http_requests_total{handler=\"/api/v1/"
                      "parse_query\",code=\"200\"} 2\n");
    expect_in(s->buf, "pvm_http_requests_total{handler=\"/api/v1/query\","
                      "code=\"401\"} 1\n");
    expect_in(s->buf, "pvm_http_requests_total{handler=\"other\","
                      "code=\"401\"} 1\n");
    assert_null(strstr(s->buf, "handler=\"other\",code=\"200\""));
    /* a 401 is not a plugin error */
    expect_in(s->buf, "pvm_plugin_errors_total{plugin=\"gate\"} 0\n");
    free(s);
    pvm_shm_free(env.shm);
    pvm_testkit_free(kit);
}


/* ---- explicit answers --------------------------------------------------- */

/* Fails its query hooks with a message that names another instance. */
static int liar_fail(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    (void)req;
    return pvm_response_fail(resp, "plugin example: upstream broke");
}

/* Chooses a plugin error whose text starts like the registry's. */
static int liar_choose(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    (void)req;
    return pvm_response_set_error(resp, PVM_ERR_PLUGIN,
                                  "plugin example: upstream broke");
}

static const pvm_plugin_type liar_type = {
    .name = "liar",
    .on_instant_query_request = liar_fail,
    .on_range_query_request = liar_fail,
};

static const pvm_plugin_type chooser_type = {
    .name = "chooser",
    .on_instant_query_request = liar_choose,
    .on_range_query_request = liar_choose,
};

static const pvm_plugin_type *const liar_table[] = {&pvm_plugin_example,
                                                    &liar_type, &chooser_type,
                                                    NULL};

/* /metrics' answer for a server whose first instance is `first`, after
 * each of targets answered 500. */
static void plugin_errors_after(const char *first, const char *const *targets,
                                size_t n, struct sink *s)
{
    char ini[256];
    snprintf(ini, sizeof(ini),
             "[server]\naccess_log = off\n[plugin:%s]\n[plugin:example]\n",
             first);
    pvm_testkit *kit = kit_or_fail(ini, liar_table);
    pvm_api_env env = metrics_env(kit);
    for (size_t i = 0; i < n; i++) {
        int status = handle(&env, targets[i], true, s);
        if (status != 500)
            fail_msg("%s: %d: %s", targets[i], status, s->buf);
        expect_in(s->buf, "plugin example: upstream broke");
    }
    assert_int_equal(handle(&env, "/metrics", true, s), 200);
    pvm_shm_free(env.shm);
    pvm_testkit_free(kit);
}

/* The failing instance reaches pvm_plugin_errors_total as the registry
 * recorded it, whatever its message says (the old code read the name back
 * out of the text, and a message starting "plugin example:" was counted
 * against example), through the engine, /federate and /series. */
static void test_plugin_error_counts_recorded_instance(void **state)
{
    (void)state;
    static const char *const targets[] = {
        "/api/v1/query?query=up&time=100",
        "/api/v1/query_range?query=up&start=0&end=60&step=15",
        "/federate?match[]=up",
        "/api/v1/series?match[]=up",
    };
    size_t n = sizeof(targets) / sizeof(targets[0]);
    struct sink *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    plugin_errors_after("liar", targets, n, s);
    expect_in(s->buf, "pvm_plugin_errors_total{plugin=\"liar\"} 4\n");
    expect_in(s->buf, "pvm_plugin_errors_total{plugin=\"example\"} 0\n");
    plugin_errors_after("chooser", targets, n, s);
    expect_in(s->buf, "pvm_plugin_errors_total{plugin=\"chooser\"} 4\n");
    expect_in(s->buf, "pvm_plugin_errors_total{plugin=\"example\"} 0\n");
    free(s);
}

static int dead_write(void *ctx, const char *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
    return -1; /* the client has gone */
}

/* The status a handler answered reaches the access log and the caller as
 * data, even when not one byte could be written. */
static void test_status_logged_without_bytes(void **state)
{
    (void)state;
    pvm_testkit *kit = kit_or_fail("[plugin:example]\n", table);
    pvm_context *ctx = pvm_testkit_context(kit);
    pvm_api_env env = {.ctx = ctx, .cfg = &pvm_context_config(ctx)->server};
    static const struct {
        const char *method; /* request method */
        const char *target; /* request URI */
        int status;         /* status answered */
        const char *line;   /* part of the log line */
    } cases[] = {
        /* a JSON success holds its 200 back until the body is written
         * (never a 200 with a cut body): a client that takes no byte
         * turns it into the 500 of a failed write */
        {"GET", "/api/v1/parse_query?query=up", 500,
         "returning 1 queries [status=500"},
        {"GET", "/-/healthy", 200, "returning 1 values [status=200"},
        {"GET", "/metrics", 200, "metrics request"},
        {"POST", "/-/ready", 405, "[status=405"},
        {"GET", "/api/v1/query?query=up(", 400, "[status=400"},
        {"POST", "/api/v1/read", 400, "remote read request"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pvm_arena *a = pvm_arena_new(64 << 20);
        assert_non_null(a);
        const char *q = strchr(cases[i].target, '?');
        pvm_http_request hr = {.method = cases[i].method,
                               .request_uri = cases[i].target,
                               .query_string = q ? q + 1 : "",
                               .remote_addr = "127.0.0.1"};
        pvm_http_out out = {dead_write, NULL, NULL};
        struct capture cap;
        capture_start(&cap);
        int status = pvm_api_handle(&env, a, &hr, &out);
        char *log = capture_end(&cap);
        pvm_arena_free(a);
        if (status != cases[i].status)
            fail_msg("%s: %d, not %d", cases[i].target, status,
                     cases[i].status);
        char want[32];
        snprintf(want, sizeof(want), "[status=%d", cases[i].status);
        expect_in(log, want);
        expect_in(log, cases[i].line);
        free(log);
    }
    pvm_testkit_free(kit);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_404_logs_path),
        cmocka_unit_test(test_bad_param_logs_query),
        cmocka_unit_test(test_metrics_handler_labels),
        cmocka_unit_test(test_plugin_error_counts_recorded_instance),
        cmocka_unit_test(test_status_logged_without_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
