/* plugins/http_jq.h: the JSON format of the http plugin: a jq program
 * (libjq) compiled once per instance maps an answer to objects
 * {"metric": NAME, "labels": {...}, "timestamp": T, "value": V}, which
 * become samples. */
#ifndef PVM_PLUGINS_HTTP_JQ_H
#define PVM_PLUGINS_HTTP_JQ_H

#include <stdbool.h>
#include <stddef.h>

#include "http_plugin.h"

typedef struct pvm_http_jq pvm_http_jq;

/* Compiles program with $start, $stop (the end), $step (unix seconds,
 * numbers; jq 1.6 refuses `$end`, a keyword) and
 * $matchers (an object: label name -> value of the selector's equality
 * matchers) defined. NULL with err holding jq's message on a syntax or
 * compile error (err->msg "jq: ..."). Free with pvm_http_jq_free. */
pvm_http_jq *pvm_http_jq_compile(const char *program, pvm_error *err);
void pvm_http_jq_free(pvm_http_jq *j);

/* The variables of one run. */
typedef struct pvm_http_jq_vars {
    int64_t start, end, step; /* ms */
    const pvm_selector *sel;  /* for $matchers, or NULL */
} pvm_http_jq_vars;

/* Parses json (len bytes) and runs the program on it, feeding each
 * output to sink (pvm_http_jq_convert). in_ms: numeric timestamps are
 * milliseconds. 0, or a negative status with err: invalid JSON, a jq
 * runtime error, an output of the wrong shape (err->msg says which
 * output and what was wrong), or what the sink returned. */
int pvm_http_jq_run(pvm_http_jq *j, const char *json, size_t len,
                    const pvm_http_jq_vars *vars, bool in_ms,
                    pvm_http_sink *sink, pvm_error *err);

/* Converts the JSON values in text (len bytes: a sequence of values, as
 * jq prints them) as outputs of a program: the conversion
 * pvm_http_jq_run applies, on its own (for the fuzz target and tests). */
int pvm_http_jq_convert_text(const char *text, size_t len, bool in_ms,
                             pvm_http_sink *sink, pvm_error *err);

#endif
