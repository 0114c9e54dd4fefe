/* test_hostile.c: hostile input, in-process through the test kit (the
 * whole pipeline: form decoding, parameters, PromQL, plugins, JSON). Every
 * case must be answered with 200 or a 4xx carrying the Prometheus error
 * envelope (a plugin at fault: 500 naming it), a body that is valid UTF-8
 * JSON, within a time bound; after each case a normal query must still
 * answer 200. Cases that must be refused say which status. An alarm kills a hung run. See
 * docs/hardening.md for what is defended and how. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <pvm/testkit.h>

#include "kitutil.h"

#include "form.h"
#include "test_hostile.h"

extern const pvm_plugin_type pvm_plugin_example;
extern const pvm_plugin_type pvm_plugin_bench;
extern const pvm_plugin_type pvm_plugin_openmetrics_file;

static const pvm_plugin_type *const table[] = {&pvm_plugin_example,
                                               &pvm_plugin_bench,
                                               &pvm_plugin_openmetrics_file,
                                               NULL};

/* The openmetrics_file instance's data: series without any label (a
 * metric name only), alone and next to labelled ones. */
static const char om_data[] = "nolabels_metric 1 990\n"
                              "nolabels_metric 2 1000\n"
                              "mixed_metric 3 1000\n"
                              "mixed_metric{a=\"1\"} 4 1000\n"
                              "# EOF\n";
static char om_dir[64], om_file[128];

#define CASE_SECONDS 20.0 /* slowest acceptable answer (ASan included) */
#define ALARM_SECONDS 600 /* the whole program */

/* The plugins: the example, and bench instances producing what no real
 * plugin should: long label values for regex bombs, NaN/Inf, empty and
 * huge label sets, 10 million samples (past max_samples). */
static const char ini[] =
    "[server]\n"
    "max_body_bytes = 2M\n"
    "max_samples = 1000000\n"
    "access_log = off\n"
    "[plugin:example]\n"
    "[plugin:bomb]\n"
    "type = bench\nmetric = bomb_metric\nseries = 4\nlabels = 1\n"
    "value_len = 20000\n"
    "[plugin:nan]\n"
    "type = bench\nmetric = nan_metric\nseries = 2\nvalue = nan\n"
    "[plugin:pinf]\n"
    "type = bench\nmetric = inf_metric\nseries = 2\nvalue = inf\n"
    "[plugin:ninf]\n"
    "type = bench\nmetric = ninf_metric\nseries = 2\nvalue = -inf\n"
    "[plugin:huge]\n"
    "type = bench\nmetric = huge_value_metric\nseries = 2\nvalue = huge\n"
    "[plugin:empty]\n"
    "type = bench\nmetric = empty_labels_metric\nseries = 1\nno_id = yes\n"
    "[plugin:wide]\n"
    "type = bench\nmetric = wide_metric\nseries = 3\nlabels = 1000\n"
    "value_len = 100\n"
    "[plugin:toowide]\n"
    "type = bench\nmetric = too_wide_metric\nseries = 1\nlabels = 5000\n"
    "[plugin:many]\n"
    "type = bench\nmetric = many_metric\nseries = 10000\nvalue = index\n";

/* ---- helpers ----------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A string of n copies of unit (malloc'd) between head and tail. */
static char *repeat(const char *head, const char *unit, size_t n,
                    const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    assert_non_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

/* printf into a malloc'd string. */
char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    int n = vasprintf(&s, f, ap);
    va_end(ap);
    assert_true(n >= 0);
    return s;
}

/* Checks an answer: status as wanted (ANY: 200 or 4xx; ANY_4XX: a 4xx;
 * else exact), a complete valid-UTF-8 JSON body with "status", and the
 * error envelope on errors. Prints the case on failure. */
static void check_answer(const char *what, const pvm_test_response *r,
                         int want, double secs)
{
    bool ok = r != NULL && r->json != NULL && r->body != NULL;
    const char *why = "no JSON body";
    if (ok && !pvm_is_valid_utf8(r->body, r->body_len)) {
        ok = false;
        why = "body is not valid UTF-8";
    }
    if (ok) {
        const char *st = pvm_test_json_string(r->json, "status");
        bool is_err = r->status != 200;
        if (!st || strcmp(st, is_err ? "error" : "success") != 0) {
            ok = false;
            why = "wrong \"status\"";
        } else if (is_err && (!pvm_test_json_string(r->json, "errorType") ||
                              !pvm_test_json_string(r->json, "error"))) {
            ok = false;
            why = "error envelope lacks errorType/error";
        }
    }
    if (ok) {
        bool status_ok = want == ANY ? r->status == 200 || (r->status >= 400 &&
                                                            r->status < 500)
                         : want == ANY_4XX
                             ? r->status >= 400 && r->status < 500
                             : r->status == want;
        if (!status_ok) {
            ok = false;
            why = "unexpected status";
        }
    }
    if (ok && secs > CASE_SECONDS) {
        ok = false;
        why = "too slow";
    }
    if (!ok) {
        fprintf(stderr, "case %s: %s (status %d, %.2f s, want %d): %.300s\n",
                what, why, r ? r->status : -1, secs, want,
                r && r->body ? r->body : "(none)");
        fail();
    }
}

/* The server still answers a normal query. */
static void still_alive(pvm_testkit *kit)
{
    pvm_test_response *r = pvm_testkit_instant(kit, METRIC, 1000);
    assert_non_null(r);
    if (r->status != 200)
        fprintf(stderr, "liveness query: %d %.300s\n", r->status, r->body);
    assert_int_equal(r->status, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 12);
    pvm_test_response_free(r);
}

/* Sends one hostile request, checks the answer and liveness; returns the
 * status. */
static int hit_h(pvm_testkit *kit, const char *method, const char *target,
                 const char *body, const char *const *headers, int want)
{
    double t0 = now_s();
    pvm_test_response *r = pvm_testkit_request(kit, method, target, body,
                                               headers);
    double secs = now_s() - t0;
    char what[160];
    snprintf(what, sizeof(what), "%s %.100s%s", method, target,
             body ? " (+body)" : "");
    check_answer(what, r, want, secs);
    int status = r->status;
    pvm_test_response_free(r);
    still_alive(kit);
    return status;
}

int hit(pvm_testkit *kit, const char *target, int want)
{
    return hit_h(kit, "GET", target, NULL, NULL, want);
}

static int post(pvm_testkit *kit, const char *target, const char *body,
                int want)
{
    return hit_h(kit, "POST", target, body, NULL, want);
}

/* A query (already URL-encoded) as an instant query and a range query. */
static void hit_query(pvm_testkit *kit, const char *q, int want)
{
    char *t = fmt("/api/v1/query?query=%s&time=1000", q);
    hit(kit, t, want);
    free(t);
    t = fmt("/api/v1/query_range?query=%s&start=0&end=600&step=60", q);
    hit(kit, t, want);
    free(t);
}

/* The same query sent raw: URL-encoded here. */
void hit_raw_query(pvm_testkit *kit, const char *q, int want)
{
    char *e = pvm_test_urlencode(q);
    assert_non_null(e);
    hit_query(kit, e, want);
    free(e);
}

static int setup(void **state)
{
    alarm(ALARM_SECONDS);
    strcpy(om_dir, "/tmp/pvm-test-hostile-XXXXXX");
    if (!mkdtemp(om_dir))
        return -1;
    snprintf(om_file, sizeof(om_file), "%s/bare.om", om_dir);
    FILE *f = fopen(om_file, "w");
    if (!f)
        return -1;
    fputs(om_data, f);
    fclose(f);
    char *text = fmt("%s[plugin:om]\ntype = openmetrics_file\npath = %s\n",
                     ini, om_file);
    int rc = setup_kit(state, text, table);
    free(text);
    return rc;
}

static int teardown(void **state)
{
    pvm_testkit_free(*state);
    unlink(om_file);
    rmdir(om_dir);
    return 0;
}

/* ---- transport and form ------------------------------------------------ */

static void test_bad_percent_encoding(void **state)
{
    static const char *const targets[] = {
        "/api/v1/query?query=%zz",
        "/api/v1/query?query=%4",
        "/api/v1/query?query=up%",
        "/api/v1/query?query=%%",
        "/api/v1/query?%zz=up",
        "/api/v1/query?query=up&time=%G0",
        "/api/v1/query_range?query=up&start=0&end=1&step=%",
        "/api/v1/series?match%5B%5D=%zzup",
        "/api/v1/labels?match[]=%",
        "/api/v1/label/%zz/values",
        "/api/v1/label/%/values",
        "/api/v1/label/a%2/values",
        "/api/v1/query?query=a;b",
    };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
        hit(*state, targets[i], 400);
    post(*state, "/api/v1/query", "query=%zz", 400);
    post(*state, "/api/v1/query", "query=up&time=%", 400);
}

static void test_nul_bytes(void **state)
{
    static const char *const targets[] = {
        "/api/v1/query?query=up%00x",
        "/api/v1/query?query=" METRIC "%7Btype%3D%22%00%22%7D",
        "/api/v1/query?query%00=up",
        "/api/v1/query?query=up&time=1%00",
        "/api/v1/series?match%5B%5D=up%7Ba%3D%22x%00y%22%7D",
        "/api/v1/label/a%00b/values",
        "/api/v1/label/type/values?match[]=%00",
        "/api/v1/query?query=%22%00%22",
    };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
        hit(*state, targets[i], 400);
    post(*state, "/api/v1/query", "query=up%00", 400);
}

static void test_invalid_utf8(void **state)
{
    static const char *const queries[] = {
        "%FF%FE",
        "up%C0%80",
        "%ED%A0%80",
        "%F4%90%80%80",
        METRIC "%7Btype%3D%22%FF%22%7D",
        METRIC "%7Btype%3D~%22%FF.*%22%7D",
        METRIC "%7Btype!~%22%C3%28%22%7D",
        "%22%E2%82%22",
        "label_replace(up,%22a%22,%22%FF%22,%22b%22,%22.*%22)",
        "%7B%22%FF%22%3D%22a%22%7D",
    };
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
        hit_query(*state, queries[i], ANY);
    hit(*state, "/api/v1/label/%FF/values", 400);
    hit(*state, "/api/v1/label/U__ff/values", ANY);
    hit(*state, "/api/v1/series?match[]=%7Ba%3D%22%FF%FE%22%7D", ANY);
    hit(*state, "/api/v1/labels?match[]=%FF", 400);
}

static void test_long_query_string(void **state)
{
    /* 1 MB of a metric name in the URL, and the same in a POST body under
     * max_body_bytes (2M here). */
    char *q = repeat("/api/v1/query?query=", "a", 1 << 20, "&time=1");
    hit(*state, q, 200);
    free(q);
    q = repeat("query=", "a", 1 << 20, "&time=1");
    post(*state, "/api/v1/query", q, 200);
    free(q);
    /* 1 MB of '(' (not a valid query) in a body */
    q = repeat("query=", "%28", 350000, "");
    post(*state, "/api/v1/query", q, 400);
    free(q);
    /* 100,000 parameters */
    q = repeat("/api/v1/query?query=up&time=1", "&x=1", 100000, "");
    hit(*state, q, 200);
    free(q);
}

static void test_body_over_limit(void **state)
{
    char *b = repeat("query=up&x=", "a", (2u << 20) + 1, "");
    assert_int_equal(post(*state, "/api/v1/query", b, 413), 413);
    free(b);
}

static void test_content_type(void **state)
{
    static const char *const types[] = {
        "Content-Type: text/plain",
        "Content-Type: application/json",
        "Content-Type: multipart/form-data; boundary=x",
        "Content-Type:",
        "Content-Type: application/x-www-form-urlencodedX",
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const char *h[] = {types[i], NULL};
        hit_h(*state, "POST", "/api/v1/query", "query=up", h, 400);
    }
    /* with a charset, and in capitals: accepted */
    const char *h[] = {
        "Content-Type: APPLICATION/X-WWW-FORM-URLENCODED; charset=utf-8",
        NULL};
    hit_h(*state, "POST", "/api/v1/query", "query=1", h, 200);
}

static void test_repeated_and_unknown_params(void **state)
{
    hit(*state, "/api/v1/query?query=1&query=%28&time=1&time=x", 200);
    hit(*state, "/api/v1/query?query=1&time=1&foo=bar&query[]=x&=&&&", 200);
    hit(*state, "/api/v1/query?time=1&query=1&QUERY=(", 200);
    post(*state, "/api/v1/query?query=(", "query=1&time=1", 200);
    char *q = repeat("/api/v1/series?start=0&end=1", "&match[]=" METRIC, 2000,
                     "");
    hit(*state, q, 200);
    free(q);
}

static void test_methods_and_paths(void **state)
{
    static const char *const methods[] = {"PUT", "DELETE",  "PATCH", "",
                                          "get", "OPTIONS", "HEAD"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        hit_h(*state, methods[i], "/api/v1/query?query=1", NULL, NULL,
              ANY_4XX);
    hit(*state, "/api/v1/", 404);
    hit(*state, "/api/v1/query/../query?query=1", 404);
    hit(*state, "/api/v1/label//values", 404);
    hit(*state, "/api/v1/label/a/b/values", 404);
    hit(*state, "", 404);
    hit(*state, "?", 404);
    char *p = repeat("/api/v1/", "x", 100000, "");
    hit(*state, p, 404);
    free(p);
    p = repeat("/api/v1/label/", "a", 100000, "/values");
    hit(*state, p, 200);
    free(p);
}

/* ---- PromQL ------------------------------------------------------------ */

static void test_deep_nesting(void **state)
{
    char *q = repeat("", "%28", 10000, "1");
    char *t = fmt("/api/v1/query?query=%s", q);
    hit(*state, t, 400);
    free(t);
    free(q);
    q = repeat("", "-", 10000, "1");
    hit_query(*state, q, 400);
    free(q);
    q = repeat("", "%2B", 10000, "1");
    hit_query(*state, q, 400);
    free(q);
    q = repeat("", "abs%28", 10000, "1");
    hit_query(*state, q, 400);
    free(q);
    q = repeat("1", "%2B1", 10000, ""); /* long, but flat on one side */
    hit_query(*state, q, ANY);
    free(q);
    q = repeat("", "sum%28", 5000, "up");
    hit_query(*state, q, 400);
    free(q);
}

static void test_many_matchers(void **state)
{
    char *q = repeat(METRIC "%7B", "a%3D%22x%22%2C", 100000, "b%3D%22%22%7D");
    hit_query(*state, q, ANY);
    free(q);
    q = repeat(METRIC "%7B", "type%3D~%22s.*%22%2C", 100000, "%7D");
    hit_query(*state, q, ANY);
    free(q);
    q = repeat("%7B", "__name__%3D%22x%22%2C", 100000, "%7D");
    char *t = fmt("/api/v1/series?match[]=%s", q);
    hit(*state, t, ANY);
    free(t);
    free(q);
}

static void test_long_literals(void **state)
{
    char *q = repeat("%22", "a", 1 << 20, "%22");
    hit_query(*state, q, ANY);
    free(q);
    q = repeat(METRIC "%7Btype%3D%22", "a", 1 << 20, "%22%7D");
    hit_query(*state, q, 200);
    free(q);
    q = repeat("1", "0", 100000, "");
    hit_query(*state, q, ANY);
    free(q);
    q = repeat("0x", "f", 100000, "");
    hit_query(*state, q, ANY);
    free(q);
    q = repeat(METRIC "%5B", "9", 1000, "s%5D");
    hit_query(*state, q, ANY_4XX);
    free(q);
}

static void test_regex_bombs(void **state)
{
    /* bomb_metric's label l0 is 20,000 'a's */
    static const char *const regexes[] = {
        "(a+)+$",       "(a+)+b",         "(a|aa)+b",  "(a*)*b",
        "(.*a){20}",    "(a|a?)+b",       "((a+)+)+b", ".*.*.*.*.*.*.*.*.*b",
        "(?:a+){100}b", "(a{1,30}){30}b",
    };
    for (size_t i = 0; i < sizeof(regexes) / sizeof(regexes[0]); i++) {
        char *q = fmt("bomb_metric{l0=~\"%s\"}", regexes[i]);
        hit_raw_query(*state, q, ANY);
        free(q);
        q = fmt("count(bomb_metric{l0!~\"%s\"})", regexes[i]);
        hit_raw_query(*state, q, ANY);
        free(q);
        q = fmt("{__name__=~\"bomb.*\",l0=~\"%s\"}", regexes[i]);
        char *e = pvm_test_urlencode(q);
        char *t = fmt("/api/v1/series?match[]=%s", e);
        hit(*state, t, ANY);
        free(t);
        free(e);
        free(q);
    }
    /* huge repetition counts: RE2 refuses counts above 1000 */
    static const char *const counts[] = {
        "a{1000000}",    "a{1001}",          "(a{1000}){1000}",
        "a{2147483648}", "a{0,99999999999}", "((((a{100}){100}){100}){100})",
    };
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        char *q = fmt("bomb_metric{l0=~\"%s\"}", counts[i]);
        hit_raw_query(*state, q, 400);
        free(q);
    }
    /* label_replace with a bomb over the same values */
    hit_raw_query(*state,
                  "label_replace(bomb_metric, \"x\", \"$1\", \"l0\", "
                  "\"(a+)+b\")",
                  ANY);
}

static void test_every_truncation(void **state)
{
    static const char q[] =
        "sum by (type) (rate(" METRIC "{type=~\"sine|cos.*\","
        "amplitude!=\"5\"}[5m] offset 1m)) / on (type) group_left "
        "max by (type) (" METRIC " @ 100) > bool 0.5 or vector(1) "
        "unless label_replace(" METRIC ", \"x\", \"$1\", \"type\", "
        "\"(.*)\")[10m:1m] # comment";
    size_t n = strlen(q);
    for (size_t i = 0; i <= n; i++) {
        char *p = strndup(q, i);
        char *e = pvm_test_urlencode(p);
        char *t = fmt("/api/v1/query?query=%s&time=1000", e);
        hit(*state, t, i == 0 ? 400 : ANY);
        free(t);
        if (i % 5 == 0) {
            t = fmt("/api/v1/query_range?query=%s&start=0&end=600&step=60", e);
            hit(*state, t, i == 0 ? 400 : ANY);
            free(t);
            t = fmt("/api/v1/series?match[]=%s", e);
            hit(*state, t, ANY);
            free(t);
        }
        free(e);
        free(p);
    }
}

/* ---- what plugins produce ---------------------------------------------- */

static void test_plugin_values(void **state)
{
    static const char *const metrics[] = {"nan_metric", "inf_metric",
                                          "ninf_metric", "huge_value_metric",
                                          "empty_labels_metric"};
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        hit_raw_query(*state, metrics[i], 200);
        char *q = fmt("sum(%s) + rate(%s[5m]) * 1e308", metrics[i],
                      metrics[i]);
        hit_raw_query(*state, q, ANY);
        free(q);
        q = fmt("/api/v1/series?match[]=%s", metrics[i]);
        hit(*state, q, 200);
        free(q);
    }
    pvm_test_response *r = pvm_testkit_instant(*state, "nan_metric", 1000);
    assert_non_null(strstr(r->body, "\"NaN\""));
    pvm_test_response_free(r);
    r = pvm_testkit_instant(*state, "inf_metric", 1000);
    assert_non_null(strstr(r->body, "\"+Inf\""));
    pvm_test_response_free(r);
    r = pvm_testkit_instant(*state, "ninf_metric", 1000);
    assert_non_null(strstr(r->body, "\"-Inf\""));
    pvm_test_response_free(r);
    r = pvm_testkit_instant(*state, "empty_labels_metric", 1000);
    assert_int_equal(r->status, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    pvm_test_response_free(r);
}

/* Series without labels (openmetrics_file: its label array is NULL):
 * discovery used to memcpy from NULL, which the sanitizer build turns
 * into a dead worker. */
static void test_labelless_series(void **state)
{
    static const char *const targets[] = {
        "/api/v1/series?match[]=nolabels_metric",
        "/api/v1/series?match[]=mixed_metric",
        "/api/v1/series?match[]={__name__=~\"nolabels_metric|mixed.*\"}",
        "/api/v1/labels?match[]=nolabels_metric",
        "/api/v1/label/__name__/values?match[]=nolabels_metric",
        "/api/v1/label/a/values?match[]=nolabels_metric",
        "/api/v1/query?query=nolabels_metric&time=1000",
        "/api/v1/query_range?query=nolabels_metric&start=900&end=1100"
        "&step=10",
        "/api/v1/query?query=count_over_time(nolabels_metric[1m])&time=1000",
        "/api/v1/series",
        "/api/v1/labels",
    };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
        hit(*state, targets[i], i == 9 ? ANY_4XX : 200);
    pvm_test_response *r = pvm_testkit_series(*state, "nolabels_metric", 0,
                                              2000);
    assert_int_equal(r->status, 200);
    assert_int_equal(pvm_test_json_length(r->json, "data"), 1);
    assert_string_equal(pvm_test_json_string(r->json, "data[0].__name__"),
                        "nolabels_metric");
    assert_null(pvm_test_json_get(r->json, "data[0].a"));
    pvm_test_response_free(r);
    r = pvm_testkit_instant(*state, "nolabels_metric", 1000);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].value[1]"),
                        "2");
    pvm_test_response_free(r);
}

/* 7,000 match[] selectors (a 266 KB body): the selector array grew by
 * exact fit, leaving each copy in the arena (O(n^2) bytes: 1 GB, a 422
 * "out of memory" at 7,000). Now linear: the right answer. */
static void test_many_match_selectors(void **state)
{
    pvm_test_response *one = pvm_testkit_series(*state, METRIC, 0, 1000);
    assert_int_equal(one->status, 200);
    int want = pvm_test_json_length(one->json, "data");
    assert_true(want > 0);
    pvm_test_response_free(one);
    char *body = repeat("start=0&end=1000&match[]=" METRIC,
                        "&match[]=nosuch_metric{instance=\"x\"}", 6999, "");
    assert_true(strlen(body) > 250000);
    static const char *const form[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL};
    double t0 = now_s();
    pvm_test_response *r = pvm_testkit_request(*state, "POST",
                                               "/api/v1/series", body, form);
    check_answer("7,000 match[]", r, 200, now_s() - t0);
    assert_int_equal(pvm_test_json_length(r->json, "data"), want);
    pvm_test_response_free(r);
    r = pvm_testkit_request(*state, "POST", "/api/v1/labels", body, form);
    check_answer("7,000 match[] labels", r, 200, 0);
    assert_true(pvm_test_json_length(r->json, "data") > 1);
    pvm_test_response_free(r);
    free(body);
    still_alive(*state);
}

static void test_huge_label_sets(void **state)
{
    /* 3 series x 1,000 labels of 100 bytes */
    hit_raw_query(*state, "wide_metric", 200);
    hit_raw_query(*state, "sum by (l5, l999) (wide_metric)", 200);
    /* past the server's label-count cap: the plugin's fault, a 500
     * envelope naming it (not the client's: no 4xx) */
    hit_raw_query(*state, "too_wide_metric", 500);
    hit(*state, "/api/v1/series?match[]=wide_metric", 200);
    hit(*state, "/api/v1/labels?match[]=wide_metric", 200);
    hit(*state, "/api/v1/label/l7/values?match[]=wide_metric", 200);
    hit(*state,
        "/api/v1/query_range?query=wide_metric&start=0&end=3600&step=15", ANY);
}

static void test_too_many_samples(void **state)
{
    /* many_metric: 10,000 series; 1,001 points are 10 million samples,
     * over max_samples = 1,000,000: 422 as Prometheus. */
    pvm_test_response *r = pvm_testkit_request(
        *state, "GET",
        "/api/v1/query_range?query=many_metric&start=0&end=1000&step=1", NULL,
        NULL);
    check_answer("10M samples", r, 422, 0);
    assert_string_equal(pvm_test_json_string(r->json, "errorType"),
                        "execution");
    assert_non_null(
        strstr(pvm_test_json_string(r->json, "error"), "too many samples"));
    pvm_test_response_free(r);
    still_alive(*state);
    hit_raw_query(*state, "count(many_metric)", 200);
    hit_raw_query(*state, "sum(rate(many_metric[1h]))", ANY);
    hit(*state,
        "/api/v1/query_range?query=sum(many_metric)&start=0&end=6000"
        "&step=1",
        ANY);
    hit(*state, "/api/v1/series?match[]=many_metric", 200);
}

static void test_engine_blowups(void **state)
{
    /* results that grow with the input: cross joins, huge ranges,
     * subqueries at fine resolution, count_values over many values */
    static const char *const queries[] = {
        "many_metric * on() group_left many_metric",
        "many_metric + ignoring(id) group_left many_metric",
        "count_values(\"v\", many_metric)",
        "topk(1e308, many_metric)",
        "topk(-1, many_metric)",
        "quantile(NaN, many_metric)",
        "sum_over_time(many_metric[1d:1ms])",
        "max_over_time((max_over_time(" METRIC "[1d:1s]))[1d:1s])",
        "absent_over_time(nonexistent[10000d])",
        "predict_linear(" METRIC "[1h], 1e308)",
        "holt_winters(" METRIC "[1h], 0.5, 0.5)",
        "histogram_quantile(0.9, many_metric)",
        "label_join(many_metric, \"x\", \"\", \"id\", \"id\", \"id\", \"id\")",
        "sort_desc(many_metric) ^ 1e308 ^ 1e308",
        "vector(time()) offset 1000000d",
        "scalar(many_metric)",
        "round(many_metric, 0)",
        "clamp(many_metric, NaN, Inf)",
        "-many_metric % 0",
        "many_metric and many_metric or many_metric unless many_metric",
    };
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
        hit_raw_query(*state, queries[i], ANY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_percent_encoding),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_long_query_string),
        cmocka_unit_test(test_body_over_limit),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_repeated_and_unknown_params),
        cmocka_unit_test(test_methods_and_paths),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_many_matchers),
        cmocka_unit_test(test_long_literals),
        cmocka_unit_test(test_regex_bombs),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_bad_times),
        cmocka_unit_test(test_extreme_times),
        cmocka_unit_test(test_bad_ranges),
        cmocka_unit_test(test_plugin_values),
        cmocka_unit_test(test_labelless_series),
        cmocka_unit_test(test_many_match_selectors),
        cmocka_unit_test(test_huge_label_sets),
        cmocka_unit_test(test_too_many_samples),
        cmocka_unit_test(test_engine_blowups),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
