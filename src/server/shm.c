/* shm.c: the region shared by the master and its workers (see shm.h):
 * mapping, worker slots, and the request line each worker publishes. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "shm.h"

pvm_shm *pvm_shm_new(void)
{
    void *p = mmap(NULL, sizeof(pvm_shm), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p; /* anonymous pages are zeroed */
}

void pvm_shm_free(pvm_shm *shm)
{
    if (shm)
        munmap(shm, sizeof(*shm));
}

uint64_t pvm_shm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int pvm_shm_slot_claim(pvm_shm *shm, pid_t pid, uint32_t generation)
{
    for (int i = 0; i < PVM_SHM_SLOTS; i++) {
        pvm_worker_slot *s = &shm->slots[i];
        if (s->pid != 0)
            continue;
        s->generation = generation;
        s->ready = 0;
        s->requests = 0;
        s->line[0] = '\0';
        __atomic_store_n(&s->busy_since_ns, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&s->pid, (int32_t)pid, __ATOMIC_RELEASE);
        return i;
    }
    return -1;
}

void pvm_shm_slot_release(pvm_shm *shm, int slot)
{
    if (!shm || slot < 0 || slot >= PVM_SHM_SLOTS)
        return;
    __atomic_store_n(&shm->slots[slot].busy_since_ns, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&shm->slots[slot].ready, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&shm->slots[slot].pid, 0, __ATOMIC_RELEASE);
}

/* The line is written first, then the timestamp with release order, so a
 * reader that sees the timestamp sees this request's line. */
void pvm_shm_slot_begin(pvm_shm *shm, int slot, const char *method,
                        const char *uri)
{
    if (!shm || slot < 0 || slot >= PVM_SHM_SLOTS)
        return;
    pvm_worker_slot *s = &shm->slots[slot];
    snprintf(s->line, sizeof(s->line), "%s %s", method ? method : "-",
             uri ? uri : "-");
    uint64_t now = pvm_shm_now_ns();
    __atomic_store_n(&s->busy_since_ns, now ? now : 1, __ATOMIC_RELEASE);
}

void pvm_shm_slot_end(pvm_shm *shm, int slot)
{
    if (!shm || slot < 0 || slot >= PVM_SHM_SLOTS)
        return;
    pvm_worker_slot *s = &shm->slots[slot];
    __atomic_store_n(&s->busy_since_ns, 0, __ATOMIC_RELEASE);
    __atomic_fetch_add(&s->requests, 1, __ATOMIC_RELAXED);
}

uint64_t pvm_shm_slot_busy_ns(const pvm_shm *shm, int slot, uint64_t now_ns)
{
    uint64_t t = __atomic_load_n(&shm->slots[slot].busy_since_ns,
                                 __ATOMIC_ACQUIRE);
    return t && now_ns > t ? now_ns - t : 0;
}

void pvm_shm_slot_line(const pvm_shm *shm, int slot, char *buf, size_t n)
{
    const pvm_worker_slot *s = &shm->slots[slot];
    if (n == 0)
        return;
    if (!__atomic_load_n(&s->busy_since_ns, __ATOMIC_ACQUIRE)) {
        snprintf(buf, n, "(idle)");
        return;
    }
    size_t i = 0;
    for (; i + 1 < n && i < sizeof(s->line) && s->line[i]; i++)
        buf[i] = s->line[i];
    buf[i] = '\0';
}
