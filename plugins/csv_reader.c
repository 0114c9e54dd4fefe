/* csv_reader.c: the RFC 4180 reader of the http plugin's CSV format (see
 * csv_reader.h). One pass over the input; each record's fields are copied
 * unquoted into one growing buffer. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"

void pvm_csv_init(pvm_csv *r, const char *data, size_t len, char delim)
{
    memset(r, 0, sizeof(*r));
    r->p = data;
    r->end = data + len;
    r->delim = delim;
    r->line = r->next_line = 1;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        r->p += 3;
}

void pvm_csv_free(pvm_csv *r)
{
    free(r->buf);
    free(r->off);
    r->buf = NULL;
    r->off = NULL;
    r->len = r->cap = r->nf = r->fcap = 0;
}

/* Appends byte c to the record buffer; false when out of memory. */
static bool put(pvm_csv *r, char c)
{
    if (r->len == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        char *b = realloc(r->buf, cap);
        if (!b)
            return false;
        r->buf = b;
        r->cap = cap;
    }
    r->buf[r->len++] = c;
    return true;
}

/* Starts a field at the current end of the buffer. */
static int start_field(pvm_csv *r, pvm_error *err)
{
    if (r->nf == PVM_CSV_MAX_FIELDS)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "line %zu: more than %d fields", r->line,
                             PVM_CSV_MAX_FIELDS);
    if (r->nf == r->fcap) {
        size_t cap = r->fcap ? r->fcap * 2 : 16;
        size_t *o = realloc(r->off, cap * sizeof(*o));
        if (!o)
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        r->off = o;
        r->fcap = cap;
    }
    r->off[r->nf++] = r->len;
    return 0;
}

static bool at_line_end(const pvm_csv *r)
{
    return r->p < r->end &&
           (*r->p == '\n' ||
            (*r->p == '\r' && (r->p + 1 == r->end || r->p[1] == '\n')));
}

/* A quoted field, from its opening quote to just after its closing one. */
static int quoted(pvm_csv *r, pvm_error *err)
{
    size_t opened = r->next_line;
    r->p++;
    for (;;) {
        if (r->p == r->end)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "line %zu: a quoted field is not closed",
                                 opened);
        char c = *r->p++;
        if (c == '"') {
            if (r->p < r->end && *r->p == '"') {
                r->p++;
            } else {
                break;
            }
        } else if (c == '\0') {
            return pvm_error_set(err, PVM_ERR_BAD_DATA, "line %zu: a NUL byte",
                                 r->next_line);
        } else if (c == '\n') {
            r->next_line++;
        }
        if (!put(r, c))
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    }
    if (r->p < r->end && *r->p != r->delim && !at_line_end(r))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "line %zu: text after the closing quote of a "
                             "field",
                             r->next_line);
    return 0;
}

static int unquoted(pvm_csv *r, pvm_error *err)
{
    while (r->p < r->end && *r->p != r->delim && !at_line_end(r)) {
        char c = *r->p++;
        if (c == '"')
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "line %zu: a quote inside an unquoted "
                                 "field (quote the whole field and double "
                                 "the quote)",
                                 r->next_line);
        if (c == '\0')
            return pvm_error_set(err, PVM_ERR_BAD_DATA, "line %zu: a NUL byte",
                                 r->next_line);
        if (!put(r, c))
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    }
    return 0;
}

int pvm_csv_next(pvm_csv *r, pvm_error *err)
{
    r->len = r->nf = 0;
    while (at_line_end(r)) { /* blank lines */
        r->p += *r->p == '\r' ? 2 : 1;
        if (r->p > r->end)
            r->p = r->end;
        r->next_line++;
    }
    if (r->p >= r->end)
        return 0;
    r->line = r->next_line;
    for (;;) {
        int rc = start_field(r, err);
        if (rc == 0)
            rc = r->p < r->end && *r->p == '"' ? quoted(r, err)
                                               : unquoted(r, err);
        if (rc == 0 && !put(r, '\0'))
            rc = pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        if (rc < 0)
            return rc;
        if (r->p < r->end && *r->p == r->delim) {
            r->p++;
            continue;
        }
        if (r->p < r->end) { /* the line end */
            r->p += *r->p == '\r' ? 2 : 1;
            if (r->p > r->end)
                r->p = r->end;
            r->next_line++;
        }
        return 1;
    }
}
