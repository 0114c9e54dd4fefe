/* lua_core.h: what the files of the `lua` plugin type share (lua.c the
 * type and its hooks, lua_sandbox.c the state, allocator and instruction
 * hook, lua_request.c and lua_response.c the objects scripts see). Not a
 * public header: only plugins/lua*.c include it. */
#ifndef PVM_LUA_CORE_H
#define PVM_LUA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <signal.h>

#include <lua.h>

#include <pvm/pvm.h>

/* The seven hooks of the seed API, in pvm/hooks.def order, and pvm's
 * metadata hook. */
enum {
    PVM_LUA_STARTUP,
    PVM_LUA_SHUTDOWN,
    PVM_LUA_INSTANT,
    PVM_LUA_RANGE,
    PVM_LUA_METRIC_NAMES,
    PVM_LUA_LABEL_NAMES,
    PVM_LUA_LABEL_VALUES,
    PVM_LUA_METADATA, /* pvm's on_metadata_request */
    PVM_LUA_NHOOKS
};

/* Per-instance state (zeroed by the server). The Lua state is per worker:
 * made in on_startup, closed in destroy. */
struct pvm_lua {
    char *script;        /* `script =`, resolved (set by the server) */
    bool allow_unsafe;   /* `allow_unsafe =`: every standard library */
    size_t memory_limit; /* `memory_limit =`: bytes the state may hold */
    int64_t timeout_ms;  /* `timeout =`: bound of one hook call */
    char **set_keys;     /* free keys (context.settings), malloc'd */
    char **set_vals;     /* their values, malloc'd */
    size_t nset;         /* number of free keys */

    pvm_plugin *self;             /* the instance (for logging) */
    lua_State *L;                 /* the worker's state, or NULL */
    size_t mem_used;              /* bytes held by L (the allocator counts) */
    int64_t deadline_ms;          /* CLOCK_MONOTONIC ms: the instruction hook
                                    stops the script after it; 0: none */
    bool timed_out;               /* the hook stopped the running call */
    int hook_ref[PVM_LUA_NHOOKS]; /* registry refs of the hook functions,
                                     LUA_NOREF when the script has none */
    int ctx_ref;                  /* registry ref of the context table */
    int req_ref, resp_ref;        /* the request and response objects */
    void *resp_ud;                /* the response object's block */
    uint64_t call;                /* counts request hook calls: a series
                                     handle is valid in its call only */
    pvm_request *req;             /* the request of the running hook, or
                                    NULL outside a request hook */
    pvm_response *resp;           /* its response, or NULL */
    int status;                   /* a negative status a response call
                                    returned (the response is failed
                                    already), else 0 */
};

/* lua_sandbox.c */

/* A new state for p: the counting allocator capped at p->memory_limit,
 * the safe libraries (or all of them with allow_unsafe), `print` logging
 * at info, the instruction hook installed. NULL when out of memory. */
lua_State *pvm_lua_state_new(struct pvm_lua *p);

/* The signal of the deadline timer (a real-time signal no other part of
 * pvm uses; SIGALRM is the server's). */
#define PVM_LUA_SIGNAL (SIGRTMIN + 5)

/* Arms the deadline for one call: once CLOCK_MONOTONIC passes
 * deadline_ms (0: none) a timer's signal installs an instruction-count
 * hook that stops the script with an error (p->timed_out set). Until
 * then the script runs without a hook. pvm_lua_disarm after the call. */
void pvm_lua_arm(struct pvm_lua *p, int64_t deadline_ms);
void pvm_lua_disarm(struct pvm_lua *p);

/* CLOCK_MONOTONIC in ms. */
int64_t pvm_lua_now_ms(void);

/* lua_request.c: the request object and its query, headers, parameters.
 * Leaves the request object in the registry (p->req_ref). */
void pvm_lua_request_open(lua_State *L, struct pvm_lua *p);

/* lua_response.c: the response object (p->resp_ref) and the `pvm` global
 * table (pvm.forbidden). */
void pvm_lua_response_open(lua_State *L, struct pvm_lua *p);

/* True when the value at idx is a forbidden error (pvm.forbidden(msg));
 * *msg is then its message (valid while the value is on the stack). */
bool pvm_lua_is_forbidden(lua_State *L, int idx, const char **msg);

/* Most labels a script passes in one call. */
#define PVM_LUA_MAX_LABELS 64

/* Reads the labels table at idx (nil: none) into out (at most max),
 * sorted by name; raises an error naming `what` for anything but string
 * keys and values. The strings belong to the table, which must stay on
 * the stack while they are used. Returns the count. */
size_t pvm_lua_labels(lua_State *L, int idx, pvm_label *out, size_t max,
                      const char *what);

#endif
