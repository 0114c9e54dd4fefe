/* apiutil.h: requests straight through pvm_api_handle, for the unit tests
 * that need what the test kit hides (the raw header block, an api env of
 * their own): a sink that collects the answer, and one request. Include
 * after <cmocka.h>. */
#ifndef PVM_TESTS_UNIT_APIUTIL_H
#define PVM_TESTS_UNIT_APIUTIL_H

#include <string.h>

#include "api.h"

/* Collects a whole answer: header block and body. */
typedef struct sink {
    char buf[1 << 20]; /* bytes written, NUL-terminated */
    size_t len;        /* bytes used */
} sink;

/* The pvm_http_out write of a sink; fails when the answer outgrows it. */
static inline int sink_write(void *ctx, const char *buf, size_t len)
{
    struct sink *s = ctx;
    if (s->len + len >= sizeof(s->buf))
        return -1;
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    s->buf[s->len] = '\0';
    return 0;
}

/* GET target (or POST body, urlencoded, when body is not NULL) with the
 * nheaders header pairs through pvm_api_handle with env, in an arena of
 * its own; the answer lands in s. Returns the status. */
static inline int api_request(const pvm_api_env *env, const char *target,
                              const char *body, const pvm_kv *headers,
                              size_t nheaders, struct sink *s)
{
    pvm_arena *a = pvm_arena_new(64 << 20);
    assert_non_null(a);
    const char *q = strchr(target, '?');
    pvm_http_request hr = {
        .method = body ? "POST" : "GET",
        .request_uri = target,
        .query_string = q ? q + 1 : "",
        .content_type = body ? "application/x-www-form-urlencoded" : NULL,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .remote_addr = "127.0.0.1",
        .headers = nheaders ? headers : NULL,
        .nheaders = nheaders};
    s->len = 0;
    s->buf[0] = '\0';
    pvm_http_out out = {sink_write, s, NULL};
    int status = pvm_api_handle(env, a, &hr, &out);
    pvm_arena_free(a);
    return status;
}

#endif
