/* prometheus.c: an upstream Prometheus-compatible API (Prometheus,
 * VictoriaMetrics, Thanos, Mimir) as a plugin, so that real and virtual
 * series meet in one PromQL query: for each selector the engine asks
 * for, the raw samples of its window come from the instant query
 * `selector[window]` at the window's end; the discovery endpoints pass
 * match[], start and end through to the upstream's /series, /labels and
 * /label/<name>/values. A `match` filter restricts what is asked,
 * `external_labels` tell the sources apart. HTTP, auth and TLS are the
 * shared client's (http_client.h); the text is prometheus_core.h's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/hashmap.h>
#include <pvm/pvm.h>

#include "http_client.h"
#include "prometheus_core.h"

/* Per-instance state. */
struct prom {
    pvm_http_settings http;     /* url, auth, TLS, timeout, ... (set and
                                    freed by the server) */
    pvm_key_list match;         /* `match =` selector texts */
    pvm_prom_selector *filters; /* the `match` selectors, parsed */
    size_t nfilters;            /* number of filters */
    pvm_label *ext;             /* `external_labels`, malloc'd strings */
    size_t next;                /* number of external labels */
    char *base;                 /* url without a trailing '/', malloc'd */
    int64_t lookback;           /* ms, [server] lookback_delta */
    pvm_http_client *client;    /* per worker, from on_startup */
};

/* ---- configuration ---------------------------------------------------- */

static int add_external(struct prom *st, const pvm_prom_matcher *m,
                        pvm_error *err)
{
    if (m->op != PVM_MATCH_EQUAL || !pvm_is_label_name(m->name) ||
        strncmp(m->name, "__", 2) == 0 || !m->value[0])
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "'%s': each external label is name=\"value\" "
                             "with a label name not starting with __ and a "
                             "non-empty value",
                             m->name);
    for (size_t i = 0; i < st->next; i++)
        if (strcmp(st->ext[i].name, m->name) == 0)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "external label '%s' given twice", m->name);
    pvm_label *e = realloc(st->ext, (st->next + 1) * sizeof(*e));
    if (!e)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    st->ext = e;
    char *n = strdup(m->name), *v = strdup(m->value);
    if (!n || !v) {
        free(n);
        free(v);
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    }
    e[st->next++] = (pvm_label){n, v};
    return 0;
}

/* `external_labels = name="value", ...` (repeatable). */
static int prom_configure(pvm_plugin *self, const char *key, const char *value,
                          pvm_error *err)
{
    struct prom *st = pvm_plugin_state(self);
    if (strcmp(key, "external_labels") != 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "unknown key");
    size_t n = strlen(value);
    char *text = malloc(n + 3);
    if (!text)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    text[0] = '{';
    memcpy(text + 1, value, n);
    memcpy(text + 1 + n, "}", 2);
    pvm_prom_selector s;
    pvm_error e = {0};
    int rc = pvm_prom_selector_parse(text, n + 2, &s, &e);
    free(text);
    if (rc < 0) /* the position is of the text in braces: drop it */
        return pvm_error_set(err, rc, "%s (write name=\"value\", ...)",
                             strncmp(e.msg, "1:", 2) == 0 &&
                                     strstr(e.msg, ": ")
                                 ? strstr(e.msg, ": ") + 2
                                 : e.msg);
    for (size_t i = 0; rc == 0 && i < s.n; i++)
        rc = add_external(st, &s.m[i], err);
    pvm_prom_selector_free(&s);
    return rc;
}

#define PR(field) offsetof(struct prom, field)

static const pvm_plugin_key prom_keys[] = {
    PVM_HTTP_CLIENT_KEYS(struct prom, http,
                         "base URL of the Prometheus-compatible API "
                         "(http[s]://host:port[/prefix]; /api/v1/... is "
                         "appended)"),
    {"match", PVM_KEY_STRING, PR(match), .repeat = true,
     .doc = "only series of this selector are asked (repeatable: any of "
            "them)"},
    {"external_labels", PVM_KEY_CUSTOM,
     .doc = "labels added to every series: name=\"value\", ... (a series' "
            "own label wins)"},
    {NULL},
};

static void free_filters(struct prom *st)
{
    for (size_t i = 0; i < st->nfilters; i++)
        pvm_prom_selector_free(&st->filters[i]);
    free(st->filters);
    st->filters = NULL;
    st->nfilters = 0;
}

/* url: what the shared client accepts, without a query or fragment (the
 * plugin appends the API's paths); the `match` selectors parse. */
static int prom_check(pvm_plugin *self, pvm_error *err)
{
    struct prom *st = pvm_plugin_state(self);
    int rc = pvm_http_settings_check(&st->http, false, err);
    if (rc < 0)
        return rc;
    if (strpbrk(st->http.url, "?#{}"))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "url: a base URL without a query, fragment or "
                             "placeholders (like http://127.0.0.1:9090)");
    free(st->base);
    if (!(st->base = strdup(st->http.url)))
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    size_t n = strlen(st->base);
    while (n && st->base[n - 1] == '/')
        st->base[--n] = '\0';
    free_filters(st);
    if (st->match.n &&
        !(st->filters = calloc(st->match.n, sizeof(*st->filters))))
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < st->match.n; i++) {
        const char *m = st->match.v[i];
        pvm_error e = {0};
        if (pvm_prom_selector_parse(m, strlen(m), &st->filters[i], &e) < 0)
            return pvm_error_set(err, e.code, "match '%s': %s", m, e.msg);
        st->nfilters++;
    }
    return 0;
}

static void prom_destroy(pvm_plugin *self)
{
    struct prom *st = pvm_plugin_state(self);
    pvm_http_client_free(st->client);
    st->client = NULL;
    free_filters(st);
    for (size_t i = 0; i < st->next; i++) {
        free((char *)st->ext[i].name);
        free((char *)st->ext[i].value);
    }
    free(st->ext);
    free(st->base);
}

static int prom_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct prom *st = pvm_plugin_state(self);
    st->lookback = pvm_context_lookback_ms(ctx);
    pvm_http_client_free(st->client);
    st->client = pvm_http_client_new(&st->http, pvm_plugin_name(self), err);
    return st->client ? 0 : err->code;
}

static int prom_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    (void)ctx;
    (void)err;
    struct prom *st = pvm_plugin_state(self);
    pvm_http_client_free(st->client);
    st->client = NULL;
    return 0;
}

/* --check-config: the settings and the secret and CA files; no fetch. */
static int prom_validate(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    (void)ctx;
    struct prom *st = pvm_plugin_state(self);
    return pvm_http_settings_validate(&st->http, err);
}

/* ---- talking to the upstream ------------------------------------------- */

/* GET BASE/api/v1/PATH?PARAMS (or POST with PARAMS as the form body),
 * read as kind into sink. An error answers the request with the
 * instance's name: the upstream's timeout as 503 timeout, anything else
 * as a failed hook (500) with what the upstream said. */
static int upstream(struct prom *st, pvm_plugin *self, pvm_request *req,
                    pvm_response *resp, const char *path,
                    const pvm_prom_buf *params, pvm_prom_answer kind,
                    pvm_prom_sink *sink)
{
    if (!st->client)
        return pvm_response_fail(resp, "the HTTP client is not started");
    if (params->failed)
        return pvm_response_set_error(resp, PVM_ERR_NOMEM, "out of memory");
    pvm_arena *a = pvm_request_arena(req);
    /* Prometheus takes /label/<name>/values by GET only */
    bool post = st->http.method == PVM_HTTP_POST &&
                strncmp(path, "label/", 6) != 0;
    const char *q = params->p ? params->p : "";
    char *url = post ? pvm_arena_sprintf(a, "%s/api/v1/%s", st->base, path)
                     : pvm_arena_sprintf(a, "%s/api/v1/%s?%s", st->base, path,
                                         q);
    if (!url)
        return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                      PVM_MSG_TOO_MUCH_MEMORY);
    pvm_http_call call = {
        .url = url,
        .method = post ? PVM_HTTP_POST : PVM_HTTP_GET,
        .body = post ? q : NULL,
        .body_len = post ? strlen(q) : 0,
        .content_type = post ? "application/x-www-form-urlencoded" : NULL,
        .error_body = true, /* Prometheus' error envelope says why */
    };
    pvm_http_answer ans;
    pvm_error err = {0};
    int rc = pvm_http_fetch(st->client, req, &call, &ans, &err);
    if (rc == 0) {
        pvm_error perr = {0};
        rc = pvm_prom_parse_answer(ans.body, ans.len, kind, sink, &perr);
        if (rc < 0 && pvm_response_has_error(resp))
            return rc;                    /* a callback failed the response */
        if (rc == 0 && ans.status >= 400) /* JSON, but not an error */
            rc = pvm_error_set(&perr, PVM_ERR_PLUGIN, "no error envelope");
        if (rc < 0) {
            char shown[256];
            pvm_http_redact_url(url, shown, sizeof(shown));
            pvm_error_set(&err, perr.code,
                          "instance %s: %s %s: the upstream answered HTTP "
                          "%ld: %s",
                          pvm_plugin_name(self), post ? "POST" : "GET", shown,
                          ans.status, perr.msg);
        }
    }
    if (rc == 0 && sink->histograms)
        pvm_response_add_warning(resp,
                                 "instance %s: %zu native histogram samples "
                                 "of the upstream skipped (not supported)",
                                 pvm_plugin_name(self), sink->histograms);
    if (rc == 0)
        return 0;
    if (err.code == PVM_ERR_TIMEOUT)
        return pvm_response_set_error(resp, PVM_ERR_TIMEOUT, "%s", err.msg);
    if (err.code == PVM_ERR_NOMEM || err.code == PVM_ERR_TOO_LARGE)
        /* too much data for the request: 422, as too many samples */
        return pvm_response_set_error(resp, PVM_ERR_EXECUTION, "%s", err.msg);
    return pvm_response_fail(resp, "%s", err.msg);
}

/* Appends "&key=value" (URL-encoded; no '&' for the first). */
static void param(pvm_prom_buf *b, const char *key, const char *value)
{
    if (b->len)
        pvm_prom_buf_add(b, "&", 1);
    pvm_prom_buf_puts(b, key);
    pvm_prom_buf_add(b, "=", 1);
    size_t need = pvm_http_urlencode_buf(value, NULL, 0);
    char small[512];
    char *enc = need < sizeof(small) ? small : malloc(need + 1);
    if (!enc) {
        b->failed = true;
        return;
    }
    pvm_http_urlencode_buf(value, enc, need + 1);
    pvm_prom_buf_add(b, enc, need);
    if (enc != small)
        free(enc);
}

static void time_param(pvm_prom_buf *b, const char *key, int64_t ms)
{
    char t[32];
    param(b, key, pvm_prom_format_time(t, sizeof(t), ms));
}

/* ---- query hooks --------------------------------------------------------- */

/* What every sink works with (the first member of their arguments). */
struct sink_head {
    struct prom *st;    /* the instance's state */
    pvm_plugin *self;   /* the instance */
    pvm_response *resp; /* where the answer goes */
};

/* What the sink of a query answer works with. */
struct fetch {
    struct sink_head h;  /* instance and response */
    int64_t start, end;  /* samples kept: [start, end] */
    bool latest;         /* instant hook: only the latest per series */
    pvm_series_ref *ref; /* the current series, NULL when not selected */
    int64_t last_t;      /* latest sample of it (latest), INT64_MIN none */
    double last_v;       /* its value */
    pvm_label *labels;   /* scratch: upstream labels + external ones */
    size_t cap;          /* capacity of labels */
    pvm_hashmap seen;    /* series already fetched (several filters):
                               name, then label names and values,
                               NUL-separated (slots NULL until used) */
};

/* Adds the latest sample of the current series (instant hook). */
static int flush_latest(struct fetch *f)
{
    int rc = 0;
    if (f->latest && f->ref && f->last_t != INT64_MIN)
        rc = pvm_response_add_point(f->h.resp, f->ref, f->last_t, f->last_v);
    f->last_t = INT64_MIN;
    return rc < 0 ? rc : 0;
}

/* labels + the external labels the series lacks, into f->labels. */
static int with_external(struct fetch *f, const pvm_label *l, size_t n,
                         size_t *out)
{
    const struct prom *st = f->h.st;
    if (n + st->next > f->cap) {
        size_t cap = (n + st->next) * 2;
        pvm_label *p = pvm_arena_alloc(pvm_request_arena(
                                           pvm_response_request(f->h.resp)),
                                       cap * sizeof(*p));
        if (!p)
            return pvm_response_set_error(f->h.resp, PVM_ERR_NOMEM,
                                          PVM_MSG_TOO_MUCH_MEMORY);
        f->labels = p;
        f->cap = cap;
    }
    memcpy(f->labels, l, n * sizeof(*l));
    size_t k = n;
    for (size_t i = 0; i < st->next; i++) {
        bool own = false;
        for (size_t j = 0; j < n && !own; j++)
            own = strcmp(l[j].name, st->ext[i].name) == 0;
        if (!own)
            f->labels[k++] = st->ext[i];
    }
    *out = k;
    return 0;
}

/* 1 when the series (name, labels) was fetched before in this request
 * (tracked with several filters only, whose answers may overlap), 0 when
 * not (it is now), negative out of memory. */
static int seen_before(struct fetch *f, const char *name, const pvm_label *l,
                       size_t n)
{
    pvm_arena *a = pvm_request_arena(pvm_response_request(f->h.resp));
    pvm_prom_buf key = {0};
    pvm_prom_buf_add(&key, name, strlen(name) + 1);
    for (size_t i = 0; i < n; i++) {
        pvm_prom_buf_add(&key, l[i].name, strlen(l[i].name) + 1);
        pvm_prom_buf_add(&key, l[i].value, strlen(l[i].value) + 1);
    }
    int rc = key.failed ? PVM_ERR_NOMEM : 0;
    if (rc == 0 && !f->seen.slots && pvm_hashmap_init(&f->seen, a, 64) < 0)
        rc = PVM_ERR_NOMEM;
    if (rc == 0) {
        bool added;
        pvm_hashmap_slot *e = pvm_hashmap_put(&f->seen, key.p, key.len,
                                              &added);
        char *copy = e && added ? pvm_arena_alloc(a, key.len) : NULL;
        if (!e || (added && !copy))
            rc = PVM_ERR_NOMEM;
        else if (!added)
            rc = 1;
        else
            e->key = memcpy(copy, key.p, key.len);
    }
    pvm_prom_buf_free(&key);
    if (rc == PVM_ERR_NOMEM)
        return pvm_response_set_error(f->h.resp, PVM_ERR_NOMEM,
                                      PVM_MSG_TOO_MUCH_MEMORY);
    return rc;
}

static int on_series(void *arg, const char *name, const pvm_label *l, size_t n)
{
    struct fetch *f = arg;
    int rc = flush_latest(f);
    f->ref = NULL;
    if (rc < 0)
        return rc;
    if (!name || !name[0]) /* pvm's series all have a name */
        return 0;
    size_t k = 0;
    if ((rc = with_external(f, l, n, &k)) < 0)
        return rc;
    if (f->h.st->nfilters > 1 &&
        (rc = seen_before(f, name, f->labels, k)) != 0)
        return rc < 0 ? rc : 0;
    rc = pvm_response_find_series(f->h.resp, name, f->labels, k, 0, &f->ref);
    return rc < 0 ? rc : 0;
}

static int on_point(void *arg, int64_t t, double v)
{
    struct fetch *f = arg;
    if (!f->ref || t < f->start || t > f->end)
        return 0;
    if (f->latest) {
        if (t >= f->last_t)
            f->last_t = t, f->last_v = v;
        return 0;
    }
    int rc = pvm_response_add_point(f->h.resp, f->ref, t, v);
    return rc < 0 ? rc : 0;
}

/* The upstream's warnings and infos, passed on naming the instance. */
static int warn(void *arg, const char *msg, bool info)
{
    const struct sink_head *h = arg;
    const char *name = pvm_plugin_name(h->self);
    int rc = info
                 ? pvm_response_add_info(h->resp, "instance %s: %s", name, msg)
                 : pvm_response_add_warning(h->resp, "instance %s: %s", name,
                                            msg);
    return rc < 0 ? rc : 0;
}

/* A label set of /series asked for a discovery request's query hook: one
 * sample (0 at the window's end) for the series, whose labels are all
 * the server reads. */
static int on_series_sample(void *arg, const pvm_label *l, size_t n)
{
    struct fetch *f = arg;
    const char *name = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].name, "__name__") == 0)
            name = l[i].value;
    if (!name || !name[0])
        return 0;
    pvm_label *rest = pvm_arena_alloc(pvm_request_arena(
                                          pvm_response_request(f->h.resp)),
                                      (n ? n : 1) * sizeof(*rest));
    if (!rest)
        return pvm_response_set_error(f->h.resp, PVM_ERR_NOMEM,
                                      PVM_MSG_TOO_MUCH_MEMORY);
    size_t k = 0, all = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].name, "__name__") != 0)
            rest[k++] = l[i];
    int rc = with_external(f, rest, k, &all);
    if (rc == 0 && f->h.st->nfilters > 1)
        rc = seen_before(f, name, f->labels, all);
    if (rc == 0)
        rc = pvm_response_add_sample(f->h.resp, name, 0, f->end, f->labels,
                                     all);
    return rc < 0 ? rc : 0;
}

/* True when the query hook runs for a discovery request (/series,
 * /labels, /label/<name>/values with match[]): the server then reads
 * only the label sets of the series returned, which the upstream's
 * /series gives without the samples of the whole window (24 hours of a
 * thousand series would be millions of samples). */
static bool is_discovery(const pvm_request *req)
{
    static const char *const ends[] = {"/series", "/labels", "/values"};
    const char *p = pvm_request_http_path(req);
    size_t n = p ? strlen(p) : 0;
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        size_t e = strlen(ends[i]);
        if (n >= e && strcmp(p + n - e, ends[i]) == 0)
            return true;
    }
    return false;
}

/* The raw samples in [start, end] of every selector of the request's
 * query (the engine asks one at a time), per `match` filter; for a
 * discovery request one sample per series of the upstream's /series over
 * [start, end]. */
static int fetch_samples(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp, int64_t start, int64_t end,
                         bool latest)
{
    struct prom *st = pvm_plugin_state(self);
    const pvm_query *q = pvm_request_query(req);
    struct fetch f = {.h = {st, self, resp},
                      .start = start,
                      .end = end,
                      .latest = latest,
                      .last_t = INT64_MIN};
    bool series = is_discovery(req);
    size_t nf = st->nfilters ? st->nfilters : 1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < pvm_query_selector_count(q); i++) {
        for (size_t k = 0; rc == 0 && k < nf; k++) {
            pvm_prom_buf sel = {0}, params = {0};
            pvm_prom_upstream_selector(&sel, pvm_query_selector(q, i),
                                       st->nfilters ? &st->filters[k] : NULL,
                                       st->ext, st->next);
            if (!series)
                pvm_prom_window(&sel, start, end);
            param(&params, series ? "match[]" : "query",
                  sel.failed ? "" : sel.p);
            params.failed |= sel.failed;
            if (series)
                time_param(&params, "start", start);
            time_param(&params, series ? "end" : "time", end);
            pvm_prom_sink sink = {.series = on_series,
                                  .point = on_point,
                                  .labelset = on_series_sample,
                                  .warning = warn,
                                  .arg = &f};
            rc = upstream(st, self, req, resp, series ? "series" : "query",
                          &params,
                          series ? PVM_PROM_ANSWER_SERIES
                                 : PVM_PROM_ANSWER_QUERY,
                          &sink);
            if (rc == 0)
                rc = flush_latest(&f);
            f.ref = NULL;
            pvm_prom_buf_free(&sel);
            pvm_prom_buf_free(&params);
        }
    }
    return rc < 0 ? rc : 0;
}

/* GET|POST /api/v1/query_range (and every selector pvm evaluates over a
 * window): the upstream's raw samples of the window, at their own
 * timestamps. */
static int prom_range(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    pvm_http_declare_immutable(
        &((const struct prom *)pvm_plugin_state(self))->http, resp);
    return fetch_samples(self, req, resp, pvm_request_start(req),
                         pvm_request_end(req), false);
}

/* GET|POST /api/v1/query of a plain selector: per series the latest
 * sample in (time - lookback_delta, time], at its own timestamp. */
static int prom_instant(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    pvm_http_declare_immutable(
        &((const struct prom *)pvm_plugin_state(self))->http, resp);
    const struct prom *st = pvm_plugin_state(self);
    int64_t t = pvm_request_time(req);
    return fetch_samples(self, req, resp, t - st->lookback + 1, t, true);
}

/* ---- discovery hooks ------------------------------------------------------ */

/* The match[] of a discovery request (each selector of the request's
 * query, restricted by each filter), and start and end when the request
 * gave them. /series needs a match[]: `all` adds one that selects every
 * series when there is none. */
static void discovery_params(struct prom *st, pvm_request *req,
                             pvm_prom_buf *params, bool all)
{
    const pvm_query *q = pvm_request_query(req);
    size_t ns = pvm_query_is_empty(q) ? 0 : pvm_query_selector_count(q);
    size_t nf = st->nfilters ? st->nfilters : 1;
    for (size_t i = 0; i < (ns ? ns : 1); i++) {
        for (size_t k = 0; k < nf; k++) {
            if (!ns && !st->nfilters && !all)
                break;
            pvm_prom_buf sel = {0};
            pvm_prom_upstream_selector(&sel,
                                       ns ? pvm_query_selector(q, i) : NULL,
                                       st->nfilters ? &st->filters[k] : NULL,
                                       st->ext, st->next);
            param(params, "match[]", sel.failed ? "" : sel.p);
            params->failed |= sel.failed;
            pvm_prom_buf_free(&sel);
        }
    }
    if (pvm_request_http_query(req, "start") ||
        pvm_request_http_post_data(req, "start"))
        time_param(params, "start", pvm_request_start(req));
    if (pvm_request_http_query(req, "end") ||
        pvm_request_http_post_data(req, "end"))
        time_param(params, "end", pvm_request_end(req));
}

/* What the sink of a discovery answer works with. */
struct found {
    struct sink_head h; /* instance and response */
    const pvm_query *q; /* the request's query (pvm checks external
                           labels against it) */
    size_t values;      /* strings or label sets received */
};

static int on_value(void *arg, const char *s)
{
    struct found *d = arg;
    d->values++;
    int rc = pvm_response_add_value(d->h.resp, s);
    return rc < 0 ? rc : 0;
}

/* A label set of /series: the external labels it lacks added, checked
 * against the query (the upstream did not see the matchers on external
 * labels). */
static int on_labelset(void *arg, const pvm_label *l, size_t n)
{
    struct found *d = arg;
    const struct prom *st = d->h.st;
    pvm_arena *a = pvm_request_arena(pvm_response_request(d->h.resp));
    pvm_label *all = pvm_arena_alloc(a, (n + st->next + 1) * sizeof(*all));
    if (!all)
        return pvm_response_set_error(d->h.resp, PVM_ERR_NOMEM,
                                      PVM_MSG_TOO_MUCH_MEMORY);
    const char *name = NULL;
    size_t k = 1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(l[i].name, "__name__") == 0)
            name = l[i].value;
        else
            all[k++] = l[i];
    }
    for (size_t i = 0; i < st->next; i++) {
        bool own = false;
        for (size_t j = 0; j < n && !own; j++)
            own = strcmp(l[j].name, st->ext[i].name) == 0;
        if (!own)
            all[k++] = st->ext[i];
    }
    d->values++;
    if (!name || !name[0] ||
        (!pvm_query_is_empty(d->q) &&
         !pvm_query_matches(d->q, name, all + 1, k - 1)))
        return 0;
    all[0] = (pvm_label){"__name__", name};
    int rc = pvm_response_add_series(d->h.resp, all, k);
    return rc < 0 ? rc : 0;
}

/* One discovery request to the upstream's PATH. */
static int discover(pvm_plugin *self, pvm_request *req, pvm_response *resp,
                    const char *path, pvm_prom_answer kind, struct found *d)
{
    struct prom *st = pvm_plugin_state(self);
    *d = (struct found){.h = {st, self, resp}, .q = pvm_request_query(req)};
    pvm_prom_buf params = {0};
    discovery_params(st, req, &params, kind == PVM_PROM_ANSWER_SERIES);
    pvm_prom_sink sink = {.value = on_value,
                          .labelset = on_labelset,
                          .warning = warn,
                          .arg = d};
    int rc = upstream(st, self, req, resp, path, &params, kind, &sink);
    pvm_prom_buf_free(&params);
    return rc < 0 ? rc : 0;
}

/* /api/v1/series (the upstream's label sets) and
 * /api/v1/label/__name__/values (its metric names). */
static int prom_metric_names(pvm_plugin *self, pvm_request *req,
                             pvm_response *resp)
{
    pvm_http_declare_immutable(
        &((const struct prom *)pvm_plugin_state(self))->http, resp);
    struct found d;
    if (pvm_response_get_type(resp) == PVM_RESPONSE_SERIES)
        return discover(self, req, resp, "series", PVM_PROM_ANSWER_SERIES, &d);
    return discover(self, req, resp, "label/__name__/values",
                    PVM_PROM_ANSWER_STRINGS, &d);
}

/* /api/v1/labels: the upstream's label names and the external ones. */
static int prom_label_names(pvm_plugin *self, pvm_request *req,
                            pvm_response *resp)
{
    pvm_http_declare_immutable(
        &((const struct prom *)pvm_plugin_state(self))->http, resp);
    const struct prom *st = pvm_plugin_state(self);
    struct found d;
    int rc = discover(self, req, resp, "labels", PVM_PROM_ANSWER_STRINGS, &d);
    for (size_t i = 0; rc == 0 && d.values && i < st->next; i++)
        rc = pvm_response_add_value(resp, st->ext[i].name);
    return rc < 0 ? rc : 0;
}

/* /api/v1/label/<name>/values: the upstream's, and the value of an
 * external label of that name. */
static int prom_label_values(pvm_plugin *self, pvm_request *req,
                             pvm_response *resp)
{
    pvm_http_declare_immutable(
        &((const struct prom *)pvm_plugin_state(self))->http, resp);
    const struct prom *st = pvm_plugin_state(self);
    const char *name = pvm_request_label_name(req);
    size_t need = pvm_http_urlencode_buf(name, NULL, 0);
    char *enc = pvm_arena_alloc(pvm_request_arena(req), need + 1);
    char *path = enc ? pvm_arena_alloc(pvm_request_arena(req), need + 16)
                     : NULL;
    if (!path)
        return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                      PVM_MSG_TOO_MUCH_MEMORY);
    pvm_http_urlencode_buf(name, enc, need + 1);
    snprintf(path, need + 16, "label/%s/values", enc);
    struct found d;
    int rc = discover(self, req, resp, path, PVM_PROM_ANSWER_STRINGS, &d);
    for (size_t i = 0; rc == 0 && i < st->next; i++)
        if (strcmp(st->ext[i].name, name) == 0)
            rc = pvm_response_add_value(resp, st->ext[i].value);
    return rc < 0 ? rc : 0;
}

const pvm_plugin_type pvm_plugin_prometheus = {
    .name = "prometheus", /* `type = prometheus` */
    .description = "series of an upstream Prometheus-compatible API",
    .state_size = sizeof(struct prom), /* zeroed per instance */
    .configure = prom_configure,       /* external_labels */
    .check = prom_check,               /* url, match */
    .destroy = prom_destroy,           /* client, filters, labels */
    .on_startup = prom_startup,        /* the worker's HTTP client */
    .on_shutdown = prom_shutdown,
    .on_instant_query_request = prom_instant, /* latest within lookback */
    .on_range_query_request = prom_range,     /* raw samples of the window */
    .on_metric_names_request = prom_metric_names, /* /series, names */
    .on_label_names_request = prom_label_names,   /* /labels */
    .on_label_values_request = prom_label_values, /* /label/<n>/values */
    .validate = prom_validate, /* --check-config: no fetch */
    .keys = prom_keys,         /* url, auth, TLS, match, ... */
};
