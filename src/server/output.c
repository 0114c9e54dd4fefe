/* output.c: writes answers (see output.h): the CGI header block, then the
 * Prometheus JSON envelope through the streaming JSON writer. Key order
 * and shapes follow Prometheus: status, data (resultType before result),
 * errorType, error, warnings, infos; empty lists as []. */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ast_json.h"
#include "cache.h"
#include "json.h"
#include "engine.h"
#include "labels.h"
#include "output.h"

/* HTTP reason phrases of the statuses we send. */
static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 304: return "Not Modified";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 422: return "Unprocessable Entity";
    case 499: return "Client Closed Request";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

/* The one writer of CGI header blocks (every answer's, JSON or not):
 * status line, Content-Type (unless ct is NULL: a 304), Content-Encoding
 * when given, Allow for a 405, the extra headers h (never one that could
 * split the block, nor framing: Content-Length and Transfer-Encoding are
 * pvm's), Cache-Control, ETag and Content-Length (clen >= 0: a body held
 * whole), the blank line. Cache-Control is cc when given; else, when out
 * tracks caching (pvm_http_out.cache) and h has none, "no-store". Returns
 * status, or -1 when the client is gone. */
static int head_cc(const pvm_http_out *out, int status, const char *ct,
                   const char *encoding, const pvm_kv *h, size_t nh,
                   const char *cc, const char *etag, long long clen)
{
    char buf[4096];
    int n = snprintf(buf, sizeof(buf), "Status: %d %s\r\n", status,
                     reason(status));
    if (ct && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "Content-Type: %s\r\n",
                      ct);
    if (encoding && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                      "Content-Encoding: %s\r\n", encoding);
    if (status == 405 && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                      "Allow: GET, POST\r\n");
    bool has_cc = false;
    for (size_t i = 0; i < nh && n > 0 && (size_t)n < sizeof(buf); i++) {
        if (strpbrk(h[i].key, "\r\n:") || strpbrk(h[i].value, "\r\n") ||
            strcasecmp(h[i].key, "Content-Length") == 0 ||
            strcasecmp(h[i].key, "Transfer-Encoding") == 0)
            continue; /* never let a plugin split or frame the answer */
        has_cc |= strcasecmp(h[i].key, "Cache-Control") == 0;
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s: %s\r\n", h[i].key,
                      h[i].value);
    }
    if (!cc && out->cache && !has_cc)
        cc = "no-store";
    if (cc && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                      "Cache-Control: %s\r\n", cc);
    if (etag && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "ETag: %s\r\n", etag);
    if (clen >= 0 && n > 0 && (size_t)n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                      "Content-Length: %lld\r\n", clen);
    if (n < 0 || (size_t)n >= sizeof(buf) - 2)
        n = (int)sizeof(buf) - 3;
    buf[n++] = '\r';
    buf[n++] = '\n';
    return out->write(out->ctx, buf, (size_t)n) < 0 ? -1 : status;
}

static int head(const pvm_http_out *out, int status, const char *ct,
                const char *encoding, const pvm_kv *h, size_t nh)
{
    return head_cc(out, status, ct, encoding, h, nh, NULL, NULL, -1);
}

static int write_head(const pvm_http_out *out, int status, const pvm_kv *h,
                      size_t nh)
{
    return head(out, status, "application/json", NULL, h, nh);
}

/* A piece of the body of a cacheable answer, kept to compute its ETag
 * before the header block goes out. */
typedef struct body_chunk {
    struct body_chunk *next; /* the following piece, or NULL */
    size_t len;              /* bytes in data */
    char data[];             /* the bytes */
} body_chunk;

/* The 200 header block of a successful answer, held back until the first
 * body bytes leave the JSON writer's buffer: until then a failure can
 * still be answered with an error envelope instead (see output.h). A
 * cacheable answer (cache.h) holds the whole body, up to [server]
 * cache_max_body_bytes, to send its ETag. */
typedef struct held_head {
    const pvm_http_out *out; /* where the answer goes */
    pvm_arena *a;            /* the request's arena (the kept body) */
    const pvm_kv *h;         /* extra headers, or NULL */
    size_t nh;               /* their number */
    bool sent;               /* the header block was written */
    bool buffering;          /* keeping the body (cacheable so far) */
    body_chunk *first;       /* the body kept, in order */
    body_chunk **tail;       /* where the next piece goes */
    size_t buffered;         /* bytes kept */
} held_head;

/* Sends the header block (no-store) and what was kept: the answer turned
 * out too large to be cached, or memory ran short. */
static int release(held_head *hh)
{
    hh->buffering = false;
    hh->sent = true;
    if (write_head(hh->out, 200, hh->h, hh->nh) < 0)
        return -1;
    for (body_chunk *c = hh->first; c; c = c->next)
        if (hh->out->write(hh->out->ctx, c->data, c->len) < 0)
            return -1;
    return 0;
}

/* The writer's sink: the header block first, then the body. */
static int held_write(void *ctx, const char *buf, size_t len)
{
    held_head *hh = ctx;
    if (hh->buffering) {
        body_chunk *c = hh->buffered + len <= hh->out->cache->max_body
                            ? pvm_arena_alloc(hh->a, sizeof(*c) + len)
                            : NULL;
        if (c) {
            c->next = NULL;
            c->len = len;
            memcpy(c->data, buf, len);
            *hh->tail = c;
            hh->tail = &c->next;
            hh->buffered += len;
            return 0;
        }
        if (release(hh) < 0)
            return -1;
    }
    if (!hh->sent) {
        hh->sent = true;
        int rc = write_head(hh->out, 200, hh->h, hh->nh);
        if (rc < 0)
            return rc;
    }
    return hh->out->write(hh->out->ctx, buf, len);
}

/* Ends a cacheable answer whose whole body was kept: its ETag, then 304
 * when the client has it (If-None-Match), else the 200 with
 * Cache-Control, ETag and Content-Length (a cache that stores only
 * answers of known size, Apache's mod_cache_socache, needs it) and the
 * body. Returns the status. */
static int send_cacheable(held_head *hh)
{
    const pvm_cache_state *cs = hh->out->cache;
    pvm_etag_ctx e;
    char etag[PVM_ETAG_SIZE], cc[64];
    pvm_etag_init(&e);
    for (body_chunk *c = hh->first; c; c = c->next)
        pvm_etag_update(&e, c->data, c->len);
    pvm_etag_final(&e, etag);
    snprintf(cc, sizeof(cc), "%s, max-age=%lld",
             cs->gated ? "private" : "public", (long long)cs->max_age_s);
    hh->sent = true;
    if (cs->if_none_match && pvm_etag_matches(cs->if_none_match, etag))
        return head_cc(hh->out, 304, NULL, NULL, hh->h, hh->nh, cc, etag, -1) <
                       0
                   ? 500
                   : 304;
    if (head_cc(hh->out, 200, "application/json", NULL, hh->h, hh->nh, cc,
                etag, (long long)hh->buffered) < 0)
        return 500;
    for (body_chunk *c = hh->first; c; c = c->next)
        if (hh->out->write(hh->out->ctx, c->data, c->len) < 0)
            return 500;
    return 200;
}

/* Starts a successful answer: allocates the writer in arena a first, so
 * that running out of memory can still be answered with an error
 * envelope, then starts {"status":"success" (the 200 header block, with
 * extra headers h, goes out with the first body bytes). Returns the
 * writer, or NULL after answering the error (the caller then returns
 * 422). */
static pvm_json *json_start(pvm_arena *a, const pvm_http_out *out,
                            const pvm_kv *h, size_t nh)
{
    held_head *hh = pvm_arena_alloc(a, sizeof(*hh));
    pvm_json *j = hh ? pvm_json_new(a, 0, held_write, hh) : NULL;
    if (!j) {
        pvm_output_error(out, PVM_ERR_NOMEM, PVM_MSG_TOO_MUCH_MEMORY, NULL, 0);
        return NULL;
    }
    *hh = (held_head){.out = out,
                      .a = a,
                      .h = h,
                      .nh = nh,
                      .buffering = pvm_cache_is_cacheable(out->cache)};
    hh->tail = &hh->first;
    pvm_json_begin_object(j);
    pvm_json_key(j, "status");
    pvm_json_string(j, "success");
    return j;
}

/* Ends a successful answer. Returns 200; when the writer failed (a JSON
 * nesting or usage error) before anything was sent, answers an error
 * envelope instead and returns its status; when it failed later (the
 * client went away, mostly), returns 500 with the body cut short. */
static int json_end(pvm_json *j)
{
    pvm_json_end_object(j);
    int rc = pvm_json_flush(j);
    held_head *hh = pvm_json_sink_ctx(j);
    if (!rc)
        return hh->buffering ? send_cacheable(hh) : 200;
    if (hh->sent)
        return 500;
    return pvm_output_error(hh->out,
                            rc == PVM_ERR_NOMEM ? rc : PVM_ERR_INTERNAL,
                            "internal error: the answer could not be "
                            "written as JSON",
                            NULL, 0);
}

int pvm_output_error(const pvm_http_out *out, int code, const char *msg,
                     const pvm_kv *headers, size_t nheaders)
{
    int status = pvm_status_http(code);
    write_head(out, status, headers, nheaders);
    /* Its own small arena: the request's may be what ran out. */
    pvm_arena *a = pvm_arena_new(0);
    pvm_json *j = a ? pvm_json_new(a, 4096, out->write, out->ctx) : NULL;
    if (!j) {
        static const char oom[] = "{\"status\":\"error\",\"errorType\":"
                                  "\"internal\",\"error\":\"out of memory\"}";
        out->write(out->ctx, oom, sizeof(oom) - 1);
        pvm_arena_free(a);
        return status;
    }
    pvm_json_begin_object(j);
    pvm_json_key(j, "status");
    pvm_json_string(j, "error");
    pvm_json_key(j, "errorType");
    pvm_json_string(j, pvm_status_error_type(code));
    pvm_json_key(j, "error");
    pvm_json_string(j, msg ? msg : "unknown error");
    pvm_json_end_object(j);
    pvm_json_flush(j);
    pvm_arena_free(a);
    return status;
}

static void write_labels(pvm_json *j, const pvm_label *l, size_t n)
{
    pvm_json_begin_object(j);
    for (size_t i = 0; i < n; i++) {
        pvm_json_key(j, l[i].name);
        pvm_json_string(j, l[i].value);
    }
    pvm_json_end_object(j);
}

/* Formats a point, [t,"v"], at buf (room for POINT_MAX bytes); returns
 * its length. */
#define POINT_MAX (2 * PVM_FLOAT_BUFSIZE + 8)
static size_t format_point(char *buf, int64_t t, double v)
{
    size_t n = 0;
    buf[n++] = '[';
    n += pvm_format_timestamp(buf + n, t);
    buf[n++] = ',';
    buf[n++] = '"';
    n += pvm_format_float(buf + n, v);
    buf[n++] = '"';
    buf[n++] = ']';
    return n;
}

static void write_point(pvm_json *j, int64_t t, double v)
{
    char buf[POINT_MAX];
    pvm_json_raw(j, buf, format_point(buf, t, v));
}

/* Writes n points as the elements of the open array: formatted here in
 * runs of a few KiB, each run handed to the writer as one raw value (it
 * puts the comma before each run; the run has its own commas). The same
 * bytes as one begin_array/timestamp/float/end_array per point, at a
 * fraction of the cost: this is the inner loop of every range answer. */
static void write_points(pvm_json *j, const pvm_point *p, size_t n)
{
    char buf[4096];
    size_t len = 0;
    for (size_t k = 0; k < n; k++) {
        if (len + 1 + POINT_MAX > sizeof(buf)) {
            pvm_json_raw(j, buf, len);
            len = 0;
        }
        if (len)
            buf[len++] = ',';
        len += format_point(buf + len, p[k].t, p[k].v);
    }
    if (len)
        pvm_json_raw(j, buf, len);
}

static void write_strings(pvm_json *j, const char *const *v, size_t n)
{
    pvm_json_begin_array(j);
    for (size_t i = 0; i < n; i++)
        pvm_json_string(j, v[i]);
    pvm_json_end_array(j);
}

/* "warnings" and "infos", each only when non-empty, at most
 * PVM_MAX_ANNOTATIONS. */
static void write_annotations(pvm_json *j, const pvm_response *r)
{
    if (r->warnings.n) {
        pvm_json_key(j, "warnings");
        write_strings(j, r->warnings.v,
                      r->warnings.n < PVM_MAX_ANNOTATIONS
                          ? r->warnings.n
                          : PVM_MAX_ANNOTATIONS);
    }
    if (r->infos.n) {
        pvm_json_key(j, "infos");
        write_strings(j, r->infos.v,
                      r->infos.n < PVM_MAX_ANNOTATIONS ? r->infos.n
                                                       : PVM_MAX_ANNOTATIONS);
    }
}

/* The result array of a vector (last point of each series) or matrix. */
static void write_samples(pvm_json *j, const pvm_response *r, size_t n)
{
    pvm_json_begin_array(j);
    for (size_t i = 0; i < n; i++) {
        const pvm_series *ser = r->series.list[i];
        if (!ser->npoints)
            continue;
        pvm_json_begin_object(j);
        pvm_json_key(j, "metric");
        write_labels(j, ser->labels, ser->nlabels);
        pvm_point_iter it;
        pvm_point_iter_init(&it, ser);
        const pvm_point *p, *last = NULL;
        if (r->type == PVM_RESPONSE_MATRIX) {
            pvm_json_key(j, "values");
            pvm_json_begin_array(j);
            while ((p = pvm_point_iter_next(&it)))
                write_point(j, p->t, p->v);
            pvm_json_end_array(j);
        } else {
            while ((p = pvm_point_iter_next(&it)))
                last = p;
            pvm_json_key(j, "value");
            write_point(j, last->t, last->v);
        }
        pvm_json_end_object(j);
    }
    pvm_json_end_array(j);
}

int pvm_output_response(pvm_arena *a, const pvm_http_out *out, pvm_response *r,
                        size_t limit)
{
    size_t n = r->type == PVM_RESPONSE_DATA ? r->values.n : r->series.n;
    if (r->type == PVM_RESPONSE_DATA)
        pvm_strlist_sort_unique(&r->values);
    n = r->type == PVM_RESPONSE_DATA ? r->values.n : r->series.n;
    if (limit && n > limit) {
        n = limit;
        pvm_response_add_warning(r, "results truncated due to limit");
    }
    pvm_json *j = json_start(a, out, r->headers, r->nheaders);
    if (!j)
        return 422;
    pvm_json_key(j, "data");
    switch (r->type) {
    case PVM_RESPONSE_VECTOR:
    case PVM_RESPONSE_MATRIX:
        pvm_json_begin_object(j);
        pvm_json_key(j, "resultType");
        pvm_json_string(j,
                        r->type == PVM_RESPONSE_VECTOR ? "vector" : "matrix");
        pvm_json_key(j, "result");
        write_samples(j, r, n);
        pvm_json_end_object(j);
        break;
    case PVM_RESPONSE_DATA: write_strings(j, r->values.v, n); break;
    case PVM_RESPONSE_METADATA: /* written by api_metadata.c */
        pvm_json_begin_object(j);
        pvm_json_end_object(j);
        break;
    case PVM_RESPONSE_SERIES:
        pvm_json_begin_array(j);
        for (size_t i = 0; i < n; i++)
            write_labels(j, r->series.list[i]->labels,
                         r->series.list[i]->nlabels);
        pvm_json_end_array(j);
        break;
    }
    write_annotations(j, r);
    return json_end(j);
}

static int output_pair(pvm_arena *a, const pvm_http_out *out, const char *type,
                       int64_t t, double v, const char *s)
{
    pvm_json *j = json_start(a, out, NULL, 0);
    if (!j)
        return 422;
    pvm_json_key(j, "data");
    pvm_json_begin_object(j);
    pvm_json_key(j, "resultType");
    pvm_json_string(j, type);
    pvm_json_key(j, "result");
    pvm_json_begin_array(j);
    pvm_json_timestamp(j, t);
    if (s)
        pvm_json_string(j, s);
    else
        pvm_json_float(j, v);
    pvm_json_end_array(j);
    pvm_json_end_object(j);
    return json_end(j);
}

int pvm_output_scalar(pvm_arena *a, const pvm_http_out *out, int64_t t,
                      double v)
{
    return output_pair(a, out, "scalar", t, v, NULL);
}

int pvm_output_string(pvm_arena *a, const pvm_http_out *out, int64_t t,
                      const char *s)
{
    return output_pair(a, out, "string", t, 0, s);
}

int pvm_output_scalar_range(pvm_arena *a, const pvm_http_out *out,
                            int64_t start, int64_t end, int64_t step, double v)
{
    pvm_json *j = json_start(a, out, NULL, 0);
    if (!j)
        return 422;
    pvm_json_key(j, "data");
    pvm_json_begin_object(j);
    pvm_json_key(j, "resultType");
    pvm_json_string(j, "matrix");
    pvm_json_key(j, "result");
    pvm_json_begin_array(j);
    pvm_json_begin_object(j);
    pvm_json_key(j, "metric");
    pvm_json_begin_object(j);
    pvm_json_end_object(j);
    pvm_json_key(j, "values");
    pvm_json_begin_array(j);
    for (int64_t t = start; t <= end; t += step) {
        write_point(j, t, v);
        if (end - t < step)
            break;
    }
    pvm_json_end_array(j);
    pvm_json_end_object(j);
    pvm_json_end_array(j);
    pvm_json_end_object(j);
    return json_end(j);
}

int pvm_output_data_raw(pvm_arena *a, const pvm_http_out *out,
                        const char *data_json)
{
    pvm_json *j = json_start(a, out, NULL, 0);
    if (!j)
        return 422;
    pvm_json_key(j, "data");
    pvm_json_raw(j, data_json, strlen(data_json));
    return json_end(j);
}

int pvm_output_data_string(pvm_arena *a, const pvm_http_out *out,
                           const char *s)
{
    pvm_json *j = json_start(a, out, NULL, 0);
    if (!j)
        return 422;
    pvm_json_key(j, "data");
    pvm_json_string(j, s);
    return json_end(j);
}

int pvm_output_success_no_data(pvm_arena *a, const pvm_http_out *out)
{
    pvm_json *j = json_start(a, out, NULL, 0);
    if (!j)
        return 422;
    return json_end(j);
}

int pvm_output_ast(pvm_arena *a, const pvm_http_out *out, const pvm_expr *e)
{
    pvm_json *j = json_start(a, out, NULL, 0);
    if (!j)
        return 422;
    pvm_json_key(j, "data");
    pvm_ast_write_json(j, e);
    return json_end(j);
}

/* Annotations of an evaluated query: the engine's and the plugins'. */
static void write_strlist(pvm_json *j, const char *key, pvm_strlist *l)
{
    if (!l->n)
        return;
    pvm_strlist_sort_unique(l);
    pvm_json_key(j, key);
    write_strings(j, l->v,
                  l->n < PVM_MAX_ANNOTATIONS ? l->n : PVM_MAX_ANNOTATIONS);
}

int pvm_output_eval(pvm_arena *a, const pvm_http_out *out,
                    const pvm_eval_result *res, pvm_strlist *warnings,
                    pvm_strlist *infos, size_t limit)
{
    if (res->type == PVM_VT_SCALAR || res->type == PVM_VT_STRING) {
        pvm_json *j = json_start(a, out, NULL, 0);
        if (!j)
            return 422;
        pvm_json_key(j, "data");
        pvm_json_begin_object(j);
        pvm_json_key(j, "resultType");
        pvm_json_string(j, res->type == PVM_VT_SCALAR ? "scalar" : "string");
        pvm_json_key(j, "result");
        pvm_json_begin_array(j);
        pvm_json_timestamp(j, res->time);
        if (res->type == PVM_VT_SCALAR)
            pvm_json_float(j, res->scalar);
        else
            pvm_json_string(j, res->string);
        pvm_json_end_array(j);
        pvm_json_end_object(j);
        write_strlist(j, "warnings", warnings);
        write_strlist(j, "infos", infos);
        return json_end(j);
    }
    size_t n = res->nseries;
    if (limit && n > limit) {
        n = limit;
        pvm_strlist_add(a, warnings, "results truncated due to limit");
    }
    bool matrix = res->type == PVM_VT_MATRIX;
    pvm_json *j = json_start(a, out, NULL, 0);
    if (!j)
        return 422;
    pvm_json_key(j, "data");
    pvm_json_begin_object(j);
    pvm_json_key(j, "resultType");
    pvm_json_string(j, matrix ? "matrix" : "vector");
    pvm_json_key(j, "result");
    pvm_json_begin_array(j);
    for (size_t i = 0; i < n; i++) {
        const pvm_result_series *s = &res->series[i];
        if (!s->npoints)
            continue;
        pvm_json_begin_object(j);
        pvm_json_key(j, "metric");
        write_labels(j, s->labels, s->nlabels);
        pvm_json_key(j, matrix ? "values" : "value");
        if (matrix) {
            pvm_json_begin_array(j);
            write_points(j, s->points, s->npoints);
            pvm_json_end_array(j);
        } else {
            write_point(j, s->points[0].t, s->points[0].v);
        }
        pvm_json_end_object(j);
    }
    pvm_json_end_array(j);
    pvm_json_end_object(j);
    write_strlist(j, "warnings", warnings);
    write_strlist(j, "infos", infos);
    return json_end(j);
}

int pvm_output_head(const pvm_http_out *out, int status,
                    const char *content_type, const char *encoding,
                    const pvm_kv *h, size_t nh)
{
    return head(out, status, content_type, encoding, h, nh);
}

int pvm_output_text_error(const pvm_http_out *out, int status, const char *msg,
                          const pvm_kv *h, size_t nh)
{
    if (head(out, status, "text/plain; charset=utf-8", NULL, h, nh) < 0)
        return status;
    out->write(out->ctx, msg, strlen(msg));
    out->write(out->ctx, "\n", 1);
    return status;
}

pvm_json *pvm_output_begin_data(pvm_arena *a, const pvm_http_out *out)
{
    pvm_json *j = json_start(a, out, NULL, 0);
    if (j)
        pvm_json_key(j, "data");
    return j;
}

void pvm_output_end_data(pvm_json *j)
{
    json_end(j);
}
