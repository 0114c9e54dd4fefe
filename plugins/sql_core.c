/* sql_core.c: the SQL core's settings, connection life cycle, filter
 * pushdown and statement runner (the request hooks are in sql_hooks.c).
 * A request's statement is the user's query, or, when the selector has
 * matchers the database can evaluate exactly, that query wrapped as
 *     SELECT * FROM (query) AS pvm_q WHERE <conditions>
 * with every compared value bound as a parameter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql_core.h"

const char *const pvm_sql_bad_row_choices[] = {"fail", "skip", NULL};

/* ---- configuration -------------------------------------------------------- */

int pvm_sql_configure(pvm_plugin *self, const char *key, const char *value,
                      pvm_error *err)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    if (strcmp(key, "metric_type") == 0) {
        if (pvm_metric_type_parse(value, &c->type) < 0)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "'%s' is not a metric type (counter, "
                                 "gauge, histogram, summary, unknown, ...)",
                                 value);
        return 0;
    }
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "unknown key");
}

static void query_free(pvm_sql_query *q)
{
    free(q->sql);
    free(q->params);
    pvm_sql_columns_free(q->cols, q->ncols);
    free(q->val_col);
    free(q->label_col);
    const char *what = q->what;
    memset(q, 0, sizeof(*q));
    q->what = what;
}

/* Forgets the described columns (after a reconnect the server may have
 * another schema). */
static void query_undescribe(pvm_sql_query *q)
{
    pvm_sql_columns_free(q->cols, q->ncols);
    free(q->val_col);
    free(q->label_col);
    q->cols = NULL;
    q->val_col = q->label_col = NULL;
    q->ncols = q->nlabels = 0;
}

void pvm_sql_columns_free(pvm_sql_column *cols, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(cols[i].name);
    free(cols);
}

/* The user's SQL with placeholders, and without the trailing semicolons
 * that would break the wrapping subquery. */
static int query_prepare(pvm_sql_core *c, pvm_sql_query *q, const char *text,
                         const char *what, pvm_error *err)
{
    q->what = what;
    if (!text)
        return 0;
    pvm_error e = {0};
    if (pvm_sql_rewrite(text, c->drv, &q->sql, &q->params, &q->nparams, &e) <
        0)
        return pvm_error_set(err, e.code, "%s: %s", what, e.msg);
    size_t n = strlen(q->sql);
    while (n && strchr(" \t\r\n;", q->sql[n - 1]))
        q->sql[--n] = '\0';
    return 0;
}

int pvm_sql_check(pvm_plugin *self, const pvm_sql_driver *drv, pvm_error *err)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    c->drv = drv;
    int given = !!c->metric + !!c->metrics_list + !!c->metric_column;
    if (given == 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "missing key 'metric' (or 'metrics' or "
                             "'metric_column'): the name of the metric "
                             "served");
    if (given > 1)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "set one of metric, metrics and metric_column");
    pvm_error e = {0};
    if (c->metrics_list) {
        if (pvm_sql_metrics_parse(c->metrics_list, &c->metrics, &c->nmetrics,
                                  &e) < 0)
            return pvm_error_set(err, e.code, "metrics: %s", e.msg);
    } else if (c->metric) {
        c->metrics = calloc(1, sizeof(*c->metrics));
        if (!c->metrics || !(c->metrics[0].column = strdup(c->value_column)) ||
            !(c->metrics[0].name = strdup(c->metric)))
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        c->nmetrics = 1;
    }
    if (c->label_columns &&
        pvm_sql_names_parse(c->label_columns, &c->labels_only,
                            &c->nlabels_only, &e) < 0)
        return pvm_error_set(err, e.code, "label_columns: %s", e.msg);
    if (query_prepare(c, &c->main, c->query, "query", err) < 0 ||
        query_prepare(c, &c->labels, c->labels_query, "labels_query", err) < 0)
        return err->code;
    return 0;
}

void pvm_sql_destroy(pvm_plugin *self)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    if (c->drv && c->connected)
        c->drv->close(self);
    c->connected = false;
    query_free(&c->main);
    query_free(&c->labels);
    for (size_t i = 0; i < c->nmetrics; i++)
        free(c->metrics[i].column), free(c->metrics[i].name);
    free(c->metrics);
    for (size_t i = 0; i < c->nlabels_only; i++)
        free(c->labels_only[i]);
    free(c->labels_only);
    free(c->scratch);
    c->metrics = NULL;
    c->labels_only = NULL;
    c->scratch = NULL;
    c->nmetrics = c->nlabels_only = c->scratch_cap = 0;
}

/* ---- columns -------------------------------------------------------------- */

static int find_col(const pvm_sql_query *q, const char *name)
{
    for (size_t i = 0; i < q->ncols; i++)
        if (strcasecmp(q->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool is_listed(const pvm_sql_core *c, const char *name)
{
    for (size_t i = 0; i < c->nlabels_only; i++)
        if (strcasecmp(c->labels_only[i], name) == 0)
            return true;
    return false;
}

/* Sorts the described columns of q: timestamp, values, metric name and
 * labels (the listed label_columns, or every other column). data: q
 * gives samples (the labels_query gives label sets only). */
static int map_columns(pvm_sql_core *c, pvm_sql_query *q, bool data,
                       pvm_error *err)
{
    const char *what = q->what;
    q->ts_col = q->name_col = -1;
    q->val_col = calloc(c->nmetrics + 1, sizeof(*q->val_col));
    q->label_col = calloc(q->ncols + 1, sizeof(*q->label_col));
    if (!q->val_col || !q->label_col)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    bool *used = calloc(q->ncols + 1, sizeof(*used));
    if (!used)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    int rc = 0;
    if (data && (q->ts_col = find_col(q, c->timestamp_column)) < 0)
        rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                           "%s: no column named '%s' (set timestamp_column)",
                           what, c->timestamp_column);
    if (q->ts_col >= 0)
        used[q->ts_col] = true;
    for (size_t i = 0; rc == 0 && data && i < c->nmetrics; i++) {
        if ((q->val_col[i] = find_col(q, c->metrics[i].column)) < 0)
            rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                               "%s: no column named '%s' (set %s)", what,
                               c->metrics[i].column,
                               c->metrics_list ? "metrics" : "value_column");
        else
            used[q->val_col[i]] = true;
    }
    if (rc == 0 && c->metric_column) {
        q->name_col = find_col(q, c->metric_column);
        int v = data ? find_col(q, c->value_column) : -1;
        if (q->name_col < 0 || (data && v < 0))
            rc = pvm_error_set(
                err, PVM_ERR_BAD_DATA, "%s: no column named '%s' (set %s)",
                what, q->name_col < 0 ? c->metric_column : c->value_column,
                q->name_col < 0 ? "metric_column" : "value_column");
        else {
            used[q->name_col] = true;
            if (v >= 0)
                used[v] = true, q->val_col[0] = v;
        }
    }
    for (size_t i = 0; rc == 0 && i < q->ncols; i++) {
        const char *n = q->cols[i].name;
        if (used[i] || (c->labels_only && !is_listed(c, n)))
            continue;
        if (!pvm_is_label_name(n) || strncmp(n, "__", 2) == 0)
            rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                               "%s: column '%s' is not a valid label name "
                               "(rename it with AS)",
                               what, n);
        else
            q->label_col[q->nlabels++] = (int)i;
    }
    for (size_t i = 0; rc == 0 && i < c->nlabels_only; i++)
        if (find_col(q, c->labels_only[i]) < 0)
            rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                               "%s: no column named '%s' (see "
                               "label_columns)",
                               what, c->labels_only[i]);
    free(used);
    return rc;
}

static int describe(pvm_plugin *self, pvm_sql_query *q, bool data,
                    pvm_error *err)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    if (!q->sql || q->cols)
        return 0;
    pvm_error e = {0};
    if (c->drv->describe(self, q->sql, q->nparams, &q->cols, &q->ncols, &e) <
        0) {
        query_undescribe(q);
        return pvm_error_set(err, e.code, "%s: %s", q->what, e.msg);
    }
    if (map_columns(c, q, data, err) < 0) {
        query_undescribe(q);
        return err->code;
    }
    return 0;
}

/* Connects when not connected and describes what is not described yet.
 * 0, or a negative status with err; *down tells that the connection
 * failed (not the SQL). */
int pvm_sql_ready(pvm_plugin *self, int64_t timeout_ms, bool *down,
                  pvm_error *err)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    *down = false;
    if (!c->connected) {
        if (c->drv->connect(self, timeout_ms, err) < 0) {
            c->drv->close(self);
            *down = true;
            return err->code ? err->code : PVM_ERR_INTERNAL;
        }
        c->connected = true;
    }
    if (describe(self, &c->main, true, err) < 0 ||
        describe(self, &c->labels, false, err) < 0)
        return err->code;
    return 0;
}

/* Closes the connection (kept descriptions are dropped too). */
void pvm_sql_disconnect(pvm_plugin *self)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    if (c->connected)
        c->drv->close(self);
    c->connected = false;
    query_undescribe(&c->main);
    query_undescribe(&c->labels);
}

int pvm_sql_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    c->lookback_ms = pvm_context_lookback_ms(ctx);
    pvm_sql_disconnect(self);
    bool down;
    pvm_error e = {0};
    if (pvm_sql_ready(self, 0, &down, &e) == 0)
        return 0;
    if (down && c->drv->is_broken && !c->require_at_startup) {
        pvm_plugin_log(self, PVM_LOG_WARNING,
                       "cannot connect (retried at each request; "
                       "require_at_startup = yes makes this fatal): %s",
                       e.msg);
        return 0;
    }
    pvm_sql_disconnect(self);
    *err = e;
    return e.code;
}

int pvm_sql_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    (void)ctx;
    (void)err;
    pvm_sql_disconnect(self);
    return 0;
}

int pvm_sql_validate(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    pvm_sql_core *c = pvm_plugin_state(self);
    c->lookback_ms = pvm_context_lookback_ms(ctx);
    bool down;
    int rc = pvm_sql_ready(self, 0, &down, err);
    pvm_sql_disconnect(self);
    if (rc < 0 && down && c->drv->is_broken && !c->require_at_startup) {
        pvm_plugin_log(self, PVM_LOG_WARNING,
                       "cannot connect, the queries were not checked "
                       "(require_at_startup = yes makes this an error): %s",
                       err->msg);
        pvm_error_clear(err);
        return 0;
    }
    return rc;
}
