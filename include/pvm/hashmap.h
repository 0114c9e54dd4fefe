/* pvm/hashmap.h: the one hash map of the project (server, engine and
 * plugins alike), in an arena. Open addressing with linear probing over
 * a power-of-two table that doubles at half load; entries are never
 * removed (a request builds a map and drops it with the arena; a
 * long-lived map lives in an arena of its own, pvm_arena_new(0)). Keys
 * are byte strings, borrowed: they must live as long as the map. Callers
 * whose keys are structured (label sets) pass their own hash and equality
 * through pvm_hashmap_put_hashed. For items the caller keeps in an array
 * of its own, pvm_idxmap (below) stores only their indices. */
#ifndef PVM_HASHMAP_H
#define PVM_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>

typedef struct pvm_hashmap_slot {
    uint64_t hash;   /* full hash of the key */
    const void *key; /* borrowed key, NULL: empty slot */
    size_t klen;     /* key bytes (0 for hashed keys) */
    void *value;     /* the caller's value */
} pvm_hashmap_slot;

typedef struct pvm_hashmap {
    pvm_arena *arena;        /* owner of the table */
    pvm_hashmap_slot *slots; /* cap slots */
    size_t cap;              /* power of two */
    size_t n;                /* entries */
} pvm_hashmap;

/* Equality of a stored key with the caller's probe (hashed keys). */
typedef bool (*pvm_hashmap_eq_fn)(const void *stored, const void *probe);

/* An empty map sized for about hint entries. 0 or PVM_ERR_NOMEM. */
int pvm_hashmap_init(pvm_hashmap *m, pvm_arena *a, size_t hint);

/* FNV-1a of n bytes with its high bits folded into the low ones: the
 * map's hash of byte keys. */
uint64_t pvm_hash_bytes(const void *p, size_t n);

/* The slot of key (klen bytes), or NULL when absent. O(1) average. */
pvm_hashmap_slot *pvm_hashmap_get(const pvm_hashmap *m, const void *key,
                                  size_t klen);

/* The slot of key, added (value NULL, *added true) when absent. NULL when
 * the table cannot grow (arena cap). Slots move when the map grows: use
 * the returned pointer before the next put. On an add the caller may
 * point slot->key at a lasting copy of an equal key. */
pvm_hashmap_slot *pvm_hashmap_put(pvm_hashmap *m, const void *key, size_t klen,
                                  bool *added);

/* The same for a structured key (non-NULL): hash is the caller's,
 * eq(stored, key) decides equality; key is stored as given. */
pvm_hashmap_slot *pvm_hashmap_put_hashed(pvm_hashmap *m, uint64_t hash,
                                         const void *key, pvm_hashmap_eq_fn eq,
                                         bool *added);

/* The same lookup without adding. */
pvm_hashmap_slot *pvm_hashmap_get_hashed(const pvm_hashmap *m, uint64_t hash,
                                         const void *key,
                                         pvm_hashmap_eq_fn eq);

/* The index-only form, for the engine's per-query tables whose items
 * (series, groups, annotations) already live in an array of the caller's:
 * each slot is 8 bytes, 32 bits of the item's hash and its index + 1, so
 * a probe compares hashes before it calls the caller's equality, and a
 * table of a million series costs 16 MiB at most. Indices are below
 * 2^32 - 1. The filled slots are remembered, so that a table reused at
 * every step of a query is emptied in O(entries), not O(capacity). */
typedef struct pvm_idxmap {
    pvm_arena *arena; /* owner of the tables */
    uint64_t *slots;  /* (hash32 << 32) | (index + 1); 0: empty */
    uint32_t *filled; /* positions of the filled slots (n of them) */
    size_t cap;       /* power of two; at most half full */
    size_t n;         /* entries */
} pvm_idxmap;

/* Is the caller's item at index equal to probe? ctx is the caller's. */
typedef bool (*pvm_idxmap_eq_fn)(const void *ctx, size_t index,
                                 const void *probe);

#define PVM_IDXMAP_NONE ((size_t)-1)

/* An empty table sized for about hint entries. 0 or PVM_ERR_NOMEM. */
int pvm_idxmap_init(pvm_idxmap *m, pvm_arena *a, size_t hint);

/* Empties the table (its size stays). O(entries). */
void pvm_idxmap_clear(pvm_idxmap *m);

/* Doubles the table (internal to pvm_idxmap_put). 0 or PVM_ERR_NOMEM. */
int pvm_idxmap_grow(pvm_idxmap *m);

static inline __attribute__((always_inline)) size_t pvm_idxmap_pos_(
    const pvm_idxmap *m, uint64_t hash, pvm_idxmap_eq_fn eq, const void *ctx,
    const void *probe, size_t *index)
{
    uint32_t h32 = (uint32_t)hash;
    size_t mask = m->cap - 1;
    for (size_t i = h32 & mask;; i = (i + 1) & mask) {
        uint64_t s = m->slots[i];
        if (!s) {
            *index = PVM_IDXMAP_NONE;
            return i;
        }
        if ((uint32_t)(s >> 32) == h32 &&
            eq(ctx, (size_t)(uint32_t)s - 1, probe)) {
            *index = (size_t)(uint32_t)s - 1;
            return i;
        }
    }
}

/* The index of the item equal to probe (hash is the probe's), or
 * PVM_IDXMAP_NONE. Inline: with a constant eq the compiler inlines the
 * equality into the probe loop. */
static inline __attribute__((always_inline)) size_t pvm_idxmap_get(
    const pvm_idxmap *m, uint64_t hash, pvm_idxmap_eq_fn eq, const void *ctx,
    const void *probe)
{
    size_t index;
    pvm_idxmap_pos_(m, hash, eq, ctx, probe, &index);
    return index;
}

/* Finds the item equal to probe, or records index as its item. Returns
 * the index found (an earlier item's), index itself when it was added,
 * or PVM_IDXMAP_NONE when the table could not grow (arena cap) or index
 * is too large. The caller adds its item at index only when the return
 * equals index. */
static inline __attribute__((always_inline)) size_t pvm_idxmap_put(
    pvm_idxmap *m, uint64_t hash, pvm_idxmap_eq_fn eq, const void *ctx,
    const void *probe, size_t index)
{
    size_t found;
    size_t i = pvm_idxmap_pos_(m, hash, eq, ctx, probe, &found);
    if (found != PVM_IDXMAP_NONE)
        return found;
    if (index >= UINT32_MAX - 1)
        return PVM_IDXMAP_NONE;
    if ((m->n + 1) * 2 > m->cap) {
        if (pvm_idxmap_grow(m) < 0)
            return PVM_IDXMAP_NONE;
        i = pvm_idxmap_pos_(m, hash, eq, ctx, probe, &found);
    }
    m->slots[i] = (uint64_t)(uint32_t)hash << 32 | (uint64_t)(index + 1);
    m->filled[m->n++] = (uint32_t)i;
    return index;
}

#endif
