/* plugins/http_client.h: the HTTP client both HTTP plugin types (`http`,
 * `prometheus`) share: their common settings, one libcurl easy handle per
 * instance per worker (connections reused), fetches bounded in time and
 * size, errors that name the instance and a URL without secrets, and a
 * small in-worker answer cache.
 *
 * Contract:
 * - Settings: embed a pvm_http_settings in the plugin's state and put
 *   PVM_HTTP_CLIENT_KEYS(STATE_TYPE, FIELD, URL_DOC) into its key table;
 *   the server parses, defaults and frees them. Call
 *   pvm_http_settings_check() from the type's check hook (no I/O) and
 *   pvm_http_settings_validate() from validate (reads the secret and CA
 *   files, fetches nothing).
 * - Client: pvm_http_client_new() in on_startup (per worker, after the
 *   fork: it reads the secret files and creates the curl handle),
 *   pvm_http_client_free() in on_shutdown and destroy. One client serves
 *   one request at a time (a worker is single-threaded).
 * - Fetch: pvm_http_fetch() does one request. Its timeout is
 *   min(`timeout`, pvm_request_remaining_ms(req)); the body is cut off
 *   at `max_response_bytes` while it arrives; an HTTP status >= 400, a
 *   timeout, a TLS or connection failure, an oversized body all fail with
 *   a message "instance NAME: METHOD URL: what happened" where URL has no
 *   user, password or query values (pvm_http_redact_url). Secrets (the
 *   password, the token, `header` values) are never in a message or a
 *   log line; curl's verbose output is never enabled.
 * - Cache: with `cache_ttl` > 0 an answer is kept for that long, keyed by
 *   method, final URL and body; a fetch of the same key within the TTL
 *   returns the kept answer without a request (answer.cached). At most
 *   PVM_HTTP_CACHE_ENTRIES answers and PVM_HTTP_CACHE_BYTES bytes are
 *   kept (the oldest go first); only 2xx answers are kept.
 * Symbols are pvm_http_* (the libraries export pvm_ names only). */
#ifndef PVM_PLUGINS_HTTP_CLIENT_H
#define PVM_PLUGINS_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/pvm.h>

#define PVM_HTTP_CACHE_ENTRIES 16 /* answers kept per client, at most */
#define PVM_HTTP_CACHE_BYTES                                                  \
    (256u << 20) /* bytes of kept answers per client, at most (one answer \
                    over it is not kept) */

/* The `method` key: an index into pvm_http_methods. */
enum { PVM_HTTP_GET, PVM_HTTP_POST };
extern const char *const pvm_http_methods[]; /* "GET", "POST", NULL */

/* The shared settings (the fields the key table below fills). */
typedef struct pvm_http_settings {
    char *url;                 /* `url =`: the plugin type says what it
                                   may hold (placeholders, a base URL) */
    int method;                /* `method =`: PVM_HTTP_GET or _POST */
    pvm_key_list header;       /* `header = Name: value`, repeatable */
    char *basic_user;          /* `basic_user =` or NULL */
    char *basic_password_file; /* `basic_password_file =` or NULL */
    char *bearer_token_file;   /* `bearer_token_file =` or NULL */
    char *ca_file;             /* `ca_file =` or NULL: the system CAs */
    bool insecure_skip_verify; /* `insecure_skip_verify =` (default no) */
    bool compression;          /* `compression =` (default yes) */
    int64_t timeout_ms;        /* `timeout =` (default 30s) */
    size_t max_response_bytes; /* `max_response_bytes =` (default 32M) */
    int64_t cache_ttl_ms;      /* `cache_ttl =` (default 0: off) */
    int64_t immutable_ms;      /* `immutable_before =` (default 0: never) */
} pvm_http_settings;

/* The key table entries of pvm_http_settings FIELD inside STATE (a
 * struct type), for a plugin type's {NULL}-ended table; URL_DOC is the
 * `url` key's doc line, which the type words for itself. `url` is not
 * marked required (the http type also reads local files with `path`):
 * pvm_http_settings_check refuses a missing url, so a type whose url is
 * mandatory says "(required)" in URL_DOC. */
#define PVM_HTTP_CLIENT_KEYS(STATE, FIELD, URL_DOC)                           \
    {"url", PVM_KEY_STRING, offsetof(STATE, FIELD.url), .doc = URL_DOC},      \
        {"method",                                                            \
         PVM_KEY_ENUM,                                                        \
         offsetof(STATE, FIELD.method),                                       \
         .choices = pvm_http_methods,                                         \
         .def = "GET",                                                        \
         .doc = "HTTP method of the fetch"},                                  \
        {"header",                                                            \
         PVM_KEY_STRING,                                                      \
         offsetof(STATE, FIELD.header),                                       \
         .repeat = true,                                                      \
         .secret = true,                                                      \
         .doc = "a request header 'Name: value' (repeatable; never "          \
                "logged)"},                                                   \
        {"basic_user", PVM_KEY_STRING, offsetof(STATE, FIELD.basic_user),     \
         .doc = "HTTP Basic user (with basic_password_file)"},                \
        {"basic_password_file", PVM_KEY_PATH,                                 \
         offsetof(STATE, FIELD.basic_password_file),                          \
         .doc = "file holding the HTTP Basic password"},                      \
        {"bearer_token_file", PVM_KEY_PATH,                                   \
         offsetof(STATE, FIELD.bearer_token_file),                            \
         .doc = "file holding a token sent as 'Authorization: Bearer'"},      \
        {"ca_file", PVM_KEY_PATH, offsetof(STATE, FIELD.ca_file),             \
         .doc = "PEM file of the CAs to trust (default: the system's)"},      \
        {"insecure_skip_verify", PVM_KEY_BOOL,                                \
         offsetof(STATE, FIELD.insecure_skip_verify), .def = "no",            \
         .doc = "accept any TLS certificate and host name (tests only)"},     \
        {"compression", PVM_KEY_BOOL, offsetof(STATE, FIELD.compression),     \
         .def = "yes",                                                        \
         .doc = "ask for compressed answers (no: an upstream on the same "    \
                "host or network spends less CPU)"},                          \
        {"timeout",                                                           \
         PVM_KEY_DURATION,                                                    \
         offsetof(STATE, FIELD.timeout_ms),                                   \
         .def = "30s",                                                        \
         .min = 1,                                                            \
         .doc = "longest fetch (also capped by the request's remaining "      \
                "time)"},                                                     \
        {"max_response_bytes",                                                \
         PVM_KEY_SIZE,                                                        \
         offsetof(STATE, FIELD.max_response_bytes),                           \
         .def = "32M",                                                        \
         .min = 1,                                                            \
         .doc = "largest answer body accepted (k, M, G suffixes)"},           \
        {"cache_ttl", PVM_KEY_DURATION, offsetof(STATE, FIELD.cache_ttl_ms),  \
         .def = "0s",                                                         \
         .doc = "keep answers this long per worker, keyed by method, URL "    \
                "and body (0s: no cache)"},                                   \
    {                                                                         \
        "immutable_before", PVM_KEY_DURATION,                                 \
            offsetof(STATE, FIELD.immutable_ms),                              \
            .def = "0s",                                                      \
            .doc = "data older than this (now minus it) never changes, so "   \
                   "answers about it may be cached (0s: never)"               \
    }

/* With immutable_before set, declares the source's data before now -
 * immutable_before final for this request (pvm_response_set_immutable_
 * before); nothing otherwise. Every query and discovery hook calls it. */
void pvm_http_declare_immutable(const pvm_http_settings *s,
                                pvm_response *resp);

/* Checks what the key table cannot: url is set and is http:// or https:// (when
 * allow_file, file:// too), each header is "Name: value" with a token
 * name, basic_user and basic_password_file come together, not both
 * Basic and bearer. No I/O. 0, or PVM_ERR_BAD_DATA with err naming the
 * key (never a header's value). */
int pvm_http_settings_check(const pvm_http_settings *s, bool allow_file,
                            pvm_error *err);

/* For validate (--check-config): reads the password and token files
 * (wiping them at once) and checks that ca_file is readable. Fetches
 * nothing. 0, or a negative status with err saying which file. */
int pvm_http_settings_validate(const pvm_http_settings *s, pvm_error *err);

typedef struct pvm_http_client pvm_http_client;

/* Creates the client of instance `name` (used in messages; copied):
 * reads the secret files, creates the curl handle with the settings'
 * fixed options. s must outlive the client. NULL with err on failure
 * (a secret file unreadable, out of memory). Free with
 * pvm_http_client_free (NULL ok), which wipes the secrets. */
pvm_http_client *pvm_http_client_new(const pvm_http_settings *s,
                                     const char *name, pvm_error *err);
void pvm_http_client_free(pvm_http_client *c);

/* One fetch. */
typedef struct pvm_http_call {
    const char *url;          /* the final URL (placeholders expanded) */
    int method;               /* PVM_HTTP_GET or PVM_HTTP_POST */
    const char *body;         /* POST body, or NULL (empty) */
    size_t body_len;          /* bytes of body */
    const char *content_type; /* POST: the Content-Type (NULL: a `header`
                                 may set it; else curl's urlencoded) */
    bool error_body;          /* an HTTP status >= 400 is answered like a
                                 success (status and body in the answer,
                                 never cached): for APIs whose error
                                 answers say what went wrong */
} pvm_http_call;

/* Its answer. body is owned by the client: valid until the next
 * pvm_http_fetch on the same client or its free. */
typedef struct pvm_http_answer {
    const char *body; /* the body, NUL-terminated (NULs inside possible) */
    size_t len;       /* bytes of body */
    long status;      /* HTTP status (2xx..3xx) */
    bool cached;      /* true when it came from the cache */
    int64_t fetch_ms; /* wall time of the transfer (0 when cached) */
} pvm_http_answer;

/* Performs call (or answers from the cache), within
 * min(`timeout`, pvm_request_remaining_ms(req)); req may be NULL (no
 * deadline but the timeout). Returns 0 with *out filled, or with err set:
 *   PVM_ERR_TIMEOUT    the timeout or the request's deadline passed;
 *   PVM_ERR_TOO_LARGE  the body is over max_response_bytes;
 *   PVM_ERR_EXECUTION  HTTP status >= 400, connection or TLS failure;
 *   PVM_ERR_INTERNAL   out of memory, a curl setup failure.
 * err->msg is "instance NAME: METHOD REDACTED-URL: ..." and holds no
 * secret; a hook answers with
 *   pvm_response_set_error(resp, err.code, "%s", err.msg).
 * PVM_ERR_TOO_LARGE is a 413 of pvm's own answer: a hook that prefers
 * 422 maps it to PVM_ERR_EXECUTION. Cost: one HTTP round trip, or a
 * cache lookup (a hash over the URL and body). */
int pvm_http_fetch(pvm_http_client *c, const pvm_request *req,
                   const pvm_http_call *call, pvm_http_answer *out,
                   pvm_error *err);

/* Drops every cached answer (e.g. after a reload). */
void pvm_http_cache_clear(pvm_http_client *c);

/* The URL as safe to show: scheme://host[:port]/path with the user and
 * password dropped, each query value replaced by "..." and the fragment
 * dropped. Written into buf (n bytes, NUL-terminated, truncated with
 * "..."); returns buf. */
char *pvm_http_redact_url(const char *url, char *buf, size_t n);

/* Percent-encodes s for a URL query or path segment (RFC 3986: letters,
 * digits and -._~ stay, every other byte becomes %XX) into the arena.
 * NULL when out of the arena's memory. */
char *pvm_http_urlencode(pvm_arena *a, const char *s);

/* The same into buf (n bytes): the length written (without the NUL), or
 * the length needed when it does not fit (then buf holds a NUL-ended
 * prefix when n > 0). */
size_t pvm_http_urlencode_buf(const char *s, char *buf, size_t n);

#endif
