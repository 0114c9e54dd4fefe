/* sqlite.c: charts an SQLite database. Each instance serves one metric
 * from one SELECT with the named parameters :start and :end (unix seconds)
 * that returns a timestamp column, a value column and one column per
 * label. The database is opened read-only once per worker and the
 * statements are prepared once and reused. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include <pvm/pvm.h>

#define MAX_LABEL_COLUMNS 64

/* A prepared statement and what its columns mean. */
struct stmt {
    sqlite3_stmt *s;                     /* prepared, reused */
    const char *what;                    /* "query" or "labels_query" */
    int ts_col, val_col;                 /* column indexes, -1 if none */
    int label_col[MAX_LABEL_COLUMNS];    /* columns that are labels */
    char *label_name[MAX_LABEL_COLUMNS]; /* their names, malloc'd */
    size_t nlabels;                      /* number of label columns */
};

/* Per-instance state. */
struct sqlite_plugin {
    char *database;       /* `database =`, resolved (the strings are
                                set and freed by the server) */
    char *metric;         /* `metric =` */
    char *query;          /* `query =` SELECT, malloc'd */
    char *labels_query;   /* `labels_query =` SELECT, malloc'd or NULL */
    char *ts_name;        /* `timestamp_column =`, default timestamp */
    char *val_name;       /* `value_column =`, default value */
    char *help;           /* `help =` (metadata), malloc'd or NULL */
    pvm_metric_type type; /* `metric_type =` (`type =` names the
                                plugin type), default unknown */
    char *unit;           /* `unit =` (metadata), malloc'd or NULL */
    int64_t lookback;     /* ms, [server] lookback_delta */
    sqlite3 *db;          /* read-only connection, per worker */
    struct stmt main;     /* the query */
    struct stmt labels;   /* the labels_query (s NULL when none) */
};

/* One row of a query, read. */
struct row {
    int64_t t;                           /* timestamp, ms */
    double v;                            /* value */
    pvm_label labels[MAX_LABEL_COLUMNS]; /* valid until the next step */
    size_t nlabels;                      /* number of labels */
};

/* ---- configuration ---------------------------------------------------- */

/* `metric_type =`: any word of # TYPE lines (pvm_metric_type_parse). */
static int sqlite_configure(pvm_plugin *self, const char *key,
                            const char *value, pvm_error *err)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    if (strcmp(key, "metric_type") == 0) {
        if (pvm_metric_type_parse(value, &st->type) < 0)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "'%s' is not a metric type (counter, "
                                 "gauge, histogram, summary, unknown, ...)",
                                 value);
        return 0;
    }
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "unknown key");
}

#define SQ(field) offsetof(struct sqlite_plugin, field)

/* [plugin:NAME] keys (pvm/config.h); `type =` names the plugin type, so
 * the metric's type is `metric_type =`. */
static const pvm_plugin_key sqlite_keys[] = {
    {"database", PVM_KEY_PATH, SQ(database), .required = true,
     .doc = "the SQLite database, opened read-only"},
    {"metric", PVM_KEY_METRIC_NAME, SQ(metric), .required = true,
     .doc = "name of the metric served"},
    {"query", PVM_KEY_STRING, SQ(query), .required = true,
     .doc = "one SELECT of the samples; :start and :end (unix seconds) "
            "give the range"},
    {"labels_query", PVM_KEY_STRING, SQ(labels_query),
     .doc = "SELECT of the label sets, for discovery (default: query "
            "over the request's range)"},
    {"timestamp_column", PVM_KEY_LABEL_NAME, SQ(ts_name), .def = "timestamp",
     .doc = "column of the sample time (unix "
            "seconds)"},
    {"value_column", PVM_KEY_LABEL_NAME, SQ(val_name), .def = "value",
     .doc = "column of the sample values"},
    {"help", PVM_KEY_STRING, SQ(help), .doc = "HELP text of the metric"},
    {"metric_type", PVM_KEY_CUSTOM, .def = "unknown",
     .doc = "TYPE of the metric: counter, gauge, histogram, summary, "
            "unknown, ..."},
    {"unit", PVM_KEY_STRING, SQ(unit), .doc = "UNIT of the metric"},
    {NULL},
};

static void stmt_free(struct stmt *s)
{
    sqlite3_finalize(s->s);
    for (size_t i = 0; i < s->nlabels; i++)
        free(s->label_name[i]);
    memset(s, 0, sizeof(*s));
}

static void sqlite_destroy(pvm_plugin *self)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    stmt_free(&st->main);
    stmt_free(&st->labels);
    sqlite3_close(st->db);
}

/* ---- startup ------------------------------------------------------------ */

/* Only :start and :end may appear as parameters. */
static int check_params(struct stmt *s, pvm_error *err)
{
    for (int i = 1; i <= sqlite3_bind_parameter_count(s->s); i++) {
        const char *p = sqlite3_bind_parameter_name(s->s, i);
        if (!p || (strcmp(p, ":start") && strcmp(p, ":end")))
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "%s: parameter %s is not known (use "
                                 ":start and :end, unix seconds)",
                                 s->what, p ? p : "?");
    }
    return 0;
}

/* Sorts the columns of a prepared statement: timestamp, value (when
 * ts_name is given) and labels (all other columns). */
static int map_columns(struct stmt *s, const char *ts_name,
                       const char *val_name, pvm_error *err)
{
    s->ts_col = s->val_col = -1;
    int n = sqlite3_column_count(s->s);
    for (int i = 0; i < n; i++) {
        const char *c = sqlite3_column_name(s->s, i);
        if (!c)
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        if (ts_name && strcasecmp(c, ts_name) == 0 && s->ts_col < 0) {
            s->ts_col = i;
        } else if (val_name && strcasecmp(c, val_name) == 0 &&
                   s->val_col < 0) {
            s->val_col = i;
        } else if (!pvm_is_label_name(c) || strncmp(c, "__", 2) == 0) {
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "%s: column '%s' is not a valid label name "
                                 "(rename it with AS)",
                                 s->what, c);
        } else if (s->nlabels == MAX_LABEL_COLUMNS) {
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "%s: more than %d "
                                 "label columns",
                                 s->what, MAX_LABEL_COLUMNS);
        } else {
            s->label_col[s->nlabels] = i;
            if (!(s->label_name[s->nlabels++] = strdup(c)))
                return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        }
    }
    if (ts_name && (s->ts_col < 0 || s->val_col < 0))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "%s: no column named '%s' (set %s)", s->what,
                             s->ts_col < 0 ? ts_name : val_name,
                             s->ts_col < 0 ? "timestamp_column"
                                           : "value_column");
    return 0;
}

static int prepare(struct sqlite_plugin *st, struct stmt *s, const char *sql,
                   const char *what, bool data, pvm_error *err)
{
    const char *tail = NULL;
    s->what = what;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->s,
                           &tail) != SQLITE_OK)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "%s: %s", what,
                             sqlite3_errmsg(st->db));
    if (!s->s || tail[strspn(tail, " \t\r\n;")])
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "%s: must be exactly "
                             "one SELECT statement",
                             what);
    if (!sqlite3_stmt_readonly(s->s))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "%s: must be a SELECT "
                             "(it would write)",
                             what);
    if (check_params(s, err) < 0)
        return err->code;
    return map_columns(s, data ? st->ts_name : NULL,
                       data ? st->val_name : NULL, err);
}

/* Opens the database read-only and prepares the statements. */
static int sqlite_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    st->lookback = pvm_context_lookback_ms(ctx);
    stmt_free(&st->main);
    stmt_free(&st->labels);
    sqlite3_close(st->db);
    st->db = NULL;
    const char *path = st->database;
    int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        pvm_error_set(err, PVM_ERR_BAD_DATA, "database %s: %s", path,
                      st->db ? sqlite3_errmsg(st->db) : "out of memory");
        return err->code;
    }
    sqlite3_busy_timeout(st->db, 1000);
    if (prepare(st, &st->main, st->query, "query", true, err) < 0 ||
        (st->labels_query && prepare(st, &st->labels, st->labels_query,
                                     "labels_query", false, err) < 0))
        return err->code;
    return 0;
}

static int sqlite_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    stmt_free(&st->main);
    stmt_free(&st->labels);
    sqlite3_close(st->db);
    st->db = NULL;
    return 0;
}

/* --check-config: what the start does (open the database read-only,
 * prepare the statements, refuse a statement that would write or a
 * second statement), then closes again. */
static int sqlite_validate(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    int rc = sqlite_startup(self, ctx, err);
    sqlite_shutdown(self, ctx, NULL);
    return rc;
}

/* ---- running a statement ------------------------------------------------ */

/* Reads a numeric column: 1 with *out set, 0 for NULL, -1 when the
 * column holds something else than a number. Text must be a number as
 * Prometheus' text format writes it (pvm_parse_sample_value: decimal,
 * NaN, Inf; not "0x10" or "1_000"), blanks around it ignored. */
static int column_number(sqlite3_stmt *s, int col, double *out)
{
    switch (sqlite3_column_type(s, col)) {
    case SQLITE_NULL: return 0;
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: *out = sqlite3_column_double(s, col); return 1;
    case SQLITE_TEXT: {
        const char *t = (const char *)sqlite3_column_text(s, col);
        size_t n = t ? (size_t)sqlite3_column_bytes(s, col) : 0;
        char buf[128];
        if (!t || strlen(t) != n) /* a NUL inside: not a number */
            return -1;
        while (n && (*t == ' ' || *t == '\t'))
            t++, n--;
        while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
            n--;
        if (n >= sizeof(buf))
            return -1;
        memcpy(buf, t, n);
        buf[n] = '\0';
        return pvm_parse_sample_value(buf, out) == 0 ? 1 : -1;
    }
    default: return -1;
    }
}

/* Reads the current row: 1 when it is a sample (or a label row), 0 when
 * its timestamp or value is NULL (skipped), -1 with *why otherwise. A
 * label value holding a NUL byte (a BLOB, or text stored with one) is
 * refused: label values are UTF-8 text and the server's strings end at
 * NUL, so keeping it would cut it silently; *bad_label then names the
 * column. */
static int read_row(const struct stmt *m, struct row *r, const char **why,
                    const char **bad_label)
{
    double t = 0;
    r->nlabels = 0;
    r->t = 0;
    r->v = 0;
    if (m->ts_col >= 0) {
        int kt = column_number(m->s, m->ts_col, &t);
        int kv = column_number(m->s, m->val_col, &r->v);
        if (kt < 0 || kv < 0) {
            *why = kt < 0 ? "a timestamp is not a number (unix seconds)"
                          : "a value is not a number";
            return -1;
        }
        if (kt == 0 || kv == 0)
            return 0;
        if (!(fabs(t) < 9e12)) {
            *why = "a timestamp is out of range (unix seconds expected)";
            return -1;
        }
        r->t = llround(t * 1000.0);
    }
    for (size_t i = 0; i < m->nlabels; i++) {
        const char *v = (const char *)sqlite3_column_text(m->s,
                                                          m->label_col[i]);
        if (v &&
            strlen(v) != (size_t)sqlite3_column_bytes(m->s, m->label_col[i])) {
            *why = "the value contains a NUL byte (label values are text: "
                   "convert or replace() it in the query)";
            *bad_label = m->label_name[i];
            return -1;
        }
        r->labels[r->nlabels++] = (pvm_label){m->label_name[i], v ? v : ""};
    }
    return 1;
}

typedef int (*row_fn)(struct sqlite_plugin *st, const struct row *r,
                      void *arg);

/* SQLite VM steps between two looks at the clock while a statement runs
 * (microseconds of work). */
#define DEADLINE_CHECK_STEPS 10000

/* sqlite3_progress_handler callback: interrupts the statement once the
 * request's deadline has passed. */
static int past_deadline(void *req)
{
    return pvm_request_remaining_ms(req) <= 0;
}

/* Runs m with :start and :end bound (unix seconds), calling fn for each
 * row, then resets it for the next request. An SQL error fails the hook
 * (the server names the instance); a statement still running at the
 * request's deadline is interrupted and answers Prometheus' 503 timeout.
 * Returns 0 or the failing status. */
static int run(struct sqlite_plugin *st, struct stmt *m, int64_t start,
               int64_t end, pvm_response *resp, row_fn fn, void *arg)
{
    if (!m->s)
        return pvm_response_fail(resp, "the database is not open");
    int i = sqlite3_bind_parameter_index(m->s, ":start");
    if (i)
        sqlite3_bind_double(m->s, i, (double)start / 1000.0);
    if ((i = sqlite3_bind_parameter_index(m->s, ":end")))
        sqlite3_bind_double(m->s, i, (double)end / 1000.0);
    int rc = 0, src;
    long nrow = 0;
    struct row r;
    sqlite3_progress_handler(st->db, DEADLINE_CHECK_STEPS, past_deadline,
                             (void *)pvm_response_request(resp));
    while ((src = sqlite3_step(m->s)) == SQLITE_ROW) {
        const char *why = NULL, *col = NULL;
        int k = read_row(m, &r, &why, &col);
        nrow++;
        if (k < 0 && col) {
            rc = pvm_response_fail(resp, "%s: row %ld, column '%s': %s",
                                   m->what, nrow, col, why);
            break;
        }
        if (k < 0) {
            rc = pvm_response_fail(resp, "%s: row %ld: %s", m->what, nrow,
                                   why);
            break;
        }
        if (k > 0 && (rc = fn(st, &r, arg)) < 0)
            break;
    }
    sqlite3_progress_handler(st->db, 0, NULL, NULL);
    if (rc == 0 && src == SQLITE_INTERRUPT)
        rc = pvm_response_set_error(resp, PVM_ERR_TIMEOUT,
                                    "query timed out in %s of plugin "
                                    "sqlite (the request's deadline passed)",
                                    m->what);
    else if (rc == 0 && src != SQLITE_DONE)
        rc = pvm_response_fail(resp, "%s: %s", m->what,
                               sqlite3_errmsg(st->db));
    sqlite3_reset(m->s);
    sqlite3_clear_bindings(m->s);
    return rc;
}

/* Distinct label sets of a request, in its arena. */
struct lset {
    const char *key;   /* the label values, NUL-separated */
    size_t klen;       /* bytes in key */
    pvm_label *labels; /* copies */
    size_t nlabels;    /* number of labels */
    int64_t t;         /* latest timestamp seen (instant queries) */
    double v;          /* its value */
};

struct lmap {
    struct lset **v;    /* open addressing, NULL when empty */
    size_t cap, n;      /* capacity (power of 2) / used */
    pvm_arena *a;       /* the request's arena */
    pvm_response *resp; /* where out-of-memory goes */
    int64_t start, end; /* rows outside are ignored */
};

static struct lset **lmap_slot(struct lmap *m, const char *key, size_t n)
{
    size_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
        if (!m->v[i] || (m->v[i]->klen == n && !memcmp(m->v[i]->key, key, n)))
            return &m->v[i];
}

static int lmap_grow(struct lmap *m)
{
    struct lmap big = *m;
    big.cap = m->cap ? m->cap * 2 : 64;
    big.n = 0;
    if (!(big.v = pvm_arena_calloc(m->a, big.cap, sizeof(*big.v))))
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->v[i])
            *lmap_slot(&big, m->v[i]->key, m->v[i]->klen) = m->v[i], big.n++;
    *m = big;
    return 0;
}

/* The set of r's labels, created (copied) when new; NULL out of memory. */
static struct lset *lmap_get(struct lmap *m, const struct row *r)
{
    char key[8192];
    size_t n = 0;
    for (size_t i = 0; i < r->nlabels; i++) {
        size_t l = strlen(r->labels[i].value) + 1;
        if (n + l > sizeof(key))
            return NULL;
        memcpy(key + n, r->labels[i].value, l);
        n += l;
    }
    if ((m->n + 1) * 2 > m->cap && lmap_grow(m) < 0)
        return NULL;
    struct lset **slot = lmap_slot(m, key, n);
    if (*slot)
        return *slot;
    struct lset *s = pvm_arena_calloc(m->a, 1, sizeof(*s));
    pvm_label *l = pvm_arena_calloc(m->a, r->nlabels + 1, sizeof(*l));
    char *k = s && l ? pvm_arena_strndup(m->a, key, n ? n - 1 : 0) : NULL;
    if (!k)
        return NULL;
    for (size_t i = 0, off = 0; i < r->nlabels; i++) {
        l[i] = (pvm_label){r->labels[i].name, k + off};
        off += strlen(r->labels[i].value) + 1;
    }
    *s = (struct lset){k, n, l, r->nlabels, INT64_MIN, 0};
    *slot = s;
    m->n++;
    return s;
}

/* Row callback: remembers the latest sample in [start, end] per set. */
static int keep_latest(struct sqlite_plugin *st, const struct row *r,
                       void *arg)
{
    struct lmap *m = arg;
    if (r->t < m->start || r->t > m->end)
        return 0;
    struct lset *s = lmap_get(m, r);
    if (!s)
        return pvm_response_set_error(m->resp, PVM_ERR_NOMEM,
                                      "out of request memory (or label "
                                      "values over 8 KiB)");
    if (r->t >= s->t) {
        s->t = r->t;
        s->v = r->v;
    }
    return 0;
}

/* ---- hooks ---------------------------------------------------------------- */

struct range_arg {
    pvm_response *resp; /* where samples go */
    int64_t start, end; /* the window, ms */
};

static int add_row(struct sqlite_plugin *st, const struct row *r, void *arg)
{
    const struct range_arg *a = arg;
    if (r->t < a->start || r->t > a->end)
        return 0;
    int rc = pvm_response_add_sample(a->resp, st->metric, r->v, r->t,
                                     r->labels, r->nlabels);
    return rc < 0 ? rc : 0;
}

/* GET|POST /api/v1/query_range: the rows from start to end as samples;
 * the server's engine asks for a window that covers everything it
 * needs. */
static int sqlite_range(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    struct range_arg a = {resp, pvm_request_start(req), pvm_request_end(req)};
    return run(st, &st->main, a.start, a.end, resp, add_row, &a);
}

/* GET|POST /api/v1/query: per label set the latest row in
 * (time - lookback_delta, time], at its own timestamp (timestamp(x) gives
 * it; the engine answers at the evaluation time). */
static int sqlite_instant(pvm_plugin *self, pvm_request *req,
                          pvm_response *resp)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    if (!pvm_query_name_matches(pvm_request_query(req), st->metric))
        return 0;
    int64_t t = pvm_request_time(req);
    struct lmap m = {.a = pvm_request_arena(req),
                     .resp = resp,
                     .start = t - st->lookback + 1,
                     .end = t};
    int rc = run(st, &st->main, m.start, m.end, resp, keep_latest, &m);
    for (size_t i = 0; rc >= 0 && i < m.cap; i++)
        if (m.v[i])
            rc = pvm_response_add_sample(resp, st->metric, m.v[i]->v,
                                         m.v[i]->t, m.v[i]->labels,
                                         m.v[i]->nlabels);
    return rc < 0 ? rc : 0;
}

/* The distinct label sets of the request's range: from labels_query, or
 * from the rows of the query in [start, end]. */
static int label_sets(struct sqlite_plugin *st, pvm_request *req,
                      pvm_response *resp, struct lmap *m)
{
    *m = (struct lmap){.a = pvm_request_arena(req),
                       .resp = resp,
                       .start = pvm_request_start(req),
                       .end = pvm_request_end(req)};
    struct stmt *s = st->labels.s ? &st->labels : &st->main;
    if (st->labels.s)
        m->start = INT64_MIN, m->end = INT64_MAX; /* rows have no time */
    return run(st, s, pvm_request_start(req), pvm_request_end(req), resp,
               keep_latest, m);
}

/* What a discovery hook does with one label set that matches. */
typedef int (*visit_fn)(struct sqlite_plugin *st, const struct lset *s,
                        pvm_request *req, pvm_response *resp);

static int discover(pvm_plugin *self, pvm_request *req, pvm_response *resp,
                    visit_fn visit)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    const pvm_query *q = pvm_request_query(req);
    if (!pvm_query_name_matches(q, st->metric))
        return 0;
    struct lmap m;
    int rc = label_sets(st, req, resp, &m);
    for (size_t i = 0; rc >= 0 && i < m.cap; i++) {
        const struct lset *s = m.v[i];
        if (s && pvm_query_matches(q, st->metric, s->labels, s->nlabels))
            rc = visit(st, s, req, resp);
    }
    return rc < 0 ? rc : 0;
}

static int visit_metric(struct sqlite_plugin *st, const struct lset *s,
                        pvm_request *req, pvm_response *resp)
{
    if (pvm_response_get_type(resp) != PVM_RESPONSE_SERIES)
        return pvm_response_add_value(resp, st->metric);
    /* /api/v1/series: the whole label set */
    pvm_label *all = s->labels;
    memmove(all + 1, all, s->nlabels * sizeof(*all));
    all[0] = (pvm_label){"__name__", st->metric};
    int rc = pvm_response_add_series(resp, all, s->nlabels + 1);
    memmove(all, all + 1, s->nlabels * sizeof(*all));
    return rc;
}

static int visit_label_names(struct sqlite_plugin *st, const struct lset *s,
                             pvm_request *req, pvm_response *resp)
{
    int rc = pvm_response_add_value(resp, "__name__");
    for (size_t i = 0; rc >= 0 && i < s->nlabels; i++)
        if (s->labels[i].value[0])
            rc = pvm_response_add_value(resp, s->labels[i].name);
    return rc;
}

static int visit_label_values(struct sqlite_plugin *st, const struct lset *s,
                              pvm_request *req, pvm_response *resp)
{
    const char *name = pvm_request_label_name(req);
    for (size_t i = 0; i < s->nlabels; i++)
        if (strcmp(s->labels[i].name, name) == 0 && s->labels[i].value[0])
            return pvm_response_add_value(resp, s->labels[i].value);
    return 0;
}

/* /api/v1/label/__name__/values and /api/v1/series */
static int sqlite_metric_names(pvm_plugin *self, pvm_request *req,
                               pvm_response *resp)
{
    return discover(self, req, resp, visit_metric);
}

/* /api/v1/labels */
static int sqlite_label_names(pvm_plugin *self, pvm_request *req,
                              pvm_response *resp)
{
    return discover(self, req, resp, visit_label_names);
}

/* /api/v1/label/<name>/values */
static int sqlite_label_values(pvm_plugin *self, pvm_request *req,
                               pvm_response *resp)
{
    return discover(self, req, resp, visit_label_values);
}

/* /api/v1/metadata and /federate: help, metric_type and unit, when any
 * was set. */
static int sqlite_metadata(pvm_plugin *self, pvm_request *req,
                           pvm_response *resp)
{
    (void)req;
    const struct sqlite_plugin *st = pvm_plugin_state(self);
    if (!st->help && !st->unit && st->type == PVM_METRIC_UNKNOWN)
        return 0;
    pvm_metric_metadata md = {st->metric, st->type, st->help, st->unit};
    int rc = pvm_response_add_metadata(resp, &md);
    return rc < 0 ? rc : 0;
}

const pvm_plugin_type pvm_plugin_sqlite = {
    .name = "sqlite", /* `type = sqlite` */
    .description = "one metric from an SQL query on an SQLite database",
    .state_size = sizeof(struct sqlite_plugin), /* zeroed per instance */
    .configure = sqlite_configure,              /* metric_type */
    .destroy = sqlite_destroy,      /* statements, connection, strings */
    .on_startup = sqlite_startup,   /* opens read-only, prepares */
    .on_shutdown = sqlite_shutdown, /* finalizes, closes */
    .on_instant_query_request = sqlite_instant, /* latest within lookback */
    .on_range_query_request = sqlite_range,     /* rows in the window */
    .on_metric_names_request = sqlite_metric_names, /* name or label sets */
    .on_label_names_request = sqlite_label_names,
    .on_label_values_request = sqlite_label_values,
    .on_metadata_request = sqlite_metadata, /* help, metric_type, unit */
    .validate = sqlite_validate, /* --check-config: opens, prepares */
    .keys = sqlite_keys,         /* database, metric, query, ... */
};
