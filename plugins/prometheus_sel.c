/* prometheus_sel.c: PromQL selector text for the prometheus plugin (see
 * prometheus_core.h): a selector of the request printed so that the
 * upstream reads exactly its matchers, and the selectors of the `match`
 * and `external_labels` settings parsed. Quoting follows Go's string
 * literals as PromQL's lexer reads them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prometheus_core.h"

/* ---- buffer ------------------------------------------------------------- */

void pvm_prom_buf_add(pvm_prom_buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void pvm_prom_buf_puts(pvm_prom_buf *b, const char *s)
{
    pvm_prom_buf_add(b, s, strlen(s));
}

void pvm_prom_buf_printf(pvm_prom_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        pvm_prom_buf_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    pvm_prom_buf_add(b, big, (size_t)n);
    free(big);
}

void pvm_prom_buf_free(pvm_prom_buf *b)
{
    free(b->p);
    *b = (pvm_prom_buf){0};
}

/* ---- printing ------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (Go's rules: no overlong
 * forms, no surrogates, at most U+10FFFF), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void pvm_prom_quote(pvm_prom_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    pvm_prom_buf_add(b, "\"", 1);
    while (*p) {
        size_t run = 0;
        /* a run of bytes written as they are */
        while (p[run] >= 0x20 && p[run] != '"' && p[run] != '\\' &&
               p[run] != 0x7f) {
            size_t k = utf8_len(p + run);
            if (k == 0)
                break;
            run += k;
        }
        if (run) {
            pvm_prom_buf_add(b, (const char *)p, run);
            p += run;
            continue;
        }
        switch (*p) {
        case '"': pvm_prom_buf_add(b, "\\\"", 2); break;
        case '\\': pvm_prom_buf_add(b, "\\\\", 2); break;
        case '\n': pvm_prom_buf_add(b, "\\n", 2); break;
        case '\r': pvm_prom_buf_add(b, "\\r", 2); break;
        case '\t': pvm_prom_buf_add(b, "\\t", 2); break;
        default: pvm_prom_buf_printf(b, "\\x%02x", *p); break;
        }
        p++;
    }
    pvm_prom_buf_add(b, "\"", 1);
}

void pvm_prom_label_name(pvm_prom_buf *b, const char *name)
{
    if (pvm_is_label_name(name))
        pvm_prom_buf_puts(b, name);
    else
        pvm_prom_quote(b, name);
}

const char *pvm_prom_op_text(pvm_match_op op)
{
    switch (op) {
    case PVM_MATCH_EQUAL: return "=";
    case PVM_MATCH_NOT_EQUAL: return "!=";
    case PVM_MATCH_REGEX: return "=~";
    case PVM_MATCH_NOT_REGEX: return "!~";
    }
    return "=";
}

void pvm_prom_print_selector(pvm_prom_buf *b, const pvm_prom_matcher *m,
                             size_t n)
{
    pvm_prom_buf_add(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            pvm_prom_buf_add(b, ",", 1);
        pvm_prom_label_name(b, m[i].name);
        pvm_prom_buf_puts(b, pvm_prom_op_text(m[i].op));
        pvm_prom_quote(b, m[i].value);
    }
    pvm_prom_buf_add(b, "}", 1);
}

/* ---- parsing ------------------------------------------------------------- */

struct lexer {
    const char *s; /* the text */
    size_t len;    /* its length */
    size_t pos;    /* next byte */
    pvm_error *err;
};

static int lex_fail(struct lexer *lx, const char *what)
{
    return pvm_error_set_pos(lx->err, PVM_ERR_BAD_DATA, lx->pos, lx->pos + 1,
                             "1:%zu: %s", lx->pos + 1, what);
}

static void skip_blanks(struct lexer *lx)
{
    while (lx->pos < lx->len && strchr(" \t\r\n", lx->s[lx->pos]) &&
           lx->s[lx->pos])
        lx->pos++;
}

static bool is_name_char(char c, bool first, bool colon)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends the UTF-8 of code point cp. */
static void put_rune(pvm_prom_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)),
        n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xe0 | cp >> 12),
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
        u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    else
        u[0] = (char)(0xf0 | cp >> 18),
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f)),
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)),
        u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    pvm_prom_buf_add(b, u, n);
}

/* One escape after the backslash at lx->pos - 1, in a string opened by q. */
static int lex_escape(struct lexer *lx, char q, pvm_prom_buf *out)
{
    if (lx->pos >= lx->len)
        return lex_fail(lx, "unterminated string");
    char c = lx->s[lx->pos++];
    const char *simple = "a\ab\bf\fn\nr\rt\tv\v\\\\";
    for (const char *p = simple; *p; p += 2)
        if (c == p[0]) {
            pvm_prom_buf_add(out, p + 1, 1);
            return 0;
        }
    if (c == q) {
        pvm_prom_buf_add(out, &c, 1);
        return 0;
    }
    int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    unsigned v = 0;
    if (c >= '0' && c <= '7') { /* three octal digits */
        v = (unsigned)(c - '0');
        for (int i = 0; i < 2; i++) {
            if (lx->pos >= lx->len || lx->s[lx->pos] < '0' ||
                lx->s[lx->pos] > '7')
                return lex_fail(lx, "bad octal escape in string");
            v = v * 8 + (unsigned)(lx->s[lx->pos++] - '0');
        }
        if (v > 255)
            return lex_fail(lx, "octal escape above \\377 in string");
    } else if (digits) {
        for (int i = 0; i < digits; i++) {
            int h = lx->pos < lx->len ? hexval(lx->s[lx->pos]) : -1;
            if (h < 0)
                return lex_fail(lx, "bad hexadecimal escape in string");
            v = v * 16 + (unsigned)h;
            lx->pos++;
        }
    } else {
        lx->pos--;
        return lex_fail(lx, "unknown escape sequence in string");
    }
    if (v == 0)
        return lex_fail(lx, "a NUL byte in a string");
    if (c == 'u' || c == 'U') {
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            return lex_fail(lx, "escape of an invalid Unicode code point");
        put_rune(out, v);
    } else {
        char byte = (char)v; /* \x and octal: one byte */
        pvm_prom_buf_add(out, &byte, 1);
    }
    return 0;
}

/* A string literal at lx->pos; its bytes go to *out (malloc'd). */
static int lex_string(struct lexer *lx, char **out)
{
    char q = lx->s[lx->pos++];
    pvm_prom_buf b = {0};
    int rc = 0;
    for (;;) {
        if (lx->pos >= lx->len || lx->s[lx->pos] == '\0') {
            rc = lex_fail(lx, lx->pos >= lx->len ? "unterminated string"
                                                 : "a NUL byte in a string");
            break;
        }
        char c = lx->s[lx->pos++];
        if (c == q)
            break;
        if (c == '\\' && q != '`') {
            if ((rc = lex_escape(lx, q, &b)) < 0)
                break;
        } else if (c == '\n' && q != '`') {
            lx->pos--;
            rc = lex_fail(lx, "a newline in a string");
            break;
        } else {
            pvm_prom_buf_add(&b, &c, 1);
        }
    }
    if (rc == 0 && !b.failed && !b.p)
        pvm_prom_buf_add(&b, "", 0);
    if (rc == 0 && b.failed)
        rc = pvm_error_set(lx->err, PVM_ERR_NOMEM, "out of memory");
    if (rc < 0) {
        pvm_prom_buf_free(&b);
        return rc;
    }
    *out = b.p;
    return 0;
}

/* A bare name (metric names allow ':') or a quoted one, malloc'd. */
static int lex_name(struct lexer *lx, bool colon, char **out)
{
    char c = lx->pos < lx->len ? lx->s[lx->pos] : '\0';
    if (c == '"' || c == '\'' || c == '`')
        return lex_string(lx, out);
    size_t start = lx->pos;
    while (lx->pos < lx->len &&
           is_name_char(lx->s[lx->pos], lx->pos == start, colon))
        lx->pos++;
    if (lx->pos == start)
        return lex_fail(lx, "expected a label name");
    if (!(*out = strndup(lx->s + start, lx->pos - start)))
        return pvm_error_set(lx->err, PVM_ERR_NOMEM, "out of memory");
    return 0;
}

static int add_matcher(pvm_prom_selector *sel, char *name, pvm_match_op op,
                       char *value, pvm_error *err)
{
    pvm_prom_matcher *m = realloc(sel->m, (sel->n + 1) * sizeof(*m));
    if (!m) {
        free(name);
        free(value);
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    }
    sel->m = m;
    m[sel->n++] = (pvm_prom_matcher){name, op, value};
    return 0;
}

static int lex_op(struct lexer *lx, pvm_match_op *op)
{
    const char *p = lx->s + lx->pos;
    size_t left = lx->len - lx->pos;
    if (left >= 2 && p[0] == '=' && p[1] == '~')
        *op = PVM_MATCH_REGEX, lx->pos += 2;
    else if (left >= 2 && p[0] == '!' && p[1] == '=')
        *op = PVM_MATCH_NOT_EQUAL, lx->pos += 2;
    else if (left >= 2 && p[0] == '!' && p[1] == '~')
        *op = PVM_MATCH_NOT_REGEX, lx->pos += 2;
    else if (left >= 1 && p[0] == '=')
        *op = PVM_MATCH_EQUAL, lx->pos += 1;
    else
        return lex_fail(lx, "expected =, !=, =~ or !~");
    return 0;
}

/* name op "value" inside the braces. */
static int lex_matcher(struct lexer *lx, pvm_prom_selector *sel)
{
    char *name = NULL, *value = NULL;
    pvm_match_op op = PVM_MATCH_EQUAL;
    int rc = lex_name(lx, false, &name);
    if (rc < 0)
        return rc;
    skip_blanks(lx);
    if ((rc = lex_op(lx, &op)) < 0)
        goto fail;
    skip_blanks(lx);
    char c = lx->pos < lx->len ? lx->s[lx->pos] : '\0';
    if (c != '"' && c != '\'' && c != '`') {
        rc = lex_fail(lx, "expected a string");
        goto fail;
    }
    if ((rc = lex_string(lx, &value)) < 0)
        goto fail;
    if (!name[0]) {
        rc = lex_fail(lx, "empty label name");
        goto fail;
    }
    return add_matcher(sel, name, op, value, lx->err);
fail:
    free(name);
    free(value);
    return rc;
}

static int lex_braces(struct lexer *lx, pvm_prom_selector *sel)
{
    lx->pos++; /* '{' */
    for (;;) {
        skip_blanks(lx);
        if (lx->pos < lx->len && lx->s[lx->pos] == '}') {
            lx->pos++;
            return 0;
        }
        int rc = lex_matcher(lx, sel);
        if (rc < 0)
            return rc;
        skip_blanks(lx);
        if (lx->pos < lx->len && lx->s[lx->pos] == ',')
            lx->pos++;
        else if (lx->pos >= lx->len || lx->s[lx->pos] != '}')
            return lex_fail(lx, "expected , or } after a matcher");
    }
}

int pvm_prom_selector_parse(const char *text, size_t len,
                            pvm_prom_selector *out, pvm_error *err)
{
    struct lexer lx = {text, len, 0, err};
    *out = (pvm_prom_selector){0};
    int rc = 0;
    skip_blanks(&lx);
    if (lx.pos < len && is_name_char(text[lx.pos], true, true)) {
        char *name = NULL;
        if ((rc = lex_name(&lx, true, &name)) < 0 ||
            (rc = add_matcher(out, strdup("__name__"), PVM_MATCH_EQUAL, name,
                              err)) < 0)
            goto fail;
        if (!out->m[0].name) {
            rc = pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
            goto fail;
        }
        skip_blanks(&lx);
    }
    if (lx.pos < len && text[lx.pos] == '{' && (rc = lex_braces(&lx, out)) < 0)
        goto fail;
    skip_blanks(&lx);
    if (lx.pos < len) {
        rc = lex_fail(&lx, "unexpected text after the selector (a "
                           "selector only: name{label=\"value\",...})");
        goto fail;
    }
    if (out->n == 0) {
        rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                           "a selector needs a metric name or a matcher");
        goto fail;
    }
    return 0;
fail:
    pvm_prom_selector_free(out);
    return rc;
}

void pvm_prom_selector_free(pvm_prom_selector *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free((char *)s->m[i].name);
        free((char *)s->m[i].value);
    }
    free(s->m);
    *s = (pvm_prom_selector){0};
}

/* ---- the upstream's selector and window ------------------------------- */

static bool is_external(const char *name, const pvm_label *ext, size_t next)
{
    for (size_t i = 0; i < next; i++)
        if (strcmp(ext[i].name, name) == 0)
            return true;
    return false;
}

/* Appends one matcher, with a comma before all but the first. */
static void put_matcher(pvm_prom_buf *b, size_t *count, const char *name,
                        pvm_match_op op, const char *value)
{
    if ((*count)++)
        pvm_prom_buf_add(b, ",", 1);
    pvm_prom_label_name(b, name);
    pvm_prom_buf_puts(b, pvm_prom_op_text(op));
    pvm_prom_quote(b, value);
}

void pvm_prom_upstream_selector(pvm_prom_buf *b, const pvm_selector *s,
                                const pvm_prom_selector *filter,
                                const pvm_label *ext, size_t next)
{
    size_t count = 0;
    bool anchored = false; /* an equality with a non-empty value */
    pvm_prom_buf_add(b, "{", 1);
    size_t n = s ? pvm_selector_matcher_count(s) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        pvm_match_op op;
        pvm_selector_matcher(s, i, &name, &op, &value);
        if (is_external(name, ext, next))
            continue;
        put_matcher(b, &count, name, op, value);
        anchored |= op == PVM_MATCH_EQUAL && value[0];
    }
    for (size_t i = 0; filter && i < filter->n; i++) {
        const pvm_prom_matcher *m = &filter->m[i];
        put_matcher(b, &count, m->name, m->op, m->value);
        anchored |= m->op == PVM_MATCH_EQUAL && m->value[0];
    }
    if (!anchored)
        put_matcher(b, &count, "__name__", PVM_MATCH_REGEX, ".+");
    pvm_prom_buf_add(b, "}", 1);
}

void pvm_prom_window(pvm_prom_buf *b, int64_t start, int64_t end)
{
    pvm_prom_buf_printf(b, "[%lldms]", (long long)(end - start + 1));
}

char *pvm_prom_format_time(char *buf, size_t n, int64_t ms)
{
    unsigned long long a = ms < 0 ? 0ull - (unsigned long long)ms
                                  : (unsigned long long)ms;
    snprintf(buf, n, "%s%llu.%03llu", ms < 0 ? "-" : "", a / 1000, a % 1000);
    return buf;
}
