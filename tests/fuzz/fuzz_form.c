/* fuzz_form.c: libFuzzer target for form and path decoding (form.h).
 * Every input is decoded as a query string; each pair must be
 * NUL-terminated at its length, and re-encoding the pairs and decoding
 * that again must give the same pairs (abort otherwise). The path and U__
 * label-name unescapers and the UTF-8 check run on the same bytes. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/arena.h>

#include "form.h"
#include "labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Percent-encodes s (n bytes) into d (3n bytes); returns the length. */
static size_t encode(char *d, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        d[o++] = '%';
        d[o++] = hex[c >> 4];
        d[o++] = hex[c & 15];
    }
    return o;
}

/* A reference UTF-8 check, byte by byte (RFC 3629 table 3-7). */
static int utf8_ref(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t w;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            w = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            w = 3;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            w = 4;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else {
            return 0;
        }
        if (n - i < w || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < w; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return 0;
        i += w;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    pvm_arena *a = pvm_arena_new(64u << 20);
    if (!a)
        return 0;
    pvm_error err = {0};
    pvm_form f = PVM_FORM_INIT;
    int rc = pvm_form_parse(&f, a, s, size, &err);
    if (rc < 0 && (err.code != rc || !err.msg[0]))
        abort(); /* a failure must say why */
    if (rc != PVM_ERR_NOMEM) {
        /* Re-encode the pairs kept, decode again: the same pairs. */
        size_t cap = 1;
        for (size_t i = 0; i < f.n; i++)
            cap += 3 * (f.pairs[i].key_len + f.pairs[i].value_len) + 2;
        char *enc = malloc(cap);
        size_t o = 0;
        for (size_t i = 0; enc && i < f.n; i++) {
            const pvm_form_pair *p = &f.pairs[i];
            if (p->key[p->key_len] != '\0' || p->value[p->value_len] != '\0')
                abort();
            if (i)
                enc[o++] = '&';
            o += encode(enc + o, p->key, p->key_len);
            enc[o++] = '=';
            o += encode(enc + o, p->value, p->value_len);
        }
        pvm_form g = PVM_FORM_INIT;
        if (enc && pvm_form_parse(&g, a, enc, o, &err) == 0) {
            /* Pairs with an empty key and value vanish ("=" is not
             * empty: it is kept as a pair). */
            if (g.n != f.n)
                abort();
            for (size_t i = 0; i < f.n; i++)
                if (g.pairs[i].key_len != f.pairs[i].key_len ||
                    g.pairs[i].value_len != f.pairs[i].value_len ||
                    memcmp(g.pairs[i].key, f.pairs[i].key,
                           f.pairs[i].key_len) != 0 ||
                    memcmp(g.pairs[i].value, f.pairs[i].value,
                           f.pairs[i].value_len) != 0)
                    abort();
        }
        free(enc);
        if (f.n && strlen(f.pairs[0].key) == f.pairs[0].key_len) {
            const char *v = pvm_form_get(&f, f.pairs[0].key);
            if (v != f.pairs[0].value ||
                pvm_form_count(&f, f.pairs[0].key) < 1)
                abort();
        }
    }
    char *out;
    size_t out_len;
    if (pvm_path_unescape(a, s, size, &out, &out_len, &err) == 0 &&
        (out_len > size || out[out_len] != '\0'))
        abort();
    const char *name;
    size_t name_len;
    if (pvm_label_name_unescape(a, s, size, &name, &name_len) == 0 &&
        name != s && name[name_len] != '\0')
        abort();
    if (pvm_is_valid_utf8(s, size) != utf8_ref(data, size))
        abort();
    (void)pvm_label_name_is_legacy(s, size);
    pvm_arena_free(a);
    return 0;
}
