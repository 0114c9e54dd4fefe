/* hostile.c: the hostile-input suite through real nginx + pvm-fcgi (run
 * by tests/integration/hostile.sh, which starts them and sets
 * PVM_TEST_PORT). Every case must get 200 or a 4xx with the Prometheus
 * error envelope (or nginx's own 400/414 for what it refuses before
 * pvm-fcgi sees it), within the client's timeout; after every case a
 * normal query must answer 200. Prints one line per case and
 *   PVM-RESULT: hostile-http: P passed, F failed, 0 skipped
 * Exit status 0 when all passed, 77 (skip) without PVM_TEST_PORT. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/http.h"

#define METRIC "prometheus_virtual_metrics_example_metric"
#define ANY 0         /* 200 or any 4xx */
#define ANY_4XX 1     /* any 4xx */
#define NGINX 0x10000 /* flag: nginx may answer itself (no JSON body) */

static int port;
static int passed, failed;

/* printf into a malloc'd string. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0)
        abort();
    va_end(ap);
    return s;
}

/* n copies of unit between head and tail (malloc'd). */
static char *repeat(const char *head, const char *unit, size_t n,
                    const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    if (!s)
        abort();
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + ul * n, tail, tl + 1);
    return s;
}

/* Checks the answer; returns NULL when fine, else why not. */
static const char *judge(const test_http_response *r, int want)
{
    bool nginx_ok = want & NGINX;
    want &= ~NGINX;
    int st = r->status;
    bool status_ok = want == ANY       ? st == 200 || (st >= 400 && st < 500)
                     : want == ANY_4XX ? st >= 400 && st < 500
                                       : st == want;
    if (!status_ok)
        return "unexpected status";
    /* nginx's own refusals: an HTML page */
    if (nginx_ok && !r->json && (st == 400 || st == 414 || st == 413))
        return NULL;
    if (!r->json)
        return "body is not JSON";
    const char *s = test_json_string(r->json, "status");
    if (!s || strcmp(s, st == 200 ? "success" : "error") != 0)
        return "wrong \"status\"";
    if (st != 200 && (!test_json_string(r->json, "errorType") ||
                      !test_json_string(r->json, "error")))
        return "error envelope lacks errorType/error";
    const char *ct = test_http_header(r, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0)
        return "Content-Type is not application/json";
    return NULL;
}

/* A normal query still answers 200 with the 12 example series. */
static bool alive(void)
{
    test_http_response r;
    bool ok = test_http_get(port, "/api/v1/query?query=" METRIC "&time=1000",
                            &r) == 0 &&
              r.status == 200 &&
              test_json_array_len(r.json, "data.result") == 12;
    test_http_free(&r);
    return ok;
}

/* Sends one case; headers NULL-terminated (may be NULL). */
static void send_case(const char *method, const char *path, const char *body,
                      size_t body_len, const char *const *headers, int want)
{
    test_http_request q = {method, path, headers, body, body_len, 0};
    test_http_response r;
    const char *why = NULL;
    if (test_http_do(port, &q, &r) < 0)
        why = r.error[0] ? r.error : "no complete answer";
    else
        why = judge(&r, want);
    if (!why && !alive())
        why = "the server stopped answering a normal query";
    if (why) {
        failed++;
        printf("FAIL %s %.100s%s: %s (status %d): %.200s\n", method, path,
               body ? " (+body)" : "", why, r.status, r.body ? r.body : "");
    } else {
        passed++;
        printf("ok   %d %s %.100s%s\n", r.status, method, path,
               body ? " (+body)" : "");
    }
    test_http_free(&r);
}

static void get(const char *path, int want)
{
    send_case("GET", path, NULL, 0, NULL, want);
}

static void post(const char *path, const char *body, int want)
{
    static const char *const form[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL};
    send_case("POST", path, body, strlen(body), form, want);
}

/* query (already encoded) as instant and range query, GET and POST. */
static void query(const char *q, int want)
{
    char *p = fmt("/api/v1/query?query=%s&time=1000", q);
    get(p, want);
    free(p);
    p = fmt("query=%s&start=0&end=600&step=60", q);
    post("/api/v1/query_range", p, want);
    free(p);
}

static void raw_query(const char *q, int want)
{
    char *e = test_http_urlencode(q);
    query(e, want);
    free(e);
}

static void transport_cases(void)
{
    /* malformed percent-encoding */
    get("/api/v1/query?query=%zz", 400 | NGINX);
    get("/api/v1/query?query=up%", 400);
    get("/api/v1/query?query=%4", 400);
    get("/api/v1/label/%zz/values", 400 | NGINX);
    post("/api/v1/query", "query=%zz", 400);
    post("/api/v1/query", "query=up&time=%", 400);
    /* NUL bytes */
    get("/api/v1/query?query=up%00x", 400);
    get("/api/v1/query?query=" METRIC "%7Btype%3D%22%00%22%7D", 400);
    get("/api/v1/label/a%00b/values", 400 | NGINX);
    post("/api/v1/query", "query=up%00", 400);
    /* invalid UTF-8 */
    query("%FF%FE", ANY);
    query(METRIC "%7Btype%3D%22%FF%22%7D", ANY);
    query(METRIC "%7Btype%3D~%22%C3%28.*%22%7D", ANY);
    get("/api/v1/label/%FF/values", 400 | NGINX);
    get("/api/v1/series?match[]=%7Ba%3D%22%FF%FE%22%7D", ANY);
    /* raw bytes nginx may refuse itself */
    get("/api/v1/query?query=\xff\xfe", ANY | NGINX);
    get("/api/v1/label/\xc3\x28/values", ANY | NGINX);

    /* a 1 MB query string: nginx answers 414 itself */
    char *p = repeat("/api/v1/query?query=", "a", 1 << 20, "&time=1");
    get(p, 414 | NGINX);
    free(p);
    /* the same 1 MB query in a POST body, under max_body_bytes */
    p = repeat("query=", "a", 1 << 20, "&time=1");
    post("/api/v1/query", p, 200);
    free(p);
    /* a body over max_body_bytes (2 MiB here): 413 from pvm-fcgi */
    p = repeat("query=up&x=", "a", 3u << 20, "");
    post("/api/v1/query", p, 413);
    free(p);

    /* missing or wrong Content-Type */
    send_case("POST", "/api/v1/query", "query=1", 7, NULL, 400);
    static const char *const text[] = {"Content-Type: text/plain", NULL};
    send_case("POST", "/api/v1/query", "query=1", 7, text, 400);
    static const char *const json[] = {"Content-Type: application/json", NULL};
    send_case("POST", "/api/v1/query", "{\"query\":\"1\"}", 13, json, 400);
    static const char *const multi[] = {
        "Content-Type: multipart/form-data; boundary=x", NULL};
    send_case("POST", "/api/v1/query", "--x\r\n", 5, multi, 400);
    /* repeated and unknown parameters */
    get("/api/v1/query?query=1&query=%28&time=1&time=x", 200);
    get("/api/v1/query?query=1&foo=bar&query[]=x&=&&&", 200);
    post("/api/v1/query?query=(", "query=1&time=1", 200);
    p = repeat("/api/v1/series?start=0&end=1", "&match[]=" METRIC, 100, "");
    get(p, 200);
    free(p);
    /* methods and paths */
    send_case("PUT", "/api/v1/query?query=1", NULL, 0, NULL, 405);
    send_case("DELETE", "/api/v1/query?query=1", NULL, 0, NULL, 405);
    get("/api/v1/nope", 404);
    get("/api/v1/label/a/b/values", 404);
}

static void promql_cases(void)
{
    /* too deeply nested: in the URL (under nginx's 8 KiB line limit) and
     * in a POST body (10,000 levels) */
    char *q = repeat("", "%28", 2000, "1");
    char *p = fmt("/api/v1/query?query=%s", q);
    get(p, 400);
    free(p);
    free(q);
    q = repeat("query=", "%28", 10000, "1");
    post("/api/v1/query", q, 400);
    free(q);
    q = repeat("query=", "-", 10000, "1");
    post("/api/v1/query", q, 400);
    free(q);
    /* 100,000 matchers */
    q = repeat("query=" METRIC "%7B", "a%3D%22x%22%2C", 100000, "%7D");
    post("/api/v1/query", q, ANY);
    free(q);
    /* a 1 MB string literal */
    q = repeat("query=%22", "a", 1 << 20, "%22&time=1");
    post("/api/v1/query", q, ANY);
    free(q);
    /* regex bombs over long label values (bench plugin: l0 is 20,000
     * 'a's), huge repetition counts */
    raw_query("bomb_metric{l0=~\"(a+)+$\"}", ANY);
    raw_query("bomb_metric{l0=~\"(a+)+b\"}", ANY);
    raw_query("bomb_metric{l0=~\"(a|aa)+b\"}", ANY);
    raw_query("count(bomb_metric{l0!~\"(a*)*b\"})", ANY);
    raw_query("bomb_metric{l0=~\"a{1000000}\"}", 400);
    raw_query("bomb_metric{l0=~\"(a{1000}){1000}\"}", 400);
    /* every truncation of a long valid query */
    static const char full[] =
        "sum by (type) (rate(" METRIC "{type=~\"sine|cos.*\"}[5m] offset "
        "1m)) / on (type) group_left max by (type) (" METRIC ") > bool 0.5";
    for (size_t i = 0; i <= sizeof(full) - 1; i += 3) {
        char *t = strndup(full, i);
        char *e = test_http_urlencode(t);
        char *path = fmt("/api/v1/query?query=%s&time=1000", e);
        get(path, i == 0 ? 400 : ANY);
        free(path);
        free(e);
        free(t);
    }
}

static void time_cases(void)
{
    static const char *const bad[] = {"NaN",   "Inf", "-Inf",
                                      "1e300", "x",   "9.3e15"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *p = fmt("/api/v1/query?query=1&time=%s", bad[i]);
        get(p, 400);
        free(p);
        p = fmt("/api/v1/query_range?query=1&start=%s&end=100&step=15",
                bad[i]);
        get(p, 400);
        free(p);
        p = fmt("/api/v1/query_range?query=1&start=0&end=100&step=%s", bad[i]);
        get(p, 400);
        free(p);
    }
    get("/api/v1/query?query=" METRIC "&time=-1", 200);
    get("/api/v1/query?query=" METRIC "&time=1732478212345", 200);
    get("/api/v1/query_range?query=" METRIC
        "&start=1732478212345&end=1732478812345&step=60",
        200);
    get("/api/v1/query_exemplars?query=" METRIC
        "&start=1732478212345&end=1732481812345",
        200);
    get("/api/v1/query_range?query=1&start=100&end=0&step=15", 400);
    get("/api/v1/query_range?query=1&start=0&end=100&step=1e-9", 400);
    get("/api/v1/query_range?query=1&start=0&end=100&step=-1", 400);
    get("/api/v1/query_range?query=1&start=0&end=11001&step=1", 400);
    get("/api/v1/query_range?query=1&start=-9.2e15&end=9.2e15&step=1", 400);
}

static void plugin_cases(void)
{
    get("/api/v1/query?query=nan_metric", 200);
    get("/api/v1/query?query=inf_metric", 200);
    get("/api/v1/query?query=empty_labels_metric", 200);
    get("/api/v1/query?query=wide_metric", 200);
    get("/api/v1/series?match[]=wide_metric", 200);
    /* 10,000 series x 1,001 points: over max_samples = 1,000,000 */
    get("/api/v1/query_range?query=many_metric&start=0&end=1000&step=1", 422);
    get("/api/v1/query?query=count(many_metric)", 200);
}

/* POSTs body to path and checks for 200 with `want` entries in data. */
static void post_count(const char *what, const char *path, const char *body,
                       int want)
{
    static const char *const form[] = {
        "Content-Type: application/x-www-form-urlencoded", NULL};
    test_http_request q = {"POST", path, form, body, strlen(body), 0};
    test_http_response r;
    const char *why = NULL;
    int n = -1;
    if (test_http_do(port, &q, &r) < 0)
        why = r.error[0] ? r.error : "no complete answer";
    else if (!(why = judge(&r, 200)) &&
             (n = test_json_array_len(r.json, "data")) != want)
        why = "wrong number of results";
    if (!why && !alive())
        why = "the server stopped answering a normal query";
    if (why) {
        failed++;
        printf("FAIL %s: %s (status %d, %d results, want %d): %.200s\n", what,
               why, r.status, n, want, r.body ? r.body : "");
    } else {
        passed++;
        printf("ok   %d %s (%d results)\n", r.status, what, n);
    }
    test_http_free(&r);
}

/* Series without labels (they were undefined behaviour in
 * openmetrics_file's discovery: memcpy from NULL, a dead worker in the
 * sanitizer build) and 7,000 match[] selectors (quadratic memory: a 422
 * "out of memory"). */
static void discovery_cases(void)
{
    get("/api/v1/series?match[]=nolabels_metric", 200);
    get("/api/v1/series?match[]=mixed_metric", 200);
    get("/api/v1/series?match[]=%7B__name__%3D~%22nolabels.*%7Cmixed.*%22%7D",
        200);
    get("/api/v1/labels?match[]=nolabels_metric", 200);
    get("/api/v1/label/__name__/values?match[]=nolabels_metric", 200);
    get("/api/v1/query?query=nolabels_metric&time=1000", 200);
    get("/api/v1/query_range?query=nolabels_metric&start=900&end=1100"
        "&step=10",
        200);
    post_count("series of a metric without labels", "/api/v1/series",
               "match[]=nolabels_metric&start=0&end=2000", 1);
    post_count("the same series in the whole match[] body", "/api/v1/series",
               "match[]=nolabels_metric", 1);
    char *body = repeat("start=0&end=1000&match[]=" METRIC,
                        "&match[]=nosuch_metric%7Binstance%3D%22x%22%7D", 6999,
                        "");
    post_count("/api/v1/series with 7,000 match[] (a 330 KB body)",
               "/api/v1/series", body, 12);
    free(body);
}

int main(void)
{
    const char *ps = getenv("PVM_TEST_PORT");
    if (!ps || !*ps) {
        printf("hostile: PVM_TEST_PORT not set (run hostile.sh): skipped\n");
        return 77;
    }
    port = atoi(ps);
    if (!alive()) {
        printf("FAIL the server does not answer a normal query\n");
        printf("PVM-RESULT: hostile-http: 0 passed, 1 failed, 0 skipped\n");
        return 1;
    }
    transport_cases();
    promql_cases();
    time_cases();
    plugin_cases();
    discovery_cases();
    printf("PVM-RESULT: hostile-http: %d passed, %d failed, 0 skipped\n",
           passed, failed);
    return failed ? 1 : 0;
}
