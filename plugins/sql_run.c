/* sql_run.c: one statement of the SQL core for a request: the pushdown of
 * the selector's exact matchers into a generated WHERE, the parameters,
 * the run with its deadline and one reconnect, and the rows read into
 * pvm_sql_row (bad rows failing or skipped as on_bad_row says). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_core.h"
#include "sql_run.h"

/* Alternatives of a regex pushed down as IN (...), at most. */
#define MAX_IN 1000

/* ---- the generated statement ---------------------------------------------- */

struct gen {
    pvm_sql_core *c;  /* the instance */
    pvm_sql_query *q; /* the query wrapped */
    pvm_arena *a;     /* the request's arena */
    char *sql;        /* text, arena */
    size_t n, cap;    /* bytes used / allocated */
    pvm_sql_param *p; /* parameters, arena */
    size_t np, pcap;  /* used / allocated */
    bool nomem;       /* an allocation failed */
};

static void gput(struct gen *g, const char *s)
{
    size_t l = strlen(s);
    if (g->nomem)
        return;
    if (g->n + l + 1 > g->cap) {
        size_t cap = (g->n + l + 1) * 2 + 256;
        char *v = pvm_arena_realloc(g->a, g->sql, g->cap, cap);
        if (!v) {
            g->nomem = true;
            return;
        }
        g->sql = v;
        g->cap = cap;
    }
    memcpy(g->sql + g->n, s, l + 1);
    g->n += l;
}

static void gparam(struct gen *g, pvm_sql_param p)
{
    if (g->nomem)
        return;
    if (g->np == g->pcap) {
        size_t cap = g->pcap ? g->pcap * 2 : 16;
        pvm_sql_param *v = pvm_arena_realloc(g->a, g->p, g->pcap * sizeof(*v),
                                             cap * sizeof(*v));
        if (!v) {
            g->nomem = true;
            return;
        }
        g->p = v;
        g->pcap = cap;
    }
    g->p[g->np++] = p;
}

/* A placeholder for a TEXT parameter. */
static void gtext(struct gen *g, const char *value)
{
    char ph[32];
    gparam(g, (pvm_sql_param){PVM_SQL_PARAM_TEXT, 0, value, strlen(value)});
    g->c->drv->placeholder((unsigned)g->np, ph, sizeof(ph));
    gput(g, ph);
}

/* The column holding label `name` in q (the metric_column for
 * __name__), or -1 when the query has none. */
static int label_column(const pvm_sql_query *q, const char *name)
{
    if (strcmp(name, "__name__") == 0)
        return q->name_col;
    for (size_t i = 0; i < q->nlabels; i++)
        if (strcmp(q->cols[q->label_col[i]].name, name) == 0)
            return q->label_col[i];
    return -1;
}

/* The column as the text a label value is compared with. */
static void gcolumn(struct gen *g, int col, bool as_text)
{
    const pvm_sql_column *k = &g->q->cols[col];
    char quoted[160], pre[64];
    snprintf(quoted, sizeof(quoted), "%c%s%c", g->c->drv->ident_quote, k->name,
             g->c->drv->ident_quote);
    const char *cast = g->c->drv->text_cast;
    const char *hole = strstr(cast, "%s");
    if (k->is_text || !as_text || !hole) {
        gput(g, quoted);
        return;
    }
    snprintf(pre, sizeof(pre), "%.*s", (int)(hole - cast), cast);
    gput(g, pre);
    gput(g, quoted);
    gput(g, hole + 2);
}

/* The column through text_cast whatever its declared type, for `<>`:
 * no index serves `<>` anyway, and a collation that calls two different
 * texts equal (MariaDB's case-insensitive, trailing-space-padding ones:
 * 'Kitchen' <> 'kitchen' is false there) would drop rows pvm keeps; the
 * driver's cast is exact (MariaDB: CAST(x AS BINARY)). */
static void gcolumn_cast(struct gen *g, int col)
{
    const pvm_sql_column *k = &g->q->cols[col];
    const char *cast = g->c->drv->text_cast, *hole = strstr(cast, "%s");
    char quoted[160], pre[64];
    snprintf(quoted, sizeof(quoted), "%c%s%c", g->c->drv->ident_quote, k->name,
             g->c->drv->ident_quote);
    if (!hole) {
        gput(g, quoted);
        return;
    }
    snprintf(pre, sizeof(pre), "%.*s", (int)(hole - cast), cast);
    gput(g, pre);
    gput(g, quoted);
    gput(g, hole + 2);
}

/* Appends the condition of one matcher when the database can evaluate
 * it exactly; returns whether it did. A label column's NULL is the empty
 * value, as a missing label: matchers that accept "" are not pushed. */
static bool gmatcher(struct gen *g, const char *name, pvm_match_op op,
                     const char *value, bool first)
{
    int col = label_column(g->q, name);
    if (col < 0 || !value[0])
        return false;
    const char *alts[MAX_IN];
    size_t nalt = 0;
    char *buf = NULL;
    if (op == PVM_MATCH_REGEX) {
        size_t n = strlen(value) + 1;
        if (!(buf = pvm_arena_alloc(g->a, n)))
            return g->nomem = true, false;
        if (!(nalt = pvm_sql_regex_literals(value, buf, n, alts, MAX_IN)))
            return false;
    } else if (op != PVM_MATCH_EQUAL && op != PVM_MATCH_NOT_EQUAL) {
        return false;
    }
    gput(g, first ? "" : " AND ");
    if (op == PVM_MATCH_NOT_EQUAL) {
        gput(g, "(");
        gcolumn(g, col, false);
        gput(g, " IS NULL OR ");
        gcolumn_cast(g, col);
        gput(g, " <> ");
        gtext(g, value);
        gput(g, ")");
    } else if (op == PVM_MATCH_EQUAL || nalt == 1) {
        gcolumn(g, col, true);
        gput(g, " = ");
        gtext(g, nalt == 1 ? alts[0] : value);
    } else {
        gcolumn(g, col, true);
        gput(g, " IN (");
        for (size_t i = 0; i < nalt; i++) {
            gput(g, i ? ", " : "");
            gtext(g, alts[i]);
        }
        gput(g, ")");
    }
    return true;
}

/* Whether selector s can select one of the instance's metrics, by its
 * = and != name matchers (regexes on the name: maybe). */
static bool selector_wants(const pvm_sql_core *c, const pvm_selector *s)
{
    if (c->metric_column)
        return true;
    for (size_t m = 0; m < c->nmetrics; m++) {
        bool ok = true;
        for (size_t i = 0; ok && i < pvm_selector_matcher_count(s); i++) {
            const char *name, *value;
            pvm_match_op op;
            pvm_selector_matcher(s, i, &name, &op, &value);
            if (strcmp(name, "__name__") != 0)
                continue;
            if (op == PVM_MATCH_EQUAL)
                ok = strcmp(value, c->metrics[m].name) == 0;
            else if (op == PVM_MATCH_NOT_EQUAL)
                ok = strcmp(value, c->metrics[m].name) != 0;
        }
        if (ok)
            return true;
    }
    return false;
}

/* The conditions of one selector, "(a AND b)"; false when it has none
 * the database can evaluate (then nothing may be filtered). */
static bool gselector(struct gen *g, const pvm_selector *s)
{
    size_t mark = g->n, pmark = g->np;
    bool any = false;
    gput(g, "(");
    for (size_t i = 0; i < pvm_selector_matcher_count(s); i++) {
        const char *name, *value;
        pvm_match_op op;
        pvm_selector_matcher(s, i, &name, &op, &value);
        if (gmatcher(g, name, op, value, !any))
            any = true;
    }
    gput(g, ")");
    if (!any && !g->nomem) {
        g->n = mark;
        g->sql[mark] = '\0';
        g->np = pmark;
    }
    return any;
}

/* Builds the statement of q for the request: the base parameters, then
 * the WHERE of the selectors that can select the instance's metrics.
 * Returns 1 when it should run, 0 when no selector can select anything
 * of it, -1 out of memory. */
static int generate(struct gen *g, const pvm_query *query,
                    const double named[4])
{
    const pvm_sql_query *q = g->q;
    for (size_t i = 0; i < q->nparams; i++)
        gparam(g, (pvm_sql_param){PVM_SQL_PARAM_NUMBER, named[q->params[i]],
                                  NULL, 0});
    size_t nsel = pvm_query_selector_count(query);
    if (pvm_query_is_empty(query) || nsel == 0) {
        gput(g, q->sql);
        return g->nomem ? -1 : 1;
    }
    gput(g, "SELECT * FROM (\n");
    gput(g, q->sql);
    gput(g, "\n) AS pvm_q WHERE ");
    size_t pbase = g->np;
    size_t wanted = 0;
    bool all = true; /* every wanted selector has conditions */
    for (size_t i = 0; i < nsel && all; i++) {
        const pvm_selector *s = pvm_query_selector(query, i);
        if (!selector_wants(g->c, s))
            continue;
        if (wanted++)
            gput(g, " OR ");
        all = gselector(g, s);
    }
    if (g->nomem)
        return -1;
    if (wanted == 0)
        return 0;
    if (!all) { /* the query as it is */
        g->n = 0;
        g->np = pbase;
        gput(g, q->sql);
    }
    return g->nomem ? -1 : 1;
}

/* ---- reading rows --------------------------------------------------------- */

struct reader {
    pvm_plugin *self; /* the instance */
    pvm_sql_core *c;  /* its core */
    pvm_sql_query *q; /* the query run */
    pvm_sql_row row;  /* the current row */
    const char *why;  /* what is wrong with a bad row */
    const char *col;  /* the column, or NULL */
    char whybuf[160]; /* why, when it names a column */
    bool values;      /* read timestamp and values (not discovery) */
};

/* Reads the current row: 1 sample(s), 0 skip (NULL time), -1 bad with
 * r->why and r->col. Labels are read first so that a bad row can be
 * checked against the selector. */
static int read_row(struct reader *r)
{
    const pvm_sql_driver *d = r->c->drv;
    pvm_sql_query *q = r->q;
    pvm_sql_row *row = &r->row;
    pvm_sql_value v;
    row->nlabels = 0;
    row->name = NULL;
    r->why = r->col = NULL;
    int bad = 0;
    for (size_t i = 0; i < q->nlabels; i++) {
        d->column(r->self, q->label_col[i], true, &v);
        const char *name = q->cols[q->label_col[i]].name;
        const char *text = v.kind == PVM_SQL_TEXT ? v.text : "";
        if (v.kind == PVM_SQL_TEXT && strlen(v.text) != v.len) {
            r->why = "the value contains a NUL byte (label values are "
                     "text: convert or replace() it in the query)";
            r->col = name;
            text = "";
            bad = -1;
        }
        row->labels[row->nlabels++] = (pvm_label){name, text};
    }
    if (q->name_col >= 0) {
        d->column(r->self, q->name_col, true, &v);
        if (v.kind == PVM_SQL_NULL && !bad)
            return 0; /* no metric: skipped, as a NULL value */
        row->name = v.kind == PVM_SQL_TEXT ? v.text : "";
        if (!bad &&
            (!pvm_is_metric_name(row->name) || strlen(row->name) != v.len)) {
            r->why = "the metric name is not a valid metric name";
            r->col = q->cols[q->name_col].name;
            row->name = "";
            bad = -1;
        }
    }
    if (q->ts_col < 0 || bad || !r->values) {
        for (size_t i = 0; !bad && !r->values && i < r->c->nmetrics + 1; i++)
            row->has[i] = true; /* discovery: values are not read */
        return bad ? -1 : 1;
    }
    d->column(r->self, q->ts_col, false, &v);
    switch (v.kind) {
    case PVM_SQL_NULL: return 0;
    case PVM_SQL_NUMBER:
        if (!(fabs(v.num) < 9e12)) {
            r->why = "a timestamp is out of range (unix seconds expected)";
            return -1;
        }
        row->t = llround(v.num * 1000.0);
        break;
    case PVM_SQL_TIME: row->t = v.ms; break;
    case PVM_SQL_TEXT:
        if (pvm_sql_parse_time(v.text, v.len, &row->t) < 0) {
            r->why = "a timestamp is not a number (unix seconds) or a "
                     "date-time";
            return -1;
        }
        break;
    }
    size_t nv = q->name_col >= 0 ? 1 : r->c->nmetrics;
    for (size_t i = 0; i < nv; i++) {
        d->column(r->self, q->val_col[i], false, &v);
        row->has[i] = v.kind != PVM_SQL_NULL;
        if (v.kind == PVM_SQL_NUMBER)
            row->v[i] = v.num;
        else if (v.kind == PVM_SQL_TEXT &&
                 pvm_sql_parse_number(v.text, v.len, &row->v[i]) == 0)
            ;
        else if (v.kind != PVM_SQL_NULL) {
            snprintf(r->whybuf, sizeof(r->whybuf),
                     "a value is not a number (column '%s')",
                     q->cols[q->val_col[i]].name);
            r->why = r->whybuf;
            return -1;
        }
    }
    return 1;
}

/* Whether the selector keeps a (bad) row: some metric it could be
 * matches with these labels. */
static bool row_kept(const struct reader *r, const pvm_query *query)
{
    if (r->row.name)
        return pvm_query_matches(query, r->row.name, r->row.labels,
                                 r->row.nlabels);
    for (size_t i = 0; i < r->c->nmetrics; i++)
        if (pvm_query_matches(query, r->c->metrics[i].name, r->row.labels,
                              r->row.nlabels))
            return true;
    return false;
}

/* ---- running -------------------------------------------------------------- */

bool pvm_sql_any_name(const pvm_sql_core *c, const pvm_query *q)
{
    if (c->metric_column)
        return true;
    for (size_t i = 0; i < c->nmetrics; i++)
        if (pvm_query_name_matches(q, c->metrics[i].name))
            return true;
    return false;
}

/* The answer when the database cannot be reached: 503. */
static int unavailable(pvm_plugin *self, pvm_response *resp,
                       const pvm_error *e)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    return pvm_response_set_error(resp, PVM_ERR_UNAVAILABLE,
                                  "%s instance %s: the database is "
                                  "unavailable (%s); try again later",
                                  c->drv->name, pvm_plugin_name(self), e->msg);
}

/* A failed exec or step: the answer. */
static int failed(pvm_plugin *self, pvm_sql_query *q, pvm_response *resp,
                  const pvm_error *e, bool broken)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    if (e->code == PVM_ERR_TIMEOUT)
        return pvm_response_set_error(resp, PVM_ERR_TIMEOUT,
                                      "query timed out in %s of plugin %s "
                                      "(instance %s: the request's deadline "
                                      "or statement_timeout passed)",
                                      q->what, c->drv->name,
                                      pvm_plugin_name(self));
    if (broken)
        return unavailable(self, resp, e);
    return pvm_response_fail(resp, "%s: %s", q->what, e->msg);
}

/* One attempt: 0 done, a status, or 1 when the connection broke before
 * any row was read (retry). */
static int attempt(struct reader *r, const struct gen *g, pvm_request *req,
                   pvm_response *resp, int64_t start, int64_t end,
                   pvm_sql_row_fn fn, void *arg)
{
    pvm_plugin *self = r->self;
    pvm_sql_core *c = r->c;
    const pvm_query *query = pvm_request_query(req);
    int64_t left = pvm_request_remaining_ms(req);
    if (c->timeout_ms > 0 && c->timeout_ms < left)
        left = c->timeout_ms;
    pvm_error e = {0};
    if (left <= 0) {
        e.code = PVM_ERR_TIMEOUT;
        return failed(self, r->q, resp, &e, false);
    }
    long nrow = 0, nbad = 0;
    int rc = c->drv->exec(self, g->sql, g->p, g->np, left, &e), k = 0;
    while (rc == 0 && (k = c->drv->step(self, &e)) > 0) {
        nrow++;
        int got = read_row(r);
        if (got < 0 && row_kept(r, query)) {
            char where[160];
            if (r->col)
                snprintf(where, sizeof(where), "%s: row %ld, column '%s'",
                         r->q->what, nrow, r->col);
            else
                snprintf(where, sizeof(where), "%s: row %ld", r->q->what,
                         nrow);
            if (c->on_bad_row == PVM_SQL_BAD_ROW_FAIL) {
                rc = pvm_response_fail(resp, "%s: %s", where, r->why);
                break;
            }
            if (nbad++ == 0)
                pvm_response_add_warning(resp,
                                         "plugin %s: skipped a bad row "
                                         "(on_bad_row = skip): %s: %s",
                                         pvm_plugin_name(self), where, r->why);
            continue;
        }
        if (got <= 0)
            continue;
        if (r->values && (r->row.t < start || r->row.t > end))
            continue;
        if ((rc = fn(c, &r->row, arg)) < 0)
            break;
    }
    bool broken = (rc < 0 || k < 0) && e.code && c->drv->is_broken &&
                  c->drv->is_broken(self);
    c->drv->finish(self);
    if (nbad > 1)
        pvm_response_add_warning(resp, "plugin %s: %ld bad rows skipped",
                                 pvm_plugin_name(self), nbad);
    if (rc < 0 && !e.code)
        return rc; /* the response failed */
    if (rc == 0 && k == 0)
        return 0;
    if (broken && nrow == 0 && e.code != PVM_ERR_TIMEOUT)
        return 1;
    return failed(self, r->q, resp, &e, broken);
}

/* Unix seconds bound as :start and :end, clamped to years 1 to 9999 so
 * that a database's timestamp conversions accept them (series requests
 * without start or end ask for the widest range). */
static double seconds(int64_t ms)
{
    double s = (double)ms / 1000.0;
    return s < -62135596800.0   ? -62135596800.0
           : s > 253402300799.0 ? 253402300799.0
                                : s;
}

int pvm_sql_run(pvm_plugin *self, pvm_sql_query *q, pvm_request *req,
                pvm_response *resp, int64_t start, int64_t end, bool values,
                pvm_sql_row_fn fn, void *arg)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    pvm_arena *a = pvm_request_arena(req);
    for (int tries = 0; tries < 2; tries++) {
        bool down;
        pvm_error e = {0};
        int64_t left = pvm_request_remaining_ms(req);
        if (left <= 0) {
            e.code = PVM_ERR_TIMEOUT;
            return failed(self, q, resp, &e, false);
        }
        if (pvm_sql_ready(self, left == INT64_MAX ? 0 : left, &down, &e) < 0)
            return down ? unavailable(self, resp, &e)
                        : pvm_response_fail(resp, "%s", e.msg);
        double named[4] = {seconds(start), seconds(end),
                           (double)pvm_request_step(req) / 1000.0,
                           (double)c->lookback_ms / 1000.0};
        struct gen g = {.c = c, .q = q, .a = a};
        int k = generate(&g, pvm_request_query(req), named);
        if (k < 0)
            return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                          "out of request memory");
        if (k == 0)
            return 0;
        size_t nv = c->nmetrics ? c->nmetrics : 1;
        struct reader r = {self, c, q, {0}, NULL, NULL, "", values};
        r.row.v = pvm_arena_calloc(a, nv, sizeof(double));
        r.row.has = pvm_arena_calloc(a, nv + 1, sizeof(bool));
        r.row.labels = pvm_arena_calloc(a, q->nlabels + 1, sizeof(pvm_label));
        if (!r.row.v || !r.row.has || !r.row.labels)
            return pvm_response_set_error(resp, PVM_ERR_NOMEM,
                                          "out of request memory");
        int rc = attempt(&r, &g, req, resp, start, end, fn, arg);
        if (rc <= 0)
            return rc;
        pvm_plugin_log(self, PVM_LOG_WARNING,
                       "the connection broke; reconnecting once");
        pvm_sql_disconnect(self);
    }
    pvm_error e = {0};
    pvm_error_set(&e, PVM_ERR_INTERNAL, "the connection broke again");
    return unavailable(self, resp, &e);
}
