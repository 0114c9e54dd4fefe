/* ast.h: the PromQL abstract syntax tree produced by the parser and read by
 * the type checker, the pretty-printer and the evaluator.
 *
 * Ownership: every node, string and array reachable from a pvm_expr lives
 * in the pvm_arena given to pvm_promql_parse() and is valid until that
 * arena is freed or reset. Nothing is freed piece by piece; compiled
 * regexes of matchers are released by arena cleanup callbacks.
 * The tree is immutable after parsing: readers never modify it.
 *
 * Positions are byte offsets into the parsed input (end exclusive), as in
 * Prometheus; they become "line:col" only when an error is formatted. */
#ifndef PVM_PROMQL_AST_H
#define PVM_PROMQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>
#include <pvm/error.h>

#include "matcher.h"

/* Most levels of nesting (parentheses, unary and binary operators, calls,
 * aggregations, selectors) an expression may have. Deeper input fails with
 * "... too deeply nested"; every recursive walker may rely on it. */
#define PVM_PROMQL_MAX_DEPTH 1000

/* The type an expression evaluates to. */
typedef enum pvm_value_type {
    PVM_VT_NONE,   /* no value (never the type of a valid expression) */
    PVM_VT_SCALAR, /* a float; "scalar" */
    PVM_VT_VECTOR, /* an instant vector; "instant vector" */
    PVM_VT_MATRIX, /* a range vector; "range vector" */
    PVM_VT_STRING, /* a string; "string" */
} pvm_value_type;

/* Node kinds. */
typedef enum pvm_expr_kind {
    PVM_EXPR_NUMBER,          /* number literal: u.number */
    PVM_EXPR_STRING,          /* string literal: u.string */
    PVM_EXPR_VECTOR_SELECTOR, /* name{matchers} offset @: u.vs */
    PVM_EXPR_MATRIX_SELECTOR, /* vector selector [range]: u.matrix */
    PVM_EXPR_SUBQUERY,        /* expr[range:step] offset @: u.subquery */
    PVM_EXPR_PAREN,           /* ( expr ): u.paren */
    PVM_EXPR_UNARY,           /* + expr, - expr: u.unary */
    PVM_EXPR_BINARY,          /* lhs op rhs: u.binary */
    PVM_EXPR_AGGREGATE,       /* sum by (l) (expr): u.aggregate */
    PVM_EXPR_CALL,            /* func(args): u.call */
} pvm_expr_kind;

/* Binary (and unary: ADD, SUB) operators, lowest precedence first:
 * or < and unless < comparisons and </ >/ < + - < * / % atan2 < ^ (right
 * associative). */
typedef enum pvm_binop {
    PVM_OP_OR,         /* or */
    PVM_OP_AND,        /* and */
    PVM_OP_UNLESS,     /* unless */
    PVM_OP_EQLC,       /* == */
    PVM_OP_NEQ,        /* != */
    PVM_OP_LSS,        /* < */
    PVM_OP_LTE,        /* <= */
    PVM_OP_GTR,        /* > */
    PVM_OP_GTE,        /* >= */
    PVM_OP_TRIM_UPPER, /* </ (trims native histograms above a value) */
    PVM_OP_TRIM_LOWER, /* >/ (trims native histograms below a value) */
    PVM_OP_ADD,        /* + */
    PVM_OP_SUB,        /* - */
    PVM_OP_MUL,        /* * */
    PVM_OP_DIV,        /* / */
    PVM_OP_MOD,        /* % */
    PVM_OP_ATAN2,      /* atan2 */
    PVM_OP_POW,        /* ^ */
} pvm_binop;

/* Aggregation operators. */
typedef enum pvm_aggr_op {
    PVM_AGGR_SUM,
    PVM_AGGR_AVG,
    PVM_AGGR_COUNT,
    PVM_AGGR_MIN,
    PVM_AGGR_MAX,
    PVM_AGGR_GROUP,
    PVM_AGGR_STDDEV,
    PVM_AGGR_STDVAR,
    PVM_AGGR_TOPK,         /* param: scalar k */
    PVM_AGGR_BOTTOMK,      /* param: scalar k */
    PVM_AGGR_QUANTILE,     /* param: scalar phi */
    PVM_AGGR_COUNT_VALUES, /* param: string, the output label */
    PVM_AGGR_LIMITK,       /* param: scalar k (experimental) */
    PVM_AGGR_LIMIT_RATIO,  /* param: scalar ratio (experimental) */
} pvm_aggr_op;

/* The @ modifier of a selector or subquery. */
typedef enum pvm_at_kind {
    PVM_AT_NONE,      /* no @ modifier */
    PVM_AT_TIMESTAMP, /* @ <number>: at_ms holds the time */
    PVM_AT_START,     /* @ start(): the start of the query range */
    PVM_AT_END,       /* @ end(): the end of the query range */
} pvm_at_kind;

/* Cardinality of a binary operation between two instant vectors. */
typedef enum pvm_card {
    PVM_CARD_ONE_TO_ONE,   /* no group modifier */
    PVM_CARD_MANY_TO_ONE,  /* group_left */
    PVM_CARD_ONE_TO_MANY,  /* group_right */
    PVM_CARD_MANY_TO_MANY, /* set operators (and, or, unless) */
} pvm_card;

/* A list of label names (grouping, on/ignoring, group_left/right). */
typedef struct pvm_label_list {
    const char **names; /* n NUL-terminated names, in source order */
    size_t n;           /* number of names; 0 for "()" or absent */
} pvm_label_list;

typedef struct pvm_expr pvm_expr;

/* A function of the language; one static table (functions.def) shared by
 * the parser, the checker and the evaluator. */
typedef struct pvm_function {
    int id;                /* PVM_FN_* from functions.h, index in table */
    const char *name;      /* "rate" */
    const char *arg_types; /* one char per declared argument:
                                 'v' instant vector, 'm' range vector,
                                 's' scalar, 'S' string */
    int variadic;          /* 0: exactly strlen(arg_types) args;
                                 n > 0: the last declared argument is
                                 optional and may repeat up to n times in
                                 all (so strlen-1 .. strlen-1+n args);
                                 -1: the last one repeats without limit */
    pvm_value_type ret;    /* return type */
    bool experimental;     /* experimental in Prometheus (accepted here) */
} pvm_function;

/* A vector selector: `name{l="v", ...} @ t offset d`. */
typedef struct pvm_vector_selector {
    const char *name;        /* metric name written before the braces, or
                                NULL (also NULL for {"name"} and
                                {__name__="name"}, as in Prometheus) */
    pvm_matcher *matchers;   /* all matchers in source order; the implicit
                                __name__="name" matcher of `name` comes
                                last, as in Prometheus */
    size_t nmatchers;        /* number of matchers */
    int64_t offset_ms;       /* offset modifier in ms (negative allowed),
                                0 if none; for a matrix selector the
                                offset written after the range */
    int at_kind;             /* a pvm_at_kind */
    int64_t at_ms;           /* @ time in ms since the epoch, when
                                at_kind == PVM_AT_TIMESTAMP, else 0 */
    bool bypass_empty_check; /* second argument of info(): exempt from the
                                "at least one non-empty matcher" rule */
} pvm_vector_selector;

/* A range vector selector: `vector_selector[range]`. Its offset and @
 * modifiers are stored in the inner vector selector, as in Prometheus. */
typedef struct pvm_matrix_selector {
    pvm_expr *vs;     /* the PVM_EXPR_VECTOR_SELECTOR node */
    int64_t range_ms; /* range in ms, > 0 */
} pvm_matrix_selector;

/* A subquery: `expr[range:step] @ t offset d`. */
typedef struct pvm_subquery {
    pvm_expr *expr;    /* the inner expression (an instant vector) */
    int64_t range_ms;  /* range in ms, > 0 */
    int64_t step_ms;   /* resolution in ms; 0 = default (`[30m:]`) */
    int64_t offset_ms; /* offset in ms, 0 if none */
    int at_kind;       /* a pvm_at_kind */
    int64_t at_ms;     /* @ time in ms when at_kind == PVM_AT_TIMESTAMP */
} pvm_subquery;

/* Vector matching of a binary operation between two instant vectors. */
typedef struct pvm_vector_matching {
    pvm_card card;          /* one-to-one, many-to-one (group_left),
                                one-to-many (group_right), many-to-many
                                (always for and/or/unless) */
    bool on;                /* true: on(labels); false: ignoring(labels)
                                (or no clause, labels empty) */
    pvm_label_list labels;  /* the on/ignoring labels */
    pvm_label_list include; /* extra labels of group_left/group_right */
} pvm_vector_matching;

/* A binary operation. */
typedef struct pvm_binary {
    pvm_binop op;                  /* the operator */
    pvm_expr *lhs;                 /* left operand */
    pvm_expr *rhs;                 /* right operand */
    bool return_bool;              /* `bool` modifier (comparisons only):
                                      return 0/1 instead of filtering */
    pvm_vector_matching *matching; /* set when both sides are instant
                                      vectors (after type checking), NULL
                                      when a side is a scalar */
} pvm_binary;

/* An aggregation. */
typedef struct pvm_aggregate {
    pvm_aggr_op op;          /* the operator */
    pvm_expr *expr;          /* the aggregated instant vector */
    pvm_expr *param;         /* parameter of topk, bottomk, quantile,
                                 count_values, limitk, limit_ratio; NULL
                                 for the others */
    pvm_label_list grouping; /* by/without labels */
    bool without;            /* true: without(grouping); false: by */
} pvm_aggregate;

/* A function call. */
typedef struct pvm_call {
    const pvm_function *func; /* entry of the function table */
    pvm_expr **args;          /* nargs arguments */
    size_t nargs;             /* number of arguments */
} pvm_call;

/* An expression node: a tagged union. */
struct pvm_expr {
    pvm_expr_kind kind; /* selects the member of u */
    size_t pos;         /* byte offset where the expression starts */
    size_t end;         /* byte offset one past its end (for selectors
                            and subqueries: after the last modifier) */
    unsigned height;    /* 1 + height of the deepest child (leaves: 1);
                            never above PVM_PROMQL_MAX_DEPTH */
    union {
        struct {
            double value;     /* the number (sign folded in: `-1` is a
                                   literal -1) */
            bool is_duration; /* written as a duration (`5m`): printed
                                   back as one; value is in seconds */
        } number;
        struct {
            const char *value; /* unescaped bytes, NUL-terminated */
            size_t len;        /* bytes in value (may contain NUL) */
        } string;
        pvm_vector_selector vs;
        pvm_matrix_selector matrix;
        pvm_subquery subquery;
        struct {
            pvm_expr *expr; /* the wrapped expression */
        } paren;
        struct {
            pvm_binop op;   /* PVM_OP_ADD or PVM_OP_SUB */
            pvm_expr *expr; /* the operand (never a number literal:
                                   those get the sign folded in) */
        } unary;
        pvm_binary binary;
        pvm_aggregate aggregate;
        pvm_call call;
    } u;
};

/* Parses and type-checks PromQL text (len bytes, NUL bytes allowed).
 * Returns the root node, allocated in a; or NULL with err filled: code
 * PVM_ERR_BAD_DATA, pos/end the offending byte range and msg the complete
 * Prometheus-style text "1:14: parse error: unexpected ...", or
 * PVM_ERR_NOMEM when the arena's cap was hit. Cost: linear in the input,
 * plus n log n to print or compare large selectors. */
pvm_expr *pvm_promql_parse(pvm_arena *a, const char *input, size_t len,
                           pvm_error *err);

/* The type e evaluates to (PVM_VT_NONE for NULL). */
pvm_value_type pvm_expr_type(const pvm_expr *e);

/* Prometheus' name of a type in messages: "scalar", "instant vector",
 * "range vector", "string", "none". */
const char *pvm_value_type_name(pvm_value_type t);

/* Canonical PromQL text of e, as Prometheus' String(): allocated in a;
 * NULL when the arena is exhausted. Parsing the result gives an AST equal
 * to e (pvm_expr_equal of tests/promql/equal.h). */
char *pvm_promql_format(pvm_arena *a, const pvm_expr *e);

/* Collects the vector selector nodes of e in source order, including the
 * ones inside matrix selectors and subqueries. *out (allocated in a) gets
 * *n pointers; *out is NULL when *n is 0. Returns 0 or PVM_ERR_NOMEM. */
int pvm_expr_selectors(const pvm_expr *e, pvm_arena *a, const pvm_expr ***out,
                       size_t *n);

/* The selector of a PVM_EXPR_VECTOR_SELECTOR node, or of the vector
 * selector inside a PVM_EXPR_MATRIX_SELECTOR node; NULL for other nodes. */
const pvm_vector_selector *pvm_expr_vector_selector(const pvm_expr *e);

/* The range in ms of a matrix selector or subquery node; 0 otherwise. */
int64_t pvm_expr_range_ms(const pvm_expr *matrix_selector_node);

/* "+", "and", "atan2", ... and "sum", "count_values", ... */
const char *pvm_binop_str(pvm_binop op);
const char *pvm_aggr_op_str(pvm_aggr_op op);

/* Predicates of operators. */
bool pvm_binop_is_comparison(pvm_binop op);
bool pvm_binop_is_set(pvm_binop op);

/* True for aggregations that take a parameter (topk, quantile, ...). */
bool pvm_aggr_op_has_param(pvm_aggr_op op);

#endif
