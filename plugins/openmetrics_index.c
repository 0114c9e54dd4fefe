/* openmetrics_index.c: the name index of a loaded file (see
 * openmetrics_load.h): a hash table of the metric names, each with its
 * series in one by_name array, so that discovery and selectors with a
 * name look up only that metric's series. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "openmetrics_load.h"

/* See openmetrics_load.h. */
int pvm_om_index_names(pvm_om_data *d)
{
    d->by_name = malloc((d->nseries ? d->nseries : 1) * sizeof(*d->by_name));
    d->index_arena = pvm_arena_new(0);
    if (!d->by_name || !d->index_arena ||
        pvm_hashmap_init(&d->names, d->index_arena, 16) < 0)
        return -1;
    for (size_t i = 0; i < d->nseries; i++) {
        const char *name = d->series[i].name;
        bool added;
        pvm_hashmap_slot *e = pvm_hashmap_put(&d->names, name, strlen(name),
                                              &added);
        if (!e)
            return -1;
        if (added &&
            !(e->value = pvm_arena_calloc(d->index_arena, 1,
                                          sizeof(struct pvm_om_name))))
            return -1;
        ((struct pvm_om_name *)e->value)->count++;
    }
    uint32_t off = 0;
    for (size_t i = 0; i < d->names.cap; i++) {
        struct pvm_om_name *e = d->names.slots[i].value;
        if (!d->names.slots[i].key)
            continue;
        e->first = off;
        off += e->count;
        e->count = 0;
    }
    for (size_t i = 0; i < d->nseries; i++) {
        const char *name = d->series[i].name;
        struct pvm_om_name *e =
            pvm_hashmap_get(&d->names, name, strlen(name))->value;
        d->by_name[e->first + e->count++] = (uint32_t)i;
    }
    return 0;
}

/* See openmetrics_load.h. */
size_t pvm_om_series_named(const pvm_om_data *d, const char *name,
                           const uint32_t **idx)
{
    *idx = NULL;
    if (!d->names.slots)
        return 0;
    const pvm_hashmap_slot *e = pvm_hashmap_get(&d->names, name, strlen(name));
    if (!e)
        return 0;
    const struct pvm_om_name *g = e->value;
    *idx = d->by_name + g->first;
    return g->count;
}
