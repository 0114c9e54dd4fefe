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
    return set_error_str(r, PVM_ERR_NOMEM,
                         "query processing would use too much memory "
                         "(see [server] max_request_memory)");
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
    if (r->error_code) {
        msg = r->error_msg;
        r->error_code = 0;
        r->error_msg = NULL;
    }
    r->fail_msg = NULL;
    return msg;
}

int pvm_response_note_failure(pvm_response *r, const pvm_plugin *p,
                              pvm_hook h, int rc)
{
    if (r->error_code)
        return r->error_code;
    const char *why = r->fail_msg ? r->fail_msg : "hook returned an error";
    char *msg = pvm_arena_sprintf(r->arena, "plugin %s: %s failed: %s",
                                  pvm_plugin_name(p), pvm_hook_name(h), why);
    r->fail_msg = NULL;
    return set_error_str(r, rc == PVM_ERR_NOMEM ? PVM_ERR_NOMEM
                                                : PVM_ERR_PLUGIN, msg);
}

int pvm_response_add_header(pvm_response *r, const char *name,
                            const char *value)
{
    pvm_kv *h = pvm_arena_realloc(r->arena, r->headers,
                                  r->nheaders * sizeof(*h),
                                  (r->nheaders + 1) * sizeof(*h));
    if (!h)
        return nomem(r);
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
    return pvm_response_fail(r, "%s is not available in this response "
                                "(it answers a different endpoint)", what);
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

int pvm_response_add_sample_ex(pvm_response *r, const pvm_sample *s,
                               unsigned flags)
{
    if (r->type != PVM_RESPONSE_VECTOR && r->type != PVM_RESPONSE_MATRIX)
        return wrong_type(r, "add_sample");
    if (!s->name || (s->nlabels && !s->labels))
        return pvm_response_fail(r, "add_sample: metric name and labels "
                                    "must not be NULL");
    if (!(flags & PVM_SAMPLE_SKIP_QUERY_CHECK)) {
        int m = pvm_query_match(r->req->query, s->name, s->labels,
                                s->nlabels);
        if (m < 0)
            return set_error_str(r, PVM_ERR_EXECUTION,
                                 "regular expression match limit exceeded "
                                 "while matching a sample");
        if (m == 0)
            return 0;
    }
    if (r->max_samples && r->nresults >= r->max_samples)
        return set_error_str(r, PVM_ERR_EXECUTION,
                             "query processing would load too many samples "
                             "into memory in query execution");
    pvm_series *ser = series_for(r, s->name, s->labels, s->nlabels);
    if (!ser)
        return r->error_code ? r->error_code : PVM_ERR_PLUGIN;
    double v = s->value_fn ? s->value_fn(s->value_arg) : s->value;
    if (pvm_series_append(&r->series, ser, s->timestamp, v) < 0)
        return nomem(r);
    r->nresults++;
    return 1;
}

int pvm_response_add_sample(pvm_response *r, const char *name, double value,
                            int64_t timestamp, const pvm_label *labels,
                            size_t nlabels)
{
    pvm_sample s = {.name = name, .labels = labels, .nlabels = nlabels,
                    .timestamp = timestamp, .value = value};
    return pvm_response_add_sample_ex(r, &s, 0);
}

int pvm_response_add_sample_lazy(pvm_response *r, const char *name,
                                 double (*value_fn)(void *arg), void *arg,
                                 int64_t timestamp, const pvm_label *labels,
                                 size_t nlabels)
{
    pvm_sample s = {.name = name, .labels = labels, .nlabels = nlabels,
                    .timestamp = timestamp, .value_fn = value_fn,
                    .value_arg = arg};
    return pvm_response_add_sample_ex(r, &s, 0);
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

int pvm_response_add_series(pvm_response *r, const pvm_label *labels,
                            size_t n)
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
