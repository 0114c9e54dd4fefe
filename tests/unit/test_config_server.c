/* test_config_server.c: unit tests of config_server.c, the [server]
 * section of pvm.ini: defaults, every key, their value syntaxes and
 * messages (part of test_config). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_config.h"

void test_defaults(void **state)
{
    (void)state;
    pvm_config *c = load_ok("");
    const pvm_server_config *s = &c->server;
    assert_string_equal(c->path, "pvm.ini");
    assert_int_equal(c->nsections, 0);
    assert_null(s->listen);
    assert_string_equal(s->api_url_prefix, "");
    assert_int_equal(s->max_body_bytes, 1048576);
    assert_int_equal(s->log_level, PVM_LOG_INFO);
    assert_int_equal(s->access_log_level, PVM_LOG_INFO);
    assert_false(s->access_log_off);
    assert_int_equal(s->max_request_memory, 1073741824);
    assert_int_equal(s->max_samples, 50000000);
    assert_int_equal(s->lookback_delta_ms, 300000);
    assert_int_equal(s->workers, 0);
    assert_int_equal(s->request_timeout_ms, 60000);
    assert_int_equal(s->max_query_timeout_ms, 50000);
    pvm_config_free(c);

    /* An empty [server] changes nothing. */
    c = load_ok("[server]\n");
    assert_int_equal(c->nsections, 1);
    assert_int_equal(c->server.max_body_bytes, 1048576);
    assert_null(c->server.listen);
    pvm_config_free(c);
}

void test_all_keys(void **state)
{
    (void)state;
    pvm_config *c = load_ok("[server]\n"
                            "listen = 127.0.0.1:9000\n"
                            "api_url_prefix = /prometheus/\n"
                            "max_body_bytes = 512k\n"
                            "log_level = debug\n"
                            "access_log = warning\n"
                            "max_request_memory = 256M\n"
                            "max_samples = 1000\n"
                            "lookback_delta = 1m30s\n"
                            "workers = 4\n"
                            "request_timeout = 10s\n"
                            "max_query_timeout = 1h\n");
    const pvm_server_config *s = &c->server;
    assert_string_equal(s->listen, "127.0.0.1:9000");
    assert_string_equal(s->api_url_prefix, "/prometheus");
    assert_int_equal(s->max_body_bytes, 512 * 1024);
    assert_int_equal(s->log_level, PVM_LOG_DEBUG);
    assert_int_equal(s->access_log_level, PVM_LOG_WARNING);
    assert_false(s->access_log_off);
    assert_int_equal(s->max_request_memory, 256 * 1024 * 1024);
    assert_int_equal(s->max_samples, 1000);
    assert_int_equal(s->lookback_delta_ms, 90000);
    assert_int_equal(s->workers, 4);
    assert_int_equal(s->request_timeout_ms, 10000);
    assert_int_equal(s->max_query_timeout_ms, 3600000);

    /* The raw values stay available, the last one of a key winning. */
    assert_string_equal(pvm_config_get(c, "server", "max_body_bytes"), "512k");
    assert_null(pvm_config_get(c, "server", "nope"));
    assert_null(pvm_config_get(c, "plugin:x", "type"));
    assert_int_equal(pvm_config_section_find(c, "server")->nentries, 11);
    assert_int_equal(pvm_config_section_find(c, "server")->line, 1);
    pvm_config_free(c);
}

void test_repeated_server_key(void **state)
{
    (void)state;
    pvm_config *c = load_ok("[server]\nworkers = 2\nworkers = 3\n"
                            "listen = 127.0.0.1:1\nlisten = unix:/s\n");
    assert_int_equal(c->server.workers, 3);
    assert_string_equal(c->server.listen, "unix:/s");
    assert_string_equal(pvm_config_get(c, "server", "workers"), "3");
    pvm_config_free(c);
}

void test_listen(void **state)
{
    (void)state;
    static const char *const good[] = {
        "127.0.0.1:9000",     "0.0.0.0:1",      "[::1]:9000",
        "[::]:65535",         "localhost:9000", "unix:/run/pvm/pvm.sock",
        "unix:relative.sock",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        pvm_config *c = load_server("listen", good[i]);
        assert_string_equal(c->server.listen, good[i]);
        pvm_config_free(c);
    }
    /* Empty: the socket on fd 0. */
    pvm_config *c = load_ok("[server]\nlisten =\n");
    assert_null(c->server.listen);
    pvm_config_free(c);

    static const char *const bad[] = {
        "9000",        "127.0.0.1", "127.0.0.1:0",  "127.0.0.1:65536",
        "127.0.0.1:x", ":9000",     "::1:9000",     "[::1]9000",
        "[zz]:9000",   "[]:9000",   "host name:80", "-x:80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char why[256];
        snprintf(why, sizeof(why),
                 "not an address: '%s' (expected HOST:PORT, [IPV6]:PORT or "
                 "unix:/PATH)",
                 bad[i]);
        expect_server_error("listen", bad[i], why);
    }
    expect_server_error("listen", "unix:", "empty socket path in 'unix:'");
    char longpath[200] = "unix:/";
    memset(longpath + 6, 'a', 120);
    longpath[126] = '\0';
    char why[256];
    snprintf(why, sizeof(why),
             "socket path too long (at most 107 bytes): '%s'", longpath);
    expect_server_error("listen", longpath, why);
}

void test_prefix_normalization(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"/", ""},          {"//", ""},          {"prom", "/prom"},
        {"/prom", "/prom"}, {"/prom/", "/prom"}, {"//a/b//", "/a/b"},
        {"a/b", "/a/b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pvm_config *c = load_server("api_url_prefix", cases[i][0]);
        assert_string_equal(c->server.api_url_prefix, cases[i][1]);
        pvm_config_free(c);
    }
    pvm_config *c = load_ok("[server]\napi_url_prefix =\n");
    assert_string_equal(c->server.api_url_prefix, "");
    pvm_config_free(c);
    expect_server_error("api_url_prefix", "/a?b",
                        "not a URL path: '/a?b' (no spaces, '?' or '#' "
                        "allowed)");
    expect_server_error("api_url_prefix", "/a b",
                        "not a URL path: '/a b' (no spaces, '?' or '#' "
                        "allowed)");
    /* metrics_path is routed first: it may not take an API path. */
    static const char *const shadows[] = {"/api/v1/query", "api/v1/labels",
                                          "//api/v1/status/buildinfo",
                                          "/api/v1", "/api/v1/x"};
    for (size_t i = 0; i < sizeof(shadows) / sizeof(shadows[0]); i++) {
        char why[256];
        const char *norm = shadows[i] + strspn(shadows[i], "/");
        snprintf(why, sizeof(why),
                 "'/%s' would shadow the Prometheus API "
                 "(paths under /api/v1/ are its routes): choose another "
                 "path, e.g. /metrics",
                 norm);
        expect_server_error("metrics_path", shadows[i], why);
    }
    c = load_server("metrics_path", "/api/v2/metrics");
    assert_string_equal(c->server.metrics_path, "/api/v2/metrics");
    pvm_config_free(c);
    c = load_server("metrics_path", "/api/v1metrics");
    pvm_config_free(c);
}

void test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *text; /* input */
        size_t size;      /* expected bytes */
    } good[] = {
        {"1", 1},     {"1048576", 1048576}, {"1k", 1024},
        {"2K", 2048}, {"3M", 3u << 20},     {"4G", (size_t)4 << 30},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        size_t v = 0;
        assert_int_equal(pvm_config_parse_size(good[i].text, &v), 0);
        assert_int_equal(v, good[i].size);
        pvm_config *c = load_server("max_request_memory", good[i].text);
        assert_int_equal(c->server.max_request_memory, good[i].size);
        pvm_config_free(c);
    }
    static const char *const bad[] = {
        "x",
        "",
        "-1",
        "1T",
        "1MB",
        "1m",
        "k",
        "1.5M",
        "1 M",
        "99999999999999999999",
        "17179869184G",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t v = 0;
        assert_int_equal(pvm_config_parse_size(bad[i], &v), PVM_ERR_BAD_DATA);
        if (!*bad[i])
            continue;
        char why[256];
        snprintf(why, sizeof(why), "not a size: '%s'", bad[i]);
        expect_server_error("max_body_bytes", bad[i], why);
    }
    /* The example of the documentation, exactly. */
    expect_error("# pvm.ini\n[server]\n\n\n\n\n\n\n\n\n\nmax_body_bytes = x\n",
                 "pvm.ini:12: [server] max_body_bytes: not a size: 'x'");
    expect_server_error("max_body_bytes", "0", "must be at least 1: '0'");
    expect_server_error("max_request_memory", "0", "must be at least 1: '0'");
    expect_server_error("max_body_bytes", "", "not a size: ''");
}

void test_counts(void **state)
{
    (void)state;
    pvm_config *c = load_server("max_samples", "123456789");
    assert_int_equal(c->server.max_samples, 123456789);
    pvm_config_free(c);
    expect_server_error("max_samples", "0", "must be at least 1: '0'");
    expect_server_error("max_samples", "1k", "not a number: '1k'");
    expect_server_error("max_samples", "-5", "not a number: '-5'");

    c = load_server("workers", "0");
    assert_int_equal(c->server.workers, 0);
    pvm_config_free(c);
    c = load_server("workers", "1024");
    assert_int_equal(c->server.workers, 1024);
    pvm_config_free(c);
    expect_server_error("workers", "-1", "not a number from 0 to 1024: '-1'");
    expect_server_error("workers", "1025",
                        "not a number from 0 to 1024: '1025'");
    expect_server_error("workers", "two",
                        "not a number from 0 to 1024: 'two'");
}

void test_durations(void **state)
{
    (void)state;
    static const struct {
        const char *text; /* input */
        int64_t ms;       /* expected value */
    } good[] = {
        {"1ms", 1},
        {"250ms", 250},
        {"30s", 30000},
        {"5m", 300000},
        {"1m30s", 90000},
        {"1h", 3600000},
        {"1h30m15s500ms", 5415500},
        {"2d", 172800000},
        {"1w", 604800000},
        {"1y", 31536000000},
        {"1y2w3d", 31536000000 + 2 * 604800000LL + 3 * 86400000LL},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        pvm_config *c = load_server("max_query_timeout", good[i].text);
        assert_int_equal(c->server.max_query_timeout_ms, good[i].ms);
        pvm_config_free(c);
    }
    /* 0 disables the request timeout, and is no lookback delta. */
    pvm_config *c = load_server("request_timeout", "0");
    assert_int_equal(c->server.request_timeout_ms, 0);
    pvm_config_free(c);
    c = load_server("request_timeout", "0s");
    assert_int_equal(c->server.request_timeout_ms, 0);
    pvm_config_free(c);
    expect_server_error("lookback_delta", "0", "must be greater than 0: '0'");
    expect_server_error("max_query_timeout", "0s",
                        "must be greater than 0: '0s'");

    static const char *const bad[] = {
        "5",
        "1.5m",
        "m",
        "1s1m",
        "1m1m",
        "1x",
        "-1s",
        "1 m",
        "s1",
        "1ms1s",
        "99999999999999999999s",
        "300000000y",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char why[256];
        snprintf(why, sizeof(why), "not a duration: '%s'", bad[i]);
        expect_server_error("lookback_delta", bad[i], why);
    }
    expect_server_error("request_timeout", "", "not a duration: ''");
}

void test_log_levels(void **state)
{
    (void)state;
    static const struct {
        const char *text;    /* input */
        pvm_log_level level; /* expected level */
    } levels[] = {
        {"error", PVM_LOG_ERROR},  {"warning", PVM_LOG_WARNING},
        {"info", PVM_LOG_INFO},    {"debug", PVM_LOG_DEBUG},
        {"WARN", PVM_LOG_WARNING},
    };
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        pvm_config *c = load_server("log_level", levels[i].text);
        assert_int_equal(c->server.log_level, levels[i].level);
        pvm_config_free(c);
        c = load_server("access_log", levels[i].text);
        assert_int_equal(c->server.access_log_level, levels[i].level);
        assert_false(c->server.access_log_off);
        pvm_config_free(c);
    }
    pvm_config *c = load_server("access_log", "off");
    assert_true(c->server.access_log_off);
    pvm_config_free(c);
    /* A later value turns it back on. */
    c = load_ok("[server]\naccess_log = off\naccess_log = debug\n");
    assert_false(c->server.access_log_off);
    assert_int_equal(c->server.access_log_level, PVM_LOG_DEBUG);
    pvm_config_free(c);

    expect_server_error("log_level", "off",
                        "not a log level: 'off' (error, warning, info or "
                        "debug)");
    expect_server_error("access_log", "loud",
                        "not a log level: 'loud' (error, warning, info, "
                        "debug or off)");
}

/* request_read_timeout and keepalive_timeout: defaults, values, no 0. */
void test_fcgi_timeouts(void **state)
{
    (void)state;
    pvm_config *c = load_ok("");
    assert_int_equal(c->server.request_read_timeout_ms, 5000);
    assert_int_equal(c->server.keepalive_timeout_ms, 75000);
    pvm_config_free(c);
    c = load_server("request_read_timeout", "1500ms");
    assert_int_equal(c->server.request_read_timeout_ms, 1500);
    pvm_config_free(c);
    c = load_server("keepalive_timeout", "2m");
    assert_int_equal(c->server.keepalive_timeout_ms, 120000);
    pvm_config_free(c);
    expect_server_error("request_read_timeout", "0",
                        "must be greater than 0: '0'");
    expect_server_error("keepalive_timeout", "0s",
                        "must be greater than 0: '0s'");
    expect_server_error("request_read_timeout", "5", "not a duration: '5'");
}
