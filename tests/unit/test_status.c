/* test_status.c: the operating endpoints (/-/healthy, /-/ready,
 * /api/v1/status/flags and runtimeinfo) and trusted proxies ([server]
 * trusted_proxies: X-Forwarded-For and X-Real-IP of a trusted peer become
 * the request's remote address, an untrusted peer's are ignored), in
 * process through the test kit, plus proxy.c's parser directly. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "kitutil.h"

#include "api.h"
#include "api_status.h"
#include "proxy.h"
#include "registry.h"

/* A plugin answering `remote_echo` with the request's remote address as
 * a label, so that tests see what plugins see. */
static int echo_instant(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    pvm_label l[] = {{"remote", pvm_request_http_remote(req)}};
    int rc = pvm_response_add_sample(resp, "remote_echo", 1,
                                     pvm_request_time(req), l, 1);
    return rc < 0 ? rc : 0;
}

static const pvm_plugin_type echo = {
    .name = "echo",
    .on_instant_query_request = echo_instant,
};

static const pvm_plugin_type *const table[] = {&echo, NULL};

static pvm_testkit *kit_new(const char *ini)
{
    return kit_or_fail(ini, table);
}

/* The remote address the plugin saw for a request with these headers
 * (the test kit's peer is 127.0.0.1); caller frees. */
static char *remote_seen(pvm_testkit *k, const char *h1, const char *h2)
{
    const char *h[] = {h1, h2, NULL};
    pvm_test_response *r = pvm_testkit_request(
        k, "GET", "/api/v1/query?query=remote_echo&time=100", NULL, h);
    assert_int_equal(r->status, 200);
    const char *v = pvm_test_json_string(r->json,
                                         "data.result[0].metric.remote");
    assert_non_null(v);
    char *copy = strdup(v);
    pvm_test_response_free(r);
    return copy;
}

#define EXPECT_REMOTE(k, h1, h2, want)                                        \
    do {                                                                      \
        char *got_ = remote_seen(k, h1, h2);                                  \
        assert_string_equal(got_, want);                                      \
        free(got_);                                                           \
    } while (0)

static void test_trusted_proxy(void **state)
{
    (void)state;
    pvm_testkit *k = kit_new("[server]\ntrusted_proxies = 127.0.0.1, "
                             "10.0.0.0/8 ::1\n[plugin:echo]\n");
    EXPECT_REMOTE(k, NULL, NULL, "127.0.0.1");
    EXPECT_REMOTE(k, "X-Real-IP: 203.0.113.7", NULL, "203.0.113.7");
    EXPECT_REMOTE(k, "X-Forwarded-For: 198.51.100.1", NULL, "198.51.100.1");
    /* right to left, skipping trusted hops; a spoofed left part is not
     * believed */
    EXPECT_REMOTE(k, "X-Forwarded-For: 1.1.1.1, 198.51.100.1, 10.1.2.3", NULL,
                  "198.51.100.1");
    /* all trusted: the leftmost */
    EXPECT_REMOTE(k, "X-Forwarded-For: 10.0.0.1,10.0.0.2", NULL, "10.0.0.1");
    /* X-Forwarded-For wins over X-Real-IP */
    EXPECT_REMOTE(k, "X-Real-IP: 203.0.113.7", "X-Forwarded-For: 2001:db8::1",
                  "2001:db8::1");
    /* garbage is ignored */
    EXPECT_REMOTE(k, "X-Forwarded-For: 1.2.3.4, nonsense", NULL, "127.0.0.1");
    EXPECT_REMOTE(k, "X-Real-IP: <script>", NULL, "127.0.0.1");
    pvm_testkit_free(k);
}

/* The test kit's peer 127.0.0.1 is not trusted: its headers are
 * ignored; and without the setting nothing changes. */
static void test_untrusted_sender(void **state)
{
    (void)state;
    pvm_testkit *k = kit_new("[server]\ntrusted_proxies = 10.0.0.0/8\n"
                             "[plugin:echo]\n");
    EXPECT_REMOTE(k, "X-Forwarded-For: 198.51.100.1", NULL, "127.0.0.1");
    EXPECT_REMOTE(k, "X-Real-IP: 198.51.100.1", NULL, "127.0.0.1");
    pvm_testkit_free(k);
    k = kit_new("[plugin:echo]\n");
    EXPECT_REMOTE(k, "X-Forwarded-For: 198.51.100.1", NULL, "127.0.0.1");
    pvm_testkit_free(k);
}

static void test_cidr_parse(void **state)
{
    (void)state;
    pvm_cidr *l;
    size_t n;
    char why[256];
    assert_int_equal(pvm_cidr_list_parse("192.168.1.0/24,fd00::/8  ::1, "
                                         "172.16.0.1",
                                         &l, &n, why, sizeof(why)),
                     0);
    assert_int_equal(n, 4);
    assert_true(pvm_cidr_list_contains(l, n, "192.168.1.200"));
    assert_false(pvm_cidr_list_contains(l, n, "192.168.2.1"));
    assert_true(pvm_cidr_list_contains(l, n, "fd12::5"));
    assert_true(pvm_cidr_list_contains(l, n, "::1"));
    assert_true(pvm_cidr_list_contains(l, n, "::ffff:172.16.0.1"));
    assert_false(pvm_cidr_list_contains(l, n, "172.16.0.2"));
    assert_false(pvm_cidr_list_contains(l, n, "fe80::1"));
    assert_false(pvm_cidr_list_contains(l, n, NULL));
    assert_false(pvm_cidr_list_contains(l, n, "x"));
    free(l);
    assert_int_equal(pvm_cidr_list_parse("0.0.0.0/0", &l, &n, why,
                                         sizeof(why)),
                     0);
    assert_true(pvm_cidr_list_contains(l, n, "8.8.8.8"));
    assert_false(pvm_cidr_list_contains(l, n, "2001:db8::1"));
    free(l);
    assert_int_equal(pvm_cidr_list_parse("", &l, &n, why, sizeof(why)), 0);
    assert_int_equal(n, 0);
    assert_int_equal(pvm_cidr_list_parse("10.0.0.0/33", &l, &n, why,
                                         sizeof(why)),
                     -1);
    assert_non_null(strstr(why, "not an address or CIDR: '10.0.0.0/33'"));
    assert_int_equal(pvm_cidr_list_parse("localhost", &l, &n, why,
                                         sizeof(why)),
                     -1);
    assert_int_equal(pvm_cidr_list_parse("::1/129", &l, &n, why, sizeof(why)),
                     -1);
}

/* A bad setting is reported with file, line and key. */
static void test_trusted_proxies_config_error(void **state)
{
    (void)state;
    char err[512];
    pvm_testkit *k = pvm_testkit_new("[server]\ntrusted_proxies = 10.0.0/8\n",
                                     table, err, sizeof(err));
    assert_null(k);
    assert_non_null(strstr(err, ":2: [server] trusted_proxies: not an "
                                "address or CIDR: '10.0.0/8'"));
}

/* ---- health and readiness ---------------------------------------------- */

static void test_healthy_ready(void **state)
{
    (void)state;
    pvm_testkit *k = kit_new("[server]\napi_url_prefix = /pvm\n"
                             "[plugin:echo]\n");
    pvm_test_response *r = pvm_testkit_request(k, "GET", "/pvm/-/healthy",
                                               NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "pvm is Healthy.\n");
    assert_string_equal(pvm_test_response_header(r, "Content-Type"),
                        "text/plain; charset=utf-8");
    pvm_test_response_free(r);
    r = pvm_testkit_request(k, "HEAD", "/pvm/-/ready", NULL, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "pvm is Ready.\n");
    pvm_test_response_free(r);
    r = pvm_testkit_request(k, "POST", "/pvm/-/ready", "", NULL);
    assert_int_equal(r->status, 405);
    pvm_test_response_free(r);
    /* outside the prefix: not found */
    r = pvm_testkit_request(k, "GET", "/-/healthy", NULL, NULL);
    assert_int_equal(r->status, 404);
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

struct capture {
    char buf[4096]; /* the answer */
    size_t len;     /* bytes in buf */
};

static int capture_write(void *ctx, const char *b, size_t n)
{
    struct capture *c = ctx;
    if (n > sizeof(c->buf) - 1 - c->len)
        n = sizeof(c->buf) - 1 - c->len;
    memcpy(c->buf + c->len, b, n);
    c->len += n;
    c->buf[c->len] = '\0';
    return 0;
}

/* /-/ready through pvm_api_handle with the process state of a worker:
 * 503 while stopping and before the plugins' startup. */
static void test_ready_states(void **state)
{
    (void)state;
    pvm_testkit *k = kit_new("[plugin:echo]\n");
    pvm_context *ctx = pvm_testkit_context(k);
    volatile sig_atomic_t stop = 0;
    pvm_api_env env = {.ctx = ctx,
                       .cfg = &pvm_context_config(ctx)->server,
                       .stopping = &stop};
    pvm_http_request hr = {.method = "GET",
                           .request_uri = "/-/ready",
                           .remote_addr = "127.0.0.1"};
    pvm_arena *a = pvm_arena_new(0);
    struct capture c = {0};
    pvm_http_out out = {capture_write, &c, NULL};
    assert_int_equal(pvm_api_handle(&env, a, &hr, &out), 200);
    stop = 1;
    c.len = 0;
    assert_int_equal(pvm_api_handle(&env, a, &hr, &out), 503);
    assert_non_null(strstr(c.buf, "pvm is stopping"));
    /* health stays 200 while the process answers */
    hr.request_uri = "/-/healthy";
    assert_int_equal(pvm_api_handle(&env, a, &hr, &out), 200);
    stop = 0;
    pvm_context_shutdown(ctx); /* as a worker stopping does */
    hr.request_uri = "/-/ready";
    c.len = 0;
    assert_int_equal(pvm_api_handle(&env, a, &hr, &out), 503);
    assert_non_null(strstr(c.buf, "pvm is starting"));
    pvm_error err = {0};
    assert_int_equal(pvm_context_startup(ctx, &err), 0);
    assert_int_equal(pvm_api_handle(&env, a, &hr, &out), 200);
    pvm_arena_free(a);
    pvm_testkit_free(k);
}

/* ---- status ------------------------------------------------------------ */

/* A flag's value ("" when absent, to fail the comparison visibly). */
static const char *flag(json_object *data, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(data, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return "(absent)";
    return json_object_get_string(v);
}

static void test_flags(void **state)
{
    (void)state;
    pvm_testkit *k = kit_new("[server]\nlookback_delta = 90s\nworkers = 3\n"
                             "trusted_proxies = 10.0.0.0/8\n"
                             "[plugin:echo]\n");
    pvm_test_response *r = pvm_testkit_request(k, "GET",
                                               "/api/v1/status/flags", NULL,
                                               NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(pvm_test_json_string(r->json, "status"), "success");
    json_object *data = pvm_test_json_get(r->json, "data");
    assert_non_null(data);
    assert_string_equal(flag(data, "server.lookback_delta"), "1m30s");
    assert_string_equal(flag(data, "server.workers"), "3");
    assert_string_equal(flag(data, "server.trusted_proxies"), "10.0.0.0/8");
    assert_string_equal(flag(data, "server.api_url_prefix"), "");
    assert_string_equal(flag(data, "config.file"), "test.ini");
    assert_non_null(strstr(r->body, "\"config.file\""));
    assert_true(strstr(r->body, "\"config.file\"") <
                strstr(r->body, "\"server.access_log\""));
    /* every value a string, keys in byte order */
    json_object_object_foreach(pvm_test_json_get(r->json, "data"), key, val)
    {
        (void)key;
        assert_true(json_object_is_type(val, json_type_string));
    }
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_runtimeinfo(void **state)
{
    (void)state;
    pvm_testkit *k = kit_new("[plugin:echo]\n");
    pvm_test_response *r = pvm_testkit_request(k, "GET",
                                               "/api/v1/status/runtimeinfo",
                                               NULL, NULL);
    assert_int_equal(r->status, 200);
    const char *st = pvm_test_json_string(r->json, "data.startTime");
    assert_non_null(st);
    assert_int_equal(strlen(st), 20); /* 2026-01-02T03:04:05Z */
    assert_int_equal(st[10], 'T');
    assert_non_null(pvm_test_json_string(r->json, "data.CWD"));
    assert_non_null(pvm_test_json_string(r->json, "data.lastConfigTime"));
    assert_true(json_object_get_boolean(
        pvm_test_json_get(r->json, "data.reloadConfigSuccess")));
    assert_int_equal(json_object_get_int(
                         pvm_test_json_get(r->json, "data.goroutineCount")),
                     1);
    assert_non_null(pvm_test_json_get(r->json, "data.GOMAXPROCS"));
    assert_non_null(pvm_test_json_string(r->json, "data.storageRetention"));
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trusted_proxy),
        cmocka_unit_test(test_untrusted_sender),
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_trusted_proxies_config_error),
        cmocka_unit_test(test_healthy_ready),
        cmocka_unit_test(test_ready_states),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_runtimeinfo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
