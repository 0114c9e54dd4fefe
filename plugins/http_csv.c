/* http_csv.c: the http plugin's CSV format (see http_csv.h): column
 * settings, their resolution against the header row, rows to samples. */
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"
#include "http_csv.h"

void pvm_http_csv_free(pvm_http_csv *c)
{
    for (size_t i = 0; i < c->nvalues; i++)
        free(c->values[i].ref);
    for (size_t i = 0; i < c->nlabels; i++)
        free(c->labels[i].ref);
    free(c->values);
    free(c->labels);
    c->values = c->labels = NULL;
    c->nvalues = c->nlabels = 0;
}

/* Splits a comma-separated list of "COLUMN" or "COLUMN=NAME" (blanks
 * around each part dropped) into *out. 0, or an error naming key. */
static int parse_list(const char *list, const char *key, bool metric,
                      struct pvm_http_csv_col **out, size_t *n, pvm_error *err)
{
    *out = NULL;
    *n = 0;
    if (!list)
        return 0;
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    if (!(*out = calloc(cap, sizeof(**out))))
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        char *e = strndup(p, len);
        if (!e)
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        (*out)[(*n)++].ref = e;
        char *eq = strchr(e, '=');
        if (eq) {
            *eq = '\0';
            char *nm = eq + 1;
            nm += strspn(nm, " \t");
            nm[strcspn(nm, " \t")] = '\0';
            (*out)[*n - 1].name = nm;
            if (metric ? !pvm_is_metric_name(nm) : !pvm_is_label_name(nm))
                return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                     "%s: '%s' is not a %s name", key, nm,
                                     metric ? "metric" : "label");
        }
        char *c = e + strspn(e, " \t");
        size_t cl = strlen(c);
        while (cl && (c[cl - 1] == ' ' || c[cl - 1] == '\t'))
            c[--cl] = '\0';
        memmove(e, c, cl + 1);
        if (!*e)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "%s: an empty column in the list", key);
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

int pvm_http_csv_setup(pvm_http_csv *c, const char *delimiter, bool header,
                       bool in_ms, const char *ts, const char *values,
                       const char *labels, const char *metric,
                       const char *metric_col, pvm_error *err)
{
    memset(c, 0, sizeof(*c));
    c->header = header;
    c->in_ms = in_ms;
    c->ts = (char *)ts;
    c->metric = (char *)metric;
    c->metric_col = (char *)metric_col;
    if (strcmp(delimiter, "tab") == 0 || strcmp(delimiter, "\\t") == 0)
        c->delim = '\t';
    else if (strcmp(delimiter, "semicolon") == 0)
        c->delim = ';'; /* inih reads " ;" as a comment */
    else if (strlen(delimiter) == 1 && !strchr("\"\r\n", delimiter[0]))
        c->delim = delimiter[0];
    else
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "delimiter: one character (not a quote or a "
                             "line break), 'tab' or 'semicolon'");
    if (!ts)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "format = csv needs timestamp_column");
    if (!values)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "format = csv needs value_columns");
    int rc = parse_list(values, "value_columns", true, &c->values, &c->nvalues,
                        err);
    if (rc == 0)
        rc = parse_list(labels, "label_columns", false, &c->labels,
                        &c->nlabels, err);
    if (rc < 0)
        return rc;
    c->all_labels = !labels;
    if (metric && metric_col)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "metric and metric_column exclude each other");
    if (!header) {
        const char *refs[] = {ts, metric_col};
        for (size_t i = 0; i < 2; i++)
            if (refs[i] && strspn(refs[i], "0123456789") != strlen(refs[i]))
                return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                     "header_row = no: columns are numbers "
                                     "from 1, not '%s'",
                                     refs[i]);
        for (size_t i = 0; i < c->nvalues; i++)
            if (!c->values[i].name && !metric && !metric_col)
                return pvm_error_set(
                    err, PVM_ERR_BAD_DATA,
                    "header_row = no: value column %s needs a "
                    "metric (COLUMN=METRIC, or metric)",
                    c->values[i].ref);
    }
    return 0;
}

/* ---- conversion ---------------------------------------------------------- */

/* A column reference resolved against the header: its index, or -1. */
static long resolve(const pvm_csv *hdr, const char *ref)
{
    if (hdr)
        for (size_t i = 0; i < hdr->nf; i++)
            if (strcmp(pvm_csv_field(hdr, i), ref) == 0)
                return (long)i;
    if (*ref && strspn(ref, "0123456789") == strlen(ref) && strlen(ref) < 7) {
        long i = strtol(ref, NULL, 10);
        if (i >= 1)
            return i - 1;
    }
    return -1;
}

/* The resolved columns of one file. */
struct cols {
    long ts, metric;                        /* -1: none */
    long value[PVM_HTTP_MAX_LABELS];        /* value columns */
    const char *vname[PVM_HTTP_MAX_LABELS]; /* their metric */
    long label[PVM_HTTP_MAX_LABELS];        /* label columns */
    const char *lname[PVM_HTTP_MAX_LABELS]; /* their names */
    size_t nv, nl;                          /* counts */
    long need;                              /* fields a row must have */
    char *names;                            /* copies of header names */
};

static int bad_column(const char *what, const char *ref, pvm_error *err)
{
    return pvm_error_set(err, PVM_ERR_EXECUTION,
                         "%s '%s' is not a column of the CSV (not in the "
                         "header row, not a number from 1)",
                         what, ref);
}

/* Resolves every configured column; with a header, copies the names it
 * uses (the header record's buffer is reused by the next record). */
static int resolve_all(const pvm_http_csv *c, const pvm_csv *hdr,
                       struct cols *k, pvm_error *err)
{
    memset(k, 0, sizeof(*k));
    k->metric = -1;
    if ((k->ts = resolve(hdr, c->ts)) < 0)
        return bad_column("timestamp_column", c->ts, err);
    if (c->metric_col && (k->metric = resolve(hdr, c->metric_col)) < 0)
        return bad_column("metric_column", c->metric_col, err);
    k->need = k->ts > k->metric ? k->ts : k->metric;
    size_t bytes = hdr ? hdr->len : 0;
    if (bytes && !(k->names = malloc(bytes)))
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    if (bytes)
        memcpy(k->names, hdr->buf, bytes);
    if (c->nvalues > PVM_HTTP_MAX_LABELS)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "more than %d value columns",
                             PVM_HTTP_MAX_LABELS);
    for (size_t i = 0; i < c->nvalues; i++) {
        long v = resolve(hdr, c->values[i].ref);
        if (v < 0)
            return bad_column("value column", c->values[i].ref, err);
        const char *name = c->values[i].name              ? c->values[i].name
                           : c->metric_col                ? NULL
                           : c->metric && c->nvalues == 1 ? c->metric
                           : hdr && (size_t)v < hdr->nf
                               ? k->names + hdr->off[v]
                               : c->metric;
        if (!name && !c->metric_col)
            return pvm_error_set(err, PVM_ERR_EXECUTION,
                                 "value column '%s' has no metric name "
                                 "(write COLUMN=METRIC in value_columns)",
                                 c->values[i].ref);
        if (name && !pvm_is_metric_name(name))
            return pvm_error_set(err, PVM_ERR_EXECUTION,
                                 "value column '%s' is not a metric name "
                                 "(write COLUMN=METRIC in value_columns)",
                                 name);
        k->value[k->nv] = v;
        k->vname[k->nv++] = name;
        k->need = v > k->need ? v : k->need;
    }
    size_t nl = c->all_labels ? (hdr ? hdr->nf : 0) : c->nlabels;
    for (size_t i = 0; i < nl; i++) {
        long l;
        const char *name;
        if (c->all_labels) {
            l = (long)i;
            bool used = l == k->ts || l == k->metric;
            for (size_t j = 0; j < k->nv; j++)
                used = used || l == k->value[j];
            if (used)
                continue;
            name = k->names + hdr->off[i];
        } else {
            if ((l = resolve(hdr, c->labels[i].ref)) < 0)
                return bad_column("label column", c->labels[i].ref, err);
            name = c->labels[i].name            ? c->labels[i].name
                   : hdr && (size_t)l < hdr->nf ? k->names + hdr->off[l]
                                                : NULL;
        }
        if (!name || !pvm_is_label_name(name) || !strncmp(name, "__", 2))
            return pvm_error_set(err, PVM_ERR_EXECUTION,
                                 "label column '%s' is not a label name "
                                 "(write COLUMN=LABEL in label_columns)",
                                 name ? name : c->labels[i].ref);
        if (k->nl == PVM_HTTP_MAX_LABELS)
            return pvm_error_set(err, PVM_ERR_EXECUTION,
                                 "more than %d label columns",
                                 PVM_HTTP_MAX_LABELS);
        k->label[k->nl] = l;
        k->lname[k->nl++] = name;
        k->need = l > k->need ? l : k->need;
    }
    return 0;
}

/* One data row to samples. */
static int row(const pvm_http_csv *c, const struct cols *k, const pvm_csv *r,
               pvm_http_sink *sink, pvm_error *err)
{
    if ((long)r->nf <= k->need)
        return pvm_error_set(err, PVM_ERR_EXECUTION,
                             "line %zu: %zu fields, %ld expected", r->line,
                             r->nf, k->need + 1);
    const char *ts = pvm_csv_field(r, (size_t)k->ts);
    int64_t t;
    if (pvm_http_time_text(ts, strlen(ts), c->in_ms, &t) < 0)
        return pvm_error_set(err, PVM_ERR_EXECUTION,
                             "line %zu: timestamp '%.40s' is not unix %s or "
                             "an RFC 3339 time",
                             r->line, ts,
                             c->in_ms ? "milliseconds" : "seconds");
    pvm_label lab[PVM_HTTP_MAX_LABELS];
    size_t nl = 0;
    for (size_t i = 0; i < k->nl; i++) {
        const char *v = pvm_csv_field(r, (size_t)k->label[i]);
        if (*v)
            lab[nl++] = (pvm_label){k->lname[i], v};
    }
    const char *mname = k->metric >= 0 ? pvm_csv_field(r, (size_t)k->metric)
                                       : NULL;
    if (mname && !pvm_is_metric_name(mname))
        return pvm_error_set(err, PVM_ERR_EXECUTION,
                             "line %zu: '%.40s' is not a metric name", r->line,
                             mname);
    for (size_t i = 0; i < k->nv; i++) {
        const char *s = pvm_csv_field(r, (size_t)k->value[i]);
        s += strspn(s, " \t");
        char buf[64];
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n == 0)
            continue; /* a gap */
        double v;
        if (n >= sizeof(buf))
            n = sizeof(buf) - 1;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (pvm_parse_sample_value(buf, &v) < 0)
            return pvm_error_set(err, PVM_ERR_EXECUTION,
                                 "line %zu: value '%.40s' is not a number",
                                 r->line, buf);
        const char *name = k->vname[i] ? k->vname[i] : mname;
        int rc = sink->add(sink, name, lab, nl, t, v, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int pvm_http_csv_run(const pvm_http_csv *c, const char *data, size_t len,
                     pvm_http_sink *sink, pvm_error *err)
{
    pvm_csv r;
    struct cols k = {0};
    pvm_csv_init(&r, data, len, c->delim);
    int rc = 0;
    if (c->header && (rc = pvm_csv_next(&r, err)) == 0)
        goto out; /* an empty file: no samples */
    if (rc >= 0)
        rc = resolve_all(c, c->header ? &r : NULL, &k, err);
    while (rc >= 0 && (rc = pvm_csv_next(&r, err)) > 0)
        rc = row(c, &k, &r, sink, err);
out:
    free(k.names);
    pvm_csv_free(&r);
    return rc < 0 ? rc : 0;
}
