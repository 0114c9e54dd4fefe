/* prometheus_json.c: the JSON answers of an upstream Prometheus HTTP API
 * read with json-c for the prometheus plugin (see prometheus_core.h):
 * the envelope (status, data, warnings, infos, errorType, error), matrix
 * and vector results with their samples at their own timestamps, and the
 * string lists and label sets of the discovery endpoints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "prometheus_core.h"

/* Nesting json-c accepts; the answers need 5. */
#define JSON_DEPTH 16

/* Quotes at most this much of a bad answer in a message. */
#define QUOTE_MAX 120

struct reader {
    pvm_prom_sink *sink;
    pvm_error *err;
    int stopped; /* a callback's negative status, or 0 */
};

static int bad(struct reader *r, const char *what)
{
    return pvm_error_set(r->err, PVM_ERR_PLUGIN,
                         "the upstream's answer is not what the API "
                         "returns: %s",
                         what);
}

/* A JSON string without NUL bytes, or NULL. */
static const char *text_of(json_object *o)
{
    if (!json_object_is_type(o, json_type_string))
        return NULL;
    const char *s = json_object_get_string(o);
    if (strlen(s) != (size_t)json_object_get_string_len(o))
        return NULL;
    return s;
}

/* [t, "v"]: t in seconds (a number), v a string as Prometheus writes it. */
static int read_point(struct reader *r, json_object *p)
{
    if (!json_object_is_type(p, json_type_array) ||
        json_object_array_length(p) != 2)
        return bad(r, "a sample is not [time, \"value\"]");
    json_object *jt = json_object_array_get_idx(p, 0);
    const char *vs = text_of(json_object_array_get_idx(p, 1));
    if (!json_object_is_type(jt, json_type_double) &&
        !json_object_is_type(jt, json_type_int))
        return bad(r, "a sample time is not a number");
    double t = json_object_get_double(jt);
    double v;
    if (!(fabs(t) < 9.2e15))
        return bad(r, "a sample time is out of range");
    if (!vs || pvm_parse_sample_value(vs, &v) < 0)
        return bad(r, "a sample value is not a number in a string");
    if (!r->sink->point)
        return 0;
    int rc = r->sink->point(r->sink->arg, llround(t * 1000.0), v);
    return rc < 0 ? (r->stopped = rc) : 0;
}

/* The labels of a "metric" object: __name__ apart when name is not NULL.
 * Fills *labels (malloc'd) and *n. */
static int read_labels(struct reader *r, json_object *m, const char **name,
                       pvm_label **labels, size_t *n)
{
    if (!json_object_is_type(m, json_type_object))
        return bad(r, "a series' labels are not an object");
    size_t cap = (size_t)json_object_object_length(m);
    pvm_label *l = malloc((cap ? cap : 1) * sizeof(*l));
    if (!l)
        return pvm_error_set(r->err, PVM_ERR_NOMEM, "out of memory");
    size_t k = 0;
    if (name)
        *name = NULL;
    json_object_object_foreach(m, key, val)
    {
        const char *v = text_of(val);
        if (!v || !key[0]) {
            free(l);
            return bad(r, "a label value is not a string (or holds a NUL "
                          "byte, or its name is empty)");
        }
        if (name && strcmp(key, "__name__") == 0)
            *name = v;
        else
            l[k++] = (pvm_label){key, v};
    }
    *labels = l;
    *n = k;
    return 0;
}

/* {"metric": {...}, "values": [[t, "v"], ...]} or "value": [t, "v"]. */
static int read_series(struct reader *r, json_object *s)
{
    json_object *m, *vals = NULL, *val = NULL, *hist = NULL;
    if (!json_object_is_type(s, json_type_object) ||
        !json_object_object_get_ex(s, "metric", &m))
        return bad(r, "a result has no \"metric\"");
    json_object_object_get_ex(s, "values", &vals);
    json_object_object_get_ex(s, "value", &val);
    if (json_object_object_get_ex(s, "histograms", &hist))
        r->sink->histograms += json_object_is_type(hist, json_type_array)
                                   ? json_object_array_length(hist)
                                   : 1;
    if (json_object_object_get_ex(s, "histogram", &hist))
        r->sink->histograms++;
    const char *name;
    pvm_label *labels;
    size_t n;
    int rc = read_labels(r, m, &name, &labels, &n);
    if (rc < 0)
        return rc;
    if (r->sink->series)
        rc = r->sink->series(r->sink->arg, name, labels, n);
    free(labels);
    if (rc < 0)
        return r->stopped = rc;
    if (vals) {
        if (!json_object_is_type(vals, json_type_array))
            return bad(r, "\"values\" is not an array");
        size_t np = json_object_array_length(vals);
        for (size_t i = 0; i < np; i++)
            if ((rc = read_point(r, json_object_array_get_idx(vals, i))) < 0)
                return rc;
    }
    if (val && (rc = read_point(r, val)) < 0)
        return rc;
    return 0;
}

static int read_query(struct reader *r, json_object *data)
{
    json_object *type, *result;
    if (!json_object_is_type(data, json_type_object) ||
        !json_object_object_get_ex(data, "resultType", &type) ||
        !json_object_object_get_ex(data, "result", &result))
        return bad(r, "\"data\" has no resultType and result");
    const char *t = text_of(type);
    if (!t || (strcmp(t, "matrix") && strcmp(t, "vector")))
        return bad(r, "the result is not a matrix or a vector");
    if (!json_object_is_type(result, json_type_array))
        return bad(r, "\"result\" is not an array");
    size_t n = json_object_array_length(result);
    for (size_t i = 0; i < n; i++) {
        int rc = read_series(r, json_object_array_get_idx(result, i));
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int read_strings(struct reader *r, json_object *data)
{
    if (!json_object_is_type(data, json_type_array))
        return bad(r, "\"data\" is not an array of strings");
    size_t n = json_object_array_length(data);
    for (size_t i = 0; i < n; i++) {
        const char *s = text_of(json_object_array_get_idx(data, i));
        if (!s)
            return bad(r, "\"data\" is not an array of strings");
        int rc = r->sink->value ? r->sink->value(r->sink->arg, s) : 0;
        if (rc < 0)
            return r->stopped = rc;
    }
    return 0;
}

static int read_labelsets(struct reader *r, json_object *data)
{
    if (!json_object_is_type(data, json_type_array))
        return bad(r, "\"data\" is not an array of label sets");
    size_t n = json_object_array_length(data);
    for (size_t i = 0; i < n; i++) {
        pvm_label *labels;
        size_t nl;
        int rc = read_labels(r, json_object_array_get_idx(data, i), NULL,
                             &labels, &nl);
        if (rc < 0)
            return rc;
        if (r->sink->labelset)
            rc = r->sink->labelset(r->sink->arg, labels, nl);
        free(labels);
        if (rc < 0)
            return r->stopped = rc;
    }
    return 0;
}

/* "warnings" and "infos": arrays of strings. */
static int read_notes(struct reader *r, json_object *root, const char *key,
                      bool info)
{
    json_object *a;
    if (!json_object_object_get_ex(root, key, &a) || !r->sink->warning)
        return 0;
    if (!json_object_is_type(a, json_type_array))
        return bad(r, "warnings are not an array");
    size_t n = json_object_array_length(a);
    for (size_t i = 0; i < n; i++) {
        const char *s = text_of(json_object_array_get_idx(a, i));
        int rc = s ? r->sink->warning(r->sink->arg, s, info) : 0;
        if (rc < 0)
            return r->stopped = rc;
    }
    return 0;
}

/* The error envelope: errorType and error. */
static int read_error(struct reader *r, json_object *root)
{
    json_object *jt = NULL, *je = NULL;
    json_object_object_get_ex(root, "errorType", &jt);
    json_object_object_get_ex(root, "error", &je);
    const char *t = text_of(jt), *e = text_of(je);
    return pvm_error_set(r->err,
                         t && strcmp(t, "timeout") == 0 ? PVM_ERR_TIMEOUT
                                                        : PVM_ERR_PLUGIN,
                         "%s: %s", t ? t : "error", e ? e : "(no message)");
}

/* Prints up to QUOTE_MAX bytes of the body, as text. */
static int not_json(pvm_error *err, const char *body, size_t len,
                    const char *why)
{
    char q[QUOTE_MAX + 1];
    size_t n = len < QUOTE_MAX ? len : QUOTE_MAX;
    for (size_t i = 0; i < n; i++)
        q[i] = (unsigned char)body[i] >= 0x20 && body[i] != 0x7f ? body[i]
                                                                 : ' ';
    q[n] = '\0';
    return pvm_error_set(err, PVM_ERR_PLUGIN,
                         "the upstream's answer is not JSON (%s): '%s%s'", why,
                         q, len > n ? "..." : "");
}

static json_object *parse_json(const char *body, size_t len, pvm_error *err)
{
    if (len > (size_t)INT32_MAX) {
        not_json(err, body, len, "too large");
        return NULL;
    }
    json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
    if (!tok) {
        pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        return NULL;
    }
    json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        not_json(err, body, len,
                 jerr == json_tokener_continue
                     ? "it ends early"
                     : json_tokener_error_desc(jerr));
        return NULL;
    }
    while (used < len && strchr(" \t\r\n", body[used]) && body[used])
        used++;
    if (used < len) {
        json_object_put(root);
        not_json(err, body, len, "text after the JSON value");
        return NULL;
    }
    return root;
}

int pvm_prom_parse_answer(const char *body, size_t len, pvm_prom_answer kind,
                          pvm_prom_sink *sink, pvm_error *err)
{
    struct reader r = {sink, err, 0};
    json_object *root = parse_json(body, len, err);
    if (!root)
        return err->code;
    json_object *st, *data;
    const char *status = NULL;
    int rc;
    if (!json_object_is_type(root, json_type_object) ||
        !json_object_object_get_ex(root, "status", &st) ||
        !(status = text_of(st))) {
        rc = bad(&r, "no \"status\"");
    } else if (strcmp(status, "success") != 0) {
        rc = read_error(&r, root);
    } else if (!json_object_object_get_ex(root, "data", &data)) {
        rc = bad(&r, "no \"data\"");
    } else {
        rc = kind == PVM_PROM_ANSWER_QUERY    ? read_query(&r, data)
             : kind == PVM_PROM_ANSWER_SERIES ? read_labelsets(&r, data)
                                              : read_strings(&r, data);
        if (rc == 0)
            rc = read_notes(&r, root, "warnings", false);
        if (rc == 0)
            rc = read_notes(&r, root, "infos", true);
    }
    json_object_put(root);
    return rc;
}
