/* parse.c: the PromQL parser entry point, token and error handling, and
 * the expression grammar: operators (precedence climbing), unary
 * operators, parentheses, function calls and aggregations. Selectors and
 * literals are in parse_sel.c, type checking in check.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "functions.h"
#include "parse.h"
#include "strbuf.h"

static pvm_expr *parse_unary(pvm_parser *p);

/* Binary operator of a token and its precedence (0: not an operator). */
static int binop_of(pvm_tok t, pvm_binop *op)
{
    static const struct {
        pvm_tok tok;  /* the token */
        pvm_binop op; /* its operator */
        int prec;     /* precedence, higher binds tighter */
    } table[] = {
        {PVM_T_LOR, PVM_OP_OR, 1},
        {PVM_T_LAND, PVM_OP_AND, 2},
        {PVM_T_LUNLESS, PVM_OP_UNLESS, 2},
        {PVM_T_EQLC, PVM_OP_EQLC, 3},
        {PVM_T_NEQ, PVM_OP_NEQ, 3},
        {PVM_T_LSS, PVM_OP_LSS, 3},
        {PVM_T_LTE, PVM_OP_LTE, 3},
        {PVM_T_GTR, PVM_OP_GTR, 3},
        {PVM_T_GTE, PVM_OP_GTE, 3},
        {PVM_T_TRIM_UPPER, PVM_OP_TRIM_UPPER, 3},
        {PVM_T_TRIM_LOWER, PVM_OP_TRIM_LOWER, 3},
        {PVM_T_ADD, PVM_OP_ADD, 4},
        {PVM_T_SUB, PVM_OP_SUB, 4},
        {PVM_T_MUL, PVM_OP_MUL, 5},
        {PVM_T_DIV, PVM_OP_DIV, 5},
        {PVM_T_MOD, PVM_OP_MOD, 5},
        {PVM_T_ATAN2, PVM_OP_ATAN2, 5},
        {PVM_T_POW, PVM_OP_POW, 6},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (table[i].tok == t) {
            *op = table[i].op;
            return table[i].prec;
        }
    }
    return 0;
}

#define PREC_POW 6

/* Reads the next token; a lexical error is recorded at once, as
 * Prometheus' Lex() does. */
void pvm_parse_advance(pvm_parser *p)
{
    p->last_end = p->tok.pos + p->tok.len;
    if (p->has_ahead) {
        p->tok = p->ahead;
        p->has_ahead = false;
    } else {
        pvm_lex_next(&p->lx, &p->tok);
    }
    if (p->tok.type == PVM_T_ERROR && !p->failed)
        pvm_parse_error(p, p->tok.pos, p->lx.len, "%s", p->lx.errmsg);
}

const pvm_token *pvm_parse_peek(pvm_parser *p)
{
    if (!p->has_ahead) {
        pvm_lex_next(&p->lx, &p->ahead);
        p->has_ahead = true;
    }
    return &p->ahead;
}

bool pvm_parse_accept(pvm_parser *p, pvm_tok type)
{
    if (p->tok.type != type)
        return false;
    pvm_parse_advance(p);
    return true;
}

void *pvm_parse_error(pvm_parser *p, size_t pos, size_t end, const char *fmt,
                      ...)
{
    if (p->failed)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
    va_end(ap);
    p->failed = true;
    p->code = PVM_ERR_BAD_DATA;
    p->err_pos = pos;
    p->err_end = end;
    return NULL;
}

void *pvm_parse_unexpected(pvm_parser *p, const char *context,
                           const char *expected)
{
    char desc[300];
    if (p->failed || p->tok.type == PVM_T_ERROR)
        return NULL;
    pvm_tok_describe(&p->lx, &p->tok, desc, sizeof(desc));
    return pvm_parse_error(p, p->tok.pos, p->tok.pos + p->tok.len,
                           "unexpected %s%s%s%s%s", desc,
                           context && *context ? " in " : "",
                           context ? context : "",
                           expected && *expected ? ", expected " : "",
                           expected ? expected : "");
}

/* The default context of a syntax error: the innermost aggregation. */
static void *generic_unexpected(pvm_parser *p)
{
    return pvm_parse_unexpected(p, p->in_aggr ? "aggregation" : "", "");
}

void *pvm_parse_nomem(pvm_parser *p)
{
    if (!p->failed) {
        p->failed = true;
        p->code = PVM_ERR_NOMEM;
        p->err_pos = p->err_end = 0;
        snprintf(p->msg, sizeof(p->msg),
                 "query memory limit exceeded while parsing");
    }
    return NULL;
}

pvm_expr *pvm_parse_node(pvm_parser *p, pvm_expr_kind kind, size_t pos,
                         size_t end)
{
    pvm_expr *e = pvm_arena_calloc(p->a, 1, sizeof(*e));
    if (!e)
        return pvm_parse_nomem(p);
    e->kind = kind;
    e->pos = pos;
    e->end = end;
    e->height = 1;
    return e;
}

/* Sets e's height from a child; false (error recorded) past the limit. */
static bool grow(pvm_parser *p, pvm_expr *e, const pvm_expr *child)
{
    if (child && child->height + 1 > e->height)
        e->height = child->height + 1;
    if (e->height > PVM_PROMQL_MAX_DEPTH) {
        pvm_parse_error(p, e->pos, e->end,
                        "expression too deeply nested (more than %d levels)",
                        PVM_PROMQL_MAX_DEPTH);
        return false;
    }
    return true;
}

/* Modifiers after a binary operator: bool, on/ignoring, group_x. */
static bool parse_bin_modifiers(pvm_parser *p, pvm_binary *b)
{
    pvm_vector_matching *m = pvm_arena_calloc(p->a, 1, sizeof(*m));
    if (!m)
        return pvm_parse_nomem(p) != NULL;
    b->matching = m;
    m->card = PVM_CARD_ONE_TO_ONE;
    if (pvm_parse_accept(p, PVM_T_BOOL))
        b->return_bool = true;
    if (p->tok.type == PVM_T_ON || p->tok.type == PVM_T_IGNORING) {
        m->on = p->tok.type == PVM_T_ON;
        pvm_parse_advance(p);
        if (!pvm_parse_label_list(p, &m->labels))
            return false;
        if (p->tok.type == PVM_T_GROUP_LEFT ||
            p->tok.type == PVM_T_GROUP_RIGHT) {
            m->card = p->tok.type == PVM_T_GROUP_LEFT ? PVM_CARD_MANY_TO_ONE
                                                      : PVM_CARD_ONE_TO_MANY;
            pvm_parse_advance(p);
            if (p->tok.type == PVM_T_LEFT_PAREN &&
                !pvm_parse_label_list(p, &m->include))
                return false;
        }
    }
    if (p->tok.type == PVM_T_FILL || p->tok.type == PVM_T_FILL_LEFT ||
        p->tok.type == PVM_T_FILL_RIGHT) {
        pvm_parse_error(p, p->tok.pos, p->tok.pos + p->tok.len,
                        "binop fill modifiers are experimental and not "
                        "enabled");
        return false;
    }
    if (pvm_binop_is_set(b->op))
        m->card = m->card == PVM_CARD_ONE_TO_ONE ? PVM_CARD_MANY_TO_MANY
                                                 : m->card;
    return !p->failed;
}

pvm_expr *pvm_parse_expr(pvm_parser *p, int min_prec)
{
    if (++p->depth > PVM_PROMQL_MAX_DEPTH) {
        p->depth--;
        return pvm_parse_error(p, p->tok.pos, p->tok.pos + p->tok.len,
                               "expression too deeply nested (more than %d "
                               "levels)",
                               PVM_PROMQL_MAX_DEPTH);
    }
    pvm_expr *lhs = parse_unary(p);
    pvm_binop op;
    int prec;
    while (lhs && (prec = binop_of(p->tok.type, &op)) >= min_prec &&
           prec > 0) {
        pvm_parse_advance(p);
        pvm_expr *e = pvm_parse_node(p, PVM_EXPR_BINARY, lhs->pos, lhs->end);
        if (!e)
            break;
        e->u.binary.op = op;
        e->u.binary.lhs = lhs;
        if (!parse_bin_modifiers(p, &e->u.binary))
            break;
        /* ^ is right-associative, the others left-associative. */
        pvm_expr *rhs = pvm_parse_expr(p, op == PVM_OP_POW ? prec : prec + 1);
        if (!rhs)
            break;
        e->u.binary.rhs = rhs;
        e->end = rhs->end;
        if (!grow(p, e, lhs) || !grow(p, e, rhs))
            break;
        lhs = e;
    }
    p->depth--;
    return p->failed ? NULL : lhs;
}

/* Arguments of a call or aggregation: "(" [expr {"," expr}] ")". The
 * current token is "(". */
static bool parse_args(pvm_parser *p, pvm_expr ***args, size_t *nargs)
{
    size_t cap = 0;
    *args = NULL;
    *nargs = 0;
    pvm_parse_advance(p);
    if (pvm_parse_accept(p, PVM_T_RIGHT_PAREN))
        return !p->failed;
    for (;;) {
        pvm_expr *arg = pvm_parse_expr(p, 0);
        if (!arg)
            return false;
        if (*nargs == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            pvm_expr **na = pvm_arena_realloc(p->a, *args, cap * sizeof(*na),
                                              ncap * sizeof(*na));
            if (!na)
                return pvm_parse_nomem(p) != NULL;
            *args = na;
            cap = ncap;
        }
        (*args)[(*nargs)++] = arg;
        if (p->tok.type == PVM_T_COMMA) {
            pvm_token comma = p->tok;
            pvm_parse_advance(p);
            if (p->tok.type == PVM_T_RIGHT_PAREN)
                return pvm_parse_error(p, comma.pos, comma.pos + 1,
                                       "trailing commas not allowed in "
                                       "function call args") != NULL;
            continue;
        }
        if (pvm_parse_accept(p, PVM_T_RIGHT_PAREN))
            return !p->failed;
        return generic_unexpected(p) != NULL;
    }
}

/* name "(" args ")": the current token is the name, the next "(". */
static pvm_expr *parse_call(pvm_parser *p)
{
    pvm_token name = p->tok;
    pvm_parse_advance(p);
    pvm_expr **args;
    size_t nargs;
    if (!parse_args(p, &args, &nargs))
        return NULL;
    const pvm_function *f = pvm_function_lookup(p->lx.in + name.pos, name.len);
    if (!f) {
        char q[300];
        pvm_strbuf sb;
        pvm_strbuf_init_fixed(&sb, q, sizeof(q));
        pvm_strbuf_quote(&sb, p->lx.in + name.pos, name.len, 0);
        return pvm_parse_error(p, name.pos, name.pos + name.len,
                               "unknown function with name %s", q);
    }
    pvm_expr *e = pvm_parse_node(p, PVM_EXPR_CALL, name.pos, p->last_end);
    if (!e)
        return NULL;
    e->u.call.func = f;
    e->u.call.args = args;
    e->u.call.nargs = nargs;
    for (size_t i = 0; i < nargs; i++)
        if (!grow(p, e, args[i]))
            return NULL;
    return e;
}

/* by (...) or without (...) of an aggregation. */
static bool parse_aggr_modifier(pvm_parser *p, pvm_aggregate *ag)
{
    ag->without = p->tok.type == PVM_T_WITHOUT;
    pvm_parse_advance(p);
    return pvm_parse_label_list(p, &ag->grouping);
}

/* Checks the argument count and assigns param and expr. */
static pvm_expr *finish_aggregate(pvm_parser *p, pvm_expr *e, pvm_expr **args,
                                  size_t nargs)
{
    pvm_aggregate *ag = &e->u.aggregate;
    if (nargs == 0)
        return pvm_parse_error(p, e->pos, e->end,
                               "no arguments for "
                               "aggregate expression "
                               "provided");
    size_t want = pvm_aggr_op_has_param(ag->op) ? 2 : 1;
    if (nargs != want)
        return pvm_parse_error(p, e->pos, e->end,
                               "wrong number of arguments for aggregate "
                               "expression provided, expected %zu, got %zu",
                               want, nargs);
    ag->param = want == 2 ? args[0] : NULL;
    ag->expr = args[want - 1];
    for (size_t i = 0; i < nargs; i++)
        if (!grow(p, e, args[i]))
            return NULL;
    return e;
}

/* op [by|without (...)] "(" [param ","] expr ")" [by|without (...)] */
static pvm_expr *parse_aggregate(pvm_parser *p)
{
    pvm_expr *e = pvm_parse_node(p, PVM_EXPR_AGGREGATE, p->tok.pos, 0);
    if (!e)
        return NULL;
    e->u.aggregate.op = (pvm_aggr_op)(p->tok.type - PVM_T_SUM);
    pvm_parse_advance(p);
    p->in_aggr++;
    bool have_mod = false;
    pvm_expr **args = NULL;
    size_t nargs = 0;
    if (p->tok.type == PVM_T_BY || p->tok.type == PVM_T_WITHOUT) {
        if (!parse_aggr_modifier(p, &e->u.aggregate))
            goto fail;
        have_mod = true;
    }
    if (p->tok.type != PVM_T_LEFT_PAREN) {
        pvm_parse_unexpected(p, "aggregation", "");
        goto fail;
    }
    if (!parse_args(p, &args, &nargs))
        goto fail;
    if (!have_mod &&
        (p->tok.type == PVM_T_BY || p->tok.type == PVM_T_WITHOUT) &&
        !parse_aggr_modifier(p, &e->u.aggregate))
        goto fail;
    p->in_aggr--;
    e->end = p->last_end;
    return finish_aggregate(p, e, args, nargs);
fail:
    p->in_aggr--;
    return NULL;
}

/* ( expr ) */
static pvm_expr *parse_paren(pvm_parser *p)
{
    size_t pos = p->tok.pos;
    pvm_parse_advance(p);
    pvm_expr *inner = pvm_parse_expr(p, 0);
    if (!inner)
        return NULL;
    if (p->tok.type != PVM_T_RIGHT_PAREN)
        return generic_unexpected(p);
    pvm_parse_advance(p);
    pvm_expr *e = pvm_parse_node(p, PVM_EXPR_PAREN, pos, p->last_end);
    if (!e)
        return NULL;
    e->u.paren.expr = inner;
    return grow(p, e, inner) ? e : NULL;
}

/* Keywords that Prometheus also accepts as metric names. */
static bool is_metric_keyword(pvm_tok t)
{
    switch (t) {
    case PVM_T_BY:
    case PVM_T_FILL:
    case PVM_T_FILL_LEFT:
    case PVM_T_FILL_RIGHT:
    case PVM_T_LAND:
    case PVM_T_LOR:
    case PVM_T_LUNLESS:
    case PVM_T_OFFSET:
    case PVM_T_WITHOUT:
    case PVM_T_START:
    case PVM_T_END:
    case PVM_T_STEP:
    case PVM_T_RANGE:
    case PVM_T_ANCHORED:
    case PVM_T_SMOOTHED:
    case PVM_T_MAX_OF:
    case PVM_T_MIN_OF:
    case PVM_T_IDENTIFIER:
    case PVM_T_METRIC_IDENTIFIER: return true;
    default: return pvm_tok_is_aggregator(t);
    }
}

/* A literal, selector, call, aggregation or parenthesised expression. */
static pvm_expr *parse_primary(pvm_parser *p)
{
    pvm_tok t = p->tok.type;
    switch (t) {
    case PVM_T_NUMBER:
    case PVM_T_DURATION: return pvm_parse_number_literal(p);
    case PVM_T_STRING: return pvm_parse_string_literal(p);
    case PVM_T_LEFT_PAREN: return parse_paren(p);
    case PVM_T_LEFT_BRACE: return pvm_parse_vector_selector(p);
    default: break;
    }
    if (pvm_tok_is_aggregator(t)) {
        pvm_tok n = pvm_parse_peek(p)->type;
        if (n == PVM_T_LEFT_PAREN || n == PVM_T_BY || n == PVM_T_WITHOUT)
            return parse_aggregate(p);
    }
    if (t == PVM_T_IDENTIFIER || (t >= PVM_T_START && t <= PVM_T_MIN_OF)) {
        if (pvm_parse_peek(p)->type == PVM_T_LEFT_PAREN)
            return parse_call(p);
    }
    if (is_metric_keyword(t))
        return pvm_parse_vector_selector(p);
    return generic_unexpected(p);
}

/* [+|-] operand, the operand binding like ^ (Prometheus gives unary
 * operators the precedence of *, so -a^b is -(a^b) and -a*b is (-a)*b). */
static pvm_expr *parse_unary(pvm_parser *p)
{
    if (p->tok.type != PVM_T_ADD && p->tok.type != PVM_T_SUB) {
        pvm_expr *e = parse_primary(p);
        return e ? pvm_parse_postfix(p, e) : NULL;
    }
    pvm_token op = p->tok;
    pvm_parse_advance(p);
    pvm_expr *operand = pvm_parse_expr(p, PREC_POW);
    if (!operand)
        return NULL;
    if (operand->kind == PVM_EXPR_NUMBER) {
        /* Fold the sign into the literal, as Prometheus does. */
        if (op.type == PVM_T_SUB)
            operand->u.number.value = -operand->u.number.value;
        operand->pos = op.pos;
        return operand;
    }
    pvm_expr *e = pvm_parse_node(p, PVM_EXPR_UNARY, op.pos, operand->end);
    if (!e)
        return NULL;
    e->u.unary.op = op.type == PVM_T_SUB ? PVM_OP_SUB : PVM_OP_ADD;
    e->u.unary.expr = operand;
    return grow(p, e, operand) ? e : NULL;
}

/* Formats "line:col" of byte offset pos as Prometheus does (col counts
 * bytes from 1; "unknown position" for empty input). */
static void format_position(const char *in, size_t len, size_t pos, char *out,
                            size_t cap)
{
    if (len == 0) {
        snprintf(out, cap, "unknown position");
        return;
    }
    if (pos > len)
        pos = len;
    size_t line = 1, last_nl = (size_t)-1;
    for (size_t i = 0; i < pos; i++) {
        if (in[i] == '\n') {
            line++;
            last_nl = i;
        }
    }
    snprintf(out, cap, "%zu:%zu", line, pos - last_nl);
}

pvm_expr *pvm_promql_parse(pvm_arena *a, const char *input, size_t len,
                           pvm_error *err)
{
    pvm_parser p;
    memset(&p, 0, sizeof(p));
    p.a = a;
    pvm_lex_init(&p.lx, input ? input : "", input ? len : 0);
    pvm_parse_advance(&p);
    if (p.tok.type == PVM_T_EOF)
        pvm_parse_error(&p, 0, 0, "no expression found in input");
    pvm_expr *e = p.failed ? NULL : pvm_parse_expr(&p, 0);
    if (e && p.tok.type != PVM_T_EOF)
        e = generic_unexpected(&p);
    if (e && !pvm_parse_check(&p, e))
        e = NULL;
    if (e)
        return e;
    if (p.code == PVM_ERR_NOMEM) {
        pvm_error_set(err, PVM_ERR_NOMEM, "%s", p.msg);
        return NULL;
    }
    char where[64];
    format_position(p.lx.in, p.lx.len, p.err_pos, where, sizeof(where));
    pvm_error_set_pos(err, PVM_ERR_BAD_DATA, p.err_pos, p.err_end,
                      "%s: parse error: %s", where, p.msg);
    return NULL;
}
