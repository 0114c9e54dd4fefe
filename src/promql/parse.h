/* parse.h: internals shared by the parser files (parse.c: expressions and
 * operators; parse_sel.c: selectors, matchers, modifiers, literals) and
 * the type checker (check.c). Not for use outside src/promql/. */
#ifndef PVM_PROMQL_PARSE_H
#define PVM_PROMQL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <pvm/arena.h>
#include <pvm/error.h>

#include "ast.h"
#include "lex.h"

/* Parser state, on the stack of pvm_promql_parse(). Only the first error
 * is kept (Prometheus reports the first one too). */
typedef struct pvm_parser {
    pvm_arena *a;    /* owner of the AST */
    pvm_lexer lx;    /* the token source */
    pvm_token tok;   /* current token */
    pvm_token ahead; /* one token of look-ahead, when has_ahead */
    bool has_ahead;  /* ahead is valid */
    size_t last_end; /* end of the last consumed token */
    int depth;       /* current recursion depth */
    int in_aggr;     /* open aggregation argument lists: generic
                            syntax errors then say "in aggregation" */
    bool failed;     /* an error was recorded */
    int code;        /* its pvm_status (BAD_DATA or NOMEM) */
    size_t err_pos;  /* its byte range */
    size_t err_end;
    char msg[400]; /* its message, without the position prefix */
} pvm_parser;

/* Token handling. */
void pvm_parse_advance(pvm_parser *p);
const pvm_token *pvm_parse_peek(pvm_parser *p);
bool pvm_parse_accept(pvm_parser *p, pvm_tok type);

/* Records an error (the first one wins); returns NULL for convenience. */
void *pvm_parse_error(pvm_parser *p, size_t pos, size_t end, const char *fmt,
                      ...) PVM_PRINTF(4, 5);

/* Records "unexpected <current token>[ in context][, expected what]";
 * for a lexical error token, its message. Returns NULL. */
void *pvm_parse_unexpected(pvm_parser *p, const char *context,
                           const char *expected);

/* Records the arena-exhausted error. Returns NULL. */
void *pvm_parse_nomem(pvm_parser *p);

/* A new zeroed node of kind spanning [pos, end). */
pvm_expr *pvm_parse_node(pvm_parser *p, pvm_expr_kind kind, size_t pos,
                         size_t end);

/* Grammar entry points (parse.c). */
pvm_expr *pvm_parse_expr(pvm_parser *p, int min_prec);

/* Selectors and literals (parse_sel.c). The current token starts them. */
pvm_expr *pvm_parse_vector_selector(pvm_parser *p);
pvm_expr *pvm_parse_number_literal(pvm_parser *p);
pvm_expr *pvm_parse_string_literal(pvm_parser *p);

/* Postfix modifiers after a primary: [range], [range:step], offset, @.
 * Returns e (modified) or a new matrix/subquery node; NULL on error. */
pvm_expr *pvm_parse_postfix(pvm_parser *p, pvm_expr *e);

/* A parenthesised label list for by/without/on/ignoring/group_x. Returns
 * false on error. */
bool pvm_parse_label_list(pvm_parser *p, pvm_label_list *out);

/* Go's strconv number syntax (ParseInt base 0, then ParseFloat) on a
 * NUMBER token; false with an error recorded when invalid. */
bool pvm_parse_number_text(pvm_parser *p, const pvm_token *t, double *out);

/* model.ParseDuration on a DURATION token: milliseconds. */
bool pvm_parse_duration_text(pvm_parser *p, const pvm_token *t, int64_t *ms);

/* Type checking after a successful parse (check.c): Prometheus'
 * checkAST. Returns false with an error recorded. */
bool pvm_parse_check(pvm_parser *p, pvm_expr *e);

#endif
