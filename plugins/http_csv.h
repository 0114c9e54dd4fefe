/* plugins/http_csv.h: the CSV format of the http plugin: which columns of
 * an RFC 4180 file (csv_reader.h) hold the time, the values (each a
 * metric), the metric name and the labels, and the conversion of a file
 * to samples. */
#ifndef PVM_PLUGINS_HTTP_CSV_H
#define PVM_PLUGINS_HTTP_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "http_plugin.h"

/* A column as configured: a header name, or a 1-based index. */
struct pvm_http_csv_col {
    char *ref;  /* as written */
    char *name; /* the metric (value columns) or label it gives, or NULL:
                   the column's header name */
};

typedef struct pvm_http_csv {
    char delim;                      /* field separator */
    bool header;                     /* the first record names columns */
    bool in_ms;                      /* numeric times are milliseconds */
    char *ts;                        /* the time column */
    char *metric;                    /* `metric =`, or NULL */
    char *metric_col;                /* column of metric names, or NULL */
    struct pvm_http_csv_col *values; /* value columns */
    size_t nvalues;                  /* at least 1 */
    struct pvm_http_csv_col *labels; /* label columns */
    size_t nlabels;                  /* 0 with all_labels: the others */
    bool all_labels;                 /* no label_columns: every other column
                                        (with header) is a label */
} pvm_http_csv;

/* Fills c from the settings (lists are comma-separated, each entry
 * "COLUMN" or "COLUMN=NAME"). 0, or PVM_ERR_BAD_DATA with err naming the
 * key. Free with pvm_http_csv_free (also after a failure). */
int pvm_http_csv_setup(pvm_http_csv *c, const char *delimiter, bool header,
                       bool in_ms, const char *ts, const char *values,
                       const char *labels, const char *metric,
                       const char *metric_col, pvm_error *err);
void pvm_http_csv_free(pvm_http_csv *c);

/* Converts a CSV text (len bytes) to samples fed to sink: one per value
 * column and row; an empty value is a gap. 0, or a negative status with
 * err ("line N, column C: ..."). */
int pvm_http_csv_run(const pvm_http_csv *c, const char *data, size_t len,
                     pvm_http_sink *sink, pvm_error *err);

#endif
