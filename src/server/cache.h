/* cache.h: whether an answer may be cached, and its validator. A request
 * whose times are all explicit (a candidate) is cacheable when every
 * instance whose query or discovery hook ran for it declared, with
 * pvm_response_set_immutable_before(), that its data before a moment
 * later than every time the hook was asked for will not change. The
 * output module then buffers the body, sends `Cache-Control: public,
 * max-age=N` (private when an on_request gate ran) and a strong ETag (a
 * 128-bit hash of the body) and answers a matching If-None-Match with 304;
 * every other answer of the API gets `Cache-Control: no-store`. */
#ifndef PVM_CACHE_H
#define PVM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/request.h>
#include <pvm/response.h>

/* The cache bookkeeping of one HTTP request (request arena). */
typedef struct pvm_cache_state {
    bool candidate;            /* the handler's times were all explicit */
    bool touched_mutable;      /* a hook ran without declaring, or was
                                  asked for a time not declared immutable */
    bool gated;                /* an on_request gate ran: private only */
    int64_t max_age_s;         /* [server] cache_max_age in s (0: never) */
    size_t max_body;           /* [server] cache_max_body_bytes */
    const char *if_none_match; /* the request's If-None-Match, or NULL */
} pvm_cache_state;

/* Before an instance's hook runs on resp: forget the previous
 * instance's declaration. */
void pvm_cache_hook_begin(pvm_response *resp);

/* After an instance's query or discovery hook ran on req/resp: an
 * instance that did not declare, or declared a moment at or before the
 * latest time req asks for, makes the answer uncacheable. Nothing
 * happens when req carries no cache state. */
void pvm_cache_hook_end(const pvm_request *req, const pvm_response *resp);

/* True when the successful answer of this request may be cached. */
bool pvm_cache_is_cacheable(const pvm_cache_state *c);

/* The strong ETag of a body given in pieces: "\"<32 hex digits>\"" into
 * out (PVM_ETAG_SIZE bytes). Feed with pvm_etag_init / _update / _final. */
#define PVM_ETAG_SIZE 35
typedef struct pvm_etag_ctx {
    uint64_t h[2];          /* the two lanes */
    uint64_t total;         /* bytes fed */
    unsigned char tail[16]; /* bytes not yet mixed */
    size_t ntail;           /* how many */
} pvm_etag_ctx;

void pvm_etag_init(pvm_etag_ctx *e);
void pvm_etag_update(pvm_etag_ctx *e, const void *p, size_t n);
void pvm_etag_final(pvm_etag_ctx *e, char out[PVM_ETAG_SIZE]);

/* True when an If-None-Match header value lists etag (or is "*"), as
 * RFC 9110 compares for If-None-Match (weak comparison: W/ is ignored). */
bool pvm_etag_matches(const char *if_none_match, const char *etag);

#endif
