/* fuzz_json.c: libFuzzer target for the streaming JSON writer (json.h).
 * The input is a program: each byte picks a call (container, key, string
 * of the next bytes, float or int64 from the next 8 bytes, timestamp,
 * literal); the harness keeps the calls legal (a key before each value in
 * an object, nesting within PVM_JSON_MAX_DEPTH), closes what is open and
 * flushes through a small buffer. The writer must not fail, and its output
 * must parse with json-c as one complete value; every float must read
 * back as itself (abort otherwise). */
#include "config.h"

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/arena.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
    char *buf;  /* output */
    size_t len; /* bytes used */
    size_t cap; /* bytes allocated */
};

static int sink_write(void *ctx, const char *buf, size_t len)
{
    struct sink *s = ctx;
    if (s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        while (cap < s->len + len + 1)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return PVM_ERR_NOMEM;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, buf, len);
    s->len += len;
    s->buf[s->len] = '\0';
    return 0;
}

/* Reads up to 8 bytes at *p as an integer (zero-padded). */
static uint64_t take8(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    size_t n = (size_t)(end - *p) < 8 ? (size_t)(end - *p) : 8;
    memcpy(&v, *p, n);
    *p += n;
    return v;
}

/* A length-prefixed byte string at *p (1 length byte). */
static const char *take_str(const uint8_t **p, const uint8_t *end, size_t *n)
{
    size_t want = *p < end ? **p : 0;
    if (*p < end)
        (*p)++;
    if (want > (size_t)(end - *p))
        want = (size_t)(end - *p);
    const char *s = (const char *)*p;
    *p += want;
    *n = want;
    return s;
}

static void check_float(double v)
{
    char buf[PVM_FLOAT_BUFSIZE];
    size_t n = pvm_format_float(buf, v);
    if (n >= PVM_FLOAT_BUFSIZE || strlen(buf) != n)
        abort();
    if (isnan(v)) {
        if (strcmp(buf, "NaN") != 0)
            abort();
        return;
    }
    if (isinf(v)) {
        if (strcmp(buf, v > 0 ? "+Inf" : "-Inf") != 0)
            abort();
        return;
    }
    char *end;
    double back = strtod(buf, &end);
    if (*end || back != v || signbit(back) != signbit(v))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pvm_arena *a = pvm_arena_new(16u << 20);
    if (!a)
        return 0;
    struct sink out = {0};
    /* A tiny buffer: the sink sees many partial writes. */
    pvm_json *j = pvm_json_new(a, 7, sink_write, &out);
    if (!j) {
        pvm_arena_free(a);
        return 0;
    }
    /* What is open: 'o' object, 'a' array. */
    char stack[PVM_JSON_MAX_DEPTH + 1];
    size_t depth = 0;
    const uint8_t *p = data, *end = data + size;
    int rc = pvm_json_begin_array(j); /* one top-level value */
    stack[depth++] = 'a';
    while (rc == 0 && p < end) {
        uint8_t op = *p++ % 12;
        size_t n;
        const char *s;
        bool in_obj = stack[depth - 1] == 'o';
        if (in_obj && op == 0) {
            rc = pvm_json_end_object(j);
            depth--;
            continue;
        }
        if (in_obj) {
            s = take_str(&p, end, &n);
            if ((rc = pvm_json_key_n(j, s, n)) != 0)
                break;
        }
        switch (op) {
        case 0:
        case 1:
        case 2: /* open an object or an array */
            if (depth >= PVM_JSON_MAX_DEPTH) {
                rc = pvm_json_null(j);
            } else if (op == 2) {
                rc = pvm_json_begin_array(j);
                stack[depth++] = 'a';
            } else {
                rc = pvm_json_begin_object(j);
                stack[depth++] = 'o';
            }
            break;
        case 3: /* close the innermost array (not the top level) */
            if (!in_obj && depth > 1) {
                rc = pvm_json_end_array(j);
                depth--;
            } else {
                rc = pvm_json_bool(j, depth & 1);
            }
            break;
        case 4:
            s = take_str(&p, end, &n);
            rc = pvm_json_string_n(j, s, n);
            break;
        case 5: {
            s = take_str(&p, end, &n);
            char *c = strndup(s, n);
            rc = c ? pvm_json_string(j, c) : pvm_json_null(j);
            free(c);
            break;
        }
        case 6: {
            uint64_t bits = take8(&p, end);
            double v;
            memcpy(&v, &bits, sizeof(v));
            check_float(v);
            rc = pvm_json_float(j, v);
            break;
        }
        case 7: rc = pvm_json_int64(j, (int64_t)take8(&p, end)); break;
        case 8: {
            int64_t ms = (int64_t)take8(&p, end);
            char buf[PVM_FLOAT_BUFSIZE];
            size_t k = pvm_format_timestamp(buf, ms);
            if (k >= PVM_FLOAT_BUFSIZE || strlen(buf) != k)
                abort();
            rc = pvm_json_timestamp(j, ms);
            break;
        }
        case 9: rc = pvm_json_null(j); break;
        case 10: rc = pvm_json_raw(j, "{\"k\":[1,\"v\"]}", 13); break;
        default: rc = pvm_json_bool(j, true); break;
        }
    }
    while (rc == 0 && depth > 0) {
        rc = stack[depth - 1] == 'o' ? pvm_json_end_object(j)
                                     : pvm_json_end_array(j);
        depth--;
    }
    if (rc == 0)
        rc = pvm_json_flush(j);
    if (rc != 0 || pvm_json_depth(j) != 0 || pvm_json_bytes(j) != out.len)
        abort();
    json_tokener *tok = json_tokener_new_ex(4 * PVM_JSON_MAX_DEPTH);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT
#ifdef JSON_TOKENER_VALIDATE_UTF8
                                    | JSON_TOKENER_VALIDATE_UTF8
#endif
    );
    json_object *o = json_tokener_parse_ex(tok, out.buf, (int)out.len);
    if (!o || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != out.len)
        abort();
    json_object_put(o);
    json_tokener_free(tok);
    free(out.buf);
    pvm_arena_free(a);
    return 0;
}
