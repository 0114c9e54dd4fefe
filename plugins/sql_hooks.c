/* sql_hooks.c: the request hooks of the SQL core: range queries (rows in
 * the window as samples), instant queries (the latest row per series in
 * the lookback window), discovery (label sets from labels_query or the
 * query) and metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pvm/hashmap.h>

#include "sql_core.h"
#include "sql_run.h"

/* ---- series of a request -------------------------------------------------- */

/* Distinct series (name and label values), in the request's arena. */
struct lset {
    const char *name;  /* metric name */
    const char *key;   /* name and label values, NUL-separated */
    size_t klen;       /* bytes in key */
    pvm_label *labels; /* copies (one spare slot in front for __name__) */
    size_t nlabels;    /* number of labels */
    int64_t t;         /* latest timestamp seen */
    double v;          /* its value */
    struct lset *next; /* the next series first seen after it */
};

struct lmap {
    pvm_hashmap map; /* key -> struct lset (slots NULL until the first) */
    struct lset *first, *last; /* in order of first appearance */
    pvm_arena *a;              /* the request's arena */
    pvm_response *resp;        /* where out-of-memory goes */
    const bool *want;          /* per metric: the query can select it */
};

/* The series (name, r's labels), created (copied) when new; NULL when
 * out of memory. */
static struct lset *lmap_get(struct lmap *m, const char *name,
                             const pvm_sql_row *r)
{
    size_t n = strlen(name) + 1;
    for (size_t i = 0; i < r->nlabels; i++)
        n += strlen(r->labels[i].value) + 1;
    char *key = pvm_arena_alloc(m->a, n);
    if (!key)
        return NULL;
    size_t off = 0;
    memcpy(key, name, strlen(name) + 1);
    off += strlen(name) + 1;
    for (size_t i = 0; i < r->nlabels; i++) {
        size_t l = strlen(r->labels[i].value) + 1;
        memcpy(key + off, r->labels[i].value, l);
        off += l;
    }
    bool added;
    pvm_hashmap_slot *slot = m->map.slots ||
                                     pvm_hashmap_init(&m->map, m->a, 64) == 0
                                 ? pvm_hashmap_put(&m->map, key, n, &added)
                                 : NULL;
    if (!slot)
        return NULL;
    if (!added)
        return slot->value; /* the key stays in the arena: cheap enough */
    struct lset *s = pvm_arena_calloc(m->a, 1, sizeof(*s));
    pvm_label *l = pvm_arena_calloc(m->a, r->nlabels + 1, sizeof(*l));
    if (!s || !l)
        return NULL;
    off = strlen(name) + 1;
    for (size_t i = 0; i < r->nlabels; i++) {
        l[i + 1] = (pvm_label){r->labels[i].name, key + off};
        off += strlen(r->labels[i].value) + 1;
    }
    *s = (struct lset){key, key, n, l + 1, r->nlabels, INT64_MIN, 0, NULL};
    slot->value = s;
    if (m->last)
        m->last->next = s;
    else
        m->first = s;
    m->last = s;
    return s;
}

/* Row callback: per series the latest sample (instant queries) or just
 * the series (discovery). */
static int keep_latest(pvm_sql_core *c, const pvm_sql_row *r, void *arg)
{
    struct lmap *m = arg;
    size_t nv = r->name ? 1 : c->nmetrics;
    for (size_t i = 0; i < nv; i++) {
        if (!r->has[i])
            continue;
        if (m->want && !r->name && !m->want[i])
            continue;
        struct lset *s = lmap_get(m, r->name ? r->name : c->metrics[i].name,
                                  r);
        if (!s)
            return pvm_response_set_error(m->resp, PVM_ERR_NOMEM,
                                          "out of request memory");
        if (r->t >= s->t) {
            s->t = r->t;
            s->v = r->v ? r->v[i] : 0;
        }
    }
    return 0;
}

/* Per metric of the instance: whether the request can select it. */
static bool *wanted(const pvm_sql_core *c, pvm_request *req)
{
    bool *w = pvm_arena_calloc(pvm_request_arena(req), c->nmetrics + 1,
                               sizeof(*w));
    for (size_t i = 0; w && i < c->nmetrics; i++)
        w[i] = pvm_query_name_matches(pvm_request_query(req),
                                      c->metrics[i].name);
    return w;
}

/* ---- queries -------------------------------------------------------------- */

struct range_arg {
    pvm_response *resp; /* where samples go */
    const bool *want;   /* per metric: selectable */
};

static int add_row(pvm_sql_core *c, const pvm_sql_row *r, void *arg)
{
    const struct range_arg *a = arg;
    if (r->name) {
        if (!r->has[0])
            return 0;
        int rc = pvm_response_add_sample(a->resp, r->name, r->v[0], r->t,
                                         r->labels, r->nlabels);
        return rc < 0 ? rc : 0;
    }
    for (size_t i = 0; i < c->nmetrics; i++) {
        if (!r->has[i] || !a->want[i])
            continue;
        int rc = pvm_response_add_sample(a->resp, c->metrics[i].name, r->v[i],
                                         r->t, r->labels, r->nlabels);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* With immutable_before: the rows before now - immutable_before are
 * final (pvm_response_set_immutable_before), declared by every query and
 * discovery hook whatever it answers. */
static void declare_immutable(const pvm_sql_core *c, pvm_response *resp)
{
    if (c->immutable_ms <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    pvm_response_set_immutable_before(resp, now - c->immutable_ms);
}

/* GET|POST /api/v1/query_range: the rows from start to end as samples;
 * the server's engine asks for a window that covers everything it
 * needs. */
int pvm_sql_range(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    declare_immutable(c, resp);
    if (!pvm_sql_any_name(c, pvm_request_query(req)))
        return 0;
    struct range_arg a = {resp, wanted(c, req)};
    if (!a.want)
        return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                      "out of request memory");
    return pvm_sql_run(self, &c->main, req, resp, pvm_request_start(req),
                       pvm_request_end(req), true, add_row, &a);
}

/* GET|POST /api/v1/query: per series the latest row in
 * (time - lookback_delta, time], at its own timestamp. */
int pvm_sql_instant(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    declare_immutable(c, resp);
    if (!pvm_sql_any_name(c, pvm_request_query(req)))
        return 0;
    int64_t t = pvm_request_time(req);
    struct lmap m = {.a = pvm_request_arena(req),
                     .resp = resp,
                     .want = wanted(c, req)};
    if (!m.want)
        return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                      "out of request memory");
    int rc = pvm_sql_run(self, &c->main, req, resp, t - c->lookback_ms + 1, t,
                         true, keep_latest, &m);
    for (const struct lset *s = m.first; rc >= 0 && s; s = s->next)
        rc = pvm_response_add_sample(resp, s->name, s->v, s->t, s->labels,
                                     s->nlabels);
    return rc < 0 ? rc : 0;
}

/* ---- discovery ------------------------------------------------------------ */

/* What a discovery hook does with one series that matches. */
typedef int (*visit_fn)(const struct lset *s, pvm_request *req,
                        pvm_response *resp);

/* The series of the request's range: from labels_query (every metric of
 * the instance, or the row's metric_column), or from the query's rows in
 * [start, end]; each visited when the request's query selects it. */
static int discover(pvm_plugin *self, pvm_request *req, pvm_response *resp,
                    visit_fn visit)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    const pvm_query *q = pvm_request_query(req);
    declare_immutable(c, resp);
    if (!pvm_sql_any_name(c, q))
        return 0;
    struct lmap m = {.a = pvm_request_arena(req), .resp = resp};
    int rc;
    if (c->labels.sql)
        rc = pvm_sql_run(self, &c->labels, req, resp, pvm_request_start(req),
                         pvm_request_end(req), false, keep_latest, &m);
    else if (!(m.want = wanted(c, req)))
        rc = pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                    "out of request memory");
    else
        rc = pvm_sql_run(self, &c->main, req, resp, pvm_request_start(req),
                         pvm_request_end(req), false, keep_latest, &m);
    for (const struct lset *s = m.first; rc >= 0 && s; s = s->next) {
        if (pvm_query_matches(q, s->name, s->labels, s->nlabels))
            rc = visit(s, req, resp);
    }
    return rc < 0 ? rc : 0;
}

static int visit_metric(const struct lset *s, pvm_request *req,
                        pvm_response *resp)
{
    (void)req;
    if (pvm_response_get_type(resp) != PVM_RESPONSE_SERIES)
        return pvm_response_add_value(resp, s->name);
    /* /api/v1/series: the whole label set, __name__ in the spare slot */
    pvm_label *all = s->labels - 1;
    all[0] = (pvm_label){"__name__", s->name};
    return pvm_response_add_series(resp, all, s->nlabels + 1);
}

static int visit_label_names(const struct lset *s, pvm_request *req,
                             pvm_response *resp)
{
    (void)req;
    int rc = pvm_response_add_value(resp, "__name__");
    for (size_t i = 0; rc >= 0 && i < s->nlabels; i++)
        if (s->labels[i].value[0])
            rc = pvm_response_add_value(resp, s->labels[i].name);
    return rc;
}

static int visit_label_values(const struct lset *s, pvm_request *req,
                              pvm_response *resp)
{
    const char *name = pvm_request_label_name(req);
    for (size_t i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i].name, name) == 0 && s->labels[i].value[0])
            return pvm_response_add_value(resp, s->labels[i].value);
    return 0;
}

/* /api/v1/label/__name__/values and /api/v1/series */
int pvm_sql_metric_names(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp)
{
    return discover(self, req, resp, visit_metric);
}

/* /api/v1/labels */
int pvm_sql_label_names(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    return discover(self, req, resp, visit_label_names);
}

/* /api/v1/label/<name>/values */
int pvm_sql_label_values(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp)
{
    return discover(self, req, resp, visit_label_values);
}

/* /api/v1/metadata and /federate: help, metric_type and unit for each
 * metric named in the settings, when any was set. */
int pvm_sql_metadata(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    (void)req;
    const pvm_sql_core *c = pvm_plugin_state(self);
    if (!c->help && !c->unit && c->type == PVM_METRIC_UNKNOWN)
        return 0;
    for (size_t i = 0; i < c->nmetrics; i++) {
        pvm_metric_metadata md = {c->metrics[i].name, c->type, c->help,
                                  c->unit};
        int rc = pvm_response_add_metadata(resp, &md);
        if (rc < 0)
            return rc;
    }
    return 0;
}
