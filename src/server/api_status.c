/* api_status.c: health, readiness, flags and runtime information (see
 * api_status.h). Health and readiness answer plain text, as Prometheus'
 * /-/healthy and /-/ready do, and never run a plugin hook. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_status.h"
#include "json.h"
#include "output.h"
#include "params.h"
#include "registry.h"
#include "shm.h"

#define TEXT "text/plain; charset=utf-8"

bool pvm_api_is_ready(const pvm_api_env *env, const char **why)
{
    if ((env->stopping && *env->stopping) ||
        (env->shm && __atomic_load_n(&env->shm->stopping, __ATOMIC_ACQUIRE))) {
        *why = "stopping";
        return false;
    }
    if (!pvm_context_is_started(env->ctx)) {
        *why = "starting";
        return false;
    }
    *why = "";
    return true;
}

static int text_answer(pvm_api_call *c, int status, const char *body)
{
    static const pvm_kv no_store[] = {{"Cache-Control", "no-store"}};
    if (pvm_output_head(c->out, status, TEXT, NULL, no_store, 1) < 0)
        return status;
    c->out->write(c->out->ctx, body, strlen(body));
    return status;
}

/* GET|HEAD <prefix>/-/healthy */
int pvm_api_healthy(pvm_api_call *c)
{
    return text_answer(c, 200, "pvm is Healthy.\n");
}

/* GET|HEAD <prefix>/-/ready */
int pvm_api_ready(pvm_api_call *c)
{
    const char *why;
    if (pvm_api_is_ready(c->env, &why))
        return text_answer(c, 200, "pvm is Ready.\n");
    char body[64];
    snprintf(body, sizeof(body), "Service Unavailable: pvm is %s.\n", why);
    return text_answer(c, 503, body);
}

static void kv(pvm_json *j, const char *key, const char *value)
{
    pvm_json_key(j, key);
    pvm_json_string(j, value ? value : "");
}

static void kv_duration(pvm_json *j, const char *key, int64_t ms)
{
    char buf[32];
    pvm_format_duration(buf, sizeof(buf), ms);
    kv(j, key, buf);
}

static void kv_size(pvm_json *j, const char *key, size_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%zu", v);
    kv(j, key, buf);
}

/* GET /api/v1/status/flags */
int pvm_api_status_flags(pvm_api_call *c)
{
    const pvm_server_config *s = c->env->cfg;
    pvm_json *j = pvm_output_begin_data(c->a, c->out);
    if (!j)
        return pvm_status_http(PVM_ERR_NOMEM);
    /* Keys in byte order, as Go writes a map. */
    pvm_json_begin_object(j);
    kv(j, "config.file", pvm_context_config_path(c->env->ctx));
    kv(j, "server.access_log",
       s->access_log_off ? "off" : pvm_log_level_name(s->access_log_level));
    kv(j, "server.api_url_prefix", s->api_url_prefix);
    kv(j, "server.listen", s->listen ? s->listen : "(inherited socket)");
    kv(j, "server.log_level", pvm_log_level_name(s->log_level));
    kv_duration(j, "server.lookback_delta", s->lookback_delta_ms);
    kv_size(j, "server.max_body_bytes", s->max_body_bytes);
    kv_duration(j, "server.max_query_timeout", s->max_query_timeout_ms);
    kv_size(j, "server.max_request_memory", s->max_request_memory);
    kv_size(j, "server.max_samples", s->max_samples);
    kv(j, "server.metrics_path", s->metrics_path);
    kv_duration(j, "server.request_timeout", s->request_timeout_ms);
    kv_duration(j, "server.shutdown_timeout", s->shutdown_timeout_ms);
    kv(j, "server.trusted_proxies", s->trusted_proxies_text);
    kv_size(j, "server.workers", (size_t)s->workers);
    pvm_json_end_object(j);
    pvm_output_end_data(j);
    c->ans->count = 15;
    return 200;
}

/* RFC 3339 in UTC, as Go's time.Time marshals a whole second. */
static void kv_time(pvm_json *j, const char *key, time_t t)
{
    struct tm tm;
    char buf[40];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    kv(j, key, buf);
}

/* Worker processes running and ready (the master's children), or 1 for
 * a process serving alone. */
static int live_workers(const pvm_shm *shm)
{
    int n = 0;
    for (int i = 0; shm && i < PVM_SHM_SLOTS; i++)
        n += __atomic_load_n(&shm->slots[i].pid, __ATOMIC_ACQUIRE) &&
             __atomic_load_n(&shm->slots[i].ready, __ATOMIC_ACQUIRE);
    return n ? n : 1;
}

/* GET /api/v1/status/runtimeinfo */
int pvm_api_status_runtimeinfo(pvm_api_call *c)
{
    const pvm_shm *shm = c->env->shm;
    time_t now = time(NULL);
    time_t start = shm ? (time_t)shm->metrics.start_time : now;
    time_t config = shm ? (time_t)__atomic_load_n(&shm->config_time,
                                                  __ATOMIC_RELAXED)
                        : now;
    bool reload_ok = !shm ||
                     !__atomic_load_n(&shm->reload_failed, __ATOMIC_RELAXED);
    char cwd[4096], host[256];
    if (!getcwd(cwd, sizeof(cwd)))
        cwd[0] = '\0';
    if (gethostname(host, sizeof(host)) < 0)
        host[0] = '\0';
    host[sizeof(host) - 1] = '\0';
    pvm_json *j = pvm_output_begin_data(c->a, c->out);
    if (!j)
        return pvm_status_http(PVM_ERR_NOMEM);
    pvm_json_begin_object(j);
    kv_time(j, "startTime", start);
    kv(j, "CWD", cwd);
    kv(j, "hostname", host);
    kv_time(j, "serverTime", now);
    pvm_json_key(j, "reloadConfigSuccess");
    pvm_json_bool(j, reload_ok);
    kv_time(j, "lastConfigTime", config);
    pvm_json_key(j, "corruptionCount");
    pvm_json_int64(j, 0);
    /* The worker processes stand in for Go's goroutines and GOMAXPROCS:
     * how many serve now, and how many the master keeps. */
    pvm_json_key(j, "goroutineCount");
    pvm_json_int64(j, live_workers(shm));
    pvm_json_key(j, "GOMAXPROCS");
    pvm_json_int64(
        j, shm ? (int64_t)__atomic_load_n(&shm->metrics.workers_configured,
                                          __ATOMIC_RELAXED)
               : 1);
    kv(j, "GOGC", "");
    kv(j, "GODEBUG", "");
    kv(j, "storageRetention", "none (series are computed by plugins)");
    pvm_json_end_object(j);
    pvm_output_end_data(j);
    c->ans->count = 1;
    return 200;
}

/* GET /api/v1/status/buildinfo */
int pvm_api_buildinfo(pvm_api_call *r)
{
    /* A Prometheus-like version for clients that gate features on it, and
     * deliberately no "features" key: Grafana reads one as Mimir. */
    return pvm_output_data_raw(
        r->a, r->out,
        "{\"version\":\"3.0.0\",\"revision\":\"pvm-" PACKAGE_VERSION
        "\",\"branch\":\"main\",\"buildUser\":\"pvm\","
        "\"buildDate\":\"" PVM_BUILD_DATE "\",\"goVersion\":\"none "
        "(prometheus-virtual-metrics " PACKAGE_VERSION ", C)\"}");
}

/* GET /api/v1/rules */
int pvm_api_rules(pvm_api_call *r)
{
    return pvm_output_data_raw(r->a, r->out, "{\"groups\":[]}");
}

/* GET /api/v1/alerts */
int pvm_api_alerts(pvm_api_call *r)
{
    return pvm_output_data_raw(r->a, r->out, "{\"alerts\":[]}");
}
