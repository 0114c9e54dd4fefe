/* runner.h: the promqltest runner's shared types (tests/promql/runner*.c):
 * the in-memory store the `load` blocks fill, the parsed `eval` commands
 * and their expectations, the counts, and the functions the parts of the
 * runner call across files:
 *   runner_script.c  the script language: values, labels, durations,
 *                    eval commands and their expect lines
 *   runner_store.c   `load` blocks into the store; the engine's fetch
 *   runner_check.c   comparing results, annotations and failures
 *   runner.c         running evals (and their @/range variants), files,
 *                    main */
#ifndef PVM_TESTS_PROMQL_RUNNER_H
#define PVM_TESTS_PROMQL_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>

#include "labels.h"
#include "ast.h"
#include "engine.h"
#include "series.h"

#define MAX_LABELS 64
#define MAX_FAIL_PRINT 25
#define QUERY_ARENA_CAP ((size_t)512 << 20)
#define MAX_SAMPLES 50000000

/* One stored series. */
typedef struct stored {
    pvm_label *labels; /* sorted */
    size_t n;          /* number of labels */
    pvm_point *pts;    /* points in load order */
    size_t npts, cap;  /* count, capacity */
    bool has_hist;     /* had native histogram samples (not stored) */
} stored;

/* The store of the current file. */
typedef struct store {
    pvm_arena *a;  /* owns everything */
    stored *s;     /* series */
    size_t n, cap; /* count, capacity */
    bool hit_hist; /* the last query touched a histogram series */
} store;

/* One expected series or scalar. */
typedef struct expected {
    pvm_label labels[MAX_LABELS]; /* sorted */
    size_t n;                     /* labels */
    double *vals;                 /* values */
    bool *omitted;                /* `_` entries */
    size_t nvals;                 /* number of values */
    bool seen;                    /* matched while comparing */
} expected;

/* One expect line (or legacy form). */
typedef struct expect {
    int kind;    /* 'f' fail, 'w' warn, 'i' info, 'W' no_warn,
                          'I' no_info, 'o' ordered */
    char *msg;   /* exact message, or NULL */
    char *regex; /* regex (search), or NULL: match anything */
} expect;

/* A parsed eval command. */
typedef struct evalcmd {
    char *expr;                     /* query text */
    int line;                       /* line number (1-based) */
    bool range;                     /* range query */
    int64_t start, end, step;       /* times, ms */
    expect ex[32];                  /* expect lines */
    size_t nex;                     /* count */
    bool fail, warn, info, ordered; /* legacy modifiers */
    char *fail_msg;                 /* expected_fail_message */
    char *fail_regexp;              /* expected_fail_regexp */
    expected *exp;                  /* expected series */
    size_t nexp;                    /* count */
    bool scalar;                    /* expects a scalar */
    bool has_string;                /* expects a string */
    char *string;                   /* the string */
    bool range_vector;              /* expect range vector given */
    bool exclude_range;             /* skip the range-mode check */
    bool native;                    /* expected values use {{...}} */
} evalcmd;

/* Counts of a file or a run. */
typedef struct counts {
    int passed, failed, skip_native, skip_exp;
    int skip_missing; /* a directory of scripts that is not there */
} counts;

/* Options (runner.c): --experimental, -v. */
extern bool opt_experimental, opt_verbose;
/* Failures printed so far (runner.c). */
extern int printed_failures;
/* The message of the last failure (runner_check.c). */
extern char msgbuf[2048];

/* runner_script.c: the script language */
char *trim(char *s);
int parse_duration(const char *s, int64_t *ms);
int parse_metric(pvm_arena *a, const char **p, pvm_label *l, size_t *n);
int parse_values(pvm_arena *a, const char *p, double **vals, bool **om,
                 size_t *n, bool *hist);
int parse_eval(pvm_arena *a, char **lines, int i, int nlines, evalcmd *ev,
               char **why);

/* runner_store.c: the store */
int fetch(void *ctx, const pvm_fetch_request *req, pvm_series_set *out,
          pvm_error *err);
int do_load(store *st, char **lines, int i, int nlines, char **why);

/* runner_check.c: comparisons */
bool almost(double a, double b);
int failf(const char *fmt, ...) PVM_PRINTF(1, 2);
int compare_vector(evalcmd *ev, const pvm_result_series *ss, size_t n,
                   bool ordered);
int compare_result(evalcmd *ev, const pvm_eval_result *r);
bool has_kind(const evalcmd *ev, int kind);
int check_annos(evalcmd *ev, const pvm_eval_result *r);
bool expects_fail(const evalcmd *ev);
int check_failure(const evalcmd *ev, const char *msg);

#endif
