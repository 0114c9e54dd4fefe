/* http.h: a transport-independent HTTP request and response sink. The
 * FastCGI loop (fcgi.c) fills pvm_http_request from FastCGI parameters;
 * tests and the plugin test kit fill it directly. */
#ifndef PVM_HTTP_H
#define PVM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "request_impl.h"

typedef struct pvm_http_request {
    const char *method;       /* "GET", "POST", ... */
    const char *request_uri;  /* REQUEST_URI: raw path and query string */
    const char *script_name;  /* SCRIPT_NAME (fallback when no URI) */
    const char *path_info;    /* PATH_INFO (fallback when no URI) */
    const char *query_string; /* QUERY_STRING, raw */
    const char *content_type; /* CONTENT_TYPE, or NULL */
    const char *remote_addr;  /* REMOTE_ADDR */
    const char *body;         /* request body (POST), may be NULL */
    size_t body_len;          /* bytes in body */
    bool body_too_large;      /* body exceeded max_body_bytes (not read) */
    const pvm_kv *headers;    /* HTTP headers, names like "User-Agent" */
    size_t nheaders;          /* number of headers */
} pvm_http_request;

/* Where a response goes: CGI-style header lines ("Status: 200 OK\r\n",
 * ..., "\r\n") and then the body, through write. write returns 0 or a
 * negative value when the client is gone. */
typedef struct pvm_http_out {
    int (*write)(void *ctx, const char *buf, size_t len); /* sink */
    void *ctx;                                            /* its state */
    struct pvm_cache_state *cache; /* cache headers to send (cache.h);
                                      NULL: none (tests, the test kit) */
} pvm_http_out;

#endif
