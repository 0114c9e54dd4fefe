/* tests/integration/test_grafana_replay.c: replays the requests of a
 * realistic Grafana session (shared/grafana-requests.jsonl, format in §9
 * of grafana-requests.md) through nginx and checks each answer's status
 * and the shape its `expect` text describes.
 * Environment: PVM_TEST_PORT (nginx in front of a pvm-fcgi serving the
 * fixture's example_metric{type="a"|"b"}), PVM_GRAFANA_REQUESTS (default
 * $PVM_SHARED_DIR/grafana-requests.jsonl, else
 * $top_srcdir/../shared/grafana-requests.jsonl); the result types that
 * need PromQL evaluation (sum, rate, scalar(), ...) are demanded, or only
 * their shape with PVM_REPLAY_STRICT=0.
 * Prints one line per request and
 *   PVM-RESULT: grafana-replay: P passed, F failed, S skipped
 * A missing replay file or PVM_TEST_PORT is a "SKIP:" line, one skipped
 * test and exit status 77. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../lib/http.h"

#define REPLAY_MAX_LINE (1u << 20) /* bytes per JSONL line */
#define REPLAY_MAX_LINES 10000     /* lines read at most */

/* Placeholder values of one run (§9). */
typedef struct replay_vars {
    char end[32];      /* {END}: a multiple of 60 near now */
    char start[32];    /* {START}: END - 3600 */
    char step[8];      /* {STEP}: 15 */
    char time[40];     /* {TIME}: END + 12.345 */
    char start_ms[32]; /* {START_MS}: now - 30 min, in ms */
    char end_ms[32];   /* {END_MS}: now, in ms */
} replay_vars;

/* One check's outcome. */
typedef struct replay_result {
    bool failed;    /* a check failed */
    char why[512];  /* failure reason */
    char note[256]; /* remark printed with a pass */
} replay_result;

static bool replay_strict;

static void replay_fail(replay_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void replay_fail(replay_result *res, const char *fmt, ...)
{
    va_list ap;
    if (res->failed)
        return; /* keep the first reason */
    res->failed = true;
    va_start(ap, fmt);
    vsnprintf(res->why, sizeof(res->why), fmt, ap);
    va_end(ap);
}

static void replay_vars_init(replay_vars *v)
{
    long long now = (long long)time(NULL);
    long long end = now / 60 * 60;
    snprintf(v->end, sizeof(v->end), "%lld", end);
    snprintf(v->start, sizeof(v->start), "%lld", end - 3600);
    snprintf(v->step, sizeof(v->step), "15");
    snprintf(v->time, sizeof(v->time), "%lld.345", end + 12);
    snprintf(v->start_ms, sizeof(v->start_ms), "%lld", (now - 1800) * 1000);
    snprintf(v->end_ms, sizeof(v->end_ms), "%lld", now * 1000);
}

/* Returns a malloc'ed copy of in with the placeholders replaced. */
static char *replay_subst(const char *in, const replay_vars *v)
{
    static const char *const names[] = {"{START_MS}", "{END_MS}", "{START}",
                                        "{END}",      "{STEP}",   "{TIME}"};
    const char *vals[] = {v->start_ms, v->end_ms, v->start,
                          v->end,      v->step,   v->time};
    size_t cap = strlen(in) * 4 + 64, len = 0;
    char *out = malloc(cap);

    if (!out)
        return NULL;
    while (*in) {
        size_t i;
        for (i = 0; i < 6; i++)
            if (strncmp(in, names[i], strlen(names[i])) == 0)
                break;
        if (i < 6) {
            size_t n = strlen(vals[i]);
            if (len + n + 1 > cap)
                break; /* cannot happen: values are shorter than 4x */
            memcpy(out + len, vals[i], n);
            len += n;
            in += strlen(names[i]);
        } else {
            if (len + 2 > cap)
                break;
            out[len++] = *in++;
        }
    }
    out[len] = '\0';
    return out;
}

/* A string field of a JSON object, or "". */
static const char *replay_str(json_object *o, const char *key)
{
    const char *s = test_json_string(o, key);
    return s ? s : "";
}

/* True when the query needs PromQL evaluation beyond selecting series. */
static bool replay_needs_eval(const char *query)
{
    return strpbrk(query, "()+-*/><^%") != NULL;
}

/* Checks every sample pair of a vector or matrix result. */
static void replay_check_series(json_object *result, const char *type,
                                double start, double end, double step,
                                replay_result *res)
{
    for (size_t i = 0; i < json_object_array_length(result); i++) {
        json_object *item = json_object_array_get_idx(result, i);
        json_object *metric = test_json_get(item, "metric");
        if (!json_object_is_type(metric, json_type_object)) {
            replay_fail(res, "result[%zu].metric is not an object", i);
            return;
        }
        json_object_object_foreach(metric, k, val)
        {
            if (!json_object_is_type(val, json_type_string)) {
                replay_fail(res, "result[%zu].metric.%s is not a string", i,
                            k);
                return;
            }
        }
        if (i > 0 &&
            test_json_labels_cmp(
                test_json_get(json_object_array_get_idx(result, i - 1),
                              "metric"),
                metric) >= 0)
            replay_fail(res, "series %zu and %zu not sorted by labels", i - 1,
                        i);
        if (strcmp(type, "vector") == 0) {
            const char *bad = test_json_check_sample(
                test_json_get(item, "value"));
            if (!test_json_has(item, "value") || test_json_has(item, "values"))
                replay_fail(res, "vector item %zu needs \"value\" only", i);
            else if (bad)
                replay_fail(res, "result[%zu].value: %s", i, bad);
        } else {
            json_object *vals = test_json_get(item, "values");
            double prev = -INFINITY;
            if (!json_object_is_type(vals, json_type_array) ||
                test_json_has(item, "value")) {
                replay_fail(res, "matrix item %zu needs \"values\" only", i);
                return;
            }
            for (size_t j = 0; j < json_object_array_length(vals); j++) {
                json_object *pair = json_object_array_get_idx(vals, j);
                const char *bad = test_json_check_sample(pair);
                double t, grid;
                if (bad) {
                    replay_fail(res, "result[%zu].values[%zu]: %s", i, j, bad);
                    return;
                }
                t = json_object_get_double(json_object_array_get_idx(pair, 0));
                grid = (t - start) / step;
                if (t <= prev)
                    replay_fail(res, "result[%zu] not ascending in time", i);
                if (step > 0 && (t < start || t > end ||
                                 fabs(grid - floor(grid + 0.5)) > 1e-6))
                    replay_fail(res,
                                "result[%zu] point at %.3f not on the "
                                "start+k*step grid",
                                i, t);
                prev = t;
            }
        }
    }
}

/* /api/v1/query and /query_range answers. */
static void replay_check_query(json_object *req, const test_http_response *r,
                               const replay_vars *v, replay_result *res)
{
    const char *name = replay_str(req, "name");
    const char *path = replay_str(req, "path");
    char *query = replay_subst(replay_str(req, "params.query"), v);
    bool range = strstr(path, "query_range") != NULL;
    bool health = strncmp(name, "savetest_health", 15) == 0;
    bool eval = query && replay_needs_eval(query);
    const char *want = range ? "matrix" : "vector";
    const char *type = test_json_string(r->json, "data.resultType");
    json_object *result = test_json_get(r->json, "data.result");
    long ptype = test_json_key_pos(r->body, "resultType");
    long pres = test_json_key_pos(r->body, "result");

    if (strcmp(name, "explore_instant_scalar") == 0 || health)
        want = "scalar";
    if (!type) {
        replay_fail(res, "no data.resultType");
        goto out;
    }
    if (!(ptype >= 0 && pres > ptype))
        replay_fail(res, "\"resultType\" does not come before \"result\"");
    if (strcmp(type, want) != 0) {
        if (eval && !health && !replay_strict)
            snprintf(res->note, sizeof(res->note),
                     "shape only: resultType %s, %s once evaluated", type,
                     want);
        else
            replay_fail(res, "resultType %s, expected %s", type, want);
    }
    if (strcmp(type, "scalar") == 0 || strcmp(type, "string") == 0) {
        const char *bad = test_json_check_sample(result);
        if (bad)
            replay_fail(res, "scalar result: %s", bad);
        else if (health && (json_object_get_double(
                                json_object_array_get_idx(result, 0)) != 4 ||
                            strcmp(json_object_get_string(
                                       json_object_array_get_idx(result, 1)),
                                   "2") != 0))
            replay_fail(res, "health check result is not [4,\"2\"]");
    } else if (strcmp(type, "vector") == 0 || strcmp(type, "matrix") == 0) {
        double start = range ? atof(v->start) : 0,
               end = range ? atof(v->end) : 0;
        char *step_s = replay_subst(replay_str(req, "params.step"), v);
        double step = range && step_s ? atof(step_s) : 0;
        free(step_s);
        if (!json_object_is_type(result, json_type_array)) {
            replay_fail(res, "data.result is not an array");
            goto out;
        }
        replay_check_series(result, type, start, end, step, res);
        if (json_object_array_length(result) == 0 && !eval)
            replay_fail(res, "empty result for a selector of the fixture");
        if (replay_strict && strcmp(name, "explore_infinity_values") == 0)
            for (size_t i = 0; i < json_object_array_length(result); i++) {
                const char *val = test_json_string(
                    json_object_array_get_idx(result, i), "value[1]");
                if (!val || (strcmp(val, "+Inf") && strcmp(val, "NaN")))
                    replay_fail(res,
                                "example_metric / 0 gave '%s', not "
                                "+Inf or NaN",
                                val ? val : "");
            }
        if (replay_strict && query && strstr(query, "sum by (type)"))
            for (size_t i = 0; i < json_object_array_length(result); i++)
                if (test_json_has(json_object_array_get_idx(result, i),
                                  "metric.__name__"))
                    replay_fail(res, "__name__ kept after sum by (type)");
    } else {
        replay_fail(res, "unknown resultType %s", type);
    }
out:
    free(query);
}

/* /api/v1/label/<name>/values, /labels */
static void replay_check_strings(json_object *req, const test_http_response *r,
                                 replay_result *res)
{
    const char *path = replay_str(req, "path");
    const char *raw = replay_str(req, "raw");
    bool match_metric = strstr(raw, "example_metric") != NULL;

    if (test_json_array_len(r->json, "data") < 0) {
        replay_fail(res, "data is not an array");
        return;
    }
    if (!test_json_is_sorted_strings(r->json, "data"))
        replay_fail(res, "data is not sorted, de-duplicated strings");
    if (strstr(path, "/label/__name__/values")) {
        if (!test_json_array_has_string(r->json, "data", "example_metric"))
            replay_fail(res, "metric names lack example_metric");
        if (match_metric && !strstr(raw, "%3D~") &&
            test_json_array_len(r->json, "data") != 1)
            replay_fail(res, "expected exactly [\"example_metric\"]");
    } else if (strstr(path, "/label/type/values")) {
        if (!test_json_array_has_string(r->json, "data", "a") ||
            !test_json_array_has_string(r->json, "data", "b"))
            replay_fail(res, "type values lack a or b");
        if (match_metric && test_json_array_len(r->json, "data") != 2)
            replay_fail(res,
                        "expected exactly [\"a\",\"b\"] for example_metric");
    } else if (strstr(path, "/labels")) {
        if (!test_json_array_has_string(r->json, "data", "type") ||
            !test_json_array_has_string(r->json, "data", "__name__"))
            replay_fail(res, "label names lack __name__ or type");
    }
}

/* /api/v1/series */
static void replay_check_series_list(const test_http_response *r,
                                     replay_result *res)
{
    json_object *data = test_json_get(r->json, "data");
    size_t n, named = 0;

    if (!json_object_is_type(data, json_type_array)) {
        replay_fail(res, "data is not an array");
        return;
    }
    n = json_object_array_length(data);
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(data, i);
        const char *mn = test_json_string(s, "__name__");
        if (!json_object_is_type(s, json_type_object) || !mn) {
            replay_fail(res, "series %zu is not a label set with __name__", i);
            return;
        }
        if (strcmp(mn, "example_metric") == 0)
            named++;
        if (i && test_json_labels_cmp(json_object_array_get_idx(data, i - 1),
                                      s) >= 0)
            replay_fail(res, "series %zu, %zu not sorted", i - 1, i);
    }
    if (named != 2)
        replay_fail(res, "%zu example_metric series, expected 2", named);
}

/* True when msg carries a "1:5: parse error" style position (Prometheus
 * 2.42 writes it first on /query_range and after 'invalid parameter
 * "query": ' on /query). */
static bool replay_has_position(const char *msg)
{
    for (const char *p = strstr(msg, "1:"); p; p = strstr(p + 1, "1:")) {
        size_t n = strspn(p + 2, "0123456789");
        if ((p == msg || p[-1] == ' ') && n > 0 && p[2 + n] == ':')
            return true;
    }
    return false;
}

/* Status, envelope, then the per-endpoint shape. */
static void replay_check(json_object *req, const test_http_response *r,
                         const replay_vars *v, replay_result *res)
{
    const char *path = replay_str(req, "path");
    const char *status;
    int want = json_object_get_int(test_json_get(req, "expect_status"));

    if (r->status != want) {
        replay_fail(res, "HTTP %d, expected %d", r->status, want);
        return;
    }
    if (!r->json || !json_object_is_type(r->json, json_type_object)) {
        replay_fail(res, "body is not a JSON object");
        return;
    }
    status = test_json_string(r->json, "status");
    if (!status) {
        replay_fail(res, "no status in the envelope");
        return;
    }
    if (test_json_has(r->json, "warnings") &&
        test_json_array_len(r->json, "warnings") <= 0)
        replay_fail(res, "warnings present but not a non-empty array");
    if (test_json_has(r->json, "infos") &&
        test_json_array_len(r->json, "infos") <= 0)
        replay_fail(res, "infos present but not a non-empty array");
    if (want != 200) {
        const char *err = test_json_string(r->json, "error");
        if (strcmp(status, "error") != 0 ||
            !test_json_string(r->json, "errorType"))
            replay_fail(res, "error answer without status error/errorType");
        else if (want == 400 &&
                 strcmp(test_json_string(r->json, "errorType"), "bad_data"))
            replay_fail(res, "errorType is not bad_data");
        else if (!err || !replay_has_position(err))
            replay_fail(res, "error '%s' has no line:col position",
                        err ? err : "");
        return;
    }
    if (strcmp(status, "success") != 0) {
        replay_fail(res, "status is '%s'", status);
        return;
    }
    if (strstr(path, "/api/v1/query_exemplars")) {
        if (test_json_array_len(r->json, "data") < 0)
            replay_fail(res, "data is not an array");
    } else if (strstr(path, "/api/v1/query")) {
        replay_check_query(req, r, v, res);
    } else if (strstr(path, "/values") || strstr(path, "/api/v1/labels")) {
        replay_check_strings(req, r, res);
    } else if (strstr(path, "/api/v1/series")) {
        replay_check_series_list(r, res);
    } else if (strstr(path, "/api/v1/metadata")) {
        json_object *d = test_json_get(r->json, "data");
        if (!json_object_is_type(d, json_type_object)) {
            replay_fail(res, "data is not an object");
            return;
        }
        json_object_object_foreach(d, k, val)
        {
            if (!json_object_is_type(val, json_type_array) ||
                json_object_array_length(val) == 0)
                replay_fail(res, "metadata of %s is not a non-empty array", k);
        }
    } else if (strstr(path, "/status/buildinfo")) {
        if (!test_json_string(r->json, "data.version"))
            replay_fail(res, "no data.version");
        if (test_json_has(r->json, "data.features"))
            replay_fail(res, "data.features present (Grafana: Mimir)");
    } else if (strstr(path, "/api/v1/rules")) {
        if (test_json_array_len(r->json, "data.groups") < 0)
            replay_fail(res, "data.groups is not an array");
    } else {
        snprintf(res->note, sizeof(res->note), "envelope only");
    }
}

/* Sends one request as Grafana would (without Accept-Encoding: the test
 * client does not inflate; gzip is covered by test_api). */
static int replay_send(int port, json_object *req, const replay_vars *v,
                       test_http_response *r)
{
    const char *method = replay_str(req, "method");
    char *raw = replay_subst(replay_str(req, "raw"), v);
    char *path = NULL;
    char *hdrs[TEST_HTTP_MAX_HEADERS + 1];
    size_t nh = 0;
    json_object *h = test_json_get(req, "headers");
    bool post_body = strcmp(replay_str(req, "body"), "urlencoded") == 0;
    test_http_request hr = {.method = method};
    int rc = -1;

    memset(hdrs, 0, sizeof(hdrs));
    if (!raw)
        goto out;
    if (json_object_is_type(h, json_type_object)) {
        json_object_object_foreach(h, k, val)
        {
            if (strcasecmp(k, "Accept-Encoding") == 0 ||
                nh >= TEST_HTTP_MAX_HEADERS)
                continue;
            if (asprintf(&hdrs[nh], "%s: %s", k, json_object_get_string(val)) <
                0)
                goto out;
            nh++;
        }
    }
    if (post_body || !*raw) {
        path = strdup(replay_str(req, "path"));
    } else if (asprintf(&path, "%s?%s", replay_str(req, "path"), raw) < 0) {
        path = NULL;
    }
    if (!path)
        goto out;
    hr.path = path;
    hr.headers = (const char *const *)hdrs;
    if (post_body) {
        hr.body = raw;
        hr.body_len = strlen(raw);
    }
    rc = test_http_do(port, &hr, r);
out:
    for (size_t i = 0; i < nh; i++)
        free(hdrs[i]);
    free(path);
    free(raw);
    return rc;
}

int main(void)
{
    const char *port_s = getenv("PVM_TEST_PORT");
    const char *file = getenv("PVM_GRAFANA_REQUESTS");
    const char *srcdir = getenv("top_srcdir");
    const char *shared = getenv("PVM_SHARED_DIR");
    char defpath[4096], *line;
    int passed = 0, failed = 0, skipped = 0, port;
    FILE *f;
    replay_vars v;

    replay_strict = !getenv("PVM_REPLAY_STRICT") ||
                    strcmp(getenv("PVM_REPLAY_STRICT"), "0") != 0;
    if ((!file || !*file) && shared && *shared) {
        snprintf(defpath, sizeof(defpath), "%s/grafana-requests.jsonl",
                 shared);
        file = defpath;
    } else if (!file || !*file) {
        snprintf(defpath, sizeof(defpath),
                 "%s/../shared/grafana-requests.jsonl", srcdir ? srcdir : ".");
        file = defpath;
    }
    if (!port_s || atoi(port_s) <= 0) {
        printf("SKIP: grafana-replay: PVM_TEST_PORT not set (run "
               "tests/integration/run.sh)\n");
        printf("PVM-RESULT: grafana-replay: 0 passed, 0 failed, 1 skipped\n");
        return 77;
    }
    port = atoi(port_s);
    f = fopen(file, "r");
    if (!f) {
        printf("SKIP: grafana-replay: cannot read %s (set PVM_SHARED_DIR "
               "to the shared directory or PVM_GRAFANA_REQUESTS to the "
               "replay file)\n",
               file);
        printf("PVM-RESULT: grafana-replay: 0 passed, 0 failed, 1 skipped\n");
        return 77;
    }
    line = malloc(REPLAY_MAX_LINE);
    if (!line) {
        fclose(f);
        return 1;
    }
    replay_vars_init(&v);
    printf("grafana-replay: %s, END=%s TIME=%s (Accept-Encoding not sent)\n",
           file, v.end, v.time);
    for (int lineno = 1;
         lineno <= REPLAY_MAX_LINES && fgets(line, REPLAY_MAX_LINE, f);
         lineno++) {
        json_object *req;
        test_http_response r;
        replay_result res = {0};

        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        req = json_tokener_parse(line);
        if (!req || !test_json_string(req, "name")) {
            printf("FAIL line %d: not a JSON request object\n", lineno);
            failed++;
            json_object_put(req);
            continue;
        }
        if (replay_send(port, req, &v, &r) < 0) {
            printf("FAIL %s: %s %s: %s\n", replay_str(req, "name"),
                   replay_str(req, "method"), replay_str(req, "path"),
                   r.error);
            failed++;
        } else {
            replay_check(req, &r, &v, &res);
            if (res.failed) {
                printf("FAIL %s: %s %s: %s\n     expect: %.200s\n     got: "
                       "HTTP %d %.400s\n",
                       replay_str(req, "name"), replay_str(req, "method"),
                       replay_str(req, "path"), res.why,
                       replay_str(req, "expect"), r.status,
                       r.body ? r.body : "");
                failed++;
            } else {
                printf("ok   %s: %s %s -> %d%s%s\n", replay_str(req, "name"),
                       replay_str(req, "method"), replay_str(req, "path"),
                       r.status, res.note[0] ? " " : "", res.note);
                passed++;
            }
        }
        test_http_free(&r);
        json_object_put(req);
    }
    free(line);
    fclose(f);
    printf("PVM-RESULT: grafana-replay: %d passed, %d failed, %d skipped\n",
           passed, failed, skipped);
    return failed ? 1 : 0;
}
