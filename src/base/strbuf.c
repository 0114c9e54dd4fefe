/* strbuf.c: growable arena strings and Go-compatible quoting (see
 * strbuf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

void pvm_strbuf_init(pvm_strbuf *sb, pvm_arena *a)
{
    memset(sb, 0, sizeof(*sb));
    sb->arena = a;
}

void pvm_strbuf_init_fixed(pvm_strbuf *sb, char *buf, size_t cap)
{
    memset(sb, 0, sizeof(*sb));
    sb->buf = buf;
    sb->cap = cap;
    if (cap)
        buf[0] = '\0';
}

/* Makes room for n more bytes plus a NUL. Returns the bytes available
 * (may be less than n for a fixed buffer). */
static size_t reserve(pvm_strbuf *sb, size_t n)
{
    if (sb->failed)
        return 0;
    if (sb->len + n + 1 <= sb->cap)
        return n;
    if (!sb->arena) {
        sb->failed = true;
        return sb->cap ? sb->cap - sb->len - 1 : 0;
    }
    size_t ncap = sb->cap ? sb->cap : 64;
    while (ncap < sb->len + n + 1) {
        if (ncap > SIZE_MAX / 2) {
            sb->failed = true;
            return 0;
        }
        ncap *= 2;
    }
    char *nb = pvm_arena_realloc(sb->arena, sb->buf, sb->cap, ncap);
    if (!nb) {
        sb->failed = true;
        return 0;
    }
    sb->buf = nb;
    sb->cap = ncap;
    return n;
}

void pvm_strbuf_add(pvm_strbuf *sb, const char *s, size_t n)
{
    size_t room = reserve(sb, n);
    if (room == 0 && n > 0)
        return;
    memcpy(sb->buf + sb->len, s, room);
    sb->len += room;
    sb->buf[sb->len] = '\0';
}

void pvm_strbuf_insert(pvm_strbuf *sb, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (at > sb->len || reserve(sb, n) < n)
        return;
    memmove(sb->buf + at + n, sb->buf + at, sb->len - at + 1);
    memcpy(sb->buf + at, s, n);
    sb->len += n;
}

void pvm_strbuf_puts(pvm_strbuf *sb, const char *s)
{
    pvm_strbuf_add(sb, s, strlen(s));
}

void pvm_strbuf_putc(pvm_strbuf *sb, char c)
{
    pvm_strbuf_add(sb, &c, 1);
}

void pvm_strbuf_printf(pvm_strbuf *sb, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        pvm_strbuf_add(sb, tmp, (size_t)n);
        return;
    }
    size_t room = reserve(sb, (size_t)n);
    if (room < (size_t)n)
        return;
    va_start(ap, fmt);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

/* An approximation of Go's unicode.IsPrint: ASCII graphic characters and
 * space, and non-ASCII code points except controls, format characters,
 * non-ASCII spaces, private use and non-characters. */
static bool is_print(int32_t r)
{
    if (r < 0x80)
        return r >= 0x20 && r < 0x7F;
    if (r <= 0xA0 || r == 0xAD || r == 0x61C || r == 0x1680 || r == 0x180E ||
        r == 0x202F || r == 0x205F || r == 0x3000 || r == 0xFEFF)
        return false;
    if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202E) ||
        (r >= 0x2060 && r <= 0x206F) || (r >= 0xD800 && r <= 0xF8FF) ||
        (r >= 0xFFF9 && r <= 0xFFFB) || r == 0xFFFE || r == 0xFFFF ||
        r >= 0xE0000)
        return false;
    return true;
}

/* Appends r escaped for a quoted literal delimited by quote. */
static void escape_rune(pvm_strbuf *sb, int32_t r, char quote)
{
    char tmp[16];
    if (r == quote || r == '\\') {
        pvm_strbuf_putc(sb, '\\');
        pvm_strbuf_putc(sb, (char)r);
        return;
    }
    if (is_print(r)) {
        pvm_strbuf_add(sb, tmp, pvm_utf8_encode(r, tmp));
        return;
    }
    switch (r) {
    case '\a': pvm_strbuf_puts(sb, "\\a"); return;
    case '\b': pvm_strbuf_puts(sb, "\\b"); return;
    case '\f': pvm_strbuf_puts(sb, "\\f"); return;
    case '\n': pvm_strbuf_puts(sb, "\\n"); return;
    case '\r': pvm_strbuf_puts(sb, "\\r"); return;
    case '\t': pvm_strbuf_puts(sb, "\\t"); return;
    case '\v': pvm_strbuf_puts(sb, "\\v"); return;
    default: break;
    }
    if (r < ' ' || r == 0x7F)
        pvm_strbuf_printf(sb, "\\x%02x", (unsigned)r);
    else if (r < 0x10000)
        pvm_strbuf_printf(sb, "\\u%04x", (unsigned)r);
    else
        pvm_strbuf_printf(sb, "\\U%08x", (unsigned)r);
}

void pvm_strbuf_quote(pvm_strbuf *sb, const char *s, size_t n,
                      size_t max_runes)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, runes = 0;
    pvm_strbuf_putc(sb, '"');
    while (i < n && (max_runes == 0 || runes < max_runes)) {
        int32_t r;
        size_t w = pvm_utf8_decode_rune(s + i, n - i, &r);
        if (w == 1 && r == 0xFFFD && u[i] >= 0x80)
            pvm_strbuf_printf(sb, "\\x%02x", u[i]);
        else
            escape_rune(sb, r, '"');
        i += w;
        runes++;
    }
    pvm_strbuf_putc(sb, '"');
}

void pvm_strbuf_quote_rune(pvm_strbuf *sb, int32_t r)
{
    if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        r = 0xFFFD;
    pvm_strbuf_putc(sb, '\'');
    escape_rune(sb, r, '\'');
    pvm_strbuf_putc(sb, '\'');
}

void pvm_strbuf_unicode(pvm_strbuf *sb, int32_t r)
{
    char tmp[8];
    pvm_strbuf_printf(sb, "U+%04X", (unsigned)r);
    if (r >= 0 && r <= 0x10FFFF && is_print(r)) {
        pvm_strbuf_puts(sb, " '");
        pvm_strbuf_add(sb, tmp, pvm_utf8_encode(r, tmp));
        pvm_strbuf_putc(sb, '\'');
    }
}
