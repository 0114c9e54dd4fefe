/* arena.c: region allocator (see pvm/arena.h). Blocks are chained; a
 * request's allocations are bump-pointer, freed all at once. A reset keeps
 * up to ARENA_KEEP bytes of blocks for the next request, so that a worker
 * serving requests of similar size does not malloc, free (and have the
 * heap trimmed and its pages faulted in again) for each one. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/arena.h>

#include "arena_impl.h"

#define ARENA_ALIGN 16
#define ARENA_MIN_BLOCK (64 * 1024)
#define ARENA_KEEP (2 * 1024 * 1024) /* most bytes of blocks a reset keeps */

struct block {
    struct block *next; /* older block */
    size_t size;        /* usable bytes in data */
    size_t used;        /* bytes handed out */
    unsigned char data[] __attribute__((aligned(ARENA_ALIGN)));
};

struct cleanup {
    struct cleanup *next; /* older cleanup */
    void (*fn)(void *);   /* callback */
    void *arg;            /* its argument */
};

struct pvm_arena {
    struct block *head;       /* newest block */
    struct cleanup *cleanups; /* newest first */
    size_t total;             /* bytes held in blocks */
    size_t cap;               /* most bytes in blocks, 0 = none */
    void *last;               /* last allocation, for in-place realloc */
    int exhausted;            /* an allocation failed */
    struct block *spare;      /* blocks kept by pvm_arena_reset, unused */
    size_t spare_bytes;       /* bytes in spare blocks */
};

/* Takes a spare block of at least need and at most max bytes out of the
 * spare list, or NULL. */
static struct block *spare_take(pvm_arena *a, size_t need, size_t max)
{
    for (struct block **p = &a->spare; *p; p = &(*p)->next) {
        struct block *b = *p;
        if (b->size >= need && b->size <= max) {
            *p = b->next;
            a->spare_bytes -= b->size;
            return b;
        }
    }
    return NULL;
}

static struct block *block_new(pvm_arena *a, size_t need)
{
    struct block *b = spare_take(a, need,
                                 a->cap ? a->cap - a->total : SIZE_MAX);
    if (b) {
        b->used = 0;
        b->next = a->head;
        a->head = b;
        a->total += b->size;
        return b;
    }
    size_t size = need < ARENA_MIN_BLOCK ? ARENA_MIN_BLOCK : need;
    /* Grow block sizes with the arena so big requests use few blocks. */
    if (a->total / 4 > size)
        size = a->total / 4;
    if (a->cap && a->total + size > a->cap) {
        if (a->total + need > a->cap)
            return NULL;
        size = a->cap - a->total;
    }
    b = malloc(sizeof(*b) + size);
    if (!b)
        return NULL;
    b->size = size;
    b->used = 0;
    b->next = a->head;
    a->head = b;
    a->total += size;
    return b;
}

pvm_arena *pvm_arena_new(size_t cap)
{
    pvm_arena *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->cap = cap;
    return a;
}

static void run_cleanups(pvm_arena *a)
{
    while (a->cleanups) {
        struct cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->arg);
    }
}

static void free_blocks(struct block *b)
{
    while (b) {
        struct block *next = b->next;
        free(b);
        b = next;
    }
}

void pvm_arena_free(pvm_arena *a)
{
    if (!a)
        return;
    run_cleanups(a);
    free_blocks(a->head);
    free_blocks(a->spare);
    free(a);
}

void pvm_arena_reset(pvm_arena *a)
{
    run_cleanups(a);
    struct block *b = a->head;
    while (b) {
        struct block *next = b->next;
        if (a->spare_bytes + b->size <= ARENA_KEEP) {
            b->next = a->spare;
            a->spare = b;
            a->spare_bytes += b->size;
        } else {
            free(b);
        }
        b = next;
    }
    a->head = NULL;
    a->total = 0;
    a->last = NULL;
    a->exhausted = 0;
}

void *pvm_arena_alloc(pvm_arena *a, size_t n)
{
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - ARENA_ALIGN) {
        a->exhausted = 1;
        return NULL;
    }
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    struct block *b = a->head;
    if (!b || b->size - b->used < n) {
        b = block_new(a, n);
        if (!b) {
            a->exhausted = 1;
            return NULL;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    a->last = p;
    return p;
}

void *pvm_arena_calloc(pvm_arena *a, size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / size) {
        a->exhausted = 1;
        return NULL;
    }
    void *p = pvm_arena_alloc(a, nmemb * size);
    if (p)
        memset(p, 0, nmemb * size);
    return p;
}

bool pvm_arena_grow_in_place(pvm_arena *a, void *p, size_t old_size,
                             size_t new_size)
{
    (void)old_size;
    if (!p || p != a->last || !a->head || new_size > SIZE_MAX - ARENA_ALIGN)
        return false;
    struct block *b = a->head;
    size_t off = (size_t)((unsigned char *)p - b->data);
    size_t n = (new_size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (off + n > b->size)
        return false;
    b->used = off + n;
    return true;
}

void *pvm_arena_realloc(pvm_arena *a, void *p, size_t old_size,
                        size_t new_size)
{
    if (pvm_arena_grow_in_place(a, p, old_size, new_size))
        return p;
    void *q = pvm_arena_alloc(a, new_size);
    if (q && p)
        memcpy(q, p, old_size < new_size ? old_size : new_size);
    return q;
}

char *pvm_arena_strndup(pvm_arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = pvm_arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *pvm_arena_strdup(pvm_arena *a, const char *s)
{
    return pvm_arena_strndup(a, s, strlen(s));
}

char *pvm_arena_vsprintf(pvm_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *p = pvm_arena_alloc(a, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *pvm_arena_sprintf(pvm_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = pvm_arena_vsprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

int pvm_arena_on_cleanup(pvm_arena *a, void (*fn)(void *), void *arg)
{
    struct cleanup *c = pvm_arena_alloc(a, sizeof(*c));
    if (!c)
        return PVM_ERR_NOMEM;
    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}

size_t pvm_arena_used(const pvm_arena *a)
{
    return a->total;
}

size_t pvm_arena_cap(const pvm_arena *a)
{
    return a->cap;
}

int pvm_arena_is_exhausted(const pvm_arena *a)
{
    return a->exhausted;
}
