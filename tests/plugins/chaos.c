/* tests/plugins/chaos.c: the `chaos` plugin of the process-model tests.
 * Misbehaves on request: a query whose text contains `crash_me` makes the
 * hook segfault, `abort_me` makes it abort(), `sleep_me` makes it sleep
 * (sleep = seconds, default 3) and `fail_me` makes it fail (a 500 counted
 * per instance in /metrics). `startup = crash` makes on_startup segfault
 * (a crash loop), `startup = fail` makes it fail. Logs each hook that runs once per process
 * (on_master_startup, on_startup, on_shutdown) with the pid, so the tests
 * can count them. Any other query gets an empty answer. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pvm/pvm.h>

/* State */

typedef struct chaos_state {
    double sleep_s; /* how long sleep_me sleeps, seconds (default 3) */
    int startup;    /* on_startup: 0 succeeds, 1 crashes, 2 fails */
} chaos_state;

/* Config */

/* sleep = SECONDS (a positive number, fractions allowed)
 * startup = crash | fail */
static int chaos_configure(pvm_plugin *self, const char *key,
                           const char *value, pvm_error *err)
{
    chaos_state *st = pvm_plugin_state(self);
    if (strcmp(key, "sleep") == 0) {
        char *end;
        st->sleep_s = strtod(value, &end);
        if (*end || !(st->sleep_s > 0))
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "not a positive number of seconds: '%s'",
                                 value);
        return 0;
    }
    if (strcmp(key, "startup") == 0) {
        if (strcmp(value, "crash") == 0)
            st->startup = 1;
        else if (strcmp(value, "fail") == 0)
            st->startup = 2;
        else
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "expected crash or fail: '%s'", value);
        return 0;
    }
    return pvm_error_set(err, PVM_ERR_BAD_DATA,
                         "unknown key (chaos takes "
                         "sleep and startup)");
}

static int chaos_check(pvm_plugin *self, pvm_error *err)
{
    (void)err;
    chaos_state *st = pvm_plugin_state(self);
    if (st->sleep_s == 0)
        st->sleep_s = 3;
    return 0;
}

/* Hooks */

static int chaos_on_master_startup(pvm_plugin *self, pvm_context *ctx,
                                   pvm_error *err)
{
    (void)ctx, (void)err;
    pvm_plugin_log(self, PVM_LOG_INFO, "chaos: on_master_startup in %d",
                   (int)getpid());
    return 0;
}

static int chaos_on_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err)
{
    (void)ctx;
    chaos_state *st = pvm_plugin_state(self);
    pvm_plugin_log(self, PVM_LOG_INFO, "chaos: on_startup in %d",
                   (int)getpid());
    if (st->startup == 1) {
        raise(SIGSEGV);
        *(volatile int *)(uintptr_t)0 = 1;
    }
    if (st->startup == 2)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "chaos: startup = fail");
    return 0;
}

static int chaos_on_shutdown(pvm_plugin *self, pvm_context *ctx,
                             pvm_error *err)
{
    (void)ctx, (void)err;
    pvm_plugin_log(self, PVM_LOG_INFO, "chaos: on_shutdown in %d",
                   (int)getpid());
    return 0;
}

/* Sleeps s seconds, resuming after signals. */
static void chaos_sleep(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0)
        ;
}

/* The misbehaviour the query text asks for; 0 when none. */
static int chaos_act(pvm_plugin *self, pvm_request *req, pvm_response *resp)
{
    chaos_state *st = pvm_plugin_state(self);
    const char *q = pvm_request_query_string(req);
    if (!q)
        return 0;
    if (strstr(q, "crash_me")) {
        pvm_plugin_log(self, PVM_LOG_INFO, "chaos: crashing on purpose");
        raise(SIGSEGV);
        *(volatile int *)(uintptr_t)0 = 1; /* if SIGSEGV was handled */
    }
    if (strstr(q, "abort_me"))
        abort();
    if (strstr(q, "sleep_me"))
        chaos_sleep(st->sleep_s);
    if (strstr(q, "fail_me"))
        return pvm_response_fail(resp, "failing on purpose");
    return 0;
}

static int chaos_on_request(pvm_plugin *self, pvm_request *req,
                            pvm_response *resp)
{
    return chaos_act(self, req, resp);
}

const pvm_plugin_type pvm_plugin_chaos = {
    .name = "chaos", /* `type = chaos` in pvm.ini */
    .description = "test: crashes, sleeps or fails on marked queries",
    .state_size = sizeof(chaos_state),            /* zeroed per instance */
    .configure = chaos_configure,                 /* sleep, startup */
    .check = chaos_check,                         /* default sleep */
    .destroy = NULL,                              /* nothing allocated */
    .on_startup = chaos_on_startup,               /* logs */
    .on_shutdown = chaos_on_shutdown,             /* logs */
    .on_instant_query_request = chaos_on_request, /* crash/sleep/fail */
    .on_range_query_request = chaos_on_request,   /* same */
    .on_metric_names_request = chaos_on_request,  /* same (match[]) */
    .on_label_names_request = chaos_on_request,   /* same */
    .on_label_values_request = chaos_on_request,  /* same */
    .on_master_startup = chaos_on_master_startup, /* logs */
};
