/* pvm/labels.h: label pairs as plugins hand them to the server. */
#ifndef PVM_LABELS_H
#define PVM_LABELS_H

#include <stddef.h>

/* One label. Strings are borrowed: the server copies what it keeps. */
typedef struct pvm_label {
    const char *name;  /* label name, e.g. "type" */
    const char *value; /* label value, e.g. "sine" */
} pvm_label;

/* Number of elements of a pvm_label array literal. */
#define PVM_NLABELS(arr) (sizeof(arr) / sizeof((arr)[0]))

#endif
