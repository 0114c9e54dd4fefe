/* cache.c: the cacheability of an answer from the plugins' declarations,
 * and the ETag of a body (see cache.h). */
#include <string.h>

#include "cache.h"
#include "request_impl.h"
#include "response_impl.h"

void pvm_cache_hook_begin(pvm_response *resp)
{
    if (resp)
        resp->immutable_set = false;
}

/* The latest time a hook's request asks about. Discovery requests
 * without an end carry PVM_MAX_TIME_MS, which no declaration covers. */
static int64_t latest_asked(const pvm_request *req)
{
    switch (req->type) {
    case PVM_REQUEST_INSTANT: return req->time;
    default: return req->end > req->time ? req->end : req->time;
    }
}

void pvm_cache_hook_end(const pvm_request *req, const pvm_response *resp)
{
    pvm_cache_state *c = req && resp ? req->cache : NULL;
    if (!c)
        return;
    if (!resp->immutable_set || resp->immutable_tainted ||
        latest_asked(req) >= resp->immutable_before)
        c->touched_mutable = true;
}

bool pvm_cache_is_cacheable(const pvm_cache_state *c)
{
    return c && c->candidate && !c->touched_mutable && c->max_age_s > 0;
}

/* ---- ETag: a 128-bit hash of the body --------------------------------- */

#define K1 0x9E3779B97F4A7C15ull
#define K2 0xC2B2AE3D27D4EB4Full
#define K3 0x165667B19E3779F9ull
#define K4 0xD6E8FEB86659FD93ull

static uint64_t rotl(uint64_t x, int r)
{
    return x << r | x >> (64 - r);
}

static uint64_t load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* Mixes one 16-byte block into both lanes, each lane seeing both words. */
static void block(uint64_t h[2], const unsigned char *p)
{
    uint64_t a = load64(p), b = load64(p + 8);
    h[0] = rotl(h[0] ^ (a * K1), 31) * K2 + b;
    h[1] = rotl(h[1] ^ (b * K3), 29) * K4 + a;
}

/* The final mix of MurmurHash3, so that every input bit reaches every
 * output bit. */
static uint64_t fmix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xFF51AFD7ED558CCDull;
    k ^= k >> 33;
    k *= 0xC4CEB9FE1A85EC53ull;
    k ^= k >> 33;
    return k;
}

void pvm_etag_init(pvm_etag_ctx *e)
{
    memset(e, 0, sizeof(*e));
    e->h[0] = K3;
    e->h[1] = K1;
}

void pvm_etag_update(pvm_etag_ctx *e, const void *data, size_t n)
{
    const unsigned char *p = data;
    e->total += n;
    if (e->ntail) {
        size_t k = 16 - e->ntail < n ? 16 - e->ntail : n;
        memcpy(e->tail + e->ntail, p, k);
        e->ntail += k;
        p += k;
        n -= k;
        if (e->ntail < 16)
            return;
        block(e->h, e->tail);
        e->ntail = 0;
    }
    for (; n >= 16; p += 16, n -= 16)
        block(e->h, p);
    memcpy(e->tail, p, n);
    e->ntail = n;
}

void pvm_etag_final(pvm_etag_ctx *e, char out[PVM_ETAG_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    memset(e->tail + e->ntail, 0, 16 - e->ntail);
    block(e->h, e->tail); /* the tail, zero-padded; the length below */
    uint64_t a = fmix(e->h[0] ^ e->total), b = fmix(e->h[1] + e->total);
    a += b;
    b += a;
    out[0] = '"';
    for (int i = 0; i < 16; i++) {
        out[1 + i] = hex[(a >> (60 - 4 * i)) & 15];
        out[17 + i] = hex[(b >> (60 - 4 * i)) & 15];
    }
    out[33] = '"';
    out[34] = '\0';
}

bool pvm_etag_matches(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = inm;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (strncmp(p, etag, elen) == 0 &&
            (p[elen] == '\0' || p[elen] == ',' || p[elen] == ' ' ||
             p[elen] == '\t'))
            return true;
        p = strchr(p, ',');
    }
    return false;
}
