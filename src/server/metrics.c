/* metrics.c: the self-monitoring counters in shared memory and their
 * Prometheus text exposition (see metrics.h). Every update is one atomic
 * add, so workers never lock; the exposition reads racily, which at worst
 * shows a histogram a request behind its count. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "shm.h"

/* Route patterns of api.c and the handler label they are exposed with,
 * in the Prometheus style (prometheus_http_requests_total{handler=...}).
 * The last entry counts everything unknown. */
static const struct {
    const char *route; /* api.c route pattern, or "metrics" */
    const char *label; /* handler="..." */
} handlers[PVM_METRICS_HANDLERS] = {
    {"query", "/api/v1/query"},
    {"query_range", "/api/v1/query_range"},
    {"series", "/api/v1/series"},
    {"labels", "/api/v1/labels"},
    {"label/*/values", "/api/v1/label/:name/values"},
    {"query_exemplars", "/api/v1/query_exemplars"},
    {"format_query", "/api/v1/format_query"},
    {"parse_query", "/api/v1/parse_query"},
    {"status/buildinfo", "/api/v1/status/buildinfo"},
    {"rules", "/api/v1/rules"},
    {"alerts", "/api/v1/alerts"},
    {"metadata", "/api/v1/metadata"},
    {"status/flags", "/api/v1/status/flags"},
    {"status/runtimeinfo", "/api/v1/status/runtimeinfo"},
    {"federate", "/federate"},
    {"-/healthy", "/-/healthy"},
    {"-/ready", "/-/ready"},
    {"read", "/api/v1/read"},
    {"metrics", "/metrics"},
    {NULL, "other"},
};

/* Counted status codes; 0 stands for any other. */
static const int codes[PVM_METRICS_CODES] = {
    200, 204, 400, 401, 403, 404, 405, 413, 414, 422, 499, 500, 503, 0,
};

/* Upper bounds of the duration buckets, seconds. */
static const double buckets[PVM_METRICS_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

static const char *const restart_names[PVM_RESTART_NREASONS] = {
    [PVM_RESTART_CRASH] = "crash",
    [PVM_RESTART_EXIT] = "exit",
    [PVM_RESTART_TIMEOUT] = "timeout",
    [PVM_RESTART_STARTUP] = "startup",
};

static void add(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Counting */

const char *pvm_metrics_restart_name(pvm_restart_reason reason)
{
    return reason < PVM_RESTART_NREASONS ? restart_names[reason] : "unknown";
}

void pvm_metrics_register_plugins(pvm_shm *shm, const pvm_context *ctx)
{
    pvm_metrics_data *m = &shm->metrics;
    size_t n = pvm_context_plugin_count(ctx);
    for (size_t i = 0; i < n; i++) {
        const char *name = pvm_plugin_name(pvm_context_plugin_at(ctx, i));
        uint32_t j = 0;
        for (; j < m->nplugins; j++)
            if (strncmp(m->plugin_names[j], name,
                        PVM_METRICS_PLUGIN_NAME - 1) == 0)
                break;
        if (j < m->nplugins || m->nplugins >= PVM_METRICS_PLUGINS)
            continue;
        snprintf(m->plugin_names[j], PVM_METRICS_PLUGIN_NAME, "%s", name);
        __atomic_store_n(&m->nplugins, j + 1, __ATOMIC_RELEASE);
    }
}

void pvm_metrics_observe(pvm_shm *shm, const char *route, int status,
                         double seconds)
{
    if (!shm)
        return;
    pvm_metrics_data *m = &shm->metrics;
    size_t h = 0;
    for (; handlers[h].route; h++)
        if (route && strcmp(handlers[h].route, route) == 0)
            break;
    size_t c = 0;
    while (codes[c] && codes[c] != status)
        c++;
    add(&m->requests[h][c], 1);
    for (size_t b = 0; b < PVM_METRICS_BUCKETS; b++)
        if (seconds <= buckets[b])
            add(&m->buckets[h][b], 1); /* cumulative, as exposed */
    add(&m->duration_us[h], seconds > 0 ? (uint64_t)(seconds * 1e6) : 0);
    add(&m->duration_count[h], 1);
}

void pvm_metrics_plugin_error(pvm_shm *shm, const char *plugin)
{
    if (!shm)
        return;
    pvm_metrics_data *m = &shm->metrics;
    uint32_t n = __atomic_load_n(&m->nplugins, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; plugin && i < n; i++) {
        if (strncmp(m->plugin_names[i], plugin, PVM_METRICS_PLUGIN_NAME - 1) ==
            0) {
            add(&m->plugin_errors[i], 1);
            return;
        }
    }
}

void pvm_metrics_restart(pvm_shm *shm, pvm_restart_reason reason)
{
    if (shm && reason < PVM_RESTART_NREASONS)
        add(&shm->metrics.restarts[reason], 1);
}

/* Exposition */

/* A small buffered writer over pvm_http_out. */
typedef struct mbuf {
    const pvm_http_out *out; /* sink */
    char buf[8192];          /* pending bytes */
    size_t len;              /* used in buf */
    int failed;              /* a write failed */
} mbuf;

static void mflush(mbuf *b)
{
    if (b->len && !b->failed && b->out->write(b->out->ctx, b->buf, b->len) < 0)
        b->failed = 1;
    b->len = 0;
}

static void mprintf(mbuf *b, const char *fmt, ...) PVM_PRINTF(2, 3);

static void mprintf(mbuf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line))
        n = sizeof(line) - 1;
    if (b->len + (size_t)n > sizeof(b->buf))
        mflush(b);
    memcpy(b->buf + b->len, line, (size_t)n);
    b->len += (size_t)n;
}

static void write_requests(mbuf *b, const pvm_metrics_data *m)
{
    mprintf(b, "# HELP pvm_http_requests_total HTTP requests answered, by "
               "handler and status code.\n"
               "# TYPE pvm_http_requests_total counter\n");
    for (size_t h = 0; h < PVM_METRICS_HANDLERS; h++)
        for (size_t c = 0; c < PVM_METRICS_CODES; c++) {
            uint64_t v = get(&m->requests[h][c]);
            if (!v)
                continue;
            char code[16] = "other";
            if (codes[c])
                snprintf(code, sizeof(code), "%d", codes[c]);
            mprintf(b,
                    "pvm_http_requests_total{handler=\"%s\",code=\"%s\"} "
                    "%llu\n",
                    handlers[h].label, code, (unsigned long long)v);
        }
    mprintf(b, "# HELP pvm_http_request_duration_seconds Time to answer "
               "an HTTP request, by handler.\n"
               "# TYPE pvm_http_request_duration_seconds histogram\n");
    for (size_t h = 0; h < PVM_METRICS_HANDLERS; h++) {
        uint64_t count = get(&m->duration_count[h]);
        if (!count)
            continue;
        const char *l = handlers[h].label;
        for (size_t i = 0; i < PVM_METRICS_BUCKETS; i++)
            mprintf(b,
                    "pvm_http_request_duration_seconds_bucket{handler=\"%s\","
                    "le=\"%g\"} %llu\n",
                    l, buckets[i], (unsigned long long)get(&m->buckets[h][i]));
        mprintf(b,
                "pvm_http_request_duration_seconds_bucket{handler=\"%s\","
                "le=\"+Inf\"} %llu\n"
                "pvm_http_request_duration_seconds_sum{handler=\"%s\"} %.6f\n"
                "pvm_http_request_duration_seconds_count{handler=\"%s\"} "
                "%llu\n",
                l, (unsigned long long)count, l,
                (double)get(&m->duration_us[h]) / 1e6, l,
                (unsigned long long)count);
    }
}

static void write_workers(mbuf *b, const pvm_shm *shm)
{
    const pvm_metrics_data *m = &shm->metrics;
    unsigned busy = 0, idle = 0;
    uint64_t now = pvm_shm_now_ns();
    for (int i = 0; i < PVM_SHM_SLOTS; i++) {
        if (!__atomic_load_n(&shm->slots[i].pid, __ATOMIC_ACQUIRE) ||
            !__atomic_load_n(&shm->slots[i].ready, __ATOMIC_ACQUIRE))
            continue;
        if (pvm_shm_slot_busy_ns(shm, i, now))
            busy++;
        else
            idle++;
    }
    mprintf(b,
            "# HELP pvm_workers Worker processes running and ready, by "
            "state.\n# TYPE pvm_workers gauge\n"
            "pvm_workers{state=\"busy\"} %u\npvm_workers{state=\"idle\"} "
            "%u\n",
            busy, idle);
    mprintf(b,
            "# HELP pvm_workers_configured Worker processes the master "
            "keeps running.\n# TYPE pvm_workers_configured gauge\n"
            "pvm_workers_configured %llu\n",
            (unsigned long long)get(&m->workers_configured));
    mprintf(b, "# HELP pvm_worker_restarts_total Workers replaced by the "
               "master, by reason.\n"
               "# TYPE pvm_worker_restarts_total counter\n");
    for (int r = 0; r < PVM_RESTART_NREASONS; r++)
        mprintf(b, "pvm_worker_restarts_total{reason=\"%s\"} %llu\n",
                restart_names[r], (unsigned long long)get(&m->restarts[r]));
    mprintf(b,
            "# HELP pvm_config_reloads_total Configuration reloads "
            "(SIGHUP), by result.\n"
            "# TYPE pvm_config_reloads_total counter\n"
            "pvm_config_reloads_total{result=\"success\"} %llu\n"
            "pvm_config_reloads_total{result=\"failure\"} %llu\n",
            (unsigned long long)get(&m->reloads_ok),
            (unsigned long long)get(&m->reloads_failed));
}

static void write_plugins(mbuf *b, const pvm_metrics_data *m)
{
    mprintf(b, "# HELP pvm_plugin_errors_total Failed plugin hook calls, "
               "by plugin instance.\n"
               "# TYPE pvm_plugin_errors_total counter\n");
    uint32_t n = __atomic_load_n(&m->nplugins, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < PVM_METRICS_PLUGINS; i++) {
        char name[PVM_METRICS_PLUGIN_NAME];
        snprintf(name, sizeof(name), "%s", m->plugin_names[i]);
        /* instance names are [A-Za-z0-9_.-]+: nothing to escape */
        mprintf(b, "pvm_plugin_errors_total{plugin=\"%s\"} %llu\n", name,
                (unsigned long long)get(&m->plugin_errors[i]));
    }
}

int pvm_metrics_write(const pvm_shm *shm, const pvm_http_out *out)
{
    mbuf b = {.out = out};
    if (shm) {
        write_requests(&b, &shm->metrics);
        write_workers(&b, shm);
        write_plugins(&b, &shm->metrics);
        mprintf(&b,
                "# HELP pvm_start_time_seconds Start time of the "
                "server, seconds since the epoch.\n"
                "# TYPE pvm_start_time_seconds gauge\n"
                "pvm_start_time_seconds %llu\n",
                (unsigned long long)get(&shm->metrics.start_time));
    }
    mflush(&b);
    return b.failed ? -1 : 200;
}
