/* request.c: accessors of pvm_request (see pvm/request.h), and the HTTP
 * Basic credentials of a request. */

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "request_impl.h"

pvm_request_type pvm_request_get_type(const pvm_request *r)
{
    return r->type;
}

const pvm_query *pvm_request_query(const pvm_request *r)
{
    return r->query;
}

const char *pvm_request_query_string(const pvm_request *r)
{
    return r->query_string ? r->query_string : "";
}

int64_t pvm_request_time(const pvm_request *r)
{
    return r->time;
}

int64_t pvm_request_start(const pvm_request *r)
{
    return r->start;
}

int64_t pvm_request_end(const pvm_request *r)
{
    return r->end;
}

int64_t pvm_request_step(const pvm_request *r)
{
    return r->step;
}

pvm_timestamps pvm_request_timestamps(const pvm_request *r)
{
    pvm_timestamps it = {0};
    if (r->type == PVM_REQUEST_RANGE && r->step > 0) {
        it.next = r->start;
        it.end = r->end;
        it.step = r->step;
        it.done = r->start > r->end;
    } else if (r->type == PVM_REQUEST_INSTANT) {
        it.next = it.end = r->time;
        it.step = 1;
    } else {
        it.done = true;
        it.step = 1;
    }
    return it;
}

bool pvm_timestamps_next(pvm_timestamps *it, int64_t *t)
{
    if (it->done)
        return false;
    *t = it->next;
    if (it->end - it->next < it->step)
        it->done = true;
    else
        it->next += it->step;
    return true;
}

size_t pvm_request_timestamp_count(const pvm_request *r)
{
    if (r->type == PVM_REQUEST_INSTANT)
        return 1;
    if (r->type != PVM_REQUEST_RANGE || r->step <= 0 || r->start > r->end)
        return 0;
    return (size_t)((r->end - r->start) / r->step) + 1;
}

const char *pvm_request_label_name(const pvm_request *r)
{
    return r->label_name ? r->label_name : "";
}

size_t pvm_request_limit(const pvm_request *r)
{
    return r->limit;
}

const char *pvm_request_http_method(const pvm_request *r)
{
    return r->method ? r->method : "";
}

const char *pvm_request_http_path(const pvm_request *r)
{
    return r->path ? r->path : "";
}

const char *pvm_request_http_remote(const pvm_request *r)
{
    return r->remote ? r->remote : "";
}

const char *pvm_request_http_header(const pvm_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].key, name) == 0)
            return r->headers[i].value;
    return NULL;
}

size_t pvm_request_http_header_count(const pvm_request *r)
{
    return r->nheaders;
}

void pvm_request_http_header_at(const pvm_request *r, size_t i,
                                const char **name, const char **value)
{
    *name = i < r->nheaders ? r->headers[i].key : NULL;
    *value = i < r->nheaders ? r->headers[i].value : NULL;
}

static const char *kv_get(const pvm_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

const char *pvm_request_http_query(const pvm_request *r, const char *key)
{
    return kv_get(r->url_params, r->nurl_params, key);
}

size_t pvm_request_http_query_count(const pvm_request *r)
{
    return r->nurl_params;
}

void pvm_request_http_query_at(const pvm_request *r, size_t i,
                               const char **key, const char **value)
{
    *key = i < r->nurl_params ? r->url_params[i].key : NULL;
    *value = i < r->nurl_params ? r->url_params[i].value : NULL;
}

const char *pvm_request_http_post_data(const pvm_request *r, const char *key)
{
    return kv_get(r->body_params, r->nbody_params, key);
}

size_t pvm_request_http_post_data_count(const pvm_request *r)
{
    return r->nbody_params;
}

void pvm_request_http_post_data_at(const pvm_request *r, size_t i,
                                   const char **key, const char **value)
{
    *key = i < r->nbody_params ? r->body_params[i].key : NULL;
    *value = i < r->nbody_params ? r->body_params[i].value : NULL;
}

pvm_context *pvm_request_context(const pvm_request *r)
{
    return r->ctx;
}

pvm_arena *pvm_request_arena(const pvm_request *r)
{
    return r->arena;
}

int64_t pvm_request_deadline_ms(const pvm_request *r)
{
    return r->deadline_ms;
}

int64_t pvm_request_remaining_ms(const pvm_request *r)
{
    if (!r->deadline_ms)
        return INT64_MAX;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return r->deadline_ms - ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* HTTP Basic credentials */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decodes standard base64 (padding optional) into out (cap bytes).
 * Returns the decoded length, or -1 when invalid or too long. */
static long b64_decode(const char *in, unsigned char *out, size_t cap)
{
    size_t n = strlen(in), o = 0;
    while (n && in[n - 1] == ' ')
        n--;
    size_t pad = 0;
    while (n && in[n - 1] == '=' && pad < 2)
        n--, pad++;
    if (n % 4 == 1 || (pad && (n + pad) % 4))
        return -1;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

int pvm_request_basic_credentials(const pvm_request *req, char *user,
                                  size_t ulen, char *pass, size_t plen)
{
    if (ulen)
        user[0] = '\0';
    if (plen)
        pass[0] = '\0';
    const char *h = pvm_request_http_header(req, "Authorization");
    if (!h)
        return PVM_ERR_NOT_FOUND;
    h += strspn(h, " \t");
    if (strncasecmp(h, "Basic", 5) != 0 || (h[5] != ' ' && h[5] != '\t'))
        return PVM_ERR_NOT_FOUND;
    h += 5 + strspn(h + 5, " \t");
    unsigned char buf[1024];
    long n = b64_decode(h, buf, sizeof(buf));
    const unsigned char *colon = n > 0 ? memchr(buf, ':', (size_t)n) : NULL;
    int rc = PVM_ERR_BAD_DATA;
    if (!colon || memchr(buf, '\0', (size_t)n))
        goto out;
    size_t un = (size_t)(colon - buf), pn = (size_t)n - un - 1;
    if (un >= ulen || pn >= plen)
        goto out;
    memcpy(user, buf, un);
    user[un] = '\0';
    memcpy(pass, colon + 1, pn);
    pass[pn] = '\0';
    rc = 0;
out:
    explicit_bzero(buf, sizeof(buf));
    return rc;
}
