/* token.c: what the parser needs to know about tokens besides lexing
 * them: their groups, their description in error messages ("unexpected
 * <op:+>", as Prometheus' Item.desc()), and unquoting of string tokens. */
#include <stdint.h>
#include <string.h>

#include <pvm/arena.h>

#include "lex.h"
#include "strbuf.h"

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

bool pvm_tok_is_aggregator(pvm_tok t)
{
    return t > PVM_T_AGGR_START && t < PVM_T_AGGR_END;
}

bool pvm_tok_is_operator(pvm_tok t)
{
    return t > PVM_T_OPS_START && t < PVM_T_OPS_END;
}

bool pvm_tok_is_keyword(pvm_tok t)
{
    return t > PVM_T_KW_START && t < PVM_T_KW_END;
}

void pvm_tok_describe(const pvm_lexer *lx, const pvm_token *t, char *msg,
                      size_t cap)
{
    pvm_strbuf sb;
    const char *text = lx->in + t->pos;
    int n = t->len > 200 ? 200 : (int)t->len;
    pvm_strbuf_init_fixed(&sb, msg, cap);
    switch (t->type) {
    case PVM_T_EOF: pvm_strbuf_puts(&sb, "end of input"); return;
    case PVM_T_ERROR: pvm_strbuf_puts(&sb, lx->errmsg); return;
    case PVM_T_IDENTIFIER:
        pvm_strbuf_puts(&sb, "identifier ");
        pvm_strbuf_quote(&sb, text, t->len, 0);
        return;
    case PVM_T_METRIC_IDENTIFIER:
        pvm_strbuf_puts(&sb, "metric identifier ");
        pvm_strbuf_quote(&sb, text, t->len, 0);
        return;
    case PVM_T_NUMBER:
    case PVM_T_DURATION:
    case PVM_T_STRING:
        pvm_strbuf_puts(&sb, t->type == PVM_T_NUMBER     ? "number "
                             : t->type == PVM_T_DURATION ? "duration "
                                                         : "string ");
        pvm_strbuf_quote(&sb, text, t->len, t->len > 10 ? 10 : 0);
        if (t->len > 10)
            pvm_strbuf_puts(&sb, "...");
        return;
    default: break;
    }
    if (pvm_tok_is_keyword(t->type))
        pvm_strbuf_printf(&sb, "<%.*s>", n, text);
    else if (pvm_tok_is_operator(t->type))
        pvm_strbuf_printf(&sb, "<op:%.*s>", n, text);
    else if (pvm_tok_is_aggregator(t->type))
        pvm_strbuf_printf(&sb, "<aggr:%.*s>", n, text);
    else
        pvm_strbuf_quote(&sb, text, t->len, 0);
}

/* Decodes the escape at s[*i] (just after the backslash) into out. */
static size_t unescape_one(const char *s, size_t *i, char *out)
{
    char c = s[(*i)++];
    int n = 0, base = 16;
    switch (c) {
    case 'a': out[0] = '\a'; return 1;
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'n': out[0] = '\n'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 't': out[0] = '\t'; return 1;
    case 'v': out[0] = '\v'; return 1;
    case 'x': n = 2; break;
    case 'u': n = 4; break;
    case 'U': n = 8; break;
    default:
        if (c >= '0' && c <= '7') {
            (*i)--;
            n = 3, base = 8;
            break;
        }
        out[0] = c; /* \\ or the quote */
        return 1;
    }
    uint32_t x = 0;
    for (int k = 0; k < n; k++)
        x = x * (uint32_t)base + (uint32_t)hex_digit(s[(*i)++]);
    if (c == 'u' || c == 'U')
        return pvm_utf8_encode((int32_t)x, out);
    out[0] = (char)x; /* \x and octal give bytes */
    return 1;
}

char *pvm_lex_unquote(pvm_arena *a, const char *s, size_t n, size_t *out_len)
{
    if (n < 2)
        return NULL;
    char *out = pvm_arena_alloc(a, n - 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 1, end = n - 1;
    if (s[0] == '`') {
        memcpy(out, s + 1, n - 2);
        o = n - 2;
    } else {
        while (i < end) {
            const char *bs = memchr(s + i, '\\', end - i);
            size_t plain = bs ? (size_t)(bs - (s + i)) : end - i;
            memcpy(out + o, s + i, plain);
            o += plain;
            i += plain;
            if (i < end) {
                i++; /* the backslash */
                o += unescape_one(s, &i, out + o);
            }
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}
