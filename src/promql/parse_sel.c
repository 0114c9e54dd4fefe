/* parse_sel.c: the parts of the PromQL grammar below expressions: vector
 * selectors and label matchers, range selectors and subqueries, offset and
 * @ modifiers, label lists, and number, duration and string literals. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "strbuf.h"

/* Largest duration in seconds (time.Duration is int64 nanoseconds). */
#define MAX_DURATION_SECONDS 9223372036.854775807

/* Growable matcher array. */
typedef struct matcher_vec {
    pvm_matcher *v; /* the matchers */
    size_t n;       /* used */
    size_t cap;     /* allocated */
} matcher_vec;

/* Appends a matcher built with pvm_matcher_init; errors at [pos, end). */
static bool add_matcher(pvm_parser *p, matcher_vec *mv, pvm_match_op op,
                        const char *name, size_t name_len, const char *value,
                        size_t value_len, size_t pos, size_t end)
{
    if (mv->n == mv->cap) {
        size_t ncap = mv->cap ? mv->cap * 2 : 4;
        pvm_matcher *nv = pvm_arena_realloc(p->a, mv->v, mv->cap * sizeof(*nv),
                                            ncap * sizeof(*nv));
        if (!nv)
            return pvm_parse_nomem(p) != NULL;
        mv->v = nv;
        mv->cap = ncap;
    }
    pvm_error err;
    pvm_error_clear(&err);
    int rc = pvm_matcher_init(&mv->v[mv->n], p->a, op, name, name_len, value,
                              value_len, &err);
    if (rc == PVM_ERR_NOMEM)
        return pvm_parse_nomem(p) != NULL;
    if (rc < 0)
        return pvm_parse_error(p, pos, end, "%s", err.msg) != NULL;
    mv->n++;
    return true;
}

/* The unquoted value of the current STRING token. */
static char *unquote_tok(pvm_parser *p, size_t *len)
{
    char *s = pvm_lex_unquote(p->a, p->lx.in + p->tok.pos, p->tok.len, len);
    if (!s)
        pvm_parse_nomem(p);
    return s;
}

static bool match_op_of(pvm_tok t, pvm_match_op *op)
{
    switch (t) {
    case PVM_T_EQL: *op = PVM_MATCH_EQUAL; return true;
    case PVM_T_NEQ: *op = PVM_MATCH_NOT_EQUAL; return true;
    case PVM_T_EQL_REGEX: *op = PVM_MATCH_REGEX; return true;
    case PVM_T_NEQ_REGEX: *op = PVM_MATCH_NOT_REGEX; return true;
    default: return false;
    }
}

/* One matcher: label op "value", or "quoted name" alone (a metric name).
 * The current token is an identifier or a string. */
static bool parse_matcher(pvm_parser *p, matcher_vec *mv)
{
    size_t pos = p->tok.pos, name_len;
    const char *name;
    bool quoted = p->tok.type == PVM_T_STRING;
    if (quoted) {
        if (!(name = unquote_tok(p, &name_len)))
            return false;
        if (memchr(name, '\0', name_len)) /* would be cut as a C string */
            return pvm_parse_error(p, pos, pos + p->tok.len,
                                   "invalid label name: contains a NUL "
                                   "byte") != NULL;
    } else {
        name = p->lx.in + p->tok.pos;
        name_len = p->tok.len;
    }
    pvm_parse_advance(p);
    pvm_match_op op;
    if (!match_op_of(p->tok.type, &op)) {
        if (quoted)
            return add_matcher(p, mv, PVM_MATCH_EQUAL, "__name__", 8, name,
                               name_len, pos, p->last_end);
        return pvm_parse_unexpected(p, "label matching",
                                    "label matching operator") != NULL;
    }
    pvm_parse_advance(p);
    if (p->tok.type != PVM_T_STRING)
        return pvm_parse_unexpected(p, "label matching", "string") != NULL;
    size_t value_len;
    const char *value = unquote_tok(p, &value_len);
    if (!value)
        return false;
    pvm_parse_advance(p);
    return add_matcher(p, mv, op, name, name_len, value, value_len, pos,
                       p->last_end);
}

/* "{" [matcher {"," matcher}] [","] "}"; the current token is "{". */
static bool parse_matchers(pvm_parser *p, matcher_vec *mv)
{
    pvm_parse_advance(p);
    if (pvm_parse_accept(p, PVM_T_RIGHT_BRACE))
        return !p->failed;
    for (;;) {
        if (p->tok.type != PVM_T_IDENTIFIER && p->tok.type != PVM_T_STRING)
            return pvm_parse_unexpected(p, "label matching",
                                        "identifier or \"}\"") != NULL;
        if (!parse_matcher(p, mv))
            return false;
        if (pvm_parse_accept(p, PVM_T_COMMA)) {
            if (pvm_parse_accept(p, PVM_T_RIGHT_BRACE))
                return !p->failed;
            continue;
        }
        if (pvm_parse_accept(p, PVM_T_RIGHT_BRACE))
            return !p->failed;
        return pvm_parse_unexpected(p, "label matching", "\",\" or \"}\"") !=
               NULL;
    }
}

pvm_expr *pvm_parse_vector_selector(pvm_parser *p)
{
    pvm_expr *e = pvm_parse_node(p, PVM_EXPR_VECTOR_SELECTOR, p->tok.pos, 0);
    if (!e)
        return NULL;
    pvm_vector_selector *vs = &e->u.vs;
    matcher_vec mv = {0};
    if (p->tok.type != PVM_T_LEFT_BRACE) {
        vs->name = pvm_arena_strndup(p->a, p->lx.in + p->tok.pos, p->tok.len);
        if (!vs->name)
            return pvm_parse_nomem(p);
        pvm_parse_advance(p);
    }
    if (p->tok.type == PVM_T_LEFT_BRACE && !parse_matchers(p, &mv))
        return NULL;
    e->end = p->last_end;
    if (vs->name && !add_matcher(p, &mv, PVM_MATCH_EQUAL, "__name__", 8,
                                 vs->name, strlen(vs->name), e->pos, e->end))
        return NULL;
    vs->matchers = mv.v;
    vs->nmatchers = mv.n;
    return p->failed ? NULL : e;
}

/* Appends Go's strconv error for a number text to the parser error. */
static bool number_error(pvm_parser *p, const pvm_token *t, const char *why)
{
    char q[300];
    pvm_strbuf sb;
    pvm_strbuf_init_fixed(&sb, q, sizeof(q));
    pvm_strbuf_quote(&sb, p->lx.in + t->pos, t->len, 0);
    pvm_parse_error(p, t->pos, t->pos + t->len,
                    "error parsing number: strconv.ParseFloat: parsing %s: "
                    "%s",
                    q, why);
    return false;
}

/* Octal value of an all-digit text with a leading 0, as Go's ParseInt
 * with base 0; false when it is not octal or overflows int64. */
static bool parse_octal(const char *s, double *out)
{
    uint64_t v = 0;
    for (const char *c = s + 1; *c; c++) {
        if (*c < '0' || *c > '7' || v > (UINT64_C(1) << 60))
            return false;
        v = v * 8 + (uint64_t)(*c - '0');
    }
    if (v > INT64_MAX)
        return false;
    *out = (double)v;
    return true;
}

bool pvm_parse_number_text(pvm_parser *p, const pvm_token *t, double *out)
{
    char small[64], *buf = small;
    const char *s = p->lx.in + t->pos;
    if (t->len == 3 && (strncasecmp(s, "inf", 3) == 0)) {
        *out = INFINITY;
        return true;
    }
    if (t->len == 3 && (strncasecmp(s, "nan", 3) == 0)) {
        *out = NAN;
        return true;
    }
    size_t n = 0;
    if (t->len >= sizeof(small) && !(buf = pvm_arena_alloc(p->a, t->len + 1)))
        return pvm_parse_nomem(p) != NULL;
    for (size_t i = 0; i < t->len; i++)
        if (s[i] != '_')
            buf[n++] = s[i];
    buf[n] = '\0';
    if (n >= 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
        errno = 0;
        char *end;
        unsigned long long v = strtoull(buf + 2, &end, 16);
        if (n == 2 || *end || errno || v > INT64_MAX)
            return number_error(p, t, "invalid syntax");
        *out = (double)v;
        return true;
    }
    if (n > 1 && buf[0] == '0' && strspn(buf, "0123456789") == n &&
        parse_octal(buf, out))
        return true;
    errno = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end)
        return number_error(p, t, "invalid syntax");
    if (isinf(v))
        return number_error(p, t, "value out of range");
    *out = v;
    return true;
}

/* Records model.ParseDuration's error for token t. */
static bool duration_error(pvm_parser *p, const pvm_token *t, const char *unit,
                           size_t unit_len)
{
    char q[300], u[100];
    pvm_strbuf sb;
    pvm_strbuf_init_fixed(&sb, q, sizeof(q));
    pvm_strbuf_quote(&sb, p->lx.in + t->pos, t->len, 0);
    if (!unit) {
        pvm_parse_error(p, t->pos, t->pos + t->len,
                        "not a valid duration string: %s", q);
        return false;
    }
    pvm_strbuf_init_fixed(&sb, u, sizeof(u));
    pvm_strbuf_quote(&sb, unit, unit_len, 0);
    pvm_parse_error(p, t->pos, t->pos + t->len,
                    "unknown unit %s in duration %s", u, q);
    return false;
}

/* Index of a duration unit (y w d h m s ms), or -1. */
static int unit_index(const char *u, size_t n)
{
    static const char *const names[] = {"y", "w", "d", "h", "m", "s", "ms"};
    for (int i = 0; i < 7; i++)
        if (strlen(names[i]) == n && memcmp(names[i], u, n) == 0)
            return i;
    return -1;
}

bool pvm_parse_duration_text(pvm_parser *p, const pvm_token *t, int64_t *ms)
{
    static const int64_t unit_ms[] = {
        365LL * 86400000, 7LL * 86400000, 86400000, 3600000, 60000, 1000, 1,
    };
    const int64_t max_ms = INT64_MAX / 1000000; /* int64 nanoseconds */
    const char *s = p->lx.in + t->pos, *end = s + t->len;
    int last = -1;
    int64_t total = 0;
    if (t->len == 1 && s[0] == '0') {
        *ms = 0;
        return true;
    }
    while (s < end) {
        const char *d = s;
        uint64_t v = 0;
        bool big = false;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
            big |= v > UINT64_MAX / 10 - 1;
            v = v * 10 + (uint64_t)(*s - '0');
        }
        const char *u = s;
        while (s < end && !(*s >= '0' && *s <= '9'))
            s++;
        if (s == d || u == d || u == s || big)
            return duration_error(p, t, NULL, 0);
        int idx = unit_index(u, (size_t)(s - u));
        if (idx < 0)
            return duration_error(p, t, u, (size_t)(s - u));
        if (idx <= last)
            return duration_error(p, t, NULL, 0);
        last = idx;
        if (v > (uint64_t)(max_ms / unit_ms[idx]) ||
            total + (int64_t)v * unit_ms[idx] > max_ms) {
            pvm_parse_error(p, t->pos, t->pos + t->len,
                            "duration out of range");
            return false;
        }
        total += (int64_t)v * unit_ms[idx];
    }
    *ms = total;
    return true;
}

pvm_expr *pvm_parse_number_literal(pvm_parser *p)
{
    pvm_expr *e = pvm_parse_node(p, PVM_EXPR_NUMBER, p->tok.pos,
                                 p->tok.pos + p->tok.len);
    if (!e)
        return NULL;
    if (p->tok.type == PVM_T_DURATION) {
        int64_t ms;
        if (!pvm_parse_duration_text(p, &p->tok, &ms))
            return NULL;
        e->u.number.value = (double)ms / 1000.0;
        e->u.number.is_duration = true;
    } else if (!pvm_parse_number_text(p, &p->tok, &e->u.number.value)) {
        return NULL;
    }
    pvm_parse_advance(p);
    return p->failed ? NULL : e;
}

pvm_expr *pvm_parse_string_literal(pvm_parser *p)
{
    pvm_expr *e = pvm_parse_node(p, PVM_EXPR_STRING, p->tok.pos,
                                 p->tok.pos + p->tok.len);
    if (!e)
        return NULL;
    if (!(e->u.string.value = unquote_tok(p, &e->u.string.len)))
        return NULL;
    pvm_parse_advance(p);
    return p->failed ? NULL : e;
}

static bool is_duration_expr_start(pvm_tok t)
{
    return t == PVM_T_STEP || t == PVM_T_RANGE || t == PVM_T_MAX_OF ||
           t == PVM_T_MIN_OF || t == PVM_T_LEFT_PAREN;
}

static bool is_arith(pvm_tok t)
{
    return t == PVM_T_ADD || t == PVM_T_SUB || t == PVM_T_MUL ||
           t == PVM_T_DIV || t == PVM_T_MOD || t == PVM_T_POW;
}

/* A signed number or duration where a duration is expected (range, step,
 * offset), in ms. positive: must be > 0 (ranges and steps). */
static bool parse_duration_arg(pvm_parser *p, bool positive,
                               const char *context, const char *expected,
                               int64_t *ms)
{
    size_t pos = p->tok.pos;
    bool neg = false, sign = false;
    if (p->tok.type == PVM_T_ADD || p->tok.type == PVM_T_SUB) {
        neg = p->tok.type == PVM_T_SUB;
        sign = true;
        pvm_parse_advance(p);
    }
    double val;
    if (p->tok.type == PVM_T_DURATION) {
        int64_t d;
        if (!pvm_parse_duration_text(p, &p->tok, &d))
            return false;
        val = (double)d / 1000.0;
    } else if (p->tok.type == PVM_T_NUMBER) {
        if (!pvm_parse_number_text(p, &p->tok, &val))
            return false;
    } else if (is_duration_expr_start(p->tok.type)) {
        if (p->tok.type != PVM_T_LEFT_PAREN &&
            pvm_parse_peek(p)->type != PVM_T_LEFT_PAREN) {
            pvm_parse_advance(p);
            return pvm_parse_unexpected(p, context, expected) != NULL;
        }
        return pvm_parse_error(p, p->tok.pos, p->tok.pos + p->tok.len,
                               "experimental duration expression is not "
                               "enabled") != NULL;
    } else {
        return pvm_parse_unexpected(p, context, expected) != NULL;
    }
    size_t end = p->tok.pos + p->tok.len;
    pvm_parse_advance(p);
    if (positive && is_arith(p->tok.type))
        return pvm_parse_error(p, p->tok.pos, p->tok.pos + p->tok.len,
                               "experimental duration expression is not "
                               "enabled") != NULL;
    if (neg)
        val = -val;
    if (isnan(val) || val > MAX_DURATION_SECONDS ||
        val < -MAX_DURATION_SECONDS)
        return pvm_parse_error(p, pos, sign ? pos + 1 : end,
                               "duration out of range") != NULL;
    *ms = llround(val * 1000.0);
    if (positive && *ms <= 0)
        return pvm_parse_error(p, pos, end,
                               "duration must be greater than 0") != NULL;
    return !p->failed;
}

/* After a duration inside brackets: duration arithmetic is experimental. */
static void *bracket_unexpected(pvm_parser *p, const char *context,
                                const char *expected)
{
    if (is_arith(p->tok.type))
        return pvm_parse_error(p, p->tok.pos, p->tok.pos + p->tok.len,
                               "experimental duration expression is not "
                               "enabled");
    return pvm_parse_unexpected(p, context, expected);
}

/* e[range] or e[range:step] / e[range:]; the current token is "[". */
static pvm_expr *parse_range(pvm_parser *p, pvm_expr *e)
{
    size_t lb = p->tok.pos;
    int64_t range, step = 0;
    pvm_parse_advance(p);
    if (!parse_duration_arg(p, true, "subquery or range selector",
                            "number, duration, step(), or range()", &range))
        return NULL;
    if (p->tok.type == PVM_T_RIGHT_BRACKET) {
        pvm_parse_advance(p);
        const char *msg = NULL;
        if (e->kind != PVM_EXPR_VECTOR_SELECTOR)
            msg = "ranges only allowed for vector selectors";
        else if (e->u.vs.offset_ms != 0)
            msg = "no offset modifiers allowed before range";
        else if (e->u.vs.at_kind != PVM_AT_NONE)
            msg = "no @ modifiers allowed before range";
        if (msg)
            return pvm_parse_error(p, lb, p->last_end, "%s", msg);
        pvm_expr *m = pvm_parse_node(p, PVM_EXPR_MATRIX_SELECTOR, e->pos,
                                     p->last_end);
        if (!m)
            return NULL;
        m->u.matrix.vs = e;
        m->u.matrix.range_ms = range;
        m->height = e->height + 1;
        return m;
    }
    if (p->tok.type != PVM_T_COLON)
        return bracket_unexpected(p, "subquery or range", "\":\" or \"]\"");
    pvm_parse_advance(p);
    if (p->tok.type != PVM_T_RIGHT_BRACKET) {
        if (!parse_duration_arg(p, true, "subquery selector",
                                "number, duration, step(), range(), or "
                                "\"]\"",
                                &step))
            return NULL;
        if (p->tok.type != PVM_T_RIGHT_BRACKET)
            return bracket_unexpected(p, "subquery selector", "\"]\"");
    }
    pvm_parse_advance(p);
    pvm_expr *s = pvm_parse_node(p, PVM_EXPR_SUBQUERY, e->pos, p->last_end);
    if (!s)
        return NULL;
    s->u.subquery.expr = e;
    s->u.subquery.range_ms = range;
    s->u.subquery.step_ms = step;
    s->height = e->height + 1;
    return p->failed ? NULL : s;
}

/* Where the offset and @ of e are stored; NULL for other nodes. */
static pvm_vector_selector *selector_of(pvm_expr *e)
{
    if (e->kind == PVM_EXPR_VECTOR_SELECTOR)
        return &e->u.vs;
    if (e->kind == PVM_EXPR_MATRIX_SELECTOR)
        return &e->u.matrix.vs->u.vs;
    return NULL;
}

/* e offset [+-]duration */
static bool parse_offset(pvm_parser *p, pvm_expr *e)
{
    int64_t ms;
    pvm_parse_advance(p);
    if (!parse_duration_arg(p, false, "offset",
                            "number, duration, step(), or range()", &ms))
        return false;
    int64_t *target;
    pvm_vector_selector *vs = selector_of(e);
    if (vs)
        target = &vs->offset_ms;
    else if (e->kind == PVM_EXPR_SUBQUERY)
        target = &e->u.subquery.offset_ms;
    else
        return pvm_parse_error(p, e->pos, e->end,
                               "offset modifier must be preceded by an "
                               "instant vector selector or range vector "
                               "selector or a subquery") != NULL;
    if (*target != 0)
        return pvm_parse_error(p, e->pos, e->end,
                               "offset may not be set multiple times") != NULL;
    *target = ms;
    e->end = p->last_end;
    return true;
}

/* Exact milliseconds of a plain decimal "123.456" (at most 3 decimals),
 * so printed timestamps read back exactly; false for other forms. */
static bool exact_ms(const char *s, size_t n, int64_t *ms)
{
    int64_t v = 0;
    size_t i = 0, frac = 0;
    bool dot = false;
    for (; i < n; i++) {
        if (s[i] == '.' && !dot) {
            dot = true;
            continue;
        }
        if (s[i] < '0' || s[i] > '9' || (dot && ++frac > 3) ||
            v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    for (; frac < 3; frac++) {
        if (v > INT64_MAX / 10)
            return false;
        v *= 10;
    }
    *ms = v;
    return true;
}

/* The timestamp after @: [+-] number or duration, in ms. */
static bool parse_timestamp(pvm_parser *p, const pvm_expr *e, int64_t *ms)
{
    bool neg = false;
    if (p->tok.type == PVM_T_ADD || p->tok.type == PVM_T_SUB) {
        neg = p->tok.type == PVM_T_SUB;
        pvm_parse_advance(p);
    }
    double ts;
    int64_t d;
    if (p->tok.type == PVM_T_DURATION) {
        if (!pvm_parse_duration_text(p, &p->tok, &d))
            return false;
        ts = (double)d / 1000.0;
    } else if (p->tok.type == PVM_T_NUMBER) {
        if (!pvm_parse_number_text(p, &p->tok, &ts))
            return false;
        if (!exact_ms(p->lx.in + p->tok.pos, p->tok.len, &d))
            d = INT64_MIN;
    } else {
        return pvm_parse_unexpected(p, "@", "timestamp") != NULL;
    }
    pvm_parse_advance(p);
    if (neg)
        ts = -ts;
    /* Prometheus rejects non-finite and int64-overflowing seconds; we
     * also need the milliseconds to fit in an int64. */
    if (!isfinite(ts) || ts >= 9223372036854775.0 ||
        ts <= -9223372036854775.0) {
        char num[64];
        if (isnan(ts))
            snprintf(num, sizeof(num), "NaN");
        else if (isinf(ts))
            snprintf(num, sizeof(num), "%sInf", ts > 0 ? "+" : "-");
        else
            snprintf(num, sizeof(num), "%f", ts);
        return pvm_parse_error(p, e->pos, e->end,
                               "timestamp out of bounds for @ modifier: %s",
                               num) != NULL;
    }
    if (d != INT64_MIN)
        *ms = neg ? -d : d;
    else
        *ms = llround(ts * 1000.0);
    return true;
}

/* e @ timestamp | e @ start() | e @ end() */
static bool parse_at(pvm_parser *p, pvm_expr *e)
{
    int kind = PVM_AT_TIMESTAMP;
    int64_t ms = 0;
    pvm_parse_advance(p);
    if (p->tok.type == PVM_T_START || p->tok.type == PVM_T_END) {
        kind = p->tok.type == PVM_T_START ? PVM_AT_START : PVM_AT_END;
        pvm_parse_advance(p);
        if (!pvm_parse_accept(p, PVM_T_LEFT_PAREN) ||
            !pvm_parse_accept(p, PVM_T_RIGHT_PAREN))
            return pvm_parse_unexpected(p, "@", "timestamp") != NULL;
    } else if (!parse_timestamp(p, e, &ms)) {
        return false;
    }
    int *at_kind;
    int64_t *at_ms;
    pvm_vector_selector *vs = selector_of(e);
    if (vs) {
        at_kind = &vs->at_kind, at_ms = &vs->at_ms;
    } else if (e->kind == PVM_EXPR_SUBQUERY) {
        at_kind = &e->u.subquery.at_kind, at_ms = &e->u.subquery.at_ms;
    } else {
        return pvm_parse_error(p, e->pos, e->end,
                               "@ modifier must be preceded by an instant "
                               "vector selector or range vector selector or "
                               "a subquery") != NULL;
    }
    if (*at_kind != PVM_AT_NONE)
        return pvm_parse_error(p, e->pos, e->end,
                               "@ <timestamp> may not be set multiple "
                               "times") != NULL;
    *at_kind = kind;
    *at_ms = ms;
    e->end = p->last_end;
    return true;
}

pvm_expr *pvm_parse_postfix(pvm_parser *p, pvm_expr *e)
{
    while (e && !p->failed) {
        switch (p->tok.type) {
        case PVM_T_LEFT_BRACKET:
            e = parse_range(p, e);
            if (e && e->height > PVM_PROMQL_MAX_DEPTH)
                return pvm_parse_error(p, e->pos, e->end,
                                       "expression too deeply nested (more "
                                       "than %d levels)",
                                       PVM_PROMQL_MAX_DEPTH);
            break;
        case PVM_T_OFFSET:
            if (!parse_offset(p, e))
                return NULL;
            break;
        case PVM_T_AT:
            if (!parse_at(p, e))
                return NULL;
            break;
        case PVM_T_SMOOTHED:
        case PVM_T_ANCHORED:
            return pvm_parse_error(p, e->pos, e->end,
                                   "%s modifier is experimental and not "
                                   "enabled",
                                   p->tok.type == PVM_T_SMOOTHED ? "smoothed"
                                                                 : "anchored");
        default: return e;
        }
    }
    return p->failed ? NULL : e;
}

/* Keywords and identifiers that may be label names in label lists. */
static bool is_label_token(pvm_tok t)
{
    return t == PVM_T_IDENTIFIER || t == PVM_T_METRIC_IDENTIFIER ||
           pvm_tok_is_aggregator(t) || pvm_tok_is_keyword(t) ||
           t == PVM_T_LAND || t == PVM_T_LOR || t == PVM_T_LUNLESS ||
           t == PVM_T_ATAN2 || (t >= PVM_T_START && t <= PVM_T_MIN_OF);
}

static bool valid_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        int32_t r;
        size_t w = pvm_utf8_decode_rune(s + i, n - i, &r);
        if (r == 0xFFFD && w == 1 && (unsigned char)s[i] >= 0x80)
            return false;
        i += w;
    }
    return true;
}

/* One label name of a list; appended to names. */
static bool parse_list_label(pvm_parser *p, const char ***names, size_t *n,
                             size_t *cap)
{
    const char *name;
    if (p->tok.type == PVM_T_STRING) {
        size_t len;
        if (!(name = unquote_tok(p, &len)))
            return false;
        /* names are C strings here: one with a NUL byte would be cut */
        if (len == 0 || !valid_utf8(name, len) || memchr(name, '\0', len)) {
            char q[300];
            pvm_strbuf sb;
            pvm_strbuf_init_fixed(&sb, q, sizeof(q));
            pvm_strbuf_quote(&sb, name, len, 0);
            return pvm_parse_error(p, p->tok.pos, p->tok.pos + p->tok.len,
                                   "invalid label name for grouping: %s",
                                   q) != NULL;
        }
    } else if (is_label_token(p->tok.type)) {
        name = pvm_arena_strndup(p->a, p->lx.in + p->tok.pos, p->tok.len);
    } else {
        return pvm_parse_unexpected(p, "grouping opts", "label") != NULL;
    }
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        const char **nn = pvm_arena_realloc(p->a, (void *)*names,
                                            *cap * sizeof(*nn),
                                            ncap * sizeof(*nn));
        if (!nn)
            return pvm_parse_nomem(p) != NULL;
        *names = nn;
        *cap = ncap;
    }
    if (!name)
        return pvm_parse_nomem(p) != NULL;
    (*names)[(*n)++] = name;
    pvm_parse_advance(p);
    return !p->failed;
}

bool pvm_parse_label_list(pvm_parser *p, pvm_label_list *out)
{
    size_t cap = 0;
    out->names = NULL;
    out->n = 0;
    if (p->tok.type != PVM_T_LEFT_PAREN)
        return pvm_parse_unexpected(p, "grouping opts", "\"(\"") != NULL;
    pvm_parse_advance(p);
    if (pvm_parse_accept(p, PVM_T_RIGHT_PAREN))
        return !p->failed;
    for (;;) {
        if (!parse_list_label(p, &out->names, &out->n, &cap))
            return false;
        if (pvm_parse_accept(p, PVM_T_COMMA)) {
            if (pvm_parse_accept(p, PVM_T_RIGHT_PAREN))
                return !p->failed;
            continue;
        }
        if (pvm_parse_accept(p, PVM_T_RIGHT_PAREN))
            return !p->failed;
        return pvm_parse_unexpected(p, "grouping opts", "\",\" or \")\"") !=
               NULL;
    }
}
