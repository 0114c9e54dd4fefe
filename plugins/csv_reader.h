/* plugins/csv_reader.h: an RFC 4180 CSV reader over a buffer in memory:
 * records of fields separated by a one-byte delimiter, ended by CRLF or
 * LF; fields may be quoted with '"' (a quoted field holds delimiters,
 * line breaks and "" for one quote). A UTF-8 byte order mark at the start
 * is skipped, blank lines are skipped. Hostile input gives an error with
 * its line, never a crash: an unterminated quote, text after a closing
 * quote, a quote inside an unquoted field, a NUL byte, more than
 * PVM_CSV_MAX_FIELDS fields. */
#ifndef PVM_PLUGINS_CSV_READER_H
#define PVM_PLUGINS_CSV_READER_H

#include <stddef.h>

#include <pvm/error.h>

#define PVM_CSV_MAX_FIELDS 4096 /* fields per record, at most */

typedef struct pvm_csv {
    const char *p, *end; /* what is left of the input */
    char delim;          /* the field separator */
    size_t line;         /* line where the last record read starts (1-) */
    size_t next_line;    /* line of the next byte */
    char *buf;           /* the record's fields, unquoted, NUL-ended */
    size_t len, cap;     /* bytes of buf used / allocated */
    size_t *off;         /* offset of each field in buf */
    size_t nf, fcap;     /* fields read / offsets allocated */
} pvm_csv;

/* Reads data (len bytes, borrowed until the reader is freed). */
void pvm_csv_init(pvm_csv *r, const char *data, size_t len, char delim);

/* Reads the next record: 1 (then pvm_csv_field gives its fields), 0 at
 * the end, or a negative status with err ("line N: ..."). */
int pvm_csv_next(pvm_csv *r, pvm_error *err);

/* Field i of the last record (i < r->nf), NUL-terminated; valid until
 * the next pvm_csv_next. */
static inline const char *pvm_csv_field(const pvm_csv *r, size_t i)
{
    return r->buf + r->off[i];
}

/* Frees what the reader allocated (not the input). */
void pvm_csv_free(pvm_csv *r);

#endif
