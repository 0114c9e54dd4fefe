/* test_cache.c: cacheable answers (cache.c, output.c): which answers get
 * `Cache-Control: public, max-age=N` and a strong ETag and which get
 * no-store, If-None-Match and 304, and the ETag of a body given in any
 * pieces. In-process, through pvm_api_handle, with the example plugin
 * (declares its data immutable: a formula), a plugin that declares
 * nothing, one that declares up to a fixed moment, and a gate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "apiutil.h"
#include "cache.h"
#include "kitutil.h"
#include "registry.h"

extern const pvm_plugin_type pvm_plugin_example;
extern const pvm_plugin_type pvm_plugin_sqlite;

/* Serves `live` without declaring anything: every answer it takes part in
 * stays no-store. */
static int live_query(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    if (!pvm_query_name_matches(pvm_request_query(req), "live"))
        return 0;
    pvm_timestamps it = pvm_request_timestamps(req);
    int64_t t;
    while (pvm_timestamps_next(&it, &t))
        if (pvm_response_add_sample(resp, "live", 1, t, NULL, 0) < 0)
            return -1;
    return 0;
}

static const pvm_plugin_type live_type = {
    .name = "live",
    .on_instant_query_request = live_query,
    .on_range_query_request = live_query,
};

/* Serves `stored`, declared immutable before 1,000,000 s. */
#define STORED_UNTIL_MS 1000000000LL
static int stored_query(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    pvm_response_set_immutable_before(resp, STORED_UNTIL_MS);
    if (!pvm_query_name_matches(pvm_request_query(req), "stored"))
        return 0;
    pvm_timestamps it = pvm_request_timestamps(req);
    int64_t t;
    while (pvm_timestamps_next(&it, &t))
        if (pvm_response_add_sample(resp, "stored", 2, t, NULL, 0) < 0)
            return -1;
    return 0;
}

static int stored_names(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    (void)req;
    pvm_response_set_immutable_before(resp, STORED_UNTIL_MS);
    return pvm_response_add_value(resp, "stored");
}

static const pvm_plugin_type stored_type = {
    .name = "stored",
    .on_instant_query_request = stored_query,
    .on_range_query_request = stored_query,
    .on_metric_names_request = stored_names,
};

/* A gate that lets everything through. */
static int open_gate(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)self;
    (void)req;
    (void)resp;
    return 0;
}

static const pvm_plugin_type gate_type = {
    .name = "gate",
    .on_request = open_gate,
};

static const pvm_plugin_type *const table[] = {&pvm_plugin_example, &live_type,
                                               &stored_type,        &gate_type,
                                               &pvm_plugin_sqlite,  NULL};

/* ---- harness ----------------------------------------------------------- */

struct fixture {
    pvm_testkit *kit;
    pvm_api_env env;
    struct sink *s;
};

static struct fixture *setup(const char *ini)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->kit = kit_or_fail(ini, table);
    pvm_context *ctx = pvm_testkit_context(f->kit);
    f->env = (pvm_api_env){.ctx = ctx,
                           .cfg = &pvm_context_config(ctx)->server};
    f->s = calloc(1, sizeof(*f->s));
    assert_non_null(f->s);
    return f;
}

static void teardown(struct fixture *f)
{
    pvm_testkit_free(f->kit);
    free(f->s);
    free(f);
}

/* GET target (or POST body when body is not NULL) with an optional
 * If-None-Match; the answer lands in f->s. Returns the status. */
static int request(struct fixture *f, const char *target, const char *body,
                   const char *inm)
{
    pvm_kv header = {"If-None-Match", inm};
    return api_request(&f->env, target, body, &header, inm ? 1 : 0, f->s);
}

/* The value of header name in the answer's header block ("" if absent),
 * copied into buf. */
static const char *header(const struct fixture *f, const char *name, char *buf,
                          size_t n)
{
    const char *end = strstr(f->s->buf, "\r\n\r\n");
    size_t nl = strlen(name);
    buf[0] = '\0';
    for (const char *p = f->s->buf; p && end && p < end;) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 2, *e = strstr(v, "\r\n");
            snprintf(buf, n, "%.*s", (int)(e - v), v);
            return buf;
        }
        p = strstr(p, "\r\n");
        if (p)
            p += 2;
    }
    return buf;
}

/* GET target answers code with Cache-Control: want. */
static void expect_cache_control(struct fixture *f, const char *target,
                                 int code, const char *want)
{
    char cc[128];
    int got = request(f, target, NULL, NULL);
    header(f, "Cache-Control", cc, sizeof(cc));
    if (got != code || strcmp(cc, want) != 0)
        fail_msg("%s: %d, Cache-Control '%s'; want %d, '%s'", target, got, cc,
                 code, want);
}

static const char *body_of(const struct fixture *f)
{
    const char *b = strstr(f->s->buf, "\r\n\r\n");
    return b ? b + 4 : "";
}

#define PAST_RANGE "start=100&end=3700&step=15"
#define EX                                                                    \
    "/api/v1/query_range?query=sum(prometheus_virtual_metrics_example_metric)&" PAST_RANGE

/* ---- tests ------------------------------------------------------------- */

/* A range query of the example plugin: public, max-age, a strong ETag of
 * the body; the same request gives the same ETag; If-None-Match with it
 * gives 304 without a body, with another ETag the 200. */
static void test_cacheable_and_304(void **state)
{
    (void)state;
    struct fixture *f = setup("[server]\naccess_log = off\n"
                              "cache_max_age = 10m\n[plugin:example]\n");
    char cc[128], etag[128], etag2[128];
    expect_cache_control(f, EX, 200, "public, max-age=600");
    header(f, "ETag", etag, sizeof(etag));
    assert_int_equal(strlen(etag), 34);
    assert_true(etag[0] == '"' && etag[33] == '"');
    /* the ETag is the hash of the body */
    pvm_etag_ctx e;
    char want[PVM_ETAG_SIZE];
    pvm_etag_init(&e);
    pvm_etag_update(&e, body_of(f), strlen(body_of(f)));
    pvm_etag_final(&e, want);
    assert_string_equal(etag, want);
    /* the body was held whole: its length goes with it */
    char clen[32];
    assert_int_equal(strtol(header(f, "Content-Length", clen, sizeof(clen)),
                            NULL, 10),
                     (long)strlen(body_of(f)));
    assert_true(strlen(body_of(f)) > 100);
    char *first = strdup(body_of(f));
    assert_int_equal(request(f, EX, NULL, NULL), 200);
    assert_string_equal(header(f, "ETag", etag2, sizeof(etag2)), etag);
    assert_string_equal(body_of(f), first);
    /* POST: the same answer */
    assert_int_equal(
        request(
            f, "/api/v1/query_range",
            "query=sum(prometheus_virtual_metrics_example_metric)&" PAST_RANGE,
            NULL),
        200);
    assert_string_equal(header(f, "ETag", etag2, sizeof(etag2)), etag);
    /* If-None-Match */
    assert_int_equal(request(f, EX, NULL, etag), 304);
    assert_string_equal(body_of(f), "");
    assert_string_equal(header(f, "Content-Length", clen, sizeof(clen)), "");
    assert_string_equal(header(f, "ETag", etag2, sizeof(etag2)), etag);
    assert_string_equal(header(f, "Cache-Control", cc, sizeof(cc)),
                        "public, max-age=600");
    char list[256];
    snprintf(list, sizeof(list), "\"x\", W/%s", etag);
    assert_int_equal(request(f, EX, NULL, list), 304);
    assert_int_equal(request(f, EX, NULL, "\"0123\""), 200);
    assert_string_equal(body_of(f), first);
    /* another query: another ETag */
    assert_int_equal(
        request(
            f,
            "/api/v1/query_range?query=max(prometheus_virtual_metrics_example_metric)&" PAST_RANGE,
            NULL, NULL),
        200);
    assert_string_not_equal(header(f, "ETag", etag2, sizeof(etag2)), etag);
    free(first);
    teardown(f);
}

/* What is never cached: an instant query for now (no time=), a plugin
 * that does not declare, a window reaching past the declared moment,
 * errors, endpoints without explicit times; max-age 0 turns caching off. */
static void test_no_store(void **state)
{
    (void)state;
    struct fixture *f = setup("[server]\naccess_log = off\n"
                              "[plugin:example]\n[plugin:live]\n"
                              "[plugin:stored]\n");
    char etag[128];
    /* live runs (and declares nothing) for every query */
    expect_cache_control(f, EX, 200, "no-store");
    assert_string_equal(header(f, "ETag", etag, sizeof(etag)), "");
    expect_cache_control(f, "/api/v1/query?query=live", 200, "no-store");
    expect_cache_control(f, "/api/v1/query?query=(", 400, "no-store");
    expect_cache_control(f, "/api/v1/status/buildinfo", 200, "no-store");
    teardown(f);

    f = setup("[server]\naccess_log = off\n[plugin:example]\n"
              "[plugin:stored]\n");
    /* both declare: cacheable (default max-age 5 minutes) */
    expect_cache_control(f, EX, 200, "public, max-age=300");
    /* the instant query of now is not */
    expect_cache_control(
        f, "/api/v1/query?query=prometheus_virtual_metrics_example_metric",
        200, "no-store");
    /* with time= it is */
    expect_cache_control(f, "/api/v1/query?query=stored&time=5000", 200,
                         "public, max-age=300");
    /* up to the declared moment, and not at or past it (a range selector
     * asks from before start to end) */
    expect_cache_control(f,
                         "/api/v1/query_range?query=stored&start=999000&"
                         "end=999985&step=15",
                         200, "public, max-age=300");
    expect_cache_control(f,
                         "/api/v1/query_range?query=stored&start=999100&"
                         "end=1000000&step=15",
                         200, "no-store");
    /* discovery: with start and end, cacheable; without, up to now */
    expect_cache_control(f,
                         "/api/v1/label/__name__/values?start=10&"
                         "end=20",
                         200, "public, max-age=300");
    expect_cache_control(f, "/api/v1/label/__name__/values", 200, "no-store");
    teardown(f);

    f = setup("[server]\naccess_log = off\ncache_max_age = 0s\n"
              "[plugin:example]\n");
    expect_cache_control(f, EX, 200, "no-store");
    teardown(f);
}

/* Behind a gate (an authenticating plugin) an answer is private: a shared
 * cache must not hand it to other clients. */
static void test_gated_is_private(void **state)
{
    (void)state;
    struct fixture *f = setup("[server]\naccess_log = off\n"
                              "[plugin:example]\n[plugin:gate]\n");
    char etag[128];
    expect_cache_control(f, EX, 200, "private, max-age=300");
    assert_int_equal(strlen(header(f, "ETag", etag, sizeof(etag))), 34);
    teardown(f);
}

/* An answer larger than cache_max_body_bytes is streamed as no-store,
 * with the same bytes. */
static void test_large_answer_streams(void **state)
{
    (void)state;
    const char *target =
        "/api/v1/query_range?query=prometheus_virtual_metrics_example_metric&"
        "start=100&end=20000&step=15";
    struct fixture *f = setup("[server]\naccess_log = off\n"
                              "[plugin:example]\n");
    char cc[128];
    assert_int_equal(request(f, target, NULL, NULL), 200);
    assert_string_equal(header(f, "Cache-Control", cc, sizeof(cc)),
                        "public, max-age=300");
    char *cached = strdup(body_of(f));
    assert_true(strlen(cached) > 200000);
    teardown(f);
    f = setup("[server]\naccess_log = off\ncache_max_body_bytes = 100k\n"
              "[plugin:example]\n");
    assert_int_equal(request(f, target, NULL, NULL), 200);
    assert_string_equal(header(f, "Cache-Control", cc, sizeof(cc)),
                        "no-store");
    assert_string_equal(body_of(f), cached);
    free(cached);
    teardown(f);
}

/* The ETag does not depend on how the body is cut; one changed byte
 * changes it. If-None-Match lists and "*". */
static void test_etag(void **state)
{
    (void)state;
    char body[1000], whole[PVM_ETAG_SIZE], parts[PVM_ETAG_SIZE];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (char)('a' + i * 7 % 26);
    pvm_etag_ctx e;
    pvm_etag_init(&e);
    pvm_etag_update(&e, body, sizeof(body));
    pvm_etag_final(&e, whole);
    for (size_t cut = 1; cut < 40; cut++) {
        pvm_etag_init(&e);
        for (size_t i = 0; i < sizeof(body); i += cut)
            pvm_etag_update(&e, body + i,
                            sizeof(body) - i < cut ? sizeof(body) - i : cut);
        pvm_etag_final(&e, parts);
        assert_string_equal(parts, whole);
    }
    for (size_t i = 0; i < sizeof(body); i += 97) {
        body[i] ^= 1;
        pvm_etag_init(&e);
        pvm_etag_update(&e, body, sizeof(body));
        pvm_etag_final(&e, parts);
        assert_string_not_equal(parts, whole);
        body[i] ^= 1;
    }
    /* a shorter body with zero bytes at the end differs too */
    char z[32] = {0}, z1[PVM_ETAG_SIZE], z2[PVM_ETAG_SIZE];
    pvm_etag_init(&e);
    pvm_etag_update(&e, z, 17);
    pvm_etag_final(&e, z1);
    pvm_etag_init(&e);
    pvm_etag_update(&e, z, 16);
    pvm_etag_final(&e, z2);
    assert_string_not_equal(z1, z2);
    assert_true(pvm_etag_matches("\"a\"", "\"a\""));
    assert_true(pvm_etag_matches("\"b\", W/\"a\"", "\"a\""));
    assert_true(pvm_etag_matches("*", "\"a\""));
    assert_false(pvm_etag_matches("\"ab\"", "\"a\""));
    assert_false(pvm_etag_matches("\"b\"", "\"a\""));
    assert_false(pvm_etag_matches("", "\"a\""));
}

/* A plugin whose data is only appended declares it with a setting: an
 * SQL instance with immutable_before = 1h makes a window from long ago
 * cacheable, a window reaching into the last hour not; without the
 * setting nothing is. */
#define DB_INI                                                                \
    "[server]\naccess_log = off\n[plugin:db]\ntype = sqlite\n"                \
    "database = %s\nmetric = m\n%s"                                           \
    "query = SELECT timestamp, value FROM t WHERE timestamp "                 \
    "BETWEEN :start AND :end\n"
static void test_declared_by_setting(void **state)
{
    (void)state;
    char db[] = "/tmp/pvm-cache-db.XXXXXX";
    int fd = mkstemp(db);
    assert_true(fd >= 0);
    close(fd);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "CREATE TABLE t(timestamp REAL, value REAL);"
                                  "INSERT INTO t VALUES (1000, 1);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    char ini[1024], cc[128], recent[256];
    snprintf(ini, sizeof(ini), DB_INI, db, "immutable_before = 1h\n");
    struct fixture *f = setup(ini);
    const char *past =
        "/api/v1/query_range?query=m&start=900&end=1900&step=60";
    assert_int_equal(request(f, past, NULL, NULL), 200);
    assert_non_null(strstr(body_of(f), "\"1\""));
    assert_string_equal(header(f, "Cache-Control", cc, sizeof(cc)),
                        "public, max-age=300");
    long long now = (long long)time(NULL);
    snprintf(recent, sizeof(recent),
             "/api/v1/query_range?query=m&start=%lld&end=%lld&step=60",
             now - 7200, now - 600);
    assert_int_equal(request(f, recent, NULL, NULL), 200);
    assert_string_equal(header(f, "Cache-Control", cc, sizeof(cc)),
                        "no-store");
    teardown(f);
    snprintf(ini, sizeof(ini), DB_INI, db, "");
    f = setup(ini);
    assert_int_equal(request(f, past, NULL, NULL), 200);
    assert_string_equal(header(f, "Cache-Control", cc, sizeof(cc)),
                        "no-store");
    teardown(f);
    unlink(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cacheable_and_304),
        cmocka_unit_test(test_no_store),
        cmocka_unit_test(test_gated_is_private),
        cmocka_unit_test(test_large_answer_streams),
        cmocka_unit_test(test_etag),
        cmocka_unit_test(test_declared_by_setting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
