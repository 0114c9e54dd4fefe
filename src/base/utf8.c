/* utf8.c: UTF-8 decoding, validation and encoding with Go's rules. */
#include "utf8.h"

#include <string.h>

size_t pvm_utf8_decode(const char *str, size_t n, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t w = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (w == 0 || c > 0xF4 || n < w)
        return 0;
    uint32_t v = c & (0x7F >> w);
    for (size_t k = 1; k < w; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[k] & 0x3F);
    }
    if ((w == 3 && v < 0x800) || (w == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return w;
}

size_t pvm_utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t w = pvm_utf8_decode(s + i, n - i, &cp);
        if (w == 0)
            return i;
        i += w;
    }
    return n;
}

bool pvm_utf8_is_valid(const char *s, size_t n)
{
    return pvm_utf8_invalid_at(s, n) == n;
}

size_t pvm_utf8_decode_rune(const char *s, size_t n, int32_t *r)
{
    uint32_t cp;
    size_t w = pvm_utf8_decode(s, n, &cp);
    *r = w ? (int32_t)cp : 0xFFFD;
    return w ? w : 1;
}

size_t pvm_utf8_encode(int32_t r, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        r = 0xFFFD;
    if (r < 0x80) {
        o[0] = (unsigned char)r;
        return 1;
    }
    if (r < 0x800) {
        o[0] = (unsigned char)(0xC0 | (r >> 6));
        o[1] = (unsigned char)(0x80 | (r & 0x3F));
        return 2;
    }
    if (r < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (r >> 12));
        o[1] = (unsigned char)(0x80 | ((r >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (r & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (r >> 18));
    o[1] = (unsigned char)(0x80 | ((r >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((r >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (r & 0x3F));
    return 4;
}
