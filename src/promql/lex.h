/* lex.h: the PromQL lexer. A pull lexer over a byte range with the same
 * context rules as Prometheus' lex.go: label matchers inside braces and
 * durations inside brackets are lexed differently from the rest, keywords
 * are case-insensitive, comments (# to end of line) are skipped. */
#ifndef PVM_PROMQL_LEX_H
#define PVM_PROMQL_LEX_H

#include <stdbool.h>
#include <stddef.h>

/* Token types. The groups (operators, aggregators, keywords,
 * preprocessors) matter for how tokens are described in errors. */
typedef enum pvm_tok {
    PVM_T_EOF,               /* end of input */
    PVM_T_ERROR,             /* lexical error: see pvm_lexer.errmsg */
    PVM_T_IDENTIFIER,        /* foo, label names */
    PVM_T_METRIC_IDENTIFIER, /* foo:bar (contains a colon) */
    PVM_T_NUMBER,            /* 1, 1.5e3, 0x3d, Inf, NaN */
    PVM_T_DURATION,          /* 5m, 1h30m */
    PVM_T_STRING,            /* "...", '...', `...` (quotes included) */
    PVM_T_LEFT_PAREN,        /* ( */
    PVM_T_RIGHT_PAREN,       /* ) */
    PVM_T_LEFT_BRACE,        /* { */
    PVM_T_RIGHT_BRACE,       /* } */
    PVM_T_LEFT_BRACKET,      /* [ */
    PVM_T_RIGHT_BRACKET,     /* ] */
    PVM_T_COMMA,             /* , */
    PVM_T_EQL,               /* = */
    PVM_T_COLON,             /* : */
    /* operators */
    PVM_T_OPS_START,
    PVM_T_ADD,        /* + */
    PVM_T_SUB,        /* - */
    PVM_T_MUL,        /* * */
    PVM_T_DIV,        /* / */
    PVM_T_MOD,        /* % */
    PVM_T_POW,        /* ^ */
    PVM_T_EQLC,       /* == */
    PVM_T_NEQ,        /* != */
    PVM_T_LSS,        /* < */
    PVM_T_LTE,        /* <= */
    PVM_T_GTR,        /* > */
    PVM_T_GTE,        /* >= */
    PVM_T_TRIM_UPPER, /* </ */
    PVM_T_TRIM_LOWER, /* >/ */
    PVM_T_EQL_REGEX,  /* =~ */
    PVM_T_NEQ_REGEX,  /* !~ */
    PVM_T_AT,         /* @ */
    PVM_T_LAND,       /* and */
    PVM_T_LOR,        /* or */
    PVM_T_LUNLESS,    /* unless */
    PVM_T_ATAN2,      /* atan2 */
    PVM_T_OPS_END,
    /* aggregators, in pvm_aggr_op order */
    PVM_T_AGGR_START,
    PVM_T_SUM,
    PVM_T_AVG,
    PVM_T_COUNT,
    PVM_T_MIN,
    PVM_T_MAX,
    PVM_T_GROUP,
    PVM_T_STDDEV,
    PVM_T_STDVAR,
    PVM_T_TOPK,
    PVM_T_BOTTOMK,
    PVM_T_QUANTILE,
    PVM_T_COUNT_VALUES,
    PVM_T_LIMITK,
    PVM_T_LIMIT_RATIO,
    PVM_T_AGGR_END,
    /* keywords */
    PVM_T_KW_START,
    PVM_T_BOOL,
    PVM_T_BY,
    PVM_T_GROUP_LEFT,
    PVM_T_GROUP_RIGHT,
    PVM_T_FILL,      /* fill, fill_left, fill_right: only when */
    PVM_T_FILL_LEFT, /* followed by "(" (experimental, rejected) */
    PVM_T_FILL_RIGHT,
    PVM_T_IGNORING,
    PVM_T_OFFSET,
    PVM_T_SMOOTHED, /* experimental modifiers (rejected) */
    PVM_T_ANCHORED,
    PVM_T_ON,
    PVM_T_WITHOUT,
    PVM_T_KW_END,
    /* preprocessors: start() end() and duration-expression words */
    PVM_T_START,
    PVM_T_END,
    PVM_T_STEP,
    PVM_T_RANGE,
    PVM_T_MAX_OF,
    PVM_T_MIN_OF,
} pvm_tok;

/* A token: its type and where its text is in the input. */
typedef struct pvm_token {
    pvm_tok type; /* the type */
    size_t pos;   /* byte offset of its first byte */
    size_t len;   /* length in bytes */
} pvm_token;

/* Lexer state (on the caller's stack; no allocation). */
typedef struct pvm_lexer {
    const char *in;    /* the input */
    size_t len;        /* its length in bytes */
    size_t pos;        /* next byte to read */
    int paren_depth;   /* open ( */
    bool brace_open;   /* inside { } */
    bool bracket_open; /* inside [ ] */
    bool got_colon;    /* saw ':' since [ */
    bool got_duration; /* saw a number or duration since [ */
    bool in_duration;  /* right after [ or ':' in brackets (Prometheus'
                           lexDurationExpr state) */
    bool done;         /* EOF or an error was returned */
    char errmsg[256];  /* message of the last PVM_T_ERROR */
} pvm_lexer;

void pvm_lex_init(pvm_lexer *lx, const char *in, size_t len);

/* Reads the next token into t. After PVM_T_EOF or PVM_T_ERROR it keeps
 * returning the same kind. An error token starts where the offending
 * item starts; its message is in lx->errmsg. */
void pvm_lex_next(pvm_lexer *lx, pvm_token *t);

/* Appends Prometheus' description of t to msg (size cap), as used in
 * "unexpected <desc>": `"}"`, `identifier "foo"`, `<aggr:sum>`,
 * `<op:+>`, `<by>`, `end of input`, `number "1"`. */
void pvm_tok_describe(const pvm_lexer *lx, const pvm_token *t, char *msg,
                      size_t cap);

/* Unquotes a PVM_T_STRING token text s (n bytes, quotes included, already
 * validated by the lexer): Go escapes for "..." and '...', none for `...`.
 * Returns the NUL-terminated bytes in a (length in *out_len), or NULL when
 * the arena is exhausted. */
struct pvm_arena;
char *pvm_lex_unquote(struct pvm_arena *a, const char *s, size_t n,
                      size_t *out_len);

/* Keyword groups. */
bool pvm_tok_is_aggregator(pvm_tok t);
bool pvm_tok_is_operator(pvm_tok t);
bool pvm_tok_is_keyword(pvm_tok t);

#endif
