/* http_hooks.c: the request hooks of the `http` plugin type: per selector
 * one fetch of the window (deduplicated within a request), the payload
 * converted by jq or the CSV columns into samples, and what each hook
 * does with them (range: as they are; instant: the latest per series in
 * the lookback; discovery: the series seen). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <pvm/hashmap.h>

#include "http_state.h"

/* ---- fetching ----------------------------------------------------------- */

/* The local file, re-read when its inode, size or mtime changed. */
static int read_local(struct http_plugin *st, const char **data, size_t *len,
                      pvm_error *err)
{
    struct stat sb;
    if (stat(st->file, &sb) != 0)
        return pvm_error_set(err, PVM_ERR_EXECUTION,
                             "instance %s: file %s: %s", st->name, st->file,
                             strerror(errno));
    if (!st->fdata || sb.st_ino != st->fst.st_ino ||
        sb.st_size != st->fst.st_size ||
        sb.st_mtim.tv_sec != st->fst.st_mtim.tv_sec ||
        sb.st_mtim.tv_nsec != st->fst.st_mtim.tv_nsec) {
        FILE *f = fopen(st->file, "rb");
        if (!f)
            return pvm_error_set(err, PVM_ERR_EXECUTION,
                                 "instance %s: file %s: %s", st->name,
                                 st->file, strerror(errno));
        char *buf = NULL;
        size_t n = 0;
        int rc = 0;
        if (fstat(fileno(f), &sb) != 0 ||
            (size_t)sb.st_size > st->http.max_response_bytes)
            rc = pvm_error_set(err, PVM_ERR_EXECUTION,
                               "instance %s: file %s is over "
                               "max_response_bytes (%zu bytes)",
                               st->name, st->file,
                               st->http.max_response_bytes);
        else if (!(buf = malloc((size_t)sb.st_size + 1)))
            rc = pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        else
            n = fread(buf, 1, (size_t)sb.st_size, f);
        fclose(f);
        if (rc < 0)
            return rc;
        buf[n] = '\0';
        free(st->fdata);
        st->fdata = buf;
        st->flen = n;
        st->fst = sb;
    }
    *data = st->fdata;
    *len = st->flen;
    return 0;
}

/* One fetch and its conversion into sink. */
static int fetch(struct http_plugin *st, pvm_request *req,
                 const pvm_http_vars *v, pvm_http_sink *sink, pvm_error *err)
{
    const char *data = NULL;
    size_t len = 0;
    const char *url = NULL;
    int rc;
    if (st->file) {
        rc = read_local(st, &data, &len, err);
    } else {
        pvm_arena *a = pvm_request_arena(req);
        url = pvm_http_expand(a, st->http.url, v);
        char *body = st->body ? pvm_http_expand(a, st->body, v) : NULL;
        if (!url || (st->body && !body))
            return pvm_error_set(err, PVM_ERR_NOMEM, PVM_MSG_TOO_MUCH_MEMORY);
        pvm_http_call call = {.url = url,
                              .method = st->http.method,
                              .body = body,
                              .body_len = body ? strlen(body) : 0};
        pvm_http_answer ans;
        rc = pvm_http_fetch(st->client, req, &call, &ans, err);
        data = ans.body;
        len = ans.len;
        if (rc == PVM_ERR_TOO_LARGE)
            rc = err->code = PVM_ERR_EXECUTION; /* 422: upstream's size */
    }
    if (rc < 0)
        return rc; /* the message names the instance and the URL */
    if (st->format == FORMAT_JSON) {
        pvm_http_jq_vars jv = {v->start, v->end, v->step, v->sel};
        rc = pvm_http_jq_run(st->prog, data, len, &jv, st->unit == UNIT_MS,
                             sink, err);
    } else {
        rc = pvm_http_csv_run(&st->csv, data, len, sink, err);
    }
    if (rc == PVM_ERR_BAD_DATA) /* the source's data, not the client's */
        rc = err->code = PVM_ERR_EXECUTION;
    if (rc < 0 && err->code != PVM_ERR_NOMEM) {
        /* say where: the instance and the URL (without secrets) */
        char where[512], msg[sizeof(err->msg)];
        if (url)
            pvm_http_redact_url(url, where, sizeof(where));
        snprintf(msg, sizeof(msg), "%s", err->msg);
        pvm_error_set(err, err->code, "instance %s: %s: %s", st->name,
                      url ? where : st->file, msg);
    }
    return rc;
}

/* Fetches the window [start, end] once per selector of the request's
 * query (once when it has none), skipping a URL already fetched and, with
 * a `metrics` list, queries for none of them. */
static int collect(struct http_plugin *st, pvm_request *req,
                   pvm_response *resp, int64_t start, int64_t end,
                   int64_t step, pvm_http_sink *sink)
{
    const pvm_query *q = pvm_request_query(req);
    if (st->mlist.n) {
        bool any = false;
        for (size_t i = 0; i < st->mlist.n && !any; i++)
            any = pvm_query_name_matches(q, st->mlist.v[i]);
        if (!any)
            return 0;
    }
    size_t nsel = pvm_query_selector_count(q);
    pvm_arena *a = pvm_request_arena(req);
    const char **done = pvm_arena_calloc(a, nsel + 1, sizeof(*done));
    if (!done)
        return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                      PVM_MSG_TOO_MUCH_MEMORY);
    size_t ndone = 0;
    for (size_t i = 0; i < (nsel ? nsel : 1); i++) {
        pvm_http_vars v = {start, end, step,
                           nsel ? pvm_query_selector(q, i) : NULL};
        if (!st->file && nsel > 1) { /* the same URL and body once */
            char *key = pvm_arena_sprintf(
                a, "%s\n%s", pvm_http_expand(a, st->http.url, &v),
                st->body ? pvm_http_expand(a, st->body, &v) : "");
            bool seen = false;
            for (size_t j = 0; key && j < ndone && !seen; j++)
                seen = strcmp(done[j], key) == 0;
            if (seen)
                continue;
            done[ndone++] = key;
        } else if (st->file && i > 0) {
            break; /* a file is the same whatever the selector */
        }
        pvm_error err = {0};
        int rc = fetch(st, req, &v, sink, &err);
        if (rc < 0) {
            if (pvm_response_has_error(resp))
                return rc;
            return pvm_response_set_error(resp, err.code, "%s", err.msg);
        }
    }
    return 0;
}

/* ---- sinks -------------------------------------------------------------- */

/* Range queries: samples in the window go to the response as they are
 * (the response checks them against the query). */
struct range_sink {
    pvm_http_sink base;
    pvm_response *resp;
    int64_t start, end;
};

static int range_add(pvm_http_sink *self, const char *name,
                     const pvm_label *labels, size_t n, int64_t t, double v,
                     pvm_error *err)
{
    struct range_sink *s = (struct range_sink *)self;
    if (t < s->start || t > s->end)
        return 0;
    int rc = pvm_response_add_sample(s->resp, name, v, t, labels, n);
    if (rc < 0)
        return pvm_error_set(err, rc, "cannot add a sample of %s", name);
    return 0;
}

/* Instant queries and discovery: the series seen, with the latest
 * sample in [start, end] (arena hash map keyed by name and sorted
 * labels). */
struct series {
    char *key;           /* name, then label names and values, NUL-ended */
    size_t klen;         /* bytes of key */
    const char *name;    /* metric name (in key) */
    pvm_label *labels;   /* sorted (strings in key) */
    size_t nlabels;      /* count */
    int64_t t;           /* latest timestamp */
    double v;            /* its value */
    struct series *next; /* the next series first seen after it */
};

struct series_sink {
    pvm_http_sink base;
    pvm_arena *a;       /* the request's */
    int64_t start, end; /* samples outside are ignored */
    pvm_hashmap map;    /* key -> struct series (slots NULL until used) */
    struct series *first, *last; /* in order of first appearance */
};

static int label_cmp(const void *x, const void *y)
{
    return strcmp(((const pvm_label *)x)->name, ((const pvm_label *)y)->name);
}

static int series_add(pvm_http_sink *self, const char *name,
                      const pvm_label *labels, size_t n, int64_t t, double v,
                      pvm_error *err)
{
    struct series_sink *m = (struct series_sink *)self;
    if (t < m->start || t > m->end)
        return 0;
    pvm_label sorted[PVM_HTTP_MAX_LABELS];
    memcpy(sorted, labels, n * sizeof(*labels));
    qsort(sorted, n, sizeof(*sorted), label_cmp);
    size_t klen = strlen(name) + 1;
    for (size_t i = 0; i < n; i++)
        klen += strlen(sorted[i].name) + strlen(sorted[i].value) + 2;
    char *key = pvm_arena_alloc(m->a, klen);
    if (!key || (!m->map.slots && pvm_hashmap_init(&m->map, m->a, 64) < 0))
        return pvm_error_set(err, PVM_ERR_NOMEM, PVM_MSG_TOO_MUCH_MEMORY);
    char *p = stpcpy(key, name) + 1;
    for (size_t i = 0; i < n; i++) {
        p = stpcpy(p, sorted[i].name) + 1;
        p = stpcpy(p, sorted[i].value) + 1;
    }
    bool added;
    pvm_hashmap_slot *sl = pvm_hashmap_put(&m->map, key, klen, &added);
    if (!sl)
        return pvm_error_set(err, PVM_ERR_NOMEM, PVM_MSG_TOO_MUCH_MEMORY);
    struct series *old = sl->value;
    if (added) {
        struct series *s = pvm_arena_calloc(m->a, 1, sizeof(*s));
        pvm_label *l = pvm_arena_calloc(m->a, n + 1, sizeof(*l));
        if (!s || !l)
            return pvm_error_set(err, PVM_ERR_NOMEM, PVM_MSG_TOO_MUCH_MEMORY);
        const char *q = key + strlen(key) + 1;
        for (size_t i = 0; i < n; i++) {
            l[i].name = q;
            q += strlen(q) + 1;
            l[i].value = q;
            q += strlen(q) + 1;
        }
        *s = (struct series){key, klen, key, l, n, t, v, NULL};
        sl->value = s;
        if (m->last)
            m->last->next = s;
        else
            m->first = s;
        m->last = s;
    } else if (t >= old->t) {
        old->t = t;
        old->v = v;
    }
    return 0;
}

/* ---- hooks -------------------------------------------------------------- */

/* GET|POST /api/v1/query_range (and every selector the engine asks for
 * over a window): the samples of [start, end] as they are. */
int pvm_http_range(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    struct http_plugin *st = pvm_plugin_state(self);
    pvm_http_declare_immutable(&st->http, resp);
    struct range_sink s = {{range_add},
                           resp,
                           pvm_request_start(req),
                           pvm_request_end(req)};
    int64_t step = pvm_request_step(req);
    return collect(st, req, resp, s.start, s.end, step ? step : st->step_ms,
                   &s.base);
}

/* GET|POST /api/v1/query: per series the latest sample in
 * (time - lookback_delta, time], at its own timestamp. */
int pvm_http_instant(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    struct http_plugin *st = pvm_plugin_state(self);
    pvm_http_declare_immutable(&st->http, resp);
    int64_t t = pvm_request_time(req);
    struct series_sink m = {.base = {series_add},
                            .a = pvm_request_arena(req),
                            .start = t - st->lookback + 1,
                            .end = t};
    int rc = collect(st, req, resp, t - st->lookback, t, st->step_ms, &m.base);
    for (struct series *s = m.first; rc >= 0 && s; s = s->next) {
        rc = pvm_response_add_sample(resp, s->name, s->v, s->t, s->labels,
                                     s->nlabels);
    }
    return rc < 0 ? rc : 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The series of the discovery window (the request's range cut to at most
 * discovery_window, ending now at the latest) that match the request's
 * query, each given to fn with arg; stops at fn's first error. */
typedef int (*series_fn)(const struct series *s, pvm_response *resp,
                         const void *arg);

static int each_discovered(struct http_plugin *st, pvm_request *req,
                           pvm_response *resp, series_fn fn, const void *arg)
{
    int64_t end = pvm_request_end(req), now = now_ms();
    if (end > now)
        end = now;
    int64_t start = pvm_request_start(req);
    if (start < end - st->window_ms)
        start = end - st->window_ms;
    struct series_sink m = {.base = {series_add},
                            .a = pvm_request_arena(req),
                            .start = start,
                            .end = end};
    int rc = collect(st, req, resp, start, end, st->step_ms, &m.base);
    const pvm_query *q = pvm_request_query(req);
    for (const struct series *s = m.first; rc >= 0 && s; s = s->next)
        if (pvm_query_matches(q, s->name, s->labels, s->nlabels))
            rc = fn(s, resp, arg);
    return rc < 0 ? rc : 0;
}

static int add_name(const struct series *s, pvm_response *resp,
                    const void *arg)
{
    (void)arg;
    return pvm_response_add_value(resp, s->name);
}

/* The series with __name__ in front (its label array has room for one
 * more). */
static int add_series(const struct series *s, pvm_response *resp,
                      const void *arg)
{
    (void)arg;
    pvm_label *all = s->labels;
    memmove(all + 1, all, s->nlabels * sizeof(*all));
    all[0] = (pvm_label){"__name__", s->name};
    int rc = pvm_response_add_series(resp, all, s->nlabels + 1);
    memmove(all, all + 1, s->nlabels * sizeof(*all));
    return rc;
}

static int add_label_names(const struct series *s, pvm_response *resp,
                           const void *arg)
{
    (void)arg;
    int rc = pvm_response_add_value(resp, "__name__");
    for (size_t j = 0; rc >= 0 && j < s->nlabels; j++)
        rc = pvm_response_add_value(resp, s->labels[j].name);
    return rc;
}

/* arg: the label name. */
static int add_label_value(const struct series *s, pvm_response *resp,
                           const void *arg)
{
    int rc = 0;
    for (size_t j = 0; rc >= 0 && j < s->nlabels; j++)
        if (strcmp(s->labels[j].name, arg) == 0)
            rc = pvm_response_add_value(resp, s->labels[j].value);
    return rc;
}

/* /api/v1/label/__name__/values and /api/v1/series: the `metrics` list
 * for names, else the series fetched. */
int pvm_http_metric_names(pvm_plugin *self, pvm_request *req,
                          pvm_response *resp)
{
    struct http_plugin *st = pvm_plugin_state(self);
    pvm_http_declare_immutable(&st->http, resp);
    bool series = pvm_response_get_type(resp) == PVM_RESPONSE_SERIES;
    if (st->mlist.n && !series) {
        const pvm_query *q = pvm_request_query(req);
        for (size_t i = 0; i < st->mlist.n; i++)
            if (pvm_query_matches(q, st->mlist.v[i], NULL, 0)) {
                int rc = pvm_response_add_value(resp, st->mlist.v[i]);
                if (rc < 0)
                    return rc;
            }
        return 0;
    }
    return each_discovered(st, req, resp, series ? add_series : add_name,
                           NULL);
}

/* /api/v1/labels: __name__ and the `labels` list, else the labels of the
 * series fetched. */
int pvm_http_label_names(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp)
{
    struct http_plugin *st = pvm_plugin_state(self);
    pvm_http_declare_immutable(&st->http, resp);
    if (st->llist.n) {
        int rc = pvm_response_add_value(resp, "__name__");
        if (rc >= 0)
            rc = pvm_response_add_values(resp,
                                         (const char *const *)st->llist.v,
                                         st->llist.n);
        return rc < 0 ? rc : 0;
    }
    return each_discovered(st, req, resp, add_label_names, NULL);
}

/* /api/v1/label/<name>/values: the values of the series fetched. */
int pvm_http_label_values(pvm_plugin *self, pvm_request *req,
                          pvm_response *resp)
{
    struct http_plugin *st = pvm_plugin_state(self);
    pvm_http_declare_immutable(&st->http, resp);
    const char *label = pvm_request_label_name(req);
    if (st->llist.n) {
        bool listed = false;
        for (size_t i = 0; i < st->llist.n && !listed; i++)
            listed = strcmp(st->llist.v[i], label) == 0;
        if (!listed)
            return 0;
    }
    return each_discovered(st, req, resp, add_label_value, label);
}
