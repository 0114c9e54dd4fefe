/* openmetrics_index.c: the name index of a loaded file (see
 * openmetrics_load.h): a hash table of the metric names, each with its
 * series in one by_name array, so that discovery and selectors with a
 * name look up only that metric's series. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openmetrics_load.h"

/* The slot of name (hash h) in the name index: its group, or the empty
 * slot where it goes. */
static struct pvm_om_name *name_slot(const pvm_om_data *d, const char *name,
                                     uint64_t h)
{
    size_t mask = d->names_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct pvm_om_name *e = &d->names[i];
        if (!e->name || (e->hash == h && strcmp(e->name, name) == 0))
            return e;
    }
}

/* Resizes the name index to cap slots (a power of 2), rehashing. */
static int names_grow(pvm_om_data *d, size_t cap)
{
    struct pvm_om_name *old = d->names;
    size_t ocap = d->names_cap;
    d->names = calloc(cap, sizeof(*d->names));
    if (!d->names) {
        d->names = old;
        return -1;
    }
    d->names_cap = cap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].name)
            *name_slot(d, old[i].name, old[i].hash) = old[i];
    free(old);
    return 0;
}

/* See openmetrics_load.h. */
int pvm_om_index_names(pvm_om_data *d)
{
    size_t used = 0;
    d->by_name = malloc((d->nseries ? d->nseries : 1) * sizeof(*d->by_name));
    if (!d->by_name || names_grow(d, 16) < 0)
        return -1;
    for (size_t i = 0; i < d->nseries; i++) {
        const char *name = d->series[i].name;
        uint64_t h = pvm_om_hash(name, strlen(name));
        struct pvm_om_name *e = name_slot(d, name, h);
        if (!e->name) {
            if ((used + 1) * 2 > d->names_cap) {
                if (names_grow(d, d->names_cap * 2) < 0)
                    return -1;
                e = name_slot(d, name, h);
            }
            *e = (struct pvm_om_name){name, h, 0, 0};
            used++;
        }
        e->count++;
    }
    uint32_t off = 0;
    for (size_t i = 0; i < d->names_cap; i++) {
        d->names[i].first = off;
        off += d->names[i].count;
        d->names[i].count = 0;
    }
    for (size_t i = 0; i < d->nseries; i++) {
        const char *name = d->series[i].name;
        struct pvm_om_name *e = name_slot(d, name,
                                          pvm_om_hash(name, strlen(name)));
        d->by_name[e->first + e->count++] = (uint32_t)i;
    }
    return 0;
}

/* See openmetrics_load.h. */
size_t pvm_om_series_named(const pvm_om_data *d, const char *name,
                           const uint32_t **idx)
{
    *idx = NULL;
    if (!d->names_cap)
        return 0;
    const struct pvm_om_name *e = name_slot(d, name,
                                            pvm_om_hash(name, strlen(name)));
    if (!e->name)
        return 0;
    *idx = d->by_name + e->first;
    return e->count;
}
