/* series.h: a set of series (label set -> points), filled sample by sample
 * from plugins and read back sorted. Points are kept in chunks that grow
 * geometrically, so appending never copies and a large range query wastes
 * at most one partial chunk per series. A chunk that is the arena's newest
 * allocation grows in place instead, so a plugin that adds one series'
 * points after another leaves each series in one contiguous array, which
 * the engine then reads without copying. Everything lives in one arena. */
#ifndef PVM_SERIES_H
#define PVM_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>
#include <pvm/error.h>
#include <pvm/labels.h>

typedef struct pvm_point {
    int64_t t; /* timestamp, ms */
    double v;  /* value */
} pvm_point;

/* A run of points of one series. */
typedef struct pvm_chunk {
    struct pvm_chunk *next; /* younger chunk */
    size_t n;               /* points used */
    size_t cap;             /* points available */
    pvm_point p[];          /* the points */
} pvm_chunk;

typedef struct pvm_series {
    const pvm_label *labels; /* sorted label set, arena-owned */
    size_t nlabels;          /* number of labels */
    uint64_t hash;           /* hash of labels */
    pvm_chunk *first;        /* oldest chunk */
    pvm_chunk *last;         /* chunk being filled */
    size_t npoints;          /* points in all chunks */
    int64_t last_t;          /* timestamp of the last appended point */
    bool unsorted;           /* a point was appended out of time order,
                                  or twice at one time */
    struct pvm_series *next; /* next series in the same hash bucket */
} pvm_series;

typedef struct pvm_series_set {
    pvm_arena *arena;     /* owns everything below */
    pvm_series **buckets; /* hash table, power-of-two size */
    size_t nbuckets;      /* bucket count */
    pvm_series **list;    /* series in insertion order */
    size_t n;             /* number of series */
    size_t cap;           /* capacity of list */
    size_t npoints;       /* points in all series */
} pvm_series_set;

/* Initialises an empty set in arena a. */
int pvm_series_set_init(pvm_series_set *s, pvm_arena *a);

/* Returns the series with this sorted label set, creating it (and copying
 * the labels) if needed; NULL when out of memory. hash must be
 * pvm_labels_hash(labels, n). */
pvm_series *pvm_series_set_get(pvm_series_set *s, const pvm_label *labels,
                               size_t n, uint64_t hash);

/* The same as pvm_series_set_get for labels (array and strings) already
 * in s's arena that stay unchanged until the arena is freed: the array is
 * copied, the strings are shared. */
pvm_series *pvm_series_set_adopt(pvm_series_set *s, const pvm_label *labels,
                                 size_t n, uint64_t hash);

/* Makes room for at least one more point in ser's last chunk; 0 or
 * PVM_ERR_NOMEM. The slow path of pvm_series_append. */
int pvm_series_grow(pvm_series_set *s, pvm_series *ser);

/* Appends a point; PVM_ERR_NOMEM when the arena is exhausted. Inline: it
 * is called once per sample a plugin adds. */
static inline int pvm_series_append(pvm_series_set *s, pvm_series *ser,
                                    int64_t t, double v)
{
    pvm_chunk *c = ser->last;
    if (!c || c->n == c->cap) {
        if (pvm_series_grow(s, ser) < 0)
            return PVM_ERR_NOMEM;
        c = ser->last;
    }
    if (ser->npoints && t <= ser->last_t)
        ser->unsorted = true;
    ser->last_t = t;
    c->p[c->n++] = (pvm_point){t, v};
    ser->npoints++;
    s->npoints++;
    return 0;
}

/* Appends n points from parallel arrays, as n pvm_series_append calls:
 * copied in runs as large as the last chunk allows (growing it in place
 * when it is the arena's newest allocation). 0 or PVM_ERR_NOMEM (the
 * points copied so far stay). */
int pvm_series_append_many(pvm_series_set *s, pvm_series *ser,
                           const int64_t *t, const double *v, size_t n);

/* Sorts the points of every series by time; of several points with the
 * same timestamp the last appended is kept. Sorts the series by label
 * set. Returns the number of duplicate points dropped, or a negative
 * status. */
long pvm_series_set_finish(pvm_series_set *s);

/* Iterates the points of a series in storage order:
 *     pvm_point_iter it; pvm_point_iter_init(&it, ser);
 *     const pvm_point *p; while ((p = pvm_point_iter_next(&it))) ...   */
typedef struct pvm_point_iter {
    const pvm_chunk *chunk; /* current chunk */
    size_t i;               /* next index in chunk */
} pvm_point_iter;

void pvm_point_iter_init(pvm_point_iter *it, const pvm_series *ser);
const pvm_point *pvm_point_iter_next(pvm_point_iter *it);

/* Copies the points into one contiguous arena array (or returns the
 * single chunk's array without copying). NULL only when out of memory
 * (never for a series without points: then *n is 0 and the result is a
 * non-NULL empty pointer). */
const pvm_point *pvm_series_points(pvm_series_set *s, const pvm_series *ser,
                                   size_t *n);

#endif
