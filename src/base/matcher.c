/* matcher.c: label matchers (=, !=, =~, !~) with Prometheus semantics.
 * A regex is parsed with Go's RE2 syntax rules and rewritten into an
 * equivalent PCRE2 pattern (so PCRE2-only syntax never reaches PCRE2), then
 * compiled anchored at both ends, with JIT and a match limit. Common shapes
 * (literals, literal alternations, .*, .+, prefix/suffix/contains) skip the
 * regex engine. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "matcher.h"

#define RX_MAX_REPEAT 1000       /* largest {n,m} count, and nested product */
#define RX_MAX_DEPTH 1000        /* deepest group nesting (Go's maxHeight) */
#define RX_MATCH_LIMIT 5000000u  /* backtracking steps per match */
#define RX_DEPTH_LIMIT 1000000u  /* backtracking depth (interpreter only) */
#define RX_JIT_STACK_MIN (32 * 1024)
#define RX_JIT_STACK_MAX (1024 * 1024)
#define RX_JIT_MAX_DEPTH 200     /* PCRE2's JIT compiler recurses per group */
#define RX_MSG_PATTERN 256       /* pattern bytes quoted in messages */

/* Text that never matches / matches any one character. */
#define RX_NEVER "[^\\x{0}-\\x{10ffff}]"
#define RX_ANY "[\\x{0}-\\x{10ffff}]"

enum rx_kind {
    RX_REGEX,     /* run PCRE2 */
    RX_ANYTHING,  /* .* */
    RX_NONEMPTY,  /* .+ */
    RX_LITERALS,  /* a|b|c: equal to one of lits */
    RX_PREFIX,    /* lit.* */
    RX_SUFFIX,    /* .*lit */
    RX_CONTAINS,  /* .*lit.* */
};

/* Compiled state of a =~ or !~ matcher (pvm_matcher.impl). */
typedef struct rx_impl {
    enum rx_kind kind;           /* how to match */
    const char **lits;           /* literals of RX_LITERALS, or the one
                                    literal of prefix/suffix/contains */
    size_t *lit_lens;            /* their lengths */
    size_t nlits;                /* number of literals */
    pcre2_code *code;            /* compiled pattern (RX_REGEX) */
    pcre2_match_data *md;        /* match data, created once */
    pcre2_match_context *mctx;   /* match/depth limits, JIT stack */
    pcre2_jit_stack *jit_stack;  /* JIT stack, NULL without JIT */
    pvm_arena *arena;            /* owner, for the scratch buffer */
    char *scratch;               /* subject with invalid UTF-8 repaired */
    size_t scratch_cap;          /* bytes available in scratch */
    bool matches_empty;          /* the regex accepts "" */
} rx_impl;

/* Growing output buffer of the translated pattern, in the arena. */
typedef struct rx_buf {
    pvm_arena *a;  /* where the buffer lives */
    char *p;       /* NUL-terminated text */
    size_t len;    /* bytes used */
    size_t cap;    /* bytes allocated */
    bool nomem;    /* an allocation failed */
} rx_buf;

enum rx_last {
    LAST_NONE,    /* start, after ( or |: nothing to repeat */
    LAST_ITEM,    /* a character, class or group */
    LAST_ASSERT,  /* ^ $ \A \z \b \B: wrapped in (?:) when repeated */
    LAST_REPEAT,  /* a repetition: another one is an error */
    LAST_FLAGS,   /* (?i): Go repeats what came before; we refuse */
};

/* RE2-syntax parser state. */
typedef struct rx_parse {
    const char *s;       /* pattern */
    size_t n;            /* its length */
    size_t i;            /* read position */
    rx_buf out;          /* translated pattern */
    unsigned *prods;     /* per nesting level: largest repeat product */
    size_t depth;        /* open groups */
    size_t max_depth;    /* deepest nesting seen */
    enum rx_last last;   /* what precedes the read position */
    size_t atom_out;     /* output offset where the last atom starts */
    unsigned atom_prod;  /* repeat product inside the last atom */
    size_t rep_pos;      /* pattern offset of the last repetition */
    const char *code;    /* error: Go's error code text */
    size_t epos;         /* error: fragment start */
    size_t eend;         /* error: fragment end (epos == eend: none) */
} rx_parse;

static int rx_escape_rune(rx_parse *p, size_t *j, uint32_t *r);

/* ---- UTF-8 ---------------------------------------------------------- */

/* Decodes one code point of s (n > 0 bytes) as Go does. Returns its width,
 * or 0 for an invalid sequence (overlong, surrogate, > U+10FFFF, cut). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
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

/* Offset of the first invalid UTF-8 byte of s, or n when valid. */
static size_t utf8_invalid_at(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t w = utf8_decode(u + i, n - i, &cp);
        if (w == 0)
            return i;
        i += w;
    }
    return n;
}

/* ---- output buffer --------------------------------------------------- */

static bool buf_reserve(rx_buf *b, size_t more)
{
    if (b->nomem)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t ncap = b->cap ? b->cap * 2 : 256;
    while (ncap < b->len + more + 1)
        ncap *= 2;
    char *q = pvm_arena_realloc(b->a, b->p, b->cap, ncap);
    if (!q) {
        b->nomem = true;
        return false;
    }
    b->p = q;
    b->cap = ncap;
    return true;
}

static void buf_put(rx_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_puts(rx_buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

/* Inserts s at offset at (<= len). */
static void buf_insert(rx_buf *b, size_t at, const char *s)
{
    size_t n = strlen(s);
    if (!buf_reserve(b, n))
        return;
    memmove(b->p + at + n, b->p + at, b->len - at + 1);
    memcpy(b->p + at, s, n);
    b->len += n;
}

/* Appends code point c as a literal, safe inside and outside classes. */
static void buf_rune(rx_buf *b, uint32_t c)
{
    char tmp[16];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z')) {
        tmp[0] = (char)c;
        buf_put(b, tmp, 1);
    } else if (c > 0x20 && c < 0x7F) {
        tmp[0] = '\\';
        tmp[1] = (char)c;
        buf_put(b, tmp, 2);
    } else {
        int k = snprintf(tmp, sizeof(tmp), "\\x{%x}", (unsigned)c);
        buf_put(b, tmp, (size_t)k);
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
        return rx_fail(p, "invalid nested repetition operator", p->rep_pos,
                       j);
    if (p->last == LAST_NONE || p->last == LAST_FLAGS)
        return rx_fail(p, "missing argument to repetition operator", start,
                       j);
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
        buf_insert(&p->out, p->atom_out, "(");
        buf_puts(&p->out, ")");
    }
    if (counted) {
        char tmp[32];
        int k = max < 0    ? snprintf(tmp, sizeof(tmp), "{%ld,}", min)
                : max == min ? snprintf(tmp, sizeof(tmp), "{%ld}", min)
                           : snprintf(tmp, sizeof(tmp), "{%ld,%ld}", min, max);
        buf_put(&p->out, tmp, (size_t)k);
    } else {
        buf_put(&p->out, p->s + start, 1);
    }
    if (lazy)
        buf_puts(&p->out, "?");
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
        buf_puts(&p->out, "(");
        p->i += end + 1;
        return push_group(p);
    }
    size_t j = 2;
    bool neg = false, saw = false;
    while (j < rem) {
        char c = t[j];
        uint32_t cp;
        j += utf8_decode((const unsigned char *)t + j, rem - j, &cp);
        if (c == 'i' || c == 'm' || c == 's' || c == 'U') {
            saw = true;
        } else if (c == '-' && !neg) {
            neg = true;
            saw = false;
        } else if ((c == ':' || c == ')') && (!neg || saw)) {
            bool flags = j > 3;
            if (c == ':' || flags) {
                buf_puts(&p->out, "(?");
                buf_put(&p->out, t + 2, j - 3);
                buf_put(&p->out, c == ':' ? ":" : ")", 1);
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
    buf_puts(&p->out, ")");
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
        size_t w = utf8_decode((const unsigned char *)p->s + j, p->n - j, &cp);
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
        buf_puts(&p->out, "[");
    if (emit) {
        buf_puts(&p->out, emit);
    } else {
        buf_puts(&p->out, neg ? "\\P{" : "\\p{");
        buf_put(&p->out, name, nlen);
        buf_puts(&p->out, "}");
    }
    if (!in_class)
        buf_puts(&p->out, "]");
    p->i = end;
    return 0;
}

/* Emits the Perl class \d \D \w \W \s \S (Go's ASCII definitions; PCRE2's
 * \s would also match \v). */
static void emit_perl_class(rx_parse *p, char c, bool in_class)
{
    static const char *const in[] = {
        "\\d", "\\D", "\\w", "\\W", "\\t\\n\\f\\r\\x{20}",
        "\\x{0}-\\x{8}\\x{b}\\x{e}-\\x{1f}\\x{21}-\\x{10ffff}"};
    static const char *const out[] = {"\\d", "\\D", "\\w", "\\W",
                                      "[\\t\\n\\f\\r\\x{20}]",
                                      "[^\\t\\n\\f\\r\\x{20}]"};
    const char *letters = "dDwWsS";
    size_t k = (size_t)(strchr(letters, c) - letters);
    buf_puts(&p->out, in_class ? in[k] : out[k]);
}

/* Appends lo-hi to a class, skipping surrogates (which never match).
 * Returns 1 when something was emitted. */
static int emit_range(rx_buf *b, uint32_t lo, uint32_t hi)
{
    if (lo >= 0xD800 && lo <= 0xDFFF)
        lo = 0xE000;
    if (hi >= 0xD800 && hi <= 0xDFFF)
        hi = 0xD7FF;
    if (lo > hi)
        return 0;
    buf_rune(b, lo);
    if (hi != lo) {
        buf_puts(b, "-");
        buf_rune(b, hi);
    }
    return 1;
}

/* [:name:] inside a class at p->i; *done false when it is not one. */
static int rx_posix_class(rx_parse *p, bool *done)
{
    static const char *const names[] = {
        "alnum", "alpha", "ascii", "blank", "cntrl", "digit",  "graph",
        "lower", "print", "punct", "space", "upper", "word",   "xdigit"};
    const char *t = p->s + p->i + 2;
    size_t rem = p->n - p->i - 2;
    *done = false;
    for (size_t k = 0; k + 1 < rem; k++) {
        if (t[k] != ':' || t[k + 1] != ']')
            continue;
        const char *name = t[0] == '^' ? t + 1 : t;
        size_t nlen = (size_t)(t + k - name);
        for (size_t m = 0; m < sizeof(names) / sizeof(names[0]); m++) {
            if (strlen(names[m]) == nlen && memcmp(names[m], name, nlen) == 0) {
                buf_put(&p->out, p->s + p->i, k + 4);
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
    size_t w = utf8_decode((const unsigned char *)p->s + p->i, p->n - p->i, r);
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
    buf_puts(&p->out, neg ? "[^" : "[");
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
        buf_puts(&p->out, neg ? RX_ANY : RX_NEVER);
    } else {
        buf_puts(&p->out, "]");
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
    k += utf8_decode((const unsigned char *)p->s + k, p->n - k, &c);
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
        buf_puts(&p->out, assert);
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
            k += utf8_decode((const unsigned char *)p->s + k, end - k, &cp);
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
        buf_puts(&p->out, RX_NEVER);
    else
        buf_rune(&p->out, r);
    return 0;
}

/* Translates p->s into p->out.p. Returns 0, or -1 with p->code set. */
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
                buf_puts(&p->out, "(");
                p->i++;
                rc = push_group(p);
            }
            break;
        case ')':
            rc = rx_close(p);
            break;
        case '|':
            buf_puts(&p->out, "|");
            p->last = LAST_NONE;
            p->i++;
            break;
        case '^':
        case '$':
        case '.':
            begin_atom(p, c == '.' ? LAST_ITEM : LAST_ASSERT);
            buf_put(&p->out, &c, 1);
            p->i++;
            break;
        case '[':
            rc = rx_class(p);
            break;
        case '*':
        case '+':
        case '?':
        case '{':
            rc = rx_repeat(p);
            break;
        case '\\':
            rc = rx_escape(p);
            break;
        default: {
            uint32_t cp;
            p->i += utf8_decode((const unsigned char *)p->s + p->i,
                                p->n - p->i, &cp);
            begin_atom(p, LAST_ITEM);
            buf_rune(&p->out, cp);
        }
        }
    }
    if (rc == 0 && p->depth > 0)
        return rx_fail(p, "missing closing )", 0, 0);
    return rc;
}

/* ---- fast paths ------------------------------------------------------ */

static bool is_meta(char c)
{
    return c && strchr("\\.+*?()|[]{}^$", c) != NULL;
}

static bool has_meta(const char *s, size_t n, bool allow_bar)
{
    for (size_t i = 0; i < n; i++)
        if (is_meta(s[i]) && !(allow_bar && s[i] == '|'))
            return true;
    return false;
}

/* Recognises .*, .+, a|b|c, lit.*, .*lit, .*lit.* (pattern valid UTF-8). */
static bool rx_fast_path(rx_impl *x, pvm_arena *a, const char *s, size_t n)
{
    if (n == 2 && s[0] == '.' && (s[1] == '*' || s[1] == '+')) {
        x->kind = s[1] == '*' ? RX_ANYTHING : RX_NONEMPTY;
        return true;
    }
    bool dot_head = n >= 2 && s[0] == '.' && s[1] == '*';
    bool dot_tail = n >= 3 && s[n - 2] == '.' && s[n - 1] == '*' &&
                    s[n - 3] != '\\';
    if (dot_head && dot_tail && n < 4)
        return false;
    const char *lit = s + (dot_head ? 2 : 0);
    size_t llen = n - (dot_head ? 2 : 0) - (dot_tail ? 2 : 0);
    if (has_meta(lit, llen, !dot_head && !dot_tail))
        return false;
    size_t count = 1;
    for (size_t i = 0; i < llen; i++)
        count += lit[i] == '|';
    x->lits = pvm_arena_calloc(a, count, sizeof(*x->lits));
    x->lit_lens = pvm_arena_calloc(a, count, sizeof(*x->lit_lens));
    if (!x->lits || !x->lit_lens)
        return false;
    size_t from = 0;
    for (size_t i = 0; i <= llen; i++) {
        if (i == llen || lit[i] == '|') {
            x->lits[x->nlits] = lit + from;
            x->lit_lens[x->nlits++] = i - from;
            from = i + 1;
        }
    }
    x->kind = dot_head && dot_tail ? RX_CONTAINS
              : dot_head           ? RX_SUFFIX
              : dot_tail           ? RX_PREFIX
                                   : RX_LITERALS;
    return true;
}

static bool contains(const char *s, size_t n, const char *w, size_t m)
{
    if (m == 0)
        return true;
    for (const char *q = s; n >= m && (size_t)(q - s) <= n - m; q++) {
        q = memchr(q, w[0], n - m + 1 - (size_t)(q - s));
        if (!q)
            return false;
        if (memcmp(q, w, m) == 0)
            return true;
    }
    return false;
}

/* ---- compile and match ----------------------------------------------- */

static void rx_free(void *arg)
{
    rx_impl *x = arg;
    pcre2_match_data_free(x->md);
    pcre2_match_context_free(x->mctx);
    pcre2_jit_stack_free(x->jit_stack);
    pcre2_code_free(x->code);
}

/* Appends s to buf (size cap) with control bytes, quote and backslash
 * escaped, for messages; cut with "..." after RX_MSG_PATTERN bytes. */
static void quote_into(char *buf, size_t cap, const char *s, size_t n)
{
    size_t o = strlen(buf);
    if (n > RX_MSG_PATTERN && cap > o + 4) {
        quote_into(buf, cap - 4, s, RX_MSG_PATTERN);
        strcat(buf, "...");
        return;
    }
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F)
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        else if (c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, cap - o, "\\%c", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
}

static int rx_error(pvm_error *err, const char *pat, size_t n,
                    const char *reason, const char *frag, size_t flen)
{
    char msg[sizeof(err->msg)];
    strcpy(msg, "invalid regular expression \"");
    quote_into(msg, sizeof(msg), pat, n);
    size_t o = strlen(msg);
    snprintf(msg + o, sizeof(msg) - o, "\": %s", reason);
    if (frag && flen > 0) {
        o = strlen(msg);
        snprintf(msg + o, sizeof(msg) - o, ": `");
        quote_into(msg, sizeof(msg) - 1, frag, flen);
        o = strlen(msg);
        snprintf(msg + o, sizeof(msg) - o, "`");
    }
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "%s", msg);
}

/* Compiles the translated pattern. Subjects are validated (and repaired)
 * before matching, so PCRE2_MATCH_INVALID_UTF is not used: in PCRE2 10.42
 * its JIT code lets \W, \D and \S miss non-ASCII characters. */
static int rx_compile(rx_impl *x, const rx_parse *p, pvm_error *err)
{
    uint32_t opts = PCRE2_UTF | PCRE2_ANCHORED |
                    PCRE2_ENDANCHORED | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY |
                    PCRE2_ALT_CIRCUMFLEX | PCRE2_NEVER_UCP |
                    PCRE2_NEVER_BACKSLASH_C | PCRE2_NO_AUTO_CAPTURE;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!cc)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
    pcre2_set_parens_nest_limit(cc, RX_MAX_DEPTH + 100);
    int ec;
    PCRE2_SIZE eo;
    x->code = pcre2_compile((PCRE2_SPTR)p->out.p, p->out.len, opts, &ec, &eo,
                            cc);
    pcre2_compile_context_free(cc);
    if (!x->code) {
        PCRE2_UCHAR text[160];
        pcre2_get_error_message(ec, text, sizeof(text));
        return rx_error(err, p->s, p->n,
                        ec == PCRE2_ERROR_PATTERN_TOO_LARGE
                            ? "expression too large"
                            : (const char *)text,
                        NULL, 0);
    }
    x->md = pcre2_match_data_create(1, NULL);
    x->mctx = pcre2_match_context_create(NULL);
    if (!x->md || !x->mctx)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    pcre2_set_match_limit(x->mctx, RX_MATCH_LIMIT);
    pcre2_set_depth_limit(x->mctx, RX_DEPTH_LIMIT);
    if (p->max_depth <= RX_JIT_MAX_DEPTH &&
        pcre2_jit_compile(x->code, PCRE2_JIT_COMPLETE) == 0) {
        x->jit_stack =
            pcre2_jit_stack_create(RX_JIT_STACK_MIN, RX_JIT_STACK_MAX, NULL);
        if (x->jit_stack)
            pcre2_jit_stack_assign(x->mctx, NULL, x->jit_stack);
    }
    return 0;
}

/* Copies s into the scratch buffer with each invalid byte replaced by
 * U+FFFD, as Go's regexp sees it. Returns the new length or SIZE_MAX. */
static size_t rx_repair(rx_impl *x, const char *s, size_t n)
{
    if (n > SIZE_MAX / 3)
        return SIZE_MAX;
    if (x->scratch_cap < 3 * n) {
        size_t cap = 3 * n > 2 * x->scratch_cap ? 3 * n : 2 * x->scratch_cap;
        x->scratch = pvm_arena_alloc(x->arena, cap);
        x->scratch_cap = x->scratch ? cap : 0;
        if (!x->scratch)
            return SIZE_MAX;
    }
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t w = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (w == 0) {
            memcpy(x->scratch + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(x->scratch + o, s + i, w);
            o += w;
            i += w;
        }
    }
    return o;
}

static int rx_run(rx_impl *x, const char *s, size_t n)
{
    if (utf8_invalid_at(s, n) != n) {
        size_t len = rx_repair(x, s, n);
        if (len == SIZE_MAX)
            return PVM_ERR_NOMEM;
        s = x->scratch;
        n = len;
    }
    PCRE2_SPTR subj = (PCRE2_SPTR)(n ? s : "");
    uint32_t opts = PCRE2_NO_UTF_CHECK;
    int rc = pcre2_match(x->code, subj, n, 0, opts, x->md, x->mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(x->code, subj, n, 0, opts | PCRE2_NO_JIT, x->md,
                         x->mctx);
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return PVM_ERR_EXECUTION;
}

static int rx_match(rx_impl *x, const char *s, size_t n)
{
    size_t m = x->nlits ? x->lit_lens[0] : 0;
    switch (x->kind) {
    case RX_ANYTHING:
        return 1;
    case RX_NONEMPTY:
        return n > 0;
    case RX_LITERALS:
        for (size_t i = 0; i < x->nlits; i++)
            if (x->lit_lens[i] == n && (n == 0 || !memcmp(x->lits[i], s, n)))
                return 1;
        return 0;
    case RX_PREFIX:
        return n >= m && (m == 0 || !memcmp(s, x->lits[0], m));
    case RX_SUFFIX:
        return n >= m && (m == 0 || !memcmp(s + n - m, x->lits[0], m));
    case RX_CONTAINS:
        return contains(s, n, x->lits[0], m);
    case RX_REGEX:
        break;
    }
    return rx_run(x, s, n);
}

/* Checks and compiles the regex of m (value already copied). */
static int rx_init(pvm_matcher *m, pvm_arena *a, pvm_error *err)
{
    const char *pat = m->value;
    size_t n = m->value_len;
    rx_impl *x = pvm_arena_calloc(a, 1, sizeof(*x));
    if (!x || pvm_arena_on_cleanup(a, rx_free, x) < 0)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    x->arena = a;
    size_t bad = utf8_invalid_at(pat, n);
    if (bad != n)
        return rx_error(err, pat, n, "invalid UTF-8", pat + bad, n - bad);
    if (!rx_fast_path(x, a, pat, n)) {
        rx_parse p = {.s = pat, .n = n, .out = {.a = a}};
        p.prods = pvm_arena_calloc(a, RX_MAX_DEPTH + 1, sizeof(*p.prods));
        if (!p.prods)
            return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        p.prods[0] = 1;
        buf_reserve(&p.out, n * 2);
        int rc = rx_translate(&p);
        if (p.out.nomem)
            return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        if (rc < 0)
            return rx_error(err, pat, n, p.code, pat + p.epos,
                            p.eend - p.epos);
        x->kind = RX_REGEX;
        if ((rc = rx_compile(x, &p, err)) < 0)
            return rc;
    }
    m->impl = x;
    int r = rx_match(x, "", 0);
    x->matches_empty = r == 1;
    return 0;
}

int pvm_matcher_init(pvm_matcher *m, pvm_arena *a, pvm_match_op op,
                     const char *name, size_t name_len, const char *value,
                     size_t value_len, pvm_error *err)
{
    memset(m, 0, sizeof(*m));
    m->op = op;
    m->name = pvm_arena_strndup(a, name, name_len);
    m->value = pvm_arena_strndup(a, value, value_len);
    m->value_len = value_len;
    if (!m->name || !m->value)
        return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
    if (op == PVM_MATCH_REGEX || op == PVM_MATCH_NOT_REGEX)
        return rx_init(m, a, err);
    return 0;
}

int pvm_matcher_match(const pvm_matcher *m, const char *s, size_t len)
{
    bool eq;
    switch (m->op) {
    case PVM_MATCH_EQUAL:
    case PVM_MATCH_NOT_EQUAL:
        eq = len == m->value_len && (len == 0 || !memcmp(s, m->value, len));
        return m->op == PVM_MATCH_EQUAL ? eq : !eq;
    case PVM_MATCH_REGEX:
    case PVM_MATCH_NOT_REGEX:
        break;
    }
    if (!m->impl)
        return PVM_ERR_INTERNAL;
    int r = rx_match(m->impl, s, len);
    if (r < 0)
        return r;
    return m->op == PVM_MATCH_REGEX ? r : !r;
}

bool pvm_matcher_matches_empty(const pvm_matcher *m)
{
    switch (m->op) {
    case PVM_MATCH_EQUAL:
        return m->value_len == 0;
    case PVM_MATCH_NOT_EQUAL:
        return m->value_len != 0;
    case PVM_MATCH_REGEX:
        return m->impl && ((const rx_impl *)m->impl)->matches_empty;
    case PVM_MATCH_NOT_REGEX:
        return m->impl && !((const rx_impl *)m->impl)->matches_empty;
    }
    return false;
}

const char *pvm_match_op_str(pvm_match_op op)
{
    switch (op) {
    case PVM_MATCH_EQUAL:
        return "=";
    case PVM_MATCH_NOT_EQUAL:
        return "!=";
    case PVM_MATCH_REGEX:
        return "=~";
    case PVM_MATCH_NOT_REGEX:
        return "!~";
    }
    return "?";
}
