/* openmetrics_load.h: the loader of the openmetrics_file plugin. Reads an
 * OpenMetrics (or Prometheus text format) file with explicit timestamps
 * into series of columnar samples: label strings interned once, then an
 * int64 ms timestamp array and a double value array, 16 bytes a sample.
 * Independent of the plugin, so that the benchmark (tests/bench/) can
 * measure it alone. */
#ifndef PVM_OPENMETRICS_LOAD_H
#define PVM_OPENMETRICS_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <pvm/hashmap.h>
#include <pvm/pvm.h>

#define PVM_OM_MAX_LABELS 128 /* labels per series */

/* One series: interned labels, then samples in increasing time order. */
typedef struct pvm_om_series {
    const char *name;        /* metric name, interned */
    const pvm_label *labels; /* sorted by name, strings interned */
    size_t nlabels;          /* number of labels */
    int64_t *ts;             /* timestamps, ms, strictly increasing
                                 (into ts_block once loaded) */
    double *v;               /* values (into v_block once loaded) */
    size_t n, cap;           /* samples stored / allocated */
} pvm_om_series;

/* The # HELP, # TYPE and # UNIT lines of one metric family. */
typedef struct pvm_om_meta {
    char *name;           /* family name (malloc'd) */
    pvm_metric_type type; /* # TYPE, PVM_METRIC_UNKNOWN when absent */
    char *help;           /* # HELP unescaped (malloc'd), or NULL */
    char *unit;           /* # UNIT (malloc'd), or NULL */
} pvm_om_meta;

/* The series of one metric name, the value of the name index
 * (discovery and selectors with a name look up only these series). */
struct pvm_om_name {
    uint32_t first, count; /* by_name[first .. first+count) */
};

/* One loaded file. Readers use series, nseries, nsamples and meta. */
typedef struct pvm_om_data {
    pvm_om_series *series;          /* in order of first appearance */
    size_t nseries;                 /* series used */
    size_t nsamples;                /* samples in all series */
    size_t cap;                     /* series allocated */
    int64_t *ts_block;              /* all timestamps, once loaded */
    double *v_block;                /* all values, once loaded */
    struct pvm_om_pool_block *pool; /* interned strings, label arrays */
    pvm_arena *load_arena;          /* the loader's tables and series texts,
                                      freed once the file is loaded */
    pvm_hashmap strings;            /* interned strings (while loading) */
    pvm_hashmap keys;       /* series text -> index + 1 (while loading) */
    pvm_om_meta *meta;      /* families with metadata, file order */
    size_t nmeta;           /* entries in meta */
    pvm_arena *index_arena; /* the name index */
    pvm_hashmap names;      /* name index: metric name -> pvm_om_name
                                      (slots NULL until indexed) */
    uint32_t *by_name;      /* series indexes grouped by name, each
                                      group in file order */
} pvm_om_data;

/* Loads path; timestamps are seconds (OpenMetrics, fractions allowed) or,
 * with unit_ms, integer milliseconds (Prometheus text format). Fills
 * *mtime and *size from the file read (also when parsing fails, so a
 * caller can wait for the next change). Returns the data, caller frees
 * with pvm_om_free; NULL on error with err->msg "PATH:LINE: ...". */
pvm_om_data *pvm_om_load(const char *path, bool unit_ms,
                         struct timespec *mtime, off_t *size, pvm_error *err);

/* Parses len bytes of text already in memory (a program's output, see
 * plugins/exec.c) as pvm_om_load parses a file; errors are "WHAT:LINE:
 * ...". Does not keep buf. Caller frees with pvm_om_free; NULL on error. */
pvm_om_data *pvm_om_parse(const char *buf, size_t len, const char *what,
                          bool unit_ms, pvm_error *err);

void pvm_om_free(pvm_om_data *d);

/* The series named name: sets *idx to their indexes into d->series, in
 * file order, and returns how many (0 when none). O(1) on average. */
size_t pvm_om_series_named(const pvm_om_data *d, const char *name,
                           const uint32_t **idx);

/* Bytes held by d (series, sample arrays, strings and label pool). */
size_t pvm_om_bytes(const pvm_om_data *d);

/* Parses a timestamp exactly: seconds with an optional fraction and
 * exponent ("1.001", "1.5e9") or, with ms, an integer of milliseconds.
 * The decimal point is moved in the digit string, so 1.001 s is 1001 ms;
 * digits past the millisecond are cut towards zero (as Go's int64()).
 * Returns 0, -1 on bad syntax, -2 out of range. */
int pvm_om_parse_timestamp(const char *s, size_t n, bool ms, int64_t *out);

/* Builds the name index of d (openmetrics_index.c): a hash table of the
 * metric names, each with its series (indexes, in file order) in one
 * by_name array. Two passes over the series, O(series). -1 when out of
 * memory. */
int pvm_om_index_names(pvm_om_data *d);

#endif
