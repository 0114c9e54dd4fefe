/* pvm/arena.h: region allocator. One arena per request owns everything the
 * request creates; it is freed as a whole when the request ends. Its byte
 * cap doubles as the per-query memory limit: allocations past the cap fail
 * (return NULL) instead of growing the process. */
#ifndef PVM_ARENA_H
#define PVM_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include <pvm/error.h>

typedef struct pvm_arena pvm_arena;

/* Creates an arena. cap is the most bytes it may hold in blocks (0 = no
 * cap). Returns NULL when out of memory. Caller frees with pvm_arena_free. */
pvm_arena *pvm_arena_new(size_t cap);

/* Runs the cleanup callbacks (newest first) and frees every block. NULL ok. */
void pvm_arena_free(pvm_arena *a);

/* Runs cleanups and keeps up to 2 MiB of blocks for reuse (the rest is
 * freed), so that a worker does not return memory to the system and
 * fault it back in on every request. */
void pvm_arena_reset(pvm_arena *a);

/* Returns n bytes aligned to 16, valid until the arena is freed or reset;
 * NULL when the cap is hit or malloc fails (see pvm_arena_is_exhausted). */
void *pvm_arena_alloc(pvm_arena *a, size_t n);

/* pvm_arena_alloc of nmemb*size zeroed bytes; NULL also on overflow. */
void *pvm_arena_calloc(pvm_arena *a, size_t nmemb, size_t size);

/* Grows an allocation of old_size bytes to new_size (copying). The old
 * block is not reclaimed unless it was the last allocation. NULL ok as p. */
void *pvm_arena_realloc(pvm_arena *a, void *p, size_t old_size,
                        size_t new_size);

/* Copies s (n bytes) and appends a NUL. */
char *pvm_arena_strndup(pvm_arena *a, const char *s, size_t n);
char *pvm_arena_strdup(pvm_arena *a, const char *s);

/* printf into the arena. */
char *pvm_arena_sprintf(pvm_arena *a, const char *fmt, ...) PVM_PRINTF(2, 3);
char *pvm_arena_vsprintf(pvm_arena *a, const char *fmt, va_list ap)
    PVM_PRINTF(2, 0);

/* Registers fn(arg) to run when the arena is freed or reset (e.g. to free
 * a compiled regex). Returns 0, or PVM_ERR_NOMEM (then fn was not run). */
int pvm_arena_on_cleanup(pvm_arena *a, void (*fn)(void *), void *arg);

/* Bytes currently held in blocks, and the cap (0 = none). */
size_t pvm_arena_used(const pvm_arena *a);
size_t pvm_arena_cap(const pvm_arena *a);

/* True once an allocation failed because of the cap or malloc. */
int pvm_arena_is_exhausted(const pvm_arena *a);

#endif
