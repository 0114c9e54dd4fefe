/* strbuf.h: a growable string in an arena (doubling, so appends are
 * amortised O(1)), and Go-style quoting (strconv.Quote / QuoteRune, "%.Nq")
 * used by the printer and by error messages. */
#ifndef PVM_PROMQL_STRBUF_H
#define PVM_PROMQL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>
#include <pvm/error.h>

#include "utf8.h"

typedef struct pvm_strbuf {
    pvm_arena *arena; /* owner of buf; NULL: fixed buffer, truncating */
    char *buf;        /* the text, NUL-terminated when cap > 0 */
    size_t len;       /* bytes used, without the NUL */
    size_t cap;       /* bytes allocated */
    bool failed;      /* an allocation failed (or fixed buffer full) */
} pvm_strbuf;

/* An arena-backed buffer (grows), or one over a caller's fixed array
 * (truncates silently and sets failed). */
void pvm_strbuf_init(pvm_strbuf *sb, pvm_arena *a);
void pvm_strbuf_init_fixed(pvm_strbuf *sb, char *buf, size_t cap);

void pvm_strbuf_add(pvm_strbuf *sb, const char *s, size_t n);
/* Inserts s at byte offset at (<= len); a fixed buffer without room
 * for all of s is left unchanged and marked failed. */
void pvm_strbuf_insert(pvm_strbuf *sb, size_t at, const char *s);
void pvm_strbuf_puts(pvm_strbuf *sb, const char *s);
void pvm_strbuf_putc(pvm_strbuf *sb, char c);
void pvm_strbuf_printf(pvm_strbuf *sb, const char *fmt, ...) PVM_PRINTF(2, 3);

/* Appends s (n bytes) quoted like Go's strconv.Quote: "..." with \" \\
 * \n \t ... escapes, \xNN for invalid UTF-8 and control bytes. When
 * max_runes is nonzero, only the first max_runes characters are quoted
 * (Go's "%.10q"). */
void pvm_strbuf_quote(pvm_strbuf *sb, const char *s, size_t n,
                      size_t max_runes);

/* Appends a code point quoted like Go's %q on a rune: 'a', '\n', '�'. */
void pvm_strbuf_quote_rune(pvm_strbuf *sb, int32_t r);

/* Appends a code point like Go's %#U: U+0071 'q'. */
void pvm_strbuf_unicode(pvm_strbuf *sb, int32_t r);

#endif
