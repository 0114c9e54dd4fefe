/* tests/lib/http.h: a tiny HTTP/1.1 client and json-c helpers for the
 * integration tests. Talks only to 127.0.0.1; every wait is bounded by a
 * timeout so a hung server fails a test instead of hanging it. */
#ifndef PVM_TEST_HTTP_H
#define PVM_TEST_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#define TEST_HTTP_MAX_HEADERS 64

/* A response. All strings are owned by the response (test_http_free). */
typedef struct test_http_response {
    int status;      /* 200, 404, ...; 0 when nothing parsed */
    char *reason;    /* "OK" */
    size_t nheaders; /* number of headers */
    char *names[TEST_HTTP_MAX_HEADERS];  /* header names as sent */
    char *values[TEST_HTTP_MAX_HEADERS]; /* header values, trimmed */
    char *body;                          /* de-chunked body, NUL-terminated */
    size_t body_len;                     /* bytes of body (without the NUL) */
    json_object *json;                   /* body parsed as JSON, or NULL */
    char error[256]; /* transport/parse error, "" if none */
} test_http_response;

/* A request. path is sent as is (already percent-encoded, with the query
 * string). headers is a NULL-terminated list of "Name: value" strings (or
 * NULL). body may be NULL (no body, no Content-Length unless a header
 * sets one) or body_len bytes. Host, Connection: close and, with a body,
 * Content-Length are added unless headers already carry them (or, for
 * Content-Length, Transfer-Encoding: then body must be chunked already). */
typedef struct test_http_request {
    const char *method;         /* "GET", "POST", ... */
    const char *path;           /* "/api/v1/query?query=up" */
    const char *const *headers; /* "Content-Type: ..." strings, or NULL */
    const char *body;           /* request body, or NULL */
    size_t body_len;            /* bytes of body */
    int timeout_ms;             /* whole exchange; 0: test_http_timeout_ms() */
} test_http_request;

/* Default timeout: $PVM_TEST_HTTP_TIMEOUT_MS, else 20000. */
int test_http_timeout_ms(void);

/* Sends req to 127.0.0.1:port and reads the answer into *resp (zeroed
 * first). Returns 0 when a complete response was read (any status), -1
 * otherwise with resp->error set. The body is parsed as JSON when it is
 * one (resp->json). Caller frees with test_http_free. */
int test_http_do(int port, const test_http_request *req,
                 test_http_response *resp);

/* Shorthands: GET path; POST path with a form body (Content-Type
 * application/x-www-form-urlencoded, or ctype when not NULL). */
int test_http_get(int port, const char *path, test_http_response *resp);
int test_http_post_form(int port, const char *path, const char *body,
                        const char *ctype, test_http_response *resp);

/* Frees what a response holds and zeroes it. */
void test_http_free(test_http_response *resp);

/* A header value by name (case-insensitive), or NULL. */
const char *test_http_header(const test_http_response *resp, const char *name);

/* Percent-encodes s like Go's url.QueryEscape (space becomes '+').
 * Returns a malloc'ed string. */
char *test_http_urlencode(const char *s);

/* Looks a path up in a JSON value: "data.result[0].metric.type",
 * "[1]", "data" ("" is obj itself). Returns a borrowed pointer, or NULL
 * when some step is missing. A JSON null found at the end also gives NULL
 * (use test_json_has to tell them apart). */
json_object *test_json_get(json_object *obj, const char *path);

/* True when the path exists (even if its value is null). */
bool test_json_has(json_object *obj, const char *path);

/* The string at path, or NULL when missing or not a string. */
const char *test_json_string(json_object *obj, const char *path);

/* Length of the array at path, or -1 when missing or not an array. */
int test_json_array_len(json_object *obj, const char *path);

/* True when the array at path holds strings in strictly ascending byte
 * order (sorted and de-duplicated). */
bool test_json_is_sorted_strings(json_object *obj, const char *path);

/* True when the array at path holds string s. */
bool test_json_array_has_string(json_object *obj, const char *path,
                                const char *s);

/* Checks the Prometheus sample pair [t, "v"]: t a JSON number, v a string
 * parsing fully as a double, non-finite values spelled "NaN", "+Inf",
 * "-Inf". Returns NULL when fine, else a static message. */
const char *test_json_check_sample(json_object *pair);

/* Compares two label-set objects as Prometheus orders series: by label
 * pairs in name order, name first, then value. <0, 0, >0. */
int test_json_labels_cmp(json_object *a, json_object *b);

/* The position of the first occurrence of "key" (quoted) in text, or -1:
 * to check key order in the raw body ("resultType" before "result"). */
long test_json_key_pos(const char *text, const char *key);

#endif
