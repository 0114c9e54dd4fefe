/* prometheus_core.h: the text the prometheus plugin exchanges with an
 * upstream Prometheus-compatible API, without any I/O: selectors printed
 * as PromQL (prometheus_sel.c), selectors of the `match` and
 * `external_labels` settings parsed, and the JSON answers of /query,
 * /series, /labels and /label/<name>/values read with json-c
 * (prometheus_json.c). Unit-tested and fuzzed on their own. */
#ifndef PVM_PROMETHEUS_CORE_H
#define PVM_PROMETHEUS_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/pvm.h>

/* ---- a growing byte buffer ---------------------------------------------- */

/* malloc'd text; after a failed allocation `failed` is set and further
 * appends do nothing (check once at the end). */
typedef struct pvm_prom_buf {
    char *p;     /* the bytes, NUL-terminated when len > 0, or NULL */
    size_t len;  /* bytes used */
    size_t cap;  /* bytes allocated */
    bool failed; /* an allocation failed */
} pvm_prom_buf;

void pvm_prom_buf_add(pvm_prom_buf *b, const char *s, size_t n);
void pvm_prom_buf_puts(pvm_prom_buf *b, const char *s);
void pvm_prom_buf_printf(pvm_prom_buf *b, const char *fmt, ...)
    PVM_PRINTF(2, 3);
/* Frees the bytes and empties the buffer. */
void pvm_prom_buf_free(pvm_prom_buf *b);

/* ---- selectors ------------------------------------------------------------ */

/* One label matcher; strings borrowed (or malloc'd when parsed). */
typedef struct pvm_prom_matcher {
    const char *name;  /* label name (__name__ for the metric name) */
    pvm_match_op op;   /* =, !=, =~, !~ */
    const char *value; /* value or regex, any bytes but NUL */
} pvm_prom_matcher;

/* Appends s as a PromQL double-quoted string literal that both
 * Prometheus 2.x and 3.x read back as exactly the bytes of s: `"` and `\`
 * escaped, \n \r \t and other control bytes (and DEL) as escapes, valid
 * UTF-8 as it is, every byte of invalid UTF-8 as \xNN. */
void pvm_prom_quote(pvm_prom_buf *b, const char *s);

/* Appends a label name: bare when it is a legacy name
 * ([a-zA-Z_][a-zA-Z0-9_]*), else quoted (Prometheus 3's UTF-8 names). */
void pvm_prom_label_name(pvm_prom_buf *b, const char *name);

/* Appends `{m0,m1,...}`: every matcher in the braces, the metric name as
 * __name__="...", in the order given (n > 0). */
void pvm_prom_print_selector(pvm_prom_buf *b, const pvm_prom_matcher *m,
                             size_t n);

/* "=", "!=", "=~", "!~". */
const char *pvm_prom_op_text(pvm_match_op op);

/* A parsed selector: matchers malloc'd (names and values too). */
typedef struct pvm_prom_selector {
    pvm_prom_matcher *m; /* matchers, the metric name first as __name__ */
    size_t n;            /* number of matchers */
} pvm_prom_selector;

/* Parses a vector selector as PromQL writes it: an optional metric name
 * and an optional `{...}` of matchers (label names bare or quoted, values
 * in "", '' or `` with PromQL's escapes), blanks between tokens, nothing
 * after it (no range, offset or function). At least one matcher. Returns
 * 0, or PVM_ERR_BAD_DATA with err saying what and where (NUL bytes,
 * whether written or escaped, are refused), PVM_ERR_NOMEM. */
int pvm_prom_selector_parse(const char *text, size_t len,
                            pvm_prom_selector *out, pvm_error *err);
void pvm_prom_selector_free(pvm_prom_selector *s);

/* Appends the selector sent upstream for the request's selector s,
 * restricted by filter (a `match` selector, or NULL), for an instance
 * adding the external labels ext[0..next): s's matchers except those on
 * an external label's name (the upstream has no such label: pvm checks
 * them on the labels it returns, with the external labels added), then
 * filter's, then __name__=~".+" when none of them is an equality with a
 * non-empty value (Prometheus refuses selectors that match the empty
 * series). */
void pvm_prom_upstream_selector(pvm_prom_buf *b, const pvm_selector *s,
                                const pvm_prom_selector *filter,
                                const pvm_label *ext, size_t next);

/* The raw samples of a window [start, end] (ms, start <= end): the
 * instant query `SELECTOR[RANGE]` at time end with RANGE = end - start +
 * 1 ms returns them on Prometheus 2.x (closed windows: one millisecond
 * more) and 3.x (left-open windows) alike; appends "[RANGEms]". */
void pvm_prom_window(pvm_prom_buf *b, int64_t start, int64_t end);

/* A time in ms as the API's decimal seconds ("1700000000.123", "-0.5"),
 * into buf (at least 32 bytes). Returns buf. */
char *pvm_prom_format_time(char *buf, size_t n, int64_t ms);

/* ---- JSON answers ----------------------------------------------------------- */

/* Where the answer parsers deliver what they read. Unused callbacks may be
 * NULL. Strings and label arrays are valid during the call only. A
 * callback returns 0 to go on or a negative status to stop (the parser
 * then returns it). */
typedef struct pvm_prom_sink {
    /* a series of a matrix or vector result: its metric name (NULL when
     * the upstream sent none) and its other labels */
    int (*series)(void *arg, const char *name, const pvm_label *labels,
                  size_t n);
    /* a sample of the series announced last, ms and value */
    int (*point)(void *arg, int64_t t_ms, double v);
    /* a string of a /labels or /label/<name>/values answer */
    int (*value)(void *arg, const char *s);
    /* a label set of a /series answer (__name__ included) */
    int (*labelset)(void *arg, const pvm_label *labels, size_t n);
    /* a warning or info of the answer (info = true for "infos") */
    int (*warning)(void *arg, const char *msg, bool info);
    void *arg;         /* passed to each callback */
    size_t histograms; /* out: native histogram samples skipped */
} pvm_prom_sink;

/* What answer is expected. */
typedef enum pvm_prom_answer {
    PVM_PROM_ANSWER_QUERY,   /* /api/v1/query: a matrix or vector */
    PVM_PROM_ANSWER_STRINGS, /* /labels, /label/<name>/values */
    PVM_PROM_ANSWER_SERIES,  /* /series */
} pvm_prom_answer;

/* Reads an answer of the Prometheus HTTP API (len bytes, no NUL needed):
 * {"status":"success","data":...,"warnings":[...]} delivers data to sink
 * and returns 0; {"status":"error","errorType":T,"error":E} returns
 * PVM_ERR_TIMEOUT for T = timeout, else PVM_ERR_PLUGIN, with err->msg
 * "T: E"; anything else (not JSON, JSON of another shape, a label value
 * with a NUL, a timestamp or value that is not one) returns
 * PVM_ERR_PLUGIN with err->msg saying what is wrong (at most 120 bytes of
 * the answer quoted). A callback's negative return stops the reading and
 * is returned (err untouched). */
int pvm_prom_parse_answer(const char *body, size_t len, pvm_prom_answer kind,
                          pvm_prom_sink *sink, pvm_error *err);

#endif
