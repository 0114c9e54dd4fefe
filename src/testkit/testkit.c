/* testkit.c: the in-process test kit (see pvm/testkit.h). */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pvm/testkit.h>

#include "api.h"
#include "json.h"
#include "master.h"
#include "registry.h"

struct pvm_testkit {
    pvm_context *ctx; /* instances and configuration */
    pvm_arena *arena; /* reset after every request */
};

/* Growable capture buffer for the answer. */
struct capture {
    char *buf;  /* bytes written */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
};

static int capture_write(void *ctx, const char *buf, size_t len)
{
    struct capture *c = ctx;
    if (c->len + len + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + len + 1)
            cap *= 2;
        char *b = realloc(c->buf, cap);
        if (!b)
            return -1;
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, buf, len);
    c->len += len;
    c->buf[c->len] = '\0';
    return 0;
}

pvm_testkit *pvm_testkit_new(const char *ini,
                             const pvm_plugin_type *const *table, char *errbuf,
                             size_t errlen)
{
    pvm_error err = {0};
    pvm_testkit *kit = calloc(1, sizeof(*kit));
    pvm_config *cfg = kit ? pvm_config_load_string(ini, "test.ini", &err)
                          : NULL;
    if (!cfg)
        goto fail;
    kit->ctx = pvm_context_new(cfg, table, &err);
    if (!kit->ctx)
        goto fail;
    kit->arena = pvm_arena_new(
        pvm_context_config(kit->ctx)->server.max_request_memory);
    /* As a single process runs them: master-side hooks, then on_startup. */
    if (!kit->arena || pvm_master_startup_hooks(kit->ctx, &err) < 0 ||
        pvm_context_startup(kit->ctx, &err) < 0)
        goto fail;
    return kit;
fail:
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", err.msg[0] ? err.msg : "out of memory");
    if (kit) {
        pvm_context_free(kit->ctx);
        pvm_arena_free(kit->arena);
        free(kit);
    }
    return NULL;
}

void pvm_testkit_free(pvm_testkit *kit)
{
    if (!kit)
        return;
    pvm_context_shutdown(kit->ctx);
    pvm_context_free(kit->ctx);
    pvm_arena_free(kit->arena);
    free(kit);
}

pvm_context *pvm_testkit_context(pvm_testkit *kit)
{
    return kit->ctx;
}

/* Splits "Name: value" header lines into kv pairs in the arena. */
static pvm_kv *parse_headers(pvm_arena *a, const char *const *lines, size_t *n)
{
    size_t k = 0;
    while (lines && lines[k])
        k++;
    pvm_kv *kv = pvm_arena_calloc(a, k + 1, sizeof(*kv));
    *n = 0;
    for (size_t i = 0; kv && i < k; i++) {
        const char *colon = strchr(lines[i], ':');
        if (!colon)
            continue;
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        kv[*n].key = pvm_arena_strndup(a, lines[i],
                                       (size_t)(colon - lines[i]));
        kv[*n].value = v;
        (*n)++;
    }
    return kv;
}

static const char *kv_find(const pvm_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

/* The body parsed as one JSON document, or NULL when it is not one. The
 * tokener takes the writer's full depth: json-c's default (32) would turn
 * the answer of /api/v1/parse_query for a deep expression into "not JSON". */
static json_object *parse_json(const char *body, size_t len)
{
    json_tokener *tok = json_tokener_new_ex(PVM_JSON_MAX_DEPTH + 1);
    if (!tok)
        return NULL;
    json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    size_t end = json_tokener_get_parse_end(tok);
    while (end < len && isspace((unsigned char)body[end]))
        end++;
    bool whole = json_tokener_get_error(tok) == json_tokener_success &&
                 end == len;
    json_tokener_free(tok);
    if (!whole) {
        json_object_put(root);
        return NULL;
    }
    return root;
}

pvm_test_response *pvm_testkit_request(pvm_testkit *kit, const char *method,
                                       const char *target, const char *body,
                                       const char *const *headers)
{
    return pvm_testkit_request_bytes(kit, method, target, body,
                                     body ? strlen(body) : 0, headers);
}

pvm_test_response *pvm_testkit_request_bytes(pvm_testkit *kit,
                                             const char *method,
                                             const char *target,
                                             const char *body, size_t body_len,
                                             const char *const *headers)
{
    pvm_http_request hr = {0};
    const pvm_server_config *cfg = &pvm_context_config(kit->ctx)->server;
    hr.method = method;
    hr.request_uri = target;
    const char *q = strchr(target, '?');
    hr.query_string = q ? q + 1 : "";
    hr.remote_addr = "127.0.0.1";
    hr.headers = parse_headers(kit->arena, headers, &hr.nheaders);
    hr.content_type = kv_find(hr.headers, hr.nheaders, "Content-Type");
    if (body && !hr.content_type)
        hr.content_type = "application/x-www-form-urlencoded";
    hr.body = body;
    hr.body_len = body ? body_len : 0;
    hr.body_too_large = hr.body_len > cfg->max_body_bytes;
    struct capture c = {0};
    pvm_http_out out = {capture_write, &c, NULL};
    pvm_api_env env = {.ctx = kit->ctx, .cfg = cfg};
    pvm_test_response *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->status = pvm_api_handle(&env, kit->arena, &hr, &out);
    pvm_arena_reset(kit->arena);
    char *sep = c.buf ? strstr(c.buf, "\r\n\r\n") : NULL;
    if (sep) {
        r->head = strndup(c.buf, (size_t)(sep - c.buf) + 2);
        r->body_len = c.len - (size_t)(sep + 4 - c.buf);
        r->body = malloc(r->body_len + 1); /* binary-safe */
        if (r->body) {
            memcpy(r->body, sep + 4, r->body_len);
            r->body[r->body_len] = '\0';
        }
        r->json = parse_json(r->body, r->body_len);
    }
    free(c.buf);
    return r;
}

/* GET target built with printf. */
char *pvm_test_base64(const char *s)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(s), o = 0;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* "Authorization: Basic BASE64(user:password)" into a malloc'd string. */
static char *basic_header(const char *user, const char *password)
{
    char *plain = NULL, *out = NULL;
    if (asprintf(&plain, "%s:%s", user, password ? password : "") < 0)
        return NULL;
    char *b = pvm_test_base64(plain);
    if (b && asprintf(&out, "Authorization: Basic %s", b) < 0)
        out = NULL;
    free(b);
    free(plain);
    return out;
}

/* GET of the target made from fmt, below [server] api_url_prefix, with
 * the options' credentials and headers (o may be NULL). */
static pvm_test_response *get(pvm_testkit *kit, const pvm_test_options *o,
                              const char *fmt, ...) PVM_PRINTF(3, 4);

static pvm_test_response *get(pvm_testkit *kit, const pvm_test_options *o,
                              const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *path = NULL, *target = NULL;
    int n = vasprintf(&path, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    const char *prefix = pvm_context_config(kit->ctx)->server.api_url_prefix;
    n = asprintf(&target, "%s%s", prefix ? prefix : "", path);
    free(path);
    if (n < 0)
        return NULL;
    const char *headers[64] = {0};
    char *auth = NULL;
    size_t nh = 0;
    if (o && o->user) {
        if (!(auth = basic_header(o->user, o->password))) {
            free(target);
            return NULL;
        }
        headers[nh++] = auth;
    }
    for (size_t i = 0; o && o->headers && o->headers[i] && nh < 63; i++)
        headers[nh++] = o->headers[i];
    pvm_test_response *r = pvm_testkit_request(kit, "GET", target, NULL,
                                               headers);
    free(auth);
    free(target);
    return r;
}

/* "&start=..&end=..&match[]=.." of discovery requests, malloc'd. */
static char *discovery_params(const pvm_test_options *o)
{
    char range[96] = "";
    char *m = o && o->match ? pvm_test_urlencode(o->match) : NULL;
    char *out = NULL;
    if (o && o->range)
        snprintf(range, sizeof(range), "&start=%.3f&end=%.3f", o->start,
                 o->end);
    if (o && o->match && !m)
        return NULL;
    if (asprintf(&out, "%s%s%s", range, m ? "&match%5B%5D=" : "", m ? m : "") <
        0)
        out = NULL;
    free(m);
    return out;
}

/* GET path with the discovery parameters of o (none: no query string). */
static pvm_test_response *get_discovery(pvm_testkit *kit,
                                        const pvm_test_options *o,
                                        const char *path)
{
    char *params = discovery_params(o);
    if (!params)
        return NULL;
    pvm_test_response *r = get(kit, o, "%s%s%s", path, *params ? "?" : "",
                               *params ? params + 1 : "");
    free(params);
    return r;
}

pvm_test_response *pvm_testkit_instant_opt(pvm_testkit *kit, const char *query,
                                           double time,
                                           const pvm_test_options *o)
{
    char *q = pvm_test_urlencode(query);
    pvm_test_response *r = get(kit, o, "/api/v1/query?query=%s&time=%.3f",
                               q ? q : "", time);
    free(q);
    return r;
}

pvm_test_response *pvm_testkit_range_opt(pvm_testkit *kit, const char *query,
                                         double start, double end, double step,
                                         const pvm_test_options *o)
{
    char *q = pvm_test_urlencode(query);
    pvm_test_response *r = get(kit, o,
                               "/api/v1/query_range?query=%s&start=%.3f&"
                               "end=%.3f&step=%.3f",
                               q ? q : "", start, end, step);
    free(q);
    return r;
}

pvm_test_response *pvm_testkit_series_opt(pvm_testkit *kit,
                                          const pvm_test_options *o)
{
    return get_discovery(kit, o, "/api/v1/series");
}

pvm_test_response *pvm_testkit_metric_names_opt(pvm_testkit *kit,
                                                const pvm_test_options *o)
{
    return get_discovery(kit, o, "/api/v1/label/__name__/values");
}

pvm_test_response *pvm_testkit_label_names_opt(pvm_testkit *kit,
                                               const pvm_test_options *o)
{
    return get_discovery(kit, o, "/api/v1/labels");
}

pvm_test_response *pvm_testkit_label_values_opt(pvm_testkit *kit,
                                                const char *label,
                                                const pvm_test_options *o)
{
    char *l = pvm_test_urlencode(label);
    char path[1024];
    snprintf(path, sizeof(path), "/api/v1/label/%s/values", l ? l : "");
    free(l);
    return get_discovery(kit, o, path);
}

pvm_test_response *pvm_testkit_instant(pvm_testkit *kit, const char *query,
                                       double time)
{
    return pvm_testkit_instant_opt(kit, query, time, NULL);
}

pvm_test_response *pvm_testkit_range(pvm_testkit *kit, const char *query,
                                     double start, double end, double step)
{
    return pvm_testkit_range_opt(kit, query, start, end, step, NULL);
}

pvm_test_response *pvm_testkit_series(pvm_testkit *kit, const char *match,
                                      double start, double end)
{
    pvm_test_options o = {.match = match,
                          .range = true,
                          .start = start,
                          .end = end};
    return pvm_testkit_series_opt(kit, &o);
}

pvm_test_response *pvm_testkit_label_names(pvm_testkit *kit, const char *match)
{
    pvm_test_options o = {.match = match};
    return pvm_testkit_label_names_opt(kit, &o);
}

pvm_test_response *pvm_testkit_label_values(pvm_testkit *kit,
                                            const char *label,
                                            const char *match)
{
    pvm_test_options o = {.match = match};
    return pvm_testkit_label_values_opt(kit, label, &o);
}

void pvm_test_response_free(pvm_test_response *r)
{
    if (!r)
        return;
    if (r->json)
        json_object_put(r->json);
    free(r->head);
    free(r->body);
    free(r);
}

const char *pvm_test_response_header(const pvm_test_response *r,
                                     const char *name)
{
    static char value[1024];
    size_t nl = strlen(name);
    for (const char *line = r->head; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(value, sizeof(value), "%.*s", (int)(line + len - v), v);
            return value;
        }
        line = eol ? eol + 2 : line + len;
    }
    return NULL;
}

json_object *pvm_test_json_get(json_object *root, const char *path)
{
    json_object *cur = root;
    const char *p = path;
    while (cur && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || !json_object_is_type(cur, json_type_array) ||
                i < 0 || (size_t)i >= json_object_array_length(cur))
                return NULL;
            cur = json_object_array_get_idx(cur, (size_t)i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        char key[256];
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (!json_object_object_get_ex(cur, key, &cur))
            return NULL;
        p += n;
    }
    return cur;
}

const char *pvm_test_json_string(json_object *root, const char *path)
{
    json_object *o = pvm_test_json_get(root, path);
    return o && json_object_is_type(o, json_type_string)
               ? json_object_get_string(o)
               : NULL;
}

int pvm_test_json_length(json_object *root, const char *path)
{
    json_object *o = pvm_test_json_get(root, path);
    return o && json_object_is_type(o, json_type_array)
               ? (int)json_object_array_length(o)
               : -1;
}

char *pvm_test_urlencode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr("-_.~", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}
