/* form.c: form and path decoding as Go's net/url and net/http do, and
 * Prometheus' U__ label-name unescaping (see form.h). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"
#include "form.h"
#include "strbuf.h"

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Go's unescape: checks every escape first, then decodes s (n bytes) into
 * a NUL-terminated arena copy. plus: '+' means space (query component). */
static int unescape(pvm_arena *a, const char *s, size_t n, bool plus,
                    char **out, size_t *out_len, pvm_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%')
            continue;
        if (i + 2 >= n || hexval((unsigned char)s[i + 1]) < 0 ||
            hexval((unsigned char)s[i + 2]) < 0) {
            char q[32];
            pvm_strbuf sb;
            pvm_strbuf_init_fixed(&sb, q, sizeof(q));
            pvm_strbuf_quote(&sb, s + i, n - i < 3 ? n - i : 3, 0);
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "invalid URL escape %s", q);
        }
        i += 2;
    }
    char *d = pvm_arena_alloc(a, n + 1);
    if (!d)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            d[o++] = (char)(hexval((unsigned char)s[i + 1]) * 16 +
                            hexval((unsigned char)s[i + 2]));
            i += 2;
        } else {
            d[o++] = plus && s[i] == '+' ? ' ' : s[i];
        }
    }
    d[o] = '\0';
    *out = d;
    *out_len = o;
    return 0;
}

/* Decodes one non-empty pair without ';' and appends it to f. */
static int add_pair(pvm_form *f, pvm_arena *a, const char *s, size_t n,
                    pvm_error *err)
{
    const char *eq = memchr(s, '=', n);
    size_t klen = eq ? (size_t)(eq - s) : n;
    pvm_form_pair *p = &f->pairs[f->n];
    char *k, *v;
    int rc = unescape(a, s, klen, true, &k, &p->key_len, err);
    if (rc == 0)
        rc = eq ? unescape(a, eq + 1, n - klen - 1, true, &v, &p->value_len,
                           err)
                : unescape(a, "", 0, true, &v, &p->value_len, err);
    if (rc < 0)
        return rc;
    p->key = k;
    p->value = v;
    f->n++;
    return 0;
}

int pvm_form_parse(pvm_form *f, pvm_arena *a, const char *s, size_t len,
                   pvm_error *err)
{
    size_t pieces = 1;
    for (size_t i = 0; i < len; i++)
        pieces += s[i] == '&';
    if (pieces > (SIZE_MAX / sizeof(pvm_form_pair)) - f->n)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    pvm_form_pair *pairs = pvm_arena_realloc(a, f->pairs,
                                             f->n * sizeof(*pairs),
                                             (f->n + pieces) * sizeof(*pairs));
    if (!pairs)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    f->pairs = pairs;
    int result = 0;
    pvm_error first = {0}, tmp = {0};
    size_t start = 0;
    while (start <= len) {
        const char *amp = memchr(s + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - s) : len;
        const char *piece = s + start;
        size_t n = end - start;
        start = end + 1;
        if (memchr(piece, ';', n)) {
            result = pvm_error_set(&first, PVM_ERR_BAD_DATA,
                                   "invalid semicolon separator in query");
            continue;
        }
        if (n == 0)
            continue;
        int rc = add_pair(f, a, piece, n, &tmp);
        if (rc == PVM_ERR_NOMEM)
            return pvm_error_set(err, rc, "out of memory");
        if (rc < 0 && result == 0) {
            result = rc;
            first = tmp;
        }
    }
    if (result < 0 && err)
        *err = first;
    return result;
}

int pvm_form_merge(pvm_form *out, pvm_arena *a, const pvm_form *body,
                   const pvm_form *query)
{
    size_t nb = body ? body->n : 0, nq = query ? query->n : 0;
    out->n = 0;
    out->pairs = pvm_arena_calloc(a, nb + nq, sizeof(*out->pairs));
    if (!out->pairs)
        return PVM_ERR_NOMEM;
    if (nb)
        memcpy(out->pairs, body->pairs, nb * sizeof(*out->pairs));
    if (nq)
        memcpy(out->pairs + nb, query->pairs, nq * sizeof(*out->pairs));
    out->n = nb + nq;
    return 0;
}

const pvm_form_pair *pvm_form_next(const pvm_form *f, const char *key,
                                   size_t *pos)
{
    size_t klen = strlen(key);
    for (; f && *pos < f->n; (*pos)++) {
        const pvm_form_pair *p = &f->pairs[*pos];
        if (p->key_len == klen && memcmp(p->key, key, klen) == 0) {
            (*pos)++;
            return p;
        }
    }
    return NULL;
}

const char *pvm_form_get_n(const pvm_form *f, const char *key, size_t *len)
{
    size_t pos = 0;
    const pvm_form_pair *p = pvm_form_next(f, key, &pos);
    if (len)
        *len = p ? p->value_len : 0;
    return p ? p->value : NULL;
}

const char *pvm_form_get(const pvm_form *f, const char *key)
{
    return pvm_form_get_n(f, key, NULL);
}

size_t pvm_form_count(const pvm_form *f, const char *key)
{
    size_t pos = 0, count = 0;
    while (pvm_form_next(f, key, &pos))
        count++;
    return count;
}

int pvm_path_unescape(pvm_arena *a, const char *s, size_t len, char **out,
                      size_t *out_len, pvm_error *err)
{
    return unescape(a, s, len, false, out, out_len, err);
}

/* Decodes the body of a U__ name (s, n bytes) into d; false when an
 * escape is malformed. */
static bool unescape_value_encoding(const char *s, size_t n, char *d,
                                    size_t *dlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '_') {
            d[o++] = s[i];
            continue;
        }
        if (++i >= n)
            return false;
        if (s[i] == '_') {
            d[o++] = '_';
            continue;
        }
        uint32_t cp = 0;
        size_t digits = 0;
        for (; i < n && s[i] != '_'; i++, digits++) {
            int h = hexval((unsigned char)s[i]);
            if (digits >= 6 || h < 0)
                return false;
            cp = cp * 16 + (uint32_t)h;
        }
        /* Go gives up at a 6th digit even when '_' follows it. */
        if (i >= n || digits >= 6 || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        o += pvm_utf8_encode((int32_t)cp, d + o);
    }
    d[o] = '\0';
    *dlen = o;
    return true;
}

int pvm_label_name_unescape(pvm_arena *a, const char *s, size_t len,
                            const char **out, size_t *out_len)
{
    *out = s;
    *out_len = len;
    if (len < 3 || memcmp(s, "U__", 3) != 0)
        return 0;
    /* Each escape "_X_" (3+ bytes) yields at most 4 bytes. */
    char *d = pvm_arena_alloc(a, 2 * len + 1);
    if (!d)
        return PVM_ERR_NOMEM;
    size_t dlen;
    if (unescape_value_encoding(s + 3, len - 3, d, &dlen)) {
        *out = d;
        *out_len = dlen;
    }
    return 0;
}

bool pvm_is_valid_utf8(const char *name, size_t len)
{
    return pvm_utf8_is_valid(name, len);
}
