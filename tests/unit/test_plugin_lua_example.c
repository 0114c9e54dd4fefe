/* test_plugin_lua_example.c: conf/examples/lua/example.lua answers like
 * plugins/example.c, byte for byte. Two test kits, one with the C example
 * and one with the Lua example (instances of the same names: `replay`
 * serving example_metric, `waves` the default name), get the same
 * requests: every request of the Grafana replay (shared/
 * grafana-requests.jsonl, placeholders filled with fixed times) and the
 * conformance queries of the C example's tests; status and body must be
 * identical. The replay file is found as the integration replay finds it
 * (PVM_GRAFANA_REQUESTS, PVM_SHARED_DIR, or ../shared next to the source
 * tree); without it only the conformance queries run (said on stdout). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

extern const pvm_plugin_type pvm_plugin_lua;
extern const pvm_plugin_type pvm_plugin_example;

static const pvm_plugin_type *const table[] = {&pvm_plugin_example,
                                               &pvm_plugin_lua, NULL};

#define M "prometheus_virtual_metrics_example_metric"
#define SCRIPT PVM_TOP_SRCDIR "/conf/examples/lua/example.lua"

/* The fixed times of the replay's placeholders ({END} a multiple of 60). */
#define END 1733299980LL

struct kits {
    pvm_testkit *c;   /* plugins/example.c */
    pvm_testkit *lua; /* example.lua */
};

static int setup(void **state)
{
    static struct kits k;
    char err[1024];
    k.c = pvm_testkit_new("[plugin:replay]\ntype = example\n"
                          "metric_name = example_metric\n"
                          "[plugin:waves]\ntype = example\n",
                          table, err, sizeof(err));
    if (!k.c)
        fail_msg("C example: %s", err);
    k.lua = pvm_testkit_new("[plugin:replay]\ntype = lua\nscript = " SCRIPT
                            "\nmetric_name = example_metric\n"
                            "[plugin:waves]\ntype = lua\nscript = " SCRIPT
                            "\n",
                            table, err, sizeof(err));
    if (!k.lua)
        fail_msg("Lua example: %s", err);
    *state = &k;
    return 0;
}

static int teardown(void **state)
{
    struct kits *k = *state;
    pvm_testkit_free(k->c);
    pvm_testkit_free(k->lua);
    return 0;
}

/* Sends one request to both kits; fails unless status and body are the
 * same. Returns the Lua answer's number of results (data.result or data
 * entries), -1 when it has none. */
static int same(struct kits *k, const char *method, const char *target,
                const char *body, const char *const *headers)
{
    pvm_test_response *a = pvm_testkit_request(k->c, method, target, body,
                                               headers);
    pvm_test_response *b = pvm_testkit_request(k->lua, method, target, body,
                                               headers);
    assert_non_null(a);
    assert_non_null(b);
    if (a->status != b->status || a->body_len != b->body_len ||
        memcmp(a->body, b->body, a->body_len) != 0)
        fail_msg("%s %s %s: C and Lua differ:\nC   %d %.600s\nLua %d %.600s",
                 method, target, body ? body : "", a->status, a->body,
                 b->status, b->body);
    int n = b->json ? pvm_test_json_length(b->json, "data.result") : -1;
    if (n < 0 && b->json)
        n = pvm_test_json_length(b->json, "data");
    pvm_test_response_free(a);
    pvm_test_response_free(b);
    return n;
}

/* The C example's conformance queries (tests/unit/test_api.c and the
 * integration suite), and Q1 of the benchmarks. */
static void test_conformance(void **state)
{
    struct kits *k = *state;
    static const struct {
        const char *target;
        int results; /* expected count in the answer, -1: not checked */
    } q[] = {
        {"/api/v1/query_range?query=" M "&start=0&end=60&step=15", 12},
        {"/api/v1/query_range?query=" M "&start=1733296380&end=1733299980"
         "&step=15",
         12},
        {"/api/v1/query?query=" M "&time=30.5", 12},
        {"/api/v1/query?query=" M "&time=1732478212.345", 12},
        {"/api/v1/query?query=" M "&time=-100.25", 12},
        {"/api/v1/query?query=" M "%7Btype%3D%22sawtooth%22%2Camplitude%3D"
         "%2210%22%7D&time=30.5",
         1},
        {"/api/v1/query_range?query=sum%20by%20(type)%20(" M
         ")&start=0&end=3600&step=60",
         4},
        {"/api/v1/query_range?query=rate(" M "%7Btype%3D%22sawtooth%22%2C"
         "amplitude%3D%2210%22%7D%5B30s%5D)&start=0&end=600&step=15",
         1},
        {"/api/v1/query?query=avg_over_time(" M "%7Btype%3D%22sine%22%2C"
         "amplitude%3D%221%22%7D%5B5m%5D)&time=1000",
         1},
        {"/api/v1/query?query=" M "%7Btype%3D%22sine%22%7D%20offset%201h"
         "&time=7200",
         3},
        {"/api/v1/query?query=" M "%7Btype%3D~%22s.*%22%2Ctype!%3D%22sine"
         "%22%7D&time=10",
         6},
        {"/api/v1/query?query=" M "%5B1m%5D&time=120", 12},
        {"/api/v1/series?match%5B%5D=" M "&start=0&end=60", 12},
        {"/api/v1/series?match%5B%5D=" M "%7Btype%3D%22sine%22%7D&start=0"
         "&end=3600",
         3},
        {"/api/v1/labels?match%5B%5D=" M "&start=0&end=3600", 3},
        {"/api/v1/labels", -1},
        {"/api/v1/label/type/values?match%5B%5D=" M, 4},
        {"/api/v1/label/amplitude/values", 3},
        {"/api/v1/label/__name__/values", 2},
        {"/api/v1/label/nothing/values", 0},
        {"/api/v1/metadata", -1},
        {"/api/v1/query?query=nothing&time=10", 0},
        {"/api/v1/query?query=sum(&time=10", -1},
    };
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
        int n = same(k, "GET", q[i].target, NULL, NULL);
        if (q[i].results >= 0 && n != q[i].results)
            fail_msg("%s: %d results, not %d", q[i].target, n, q[i].results);
    }
}

/* The replay file, as tests/integration/test_grafana_replay.c finds it. */
static FILE *open_replay(void)
{
    char path[1024];
    const char *file = getenv("PVM_GRAFANA_REQUESTS");
    const char *shared = getenv("PVM_SHARED_DIR");
    if (file && *file)
        snprintf(path, sizeof(path), "%s", file);
    else if (shared && *shared)
        snprintf(path, sizeof(path), "%s/grafana-requests.jsonl", shared);
    else
        snprintf(path, sizeof(path), "%s/../shared/grafana-requests.jsonl",
                 PVM_TOP_SRCDIR);
    FILE *f = fopen(path, "r");
    if (!f)
        printf("note: %s not found: the Grafana replay is not compared\n",
               path);
    return f;
}

/* in with the replay's placeholders filled in (malloc'd). */
static char *subst(const char *in)
{
    static const char *const names[] = {"{START_MS}", "{END_MS}", "{START}",
                                        "{END}",      "{STEP}",   "{TIME}"};
    char vals[6][32];
    snprintf(vals[0], 32, "%lld", (END - 1800) * 1000);
    snprintf(vals[1], 32, "%lld", END * 1000);
    snprintf(vals[2], 32, "%lld", END - 3600);
    snprintf(vals[3], 32, "%lld", END);
    snprintf(vals[4], 32, "15");
    snprintf(vals[5], 32, "%lld.345", END + 12);
    size_t cap = strlen(in) * 4 + 64, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    while (*in) {
        size_t i = 0;
        while (i < 6 && strncmp(in, names[i], strlen(names[i])) != 0)
            i++;
        if (i < 6) {
            memcpy(out + len, vals[i], strlen(vals[i]));
            len += strlen(vals[i]);
            in += strlen(names[i]);
        } else {
            out[len++] = *in++;
        }
    }
    out[len] = '\0';
    return out;
}

static const char *str_field(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v)
                                                 : "";
}

static void test_grafana_replay(void **state)
{
    struct kits *k = *state;
    FILE *f = open_replay();
    if (!f)
        return;
    char line[1 << 16];
    int n = 0, with_data = 0;
    while (n < 10000 && fgets(line, sizeof(line), f)) {
        json_object *req = json_tokener_parse(line);
        if (!req)
            continue;
        char *raw = subst(str_field(req, "raw"));
        const char *method = str_field(req, "method");
        bool post = strcmp(str_field(req, "body"), "urlencoded") == 0;
        char target[8192];
        if (post || !*raw)
            snprintf(target, sizeof(target), "%s", str_field(req, "path"));
        else
            snprintf(target, sizeof(target), "%s?%s", str_field(req, "path"),
                     raw);
        const char *hdrs[32];
        size_t nh = 0;
        char hbuf[32][512];
        json_object *h;
        if (json_object_object_get_ex(req, "headers", &h)) {
            json_object_object_foreach(h, name, val)
            {
                if (nh == 31)
                    break;
                snprintf(hbuf[nh], sizeof(hbuf[nh]), "%s: %s", name,
                         json_object_get_string(val));
                hdrs[nh] = hbuf[nh];
                nh++;
            }
        }
        hdrs[nh] = NULL;
        if (same(k, method, target, post ? raw : NULL, hdrs) > 0)
            with_data++;
        n++;
        free(raw);
        json_object_put(req);
    }
    fclose(f);
    printf("compared %d replay requests (%d with data)\n", n, with_data);
    assert_true(n >= 40);
    assert_true(with_data >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance),
        cmocka_unit_test(test_grafana_replay),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
