/* hashmap.c: an arena-backed open-addressing hash map (see hashmap.h). */
#include <string.h>

#include <pvm/error.h>

#include <pvm/hashmap.h>

int pvm_hashmap_init(pvm_hashmap *m, pvm_arena *a, size_t hint)
{
    memset(m, 0, sizeof(*m));
    m->arena = a;
    m->cap = 16;
    while (m->cap < hint * 2)
        m->cap *= 2;
    m->slots = pvm_arena_calloc(a, m->cap, sizeof(*m->slots));
    return m->slots ? 0 : PVM_ERR_NOMEM;
}

uint64_t pvm_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ull;
    /* The low bits of FNV-1a see only the low bits of each byte (a
     * product carries upwards only): fold the high bits down, since a
     * table takes its slot from the low bits. */
    return h ^ (h >> 29);
}

/* Index of the slot holding the key, or of the empty slot where it goes. */
static size_t find(const pvm_hashmap *m, uint64_t hash, const void *key,
                   size_t klen, pvm_hashmap_eq_fn eq)
{
    size_t i = (size_t)hash & (m->cap - 1);
    for (;;) {
        const pvm_hashmap_slot *s = &m->slots[i];
        if (!s->key)
            return i;
        if (s->hash == hash &&
            (eq ? eq(s->key, key)
                : s->klen == klen && memcmp(s->key, key, klen) == 0))
            return i;
        i = (i + 1) & (m->cap - 1);
    }
}

static int grow(pvm_hashmap *m)
{
    size_t cap = m->cap * 2;
    pvm_hashmap_slot *slots = pvm_arena_calloc(m->arena, cap, sizeof(*slots));
    if (!slots)
        return PVM_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        size_t k = (size_t)m->slots[i].hash & (cap - 1);
        while (slots[k].key)
            k = (k + 1) & (cap - 1);
        slots[k] = m->slots[i];
    }
    m->slots = slots;
    m->cap = cap;
    return 0;
}

static pvm_hashmap_slot *put(pvm_hashmap *m, uint64_t hash, const void *key,
                             size_t klen, pvm_hashmap_eq_fn eq, bool *added)
{
    size_t i = find(m, hash, key, klen, eq);
    *added = !m->slots[i].key;
    if (!*added)
        return &m->slots[i];
    if ((m->n + 1) * 2 > m->cap) {
        if (grow(m) < 0)
            return NULL;
        i = find(m, hash, key, klen, eq);
    }
    m->slots[i] = (pvm_hashmap_slot){hash, key, klen, NULL};
    m->n++;
    return &m->slots[i];
}

pvm_hashmap_slot *pvm_hashmap_get(const pvm_hashmap *m, const void *key,
                                  size_t klen)
{
    key = key ? key : "";
    size_t i = find(m, pvm_hash_bytes(key, klen), key, klen, NULL);
    return m->slots[i].key ? &m->slots[i] : NULL;
}

pvm_hashmap_slot *pvm_hashmap_put(pvm_hashmap *m, const void *key, size_t klen,
                                  bool *added)
{
    key = key ? key : "";
    return put(m, pvm_hash_bytes(key, klen), key, klen, NULL, added);
}

pvm_hashmap_slot *pvm_hashmap_put_hashed(pvm_hashmap *m, uint64_t hash,
                                         const void *key, pvm_hashmap_eq_fn eq,
                                         bool *added)
{
    return put(m, hash, key, 0, eq, added);
}

pvm_hashmap_slot *pvm_hashmap_get_hashed(const pvm_hashmap *m, uint64_t hash,
                                         const void *key, pvm_hashmap_eq_fn eq)
{
    size_t i = find(m, hash, key, 0, eq);
    return m->slots[i].key ? &m->slots[i] : NULL;
}

static int idx_alloc(pvm_idxmap *m, size_t cap)
{
    uint64_t *slots = pvm_arena_calloc(m->arena, cap, sizeof(*slots));
    uint32_t *filled = pvm_arena_alloc(m->arena, cap / 2 * sizeof(*filled));
    if (!slots || !filled || cap > (size_t)UINT32_MAX)
        return PVM_ERR_NOMEM;
    m->slots = slots;
    m->filled = filled;
    m->cap = cap;
    return 0;
}

int pvm_idxmap_init(pvm_idxmap *m, pvm_arena *a, size_t hint)
{
    memset(m, 0, sizeof(*m));
    m->arena = a;
    size_t cap = 16;
    while (cap < hint * 2)
        cap *= 2;
    return idx_alloc(m, cap);
}

void pvm_idxmap_clear(pvm_idxmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        m->slots[m->filled[i]] = 0;
    m->n = 0;
}

int pvm_idxmap_grow(pvm_idxmap *m)
{
    uint64_t *old = m->slots;
    uint32_t *old_filled = m->filled;
    size_t n = m->n;
    if (idx_alloc(m, m->cap * 2) < 0) {
        m->slots = old;
        m->filled = old_filled;
        return PVM_ERR_NOMEM;
    }
    size_t mask = m->cap - 1;
    for (size_t j = 0; j < n; j++) {
        uint64_t s = old[old_filled[j]];
        size_t i = (uint32_t)(s >> 32) & mask;
        while (m->slots[i])
            i = (i + 1) & mask;
        m->slots[i] = s;
        m->filled[j] = (uint32_t)i;
    }
    return 0;
}
