/* tests/lib/http.c: a tiny HTTP/1.1 client (Connection: close,
 * Content-Length and chunked bodies, poll timeouts) and json-c helpers for
 * the integration tests. Connects to 127.0.0.1 only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_MAX_RESPONSE (64u * 1024u * 1024u) /* bytes read at most */

static long long http_now_ms(void);
static int http_fail(test_http_response *resp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int http_send_all(int fd, const char *buf, size_t len,
                         long long deadline, test_http_response *resp);
static int http_read_all(int fd, char **out, size_t *out_len,
                         long long deadline, test_http_response *resp);
static int http_parse(char *raw, size_t len, test_http_response *resp);
static int http_dechunk(const char *p, size_t len, test_http_response *resp);
static bool http_has_header(const char *const *headers, const char *name);

int test_http_timeout_ms(void)
{
    const char *s = getenv("PVM_TEST_HTTP_TIMEOUT_MS");
    int v = s ? atoi(s) : 0;
    return v > 0 ? v : 20000;
}

int test_http_do(int port, const test_http_request *req,
                 test_http_response *resp)
{
    char *head = NULL, *raw = NULL;
    size_t head_len = 0, raw_len = 0;
    int fd = -1, rc = -1;
    FILE *f;
    long long deadline;
    struct sockaddr_in sa;

    memset(resp, 0, sizeof(*resp));
    deadline = http_now_ms() + (req->timeout_ms > 0 ? req->timeout_ms
                                                    : test_http_timeout_ms());

    f = open_memstream(&head, &head_len);
    if (!f)
        return http_fail(resp, "open_memstream: %s", strerror(errno));
    fprintf(f, "%s %s HTTP/1.1\r\n", req->method, req->path);
    if (!http_has_header(req->headers, "Host"))
        fprintf(f, "Host: 127.0.0.1:%d\r\n", port);
    if (!http_has_header(req->headers, "Connection"))
        fprintf(f, "Connection: close\r\n");
    if (req->body && !http_has_header(req->headers, "Content-Length") &&
        !http_has_header(req->headers, "Transfer-Encoding"))
        fprintf(f, "Content-Length: %zu\r\n", req->body_len);
    for (size_t i = 0; req->headers && req->headers[i] && i < 256; i++)
        fprintf(f, "%s\r\n", req->headers[i]);
    fprintf(f, "\r\n");
    if (fclose(f) != 0)
        return http_fail(resp, "building the request failed");

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        http_fail(resp, "socket: %s", strerror(errno));
        goto out;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t elen = sizeof(err);
        long long left = deadline - http_now_ms();
        if (errno != EINPROGRESS) {
            http_fail(resp, "connect 127.0.0.1:%d: %s", port, strerror(errno));
            goto out;
        }
        if (left <= 0 || poll(&p, 1, (int)left) != 1) {
            http_fail(resp, "connect 127.0.0.1:%d: timeout", port);
            goto out;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
            http_fail(resp, "connect 127.0.0.1:%d: %s", port, strerror(err));
            goto out;
        }
    }
    if (http_send_all(fd, head, head_len, deadline, resp) < 0)
        goto out;
    if (req->body && req->body_len &&
        http_send_all(fd, req->body, req->body_len, deadline, resp) < 0) {
        /* The server may answer (413) and close before reading it all:
         * still try to read the answer. */
        resp->error[0] = '\0';
    }
    if (http_read_all(fd, &raw, &raw_len, deadline, resp) < 0)
        goto out;
    rc = http_parse(raw, raw_len, resp);
out:
    if (fd >= 0)
        close(fd);
    free(head);
    free(raw);
    return rc;
}

int test_http_get(int port, const char *path, test_http_response *resp)
{
    test_http_request req = {.method = "GET", .path = path};
    return test_http_do(port, &req, resp);
}

int test_http_post_form(int port, const char *path, const char *body,
                        const char *ctype, test_http_response *resp)
{
    char hdr[256];
    const char *headers[] = {hdr, NULL};
    test_http_request req = {.method = "POST",
                             .path = path,
                             .headers = headers,
                             .body = body,
                             .body_len = strlen(body)};
    snprintf(hdr, sizeof(hdr), "Content-Type: %s",
             ctype ? ctype : "application/x-www-form-urlencoded");
    return test_http_do(port, &req, resp);
}

void test_http_free(test_http_response *resp)
{
    free(resp->reason);
    for (size_t i = 0; i < resp->nheaders; i++) {
        free(resp->names[i]);
        free(resp->values[i]);
    }
    free(resp->body);
    if (resp->json)
        json_object_put(resp->json);
    memset(resp, 0, sizeof(*resp));
}

const char *test_http_header(const test_http_response *resp, const char *name)
{
    for (size_t i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->names[i], name) == 0)
            return resp->values[i];
    return NULL;
}

char *test_http_urlencode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1), *o = out;

    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
            c == '~') {
            *o++ = (char)c;
        } else if (c == ' ') {
            *o++ = '+';
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

/* JSON helpers */

/* Walks one path; *found tells whether the last step existed. */
static json_object *json_walk(json_object *obj, const char *path, bool *found)
{
    const char *p = path;
    json_object *cur = obj;

    *found = cur != NULL;
    for (int steps = 0; *p && steps < 64; steps++) {
        if (!cur) {
            *found = false;
            return NULL;
        }
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || !json_object_is_type(cur, json_type_array) ||
                i < 0 || (size_t)i >= json_object_array_length(cur)) {
                *found = false;
                return NULL;
            }
            cur = json_object_array_get_idx(cur, (size_t)i);
            p = end + 1;
            continue;
        }
        {
            size_t n = strcspn(p, ".[");
            char key[256];
            json_object *next = NULL;
            if (n >= sizeof(key) ||
                !json_object_is_type(cur, json_type_object)) {
                *found = false;
                return NULL;
            }
            memcpy(key, p, n);
            key[n] = '\0';
            if (!json_object_object_get_ex(cur, key, &next)) {
                *found = false;
                return NULL;
            }
            cur = next;
            p += n;
        }
    }
    return cur;
}

json_object *test_json_get(json_object *obj, const char *path)
{
    bool found;
    return json_walk(obj, path, &found);
}

bool test_json_has(json_object *obj, const char *path)
{
    bool found;
    json_walk(obj, path, &found);
    return found;
}

const char *test_json_string(json_object *obj, const char *path)
{
    json_object *v = test_json_get(obj, path);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v)
                                                    : NULL;
}

int test_json_array_len(json_object *obj, const char *path)
{
    json_object *v = test_json_get(obj, path);
    if (!json_object_is_type(v, json_type_array))
        return -1;
    return (int)json_object_array_length(v);
}

bool test_json_is_sorted_strings(json_object *obj, const char *path)
{
    json_object *a = test_json_get(obj, path);
    const char *prev = NULL;

    if (!json_object_is_type(a, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        json_object *v = json_object_array_get_idx(a, i);
        const char *s;
        if (!json_object_is_type(v, json_type_string))
            return false;
        s = json_object_get_string(v);
        if (prev && strcmp(prev, s) >= 0)
            return false;
        prev = s;
    }
    return true;
}

bool test_json_array_has_string(json_object *obj, const char *path,
                                const char *s)
{
    json_object *a = test_json_get(obj, path);

    if (!json_object_is_type(a, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        json_object *v = json_object_array_get_idx(a, i);
        if (json_object_is_type(v, json_type_string) &&
            strcmp(json_object_get_string(v), s) == 0)
            return true;
    }
    return false;
}

const char *test_json_check_sample(json_object *pair)
{
    json_object *t, *v;
    const char *s;
    char *end;
    double d;

    if (!json_object_is_type(pair, json_type_array) ||
        json_object_array_length(pair) != 2)
        return "sample is not a 2-element array";
    t = json_object_array_get_idx(pair, 0);
    v = json_object_array_get_idx(pair, 1);
    if (!json_object_is_type(t, json_type_int) &&
        !json_object_is_type(t, json_type_double))
        return "sample timestamp is not a JSON number";
    if (!json_object_is_type(v, json_type_string))
        return "sample value is not a JSON string";
    s = json_object_get_string(v);
    errno = 0;
    d = strtod(s, &end);
    if (*s == '\0' || *end != '\0')
        return "sample value does not parse as a float";
    if (isnan(d) && strcmp(s, "NaN") != 0)
        return "NaN not spelled \"NaN\"";
    if (isinf(d) && d > 0 && strcmp(s, "+Inf") != 0)
        return "+Inf not spelled \"+Inf\"";
    if (isinf(d) && d < 0 && strcmp(s, "-Inf") != 0)
        return "-Inf not spelled \"-Inf\"";
    return NULL;
}

/* Sorted label names of a label-set object, in names[] (at most max). */
static size_t json_label_names(json_object *o, const char **names, size_t max)
{
    size_t n = 0;

    if (!json_object_is_type(o, json_type_object))
        return 0;
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        if (n < max)
            names[n++] = key;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: a few labels */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *tmp = names[j];
            names[j] = names[j - 1];
            names[j - 1] = tmp;
        }
    return n;
}

int test_json_labels_cmp(json_object *a, json_object *b)
{
    const char *na[64], *nb[64];
    size_t la = json_label_names(a, na, 64), lb = json_label_names(b, nb, 64);

    for (size_t i = 0; i < la && i < lb; i++) {
        int c = strcmp(na[i], nb[i]);
        if (c)
            return c;
        c = strcmp(test_json_string(a, na[i]) ? test_json_string(a, na[i])
                                              : "",
                   test_json_string(b, nb[i]) ? test_json_string(b, nb[i])
                                              : "");
        if (c)
            return c;
    }
    return (la > lb) - (la < lb);
}

long test_json_key_pos(const char *text, const char *key)
{
    char quoted[128];
    const char *p;

    snprintf(quoted, sizeof(quoted), "\"%s\"", key);
    p = text ? strstr(text, quoted) : NULL;
    return p ? (long)(p - text) : -1;
}

/* Transport */

static long long http_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int http_fail(test_http_response *resp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(resp->error, sizeof(resp->error), fmt, ap);
    va_end(ap);
    return -1;
}

static int http_send_all(int fd, const char *buf, size_t len,
                         long long deadline, test_http_response *resp)
{
    size_t off = 0;

    while (off < len) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        long long left = deadline - http_now_ms();
        ssize_t n;
        if (left <= 0 || poll(&p, 1, (int)left) != 1)
            return http_fail(resp, "send: timeout");
        n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0)
            return http_fail(resp, "send: %s", strerror(errno));
        off += (size_t)n;
    }
    return 0;
}

static int http_read_all(int fd, char **out, size_t *out_len,
                         long long deadline, test_http_response *resp)
{
    size_t cap = 16384, len = 0;
    char *buf = malloc(cap + 1);

    if (!buf)
        return http_fail(resp, "out of memory");
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long long left = deadline - http_now_ms();
        ssize_t n;
        int pr;
        if (left <= 0) {
            free(buf);
            return http_fail(resp, "read: timeout after %zu bytes", len);
        }
        pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr != 1) {
            free(buf);
            return http_fail(resp, "read: timeout after %zu bytes", len);
        }
        if (len == cap) {
            char *nb;
            if (cap >= HTTP_MAX_RESPONSE) {
                free(buf);
                return http_fail(resp, "response larger than %u bytes",
                                 HTTP_MAX_RESPONSE);
            }
            cap *= 2;
            nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                return http_fail(resp, "out of memory");
            }
            buf = nb;
        }
        n = recv(fd, buf + len, cap - len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0 && errno == ECONNRESET && len > 0)
            break; /* answered, then reset (unread request body) */
        if (n < 0) {
            free(buf);
            return http_fail(resp, "read: %s", strerror(errno));
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

static char *http_strndup_trim(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    return strndup(s, n);
}

static int http_parse(char *raw, size_t len, test_http_response *resp)
{
    char *end_head = strstr(raw, "\r\n\r\n");
    char *line, *eol;
    const char *te, *cl;
    size_t body_off;

    if (!end_head)
        return http_fail(resp, "no end of headers in %zu bytes", len);
    *end_head = '\0';
    body_off = (size_t)(end_head - raw) + 4;
    line = raw;
    eol = strstr(line, "\r\n");
    if (eol)
        *eol = '\0';
    if (strncmp(line, "HTTP/1.", 7) != 0 || strlen(line) < 12)
        return http_fail(resp, "bad status line: %.80s", line);
    resp->status = atoi(line + 9);
    resp->reason = strdup(strlen(line) > 13 ? line + 13 : "");
    while (eol && resp->nheaders < TEST_HTTP_MAX_HEADERS) {
        char *colon;
        line = eol + 2;
        eol = strstr(line, "\r\n");
        if (eol)
            *eol = '\0';
        colon = strchr(line, ':');
        if (!colon)
            continue;
        resp->names[resp->nheaders] = strndup(line, (size_t)(colon - line));
        resp->values[resp->nheaders] = http_strndup_trim(colon + 1,
                                                         strlen(colon + 1));
        resp->nheaders++;
    }
    te = test_http_header(resp, "Transfer-Encoding");
    cl = test_http_header(resp, "Content-Length");
    if (te && strcasecmp(te, "chunked") == 0) {
        if (http_dechunk(raw + body_off, len - body_off, resp) < 0)
            return -1;
    } else {
        size_t n = len - body_off;
        if (cl) {
            size_t want = strtoul(cl, NULL, 10);
            if (want > n)
                return http_fail(resp, "body: got %zu of %zu bytes", n, want);
            n = want;
        }
        resp->body = malloc(n + 1);
        if (!resp->body)
            return http_fail(resp, "out of memory");
        memcpy(resp->body, raw + body_off, n);
        resp->body[n] = '\0';
        resp->body_len = n;
    }
    if (resp->body_len && resp->body[0] != '\x1f') {
        json_tokener *tok = json_tokener_new();
        if (tok) {
            resp->json = json_tokener_parse_ex(tok, resp->body,
                                               (int)resp->body_len);
            if (json_tokener_get_error(tok) != json_tokener_success ||
                json_tokener_get_parse_end(tok) < resp->body_len) {
                /* incomplete or trailing bytes: allow trailing spaces */
                size_t off = json_tokener_get_parse_end(tok);
                while (off < resp->body_len &&
                       strchr(" \t\r\n", resp->body[off]))
                    off++;
                if (off < resp->body_len && resp->json) {
                    json_object_put(resp->json);
                    resp->json = NULL;
                }
            }
            json_tokener_free(tok);
        }
    }
    return 0;
}

static int http_dechunk(const char *p, size_t len, test_http_response *resp)
{
    size_t off = 0, out_len = 0;
    char *out = malloc(len + 1);

    if (!out)
        return http_fail(resp, "out of memory");
    for (int chunks = 0; chunks < 1000000; chunks++) {
        char *end;
        unsigned long n;
        const char *crlf = memmem(p + off, len - off, "\r\n", 2);
        if (!crlf) {
            free(out);
            return http_fail(resp, "chunked body: truncated size line");
        }
        n = strtoul(p + off, &end, 16);
        if (end == p + off) {
            free(out);
            return http_fail(resp, "chunked body: bad size line");
        }
        off = (size_t)(crlf - p) + 2;
        if (n == 0)
            break;
        if (n > len - off) {
            free(out);
            return http_fail(resp, "chunked body: truncated chunk");
        }
        memcpy(out + out_len, p + off, n);
        out_len += n;
        off += n + 2;
        if (off > len) {
            free(out);
            return http_fail(resp, "chunked body: missing CRLF");
        }
    }
    out[out_len] = '\0';
    resp->body = out;
    resp->body_len = out_len;
    return 0;
}

static bool http_has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; headers && headers[i] && i < 256; i++)
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
            return true;
    return false;
}
