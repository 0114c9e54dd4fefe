/* arena_impl.h: the server's side of the request arena (pvm/arena.h),
 * for stores that grow their newest allocation (series.c). */
#ifndef PVM_ARENA_IMPL_H
#define PVM_ARENA_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <pvm/arena.h>

/* Grows the allocation p of old_size bytes to
 * new_size bytes where it stands, which works only when p is the arena's
 * newest allocation and its block has room. Returns true when p now has
 * new_size bytes; false when nothing changed (nothing is allocated, the
 * arena is not marked exhausted). */
bool pvm_arena_grow_in_place(pvm_arena *a, void *p, size_t old_size,
                             size_t new_size);

#endif
