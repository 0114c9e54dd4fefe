/* api_federate.c: /federate (see api_federate.h). Each match[] selector
 * is asked from the plugins' instant hooks at the request time, as an
 * instant query would ask it; of every selected series the latest sample
 * in (now - lookback_delta, now] is written with its own timestamp.
 * Families are grouped, with # HELP, # TYPE (and # UNIT in OpenMetrics)
 * from the plugins' metadata; series without metadata are untyped, as
 * Prometheus' own /federate writes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_federate.h"
#include "api_metadata.h"
#include "form.h"
#include "json.h"
#include "labels.h"
#include "output.h"
#include "query_impl.h"
#include "registry.h"
#include "response_impl.h"

#define TEXT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define OM_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* One series to write. */
typedef struct fed_item {
    const pvm_series *ser;   /* its label set (__name__ included) */
    const char *name;        /* metric name */
    int64_t t;               /* timestamp of the latest sample, ms */
    double v;                /* its value */
    pvm_federate_family fam; /* family it is written in */
} fed_item;

/* Buffered output through the call's sink. */
typedef struct fed_out {
    const pvm_http_out *out; /* sink */
    char buf[16384];         /* pending bytes */
    size_t len;              /* used */
    bool failed;             /* a write failed (client gone) */
} fed_out;

static void out_flush(fed_out *o)
{
    if (o->len && !o->failed && o->out->write(o->out->ctx, o->buf, o->len) < 0)
        o->failed = true;
    o->len = 0;
}

static void out_write(fed_out *o, const char *s, size_t n)
{
    while (n) {
        if (o->len == sizeof(o->buf))
            out_flush(o);
        size_t k = sizeof(o->buf) - o->len;
        if (k > n)
            k = n;
        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
    }
}

static void out_str(fed_out *o, const char *s)
{
    out_write(o, s, strlen(s));
}

/* ---- negotiation ------------------------------------------------------- */

/* The q-value of one Accept element's parameters ("; version=1; q=0.5"). */
static double q_value(const char *p, const char *end)
{
    while (p < end) {
        p += strspn(p, "; \t");
        if (p + 2 <= end && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
            return strtod(p + 2, NULL);
        while (p < end && *p != ';')
            p++;
    }
    return 1;
}

bool pvm_federate_wants_openmetrics(const char *accept)
{
    double q_om = 0, q_text = 0;
    for (const char *p = accept; p && *p;) {
        p += strspn(p, ", \t");
        const char *end = p + strcspn(p, ",");
        size_t tl = strcspn(p, ";,");
        while (tl && (p[tl - 1] == ' ' || p[tl - 1] == '\t'))
            tl--;
        double q = q_value(p + tl, end);
        if (tl == 28 &&
            strncasecmp(p, "application/openmetrics-text", 28) == 0)
            q_om = q > q_om ? q : q_om;
        else if ((tl == 10 && strncasecmp(p, "text/plain", 10) == 0) ||
                 (tl == 3 && strncmp(p, "*/*", 3) == 0) ||
                 (tl == 6 && strncasecmp(p, "text/*", 6) == 0))
            q_text = q > q_text ? q : q_text;
        p = end;
    }
    return q_om > 0 && q_om >= q_text;
}

/* ---- families ---------------------------------------------------------- */

static const pvm_metric_metadata *lookup(const pvm_metric_metadata *meta,
                                         size_t n, const char *name,
                                         size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(meta[i].name) == len &&
            strncmp(meta[i].name, name, len) == 0)
            return &meta[i];
    return NULL;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

/* Whether a sample named family+suffix belongs to a family of type t. */
static bool suffix_fits(pvm_metric_type t, const char *suffix)
{
    switch (t) {
    case PVM_METRIC_COUNTER:
        return !strcmp(suffix, "_total") || !strcmp(suffix, "_created");
    case PVM_METRIC_HISTOGRAM:
        return !strcmp(suffix, "_bucket") || !strcmp(suffix, "_count") ||
               !strcmp(suffix, "_sum") || !strcmp(suffix, "_created");
    case PVM_METRIC_SUMMARY:
        return !strcmp(suffix, "_count") || !strcmp(suffix, "_sum") ||
               !strcmp(suffix, "_created");
    case PVM_METRIC_GAUGEHISTOGRAM:
        return !strcmp(suffix, "_bucket") || !strcmp(suffix, "_gcount") ||
               !strcmp(suffix, "_gsum");
    case PVM_METRIC_INFO: return !strcmp(suffix, "_info");
    default: return false;
    }
}

/* The text format knows these types; the others are written untyped. */
static bool text_has_type(pvm_metric_type t)
{
    return t == PVM_METRIC_COUNTER || t == PVM_METRIC_GAUGE ||
           t == PVM_METRIC_HISTOGRAM || t == PVM_METRIC_SUMMARY;
}

void pvm_federate_family_of(pvm_arena *a, const char *name,
                            const pvm_metric_metadata *meta, size_t nmeta,
                            bool om, pvm_federate_family *out)
{
    static const char *const suffixes[] = {"_total", "_created", "_bucket",
                                           "_count", "_sum",     "_gcount",
                                           "_gsum",  "_info"};
    *out = (pvm_federate_family){name, PVM_METRIC_UNKNOWN, NULL};
    size_t n = strlen(name);
    const pvm_metric_metadata *m = lookup(meta, nmeta, name, n);
    if (m) {
        pvm_metric_type t = m->type;
        out->meta = m;
        if (t == PVM_METRIC_COUNTER && om) {
            /* OpenMetrics: family NAME, samples NAME_total */
            if (has_suffix(name, "_total")) {
                out->name = pvm_arena_strndup(a, name, n - 6);
                out->type = out->name ? t : PVM_METRIC_UNKNOWN;
                if (!out->name)
                    out->name = name;
            }
            return;
        }
        if (t == PVM_METRIC_HISTOGRAM || t == PVM_METRIC_GAUGEHISTOGRAM ||
            t == PVM_METRIC_INFO)
            return; /* a sample cannot carry the bare family name */
        out->type = om || text_has_type(t) ? t : PVM_METRIC_UNKNOWN;
        return;
    }
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (!has_suffix(name, suffixes[i]))
            continue;
        m = lookup(meta, nmeta, name, n - strlen(suffixes[i]));
        if (!m || !suffix_fits(m->type, suffixes[i]))
            continue;
        out->meta = m;
        if (om) {
            out->name = m->name;
            out->type = m->type;
        } else if (m->type == PVM_METRIC_COUNTER &&
                   !strcmp(suffixes[i], "_total")) {
            out->type = m->type; /* the text format's counter: NAME_total */
        } else if ((m->type == PVM_METRIC_HISTOGRAM ||
                    m->type == PVM_METRIC_SUMMARY) &&
                   strcmp(suffixes[i], "_created") != 0) {
            out->name = m->name;
            out->type = m->type;
        } else {
            out->meta = NULL; /* written untyped under its own name */
        }
        return;
    }
}

/* ---- escaping ---------------------------------------------------------- */

char *pvm_federate_escape(pvm_arena *a, const char *s, bool help, bool om)
{
    size_t n = strlen(s);
    char *e = pvm_arena_alloc(a, 2 * n + 1), *p = e;
    if (!e)
        return NULL;
    for (; *s; s++) {
        if (*s == '\\') {
            *p++ = '\\';
            *p++ = '\\';
        } else if (*s == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else if (*s == '"' && (!help || om)) {
            *p++ = '\\';
            *p++ = '"';
        } else {
            *p++ = *s;
        }
    }
    *p = '\0';
    return e;
}

/* ---- collecting -------------------------------------------------------- */

/* Legacy metric and label names: the only ones the text format (0.0.4)
 * and Prometheus 2 parsers read. (Label values must be valid UTF-8: one
 * bad value would fail the whole scrape.) */
static bool is_legacy_name(const char *s, bool metric)
{
    return metric ? pvm_is_metric_name(s)
                  : pvm_label_name_is_legacy(s, strlen(s));
}

/* Runs the instant hooks for one selector at now and merges the latest
 * sample in the lookback window of each selected series into merged. */
static int fetch_selector(pvm_api_call *c, const pvm_request *proto,
                          const pvm_selector *sel, int64_t now,
                          pvm_series_set *merged, pvm_response **failed,
                          pvm_error *err)
{
    pvm_arena *a = c->a;
    pvm_request *req = pvm_arena_alloc(a, sizeof(*req));
    const pvm_query *q = req ? pvm_query_for_selector(a, sel->node,
                                                      sel->range_ms, err)
                             : NULL;
    if (!q)
        return err->code ? err->code
                         : pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    *req = *proto;
    req->query = q;
    req->query_string = q->string;
    pvm_response *resp = pvm_response_new(req, PVM_RESPONSE_VECTOR,
                                          c->env->cfg->max_samples);
    if (!resp)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    pvm_context_run_request_hook(c->env->ctx, PVM_HOOK_INSTANT_QUERY, req,
                                 resp);
    if (resp->error_code) {
        *failed = resp;
        return pvm_error_set(err, resp->error_code, "%s", resp->error_msg);
    }
    int64_t mint = now - c->env->cfg->lookback_delta_ms;
    for (size_t i = 0; i < resp->series.n; i++) {
        const pvm_series *s = resp->series.list[i];
        const char *name = pvm_labels_get(s->labels, s->nlabels,
                                          PVM_METRIC_NAME_LABEL);
        if (!name || pvm_selector_match(sel, name, s->labels, s->nlabels) != 1)
            continue;
        const pvm_point *p, *best = NULL;
        pvm_point_iter it;
        pvm_point_iter_init(&it, s);
        while ((p = pvm_point_iter_next(&it)))
            if (p->t > mint && p->t <= now && (!best || p->t >= best->t))
                best = p;
        if (!best)
            continue;
        pvm_series *m = pvm_series_set_get(merged, s->labels, s->nlabels,
                                           s->hash);
        if (!m)
            return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        if (m->npoints == 0) {
            if (pvm_series_append(merged, m, best->t, best->v) < 0)
                return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        } else if (best->t > m->last->p[0].t) {
            m->last->p[0] = *best;
            m->last_t = best->t;
        }
    }
    return 0;
}

/* Numeric label values order histogram buckets and quantiles. */
static int label_value_cmp(const char *name, const char *a, const char *b)
{
    if (!strcmp(name, "le") || !strcmp(name, "quantile")) {
        char *ea, *eb;
        double x = strtod(a, &ea), y = strtod(b, &eb);
        if (!*ea && !*eb && x != y)
            return x < y ? -1 : 1;
    }
    return strcmp(a, b);
}

static int item_cmp(const void *x, const void *y)
{
    const fed_item *a = x, *b = y;
    int c = strcmp(a->fam.name, b->fam.name);
    if (c)
        return c;
    if (a->fam.type != b->fam.type)
        return a->fam.type < b->fam.type ? -1 : 1;
    if ((c = strcmp(a->name, b->name)))
        return c;
    const pvm_series *s = a->ser, *t = b->ser;
    size_t n = s->nlabels < t->nlabels ? s->nlabels : t->nlabels;
    for (size_t i = 0; i < n; i++) {
        if ((c = strcmp(s->labels[i].name, t->labels[i].name)))
            return c;
        if ((c = label_value_cmp(s->labels[i].name, s->labels[i].value,
                                 t->labels[i].value)))
            return c;
    }
    return s->nlabels < t->nlabels ? -1 : s->nlabels > t->nlabels;
}

/* ---- writing ----------------------------------------------------------- */

static const char *type_word(pvm_metric_type t, bool om)
{
    if (t == PVM_METRIC_UNKNOWN)
        return om ? "unknown" : "untyped";
    return pvm_metric_type_name(t);
}

static int write_family_head(pvm_arena *a, fed_out *o,
                             const pvm_federate_family *f, bool om)
{
    const pvm_metric_metadata *m = f->meta;
    if (m && m->help && *m->help &&
        pvm_is_valid_utf8(m->help, strlen(m->help))) {
        char *h = pvm_federate_escape(a, m->help, true, om);
        if (!h)
            return -1;
        out_str(o, "# HELP ");
        out_str(o, f->name);
        out_str(o, " ");
        out_str(o, h);
        out_str(o, "\n");
    }
    out_str(o, "# TYPE ");
    out_str(o, f->name);
    out_str(o, " ");
    out_str(o, type_word(f->type, om));
    out_str(o, "\n");
    /* OpenMetrics only, and only where the unit ends the family name:
     * parsers refuse other units. */
    if (om && m && m->unit && *m->unit) {
        size_t fl = strlen(f->name), ul = strlen(m->unit);
        if (fl > ul + 1 && f->name[fl - ul - 1] == '_' &&
            strcmp(f->name + fl - ul, m->unit) == 0) {
            out_str(o, "# UNIT ");
            out_str(o, f->name);
            out_str(o, " ");
            out_str(o, m->unit);
            out_str(o, "\n");
        }
    }
    return 0;
}

/* name{l="v",...} value timestamp */
static int write_sample(pvm_arena *a, fed_out *o, const fed_item *it, bool om)
{
    out_str(o, it->name);
    bool first = true;
    for (size_t i = 0; i < it->ser->nlabels; i++) {
        const pvm_label *l = &it->ser->labels[i];
        if (!*l->value || !strcmp(l->name, PVM_METRIC_NAME_LABEL))
            continue;
        char *v = pvm_federate_escape(a, l->value, false, om);
        if (!v)
            return -1;
        out_str(o, first ? "{" : ",");
        out_str(o, l->name);
        out_str(o, "=\"");
        out_str(o, v);
        out_str(o, "\"");
        first = false;
    }
    if (!first)
        out_str(o, "}");
    char buf[PVM_FLOAT_BUFSIZE + 2];
    buf[0] = ' ';
    size_t n = pvm_format_float(buf + 1, it->v);
    out_write(o, buf, n + 1);
    if (om && it->t >= 0) {
        /* Seconds with the milliseconds and one more digit: parsers that
         * multiply the float by 1000 and truncate (Prometheus 2.x:
         * int64(ts * 1000)) would turn x.676 into 675 ms about half of
         * the time; x.6761 reads as 676 ms whether a parser truncates,
         * rounds or cuts the decimal digits. */
        n = (size_t)snprintf(buf + 1, sizeof(buf) - 1, "%lld.%03d1",
                             (long long)(it->t / 1000), (int)(it->t % 1000));
    } else if (om) {
        n = pvm_format_timestamp(buf + 1, it->t);
    } else {
        n = (size_t)snprintf(buf + 1, sizeof(buf) - 1, "%lld",
                             (long long)it->t);
    }
    out_write(o, buf, n + 1);
    out_str(o, "\n");
    return 0;
}

/* Collects the series of all selectors; fills *items. Returns 0 or a
 * negative status (*failed: a plugin's error response). */
static int collect(pvm_api_call *c, const pvm_query *q, int64_t now,
                   pvm_series_set *merged, pvm_response **failed,
                   pvm_error *err)
{
    pvm_request *proto = pvm_api_new_request(c, PVM_REQUEST_INSTANT, q);
    if (!proto || pvm_series_set_init(merged, c->a) < 0)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    proto->time = proto->start = proto->end = now;
    for (size_t i = 0; i < q->nselectors; i++) {
        int rc = fetch_selector(c, proto, &q->selectors[i], now, merged,
                                failed, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Turns the merged series into sorted items with their families. */
static fed_item *make_items(pvm_api_call *c, const pvm_series_set *merged,
                            const pvm_response *meta, bool om, size_t *n)
{
    fed_item *items = pvm_arena_alloc(c->a, (merged->n + 1) * sizeof(*items));
    if (!items)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < merged->n; i++) {
        const pvm_series *s = merged->list[i];
        const char *name = pvm_labels_get(s->labels, s->nlabels,
                                          PVM_METRIC_NAME_LABEL);
        bool ok = name && is_legacy_name(name, true) && s->npoints;
        for (size_t l = 0; ok && l < s->nlabels; l++)
            ok = is_legacy_name(s->labels[l].name, false) &&
                 pvm_is_valid_utf8(s->labels[l].value,
                                   strlen(s->labels[l].value));
        if (!ok) {
            pvm_log(PVM_LOG_DEBUG,
                    "federate: skipping a series whose "
                    "names or label values the text format cannot carry");
            continue;
        }
        fed_item *it = &items[k++];
        it->ser = s;
        it->name = name;
        it->t = s->first->p[0].t;
        it->v = s->first->p[0].v;
        pvm_federate_family_of(c->a, name, meta ? meta->meta : NULL,
                               meta ? meta->nmeta : 0, om, &it->fam);
    }
    qsort(items, k, sizeof(*items), item_cmp);
    *n = k;
    return items;
}

/* GET|POST <prefix>/federate?match[]= */
int pvm_api_federate(pvm_api_call *c)
{
    pvm_error *err = &c->ans->err;
    size_t nmatch;
    const char **m = pvm_api_params(c, "match[]", &nmatch);
    if (!m)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    const pvm_query *q = nmatch
                             ? pvm_query_parse_selectors(c->a, m, nmatch, err)
                             : NULL;
    if (nmatch && !q) {
        if (err->code == PVM_ERR_NOMEM)
            return err->code;
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "invalid parameter \"match[]\": %.*s",
                 (int)sizeof(msg) - 64, err->msg);
        memcpy(err->msg, msg, sizeof(msg));
        return err->code ? err->code : PVM_ERR_BAD_DATA;
    }
    bool om = pvm_federate_wants_openmetrics(pvm_http_header(c->hr, "Accept"));
    pvm_series_set merged = {0};
    pvm_response *failed = NULL;
    if (q && collect(c, q, pvm_api_now_ms(), &merged, &failed, err) < 0) {
        if (!failed)
            return err->code;
        c->ans->failed = failed->failed_plugin;
        return pvm_output_error(c->out, failed->error_code, failed->error_msg,
                                failed->headers, failed->nheaders);
    }
    pvm_response *meta = NULL;
    if (merged.n) {
        meta = pvm_api_collect_metadata(c, NULL, err);
        if (!meta)
            return err->code;
        if (meta->error_code) { /* answer without metadata, but say so */
            pvm_log(PVM_LOG_WARNING, "federate: metadata unavailable: %s",
                    meta->error_msg);
            meta = NULL;
        }
    }
    size_t n = 0;
    fed_item *items = make_items(c, &merged, meta, om, &n);
    fed_out *o = pvm_arena_alloc(c->a, sizeof(*o));
    if (!items || !o)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    o->out = c->out;
    o->len = 0;
    o->failed = false;
    int status = pvm_output_head(c->out, 200, om ? OM_TYPE : TEXT_TYPE, NULL,
                                 NULL, 0);
    for (size_t i = 0; i < n; i++) {
        const pvm_federate_family *f = &items[i].fam;
        bool new_family = i == 0 || strcmp(f->name, items[i - 1].fam.name) ||
                          f->type != items[i - 1].fam.type;
        if ((new_family && write_family_head(c->a, o, f, om) < 0) ||
            write_sample(c->a, o, &items[i], om) < 0)
            break; /* out of memory mid-answer: the scrape sees a cut */
    }
    if (om)
        out_str(o, "# EOF\n");
    out_flush(o);
    c->ans->count = n;
    return status < 0 ? 200 : status; /* 200 even when the client left */
}
