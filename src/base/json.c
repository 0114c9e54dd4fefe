/* json.c: streaming JSON writer (see json.h) and Prometheus' float and
 * timestamp text. Output goes to a buffer in the arena, handed to the sink
 * when full; strings longer than the buffer pass through it in pieces. */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "utf8.h"
#include "json.h"

/* One open container: three flags in a byte, so that the stack for
 * PVM_JSON_MAX_DEPTH levels stays small. */
typedef struct json_level {
    bool is_object : 1; /* {} rather than [] */
    bool has_key : 1;   /* object: a key was written, its value is due */
    bool nonempty : 1;  /* a value (or key) was written: commas follow */
} json_level;

struct pvm_json {
    pvm_json_sink_fn sink;                    /* receives output */
    void *ctx;                                /* sink argument */
    char *buf;                                /* pending output */
    size_t cap;                               /* bytes in buf */
    size_t len;                               /* bytes pending */
    uint64_t total;                           /* bytes produced */
    int err;                                  /* sticky error, 0 if none */
    size_t depth;                             /* open containers */
    json_level stack[PVM_JSON_MAX_DEPTH + 1]; /* [0] is the top level */
};

static const char json_hex[] = "0123456789abcdef";

pvm_json *pvm_json_new(pvm_arena *a, size_t bufsize, pvm_json_sink_fn sink,
                       void *ctx)
{
    pvm_json *j = pvm_arena_calloc(a, 1, sizeof(*j));
    if (!j)
        return NULL;
    j->cap = bufsize ? bufsize : PVM_JSON_BUFSIZE;
    j->buf = pvm_arena_alloc(a, j->cap);
    if (!j->buf)
        return NULL;
    j->sink = sink;
    j->ctx = ctx;
    return j;
}

static int json_fail(pvm_json *j, int code)
{
    if (!j->err)
        j->err = code;
    return j->err;
}

int pvm_json_flush(pvm_json *j)
{
    if (j->err)
        return j->err;
    if (j->len) {
        int rc = j->sink(j->ctx, j->buf, j->len);
        j->len = 0;
        if (rc < 0)
            return json_fail(j, rc);
    }
    return 0;
}

/* Appends n bytes; output larger than the buffer goes straight through. */
static void put(pvm_json *j, const char *s, size_t n)
{
    if (j->err)
        return;
    j->total += n;
    if (n <= j->cap - j->len) {
        memcpy(j->buf + j->len, s, n);
        j->len += n;
        return;
    }
    if (pvm_json_flush(j) < 0)
        return;
    if (n <= j->cap) {
        memcpy(j->buf, s, n);
        j->len = n;
        return;
    }
    int rc = j->sink(j->ctx, s, n);
    if (rc < 0)
        json_fail(j, rc);
}

static void put_c(pvm_json *j, char c)
{
    if (j->len < j->cap && !j->err) {
        j->buf[j->len++] = c;
        j->total++;
        return;
    }
    put(j, &c, 1);
}

/* Writes the comma (if any) before a value; checks that a value may come
 * here. */
static int before_value(pvm_json *j)
{
    if (j->err)
        return j->err;
    json_level *l = &j->stack[j->depth];
    if (l->is_object) {
        if (!l->has_key)
            return json_fail(j, PVM_ERR_INTERNAL);
        l->has_key = false;
        return 0;
    }
    if (l->nonempty && j->depth > 0)
        put_c(j, ',');
    l->nonempty = true;
    return j->err;
}

static int begin(pvm_json *j, bool is_object)
{
    if (before_value(j) < 0)
        return j->err;
    if (j->depth >= PVM_JSON_MAX_DEPTH)
        return json_fail(j, PVM_ERR_INTERNAL);
    json_level *l = &j->stack[++j->depth];
    l->is_object = is_object;
    l->has_key = false;
    l->nonempty = false;
    put_c(j, is_object ? '{' : '[');
    return j->err;
}

static int end(pvm_json *j, bool is_object)
{
    if (j->err)
        return j->err;
    json_level *l = &j->stack[j->depth];
    if (j->depth == 0 || l->is_object != is_object || l->has_key)
        return json_fail(j, PVM_ERR_INTERNAL);
    j->depth--;
    put_c(j, is_object ? '}' : ']');
    return j->err;
}

int pvm_json_begin_object(pvm_json *j)
{
    return begin(j, true);
}

int pvm_json_end_object(pvm_json *j)
{
    return end(j, true);
}

int pvm_json_begin_array(pvm_json *j)
{
    return begin(j, false);
}

int pvm_json_end_array(pvm_json *j)
{
    return end(j, false);
}

/* True for ASCII bytes written as they are (jsoniter's htmlSafeSet). */
static bool is_safe(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' &&
           c != '>' && c != '&';
}

/* Writes s quoted and escaped as Go/jsoniter with HTML escaping. */
static void put_string(pvm_json *j, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start = 0, i = 0;
    put_c(j, '"');
    while (i < n) {
        unsigned char c = u[i];
        if (is_safe(c)) {
            i++;
            continue;
        }
        char esc[8];
        size_t elen = 0, w = 1;
        uint32_t cp = 0;
        if (c < 0x80) {
            const char *named = c == '"'    ? "\\\""
                                : c == '\\' ? "\\\\"
                                : c == '\n' ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                            : NULL;
            if (named) {
                elen = strlen(named);
                memcpy(esc, named, elen);
            } else {
                memcpy(esc, "\\u00", 4);
                esc[4] = json_hex[c >> 4];
                esc[5] = json_hex[c & 0xF];
                elen = 6;
            }
        } else if ((w = pvm_utf8_decode(s + i, n - i, &cp)) == 0) {
            memcpy(esc, "\\ufffd", 6);
            elen = 6;
            w = 1;
        } else if (cp == 0x2028 || cp == 0x2029) {
            memcpy(esc, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
            elen = 6;
        } else {
            i += w;
            continue;
        }
        put(j, s + start, i - start);
        put(j, esc, elen);
        i += w;
        start = i;
    }
    put(j, s + start, n - start);
    put_c(j, '"');
}

int pvm_json_key_n(pvm_json *j, const char *key, size_t len)
{
    if (j->err)
        return j->err;
    json_level *l = &j->stack[j->depth];
    if (!l->is_object || l->has_key)
        return json_fail(j, PVM_ERR_INTERNAL);
    if (l->nonempty)
        put_c(j, ',');
    l->nonempty = true;
    put_string(j, key, len);
    put_c(j, ':');
    l->has_key = true;
    return j->err;
}

int pvm_json_key(pvm_json *j, const char *key)
{
    return pvm_json_key_n(j, key, strlen(key));
}

int pvm_json_string_n(pvm_json *j, const char *s, size_t len)
{
    if (before_value(j) < 0)
        return j->err;
    put_string(j, s, len);
    return j->err;
}

int pvm_json_string(pvm_json *j, const char *s)
{
    return pvm_json_string_n(j, s, strlen(s));
}

int pvm_json_raw(pvm_json *j, const char *s, size_t len)
{
    if (before_value(j) < 0)
        return j->err;
    put(j, s, len);
    return j->err;
}

int pvm_json_bool(pvm_json *j, bool v)
{
    return v ? pvm_json_raw(j, "true", 4) : pvm_json_raw(j, "false", 5);
}

int pvm_json_null(pvm_json *j)
{
    return pvm_json_raw(j, "null", 4);
}

int pvm_json_float(pvm_json *j, double v)
{
    char tmp[PVM_FLOAT_BUFSIZE + 2];
    size_t n = pvm_format_float(tmp + 1, v);
    tmp[0] = '"';
    tmp[n + 1] = '"';
    return pvm_json_raw(j, tmp, n + 2);
}

int pvm_json_timestamp(pvm_json *j, int64_t ms)
{
    char tmp[PVM_FLOAT_BUFSIZE];
    size_t n = pvm_format_timestamp(tmp, ms);
    return pvm_json_raw(j, tmp, n);
}

int pvm_json_error(const pvm_json *j)
{
    return j->err;
}

void *pvm_json_sink_ctx(const pvm_json *j)
{
    return j->ctx;
}

size_t pvm_json_depth(const pvm_json *j)
{
    return j->depth;
}

uint64_t pvm_json_bytes(const pvm_json *j)
{
    return j->total;
}

int pvm_json_int64(pvm_json *j, int64_t v)
{
    char tmp[24];
    return pvm_json_raw(j, tmp, pvm_format_i64(tmp, v));
}
