/* re2pcre.c: Go's RE2 regex syntax rewritten into an equivalent PCRE2
 * pattern, so that PCRE2-only syntax never reaches PCRE2 and every class
 * means what it means in Go (backslash-s is [\t\n\f\r ], backslash-v
 * is U+000B, backslash-d, -w and -b are ASCII). Errors carry Go's error
 * code text. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <pvm/error.h>

#include "re2pcre.h"
#include "utf8.h"
#include "strbuf.h"

#define RX_MAX_REPEAT PVM_RE2PCRE_MAX_REPEAT
#define RX_MAX_DEPTH PVM_RE2PCRE_MAX_DEPTH

/* Text that never matches / matches any one character. */
#define RX_NEVER "[^\\x{0}-\\x{10ffff}]"
#define RX_ANY "[\\x{0}-\\x{10ffff}]"

enum rx_last {
    LAST_NONE,   /* start, after ( or |: nothing to repeat */
    LAST_ITEM,   /* a character, class or group */
    LAST_ASSERT, /* ^ $ \A \z \b \B: wrapped in (?:) when repeated */
    LAST_REPEAT, /* a repetition: another one is an error */
    LAST_FLAGS,  /* (?i): Go repeats what came before; we refuse */
};

/* RE2-syntax parser state. */
typedef struct rx_parse {
    const char *s;      /* pattern */
    size_t n;           /* its length */
    size_t i;           /* read position */
    pvm_strbuf out;     /* translated pattern */
    unsigned *prods;    /* per nesting level: largest repeat product */
    size_t depth;       /* open groups */
    size_t max_depth;   /* deepest nesting seen */
    enum rx_last last;  /* what precedes the read position */
    size_t atom_out;    /* output offset where the last atom starts */
    unsigned atom_prod; /* repeat product inside the last atom */
    size_t rep_pos;     /* pattern offset of the last repetition */
    size_t ngroups;     /* capture groups opened so far */
    const char **names; /* names[1..]: group names (room for every ( ) */
    const char *code;   /* error: Go's error code text */
    size_t epos;        /* error: fragment start */
    size_t eend;        /* error: fragment end (epos == eend: none) */
} rx_parse;

static int rx_escape_rune(rx_parse *p, size_t *j, uint32_t *r);

/* ---- output buffer --------------------------------------------------- */

/* Appends code point c as a literal, safe inside and outside classes. */
static void buf_rune(pvm_strbuf *b, uint32_t c)
{
    char tmp[16];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z')) {
        tmp[0] = (char)c;
        pvm_strbuf_add(b, tmp, 1);
    } else if (c > 0x20 && c < 0x7F) {
        tmp[0] = '\\';
        tmp[1] = (char)c;
        pvm_strbuf_add(b, tmp, 2);
    } else {
        int k = snprintf(tmp, sizeof(tmp), "\\x{%x}", (unsigned)c);
        pvm_strbuf_add(b, tmp, (size_t)k);
    }
}

/* ---- RE2 syntax → PCRE2 ---------------------------------------------- */

static int rx_fail(rx_parse *p, const char *code, size_t pos, size_t end)
{
    p->code = code;
    p->epos = pos;
    p->eend = end;
    return -1;
}

static void begin_atom(rx_parse *p, enum rx_last kind)
{
    p->atom_out = p->out.len;
    p->atom_prod = 1;
    p->last = kind;
}

static bool is_word_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '_';
}

/* Go's parseInt: decimal digits without leading zero; -1 when >= 1e8.
 * Returns false when s[*j] does not start a number. */
static bool parse_count(const char *s, size_t n, size_t *j, long *v)
{
    size_t k = *j;
    if (k >= n || s[k] < '0' || s[k] > '9')
        return false;
    if (k + 1 < n && s[k] == '0' && s[k + 1] >= '0' && s[k + 1] <= '9')
        return false;
    long x = 0;
    for (; k < n && s[k] >= '0' && s[k] <= '9'; k++)
        if (x >= 0)
            x = x >= 100000000 ? -1 : x * 10 + (s[k] - '0');
    *j = k;
    *v = x;
    return true;
}

/* Go's parseRepeat at s[*j] == '{': {n}, {n,} (max -1) or {n,m}. Returns
 * false when the text is not of that form ('{' is then a literal). */
static bool parse_braces(const char *s, size_t n, size_t *j, long *min,
                         long *max)
{
    size_t k = *j + 1;
    if (!parse_count(s, n, &k, min) || k >= n)
        return false;
    if (s[k] != ',') {
        *max = *min;
    } else if (++k < n && s[k] == '}') {
        *max = -1;
    } else {
        if (!parse_count(s, n, &k, max))
            return false;
        if (*max < 0)
            *min = -1;
    }
    if (k >= n || s[k] != '}')
        return false;
    *j = k + 1;
    return true;
}

/* A repetition operator at p->i: * + ? or {n,m}, optionally followed by ?
 * (non-greedy). Checks Go's rules and the nested repeat-count product. */
static int rx_repeat(rx_parse *p)
{
    size_t start = p->i, j = p->i;
    long min = 0, max = 0;
    bool counted = p->s[start] == '{';
    if (counted) {
        if (!parse_braces(p->s, p->n, &j, &min, &max)) {
            begin_atom(p, LAST_ITEM);
            buf_rune(&p->out, '{');
            p->i++;
            return 0;
        }
        if (min < 0 || min > RX_MAX_REPEAT || max > RX_MAX_REPEAT ||
            (max >= 0 && min > max))
            return rx_fail(p, "invalid repeat count", start, j);
    } else {
        j++;
    }
    bool lazy = j < p->n && p->s[j] == '?';
    if (lazy)
        j++;
    if (p->last == LAST_REPEAT)
        return rx_fail(p, "invalid nested repetition operator", p->rep_pos, j);
    if (p->last == LAST_NONE || p->last == LAST_FLAGS)
        return rx_fail(p, "missing argument to repetition operator", start, j);
    unsigned prod = p->atom_prod;
    if (counted && max == 0) {
        prod = 1;
    } else if (counted) {
        unsigned long m = (unsigned long)(max < 0 ? min : max);
        if (m > 0 && m * prod > RX_MAX_REPEAT)
            return rx_fail(p, "invalid repeat count", start, j);
        if (m > 0)
            prod *= (unsigned)m;
    }
    if (p->last == LAST_ASSERT) {
        pvm_strbuf_insert(&p->out, p->atom_out, "(");
        pvm_strbuf_puts(&p->out, ")");
    }
    if (counted) {
        char tmp[32];
        int k = max < 0 ? snprintf(tmp, sizeof(tmp), "{%ld,}", min)
                : max == min
                    ? snprintf(tmp, sizeof(tmp), "{%ld}", min)
                    : snprintf(tmp, sizeof(tmp), "{%ld,%ld}", min, max);
        pvm_strbuf_add(&p->out, tmp, (size_t)k);
    } else {
        pvm_strbuf_add(&p->out, p->s + start, 1);
    }
    if (lazy)
        pvm_strbuf_puts(&p->out, "?");
    if (prod > p->prods[p->depth])
        p->prods[p->depth] = prod;
    p->last = LAST_REPEAT;
    p->rep_pos = start;
    p->i = j;
    return 0;
}

/* Opens a group (the caller emitted its PCRE2 opening text). */
static int push_group(rx_parse *p)
{
    if (p->depth + 1 > RX_MAX_DEPTH)
        return rx_fail(p, "expression nests too deeply", 0, 0);
    p->prods[++p->depth] = 1;
    if (p->depth > p->max_depth)
        p->max_depth = p->depth;
    p->last = LAST_NONE;
    return 0;
}

/* (?P<name>, (?<name>, (?flags) or (?flags: at p->i. */
static int rx_perl_group(rx_parse *p)
{
    const char *t = p->s + p->i;
    size_t rem = p->n - p->i;
    bool with_p = rem > 4 && t[2] == 'P' && t[3] == '<';
    if (with_p || (rem > 3 && t[2] == '<')) {
        size_t name_at = with_p ? 4 : 3;
        const char *gt = memchr(t, '>', rem);
        if (!gt)
            return rx_fail(p, "invalid named capture", p->i, p->n);
        size_t end = (size_t)(gt - t);
        bool ok = end > name_at;
        for (size_t k = name_at; k < end; k++)
            ok = ok && is_word_char(t[k]);
        if (!ok)
            return rx_fail(p, "invalid named capture", p->i, p->i + end + 1);
        pvm_strbuf_puts(&p->out, "(");
        p->names[++p->ngroups] = pvm_arena_strndup(p->out.arena, t + name_at,
                                                   end - name_at);
        if (!p->names[p->ngroups])
            p->out.failed = true;
        p->i += end + 1;
        return push_group(p);
    }
    size_t j = 2;
    bool neg = false, saw = false;
    while (j < rem) {
        char c = t[j];
        uint32_t cp;
        j += pvm_utf8_decode(t + j, rem - j, &cp);
        if (c == 'i' || c == 'm' || c == 's' || c == 'U') {
            saw = true;
        } else if (c == '-' && !neg) {
            neg = true;
            saw = false;
        } else if ((c == ':' || c == ')') && (!neg || saw)) {
            bool flags = j > 3;
            if (c == ':' || flags) {
                pvm_strbuf_puts(&p->out, "(?");
                pvm_strbuf_add(&p->out, t + 2, j - 3);
                pvm_strbuf_add(&p->out, c == ':' ? ":" : ")", 1);
            }
            p->i += j;
            if (c == ':')
                return push_group(p);
            if (p->last != LAST_NONE)
                p->last = LAST_FLAGS;
            return 0;
        } else {
            break;
        }
    }
    return rx_fail(p, "invalid or unsupported Perl syntax", p->i, p->i + j);
}

static int rx_close(rx_parse *p)
{
    if (p->depth == 0)
        return rx_fail(p, "unexpected )", 0, 0);
    unsigned prod = p->prods[p->depth--];
    if (prod > p->prods[p->depth])
        p->prods[p->depth] = prod;
    pvm_strbuf_puts(&p->out, ")");
    p->last = LAST_ITEM;
    p->atom_prod = prod;
    p->i++;
    return 0;
}

/* Canonical form of a Unicode class name for comparison: lower case,
 * without '_', '-' and ' '. */
static bool uname_is(const char *name, size_t n, const char *want)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (c == '_' || c == '-' || c == ' ')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (want[k] != c)
            return false;
        k++;
    }
    return want[k] == '\0';
}

/* True when PCRE2 knows \p{name} (name is [A-Za-z0-9_ -]+). */
static bool uname_known(const char *name, size_t n)
{
    char pat[80];
    if (n == 0 || n > 60)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_word_char(name[i]) && name[i] != ' ' && name[i] != '-')
            return false;
    int k = snprintf(pat, sizeof(pat), "\\p{%.*s}", (int)n, name);
    int errcode;
    PCRE2_SIZE erroff;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, (PCRE2_SIZE)k, PCRE2_UTF,
                                  &errcode, &erroff, NULL);
    pcre2_code_free(c);
    return c != NULL;
}

/* \pX, \p{Name}, \PX, \P{^Name} at p->i; emits a PCRE2 class item (bare
 * inside a class, bracketed outside). */
static int rx_unicode(rx_parse *p, bool in_class)
{
    size_t start = p->i, j = p->i + 2;
    bool neg = p->s[start + 1] == 'P';
    const char *name;
    size_t nlen, end;
    if (j >= p->n)
        return rx_fail(p, "invalid character class range", start, j);
    if (p->s[j] != '{') {
        uint32_t cp;
        size_t w = pvm_utf8_decode(p->s + j, p->n - j, &cp);
        name = p->s + j;
        nlen = w;
        end = j + w;
    } else {
        const char *cb = memchr(p->s + j, '}', p->n - j);
        if (!cb)
            return rx_fail(p, "invalid character class range", start, p->n);
        name = p->s + j + 1;
        nlen = (size_t)(cb - name);
        end = (size_t)(cb - p->s) + 1;
    }
    if (nlen > 0 && name[0] == '^') {
        neg = !neg;
        name++;
        nlen--;
    }
    const char *emit = NULL;
    if (uname_is(name, nlen, "ascii")) {
        emit = neg ? "\\x{80}-\\x{10ffff}" : "\\x{0}-\\x{7f}";
    } else if (uname_is(name, nlen, "assigned")) {
        emit = neg ? "\\p{Cn}" : "\\P{Cn}";
    } else if (uname_is(name, nlen, "lc")) {
        emit = neg ? "\\P{L&}" : "\\p{L&}";
    } else if (!uname_known(name, nlen)) {
        return rx_fail(p, "invalid character class range", start, end);
    }
    if (!in_class)
        pvm_strbuf_puts(&p->out, "[");
    if (emit) {
        pvm_strbuf_puts(&p->out, emit);
    } else {
        pvm_strbuf_puts(&p->out, neg ? "\\P{" : "\\p{");
        pvm_strbuf_add(&p->out, name, nlen);
        pvm_strbuf_puts(&p->out, "}");
    }
    if (!in_class)
        pvm_strbuf_puts(&p->out, "]");
    p->i = end;
    return 0;
}

/* Emits the Perl class \d \D \w \W \s \S (Go's ASCII definitions; PCRE2's
 * \s would also match \v). */
static void emit_perl_class(rx_parse *p, char c, bool in_class)
{
    static const char *const in[] = {
        "\\d",
        "\\D",
        "\\w",
        "\\W",
        "\\t\\n\\f\\r\\x{20}",
        "\\x{0}-\\x{8}\\x{b}\\x{e}-\\x{1f}\\x{21}-\\x{10ffff}"};
    static const char *const out[] = {"\\d",
                                      "\\D",
                                      "\\w",
                                      "\\W",
                                      "[\\t\\n\\f\\r\\x{20}]",
                                      "[^\\t\\n\\f\\r\\x{20}]"};
    const char *letters = "dDwWsS";
    size_t k = (size_t)(strchr(letters, c) - letters);
    pvm_strbuf_puts(&p->out, in_class ? in[k] : out[k]);
}

/* Appends lo-hi to a class, skipping surrogates (which never match).
 * Returns 1 when something was emitted. */
static int emit_range(pvm_strbuf *b, uint32_t lo, uint32_t hi)
{
    if (lo >= 0xD800 && lo <= 0xDFFF)
        lo = 0xE000;
    if (hi >= 0xD800 && hi <= 0xDFFF)
        hi = 0xD7FF;
    if (lo > hi)
        return 0;
    buf_rune(b, lo);
    if (hi != lo) {
        pvm_strbuf_puts(b, "-");
        buf_rune(b, hi);
    }
    return 1;
}

/* [:name:] inside a class at p->i; *done false when it is not one. */
static int rx_posix_class(rx_parse *p, bool *done)
{
    static const char *const names[] = {"alnum", "alpha", "ascii", "blank",
                                        "cntrl", "digit", "graph", "lower",
                                        "print", "punct", "space", "upper",
                                        "word",  "xdigit"};
    const char *t = p->s + p->i + 2;
    size_t rem = p->n - p->i - 2;
    *done = false;
    for (size_t k = 0; k + 1 < rem; k++) {
        if (t[k] != ':' || t[k + 1] != ']')
            continue;
        const char *name = t[0] == '^' ? t + 1 : t;
        size_t nlen = (size_t)(t + k - name);
        for (size_t m = 0; m < sizeof(names) / sizeof(names[0]); m++) {
            if (strlen(names[m]) == nlen &&
                memcmp(names[m], name, nlen) == 0) {
                pvm_strbuf_add(&p->out, p->s + p->i, k + 4);
                p->i += k + 4;
                *done = true;
                return 0;
            }
        }
        return rx_fail(p, "invalid character class range", p->i, p->i + k + 4);
    }
    return 0;
}

/* One class member at p->i: a character or an escape; fills *r. */
static int rx_class_char(rx_parse *p, size_t start, uint32_t *r)
{
    if (p->i >= p->n)
        return rx_fail(p, "missing closing ]", start, p->n);
    if (p->s[p->i] == '\\')
        return rx_escape_rune(p, &p->i, r);
    size_t w = pvm_utf8_decode(p->s + p->i, p->n - p->i, r);
    p->i += w;
    return 0;
}

/* One item of a class at p->i (not the closing ]); *items counts
 * emitted members. */
static int rx_class_item(rx_parse *p, size_t start, int *items)
{
    const char *t = p->s + p->i;
    size_t rem = p->n - p->i;
    if (rem > 2 && t[0] == '[' && t[1] == ':') {
        bool done;
        if (rx_posix_class(p, &done) < 0)
            return -1;
        if (done) {
            (*items)++;
            return 0;
        }
    }
    if (rem >= 2 && t[0] == '\\' && (t[1] == 'p' || t[1] == 'P')) {
        (*items)++;
        return rx_unicode(p, true);
    }
    if (rem >= 2 && t[0] == '\\' && t[1] && strchr("dDwWsS", t[1])) {
        emit_perl_class(p, t[1], true);
        p->i += 2;
        (*items)++;
        return 0;
    }
    size_t rng = p->i;
    uint32_t lo, hi;
    if (rx_class_char(p, start, &lo) < 0)
        return -1;
    hi = lo;
    if (p->i + 1 < p->n && p->s[p->i] == '-' && p->s[p->i + 1] != ']') {
        p->i++;
        if (rx_class_char(p, start, &hi) < 0)
            return -1;
        if (hi < lo)
            return rx_fail(p, "invalid character class range", rng, p->i);
    }
    *items += emit_range(&p->out, lo, hi);
    return 0;
}

/* A bracketed class at p->i. */
static int rx_class(rx_parse *p)
{
    size_t start = p->i;
    p->i++;
    bool neg = p->i < p->n && p->s[p->i] == '^';
    if (neg)
        p->i++;
    begin_atom(p, LAST_ITEM);
    size_t out_start = p->out.len;
    pvm_strbuf_puts(&p->out, neg ? "[^" : "[");
    int items = 0;
    bool first = true;
    while (p->i >= p->n || p->s[p->i] != ']' || first) {
        if (p->i >= p->n)
            return rx_fail(p, "missing closing ]", start, p->n);
        first = false;
        if (rx_class_item(p, start, &items) < 0)
            return -1;
    }
    p->i++;
    if (items == 0) {
        /* Only surrogates: nothing (or, negated, anything) matches. */
        p->out.len = out_start;
        p->out.buf[out_start] = '\0';
        pvm_strbuf_puts(&p->out, neg ? RX_ANY : RX_NEVER);
    } else {
        pvm_strbuf_puts(&p->out, "]");
    }
    return 0;
}

/* Go's parseEscape at s[*j] == '\\': a single character escape. */
static int rx_escape_rune(rx_parse *p, size_t *j, uint32_t *r)
{
    size_t start = *j, k = *j + 1;
    if (k >= p->n)
        return rx_fail(p, "trailing backslash at end of expression", 0, 0);
    uint32_t c;
    k += pvm_utf8_decode(p->s + k, p->n - k, &c);
    const char *simple = strchr("a\af\fn\nr\rt\tv\v", (int)c);
    if (c < 0x80 && (c == '_' || !is_word_char((char)c))) {
        *r = c;
    } else if (c >= '0' && c <= '7' &&
               (c == '0' || (k < p->n && p->s[k] >= '0' && p->s[k] <= '7'))) {
        *r = c - '0';
        for (int d = 1; d < 3 && k < p->n && p->s[k] >= '0' && p->s[k] <= '7';
             d++)
            *r = *r * 8 + (uint32_t)(p->s[k++] - '0');
    } else if (c == 'x') {
        int nhex = 0;
        bool brace = k < p->n && p->s[k] == '{';
        uint32_t v = 0;
        if (brace)
            k++;
        while (k < p->n && (brace || nhex < 2)) {
            char h = p->s[k++];
            if (brace && h == '}' && nhex > 0)
                break;
            int d = (h >= '0' && h <= '9')   ? h - '0'
                    : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                    : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                             : -1;
            if (d < 0 || (v = v * 16 + (uint32_t)d) > 0x10FFFF)
                return rx_fail(p, "invalid escape sequence", start, k);
            nhex++;
            if (brace && k >= p->n)
                return rx_fail(p, "invalid escape sequence", start, k);
        }
        if (nhex == 0 || (!brace && nhex < 2))
            return rx_fail(p, "invalid escape sequence", start, k);
        *r = v;
    } else if (c && c < 0x80 && simple && simple[1]) {
        *r = (uint32_t)(unsigned char)simple[1];
    } else {
        return rx_fail(p, "invalid escape sequence", start, k);
    }
    *j = k;
    return 0;
}

/* An escape outside a class at p->i. */
static int rx_escape(rx_parse *p)
{
    size_t start = p->i;
    char c = start + 1 < p->n ? p->s[start + 1] : '\0';
    const char *assert = c == 'A'   ? "\\A"
                         : c == 'z' ? "\\z"
                         : c == 'b' ? "\\b"
                         : c == 'B' ? "\\B"
                                    : NULL;
    if (assert) {
        begin_atom(p, LAST_ASSERT);
        pvm_strbuf_puts(&p->out, assert);
        p->i += 2;
        return 0;
    }
    if (c == 'C')
        return rx_fail(p, "invalid escape sequence", start, start + 2);
    if (c == 'Q') {
        size_t k = start + 2, end = p->n, next = p->n;
        for (size_t m = k; m + 1 < p->n; m++)
            if (p->s[m] == '\\' && p->s[m + 1] == 'E') {
                end = m;
                next = m + 2;
                break;
            }
        while (k < end) {
            uint32_t cp;
            k += pvm_utf8_decode(p->s + k, end - k, &cp);
            begin_atom(p, LAST_ITEM);
            buf_rune(&p->out, cp);
        }
        p->i = next;
        return 0;
    }
    begin_atom(p, LAST_ITEM);
    if (c == 'p' || c == 'P')
        return rx_unicode(p, false);
    if (c && strchr("dDwWsS", c)) {
        emit_perl_class(p, c, false);
        p->i += 2;
        return 0;
    }
    uint32_t r;
    if (rx_escape_rune(p, &p->i, &r) < 0)
        return -1;
    if (r >= 0xD800 && r <= 0xDFFF)
        pvm_strbuf_puts(&p->out, RX_NEVER);
    else
        buf_rune(&p->out, r);
    return 0;
}

/* Translates p->s into p->out.buf. Returns 0, or -1 with p->code set. */
static int rx_translate(rx_parse *p)
{
    int rc = 0;
    while (rc == 0 && p->i < p->n) {
        char c = p->s[p->i];
        switch (c) {
        case '(':
            if (p->i + 1 < p->n && p->s[p->i + 1] == '?') {
                rc = rx_perl_group(p);
            } else {
                pvm_strbuf_puts(&p->out, "(");
                p->names[++p->ngroups] = NULL;
                p->i++;
                rc = push_group(p);
            }
            break;
        case ')': rc = rx_close(p); break;
        case '|':
            pvm_strbuf_puts(&p->out, "|");
            p->last = LAST_NONE;
            p->i++;
            break;
        case '^':
        case '$':
        case '.':
            begin_atom(p, c == '.' ? LAST_ITEM : LAST_ASSERT);
            pvm_strbuf_add(&p->out, &c, 1);
            p->i++;
            break;
        case '[': rc = rx_class(p); break;
        case '*':
        case '+':
        case '?':
        case '{': rc = rx_repeat(p); break;
        case '\\': rc = rx_escape(p); break;
        default: {
            uint32_t cp;
            p->i += pvm_utf8_decode(p->s + p->i, p->n - p->i, &cp);
            begin_atom(p, LAST_ITEM);
            buf_rune(&p->out, cp);
        }
        }
    }
    if (rc == 0 && p->depth > 0)
        return rx_fail(p, "missing closing )", 0, 0);
    return rc;
}

int pvm_re2pcre_translate(pvm_arena *a, const char *pat, size_t n,
                          pvm_re2pcre *out)
{
    memset(out, 0, sizeof(*out));
    size_t parens = 0;
    for (size_t i = 0; i < n; i++)
        parens += pat[i] == '(';
    rx_parse p = {.s = pat, .n = n};
    pvm_strbuf_init(&p.out, a);
    pvm_strbuf_add(&p.out, "", 0); /* a buffer even for "" */
    p.prods = pvm_arena_calloc(a, RX_MAX_DEPTH + 1, sizeof(*p.prods));
    p.names = pvm_arena_calloc(a, parens + 1, sizeof(*p.names));
    if (!p.prods || !p.names)
        return PVM_ERR_NOMEM;
    p.prods[0] = 1;
    int rc = rx_translate(&p);
    if (p.out.failed)
        return PVM_ERR_NOMEM;
    if (rc < 0) {
        out->reason = p.code;
        out->err_at = p.epos;
        out->err_end = p.eend;
        return PVM_ERR_BAD_DATA;
    }
    out->pcre = p.out.buf;
    out->len = p.out.len;
    out->max_depth = p.max_depth;
    out->ngroups = p.ngroups;
    out->names = p.ngroups ? p.names : NULL;
    return 0;
}
