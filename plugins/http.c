/* http.c: samples from any HTTP API or local file, JSON mapped by a jq
 * program (http_jq.c) or CSV columns (http_csv.c). Each query selector
 * fetches the request's window once (url and body with placeholders,
 * http_template.c) through the shared client (http_client.c); pvm then
 * matches the selectors exactly. Discovery answers from the static
 * `metrics`/`labels` lists or by fetching the recent window. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <pvm/pvm.h>

#include "http_state.h"

#define HP(f) offsetof(struct http_plugin, f)

static const char *const formats[] = {"json", "csv", NULL};
static const char *const units[] = {"seconds", "milliseconds", NULL};

static const pvm_plugin_key http_keys[] = {
    PVM_HTTP_CLIENT_KEYS(
        struct http_plugin, http,
        "URL to fetch (http://, https:// or file://) with placeholders "
        "{start} {end} {step} (also _ms, _rfc3339) and {matcher.LABEL}; "
        "url or path is required"),
    {"path", PVM_KEY_PATH, HP(path),
     .doc = "a local file to read instead of url (re-read when it "
            "changes)"},
    {"body", PVM_KEY_STRING, HP(body),
     .doc = "body of a POST, with the placeholders of url"},
    {"format", PVM_KEY_ENUM, HP(format), .choices = formats, .def = "json",
     .doc = "json (mapped by jq) or csv"},
    {"jq", PVM_KEY_STRING, HP(jq),
     .doc = "jq program emitting {metric, labels, timestamp, value} "
            "objects; $start $stop $step $matchers defined"},
    {"jq_file", PVM_KEY_PATH, HP(jq_file),
     .doc = "file holding the jq program (instead of jq)"},
    {"timestamp_unit", PVM_KEY_ENUM, HP(unit), .choices = units,
     .def = "seconds",
     .doc = "unit of numeric timestamps (strings are RFC 3339)"},
    {"metrics", PVM_KEY_STRING, HP(metrics),
     .doc = "comma-separated metric names served: discovery answers them "
            "and queries for others fetch nothing"},
    {"labels", PVM_KEY_STRING, HP(labels),
     .doc = "comma-separated label names for /labels (default: fetch)"},
    {"discovery_window", PVM_KEY_DURATION, HP(window_ms), .def = "1h",
     .min = 1, .doc = "window fetched for discovery, ending now at most"},
    {"default_step", PVM_KEY_DURATION, HP(step_ms), .def = "1m", .min = 1,
     .doc = "{step} of fetches outside range queries"},
    {"delimiter", PVM_KEY_STRING, HP(delimiter), .def = ",",
     .doc = "csv: field separator, one character, 'tab' or 'semicolon'"},
    {"header_row", PVM_KEY_BOOL, HP(header), .def = "yes",
     .doc = "csv: the first row names the columns (else columns are "
            "numbers from 1)"},
    {"timestamp_column", PVM_KEY_STRING, HP(ts_col),
     .doc = "csv: column of the sample time (required for csv)"},
    {"value_columns", PVM_KEY_STRING, HP(value_cols),
     .doc = "csv: comma-separated value columns, each COLUMN or "
            "COLUMN=METRIC (required for csv)"},
    {"label_columns", PVM_KEY_STRING, HP(label_cols),
     .doc = "csv: comma-separated label columns, each COLUMN or "
            "COLUMN=LABEL (default: every other column)"},
    {"metric", PVM_KEY_METRIC_NAME, HP(metric),
     .doc = "csv: metric name of a single value column"},
    {"metric_column", PVM_KEY_STRING, HP(metric_col),
     .doc = "csv: column holding the metric name of each row"},
    {NULL},
};

/* ---- configuration ------------------------------------------------------ */

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int list_split(const char *s, struct list *l, bool metric,
                      const char *key, pvm_error *err)
{
    if (!s)
        return 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    if (!(l->v = calloc(cap, sizeof(*l->v))))
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    for (const char *p = s; *p;) {
        p += strspn(p, " \t");
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        char *e = strndup(p, t);
        if (!e)
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        l->v[l->n++] = e;
        if (metric ? !pvm_is_metric_name(e) : !pvm_is_label_name(e))
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "%s: '%s' is not a %s name", key, e,
                                 metric ? "metric" : "label");
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static char *read_file(const char *path, size_t max, size_t *len,
                       struct stat *st, pvm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        pvm_error_set(err, PVM_ERR_BAD_DATA, "cannot read %s: %s", path,
                      strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    if (fstat(fileno(f), st) != 0 || (size_t)st->st_size > max) {
        pvm_error_set(err, PVM_ERR_TOO_LARGE,
                      "%s: over max_response_bytes (%zu bytes)", path, max);
    } else if (!(buf = malloc((size_t)st->st_size + 1))) {
        pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    } else {
        *len = fread(buf, 1, (size_t)st->st_size, f);
        buf[*len] = '\0';
        if (ferror(f)) {
            pvm_error_set(err, PVM_ERR_BAD_DATA, "cannot read %s", path);
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* The jq program, from jq or jq_file, compiled. */
static int setup_jq(struct http_plugin *st, pvm_error *err)
{
    if (!st->jq == !st->jq_file)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "format = json needs exactly one of jq and "
                             "jq_file");
    char *text = st->jq;
    if (st->jq_file) {
        size_t len;
        struct stat sb;
        if (!(text = read_file(st->jq_file, 1 << 20, &len, &sb, err)))
            return pvm_error_set(err, PVM_ERR_BAD_DATA, "jq_file: %s",
                                 err->msg);
    }
    st->prog = pvm_http_jq_compile(text, err);
    if (text != st->jq)
        free(text);
    return st->prog ? 0 : err->code;
}

/* Checks the keys that need each other, compiles the jq program and
 * splits the lists: once, in the master (workers inherit the result). */
static int http_check(pvm_plugin *self, pvm_error *err)
{
    struct http_plugin *st = pvm_plugin_state(self);
    st->name = pvm_plugin_name(self);
    int rc;
    if (st->http.url && st->path)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "url and path exclude each other");
    if (st->path) {
        st->file = st->path;
    } else if ((rc = pvm_http_settings_check(&st->http, true, err)) < 0) {
        return rc;
    } else if (strncmp(st->http.url, "file://", 7) == 0) {
        st->file = st->http.url + 7;
        if (st->file[0] != '/')
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "url: file:// needs an absolute path "
                                 "(file:///dir/file)");
    }
    if (st->file && st->body)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "body: a file is read, not posted");
    if ((st->http.url &&
         (rc = pvm_http_template_check(st->http.url, err)) < 0) ||
        (st->body && (rc = pvm_http_template_check(st->body, err)) < 0))
        return rc;
    if ((rc = list_split(st->metrics, &st->mlist, true, "metrics", err)) ||
        (rc = list_split(st->labels, &st->llist, false, "labels", err)))
        return rc;
    if (st->body && st->http.method != PVM_HTTP_POST)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "body: needs method = POST");
    if (st->format == FORMAT_JSON)
        return setup_jq(st, err);
    if (st->jq || st->jq_file)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "jq and jq_file are for format = json");
    return pvm_http_csv_setup(&st->csv, st->delimiter, st->header,
                              st->unit == UNIT_MS, st->ts_col, st->value_cols,
                              st->label_cols, st->metric, st->metric_col, err);
}

/* --check-config: the secret and CA files of a URL, or the local file;
 * fetches nothing. (The jq program was compiled by check.) */
static int http_validate(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    (void)ctx;
    struct http_plugin *st = pvm_plugin_state(self);
    if (st->file) {
        struct stat sb;
        if (stat(st->file, &sb) != 0)
            return pvm_error_set(err, PVM_ERR_BAD_DATA, "file %s: %s",
                                 st->file, strerror(errno));
        return 0;
    }
    return pvm_http_settings_validate(&st->http, err);
}

static int http_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    struct http_plugin *st = pvm_plugin_state(self);
    st->lookback = pvm_context_lookback_ms(ctx);
    if (st->file || st->client)
        return 0;
    st->client = pvm_http_client_new(&st->http, st->name, err);
    return st->client ? 0 : err->code;
}

static int http_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    (void)ctx;
    (void)err;
    struct http_plugin *st = pvm_plugin_state(self);
    pvm_http_client_free(st->client);
    st->client = NULL;
    return 0;
}

static void http_destroy(pvm_plugin *self)
{
    struct http_plugin *st = pvm_plugin_state(self);
    pvm_http_client_free(st->client);
    pvm_http_jq_free(st->prog);
    pvm_http_csv_free(&st->csv);
    list_free(&st->mlist);
    list_free(&st->llist);
    free(st->fdata);
}

const pvm_plugin_type pvm_plugin_http = {
    .name = "http", /* `type = http` */
    .description = "samples from an HTTP API or a file: JSON through jq, "
                   "or CSV",
    .state_size = sizeof(struct http_plugin), /* zeroed per instance */
    .check = http_check,          /* url/path, jq compiled, csv columns */
    .destroy = http_destroy,      /* client, program, lists, file */
    .on_startup = http_startup,   /* the client of this worker */
    .on_shutdown = http_shutdown, /* frees it */
    .on_instant_query_request = pvm_http_instant, /* latest in lookback */
    .on_range_query_request = pvm_http_range,     /* samples in the window */
    .on_metric_names_request = pvm_http_metric_names, /* list or fetch */
    .on_label_names_request = pvm_http_label_names,
    .on_label_values_request = pvm_http_label_values,
    .validate = http_validate, /* --check-config: files, no fetch */
    .keys = http_keys,         /* url, auth, format, jq, csv columns */
};
