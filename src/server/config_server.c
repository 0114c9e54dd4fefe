/* config_server.c: the [server] section of pvm.ini (see config_server.h):
 * one table of keys, nginx style (name, generic setter, field offset,
 * smallest number), the setters and the defaults. config.c reads the file
 * and hands each [server] key here. */
#include "config_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "log.h"
#include "params.h"

/* Sizes: see config_server.h. */
int pvm_config_parse_size(const char *s, size_t *out)
{
    size_t v = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return PVM_ERR_BAD_DATA;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (SIZE_MAX - 9) / 10)
            return PVM_ERR_BAD_DATA;
        v = v * 10 + (size_t)(*p - '0');
    }
    unsigned shift = 0;
    switch (*p) {
    case '\0': break;
    case 'k':
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    default: return PVM_ERR_BAD_DATA;
    }
    if (*p && p[1])
        return PVM_ERR_BAD_DATA;
    if (shift && v > (SIZE_MAX >> shift))
        return PVM_ERR_BAD_DATA;
    *out = v << shift;
    return 0;
}

/* Longest message part a setter writes ("not a size: '...'"). */
#define CONFIG_WHY_MAX 320

/* Number of [server] keys (server_keys, at the bottom, has one more entry:
 * the NULL terminator). */
#define SERVER_NKEYS 19

struct server_key;

/* Parses value into the field of s that k describes. 0, or -1 with a
 * message in why ("not a size: 'x'"). */
typedef int (*server_setter)(pvm_server_config *s, const struct server_key *k,
                             const char *value, char *why, size_t whylen);

/* One [server] key, nginx style: name, generic setter, field offset. */
struct server_key {
    const char *name;  /* key as written in pvm.ini */
    server_setter set; /* parses and stores the value */
    size_t offset;     /* offsetof the field in pvm_server_config */
    int64_t min;       /* smallest accepted value of a number */
};

static const struct server_key server_keys[SERVER_NKEYS + 1];

void pvm_server_config_defaults(pvm_server_config *s)
{
    s->listen = NULL;
    s->max_body_bytes = (size_t)1 << 20;
    s->log_level = PVM_LOG_INFO;
    s->access_log_level = PVM_LOG_INFO;
    s->access_log_off = false;
    s->max_request_memory = (size_t)1 << 30;
    s->max_samples = 50000000;
    s->lookback_delta_ms = 5 * 60 * 1000;
    s->workers = 0;
    s->request_timeout_ms = 60 * 1000;
    s->max_query_timeout_ms = 50 * 1000; /* < 5/6 of request_timeout */
    s->shutdown_timeout_ms = 30 * 1000;
    s->request_read_timeout_ms = 5 * 1000;
    s->keepalive_timeout_ms = 75 * 1000;
    s->cache_max_age_ms = 5 * 60 * 1000;
    s->cache_max_body_bytes = (size_t)16 << 20;
}
/* Edit distance of two short keys, for "did you mean" hints. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[64];
    if (la >= 64 || lb >= 64)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

int pvm_server_config_set(pvm_server_config *s, const char *key,
                          const char *value, char *why, size_t whylen)
{
    char msg[CONFIG_WHY_MAX];
    const struct server_key *k = server_keys;
    for (; k->name; k++)
        if (strcmp(k->name, key) == 0)
            break;
    if (!k->name) {
        const char *best = NULL;
        size_t best_d = 3; /* suggest only close matches */
        for (const struct server_key *c = server_keys; c->name; c++) {
            size_t d = edit_distance(key, c->name);
            if (d < best_d) {
                best_d = d;
                best = c->name;
            }
        }
        if (best)
            snprintf(why, whylen, "unknown key '%s' (did you mean '%s'?)", key,
                     best);
        else
            snprintf(why, whylen,
                     "unknown key '%s' (see pvm.ini(5) for the "
                     "keys of [server])",
                     key);
        return -1;
    }
    if (k->set(s, k, value, msg, sizeof(msg)) < 0) {
        snprintf(why, whylen, "%s: %s", key, msg);
        return -1;
    }
    return 0;
}

/* Value parsers */

/* An integer of digits only, within [min, max]. 0 or -1. */
static int parse_uint(const char *s, int64_t min, int64_t max, int64_t *out)
{
    int64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "1..65535" */
static bool is_port(const char *s)
{
    int64_t v;
    return parse_uint(s, 1, 65535, &v) == 0;
}

/* HOST:PORT (IPv4 address or host name), [IPV6]:PORT, unix:/PATH; an
 * empty value means "the socket inherited on fd 0". */
static int set_listen(pvm_server_config *s, const struct server_key *k,
                      const char *v, char *why, size_t n)
{
    char host[256];
    bool ok = false;
    (void)k;
    if (strncmp(v, "unix:", 5) == 0) {
        size_t plen = strlen(v + 5);
        if (plen == 0) {
            snprintf(why, n, "empty socket path in '%s'", v);
            return -1;
        }
        if (plen >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            snprintf(why, n, "socket path too long (at most %zu bytes): '%s'",
                     sizeof(((struct sockaddr_un *)0)->sun_path) - 1, v);
            return -1;
        }
        ok = true;
    } else if (v[0] == '[') {
        const char *close = strstr(v, "]:");
        size_t hlen = close ? (size_t)(close - v - 1) : 0;
        if (close && hlen > 0 && hlen < sizeof(host)) {
            struct in6_addr a6;
            memcpy(host, v + 1, hlen);
            host[hlen] = '\0';
            ok = inet_pton(AF_INET6, host, &a6) == 1 && is_port(close + 2);
        }
    } else if (*v) {
        const char *colon = strrchr(v, ':');
        size_t hlen = colon ? (size_t)(colon - v) : 0;
        if (colon && hlen > 0 && hlen < sizeof(host)) {
            memcpy(host, v, hlen);
            host[hlen] = '\0';
            ok = is_port(colon + 1) && !strchr(host, ':') &&
                 strspn(host,
                        "abcdefghijklmnopqrstuvwxyz"
                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == hlen;
            if (ok && host[0] == '-')
                ok = false;
        }
    }
    if (*v && !ok) {
        snprintf(why, n,
                 "not an address: '%s' (expected HOST:PORT, [IPV6]:PORT or "
                 "unix:/PATH)",
                 v);
        return -1;
    }
    char *copy = NULL;
    if (*v && !(copy = strdup(v))) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    free(s->listen);
    s->listen = copy;
    return 0;
}

/* v as a URL path: one leading slash, trailing slashes dropped when
 * trim_trailing, "" for an empty one (malloc'd). NULL with why filled for
 * blanks, '?' or '#', or out of memory. */
static char *url_path(const char *v, bool trim_trailing, char *why, size_t n)
{
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#' || *p == 0x7f) {
            snprintf(why, n,
                     "not a URL path: '%s' (no spaces, '?' or '#' allowed)",
                     v);
            return NULL;
        }
    }
    while (*v == '/')
        v++;
    size_t len = strlen(v);
    while (trim_trailing && len && v[len - 1] == '/')
        len--;
    char *copy = malloc(len + 2);
    if (!copy) {
        snprintf(why, n, "out of memory");
        return NULL;
    }
    copy[0] = len ? '/' : '\0';
    memcpy(copy + (len ? 1 : 0), v, len);
    copy[len + (len ? 1 : 0)] = '\0';
    return copy;
}

/* Normalized to a leading slash and no trailing slash; "/" becomes "". */
static int set_prefix(pvm_server_config *s, const struct server_key *k,
                      const char *v, char *why, size_t n)
{
    (void)k;
    char *copy = url_path(v, true, why, n);
    if (!copy)
        return -1;
    free(s->api_url_prefix);
    s->api_url_prefix = copy;
    return 0;
}

/* The self-monitoring path: "" (disabled) or a path, normalized to one
 * leading slash ("metrics" -> "/metrics"). It is routed before the API,
 * so a path in the API's space (/api/v1 and below) is refused: it would
 * shadow a route or a future one. */
static int set_metrics_path(pvm_server_config *s, const struct server_key *k,
                            const char *v, char *why, size_t n)
{
    (void)k;
    char *copy = url_path(v, false, why, n);
    if (!copy)
        return -1;
    if (strcmp(copy, "/api/v1") == 0 || strncmp(copy, "/api/v1/", 8) == 0) {
        snprintf(why, n,
                 "'%s' would shadow the Prometheus API (paths under "
                 "/api/v1/ are its routes): choose another path, e.g. "
                 "/metrics",
                 copy);
        free(copy);
        return -1;
    }
    free(s->metrics_path);
    s->metrics_path = copy;
    return 0;
}

/* A size (see pvm_config_parse_size) of at least k->min bytes. */
static int set_size(pvm_server_config *s, const struct server_key *k,
                    const char *v, char *why, size_t n)
{
    size_t size;
    if (pvm_config_parse_size(v, &size) < 0) {
        snprintf(why, n, "not a size: '%s'", v);
        return -1;
    }
    if (size < (uint64_t)k->min) {
        snprintf(why, n, "must be at least %lld: '%s'", (long long)k->min, v);
        return -1;
    }
    *(size_t *)((char *)s + k->offset) = size;
    return 0;
}

/* A count (digits only) of at least k->min. */
static int set_count(pvm_server_config *s, const struct server_key *k,
                     const char *v, char *why, size_t n)
{
    int64_t x;
    if (parse_uint(v, 0, INT64_MAX, &x) < 0) {
        snprintf(why, n, "not a number: '%s'", v);
        return -1;
    }
    if (x < k->min) {
        snprintf(why, n, "must be at least %lld: '%s'", (long long)k->min, v);
        return -1;
    }
    *(size_t *)((char *)s + k->offset) = (size_t)x;
    return 0;
}

/* Number of worker processes, 0..1024 (0: one per CPU). */
static int set_workers(pvm_server_config *s, const struct server_key *k,
                       const char *v, char *why, size_t n)
{
    int64_t x;
    (void)k;
    if (parse_uint(v, 0, 1024, &x) < 0) {
        snprintf(why, n, "not a number from 0 to 1024: '%s'", v);
        return -1;
    }
    s->workers = (int)x;
    return 0;
}

/* yes/no (also true/false, on/off, 1/0, any case: pvm_parse_bool, the
 * grammar of plugin settings too) into the bool at k->offset. */
static int set_bool(pvm_server_config *s, const struct server_key *k,
                    const char *v, char *why, size_t n)
{
    if (pvm_parse_bool(v, (bool *)((char *)s + k->offset)) < 0) {
        snprintf(why, n, "not yes or no: '%s'", v);
        return -1;
    }
    return 0;
}

/* A Prometheus duration (ms) of at least k->min ms: integers with units
 * y w d h m s ms, largest first ("1m30s"); see params.h. */
static int set_duration(pvm_server_config *s, const struct server_key *k,
                        const char *v, char *why, size_t n)
{
    int64_t ms;
    if (pvm_parse_prom_duration(v, strlen(v), &ms) < 0) {
        snprintf(why, n, "not a duration: '%s'", v);
        return -1;
    }
    if (ms < k->min) {
        snprintf(why, n, "must be greater than 0: '%s'", v);
        return -1;
    }
    *(int64_t *)((char *)s + k->offset) = ms;
    return 0;
}

static int set_log_level(pvm_server_config *s, const struct server_key *k,
                         const char *v, char *why, size_t n)
{
    (void)k;
    if (pvm_log_level_parse(v, &s->log_level) < 0) {
        snprintf(why, n,
                 "not a log level: '%s' (error, warning, info or debug)", v);
        return -1;
    }
    return 0;
}

/* A log level, or "off". */
static int set_access_log(pvm_server_config *s, const struct server_key *k,
                          const char *v, char *why, size_t n)
{
    (void)k;
    if (strcasecmp(v, "off") == 0) {
        s->access_log_off = true;
        return 0;
    }
    if (pvm_log_level_parse(v, &s->access_log_level) < 0) {
        snprintf(why, n,
                 "not a log level: '%s' (error, warning, info, debug or off)",
                 v);
        return -1;
    }
    s->access_log_off = false;
    return 0;
}

/* Addresses and CIDRs (proxy.h), e.g. "127.0.0.1, 10.0.0.0/8". */
static int set_trusted_proxies(pvm_server_config *s,
                               const struct server_key *k, const char *v,
                               char *why, size_t n)
{
    (void)k;
    pvm_cidr *l;
    size_t nl;
    char *text = strdup(v);
    if (!text) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    if (pvm_cidr_list_parse(v, &l, &nl, why, n) < 0) {
        free(text);
        return -1;
    }
    free(s->trusted_proxies);
    free(s->trusted_proxies_text);
    s->trusted_proxies = l;
    s->ntrusted_proxies = nl;
    s->trusted_proxies_text = text;
    return 0;
}

/* Tables */

#define SRV(field) offsetof(pvm_server_config, field)

static const struct server_key server_keys[SERVER_NKEYS + 1] = {
    {"listen", set_listen, SRV(listen), 0},
    {"api_url_prefix", set_prefix, SRV(api_url_prefix), 0},
    {"max_body_bytes", set_size, SRV(max_body_bytes), 1},
    {"log_level", set_log_level, SRV(log_level), 0},
    {"access_log", set_access_log, SRV(access_log_level), 0},
    {"max_request_memory", set_size, SRV(max_request_memory), 1},
    {"max_samples", set_count, SRV(max_samples), 1},
    {"lookback_delta", set_duration, SRV(lookback_delta_ms), 1},
    {"workers", set_workers, SRV(workers), 0},
    {"request_timeout", set_duration, SRV(request_timeout_ms), 0},
    {"max_query_timeout", set_duration, SRV(max_query_timeout_ms), 1},
    {"shutdown_timeout", set_duration, SRV(shutdown_timeout_ms), 0},
    {"request_read_timeout", set_duration, SRV(request_read_timeout_ms), 1},
    {"keepalive_timeout", set_duration, SRV(keepalive_timeout_ms), 1},
    {"metrics_path", set_metrics_path, SRV(metrics_path), 0},
    {"trusted_proxies", set_trusted_proxies, SRV(trusted_proxies), 0},
    {"gate_health_checks", set_bool, SRV(gate_health_checks), 0},
    {"cache_max_age", set_duration, SRV(cache_max_age_ms), 0},
    {"cache_max_body_bytes", set_size, SRV(cache_max_body_bytes), 1},
    {NULL, NULL, 0, 0},
};
