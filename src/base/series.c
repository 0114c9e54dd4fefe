/* series.c: series store (see series.h). */

#include <stdlib.h>
#include <string.h>

#include "arena_impl.h"
#include "labels.h"
#include "series.h"

#define CHUNK_MIN 16   /* points in a series' first chunk */
#define CHUNK_MAX 4096 /* largest chunk, in points */

int pvm_series_set_init(pvm_series_set *s, pvm_arena *a)
{
    memset(s, 0, sizeof(*s));
    s->arena = a;
    s->nbuckets = 64;
    s->buckets = pvm_arena_calloc(a, s->nbuckets, sizeof(*s->buckets));
    return s->buckets ? 0 : PVM_ERR_NOMEM;
}

static int grow_table(pvm_series_set *s)
{
    size_t nb = s->nbuckets * 2;
    pvm_series **b = pvm_arena_calloc(s->arena, nb, sizeof(*b));
    if (!b)
        return PVM_ERR_NOMEM;
    for (size_t i = 0; i < s->n; i++) {
        pvm_series *ser = s->list[i];
        size_t k = ser->hash & (nb - 1);
        ser->next = b[k];
        b[k] = ser;
    }
    s->buckets = b;
    s->nbuckets = nb;
    return 0;
}

/* Creates a series; copy: copy the label strings too (else share them). */
static pvm_series *series_new(pvm_series_set *s, const pvm_label *labels,
                              size_t n, uint64_t hash, bool copy)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        pvm_series **l = pvm_arena_realloc(s->arena, s->list,
                                           s->cap * sizeof(*l),
                                           cap * sizeof(*l));
        if (!l)
            return NULL;
        s->list = l;
        s->cap = cap;
    }
    if (s->n + 1 > s->nbuckets && grow_table(s) < 0)
        return NULL;
    pvm_series *ser = pvm_arena_calloc(s->arena, 1, sizeof(*ser));
    if (!ser)
        return NULL;
    if (copy) {
        ser->labels = pvm_labels_copy(s->arena, labels, n);
    } else {
        pvm_label *l = pvm_arena_alloc(s->arena, (n ? n : 1) * sizeof(*l));
        if (l && n)
            memcpy(l, labels, n * sizeof(*l));
        ser->labels = l;
    }
    if (!ser->labels)
        return NULL;
    ser->nlabels = n;
    ser->hash = hash;
    size_t k = hash & (s->nbuckets - 1);
    ser->next = s->buckets[k];
    s->buckets[k] = ser;
    s->list[s->n++] = ser;
    return ser;
}

static pvm_series *find_or_new(pvm_series_set *s, const pvm_label *labels,
                               size_t n, uint64_t hash, bool copy)
{
    for (pvm_series *ser = s->buckets[hash & (s->nbuckets - 1)]; ser;
         ser = ser->next)
        if (ser->hash == hash &&
            pvm_labels_equal(ser->labels, ser->nlabels, labels, n))
            return ser;
    return series_new(s, labels, n, hash, copy);
}

pvm_series *pvm_series_set_get(pvm_series_set *s, const pvm_label *labels,
                               size_t n, uint64_t hash)
{
    return find_or_new(s, labels, n, hash, true);
}

pvm_series *pvm_series_set_adopt(pvm_series_set *s, const pvm_label *labels,
                                 size_t n, uint64_t hash)
{
    return find_or_new(s, labels, n, hash, false);
}

/* The last chunk grows in place when it is the arena's newest allocation
 * (a plugin adding one series' points after another: each series then
 * ends in one contiguous array), else a new chunk is chained. */
int pvm_series_grow(pvm_series_set *s, pvm_series *ser)
{
    pvm_chunk *c = ser->last;
    if (c && c->cap < SIZE_MAX / 4 / sizeof(pvm_point) &&
        pvm_arena_grow_in_place(s->arena, c,
                                sizeof(*c) + c->cap * sizeof(pvm_point),
                                sizeof(*c) + 2 * c->cap * sizeof(pvm_point))) {
        c->cap *= 2;
        return 0;
    }
    size_t cap = c ? c->cap * 2 : CHUNK_MIN;
    if (cap > CHUNK_MAX)
        cap = CHUNK_MAX;
    pvm_chunk *nc = pvm_arena_alloc(s->arena,
                                    sizeof(*nc) + cap * sizeof(pvm_point));
    if (!nc)
        return PVM_ERR_NOMEM;
    nc->next = NULL;
    nc->n = 0;
    nc->cap = cap;
    if (c)
        c->next = nc;
    else
        ser->first = nc;
    ser->last = nc;
    return 0;
}

int pvm_series_append_many(pvm_series_set *s, pvm_series *ser,
                           const int64_t *t, const double *v, size_t n)
{
    while (n > 0) {
        pvm_chunk *c = ser->last;
        /* grow until the rest fits, or fill the new chunk grow made */
        while (!c || c->cap - c->n < n) {
            pvm_chunk *was = c;
            if (pvm_series_grow(s, ser) < 0)
                return PVM_ERR_NOMEM;
            c = ser->last;
            if (c != was)
                break;
        }
        size_t k = c->cap - c->n < n ? c->cap - c->n : n;
        int64_t prev = ser->npoints ? ser->last_t : INT64_MIN;
        bool bad = ser->npoints && t[0] <= prev;
        pvm_point *dst = c->p + c->n;
        for (size_t i = 0; i < k; i++) {
            bad |= i > 0 && t[i] <= t[i - 1];
            dst[i] = (pvm_point){t[i], v[i]};
        }
        if (bad)
            ser->unsorted = true;
        ser->last_t = t[k - 1];
        c->n += k;
        ser->npoints += k;
        s->npoints += k;
        t += k;
        v += k;
        n -= k;
    }
    return 0;
}

void pvm_point_iter_init(pvm_point_iter *it, const pvm_series *ser)
{
    it->chunk = ser->first;
    it->i = 0;
}

const pvm_point *pvm_point_iter_next(pvm_point_iter *it)
{
    while (it->chunk && it->i == it->chunk->n) {
        it->chunk = it->chunk->next;
        it->i = 0;
    }
    return it->chunk ? &it->chunk->p[it->i++] : NULL;
}

const pvm_point *pvm_series_points(pvm_series_set *s, const pvm_series *ser,
                                   size_t *n)
{
    static const pvm_point empty[1];
    *n = ser->npoints;
    if (!ser->first)
        return empty;
    if (ser->first == ser->last)
        return ser->first->p;
    pvm_point *out = pvm_arena_alloc(s->arena, ser->npoints * sizeof(*out));
    if (!out)
        return NULL;
    size_t k = 0;
    for (const pvm_chunk *c = ser->first; c; c = c->next) {
        memcpy(out + k, c->p, c->n * sizeof(*out));
        k += c->n;
    }
    return out;
}

struct tagged {
    int64_t t; /* timestamp */
    size_t i;  /* append position */
};

/* By time, then by append order, so that of a run of equal timestamps the
 * last appended comes last. */
static int cmp_tagged(const void *a, const void *b)
{
    const struct tagged *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Sorts one series' points into a single new chunk, keeping the last of
 * equal timestamps. Returns the number dropped or a negative status. */
static long sort_series_points(pvm_series_set *s, pvm_series *ser)
{
    size_t n;
    const pvm_point *src = pvm_series_points(s, ser, &n);
    if (!src)
        return PVM_ERR_NOMEM;
    struct tagged *tag = pvm_arena_alloc(s->arena, n * sizeof(*tag));
    pvm_chunk *c = pvm_arena_alloc(s->arena,
                                   sizeof(*c) + n * sizeof(pvm_point));
    if (!tag || !c)
        return PVM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        tag[i] = (struct tagged){src[i].t, i};
    qsort(tag, n, sizeof(*tag), cmp_tagged);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && tag[i + 1].t == tag[i].t)
            continue; /* a later point has the same timestamp */
        c->p[k++] = src[tag[i].i];
    }
    c->next = NULL;
    c->n = c->cap = k;
    ser->first = ser->last = c;
    ser->unsorted = false;
    long dropped = (long)(n - k);
    ser->npoints = k;
    s->npoints -= (size_t)dropped;
    return dropped;
}

static int cmp_series(const void *a, const void *b)
{
    const pvm_series *x = *(pvm_series *const *)a;
    const pvm_series *y = *(pvm_series *const *)b;
    return pvm_labels_compare(x->labels, x->nlabels, y->labels, y->nlabels);
}

long pvm_series_set_finish(pvm_series_set *s)
{
    long dropped = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!s->list[i]->unsorted)
            continue;
        long d = sort_series_points(s, s->list[i]);
        if (d < 0)
            return d;
        dropped += d;
    }
    if (s->n > 1)
        qsort(s->list, s->n, sizeof(*s->list), cmp_series);
    return dropped;
}
