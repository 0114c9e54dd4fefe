/* tests/plugins/bench.c: the `bench` plugin, for benchmarks and hostile
 * tests. Serves `series` series of one metric (default bench_metric) at
 * every timestamp asked for: series i has the label id="<i>" plus
 * `labels` more labels l0..lN-1, every label value padded to
 * `value_len` bytes, and a value chosen by `value`. Also the way to make
 * a plugin produce what no real one should: NaN/Inf values, empty or huge
 * label sets, millions of samples, long values for regex bombs.
 *
 *   [plugin:bench]
 *   metric = bench_metric   ; metric name
 *   series = 1000           ; number of series (1..10,000,000)
 *   labels = 0              ; extra labels per series (0..100,000)
 *   value_len = 0           ; pad label values with 'a' to this length
 *   value = wave            ; wave | nan | inf | -inf | index | huge
 *   no_id = no              ; yes: no id label (labels = 0: empty set) */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/pvm.h>

/* State */

typedef enum bench_value {
    BENCH_WAVE,    /* a sine over 60 s, different per series */
    BENCH_NAN,     /* NaN */
    BENCH_POS_INF, /* +Inf */
    BENCH_NEG_INF, /* -Inf */
    BENCH_INDEX,   /* the series index */
    BENCH_HUGE,    /* DBL_MAX and friends: 1.7976931348623157e308 */
} bench_value;

typedef struct bench_state {
    char *metric;      /* metric name */
    size_t series;     /* number of series */
    size_t labels;     /* extra labels per series */
    size_t value_len;  /* pad label values to this many bytes */
    bench_value value; /* value kind */
    bool no_id;        /* leave out the id label */
    pvm_label *set;    /* label set scratch (id + extra), startup */
    char **names;      /* l0..lN-1 */
    char *pad;         /* value_len 'a's (NUL-terminated) */
} bench_state;

/* Config */

static int bench_count(const char *value, size_t max, size_t *out,
                       pvm_error *err)
{
    char *end;
    unsigned long long v = strtoull(value, &end, 10);
    if (!*value || *end || v > max || value[0] == '-')
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "must be an integer from 0 to %zu", max);
    *out = (size_t)v;
    return 0;
}

/* [plugin:NAME] keys: metric, series, labels, value_len, value, no_id */
static int bench_configure(pvm_plugin *self, const char *key,
                           const char *value, pvm_error *err)
{
    bench_state *st = pvm_plugin_state(self);
    if (strcmp(key, "metric") == 0) {
        free(st->metric);
        st->metric = strdup(value);
        return st->metric
                   ? 0
                   : pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    }
    if (strcmp(key, "series") == 0)
        return bench_count(value, 10000000, &st->series, err);
    if (strcmp(key, "labels") == 0)
        return bench_count(value, 100000, &st->labels, err);
    if (strcmp(key, "value_len") == 0)
        return bench_count(value, 16u << 20, &st->value_len, err);
    if (strcmp(key, "no_id") == 0) {
        st->no_id = strcmp(value, "yes") == 0;
        return 0;
    }
    if (strcmp(key, "value") == 0) {
        static const char *const kinds[] = {"wave", "nan",   "inf",
                                            "-inf", "index", "huge"};
        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
            if (strcmp(value, kinds[i]) == 0) {
                st->value = (bench_value)i;
                return 0;
            }
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "must be wave, nan, inf, -inf, index or huge");
    }
    return pvm_error_set(err, PVM_ERR_BAD_DATA,
                         "unknown key (bench knows metric, series, labels, "
                         "value_len, value, no_id)");
}

static int bench_check(pvm_plugin *self, pvm_error *err)
{
    bench_state *st = pvm_plugin_state(self);
    if (!st->metric && !(st->metric = strdup("bench_metric")))
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    if (!st->series)
        st->series = 1000;
    st->set = calloc(st->labels + 1, sizeof(*st->set));
    st->names = calloc(st->labels + 1, sizeof(*st->names));
    st->pad = malloc(st->value_len + 1);
    if (!st->set || !st->names || !st->pad)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    memset(st->pad, 'a', st->value_len);
    st->pad[st->value_len] = '\0';
    for (size_t i = 0; i < st->labels; i++) {
        char n[32];
        snprintf(n, sizeof(n), "l%zu", i);
        if (!(st->names[i] = strdup(n)))
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    }
    return 0;
}

static void bench_destroy(pvm_plugin *self)
{
    bench_state *st = pvm_plugin_state(self);
    for (size_t i = 0; st->names && i < st->labels; i++)
        free(st->names[i]);
    free(st->names);
    free(st->set);
    free(st->pad);
    free(st->metric);
}

/* Hooks */

static double bench_sample_value(const bench_state *st, size_t i, int64_t t)
{
    switch (st->value) {
    case BENCH_NAN: return NAN;
    case BENCH_POS_INF: return INFINITY;
    case BENCH_NEG_INF: return -INFINITY;
    case BENCH_INDEX: return (double)i;
    case BENCH_HUGE: return i % 2 ? 1.7976931348623157e308 : 4.9e-324;
    default: return sin((double)(t / 1000 + (int64_t)i) * 2 * M_PI / 60);
    }
}

/* Builds the label values of series i into arena a: the id (the index,
 * padded) and the extra labels (the pad). */
static int bench_labels(const bench_state *st, pvm_arena *a, size_t i,
                        size_t *n)
{
    size_t k = 0;
    if (!st->no_id) {
        char *id = pvm_arena_sprintf(a, "%zu%s", i, st->pad);
        if (!id)
            return PVM_ERR_NOMEM;
        st->set[k].name = "id";
        st->set[k++].value = id;
    }
    for (size_t l = 0; l < st->labels; l++) {
        st->set[k].name = st->names[l];
        st->set[k++].value = st->pad;
    }
    *n = k;
    return 0;
}

static int bench_query(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    const bench_state *st = pvm_plugin_state(self);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    pvm_arena *a = pvm_request_arena(req);
    for (size_t i = 0; i < st->series; i++) {
        size_t n;
        if (bench_labels(st, a, i, &n) < 0)
            return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                          "out of memory");
        pvm_timestamps it = pvm_request_timestamps(req);
        int64_t t;
        while (pvm_timestamps_next(&it, &t)) {
            int rc = pvm_response_add_sample(resp, st->metric,
                                             bench_sample_value(st, i, t), t,
                                             st->set, n);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break; /* the series does not match: skip its points */
        }
    }
    return 0;
}

static int bench_metric_names(pvm_plugin *self, pvm_request *req,
                              pvm_response *resp)
{
    const bench_state *st = pvm_plugin_state(self);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    return pvm_response_add_value(resp, st->metric);
}

static int bench_label_names(pvm_plugin *self, pvm_request *req,
                             pvm_response *resp)
{
    const bench_state *st = pvm_plugin_state(self);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    if (!st->no_id && pvm_response_add_value(resp, "id") < 0)
        return PVM_ERR_NOMEM;
    return pvm_response_add_values(resp, (const char *const *)st->names,
                                   st->labels);
}

static int bench_label_values(pvm_plugin *self, pvm_request *req,
                              pvm_response *resp)
{
    const bench_state *st = pvm_plugin_state(self);
    const char *label = pvm_request_label_name(req);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    if (strcmp(label, "id") == 0 && !st->no_id) {
        pvm_arena *a = pvm_request_arena(req);
        for (size_t i = 0; i < st->series; i++) {
            char *id = pvm_arena_sprintf(a, "%zu%s", i, st->pad);
            int rc = id ? pvm_response_add_value(resp, id) : PVM_ERR_NOMEM;
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    if (strncmp(label, "l", 1) == 0 && st->labels)
        return pvm_response_add_value(resp, st->pad);
    return 0;
}

const pvm_plugin_type pvm_plugin_bench = {
    .name = "bench",
    .description = "N synthetic series (benchmarks and hostile tests)",
    .state_size = sizeof(bench_state),
    .configure = bench_configure, /* metric series labels value_len ... */
    .check = bench_check,         /* defaults, label scratch */
    .destroy = bench_destroy,     /* frees the scratch */
    .on_instant_query_request = bench_query, /* every series at `time` */
    .on_range_query_request = bench_query,   /* every series per step */
    .on_metric_names_request = bench_metric_names,
    .on_label_names_request = bench_label_names,
    .on_label_values_request = bench_label_values,
};
