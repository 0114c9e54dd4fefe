/* lua_sandbox.c: the Lua state of a `lua` instance and its bounds: an
 * allocator that counts the state's bytes and refuses to pass
 * memory_limit, an instruction-count hook that a timer installs at the
 * request's deadline to stop the script, and the safe standard libraries
 * (string, table, math, utf8, os.time/date/clock/difftime, a text-only
 * `load`) unless allow_unsafe = yes opens them all. Coroutines are not
 * among them: a hook is per coroutine, so the timer could not stop a
 * loop inside one. */
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua_core.h"

/* Longest line `print` logs (the rest is cut). */
#define PRINT_MAX 4096

int64_t pvm_lua_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* lua_Alloc: counts what the state holds and refuses to grow it past the
 * limit (Lua then collects garbage and raises "not enough memory").
 * Shrinking and freeing always succeed. For a new block ptr is NULL and
 * osize is a type tag, not a size. */
static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct pvm_lua *p = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        p->mem_used -= old;
        return NULL;
    }
    if (nsize > old && nsize - old > p->memory_limit - p->mem_used)
        return NULL;
    void *q = realloc(ptr, nsize);
    if (!q)
        return NULL;
    p->mem_used = p->mem_used - old + nsize;
    return q;
}

/* The stop hook, installed by the timer's signal at the deadline: raise
 * an error, at every instruction (count 1) and every call and return, so
 * that a script catching it with pcall in a loop is stopped too. */
static void sandbox_stop(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct pvm_lua *p;
    lua_getallocf(L, (void **)&p);
    p->timed_out = true;
    luaL_error(L, "stopped at the request's deadline");
}

/* The deadline timer: one per process (a worker runs one hook at a
 * time), made on first use in each process (timers do not survive a
 * fork). Its signal installs the stop hook on the state running then:
 * the interpreter runs without a hook, at full speed, until the
 * deadline (lua_sethook may be called from a signal handler; lua.c stops
 * scripts on SIGINT the same way). */
static lua_State *volatile sandbox_running; /* the state of the call */
static timer_t sandbox_timer;               /* CLOCK_MONOTONIC, absolute */
static pid_t sandbox_timer_pid;             /* process that made it */

static void sandbox_signal(int sig)
{
    (void)sig;
    lua_State *L = sandbox_running;
    if (L)
        lua_sethook(L, sandbox_stop,
                    LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* The timer of this process, made on first use; false when it cannot be
 * made (the stop then relies on the clock checks of the response calls
 * and on the master's request_timeout). */
static bool sandbox_timer_ready(void)
{
    if (sandbox_timer_pid == getpid())
        return true;
    struct sigaction sa = {0};
    sa.sa_handler = sandbox_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(PVM_LUA_SIGNAL, &sa, NULL) < 0)
        return false;
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = PVM_LUA_SIGNAL;
    if (timer_create(CLOCK_MONOTONIC, &ev, &sandbox_timer) < 0)
        return false;
    sandbox_timer_pid = getpid();
    return true;
}

static void sandbox_timer_set(int64_t at_ms)
{
    struct itimerspec it = {0};
    it.it_value.tv_sec = at_ms / 1000;
    it.it_value.tv_nsec = (at_ms % 1000) * 1000000;
    timer_settime(sandbox_timer, TIMER_ABSTIME, &it, NULL);
}

void pvm_lua_arm(struct pvm_lua *p, int64_t deadline_ms)
{
    p->deadline_ms = deadline_ms;
    p->timed_out = false;
    lua_sethook(p->L, NULL, 0, 0);
    if (deadline_ms <= 0 || !sandbox_timer_ready())
        return;
    sandbox_running = p->L;
    if (deadline_ms <= pvm_lua_now_ms())
        sandbox_signal(0);
    else
        sandbox_timer_set(deadline_ms);
}

void pvm_lua_disarm(struct pvm_lua *p)
{
    if (sandbox_running == p->L) {
        sandbox_timer_set(0); /* disarms */
        sandbox_running = NULL;
    }
    lua_sethook(p->L, NULL, 0, 0);
}

/* print(...): the arguments as tostring shows them, separated by tabs,
 * logged at info with the instance name. */
static int sandbox_print(lua_State *L)
{
    struct pvm_lua *p = lua_touserdata(L, lua_upvalueindex(1));
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    pvm_plugin_log(p->self, PVM_LOG_INFO, "%.*s",
                   (int)(len > PRINT_MAX ? PRINT_MAX : len), s);
    return 0;
}

/* load(chunk [, chunkname [, mode [, env]]]) with mode forced to "t":
 * precompiled chunks can break the interpreter's memory safety. */
static int sandbox_load(lua_State *L)
{
    int n = lua_gettop(L);
    if (n > 4)
        n = 4;
    if (n < 3)
        n = 3;
    lua_settop(L, n); /* an explicit nil env stays an argument */
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* Keeps only the named fields of the table at the top of the stack. */
static void keep_fields(lua_State *L, const char *const *keep)
{
    lua_newtable(L);
    for (size_t i = 0; keep[i]; i++) {
        lua_getfield(L, -2, keep[i]);
        lua_setfield(L, -2, keep[i]);
    }
    lua_replace(L, -2);
}

static void open_safe(lua_State *L)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},
        {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table},
        {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8},
        {LUA_OSLIBNAME, luaopen_os},
        {NULL, NULL},
    };
    static const char *const os_keep[] = {"time", "date", "clock", "difftime",
                                          NULL};
    for (const luaL_Reg *l = libs; l->name; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    lua_getglobal(L, LUA_OSLIBNAME);
    keep_fields(L, os_keep);
    lua_setglobal(L, LUA_OSLIBNAME);
    /* no files, no binary chunks */
    static const char *const drop[] = {"dofile", "loadfile", NULL};
    for (size_t i = 0; drop[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, drop[i]);
    }
    lua_getglobal(L, "load");
    lua_pushcclosure(L, sandbox_load, 1);
    lua_setglobal(L, "load");
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
}

/* Opens the libraries; runs in protected mode (they allocate). */
static int sandbox_open(lua_State *L)
{
    struct pvm_lua *p = lua_touserdata(L, 1);
    if (p->allow_unsafe)
        luaL_openlibs(L);
    else
        open_safe(L);
    lua_pushlightuserdata(L, p);
    lua_pushcclosure(L, sandbox_print, 1);
    lua_setglobal(L, "print");
    return 0;
}

lua_State *pvm_lua_state_new(struct pvm_lua *p)
{
    p->mem_used = 0;
    lua_State *L = lua_newstate(sandbox_alloc, p);
    if (!L)
        return NULL;
    lua_pushcfunction(L, sandbox_open);
    lua_pushlightuserdata(L, p);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        lua_close(L);
        return NULL;
    }
    return L;
}
