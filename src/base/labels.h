/* labels.h: label sets inside the server. A label set is an array of
 * pvm_label sorted by name (byte order), with the metric name as the
 * label __name__, no empty values and no duplicate names, plus a hash.
 * Sets built here live in a request arena. */
#ifndef PVM_LABELS_INTERNAL_H
#define PVM_LABELS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>
#include <pvm/error.h>
#include <pvm/labels.h>

#define PVM_METRIC_NAME_LABEL "__name__"

/* Longest label set a sample may carry. */
#define PVM_MAX_LABELS 1024

typedef struct pvm_labelset {
    const pvm_label *labels; /* sorted by name */
    size_t n;                /* number of labels */
    uint64_t hash;           /* pvm_labels_hash of labels */
} pvm_labelset;

/* Sorts (name, labels) into out (capacity PVM_MAX_LABELS + 1), adding
 * __name__ = name when name is non-empty and dropping empty values.
 * Strings are borrowed, not copied. Fails with PVM_ERR_BAD_DATA on a
 * duplicate or empty label name, a __name__ label in labels, or too many
 * labels. */
int pvm_labels_normalize(const char *name, const pvm_label *labels, size_t n,
                         pvm_label *out, size_t *nout, pvm_error *err);

/* Hash of a sorted label array (names and values): FNV-1a over
 * name \xff value \xff ..., the one label-set hash of the project (the
 * engine's grouping, matching and limit_ratio sampling use it too). */
uint64_t pvm_labels_hash(const pvm_label *labels, size_t n);

/* The same hash built label by label: start from PVM_LABELS_HASH_INIT
 * and add the labels that take part (e.g. a signature over on/by
 * labels). Adding all of a set gives pvm_labels_hash. */
#define PVM_LABELS_HASH_INIT 0xcbf29ce484222325ull /* FNV offset basis */
uint64_t pvm_labels_hash_add(uint64_t h, const pvm_label *l);

/* Prometheus' labels.Compare: label by label, name then value, then the
 * shorter set first. Returns -1, 0 or 1. */
int pvm_labels_compare(const pvm_label *a, size_t na, const pvm_label *b,
                       size_t nb);

bool pvm_labels_equal(const pvm_label *a, size_t na, const pvm_label *b,
                      size_t nb);

/* Deep copy into the arena (strings too). NULL when out of memory. */
pvm_label *pvm_labels_copy(pvm_arena *a, const pvm_label *labels, size_t n);

/* The value of a label in a sorted set, or NULL. */
const char *pvm_labels_get(const pvm_label *labels, size_t n,
                           const char *name);

/* The same for an unsorted array (linear search). */
const char *pvm_labels_get_unsorted(const pvm_label *labels, size_t n,
                                    const char *name);

/* True when name is a valid label name for Prometheus 3 (UTF-8
 * validation): non-empty, valid UTF-8. */
bool pvm_label_name_is_valid(const char *name, size_t len);

/* True for a legacy label name: [a-zA-Z_][a-zA-Z0-9_]*. */
bool pvm_label_name_is_legacy(const char *name, size_t len);

#endif
