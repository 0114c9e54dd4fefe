/* http_client.c: the HTTP client of the `http` and `prometheus` plugin
 * types (see http_client.h for the contract): settings checks, a libcurl
 * easy handle per instance per worker, fetches bounded by the timeout, the
 * request's deadline and max_response_bytes, errors without secrets, a
 * small answer cache, and URL helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http_client.h"

const char *const pvm_http_methods[] = {"GET", "POST", NULL};

/* One kept answer. */
struct entry {
    uint64_t hash; /* of method, URL and body */
    char *key;     /* method byte, URL, NUL, body: malloc'd */
    size_t klen;   /* bytes of key */
    char *body;    /* the answer, malloc'd, NUL-terminated */
    size_t len;    /* bytes of body */
    long status;   /* its HTTP status */
    int64_t at_ms; /* CLOCK_MONOTONIC when it was fetched */
};

struct pvm_http_client {
    const pvm_http_settings *s; /* the instance's settings */
    char *name;                 /* the instance, for messages */
    CURL *h;                    /* reused: keeps connections open */
    char *password, *token;     /* secrets, wiped on free */
    char *buf;                  /* the body being received */
    size_t len, cap;            /* its bytes used / allocated */
    bool too_large;             /* the body went over the limit */
    struct entry cache[PVM_HTTP_CACHE_ENTRIES]; /* key NULL: free */
    size_t cache_bytes;                         /* bytes of bodies kept */
    char errbuf[CURL_ERROR_SIZE];               /* curl's last message */
};

/* ---- settings -------------------------------------------------------- */

static bool is_token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A header line "Name: value": a token, a colon, no CR, LF or NUL. */
static bool header_is_valid(const char *h)
{
    size_t n = 0;
    while (is_token_char((unsigned char)h[n]))
        n++;
    if (n == 0 || h[n] != ':')
        return false;
    return !strpbrk(h + n, "\r\n");
}

/* The part of url after "scheme://" when the scheme is http or https
 * (or file when allow_file), else NULL. */
static const char *after_scheme(const char *url, bool allow_file)
{
    if (strncasecmp(url, "http://", 7) == 0)
        return url + 7;
    if (strncasecmp(url, "https://", 8) == 0)
        return url + 8;
    if (allow_file && strncasecmp(url, "file://", 7) == 0)
        return url + 7;
    return NULL;
}

int pvm_http_settings_check(const pvm_http_settings *s, bool allow_file,
                            pvm_error *err)
{
    if (!s->url)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "missing key 'url'");
    const char *rest = after_scheme(s->url, allow_file);
    if (!rest)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "url: must start with http:// or https://%s",
                             allow_file ? " or file://" : "");
    for (const unsigned char *p = (const unsigned char *)s->url; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "url: a blank or control character at "
                                 "byte %zu (percent-encode it)",
                                 (size_t)(p - (const unsigned char *)s->url));
    size_t auth = strcspn(rest, "/?#");
    if (strncasecmp(s->url, "file://", 7) != 0) {
        if (auth == 0)
            return pvm_error_set(err, PVM_ERR_BAD_DATA, "url: no host");
        if (memchr(rest, '@', auth))
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "url: credentials in the URL are refused "
                                 "(use basic_user and basic_password_file)");
    }
    for (size_t i = 0; i < s->header.n; i++)
        if (!header_is_valid(s->header.v[i]))
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "header #%zu: must be 'Name: value' (a "
                                 "token, a colon, no line break)",
                                 i + 1);
    if (!s->basic_user != !s->basic_password_file)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "basic_user and basic_password_file go "
                             "together");
    if (s->basic_user && s->bearer_token_file)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "basic_user and bearer_token_file exclude "
                             "each other");
    return 0;
}

int pvm_http_settings_validate(const pvm_http_settings *s, pvm_error *err)
{
    const char *files[] = {s->basic_password_file, s->bearer_token_file};
    for (size_t i = 0; i < 2; i++) {
        if (!files[i])
            continue;
        char *secret = pvm_secret_file_read(files[i], err);
        if (!secret)
            return err ? err->code : PVM_ERR_BAD_DATA;
        pvm_secret_free(secret);
    }
    if (s->ca_file && access(s->ca_file, R_OK) != 0)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "ca_file %s: %s",
                             s->ca_file, strerror(errno));
    return 0;
}

/* ---- the client ------------------------------------------------------ */

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
    pvm_http_client *c = arg;
    size_t n = size * nmemb;
    if (n > c->s->max_response_bytes - c->len) {
        c->too_large = true;
        return 0; /* stops the transfer: CURLE_WRITE_ERROR */
    }
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 64 * 1024;
        while (cap < c->len + n + 1)
            cap *= 2;
        if (cap > c->s->max_response_bytes + 1)
            cap = c->s->max_response_bytes + 1;
        char *b = realloc(c->buf, cap);
        if (!b)
            return 0;
        c->buf = b;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    return n;
}

/* The options that stay for the client's life. */
static int setup(pvm_http_client *c)
{
    const pvm_http_settings *s = c->s;
    CURL *h = c->h;
    CURLcode e = CURLE_OK;
#define SET(opt, val)                                                         \
    if (e == CURLE_OK)                                                        \
    e = curl_easy_setopt(h, opt, val)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, c->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_data);
    SET(CURLOPT_WRITEDATA, c);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, 5L);
    if (s->compression)
        SET(CURLOPT_ACCEPT_ENCODING, "");
    SET(CURLOPT_USERAGENT, "pvm");
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max_response_bytes);
    if (s->ca_file)
        SET(CURLOPT_CAINFO, s->ca_file);
    if (s->insecure_skip_verify) {
        SET(CURLOPT_SSL_VERIFYPEER, 0L);
        SET(CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->password) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, s->basic_user);
        SET(CURLOPT_PASSWORD, c->password);
    } else if (c->token) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        SET(CURLOPT_XOAUTH2_BEARER, c->token);
    }
#undef SET
    return e == CURLE_OK ? 0 : -1;
}

pvm_http_client *pvm_http_client_new(const pvm_http_settings *s,
                                     const char *name, pvm_error *err)
{
    pvm_http_client *c = calloc(1, sizeof(*c));
    if (!c || !(c->name = strdup(name))) {
        free(c);
        pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    c->s = s;
    if (s->basic_password_file &&
        !(c->password = pvm_secret_file_read(s->basic_password_file, err)))
        goto fail;
    if (s->bearer_token_file &&
        !(c->token = pvm_secret_file_read(s->bearer_token_file, err)))
        goto fail;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        pvm_error_set(err, PVM_ERR_INTERNAL, "curl_global_init failed");
        goto fail;
    }
    if (!(c->h = curl_easy_init()) || setup(c) < 0) {
        curl_easy_cleanup(c->h);
        c->h = NULL;
        curl_global_cleanup();
        pvm_error_set(err, PVM_ERR_INTERNAL,
                      "cannot set up libcurl (out of memory, or a libcurl "
                      "without http/https)");
        goto fail;
    }
    return c;
fail:
    pvm_http_client_free(c);
    return NULL;
}

void pvm_http_cache_clear(pvm_http_client *c)
{
    for (size_t i = 0; i < PVM_HTTP_CACHE_ENTRIES; i++) {
        free(c->cache[i].key);
        free(c->cache[i].body);
        memset(&c->cache[i], 0, sizeof(c->cache[i]));
    }
    c->cache_bytes = 0;
}

void pvm_http_client_free(pvm_http_client *c)
{
    if (!c)
        return;
    if (c->h) {
        curl_easy_cleanup(c->h);
        curl_global_cleanup();
    }
    pvm_http_cache_clear(c);
    pvm_secret_free(c->password);
    pvm_secret_free(c->token);
    free(c->buf);
    free(c->name);
    free(c);
}

/* ---- the cache ------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The key of a call: method byte, URL, NUL, body; malloc'd. */
static char *cache_key(const pvm_http_call *call, size_t *klen, uint64_t *hash)
{
    size_t ul = strlen(call->url), bl = call->body ? call->body_len : 0;
    char *k = malloc(ul + bl + 2);
    if (!k)
        return NULL;
    k[0] = (char)('0' + call->method);
    memcpy(k + 1, call->url, ul + 1);
    if (bl)
        memcpy(k + ul + 2, call->body, bl);
    *klen = ul + bl + 2;
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < *klen; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    *hash = h;
    return k;
}

static void entry_drop(pvm_http_client *c, struct entry *e)
{
    c->cache_bytes -= e->len;
    free(e->key);
    free(e->body);
    memset(e, 0, sizeof(*e));
}

static struct entry *cache_find(pvm_http_client *c, const char *key,
                                size_t klen, uint64_t hash, int64_t now)
{
    for (size_t i = 0; i < PVM_HTTP_CACHE_ENTRIES; i++) {
        struct entry *e = &c->cache[i];
        if (!e->key)
            continue;
        if (now - e->at_ms >= c->s->cache_ttl_ms) {
            entry_drop(c, e);
            continue;
        }
        if (e->hash == hash && e->klen == klen && !memcmp(e->key, key, klen))
            return e;
    }
    return NULL;
}

/* Moves the received body into the cache under key (taking key); returns
 * the entry, or NULL when it is not kept (then key is freed). */
static struct entry *cache_put(pvm_http_client *c, char *key, size_t klen,
                               uint64_t hash, long status, int64_t at)
{
    if (c->len > PVM_HTTP_CACHE_BYTES) {
        free(key);
        return NULL;
    }
    struct entry *slot = NULL;
    for (;;) {
        struct entry *oldest = NULL;
        slot = NULL;
        for (size_t i = 0; i < PVM_HTTP_CACHE_ENTRIES; i++) {
            struct entry *e = &c->cache[i];
            if (!e->key)
                slot = slot ? slot : e;
            else if (!oldest || e->at_ms < oldest->at_ms)
                oldest = e;
        }
        if (slot && c->cache_bytes + c->len <= PVM_HTTP_CACHE_BYTES)
            break;
        entry_drop(c, oldest);
    }
    *slot = (struct entry){hash, key, klen, c->buf, c->len, status, at};
    c->cache_bytes += c->len;
    c->buf = NULL;
    c->len = c->cap = 0;
    return slot;
}

/* ---- fetching -------------------------------------------------------- */

/* "instance NAME: METHOD URL: " into err, then the rest. */
static int fail(pvm_http_client *c, const pvm_http_call *call, pvm_error *err,
                int code, const char *what)
{
    char url[512];
    pvm_http_redact_url(call->url, url, sizeof(url));
    return pvm_error_set(err, code, "instance %s: %s %s: %s", c->name,
                         pvm_http_methods[call->method], url, what);
}

static bool is_tls_error(CURLcode e)
{
    switch (e) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: return true;
    default: return false;
    }
}

/* Turns a failed transfer into err. */
static int transfer_error(pvm_http_client *c, const pvm_http_call *call,
                          CURLcode e, int64_t limit_ms, bool by_deadline,
                          pvm_error *err)
{
    char what[400];
    const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(e);
    if (e == CURLE_OPERATION_TIMEDOUT) {
        snprintf(what, sizeof(what), "no answer within %lld ms (%s)",
                 (long long)limit_ms,
                 by_deadline ? "the request's remaining time"
                             : "the instance's timeout");
        return fail(c, call, err, PVM_ERR_TIMEOUT, what);
    }
    if (c->too_large || e == CURLE_FILESIZE_EXCEEDED) {
        snprintf(what, sizeof(what),
                 "the answer is over max_response_bytes (%zu bytes)",
                 c->s->max_response_bytes);
        return fail(c, call, err, PVM_ERR_TOO_LARGE, what);
    }
    if (e == CURLE_WRITE_ERROR)
        return fail(c, call, err, PVM_ERR_INTERNAL,
                    "out of memory receiving the answer");
    if (is_tls_error(e)) {
        snprintf(what, sizeof(what),
                 "TLS: %s (set ca_file to the CA that signed the server's "
                 "certificate)",
                 detail);
        return fail(c, call, err, PVM_ERR_EXECUTION, what);
    }
    snprintf(what, sizeof(what), "%s", detail);
    return fail(c, call, err, PVM_ERR_EXECUTION, what);
}

/* The per-call options: URL, method, body, headers, time limit. */
static CURLcode prepare(pvm_http_client *c, const pvm_http_call *call,
                        struct curl_slist **hdrs, int64_t limit_ms)
{
    CURL *h = c->h;
    CURLcode e = curl_easy_setopt(h, CURLOPT_URL, call->url);
    for (size_t i = 0; i < c->s->header.n && *hdrs; i++)
        *hdrs = curl_slist_append(*hdrs, c->s->header.v[i]);
    if (*hdrs && call->method == PVM_HTTP_POST && call->content_type) {
        char ct[256];
        snprintf(ct, sizeof(ct), "Content-Type: %s", call->content_type);
        *hdrs = curl_slist_append(*hdrs, ct);
    }
    if (!*hdrs)
        return CURLE_OUT_OF_MEMORY;
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs);
    if (e == CURLE_OK && call->method == PVM_HTTP_POST) {
        e = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(call->body ? call->body_len : 0));
        if (e == CURLE_OK)
            e = curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                                 call->body ? call->body : "");
    } else if (e == CURLE_OK) {
        e = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)limit_ms);
    if (e == CURLE_OK)
        e = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)limit_ms);
    return e;
}

int pvm_http_fetch(pvm_http_client *c, const pvm_request *req,
                   const pvm_http_call *call, pvm_http_answer *out,
                   pvm_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t klen = 0;
    uint64_t hash = 0;
    char *key = NULL;
    int64_t start = now_ms();
    if (c->s->cache_ttl_ms > 0) {
        if (!(key = cache_key(call, &klen, &hash)))
            return fail(c, call, err, PVM_ERR_INTERNAL, "out of memory");
        struct entry *e = cache_find(c, key, klen, hash, start);
        if (e) {
            free(key);
            *out = (pvm_http_answer){e->body, e->len, e->status, true, 0};
            return 0;
        }
    }
    int64_t limit = c->s->timeout_ms;
    int64_t left = req ? pvm_request_remaining_ms(req) : INT64_MAX;
    bool by_deadline = left < limit;
    if (by_deadline)
        limit = left;
    if (limit <= 0) {
        free(key);
        return fail(c, call, err, PVM_ERR_TIMEOUT,
                    "the request's deadline passed before the fetch");
    }
    if (limit > 0x7fffffff)
        limit = 0x7fffffff;
    c->len = 0;
    c->too_large = false;
    c->errbuf[0] = '\0';
    /* The list starts with a harmless entry so that NULL means "out of
     * memory"; "Expect:" also turns off curl's 100-continue wait. */
    struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
    CURLcode e = prepare(c, call, &hdrs, limit);
    if (e == CURLE_OK)
        e = curl_easy_perform(c->h);
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    int rc = 0;
    long status = 0;
    if (e != CURLE_OK) {
        rc = transfer_error(c, call, e, limit, by_deadline, err);
    } else {
        curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 400 && !call->error_body) {
            char what[64];
            snprintf(what, sizeof(what), "the server answered HTTP %ld",
                     status);
            rc = fail(c, call, err, PVM_ERR_EXECUTION, what);
        } else if (!c->buf && !(c->buf = malloc(c->cap = 1))) {
            c->cap = 0;
            rc = fail(c, call, err, PVM_ERR_INTERNAL, "out of memory");
        }
    }
    if (rc < 0) {
        free(key);
        return rc;
    }
    c->buf[c->len] = '\0';
    *out = (pvm_http_answer){c->buf, c->len, status, false, now_ms() - start};
    if (key && status >= 400) {
        free(key);
    } else if (key) {
        struct entry *kept = cache_put(c, key, klen, hash, status, start);
        if (kept)
            out->body = kept->body;
    }
    return 0;
}

/* ---- URL helpers ----------------------------------------------------- */

/* Appends s (n bytes) to buf (size bytes) at *at; what does not fit is
 * cut and "..." ends the text (then *at is size - 1). Keeps *at + 4 <=
 * size while nothing was cut. */
static void put(char *buf, size_t size, size_t *at, const char *s, size_t n)
{
    if (*at >= size - 1)
        return;
    if (*at + n + 4 <= size) {
        memcpy(buf + *at, s, n);
        *at += n;
        return;
    }
    size_t room = size - 4 - *at;
    memcpy(buf + *at, s, room);
    memcpy(buf + size - 4, "...", 3);
    *at = size - 1;
}

void pvm_http_declare_immutable(const pvm_http_settings *s, pvm_response *resp)
{
    if (s->immutable_ms <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    pvm_response_set_immutable_before(resp, now - s->immutable_ms);
}

char *pvm_http_redact_url(const char *url, char *buf, size_t n)
{
    if (n == 0)
        return buf;
    if (n < 8) {
        buf[0] = '\0';
        return buf;
    }
    size_t at = 0;
    const char *p = strstr(url, "://");
    const char *rest = p ? p + 3 : url;
    put(buf, n, &at, url, (size_t)(rest - url));
    size_t auth = strcspn(rest, "/?#");
    const char *user_end = memchr(rest, '@', auth);
    const char *host = user_end ? user_end + 1 : rest;
    put(buf, n, &at, host, (size_t)(rest + auth - host));
    const char *path = rest + auth;
    size_t plen = strcspn(path, "?#");
    put(buf, n, &at, path, plen);
    const char *q = path + plen;
    if (*q == '?') {
        q++;
        size_t qlen = strcspn(q, "#");
        char sep = '?';
        while (qlen > 0 && at < n - 1) {
            size_t part = strcspn(q, "&#");
            if (part > qlen)
                part = qlen;
            size_t name = strcspn(q, "=&#");
            if (name > part)
                name = part;
            put(buf, n, &at, &sep, 1);
            put(buf, n, &at, q, name);
            if (name < part)
                put(buf, n, &at, "=...", 4);
            sep = '&';
            q += part;
            qlen -= part;
            if (qlen > 0 && *q == '&')
                q++, qlen--;
        }
    }
    buf[at] = '\0';
    return buf;
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

size_t pvm_http_urlencode_buf(const char *s, char *buf, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t at = 0, written = 0;
    bool full = false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t k = is_unreserved(*p) ? 1 : 3;
        if (!full && at + k < n) {
            if (k == 1) {
                buf[at] = (char)*p;
            } else {
                buf[at] = '%';
                buf[at + 1] = hex[*p >> 4];
                buf[at + 2] = hex[*p & 15];
            }
            written = at + k;
        } else {
            full = true;
        }
        at += k;
    }
    if (n > 0)
        buf[written] = '\0';
    return at;
}

char *pvm_http_urlencode(pvm_arena *a, const char *s)
{
    size_t need = pvm_http_urlencode_buf(s, NULL, 0);
    char *out = pvm_arena_alloc(a, need + 1);
    if (out)
        pvm_http_urlencode_buf(s, out, need + 1);
    return out;
}
