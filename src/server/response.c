/* response.c: what plugins add to a response (see pvm/response.h), and
 * the bookkeeping of failures. Output is in output.c. */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/plugin.h>

#include "labels.h"
#include "query_impl.h"
#include "response_impl.h"

int pvm_strlist_add(pvm_arena *a, pvm_strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        const char **v = pvm_arena_realloc(a, l->v, l->cap * sizeof(*v),
                                           cap * sizeof(*v));
        if (!v)
            return PVM_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void pvm_strlist_sort_unique(pvm_strlist *l)
{
    if (l->n < 2)
        return;
    qsort(l->v, l->n, sizeof(*l->v), cmp_str);
    size_t k = 1;
    for (size_t i = 1; i < l->n; i++)
        if (strcmp(l->v[i], l->v[k - 1]) != 0)
            l->v[k++] = l->v[i];
    l->n = k;
}

pvm_response *pvm_response_new(pvm_request *req, pvm_response_type type,
                               size_t max_samples)
{
    pvm_response *r = pvm_arena_calloc(req->arena, 1, sizeof(*r));
    if (!r)
        return NULL;
    r->type = type;
    r->req = req;
    r->arena = req->arena;
    r->max_samples = max_samples;
    if (pvm_series_set_init(&r->series, r->arena) < 0)
        return NULL;
    return r;
}

int pvm_response_set_immutable_before(pvm_response *r, int64_t ts_ms)
{
    if (!r->immutable_set || ts_ms < r->immutable_before)
        r->immutable_before = ts_ms;
    r->immutable_set = true;
    return 0;
}

pvm_response_type pvm_response_get_type(const pvm_response *r)
{
    return r->type;
}

const pvm_request *pvm_response_request(const pvm_response *r)
{
    return r->req;
}

size_t pvm_response_result_count(const pvm_response *r)
{
    return r->nresults;
}

bool pvm_response_has_error(const pvm_response *r)
{
    return r->error_code != 0;
}

/* Sets the response's error unless one is set already. */
static int set_error_str(pvm_response *r, int code, const char *msg)
{
    if (r->error_code)
        return r->error_code;
    r->error_code = code;
    r->error_msg = msg ? msg : "out of memory";
    return code;
}

static int nomem(pvm_response *r)
{
    return set_error_str(r, PVM_ERR_NOMEM, PVM_MSG_TOO_MUCH_MEMORY);
}

int pvm_response_set_error(pvm_response *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = pvm_arena_vsprintf(r->arena, fmt, ap);
    va_end(ap);
    if (code >= 0)
        code = PVM_ERR_INTERNAL;
    return set_error_str(r, code, msg);
}

int pvm_response_fail(pvm_response *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = pvm_arena_vsprintf(r->arena, fmt, ap);
    va_end(ap);
    r->fail_msg = msg ? msg : "out of memory";
    return PVM_ERR_PLUGIN;
}

const char *pvm_response_take_failure(pvm_response *r)
{
    const char *msg = r->fail_msg;
    r->immutable_tainted = true; /* what failed may be missing */
    if (r->error_code) {
        msg = r->error_msg;
        r->error_code = 0;
        r->error_msg = NULL;
    }
    r->fail_msg = NULL;
    return msg;
}

int pvm_response_note_failure(pvm_response *r, const pvm_plugin *p, pvm_hook h,
                              int rc)
{
    r->failed_plugin = p; /* as data, for /metrics (pvm_answer.failed) */
    if (r->error_code)
        return r->error_code;
    const char *why = r->fail_msg ? r->fail_msg : "hook returned an error";
    char *msg = pvm_arena_sprintf(r->arena, "plugin %s: %s failed: %s",
                                  pvm_plugin_name(p), pvm_hook_name(h), why);
    r->fail_msg = NULL;
    return set_error_str(r,
                         rc == PVM_ERR_NOMEM ? PVM_ERR_NOMEM : PVM_ERR_PLUGIN,
                         msg);
}

int pvm_response_finish(pvm_response *r)
{
    if (r->error_code)
        return r->error_code;
    long dropped = pvm_series_set_finish(&r->series);
    if (dropped < 0)
        return nomem(r);
    if (dropped > 0)
        pvm_response_add_warning(r,
                                 "%ld duplicate samples (same series "
                                 "and timestamp) were dropped; the last "
                                 "one added was kept",
                                 dropped);
    return 0;
}

int pvm_response_add_header(pvm_response *r, const char *name,
                            const char *value)
{
    /* doubling (room for the next power of two, at least 4), not exact
     * fit: the arena keeps every old copy */
    pvm_kv *h = r->headers;
    size_t n = r->nheaders;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        h = pvm_arena_realloc(r->arena, h, n * sizeof(*h),
                              (n ? 2 * n : 4) * sizeof(*h));
        if (!h)
            return nomem(r);
        r->headers = h;
    }
    h[r->nheaders].key = pvm_arena_strdup(r->arena, name);
    h[r->nheaders].value = pvm_arena_strdup(r->arena, value);
    if (!h[r->nheaders].key || !h[r->nheaders].value)
        return nomem(r);
    r->headers = h;
    r->nheaders++;
    return 0;
}

static int add_annotation(pvm_response *r, pvm_strlist *l, const char *fmt,
                          va_list ap) PVM_PRINTF(3, 0);
static int add_annotation(pvm_response *r, pvm_strlist *l, const char *fmt,
                          va_list ap)
{
    char *msg = pvm_arena_vsprintf(r->arena, fmt, ap);
    if (!msg || pvm_strlist_add(r->arena, l, msg) < 0)
        return nomem(r);
    return 0;
}

int pvm_response_add_info(pvm_response *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = add_annotation(r, &r->infos, fmt, ap);
    va_end(ap);
    return rc;
}

int pvm_response_add_warning(pvm_response *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = add_annotation(r, &r->warnings, fmt, ap);
    va_end(ap);
    return rc;
}

static int wrong_type(pvm_response *r, const char *what)
{
    return pvm_response_fail(r,
                             "%s is not available in this response "
                             "(it answers a different endpoint)",
                             what);
}

/* Finds or creates the series of a normalized label set. */
static pvm_series *series_for(pvm_response *r, const char *name,
                              const pvm_label *labels, size_t n)
{
    pvm_label sorted[PVM_MAX_LABELS + 1];
    size_t ns;
    pvm_error err;
    if (pvm_labels_normalize(name, labels, n, sorted, &ns, &err) < 0) {
        pvm_response_fail(r, "invalid sample of \"%s\": %s", name, err.msg);
        return NULL;
    }
    pvm_series *ser = pvm_series_set_get(&r->series, sorted, ns,
                                         pvm_labels_hash(sorted, ns));
    if (!ser)
        nomem(r);
    return ser;
}

/* ---- keys: label arrays as plugins pass them ---------------------------- */

/* Keys that do not match the query are remembered up to this many; past
 * it, such samples are checked one by one (a plugin offering millions of
 * series to a selector that wants few must not fill the arena). */
#define MAX_REJECTED_KEYS 4096

/* A label value as keys see it: NULL is "" (as pvm_labels_normalize
 * treats it: no label). */
static const char *value_of(const pvm_label *l)
{
    return l->value ? l->value : "";
}

/* True when key k holds exactly this name and label array. */
static bool key_is(const pvm_series_ref *k, const char *name,
                   const pvm_label *l, size_t n)
{
    if (k->nlabels != n || strcmp(k->name, name) != 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!l[i].name || strcmp(k->labels[i].name, l[i].name) != 0 ||
            strcmp(k->labels[i].value, value_of(&l[i])) != 0)
            return false;
    return true;
}

/* One FNV-1a step over a string and a separator. */
static uint64_t fnv_str(uint64_t h, const char *s, unsigned char sep)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (h ^ sep) * 1099511628211ull;
}

/* Hash of name and the labels in the caller's order. */
static uint64_t key_hash(const char *name, const pvm_label *l, size_t n)
{
    uint64_t h = fnv_str(1469598103934665603ull, name, 0xfd);
    for (size_t i = 0; i < n; i++)
        h = fnv_str(fnv_str(h, l[i].name, 0xff), value_of(&l[i]), 0xfe);
    return h;
}

/* True when the labels can make a key: every name set and not too many
 * (else the sample takes the uncached path, which reports the error). */
static bool labels_are_keyable(const pvm_label *l, size_t n)
{
    if (n > PVM_MAX_LABELS)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!l[i].name)
            return false;
    return true;
}

/* The key the previous sample predicts (the key that followed it last
 * time, or itself), if it equals (name, labels); else NULL. */
static pvm_series_ref *key_predict(const pvm_key_table *t, const char *name,
                                   const pvm_label *l, size_t n)
{
    pvm_series_ref *prev = t->last;
    if (!prev)
        return NULL;
    if (prev->follow && key_is(prev->follow, name, l, n))
        return prev->follow;
    return key_is(prev, name, l, n) ? prev : NULL;
}

static pvm_series_ref *key_find(const pvm_key_table *t, uint64_t h,
                                const char *name, const pvm_label *l, size_t n)
{
    if (!t->nbuckets)
        return NULL;
    for (pvm_series_ref *k = t->buckets[h & (t->nbuckets - 1)]; k; k = k->next)
        if (k->hash == h && key_is(k, name, l, n))
            return k;
    return NULL;
}

/* Doubles the bucket array (or creates it). */
static int key_table_grow(pvm_arena *a, pvm_key_table *t)
{
    size_t nb = t->nbuckets ? t->nbuckets * 2 : 64;
    pvm_series_ref **b = pvm_arena_calloc(a, nb, sizeof(*b));
    if (!b)
        return PVM_ERR_NOMEM;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (pvm_series_ref *k = t->buckets[i], *next; k; k = next) {
            next = k->next;
            k->next = b[k->hash & (nb - 1)];
            b[k->hash & (nb - 1)] = k;
        }
    t->buckets = b;
    t->nbuckets = nb;
    return 0;
}

/* A new key (copies of name and labels) with query result m. NULL when out
 * of memory. */
static pvm_series_ref *key_new(pvm_response *r, uint64_t h, const char *name,
                               const pvm_label *l, size_t n, int m)
{
    pvm_key_table *t = &r->keys;
    if (t->n + 1 > t->nbuckets && key_table_grow(r->arena, t) < 0)
        return NULL;
    pvm_series_ref *k = pvm_arena_calloc(r->arena, 1, sizeof(*k));
    if (!k)
        return NULL;
    k->owner = r;
    k->name = pvm_arena_strdup(r->arena, name);
    k->labels = pvm_arena_alloc(r->arena, (n ? n : 1) * sizeof(*k->labels));
    if (!k->name || !k->labels)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        k->labels[i].name = pvm_arena_strdup(r->arena, l[i].name);
        k->labels[i].value = pvm_arena_strdup(r->arena, value_of(&l[i]));
        if (!k->labels[i].name || !k->labels[i].value)
            return NULL;
    }
    k->nlabels = n;
    k->hash = h;
    k->match = m;
    size_t b = h & (t->nbuckets - 1);
    k->next = t->buckets[b];
    t->buckets[b] = k;
    t->n++;
    t->nrejected += m == 0;
    return k;
}

/* Matches (name, labels) against the request's query: 1, 0, or the
 * response's error when a regex hit its limit. */
static int query_check(pvm_response *r, const char *name, const pvm_label *l,
                       size_t n)
{
    int m = pvm_query_match(r->req->query, name, l, n);
    if (m < 0)
        return set_error_str(r, PVM_ERR_EXECUTION,
                             "regular expression match limit exceeded "
                             "while matching a sample");
    return m;
}

/* Finds the key of (name, labels) (k: the predicted key, or NULL to
 * search) and whether its samples are kept; the labels must be keyable.
 * Returns 1 with *out set when they are (the key's series may still have
 * to be created, see key_series), 0 when the query does not match (*out
 * may be NULL then: a rejected label array not remembered), negative on
 * error. flags: PVM_SAMPLE_*. */
static int key_lookup(pvm_response *r, pvm_series_ref *k, const char *name,
                      const pvm_label *l, size_t n, unsigned flags,
                      pvm_series_ref **out)
{
    pvm_key_table *t = &r->keys;
    bool check = !(flags & PVM_SAMPLE_SKIP_QUERY_CHECK);
    if (!k) {
        uint64_t h = key_hash(name, l, n);
        k = key_find(t, h, name, l, n);
        if (!k) {
            int m = check ? query_check(r, name, l, n) : -1;
            if (m < 0 && check)
                return m;
            if (m == 0 && t->nrejected >= MAX_REJECTED_KEYS) {
                *out = NULL;
                return 0;
            }
            k = key_new(r, h, name, l, n, m);
            if (!k)
                return nomem(r);
        }
    }
    if (t->last)
        t->last->follow = k;
    t->last = k;
    *out = k;
    if (check && k->match < 0) {
        k->match = query_check(r, name, l, n);
        if (k->match < 0)
            return k->match;
    }
    return !check || k->match == 1;
}

/* The series of key k, created on first use from the key's copies (the
 * series shares their strings). NULL when the labels are invalid or out
 * of memory (the response is failed then). */
static pvm_series *key_series(pvm_response *r, pvm_series_ref *k)
{
    if (k->series)
        return k->series;
    pvm_label sorted[PVM_MAX_LABELS + 1];
    size_t ns;
    pvm_error err;
    if (pvm_labels_normalize(k->name, k->labels, k->nlabels, sorted, &ns,
                             &err) < 0) {
        pvm_response_fail(r, "invalid sample of \"%s\": %s", k->name, err.msg);
        return NULL;
    }
    k->series = pvm_series_set_adopt(&r->series, sorted, ns,
                                     pvm_labels_hash(sorted, ns));
    if (!k->series)
        nomem(r);
    return k->series;
}

/* ---- samples -------------------------------------------------------------- */

static int sample_limit(pvm_response *r)
{
    return set_error_str(r, PVM_ERR_EXECUTION,
                         "query processing would load too many samples "
                         "into memory in query execution");
}

/* Appends (t, v) to ser and counts it; 1 or the response's error. */
static int append(pvm_response *r, pvm_series *ser, int64_t t, double v)
{
    if (pvm_series_append(&r->series, ser, t, v) < 0)
        return nomem(r);
    r->nresults++;
    return 1;
}

/* The path of a sample whose labels cannot be a key (a NULL string): the
 * checks in their original order, each reporting its error. */
static int add_uncached(pvm_response *r, const pvm_sample *s, unsigned flags)
{
    if (!(flags & PVM_SAMPLE_SKIP_QUERY_CHECK)) {
        int m = query_check(r, s->name, s->labels, s->nlabels);
        if (m <= 0)
            return m;
    }
    if (r->max_samples && r->nresults >= r->max_samples)
        return sample_limit(r);
    pvm_series *ser = series_for(r, s->name, s->labels, s->nlabels);
    if (!ser)
        return r->error_code ? r->error_code : PVM_ERR_PLUGIN;
    return append(r, ser, s->timestamp,
                  s->value_fn ? s->value_fn(s->value_arg) : s->value);
}

/* Checks common to adding samples and finding series. */
static int check_sample_args(pvm_response *r, const char *name,
                             const pvm_label *labels, size_t n,
                             const char *what)
{
    if (r->type != PVM_RESPONSE_VECTOR && r->type != PVM_RESPONSE_MATRIX)
        return wrong_type(r, what);
    if (!name || (n && !labels))
        return pvm_response_fail(r,
                                 "%s: metric name and labels must not "
                                 "be NULL",
                                 what);
    return 0;
}

int pvm_response_add_sample_ex(pvm_response *r, const pvm_sample *s,
                               unsigned flags)
{
    int rc = check_sample_args(r, s->name, s->labels, s->nlabels,
                               "add_sample");
    if (rc < 0)
        return rc;
    pvm_series_ref *k = key_predict(&r->keys, s->name, s->labels, s->nlabels);
    if (!k && !labels_are_keyable(s->labels, s->nlabels))
        return add_uncached(r, s, flags);
    rc = key_lookup(r, k, s->name, s->labels, s->nlabels, flags, &k);
    if (rc <= 0)
        return rc;
    if (r->max_samples && r->nresults >= r->max_samples)
        return sample_limit(r);
    pvm_series *ser = key_series(r, k);
    if (!ser)
        return r->error_code ? r->error_code : PVM_ERR_PLUGIN;
    return append(r, ser, s->timestamp,
                  s->value_fn ? s->value_fn(s->value_arg) : s->value);
}

int pvm_response_add_sample(pvm_response *r, const char *name, double value,
                            int64_t timestamp, const pvm_label *labels,
                            size_t nlabels)
{
    pvm_sample s = {.name = name,
                    .labels = labels,
                    .nlabels = nlabels,
                    .timestamp = timestamp,
                    .value = value};
    return pvm_response_add_sample_ex(r, &s, 0);
}

int pvm_response_find_series(pvm_response *r, const char *name,
                             const pvm_label *labels, size_t nlabels,
                             unsigned flags, pvm_series_ref **out)
{
    *out = NULL;
    int rc = check_sample_args(r, name, labels, nlabels, "find_series");
    if (rc < 0)
        return rc;
    if (!labels_are_keyable(labels, nlabels)) {
        /* the error these labels give (a NULL name, too many labels) */
        pvm_label sorted[PVM_MAX_LABELS + 1];
        size_t ns;
        pvm_error err;
        if (pvm_labels_normalize(name, labels, nlabels, sorted, &ns, &err) < 0)
            return pvm_response_fail(r, "invalid sample of \"%s\": %s", name,
                                     err.msg);
        return pvm_response_fail(r, "find_series: invalid labels");
    }
    pvm_series_ref *k;
    rc = key_lookup(r, NULL, name, labels, nlabels, flags, &k);
    if (rc <= 0)
        return rc;
    if (!key_series(r, k))
        return r->error_code ? r->error_code : PVM_ERR_PLUGIN;
    *out = k;
    return 1;
}

int pvm_response_add_point(pvm_response *r, pvm_series_ref *s,
                           int64_t timestamp, double value)
{
    if (!s || s->owner != r || !s->series)
        return pvm_response_fail(r, "add_point: not a series found in "
                                    "this response");
    if (r->max_samples && r->nresults >= r->max_samples)
        return sample_limit(r);
    return append(r, s->series, timestamp, value);
}

int pvm_response_add_points(pvm_response *r, pvm_series_ref *s,
                            const int64_t *timestamps, const double *values,
                            size_t n)
{
    if (!s || s->owner != r || !s->series)
        return pvm_response_fail(r, "add_points: not a series found in "
                                    "this response");
    if (n == 0)
        return 0;
    if (r->max_samples &&
        (r->nresults >= r->max_samples || n > r->max_samples - r->nresults))
        return sample_limit(r);
    if (pvm_series_append_many(&r->series, s->series, timestamps, values, n) <
        0)
        return nomem(r);
    r->nresults += n;
    return 1;
}

int pvm_response_add_value(pvm_response *r, const char *value)
{
    if (!value)
        return pvm_response_fail(r, "add_value: value must not be NULL");
    if (r->type == PVM_RESPONSE_SERIES) {
        if (!*value)
            return 0;
        if (!series_for(r, value, NULL, 0))
            return r->error_code ? r->error_code : PVM_ERR_PLUGIN;
    } else if (r->type == PVM_RESPONSE_DATA) {
        char *copy = pvm_arena_strdup(r->arena, value);
        if (!copy || pvm_strlist_add(r->arena, &r->values, copy) < 0)
            return nomem(r);
    } else {
        return wrong_type(r, "add_value");
    }
    r->nresults++;
    return 0;
}

int pvm_response_add_values(pvm_response *r, const char *const *values,
                            size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = pvm_response_add_value(r, values[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int pvm_response_add_series(pvm_response *r, const pvm_label *labels, size_t n)
{
    if (r->type != PVM_RESPONSE_SERIES)
        return wrong_type(r, "add_series");
    const char *name = pvm_labels_get_unsorted(labels, n,
                                               PVM_METRIC_NAME_LABEL);
    pvm_label rest[PVM_MAX_LABELS];
    size_t k = 0;
    for (size_t i = 0; i < n && k < PVM_MAX_LABELS; i++)
        if (strcmp(labels[i].name, PVM_METRIC_NAME_LABEL) != 0)
            rest[k++] = labels[i];
    if (!pvm_query_is_empty(r->req->query)) {
        int m = pvm_query_match(r->req->query, name ? name : "", rest, k);
        if (m <= 0)
            return m;
    }
    if (!series_for(r, name ? name : "", rest, k))
        return r->error_code ? r->error_code : PVM_ERR_PLUGIN;
    r->nresults++;
    return 0;
}

/* Metadata */

static const char *const metric_type_names[] = {
    [PVM_METRIC_UNKNOWN] = "unknown",
    [PVM_METRIC_COUNTER] = "counter",
    [PVM_METRIC_GAUGE] = "gauge",
    [PVM_METRIC_HISTOGRAM] = "histogram",
    [PVM_METRIC_SUMMARY] = "summary",
    [PVM_METRIC_GAUGEHISTOGRAM] = "gaugehistogram",
    [PVM_METRIC_INFO] = "info",
    [PVM_METRIC_STATESET] = "stateset",
};

#define NMETRIC_TYPES                                                         \
    (sizeof(metric_type_names) / sizeof(metric_type_names[0]))

const char *pvm_metric_type_name(pvm_metric_type type)
{
    return (unsigned)type < NMETRIC_TYPES ? metric_type_names[type]
                                          : "unknown";
}

int pvm_metric_type_parse(const char *s, pvm_metric_type *out)
{
    if (!s)
        return PVM_ERR_BAD_DATA;
    if (strcmp(s, "untyped") == 0) {
        *out = PVM_METRIC_UNKNOWN;
        return 0;
    }
    for (size_t i = 0; i < NMETRIC_TYPES; i++)
        if (strcmp(s, metric_type_names[i]) == 0) {
            *out = (pvm_metric_type)i;
            return 0;
        }
    return PVM_ERR_BAD_DATA;
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

int pvm_response_add_metadata(pvm_response *r, const pvm_metric_metadata *m)
{
    if (r->type != PVM_RESPONSE_METADATA)
        return wrong_type(r, "add_metadata");
    if (!m || !m->name || !*m->name)
        return pvm_response_set_error(r, PVM_ERR_BAD_DATA,
                                      "add_metadata: the metric name must "
                                      "not be empty");
    if (!pvm_query_name_matches(r->req->query, m->name))
        return 0;
    pvm_metric_type type = (unsigned)m->type < NMETRIC_TYPES
                               ? m->type
                               : PVM_METRIC_UNKNOWN;
    for (size_t i = 0; i < r->nmeta; i++) {
        const pvm_metric_metadata *o = &r->meta[i];
        if (strcmp(o->name, m->name) == 0 && o->type == type &&
            str_eq(o->help, m->help) && str_eq(o->unit, m->unit))
            return 0;
    }
    if (r->nmeta == r->metacap) {
        size_t cap = r->metacap ? r->metacap * 2 : 16;
        pvm_metric_metadata *v = pvm_arena_realloc(r->arena, r->meta,
                                                   r->metacap * sizeof(*v),
                                                   cap * sizeof(*v));
        if (!v)
            return nomem(r);
        r->meta = v;
        r->metacap = cap;
    }
    pvm_metric_metadata *e = &r->meta[r->nmeta];
    e->name = pvm_arena_strdup(r->arena, m->name);
    e->help = pvm_arena_strdup(r->arena, m->help ? m->help : "");
    e->unit = pvm_arena_strdup(r->arena, m->unit ? m->unit : "");
    e->type = type;
    if (!e->name || !e->help || !e->unit)
        return nomem(r);
    r->nmeta++;
    r->nresults++;
    return 1;
}
