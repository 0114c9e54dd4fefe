/* fuzz_sql.c: libFuzzer target for the SQL core's byte parsers
 * (plugins/sql_text.c). The first byte picks the parser (and for the
 * rewrite the placeholder style), the rest is its input up to the first
 * NUL:
 *   0-2  pvm_sql_rewrite with "$N", "?" or "?N" placeholders: on success
 *        the output has exactly nparams placeholders' worth of params and
 *        keeps every byte outside :names; on failure a message
 *   3    pvm_sql_regex_literals: alternatives non-empty, NUL-free, in buf
 *   4    pvm_sql_metrics_parse: valid column and metric names
 *   5    pvm_sql_names_parse: valid label names
 *   6    pvm_sql_parse_time and pvm_sql_parse_number
 * Any violation aborts. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char style; /* '$', '?' or 'n' (?N) */

static void placeholder(unsigned i, char *buf, size_t n)
{
    if (style == '$')
        snprintf(buf, n, "$%u", i);
    else if (style == '?')
        snprintf(buf, n, "?");
    else
        snprintf(buf, n, "?%u", i);
}

static void rewrite(const char *s)
{
    pvm_sql_driver d = {.name = "fuzz",
                        .ident_quote = style == '?' ? '`' : '"',
                        .text_cast = "CAST(%s AS TEXT)",
                        .placeholder = placeholder};
    char *out = NULL;
    pvm_sql_named *p = NULL;
    size_t n = 0;
    pvm_error err = {0};
    if (pvm_sql_rewrite(s, &d, &out, &p, &n, &err) < 0) {
        if (!err.msg[0] || out)
            abort();
        return;
    }
    if (!out || (n && !p))
        abort();
    for (size_t i = 0; i < n; i++)
        if (p[i] > PVM_SQL_LOOKBACK)
            abort();
    /* each :name (6..9 bytes) becomes a placeholder (1..4 bytes here) */
    if (strlen(out) > strlen(s) + 4 * n)
        abort();
    free(out);
    free(p);
}

static void literals(const char *s)
{
    size_t n = strlen(s) + 1;
    char *buf = malloc(n);
    const char *alts[64];
    if (!buf)
        return;
    size_t k = pvm_sql_regex_literals(s, buf, n, alts, 64);
    if (k > 64)
        abort();
    for (size_t i = 0; i < k; i++)
        if (alts[i] < buf || alts[i] >= buf + n || !alts[i][0] ||
            alts[i] + strlen(alts[i]) >= buf + n)
            abort();
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    pvm_error err = {0};
    switch (data[0] % 7) {
    case 0: style = '$', rewrite(s); break;
    case 1: style = '?', rewrite(s); break;
    case 2: style = 'n', rewrite(s); break;
    case 3: literals(s); break;
    case 4: {
        pvm_sql_metric *m = NULL;
        size_t n = 0;
        if (pvm_sql_metrics_parse(s, &m, &n, &err) == 0) {
            for (size_t i = 0; i < n; i++) {
                if (!pvm_is_label_name(m[i].column) ||
                    !pvm_is_metric_name(m[i].name))
                    abort();
                free(m[i].column);
                free(m[i].name);
            }
            free(m);
        } else if (!err.msg[0]) {
            abort();
        }
        break;
    }
    case 5: {
        char **v = NULL;
        size_t n = 0;
        if (pvm_sql_names_parse(s, &v, &n, &err) == 0) {
            for (size_t i = 0; i < n; i++) {
                if (!pvm_is_label_name(v[i]))
                    abort();
                free(v[i]);
            }
            free(v);
        } else if (!err.msg[0]) {
            abort();
        }
        break;
    }
    default: {
        int64_t ms;
        double d;
        size_t n = size - 1; /* the bytes, NULs included */
        memcpy(s, data + 1, n);
        pvm_sql_parse_time(s, n, &ms);
        pvm_sql_parse_number(s, n, &d);
        break;
    }
    }
    free(s);
    return 0;
}
