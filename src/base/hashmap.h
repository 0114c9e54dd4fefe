/* hashmap.h: the one hash map of the project, in an arena. Open
 * addressing with linear probing over a power-of-two table that doubles
 * at half load; entries are never removed (a request builds a map and
 * drops it with the arena). Keys are byte strings, borrowed: they must
 * live as long as the map. Callers whose keys are structured (label sets)
 * pass their own hash and equality through pvm_hashmap_put_hashed. */
#ifndef PVM_BASE_HASHMAP_H
#define PVM_BASE_HASHMAP_H

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

/* FNV-1a of n bytes, the map's hash of byte keys. */
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

#endif
