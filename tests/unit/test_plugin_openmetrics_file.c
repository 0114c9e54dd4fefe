/* test_plugin_openmetrics_file.c: the openmetrics_file plugin through the
 * test kit. The data comes from promqltest-style `load` blocks, turned
 * into OpenMetrics files by a small generator here; the checks follow
 * Prometheus' semantics for raw selectors (range: the samples in the
 * window; instant: the latest sample within the lookback, answered at
 * `time`, timestamp() its own time). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "kitutil.h"

#include "openmetrics_load.h"
#include "test_plugin_openmetrics_file.h"

extern const pvm_plugin_type pvm_plugin_openmetrics_file;

static const pvm_plugin_type *const table[] = {&pvm_plugin_openmetrics_file,
                                               NULL};

/* ---- the load block generator ------------------------------------------ */

#define MAX_SERIES 16
#define MAX_POINTS 64

/* One series of a load block, expanded. */
struct load_series {
    char text[256];       /* name{labels} as written */
    double v[MAX_POINTS]; /* values */
    bool set[MAX_POINTS]; /* false for `_` */
    int n;                /* points */
};

/* Expands one promqltest value token ("0+10x5", "1x3", "_", "NaN"). */
static void expand(struct load_series *s, const char *tok)
{
    if (strcmp(tok, "_") == 0) {
        s->n++;
        return;
    }
    double a, b = 0;
    int n = 0;
    char op = 0;
    if (strcmp(tok, "NaN") == 0 || strcmp(tok, "Inf") == 0 ||
        strcmp(tok, "-Inf") == 0) {
        a = tok[0] == 'N' ? NAN : tok[0] == '-' ? -INFINITY : INFINITY;
    } else if (sscanf(tok, "%lf%c%lfx%d", &a, &op, &b, &n) == 4) {
        b = op == '-' ? -b : b;
    } else if (sscanf(tok, "%lfx%d", &a, &n) != 2) {
        n = 0;
        a = strtod(tok, NULL);
    }
    for (int i = 0; i <= n && s->n < MAX_POINTS; i++) {
        s->v[s->n] = a + b * i;
        s->set[s->n++] = true;
    }
}

static void print_value(FILE *f, double v)
{
    if (isnan(v))
        fputs("NaN", f);
    else if (isinf(v))
        fputs(v > 0 ? "+Inf" : "-Inf", f);
    else
        fprintf(f, "%.17g", v);
}

/* Writes the OpenMetrics file of a `load INTERVAL` block to path: samples
 * time-major (all series at t0, then at t1, ...), timestamps in seconds,
 * some HELP/TYPE/UNIT lines, and # EOF. */
static struct load_series gen[MAX_SERIES]; /* the last block written */
static int gen_n, gen_interval;            /* its series, its interval (s) */

static void write_load(const char *path, const char *block)
{
    gen_n = 0;
    gen_interval = 0;
    char unit = 's';
    const char *p = block;
    assert_int_equal(sscanf(p, "load %d%c", &gen_interval, &unit), 2);
    gen_interval *= unit == 'm' ? 60 : 1;
    while ((p = strchr(p, '\n')) && *++p) {
        p += strspn(p, " ");
        if (*p == '\n' || !*p)
            continue;
        struct load_series *cur = &gen[gen_n++];
        memset(cur, 0, sizeof(*cur));
        const char *brace = strchr(p, '{'), *sp = strchr(p, ' ');
        const char *end = brace && brace < sp ? strstr(brace, "} ") + 1 : sp;
        snprintf(cur->text, sizeof(cur->text), "%.*s", (int)(end - p), p);
        const char *eol = strchr(end, '\n');
        char vals[512];
        snprintf(vals, sizeof(vals), "%.*s",
                 (int)(eol ? eol - end : (long)strlen(end)), end);
        for (char *tok = strtok(vals, " "); tok; tok = strtok(NULL, " "))
            expand(cur, tok);
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# HELP http_requests_total Requests.\n"
          "# TYPE http_requests_total counter\n"
          "# UNIT temperature celsius\n",
          f);
    for (int i = 0; i < MAX_POINTS; i++)
        for (int k = 0; k < gen_n; k++) {
            if (i >= gen[k].n || !gen[k].set[i])
                continue;
            fprintf(f, "%s ", gen[k].text);
            print_value(f, gen[k].v[i]);
            fprintf(f, " %d\n", i * gen_interval);
        }
    fputs("# EOF\n", f);
    fclose(f);
}

/* ---- fixture -------------------------------------------------------------- */

static char dir[64]; /* temporary directory */
char file[128];      /* the data file in it */

static const char *const load_block =
    "load 1m\n"
    "    http_requests_total{job=\"api\", instance=\"a\"} 0+10x10\n"
    "    http_requests_total{job=\"api\", instance=\"b\"} 0+20x4\n"
    "    temperature{room=\"kitchen\"} 20 _ 21 NaN Inf -Inf\n"
    "    weird{path=\"C:\\\\dir\", quote=\"say \\\"hi\\\"\", nl=\"a\\nb\"} "
    "1x2\n";

pvm_testkit *kit_with(const char *server)
{
    char ini[1024];
    snprintf(ini, sizeof(ini),
             "%s[plugin:om]\ntype = openmetrics_file\n"
             "path = %s\n",
             server, file);
    pvm_testkit *kit = kit_or_fail(ini, table);
    return kit;
}

static int setup(void **state)
{
    strcpy(dir, "/tmp/pvm-test-om-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/data.om", dir);
    write_load(file, load_block);
    *state = kit_with("");
    return 0;
}

static int teardown(void **state)
{
    pvm_testkit_free(*state);
    unlink(file);
    rmdir(dir);
    return 0;
}

/* ---- tests ------------------------------------------------------------- */

/* Prometheus' value of load series k at time t: the latest sample in
 * (t - lookback, t]. False when there is none. */
static bool reference_at(int k, double t, double lookback, double *v)
{
    for (int i = gen[k].n - 1; i >= 0; i--) {
        double ts = (double)i * gen_interval;
        if (!gen[k].set[i] || ts > t)
            continue;
        if (ts <= t - lookback)
            return false;
        *v = gen[k].v[i];
        return true;
    }
    return false;
}

static void value_string(char *buf, size_t n, double v)
{
    if (isnan(v))
        snprintf(buf, n, "NaN");
    else if (isinf(v))
        snprintf(buf, n, v > 0 ? "+Inf" : "-Inf");
    else
        snprintf(buf, n, "%.17g", v);
}

/* Checks the range query of load series k's selector against the
 * reference: same points, same values. */
static void expect_range(pvm_testkit *kit, int k, const char *selector,
                         double start, double end, double step)
{
    pvm_test_response *r = ok(
        pvm_testkit_range(kit, selector, start, end, step));
    int npoints = 0;
    char path[64], want[64];
    for (double t = start; t <= end + 1e-9; t += step) {
        double v;
        if (!reference_at(k, t, 300, &v))
            continue;
        value_string(want, sizeof(want), v);
        snprintf(path, sizeof(path), "data.result[0].values[%d]", npoints++);
        expect_point(r->json, path, t, want);
    }
    assert_int_equal(pvm_test_json_length(r->json, "data.result"),
                     npoints ? 1 : 0);
    if (npoints)
        assert_int_equal(pvm_test_json_length(r->json,
                                              "data.result[0].values"),
                         npoints);
    pvm_test_response_free(r);
}

/* Range queries give what Prometheus gives for the same data: at each
 * step the latest sample within the lookback. */
static void test_range_query(void **state)
{
    expect_range(*state, 0, "http_requests_total{instance=\"a\"}", 125, 305,
                 7);
    expect_range(*state, 0, "http_requests_total{instance=\"a\"}", 0, 900, 60);
    expect_range(*state, 1, "http_requests_total{instance=\"b\"}", 0, 900, 30);
    expect_range(*state, 1, "http_requests_total{instance=\"b\"}", 600, 900,
                 30);
    /* NaN, +Inf, -Inf, the gap of `_` */
    expect_range(*state, 2, "temperature", 0, 700, 20);
    expect_range(*state, 3, "{__name__=\"weird\"}", -100, 200, 10);

    /* both series, sorted by labels */
    pvm_test_response *r = ok(
        pvm_testkit_range(*state, "http_requests_total", 120, 240, 60));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 2);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[1].metric.instance"),
                        "b");
    expect_point(r->json, "data.result[1].values[2]", 240, "80");
    pvm_test_response_free(r);
}

/* The plugin hands out the raw samples in the window, each at its own
 * timestamp: a range selector shows them. */
static void test_raw_samples(void **state)
{
    pvm_test_response *r = ok(
        pvm_testkit_instant(*state, "http_requests_total{instance=\"a\"}[3m]",
                            305));
    assert_string_equal(pvm_test_json_string(r->json, "data.resultType"),
                        "matrix");
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     3);
    expect_point(r->json, "data.result[0].values[0]", 180, "30");
    expect_point(r->json, "data.result[0].values[2]", 300, "50");
    pvm_test_response_free(r);
    /* (0, 600]: the sample at 0 is out */
    r = ok(pvm_testkit_instant(*state, "temperature[10m]", 600));
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     4);
    expect_point(r->json, "data.result[0].values[0]", 120, "21");
    expect_point(r->json, "data.result[0].values[1]", 180, "NaN");
    expect_point(r->json, "data.result[0].values[2]", 240, "+Inf");
    expect_point(r->json, "data.result[0].values[3]", 300, "-Inf");
    pvm_test_response_free(r);
}

/* Instant: the latest sample at or before `time` within 5m, answered at
 * `time`; older than 5m: no sample. */
static void test_instant_lookback(void **state)
{
    pvm_test_response *r = ok(
        pvm_testkit_instant(*state, "http_requests_total", 610));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    expect_point(r->json, "data.result[0].value", 610, "100");
    pvm_test_response_free(r);

    /* b's last sample is at 240: in (t - 5m, t] for t = 539.999, not for
     * t = 540 (the window of Prometheus 3 and of the server's engine) */
    r = ok(pvm_testkit_instant(*state, "http_requests_total", 539.999));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 2);
    expect_point(r->json, "data.result[1].value", 539.999, "80");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(*state, "http_requests_total", 540));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    pvm_test_response_free(r);

    /* between samples: the earlier one; before the first: nothing */
    r = ok(pvm_testkit_instant(*state, "temperature", 90));
    expect_point(r->json, "data.result[0].value", 90, "20");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(*state, "http_requests_total", -1));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 0);
    pvm_test_response_free(r);

    /* escapes in label values come back unescaped */
    r = ok(pvm_testkit_instant(*state, "weird", 60));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.path"),
                        "C:\\dir");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.quote"),
                        "say \"hi\"");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.nl"),
                        "a\nb");
    pvm_test_response_free(r);
}

/* Instant: the sample keeps its own timestamp (the answer's point is at
 * the evaluation time): timestamp() gives it and the staleness alert
 * fires for the series whose samples stopped (b, last at 240 s). */
static void test_instant_sample_time(void **state)
{
    pvm_test_response *r = ok(pvm_testkit_instant(
        *state, "timestamp(http_requests_total{instance=\"a\"})", 610));
    expect_point(r->json, "data.result[0].value", 610, "600");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(
        *state, "timestamp(http_requests_total{instance=\"b\"})", 539.999));
    expect_point(r->json, "data.result[0].value", 539.999, "240");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(*state,
                               "time() - timestamp(http_requests_total) > 60",
                               539.999));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.instance"),
                        "b");
    expect_point(r->json, "data.result[0].value", 539.999, "299.999");
    pvm_test_response_free(r);
}

/* [server] lookback_delta is honoured. */
static void test_lookback_setting(void **state)
{
    pvm_testkit *kit = kit_with("[server]\nlookback_delta = 1m\n");
    pvm_test_response *r = ok(
        pvm_testkit_instant(kit, "http_requests_total", 299.999));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 2);
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(kit, "http_requests_total", 300));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

static void test_discovery(void **state)
{
    pvm_test_response *r = ok(
        pvm_testkit_label_values(*state, "__name__", NULL));
    assert_string_equal(joined(r), "http_requests_total,temperature,weird");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_label_names(*state, NULL));
    assert_string_equal(joined(r), "__name__,instance,job,nl,path,quote,room");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_label_names(*state, "temperature"));
    assert_string_equal(joined(r), "__name__,room");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_label_values(*state, "instance", NULL));
    assert_string_equal(joined(r), "a,b");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_label_values(*state, "instance",
                                    "{__name__=~\"http.*\",instance!=\"a\"}"));
    assert_string_equal(joined(r), "b");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_label_values(*state, "__name__", "{room=~\".+\"}"));
    assert_string_equal(joined(r), "temperature");
    pvm_test_response_free(r);
}

/* Discovery only sees series with samples in [start, end]. (The server
 * also asks the range hook, on a grid of at least 15 s, and the plugin
 * answers that from one step before start: keep b's last sample, 240,
 * more than a step away.) */
static void test_discovery_time_range(void **state)
{
    pvm_test_response *r = ok(
        pvm_testkit_series(*state, "http_requests_total", 300, 400));
    assert_int_equal(pvm_test_json_length(r->json, "data"), 1);
    assert_string_equal(pvm_test_json_string(r->json, "data[0].instance"),
                        "a");
    assert_string_equal(pvm_test_json_string(r->json, "data[0].job"), "api");
    assert_string_equal(pvm_test_json_string(r->json, "data[0].__name__"),
                        "http_requests_total");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_series(*state, "http_requests_total", 0, 60));
    assert_int_equal(pvm_test_json_length(r->json, "data"), 2);
    pvm_test_response_free(r);
    r = ok(pvm_testkit_request(*state, "GET",
                               "/api/v1/label/instance/values?start=300&"
                               "end=1000",
                               NULL, NULL));
    assert_string_equal(joined(r), "a");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_request(*state, "GET",
                               "/api/v1/label/__name__/values?start=400&"
                               "end=1000",
                               NULL, NULL));
    assert_string_equal(joined(r), "http_requests_total");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_request(*state, "GET", "/api/v1/labels?start=5000",
                               NULL, NULL));
    assert_string_equal(joined(r), "");
    pvm_test_response_free(r);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A changed file is reloaded (checked at most once a second); a broken
 * one is logged and the data loaded before stays. */
static void test_reload(void **state)
{
    pvm_testkit *kit = *state;
    write_text(file, "# TYPE reloaded gauge\nreloaded 7 100\n# EOF\n");
    usleep(1100 * 1000);
    pvm_test_response *r = ok(pvm_testkit_instant(kit, "reloaded", 100));
    expect_point(r->json, "data.result[0].value", 100, "7");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(kit, "http_requests_total", 100));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 0);
    pvm_test_response_free(r);

    write_text(file, "reloaded 8 100\nbroken{ 9 200\n");
    usleep(1100 * 1000);
    r = ok(pvm_testkit_instant(kit, "reloaded", 100));
    expect_point(r->json, "data.result[0].value", 100, "7");
    pvm_test_response_free(r);
}

/* 1.001 s is 1001 ms: timestamps are parsed as decimals. */
static void test_exact_timestamps(void **state)
{
    write_text(file, "t 1 0.3\nt 2 1.001\nt 3 1.002\nt 4 1700000000.123\n"
                     "# EOF\n");
    pvm_testkit *kit = kit_with("");
    pvm_test_response *r = ok(pvm_testkit_instant(kit, "t[10s]", 5));
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     3);
    expect_point(r->json, "data.result[0].values[0]", 0.3, "1");
    expect_point(r->json, "data.result[0].values[1]", 1.001, "2");
    expect_point(r->json, "data.result[0].values[2]", 1.002, "3");
    assert_non_null(strstr(r->body, "[1.001,\"2\"]"));
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(kit, "t[1s]", 1700000001));
    expect_point(r->json, "data.result[0].values[0]", 1700000000.123, "4");
    pvm_test_response_free(r);
    /* evaluated exactly at 1.001 and 1.0019: the sample of 1.001 */
    r = ok(pvm_testkit_range(kit, "t", 1.001, 1.001, 1));
    expect_point(r->json, "data.result[0].values[0]", 1.001, "2");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(kit, "t", 1.0));
    expect_point(r->json, "data.result[0].value", 1.0, "1");
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

/* The timestamp parser alone (openmetrics_load.h). */
static void test_parse_timestamp(void **state)
{
    static const struct {
        const char *in; /* text */
        bool ms;        /* timestamp_unit = ms */
        int rc;         /* expected return */
        int64_t want;   /* expected ms */
    } cases[] = {
        {"1.001", false, 0, 1001},
        {"0.3", false, 0, 300},
        {"1", false, 0, 1000},
        {"1.0019", false, 0, 1001},
        {"-0.5", false, 0, -500},
        {"+2", false, 0, 2000},
        {"1.5e9", false, 0, 1500000000000},
        {"1700000000.123", false, 0, 1700000000123},
        {"17e-1", false, 0, 1700},
        {".5", false, 0, 500},
        {"000001.000001", false, 0, 1000},
        {"1001", true, 0, 1001},
        {"-1001", true, 0, -1001},
        {"1.5", true, -1, 0},
        {"", false, -1, 0},
        {"abc", false, -1, 0},
        {"1.2.3", false, -1, 0},
        {"1e", false, -1, 0},
        {"NaN", false, -1, 0},
        {"1e30", false, -2, 0},
        {"99999999999999999999", true, -2, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t t = 0;
        int rc = pvm_om_parse_timestamp(cases[i].in, strlen(cases[i].in),
                                        cases[i].ms, &t);
        if (rc != cases[i].rc || (rc == 0 && t != cases[i].want))
            fail_msg("'%s': rc %d t %lld, want rc %d t %lld", cases[i].in, rc,
                     (long long)t, cases[i].rc, (long long)cases[i].want);
    }
}

/* timestamp_unit = ms: the Prometheus text format. */
static void test_prometheus_text_format(void **state)
{
    write_text(file, "# HELP up Up.\n# TYPE up gauge\n"
                     "up{job=\"a\",} 1 1001\nup{job=\"a\"} 0 2000\n\n"
                     "up{ job = \"b\" }\t1\t1001\n");
    char ini[512];
    snprintf(ini, sizeof(ini),
             "[plugin:om]\ntype = openmetrics_file\n"
             "path = %s\ntimestamp_unit = ms\n",
             file);
    pvm_testkit *kit = kit_or_fail(ini, table);
    pvm_test_response *r = ok(pvm_testkit_instant(kit, "up[10s]", 10));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 2);
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     2);
    expect_point(r->json, "data.result[0].values[0]", 1.001, "1");
    expect_point(r->json, "data.result[0].values[1]", 2, "0");
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

/* Errors in the file stop the start with the file and line. */
static void test_errors_with_line(void **state)
{
    static const struct {
        const char *text; /* file content */
        int line;         /* line of the error */
        const char *msg;  /* part of the message */
    } cases[] = {
        {"# TYPE a gauge\na 1 1\na 2\n", 3, "without a timestamp"},
        {"a 1 1\n\nb{x=\"1\" 2 3\n", 3, "unterminated label set"},
        {"a one 1\n", 1, "expected a value"},
        /* values as Prometheus' text parser reads them: no hex, no '_' */
        {"a 1 1\na 0x10 2\n", 2,
         "expected a value after the series, got "
         "'0x10'"},
        {"a 1_000 1\n", 1, "got '1_000'"},
        {"a 0x1p4 1\n", 1, "got '0x1p4'"},
        {"a 1 1\na 2 1\n", 2, "not after the previous sample"},
        {"a 1 2\n# EOF\na 1 3\n", 3, "content after # EOF"},
        {"a{x=\"1\",x=\"2\"} 1 1\n", 1, "duplicate label name 'x'"},
        {"a 1 1 extra\n", 1, "unexpected 'extra'"},
        {"a 1 1x\n", 1, "invalid timestamp '1x'"},
        {"9a 1 1\n", 1, "expected a metric name"},
        {"a{x=1} 1 1\n", 1, "expected '\"'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_text(file, cases[i].text);
        char ini[512], err[1024] = "", want[512];
        snprintf(ini, sizeof(ini),
                 "[plugin:om]\ntype = openmetrics_file\n"
                 "path = %s\n",
                 file);
        pvm_testkit *kit = pvm_testkit_new(ini, table, err, sizeof(err));
        if (kit)
            fail_msg("case %zu accepted", i);
        snprintf(want, sizeof(want),
                 "plugin om: on_master_startup failed: %s:%d: ", file,
                 cases[i].line);
        if (strncmp(err, want, strlen(want)) || !strstr(err, cases[i].msg))
            fail_msg("case %zu: '%s', want '%s...%s'", i, err, want,
                     cases[i].msg);
    }
}

static void test_configuration_errors(void **state)
{
    expect_kit_error("[plugin:om]\ntype = openmetrics_file\n", table,
                     "missing key 'path'");
    expect_kit_error("[plugin:om]\ntype = openmetrics_file\n"
                     "path = /nonexistent.om\n",
                     table, "cannot open /nonexistent.om");
    expect_kit_error("[plugin:om]\ntype = openmetrics_file\n"
                     "path = x\ntimestamp_unit = h\n",
                     table, "timestamp_unit: must be one of s|ms, not 'h'");
}

/* A label set written in another order or spacing is the same series. */
static void test_same_series_other_spelling(void **state)
{
    write_text(file, "m{a=\"1\",b=\"2\"} 1 1\nm{b=\"2\", a=\"1\"} 2 2\n"
                     "m{a=\"1\",b=\"2\",c=\"\"} 3 3\n");
    pvm_testkit *kit = kit_with("");
    pvm_test_response *r = ok(pvm_testkit_instant(kit, "m[10s]", 10));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     3);
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_range_query),
        T(test_raw_samples),
        T(test_instant_lookback),
        T(test_instant_sample_time),
        T(test_lookback_setting),
        T(test_discovery),
        T(test_discovery_time_range),
        T(test_reload),
        T(test_exact_timestamps),
        cmocka_unit_test(test_parse_timestamp),
        T(test_prometheus_text_format),
        T(test_errors_with_line),
        T(test_configuration_errors),
        T(test_same_series_other_spelling),
        T(test_many_selectors),
        T(test_large_file_discovery),
        T(test_name_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
