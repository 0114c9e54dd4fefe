/* lex.c: the PromQL lexer (see lex.h). Error messages follow Prometheus'
 * lex.go so that users see the same text. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lex.h"
#include "strbuf.h"

#include <pvm/arena.h>

#define LEX_EOF (-1)

static void lex_statements(pvm_lexer *lx, pvm_token *t);

/* Keywords, case-insensitive (Prometheus' `key` map). */
static const struct {
    const char *word; /* lower-case spelling */
    pvm_tok type;     /* its token */
} keywords[] = {
    {"and", PVM_T_LAND},
    {"or", PVM_T_LOR},
    {"unless", PVM_T_LUNLESS},
    {"atan2", PVM_T_ATAN2},
    {"sum", PVM_T_SUM},
    {"avg", PVM_T_AVG},
    {"count", PVM_T_COUNT},
    {"min", PVM_T_MIN},
    {"max", PVM_T_MAX},
    {"group", PVM_T_GROUP},
    {"stddev", PVM_T_STDDEV},
    {"stdvar", PVM_T_STDVAR},
    {"topk", PVM_T_TOPK},
    {"bottomk", PVM_T_BOTTOMK},
    {"count_values", PVM_T_COUNT_VALUES},
    {"quantile", PVM_T_QUANTILE},
    {"limitk", PVM_T_LIMITK},
    {"limit_ratio", PVM_T_LIMIT_RATIO},
    {"offset", PVM_T_OFFSET},
    {"smoothed", PVM_T_SMOOTHED},
    {"anchored", PVM_T_ANCHORED},
    {"by", PVM_T_BY},
    {"without", PVM_T_WITHOUT},
    {"on", PVM_T_ON},
    {"ignoring", PVM_T_IGNORING},
    {"group_left", PVM_T_GROUP_LEFT},
    {"group_right", PVM_T_GROUP_RIGHT},
    {"fill", PVM_T_FILL},
    {"fill_left", PVM_T_FILL_LEFT},
    {"fill_right", PVM_T_FILL_RIGHT},
    {"bool", PVM_T_BOOL},
    {"start", PVM_T_START},
    {"end", PVM_T_END},
    {"step", PVM_T_STEP},
    {"range", PVM_T_RANGE},
    {"max_of", PVM_T_MAX_OF},
    {"min_of", PVM_T_MIN_OF},
    {"inf", PVM_T_NUMBER},
    {"nan", PVM_T_NUMBER},
};

/* Words that start a duration expression inside brackets. */
static const struct {
    const char *word; /* lower-case spelling */
    pvm_tok type;     /* its token */
} duration_words[] = {
    {"step", PVM_T_STEP},
    {"range", PVM_T_RANGE},
    {"max_of", PVM_T_MAX_OF},
    {"min_of", PVM_T_MIN_OF},
};

void pvm_lex_init(pvm_lexer *lx, const char *in, size_t len)
{
    memset(lx, 0, sizeof(*lx));
    lx->in = in;
    lx->len = len;
}

static bool is_space(int r)
{
    return r == ' ' || r == '\t' || r == '\n' || r == '\r';
}

static bool is_digit(int r)
{
    return r >= '0' && r <= '9';
}

static bool is_alpha(int r)
{
    return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
}

static bool is_alnum(int r)
{
    return is_alpha(r) || is_digit(r);
}

/* The code point at pos and its width (0 at the end of input). */
static int rune_at(const pvm_lexer *lx, size_t pos, size_t *w)
{
    if (pos >= lx->len) {
        *w = 0;
        return LEX_EOF;
    }
    int32_t r;
    *w = pvm_utf8_decode_rune(lx->in + pos, lx->len - pos, &r);
    return r;
}

static int next(pvm_lexer *lx)
{
    size_t w;
    int r = rune_at(lx, lx->pos, &w);
    lx->pos += w;
    return r;
}

static int peek(const pvm_lexer *lx)
{
    size_t w;
    return rune_at(lx, lx->pos, &w);
}

/* Consumes the next byte if it is one of valid (ASCII only). */
static bool accept(pvm_lexer *lx, const char *valid)
{
    if (lx->pos < lx->len && lx->in[lx->pos] != '\0' &&
        strchr(valid, lx->in[lx->pos])) {
        lx->pos++;
        return true;
    }
    return false;
}

static bool is_next(const pvm_lexer *lx, const char *valid)
{
    return lx->pos < lx->len && lx->in[lx->pos] != '\0' &&
           strchr(valid, lx->in[lx->pos]);
}

static void emit(pvm_lexer *lx, pvm_token *t, pvm_tok type, size_t start)
{
    t->type = type;
    t->pos = start;
    t->len = lx->pos - start;
}

/* Emits an error token starting at start with a printf message. */
static void PVM_PRINTF(4, 5)
    lex_error(pvm_lexer *lx, pvm_token *t, size_t start, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->errmsg, sizeof(lx->errmsg), fmt, ap);
    va_end(ap);
    t->type = PVM_T_ERROR;
    t->pos = start;
    t->len = lx->len - start;
    lx->done = true;
}

/* Error with a quoted rune: prefix + 'r' + suffix. */
static void lex_error_rune(pvm_lexer *lx, pvm_token *t, size_t start,
                           const char *prefix, int r, const char *suffix)
{
    char q[32];
    pvm_strbuf sb;
    pvm_strbuf_init_fixed(&sb, q, sizeof(q));
    pvm_strbuf_quote_rune(&sb, r);
    lex_error(lx, t, start, "%s%s%s", prefix, q, suffix);
}

/* Error quoting the input from start to the current position. */
static void lex_error_text(pvm_lexer *lx, pvm_token *t, size_t start,
                           const char *prefix)
{
    char q[200];
    pvm_strbuf sb;
    pvm_strbuf_init_fixed(&sb, q, sizeof(q));
    pvm_strbuf_quote(&sb, lx->in + start, lx->pos - start, 0);
    lex_error(lx, t, start, "%s%s", prefix, q);
}

/* Prometheus' scanNumber: decimal or hex digits, one dot, one exponent,
 * underscores between digits; must not run into a letter. */
static bool scan_number(pvm_lexer *lx)
{
    size_t initial = lx->pos;
    const char *digits = "0123456789";
    bool hex = false, dot = false, exp = false;
    if (accept(lx, "0") && accept(lx, "xX")) {
        accept(lx, "_");
        digits = "0123456789abcdefABCDEF";
        hex = true;
    }
    accept(lx, ".");
    accept(lx, digits);
    for (;;) {
        bool d = is_next(lx, digits);
        if (!d && !is_next(lx, "._eE"))
            break;
        if (is_next(lx, ".") && dot) {
            accept(lx, ".");
            return false;
        }
        if (is_next(lx, "eE") && exp) {
            accept(lx, "eE");
            return false;
        }
        if (accept(lx, ".")) {
            dot = true;
            if (accept(lx, "_.") || hex)
                return false;
            continue;
        }
        if (accept(lx, "eE")) {
            exp = true;
            accept(lx, "+-");
            if (accept(lx, "._eE") || lx->pos >= lx->len)
                return false;
            continue;
        }
        if (accept(lx, "_")) {
            if (accept(lx, "._eE") || lx->pos >= lx->len)
                return false;
            continue;
        }
        while (accept(lx, digits))
            ;
    }
    if (lx->pos == initial)
        return false;
    return !is_alnum(peek(lx));
}

/* Prometheus' acceptRemainingDuration: units after the leading digits. */
static bool accept_remaining_duration(pvm_lexer *lx)
{
    if (!accept(lx, "smhdwy"))
        return false;
    accept(lx, "s");
    while (accept(lx, "0123456789")) {
        while (accept(lx, "0123456789"))
            ;
        if (!accept(lx, "smhdw"))
            return false;
        accept(lx, "s");
    }
    if (is_alnum(peek(lx))) {
        next(lx); /* Go consumed it: it shows in the error message */
        return false;
    }
    return true;
}

static void lex_number_or_duration(pvm_lexer *lx, pvm_token *t, size_t start)
{
    if (scan_number(lx)) {
        emit(lx, t, PVM_T_NUMBER, start);
        return;
    }
    if (accept_remaining_duration(lx)) {
        emit(lx, t, PVM_T_DURATION, start);
        return;
    }
    lex_error_text(lx, t, start, "bad number or duration syntax: ");
}

static int digit_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 16;
}

/* Error with a code point printed like Go's %#U. */
static void lex_error_unicode(pvm_lexer *lx, pvm_token *t, size_t start,
                              const char *prefix, int r, const char *suffix)
{
    char q[48];
    pvm_strbuf sb;
    pvm_strbuf_init_fixed(&sb, q, sizeof(q));
    pvm_strbuf_unicode(&sb, r);
    lex_error(lx, t, start, "%s%s%s", prefix, q, suffix);
}

/* Checks the escape after a backslash (Prometheus' lexEscape). Returns
 * false after emitting an error token. */
static bool lex_escape(pvm_lexer *lx, pvm_token *t, size_t start, int quote)
{
    int n, base;
    uint32_t maxv;
    int ch = next(lx);
    switch (ch) {
    case 'a':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
    case '\\': return true;
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': n = 3, base = 8, maxv = 255; break;
    case 'x': ch = next(lx), n = 2, base = 16, maxv = 255; break;
    case 'u': ch = next(lx), n = 4, base = 16, maxv = 0x10FFFF; break;
    case 'U': ch = next(lx), n = 8, base = 16, maxv = 0x10FFFF; break;
    case LEX_EOF:
        lex_error(lx, t, start, "escape sequence not terminated");
        return false;
    default:
        if (ch == quote)
            return true;
        lex_error_unicode(lx, t, start, "unknown escape sequence ", ch, "");
        return false;
    }
    uint32_t x = 0;
    while (n > 0) {
        int d = ch < 0 ? 16 : digit_val(ch);
        if (d >= base) {
            if (ch == LEX_EOF)
                lex_error(lx, t, start, "escape sequence not terminated");
            else
                lex_error_unicode(lx, t, start, "illegal character ", ch,
                                  " in escape sequence");
            return false;
        }
        x = x * (uint32_t)base + (uint32_t)d;
        if (--n > 0)
            ch = next(lx);
    }
    if (x > maxv || (x >= 0xD800 && x < 0xE000)) {
        lex_error(lx, t, start,
                  "escape sequence is an invalid Unicode code point");
        return false;
    }
    return true;
}

/* A "..." or '...' string; the opening quote is consumed. */
static void lex_string(pvm_lexer *lx, pvm_token *t, size_t start, int quote)
{
    for (;;) {
        /* Fast path over plain ASCII. */
        while (lx->pos < lx->len) {
            unsigned char c = (unsigned char)lx->in[lx->pos];
            if (c >= 0x80 || c == '\\' || c == '\n' || c == quote)
                break;
            lx->pos++;
        }
        int r = next(lx);
        if (r == '\\') {
            if (!lex_escape(lx, t, start, quote))
                return;
        } else if (r == 0xFFFD) {
            lex_error(lx, t, start, "invalid UTF-8 rune");
            return;
        } else if (r == LEX_EOF || r == '\n') {
            lex_error(lx, t, start, "unterminated quoted string");
            return;
        } else if (r == quote) {
            emit(lx, t, PVM_T_STRING, start);
            return;
        }
    }
}

/* A `...` string; the opening backquote is consumed. */
static void lex_raw_string(pvm_lexer *lx, pvm_token *t, size_t start)
{
    for (;;) {
        while (lx->pos < lx->len) {
            unsigned char c = (unsigned char)lx->in[lx->pos];
            if (c >= 0x80 || c == '`')
                break;
            lx->pos++;
        }
        int r = next(lx);
        if (r == 0xFFFD) {
            lex_error(lx, t, start, "invalid UTF-8 rune");
            return;
        } else if (r == LEX_EOF) {
            lex_error(lx, t, start, "unterminated raw string");
            return;
        } else if (r == '`') {
            emit(lx, t, PVM_T_STRING, start);
            return;
        }
    }
}

static void skip_comment(pvm_lexer *lx)
{
    while (lx->pos < lx->len && lx->in[lx->pos] != '\n' &&
           lx->in[lx->pos] != '\r')
        lx->pos++;
}

/* Looks word (n bytes) up case-insensitively in keywords. */
static bool keyword_lookup(const char *w, size_t n, pvm_tok *type)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        if (strlen(keywords[i].word) == n &&
            strncasecmp(keywords[i].word, w, n) == 0) {
            *type = keywords[i].type;
            return true;
        }
    }
    return false;
}

/* True when only spaces separate the current position from a "(". */
static bool followed_by_paren(const pvm_lexer *lx)
{
    for (size_t p = lx->pos; p < lx->len; p++) {
        if (!is_space(lx->in[p]))
            return lx->in[p] == '(';
    }
    return false;
}

static void lex_keyword_or_identifier(pvm_lexer *lx, pvm_token *t,
                                      size_t start)
{
    bool colon = false;
    while (lx->pos < lx->len &&
           (is_alnum(lx->in[lx->pos]) || lx->in[lx->pos] == ':')) {
        colon |= lx->in[lx->pos] == ':';
        lx->pos++;
    }
    pvm_tok kw;
    if (keyword_lookup(lx->in + start, lx->pos - start, &kw)) {
        if ((kw == PVM_T_FILL || kw == PVM_T_FILL_LEFT ||
             kw == PVM_T_FILL_RIGHT) &&
            !followed_by_paren(lx))
            kw = PVM_T_IDENTIFIER;
        emit(lx, t, kw, start);
    } else {
        emit(lx, t, colon ? PVM_T_METRIC_IDENTIFIER : PVM_T_IDENTIFIER, start);
    }
}

/* Inside brackets: step, range, max_of, min_of. Returns false (having
 * consumed the word) when the word is none of them. */
static bool scan_duration_keyword(pvm_lexer *lx, pvm_token *t, size_t start)
{
    while (lx->pos < lx->len && is_alpha(lx->in[lx->pos]))
        lx->pos++;
    size_t n = lx->pos - start;
    for (size_t i = 0; i < sizeof(duration_words) / sizeof(duration_words[0]);
         i++) {
        if (strlen(duration_words[i].word) == n &&
            strncasecmp(duration_words[i].word, lx->in + start, n) == 0) {
            emit(lx, t, duration_words[i].type, start);
            return true;
        }
    }
    return false;
}

static bool is_duration_keyword_start(int r)
{
    return r == 's' || r == 'r' || r == 'm' || r == 'S' || r == 'R' ||
           r == 'M';
}

/* Inside { }: identifiers, strings, matching operators. */
static void lex_inside_braces(pvm_lexer *lx, pvm_token *t)
{
    for (;;) {
        size_t start = lx->pos;
        if (lx->pos < lx->len && lx->in[lx->pos] == '#') {
            skip_comment(lx);
            continue;
        }
        int r = next(lx);
        if (r == LEX_EOF) {
            lex_error(lx, t, start, "unexpected end of input inside braces");
        } else if (is_space(r)) {
            continue;
        } else if (is_alpha(r)) {
            while (lx->pos < lx->len && is_alnum(lx->in[lx->pos]))
                lx->pos++;
            emit(lx, t, PVM_T_IDENTIFIER, start);
        } else if (r == ',') {
            emit(lx, t, PVM_T_COMMA, start);
        } else if (r == '"' || r == '\'') {
            lex_string(lx, t, start, r);
        } else if (r == '`') {
            lex_raw_string(lx, t, start);
        } else if (r == '=') {
            emit(lx, t, accept(lx, "~") ? PVM_T_EQL_REGEX : PVM_T_EQL, start);
        } else if (r == '!') {
            int nr = next(lx);
            if (nr == '~')
                emit(lx, t, PVM_T_NEQ_REGEX, start);
            else if (nr == '=')
                emit(lx, t, PVM_T_NEQ, start);
            else
                lex_error_rune(lx, t, start,
                               "unexpected character after '!' inside "
                               "braces: ",
                               nr, "");
        } else if (r == '{') {
            lex_error_rune(lx, t, start, "unexpected left brace ", r, "");
        } else if (r == '}') {
            emit(lx, t, PVM_T_RIGHT_BRACE, start);
            lx->brace_open = false;
        } else {
            lex_error_rune(lx, t, start,
                           "unexpected character inside braces: ", r, "");
        }
        return;
    }
}

/* Right after [ (Prometheus' lexDurationExpr). Returns false when the
 * token was not handled here (a number: lexed by the caller). */
static bool lex_duration_expr(pvm_lexer *lx, pvm_token *t, size_t start, int r)
{
    static const char ops[] = "+-*/%^,";
    static const pvm_tok op_tok[] = {PVM_T_ADD,  PVM_T_SUB, PVM_T_MUL,
                                     PVM_T_DIV,  PVM_T_MOD, PVM_T_POW,
                                     PVM_T_COMMA};
    if (r == LEX_EOF) {
        lex_error(lx, t, start,
                  "unexpected end of input in duration expression");
    } else if (r == ']') {
        emit(lx, t, PVM_T_RIGHT_BRACKET, start);
        lx->bracket_open = lx->got_colon = lx->in_duration = false;
    } else if (r == ':') {
        emit(lx, t, PVM_T_COLON, start);
        if (!lx->got_duration)
            lex_error(lx, t, lx->pos,
                      "unexpected colon before duration in "
                      "duration expression");
        else if (lx->got_colon)
            lex_error(lx, t, lx->pos,
                      "unexpected repeated colon in duration expression");
        lx->got_colon = true;
    } else if (r == '(' || r == ')') {
        emit(lx, t, r == '(' ? PVM_T_LEFT_PAREN : PVM_T_RIGHT_PAREN, start);
        lx->paren_depth += r == '(' ? 1 : -1;
        if (lx->paren_depth < 0)
            lex_error_rune(lx, t, lx->pos, "unexpected right parenthesis ", r,
                           "");
    } else if (r > 0 && r < 128 && strchr(ops, r)) {
        emit(lx, t, op_tok[strchr(ops, r) - ops], start);
    } else if (is_duration_keyword_start(r)) {
        if (!scan_duration_keyword(lx, t, start))
            lex_error_rune(lx, t, start,
                           "unexpected character in duration expression: ", r,
                           "");
    } else if (is_digit(r) || (r == '.' && is_digit(peek(lx)))) {
        return false;
    } else {
        lex_error_rune(lx, t, start,
                       "unexpected character in duration expression: ", r, "");
    }
    return true;
}

void pvm_lex_next(pvm_lexer *lx, pvm_token *t)
{
    if (lx->done) {
        t->type = lx->errmsg[0] ? PVM_T_ERROR : PVM_T_EOF;
        t->pos = lx->len;
        t->len = 0;
        return;
    }
    if (lx->brace_open) {
        lex_inside_braces(lx, t);
        return;
    }
    for (;;) {
        while (lx->pos < lx->len && is_space(lx->in[lx->pos]))
            lx->pos++;
        if (lx->in_duration || lx->pos >= lx->len || lx->in[lx->pos] != '#')
            break;
        skip_comment(lx);
    }
    size_t start = lx->pos;
    if (lx->in_duration) {
        int r = next(lx);
        if (lex_duration_expr(lx, t, start, r))
            return;
        lx->pos = start;
        lx->got_duration = true;
        lx->in_duration = false;
        lex_number_or_duration(lx, t, start);
        return;
    }
    lex_statements(lx, t);
}

/* One-character operators outside braces. */
static bool lex_simple_op(pvm_lexer *lx, pvm_token *t, size_t start, int r)
{
    static const char ops[] = ",*/%+-^@";
    static const pvm_tok op_tok[] = {PVM_T_COMMA, PVM_T_MUL, PVM_T_DIV,
                                     PVM_T_MOD,   PVM_T_ADD, PVM_T_SUB,
                                     PVM_T_POW,   PVM_T_AT};
    if (r <= 0 || r >= 128 || !strchr(ops, r))
        return false;
    emit(lx, t, op_tok[strchr(ops, r) - ops], start);
    return true;
}

/* Comparison operators and '=' outside braces. */
static bool lex_compare(pvm_lexer *lx, pvm_token *t, size_t start, int r)
{
    if (r == '=') {
        if (peek(lx) == '~') {
            lex_error_rune(lx, t, start,
                           "unexpected character after '=': ", '~', "");
            return true;
        }
        emit(lx, t, accept(lx, "=") ? PVM_T_EQLC : PVM_T_EQL, start);
    } else if (r == '!') {
        int nr = next(lx);
        if (nr != '=')
            lex_error_rune(lx, t, start,
                           "unexpected character after '!': ", nr, "");
        else
            emit(lx, t, PVM_T_NEQ, start);
    } else if (r == '<') {
        emit(lx, t,
             accept(lx, "=")   ? PVM_T_LTE
             : accept(lx, "/") ? PVM_T_TRIM_UPPER
                               : PVM_T_LSS,
             start);
    } else if (r == '>') {
        emit(lx, t,
             accept(lx, "=")   ? PVM_T_GTE
             : accept(lx, "/") ? PVM_T_TRIM_LOWER
                               : PVM_T_GTR,
             start);
    } else {
        return false;
    }
    return true;
}

/* Brackets, braces and parentheses outside braces. */
static bool lex_bracket(pvm_lexer *lx, pvm_token *t, size_t start, int r)
{
    switch (r) {
    case '(':
        emit(lx, t, PVM_T_LEFT_PAREN, start);
        lx->paren_depth++;
        return true;
    case ')':
        emit(lx, t, PVM_T_RIGHT_PAREN, start);
        if (--lx->paren_depth < 0) /* after it, as Prometheus reports */
            lex_error_rune(lx, t, lx->pos, "unexpected right parenthesis ", r,
                           "");
        return true;
    case '{':
        emit(lx, t, PVM_T_LEFT_BRACE, start);
        lx->brace_open = true;
        return true;
    case '[':
        if (lx->bracket_open) {
            lex_error_rune(lx, t, start, "unexpected left bracket ", r, "");
            return true;
        }
        lx->got_colon = lx->got_duration = false;
        emit(lx, t, PVM_T_LEFT_BRACKET, start);
        lx->bracket_open = lx->in_duration = true;
        return true;
    case ']':
        if (!lx->bracket_open) {
            lex_error_rune(lx, t, start, "unexpected right bracket ", r, "");
            return true;
        }
        emit(lx, t, PVM_T_RIGHT_BRACKET, start);
        lx->bracket_open = false;
        return true;
    default: return false;
    }
}

/* A word or ':' inside brackets (after the first duration). */
static void lex_in_brackets_word(pvm_lexer *lx, pvm_token *t, size_t start,
                                 int r)
{
    if (r == ':') {
        if (lx->got_colon) {
            lex_error_rune(lx, t, start, "unexpected colon ", r, "");
            return;
        }
        emit(lx, t, PVM_T_COLON, start);
        lx->got_colon = true;
        return;
    }
    if (is_duration_keyword_start(r) && scan_duration_keyword(lx, t, start))
        return;
    lex_error(lx, t, start, "unexpected character: '%c', expected ':'", r);
}

/* Outside braces (Prometheus' lexStatements); spaces and comments are
 * already skipped. */
static void lex_statements(pvm_lexer *lx, pvm_token *t)
{
    size_t start = lx->pos;
    int r = next(lx);
    if (r == LEX_EOF) {
        if (lx->paren_depth != 0)
            lex_error(lx, t, start, "unclosed left parenthesis");
        else if (lx->bracket_open)
            lex_error(lx, t, start, "unclosed left bracket");
        else {
            emit(lx, t, PVM_T_EOF, start);
            lx->done = true;
        }
        return;
    }
    if (lex_simple_op(lx, t, start, r) || lex_compare(lx, t, start, r) ||
        lex_bracket(lx, t, start, r))
        return;
    if (is_digit(r) || (r == '.' && is_digit(peek(lx)))) {
        lx->pos = start;
        lex_number_or_duration(lx, t, start);
    } else if (r == '"' || r == '\'') {
        lex_string(lx, t, start, r);
    } else if (r == '`') {
        lex_raw_string(lx, t, start);
    } else if (is_alpha(r) || r == ':') {
        if (lx->bracket_open)
            lex_in_brackets_word(lx, t, start, r);
        else
            lex_keyword_or_identifier(lx, t, start);
    } else {
        lex_error_rune(lx, t, start, "unexpected character: ", r, "");
    }
}
