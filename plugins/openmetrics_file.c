/* openmetrics_file.c: serves the samples of an OpenMetrics (or Prometheus
 * text format) file with explicit timestamps, as `promtool tsdb
 * create-blocks-from openmetrics` reads it. The file is loaded at startup
 * (openmetrics_load.c: 16 bytes a sample, label strings interned) and
 * reloaded when its mtime or size changes, checked at most once a second
 * when a request comes. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <pvm/pvm.h>

#include "openmetrics_load.h"

/* Per-instance state. */
struct openmetrics_file {
    char *path;            /* `path =`, resolved against pvm.ini's
                                 directory (set and freed by the server) */
    int unit_ms;           /* timestamp_unit: 0 s, 1 ms */
    bool reload;           /* `reload =` (default yes) */
    int64_t lookback;      /* ms, [server] lookback_delta */
    pvm_om_data *data;     /* what is served, NULL before startup */
    struct timespec mtime; /* of the file last loaded (or tried) */
    off_t size;            /* idem */
    int64_t last_check;    /* CLOCK_MONOTONIC ms of the last stat */
    int64_t data_mtime;    /* ms since the epoch: mtime of the file as
                              `data` was loaded from it */
};

/* ---- configuration ---------------------------------------------------- */

static const char *const timestamp_units[] = {"s", "ms", NULL};

/* [plugin:NAME] keys (pvm/config.h): all stored by the server. */
static const pvm_plugin_key om_keys[] = {
    {"path", PVM_KEY_PATH, offsetof(struct openmetrics_file, path),
     .required = true, .doc = "the file to serve"},
    {"timestamp_unit", PVM_KEY_ENUM,
     offsetof(struct openmetrics_file, unit_ms), .def = "s",
     .choices = timestamp_units,
     .doc = "unit of the file's timestamps: s (OpenMetrics) or ms "
            "(Prometheus text format)"},
    {"reload", PVM_KEY_BOOL, offsetof(struct openmetrics_file, reload),
     .def = "yes",
     .doc = "reload the file when its mtime or size changes "
            "(checked at most once a second)"},
    {NULL},
};

static void om_destroy(pvm_plugin *self)
{
    struct openmetrics_file *st = pvm_plugin_state(self);
    pvm_om_free(st->data);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t timespec_ms(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

/* Loads the file; errors name the file and line. Runs in the master
 * (on_master_startup), so that the workers share the data copy-on-write
 * until one of them reloads; on_startup loads only when the master did
 * not (the test kit, or a plugin started without a master). */
static int om_load_first(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct openmetrics_file *st = pvm_plugin_state(self);
    st->lookback = pvm_context_lookback_ms(ctx);
    int64_t t0 = monotonic_ms();
    pvm_om_data *d = pvm_om_load(st->path, st->unit_ms, &st->mtime, &st->size,
                                 err);
    if (!d)
        return err->code ? err->code : PVM_ERR_BAD_DATA;
    pvm_om_free(st->data);
    st->data = d;
    st->data_mtime = timespec_ms(&st->mtime);
    st->last_check = monotonic_ms();
    pvm_plugin_log(self, PVM_LOG_INFO,
                   "%s: %zu series, %zu samples in "
                   "%lld ms",
                   st->path, d->nseries, d->nsamples,
                   (long long)(st->last_check - t0));
    return 0;
}

static int om_master_startup(pvm_plugin *self, pvm_context *ctx,
                             pvm_error *err)
{
    return om_load_first(self, ctx, err);
}

static int om_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    const struct openmetrics_file *st = pvm_plugin_state(self);
    return st->data ? 0 : om_load_first(self, ctx, err);
}

/* --check-config: loads the file read-only as the start would (so that
 * a missing file or a syntax error is reported with its line), then
 * frees it; the state is left as configured. */
static int om_validate(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    const struct openmetrics_file *st = pvm_plugin_state(self);
    struct timespec mtime;
    off_t size;
    (void)ctx;
    pvm_om_data *d = pvm_om_load(st->path, st->unit_ms, &mtime, &size, err);
    if (!d)
        return err->code ? err->code : PVM_ERR_BAD_DATA;
    pvm_om_free(d);
    return 0;
}

/* At most once a second: reloads the file if its mtime or size changed.
 * On an error the old data stays and the error is logged once. */
static void maybe_reload(pvm_plugin *self)
{
    struct openmetrics_file *st = pvm_plugin_state(self);
    int64_t now = monotonic_ms();
    if (!st->reload || now - st->last_check < 1000)
        return;
    st->last_check = now;
    struct stat sb;
    if (stat(st->path, &sb) < 0) {
        if (st->size != -1)
            pvm_plugin_log(self, PVM_LOG_ERROR,
                           "%s: %s (serving the data "
                           "loaded before)",
                           st->path, strerror(errno));
        st->size = -1;
        return;
    }
    if (sb.st_size == st->size && sb.st_mtim.tv_sec == st->mtime.tv_sec &&
        sb.st_mtim.tv_nsec == st->mtime.tv_nsec)
        return;
    pvm_error err = {0};
    pvm_om_data *d = pvm_om_load(st->path, st->unit_ms, &st->mtime, &st->size,
                                 &err);
    if (!d) {
        pvm_plugin_log(self, PVM_LOG_ERROR,
                       "reload failed, serving the "
                       "data loaded before: %s",
                       err.msg);
        return;
    }
    pvm_om_free(st->data);
    st->data = d;
    st->data_mtime = timespec_ms(&st->mtime);
    pvm_plugin_log(self, PVM_LOG_INFO,
                   "%s reloaded: %zu series, %zu "
                   "samples",
                   st->path, d->nseries, d->nsamples);
}

/* ---- hooks ------------------------------------------------------------ */

/* A file of samples is appended to: what it holds for times before its
 * modification time (when the data served was loaded) will not change
 * (pvm_response_set_immutable_before). */
static void declare_immutable(const struct openmetrics_file *st,
                              pvm_response *resp)
{
    pvm_response_set_immutable_before(resp, st->data_mtime);
}

/* First index with ts >= t. */
static size_t lower_bound(const pvm_om_series *s, int64_t t)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ts[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool has_samples_in(const pvm_om_series *s, int64_t start, int64_t end)
{
    size_t i = lower_bound(s, start);
    return i < s->n && s->ts[i] <= end;
}

/* ---- selection: the series matching a request's selectors ----------- */

/* A selector with an equality __name__ matcher, keyed by that name. */
struct named_sel {
    const char *name;        /* the metric name it asks for */
    const pvm_selector *sel; /* the whole selector, still checked */
};

/* Walks the series that match a query, in file order. Selectors with a
 * metric name look up only that name's series in the name index; only
 * selectors without one (`{job="x"}`, `{__name__=~"a.*"}`) scan every
 * series. So n selectors cost O(their series), not O(series x n). */
struct om_iter {
    const pvm_om_data *d;         /* NULL: nothing */
    bool all;                     /* empty query: every series matches */
    bool scan;                    /* visit every series (else idx) */
    const uint32_t *idx;          /* candidates in file order (!scan) */
    size_t nidx;                  /* number of candidates */
    size_t pos;                   /* next series or candidate */
    const pvm_selector **unnamed; /* selectors without a name */
    size_t nunnamed;              /* number of them */
    struct named_sel *named;      /* the others, sorted by name */
    size_t nnamed;                /* number of them */
    const char *last_name;        /* cache: name of the last series seen */
    size_t lo, hi;                /* ... and its range in named */
};

/* The value of sel's first `__name__="..."` matcher, or NULL. */
static const char *selector_metric_name(const pvm_selector *sel)
{
    for (size_t i = 0; i < pvm_selector_matcher_count(sel); i++) {
        const char *name, *value;
        pvm_match_op op;
        pvm_selector_matcher(sel, i, &name, &op, &value);
        if (op == PVM_MATCH_EQUAL && strcmp(name, "__name__") == 0)
            return value;
    }
    return NULL;
}

static int cmp_named(const void *a, const void *b)
{
    return strcmp(((const struct named_sel *)a)->name,
                  ((const struct named_sel *)b)->name);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Sets [it->lo, it->hi) to the named selectors asking for name. */
static void named_range(struct om_iter *it, const char *name)
{
    if (name == it->last_name)
        return;
    size_t lo = 0, hi = it->nnamed;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(it->named[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (hi = lo; hi < it->nnamed && strcmp(it->named[hi].name, name) == 0;)
        hi++;
    it->last_name = name;
    it->lo = lo;
    it->hi = hi;
}

static bool iter_matches(struct om_iter *it, const pvm_om_series *s)
{
    if (it->all)
        return true;
    for (size_t i = 0; i < it->nunnamed; i++)
        if (pvm_selector_matches(it->unnamed[i], s->name, s->labels,
                                 s->nlabels))
            return true;
    named_range(it, s->name);
    for (size_t i = it->lo; i < it->hi; i++)
        if (pvm_selector_matches(it->named[i].sel, s->name, s->labels,
                                 s->nlabels))
            return true;
    return false;
}

/* Candidates when every selector has a name: the union of the names'
 * series (disjoint), in file order. */
static int iter_candidates(struct om_iter *it, pvm_arena *a)
{
    size_t total = 0, groups = 0;
    const uint32_t *idx;
    for (size_t i = 0; i < it->nnamed; i++) {
        if (i && strcmp(it->named[i].name, it->named[i - 1].name) == 0)
            continue;
        size_t n = pvm_om_series_named(it->d, it->named[i].name, &idx);
        if (n) {
            total += n;
            groups++;
            it->idx = idx;
        }
    }
    it->nidx = total;
    if (groups <= 1) /* one group is in file order already */
        return 0;
    uint32_t *all = pvm_arena_alloc(a, total * sizeof(*all));
    if (!all)
        return PVM_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < it->nnamed; i++) {
        if (i && strcmp(it->named[i].name, it->named[i - 1].name) == 0)
            continue;
        size_t n = pvm_om_series_named(it->d, it->named[i].name, &idx);
        if (n)
            memcpy(all + k, idx, n * sizeof(*all));
        k += n;
    }
    qsort(all, total, sizeof(*all), cmp_u32);
    it->idx = all;
    return 0;
}

/* Prepares the walk over d's series that match q. 0, or PVM_ERR_NOMEM. */
static int iter_init(struct om_iter *it, const pvm_om_data *d,
                     const pvm_query *q, pvm_arena *a)
{
    *it = (struct om_iter){.d = d};
    if (!d)
        return 0;
    if (pvm_query_is_empty(q)) {
        it->all = it->scan = true;
        return 0;
    }
    size_t n = pvm_query_selector_count(q);
    it->unnamed = pvm_arena_alloc(a, (n ? n : 1) * sizeof(*it->unnamed));
    it->named = pvm_arena_alloc(a, (n ? n : 1) * sizeof(*it->named));
    if (!it->unnamed || !it->named)
        return PVM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const pvm_selector *sel = pvm_query_selector(q, i);
        const char *name = selector_metric_name(sel);
        if (name)
            it->named[it->nnamed++] = (struct named_sel){name, sel};
        else
            it->unnamed[it->nunnamed++] = sel;
    }
    qsort(it->named, it->nnamed, sizeof(*it->named), cmp_named);
    if (it->nunnamed) {
        it->scan = true;
        return 0;
    }
    return iter_candidates(it, a);
}

/* The next matching series, or NULL at the end. */
static const pvm_om_series *iter_next(struct om_iter *it)
{
    if (!it->d)
        return NULL;
    size_t end = it->scan ? it->d->nseries : it->nidx;
    while (it->pos < end) {
        size_t k = it->scan ? it->pos : it->idx[it->pos];
        it->pos++;
        const pvm_om_series *s = &it->d->series[k];
        if (iter_matches(it, s))
            return s;
    }
    return NULL;
}

static int iter_nomem(pvm_response *resp)
{
    return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                  "out of request memory");
}

/* GET|POST /api/v1/query_range: the raw samples from start to end, each
 * at its own timestamp (not resampled to the step); the server's engine
 * asks for a window that covers everything it needs. */
static int om_range(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    maybe_reload(self);
    const struct openmetrics_file *st = pvm_plugin_state(self);
    declare_immutable(st, resp);
    const pvm_query *q = pvm_request_query(req);
    int64_t start = pvm_request_start(req), end = pvm_request_end(req);
    struct om_iter it;
    if (iter_init(&it, st->data, q, pvm_request_arena(req)) < 0)
        return iter_nomem(resp);
    for (const pvm_om_series *s; (s = iter_next(&it));) {
        size_t lo = lower_bound(s, start);
        size_t hi = end == INT64_MAX ? s->n : lower_bound(s, end + 1);
        if (hi <= lo)
            continue;
        /* the whole slice at once: no per-sample lookup */
        pvm_series_ref *ref;
        int rc = pvm_response_find_series(resp, s->name, s->labels, s->nlabels,
                                          PVM_SAMPLE_SKIP_QUERY_CHECK, &ref);
        if (rc >= 0)
            rc = pvm_response_add_points(resp, ref, s->ts + lo, s->v + lo,
                                         hi - lo);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* GET|POST /api/v1/query: per series the latest sample in
 * (time - lookback_delta, time] (the window of Prometheus 3 and of the
 * server's engine), at its own timestamp: the engine answers at the
 * evaluation time, and timestamp(x) gives the sample's time. */
static int om_instant(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    maybe_reload(self);
    const struct openmetrics_file *st = pvm_plugin_state(self);
    declare_immutable(st, resp);
    const pvm_query *q = pvm_request_query(req);
    int64_t t = pvm_request_time(req);
    struct om_iter it;
    if (iter_init(&it, st->data, q, pvm_request_arena(req)) < 0)
        return iter_nomem(resp);
    for (const pvm_om_series *s; (s = iter_next(&it));) {
        size_t i = lower_bound(s, t == INT64_MAX ? t : t + 1);
        if (i == 0 || s->ts[i - 1] <= t - st->lookback)
            continue;
        pvm_sample smp = {.name = s->name,
                          .labels = s->labels,
                          .nlabels = s->nlabels,
                          .timestamp = s->ts[i - 1],
                          .value = s->v[i - 1]};
        int rc = pvm_response_add_sample_ex(resp, &smp,
                                            PVM_SAMPLE_SKIP_QUERY_CHECK);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The strings already answered in this request. They are interned by
 * the loader: one pointer per distinct string, so identity is equality. */
struct strset {
    pvm_hashmap map; /* keys: the interned strings (slots NULL until used) */
};

static bool same_string(const void *stored, const void *probe)
{
    return stored == probe;
}

/* Adds s: 1 when new, 0 when there already, negative when out of memory. */
static int strset_add(struct strset *set, pvm_arena *a, const char *s)
{
    if (!set->map.slots && pvm_hashmap_init(&set->map, a, 64) < 0)
        return PVM_ERR_NOMEM;
    bool added;
    uint64_t h = (uint64_t)((uintptr_t)s >> 3) * 0x9E3779B97F4A7C15ull;
    if (!pvm_hashmap_put_hashed(&set->map, h ^ (h >> 32), s, same_string,
                                &added))
        return PVM_ERR_NOMEM;
    return added;
}

/* Adds s to the response once per request. */
static int add_once(struct strset *set, pvm_request *req, pvm_response *resp,
                    const char *s)
{
    int rc = strset_add(set, pvm_request_arena(req), s);
    if (rc < 0)
        return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                      "out of request memory");
    return rc ? pvm_response_add_value(resp, s) : 0;
}

/* The discovery hooks share one walk over the series that match the
 * request's selectors and have samples in [start, end]. */
typedef int (*visit_fn)(const pvm_om_series *s, struct strset *set,
                        pvm_request *req, pvm_response *resp);

static int walk(pvm_plugin *self, pvm_request *req, pvm_response *resp,
                visit_fn visit)
{
    maybe_reload(self);
    const struct openmetrics_file *st = pvm_plugin_state(self);
    declare_immutable(st, resp);
    const pvm_query *q = pvm_request_query(req);
    int64_t start = pvm_request_start(req), end = pvm_request_end(req);
    struct strset set = {0};
    struct om_iter it;
    if (iter_init(&it, st->data, q, pvm_request_arena(req)) < 0)
        return iter_nomem(resp);
    for (const pvm_om_series *s; (s = iter_next(&it));) {
        if (!has_samples_in(s, start, end))
            continue;
        int rc = visit(s, &set, req, resp);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int visit_metric_name(const pvm_om_series *s, struct strset *set,
                             pvm_request *req, pvm_response *resp)
{
    if (pvm_response_get_type(resp) != PVM_RESPONSE_SERIES)
        return add_once(set, req, resp, s->name);
    /* /api/v1/series: the whole label set */
    pvm_label all[PVM_OM_MAX_LABELS + 1];
    all[0] = (pvm_label){"__name__", s->name};
    if (s->nlabels) /* a series without labels has labels == NULL */
        memcpy(all + 1, s->labels, s->nlabels * sizeof(*all));
    return pvm_response_add_series(resp, all, s->nlabels + 1);
}

static int visit_label_names(const pvm_om_series *s, struct strset *set,
                             pvm_request *req, pvm_response *resp)
{
    static const char *const name_label = "__name__";
    int rc = add_once(set, req, resp, name_label);
    for (size_t i = 0; rc >= 0 && i < s->nlabels; i++)
        rc = add_once(set, req, resp, s->labels[i].name);
    return rc;
}

static int visit_label_values(const pvm_om_series *s, struct strset *set,
                              pvm_request *req, pvm_response *resp)
{
    const char *name = pvm_request_label_name(req);
    for (size_t i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i].name, name) == 0)
            return add_once(set, req, resp, s->labels[i].value);
    return 0;
}

/* /api/v1/label/__name__/values and /api/v1/series */
static int om_metric_names(pvm_plugin *self, pvm_request *req,
                           pvm_response *resp)
{
    return walk(self, req, resp, visit_metric_name);
}

/* /api/v1/labels */
static int om_label_names(pvm_plugin *self, pvm_request *req,
                          pvm_response *resp)
{
    return walk(self, req, resp, visit_label_names);
}

/* /api/v1/label/<name>/values */
static int om_label_values(pvm_plugin *self, pvm_request *req,
                           pvm_response *resp)
{
    return walk(self, req, resp, visit_label_values);
}

/* /api/v1/metadata and /federate: the # HELP, # TYPE and # UNIT lines of
 * the file, per family. */
static int om_metadata(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)req;
    maybe_reload(self);
    const struct openmetrics_file *st = pvm_plugin_state(self);
    for (size_t i = 0; st->data && i < st->data->nmeta; i++) {
        const pvm_om_meta *m = &st->data->meta[i];
        pvm_metric_metadata md = {m->name, m->type, m->help, m->unit};
        int rc = pvm_response_add_metadata(resp, &md);
        if (rc < 0)
            return rc;
    }
    return 0;
}

const pvm_plugin_type pvm_plugin_openmetrics_file = {
    .name = "openmetrics_file", /* `type = ...` */
    .description = "serves the samples of an OpenMetrics text file with "
                   "timestamps, reloaded when it changes",
    .state_size = sizeof(struct openmetrics_file), /* zeroed per instance */
    .destroy = om_destroy,                         /* frees the data */
    .on_startup = om_startup, /* loads it unless the master did */
    .on_shutdown = NULL,      /* nothing to stop */
    .on_instant_query_request = om_instant,     /* latest within lookback */
    .on_range_query_request = om_range,         /* raw samples in window */
    .on_metric_names_request = om_metric_names, /* names or label sets */
    .on_label_names_request = om_label_names,
    .on_label_values_request = om_label_values,
    .on_master_startup = om_master_startup, /* loads the file (errors:
                                               file:line), shared by the
                                               workers copy-on-write */
    .on_metadata_request = om_metadata,     /* # HELP/# TYPE/# UNIT lines */
    .validate = om_validate,                /* --check-config: loads it once */
    .keys = om_keys,                        /* path, timestamp_unit, reload */
};
