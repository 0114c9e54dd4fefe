/* plugins/http_plugin.h: what the parts of the `http` plugin type share
 * (http.c: the type and its hooks; http_template.c: placeholders and
 * times; http_jq.c: JSON through jq; http_csv.c: CSV columns): the sample
 * sink every payload converter feeds, and the time helpers. */
#ifndef PVM_PLUGINS_HTTP_PLUGIN_H
#define PVM_PLUGINS_HTTP_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/pvm.h>

#define PVM_HTTP_MAX_LABELS 64 /* labels per sample, at most */

/* Where converted samples go. add returns 0 or a negative status (with
 * err set: then the conversion stops). Strings are borrowed for the call. */
typedef struct pvm_http_sink {
    int (*add)(struct pvm_http_sink *self, const char *name,
               const pvm_label *labels, size_t nlabels, int64_t t_ms,
               double value, pvm_error *err);
} pvm_http_sink;

/* ---- times (http_template.c) ---------------------------------------- */

/* Parses an RFC 3339 time ("2024-05-01T12:00:00Z", fraction and
 * "+02:00" offsets allowed; 'T' or ' ', 'Z' or 'z') of n bytes into ms
 * since the epoch. 0, or PVM_ERR_BAD_DATA. */
int pvm_http_rfc3339_parse(const char *s, size_t n, int64_t *ms);

/* Writes ms as RFC 3339 UTC ("2024-05-01T12:00:00Z", with ".123" when
 * not whole seconds) into buf (at least 32 bytes). */
void pvm_http_rfc3339_format(int64_t ms, char *buf, size_t n);

/* A sample time written as text (n bytes, blanks around ignored): a
 * number of seconds (of milliseconds when in_ms) or an RFC 3339 time.
 * 0 with *ms, or PVM_ERR_BAD_DATA. */
int pvm_http_time_text(const char *s, size_t n, bool in_ms, int64_t *ms);

/* A sample time given as a number of seconds (milliseconds when in_ms).
 * 0 with *ms, or PVM_ERR_BAD_DATA when not finite or out of range. */
int pvm_http_time_number(double v, bool in_ms, int64_t *ms);

/* ---- placeholders (http_template.c) --------------------------------- */

/* What the placeholders of `url` and `body` stand for in one fetch. */
typedef struct pvm_http_vars {
    int64_t start, end, step; /* ms */
    const pvm_selector *sel;  /* its equality matchers, or NULL */
} pvm_http_vars;

/* Checks a template's placeholders ({start}, {start_ms},
 * {start_rfc3339}, the same for end, {step}, {step_ms},
 * {matcher.LABEL}); a brace not followed by a word and '}' is text. 0,
 * or PVM_ERR_BAD_DATA naming an unknown {word}. */
int pvm_http_template_check(const char *tmpl, pvm_error *err);

/* Expands tmpl into the arena: times as the placeholder says, matcher
 * values (the first `LABEL="value"` of the selector, "" when none)
 * percent-encoded. NULL when out of the arena's memory. */
char *pvm_http_expand(pvm_arena *a, const char *tmpl, const pvm_http_vars *v);

#endif
