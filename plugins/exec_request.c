/* exec_request.c: what the exec plugin tells a command about a request:
 * the request as one JSON object (stdin) and the PVM_* environment
 * variables (docs/plugins/exec.md lists both). Built in the request
 * arena. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <pvm/pvm.h>

#include "exec.h"

/* A growing string in the request arena. */
struct buf {
    pvm_arena *a; /* owner */
    char *s;      /* NUL-terminated, NULL after a failure */
    size_t n;     /* bytes used */
    size_t cap;   /* bytes allocated */
    bool failed;  /* out of memory */
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = pvm_arena_realloc(b->a, b->s, b->cap, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...) PVM_PRINTF(2, 3);
static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80   ? 1
                 : s[0] < 0xC2 ? 0
                 : s[0] < 0xE0 ? 2
                 : s[0] < 0xF0 ? 3
                 : s[0] < 0xF5 ? 4
                               : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return len;
}

/* A JSON string: control characters escaped, invalid UTF-8 as U+FFFD. */
static void put_json_string(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    put(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t len;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(b, e, 2);
            i++;
        } else if (c < 0x20) {
            putf(b, "\\u%04x", c);
            i++;
        } else if ((len = utf8_len(p + i, n - i))) {
            put(b, s + i, len);
            i += len;
        } else {
            puts_(b, "\\ufffd");
            i++;
        }
    }
    put(b, "\"", 1);
}

/* Milliseconds as decimal seconds: 1700000000.5, -0.001, 15. */
static void put_seconds(struct buf *b, int64_t ms)
{
    uint64_t u = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    char frac[8] = "";
    if (u % 1000) {
        snprintf(frac, sizeof(frac), ".%03u", (unsigned)(u % 1000));
        for (size_t k = strlen(frac); frac[k - 1] == '0'; k--)
            frac[k - 1] = '\0';
    }
    putf(b, "%s%" PRIu64 "%s", ms < 0 ? "-" : "", u / 1000, frac);
}

static const char *const op_names[] = {"=", "!=", "=~", "!~"};

static void put_selector(struct buf *b, const pvm_selector *sel)
{
    const char *name = pvm_selector_name(sel);
    puts_(b, "{\"name\":");
    if (name && *name)
        put_json_string(b, name);
    else
        puts_(b, "null");
    puts_(b, ",\"matchers\":[");
    for (size_t i = 0; i < pvm_selector_matcher_count(sel); i++) {
        const char *mn, *mv;
        pvm_match_op op;
        pvm_selector_matcher(sel, i, &mn, &op, &mv);
        puts_(b, i ? ",{\"name\":" : "{\"name\":");
        put_json_string(b, mn);
        putf(b, ",\"op\":\"%s\",\"value\":",
             (unsigned)op < 4 ? op_names[op] : "?");
        put_json_string(b, mv);
        puts_(b, "}");
    }
    puts_(b, "]}");
}

/* True when header name is in the pass_headers list (each entry may list
 * several names separated by commas or blanks). */
static bool header_passed(const pvm_key_list *pass, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; pass && i < pass->n; i++) {
        const char *p = pass->v[i];
        while (*p) {
            size_t k = strcspn(p, ", \t");
            if (k == nl && strncasecmp(p, name, nl) == 0)
                return true;
            p += k;
            p += strspn(p, ", \t");
        }
    }
    return false;
}

/* See exec.h. */
char *pvm_exec_request_json(const pvm_exec_ask_info *ai, size_t *len)
{
    pvm_request *req = ai->req;
    const pvm_query *q = pvm_request_query(req);
    struct buf b = {.a = pvm_request_arena(req)};
    puts_(&b, "{\"type\":");
    put_json_string(&b, ai->type);
    puts_(&b, ",\"query\":");
    put_json_string(&b, pvm_request_query_string(req));
    puts_(&b, ",\"selectors\":[");
    for (size_t i = 0; i < pvm_query_selector_count(q); i++) {
        if (i)
            puts_(&b, ",");
        put_selector(&b, pvm_query_selector(q, i));
    }
    puts_(&b, "]");
    if (strcmp(ai->type, "instant") == 0) {
        puts_(&b, ",\"time\":");
        put_seconds(&b, pvm_request_time(req));
    } else {
        puts_(&b, ",\"start\":");
        put_seconds(&b, pvm_request_start(req));
        puts_(&b, ",\"end\":");
        put_seconds(&b, pvm_request_end(req));
    }
    if (strcmp(ai->type, "range") == 0) {
        puts_(&b, ",\"step\":");
        put_seconds(&b, pvm_request_step(req));
    }
    if (strcmp(ai->type, "label_values") == 0) {
        puts_(&b, ",\"label_name\":");
        put_json_string(&b, pvm_request_label_name(req));
    }
    puts_(&b, ",\"headers\":{");
    bool first = true;
    for (size_t i = 0; i < pvm_request_http_header_count(req); i++) {
        const char *name, *value;
        pvm_request_http_header_at(req, i, &name, &value);
        if (!header_passed(ai->pass, name))
            continue;
        if (!first)
            puts_(&b, ",");
        first = false;
        put_json_string(&b, name);
        puts_(&b, ":");
        put_json_string(&b, value);
    }
    puts_(&b, "}}\n"); /* one line: persistent mode reads lines */
    if (b.failed)
        return NULL;
    *len = b.n;
    return b.s;
}

/* NAME=seconds or empty. */
static char *env_seconds(pvm_arena *a, const char *name, int64_t ms, bool set)
{
    struct buf b = {.a = a};
    puts_(&b, name);
    puts_(&b, "=");
    if (set)
        put_seconds(&b, ms);
    return b.failed ? NULL : b.s;
}

/* The metric name asked for: the one name of the selectors, "" when none
 * or several. */
static const char *asked_metric(const pvm_query *q)
{
    const char *name = NULL;
    for (size_t i = 0; i < pvm_query_selector_count(q); i++) {
        const char *n = pvm_selector_name(pvm_query_selector(q, i));
        if (!n || !*n || (name && strcmp(name, n) != 0))
            return "";
        name = n;
    }
    return name ? name : "";
}

/* s, or "" when longer than PVM_EXEC_MAX_ENV_VALUE: the kernel refuses
 * to execute with an environment string over 128 KiB (the JSON on stdin
 * has the whole text). */
static const char *capped(const char *s)
{
    return strlen(s) > PVM_EXEC_MAX_ENV_VALUE ? "" : s;
}

/* See exec.h. */
char **pvm_exec_environment(const pvm_exec_ask_info *ai, char *const *base,
                            size_t nbase)
{
    pvm_request *req = ai->req;
    pvm_arena *a = pvm_request_arena(req);
    bool instant = strcmp(ai->type, "instant") == 0;
    bool range = strcmp(ai->type, "range") == 0;
    char **env = pvm_arena_calloc(a, nbase + 9, sizeof(*env));
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < nbase; i++)
        env[k++] = base[i];
    const char *label = strcmp(ai->type, "label_values") == 0
                            ? pvm_request_label_name(req)
                            : "";
    env[k++] = env_seconds(a, "PVM_START", pvm_request_start(req), !instant);
    env[k++] = env_seconds(a, "PVM_END", pvm_request_end(req), !instant);
    env[k++] = env_seconds(a, "PVM_STEP", pvm_request_step(req), range);
    env[k++] = env_seconds(a, "PVM_TIME", pvm_request_time(req), instant);
    env[k++] = pvm_arena_sprintf(a, "PVM_QUERY=%s",
                                 capped(pvm_request_query_string(req)));
    env[k++] = pvm_arena_sprintf(a, "PVM_METRIC=%s",
                                 capped(asked_metric(pvm_request_query(req))));
    env[k++] = pvm_arena_sprintf(a, "PVM_LABEL_NAME=%s", capped(label));
    env[k++] = pvm_arena_sprintf(a, "PVM_REQUEST_TYPE=%s", ai->type);
    for (size_t i = nbase; i < k; i++)
        if (!env[i])
            return NULL;
    env[k] = NULL;
    return env;
}
