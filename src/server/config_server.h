/* config_server.h: the [server] section of pvm.ini: its keys, their
 * setters and defaults (config_server.c). Used by config.c, which reads
 * the file. */
#ifndef PVM_CONFIG_SERVER_H
#define PVM_CONFIG_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/plugin.h>

#include "proxy.h"

typedef struct pvm_server_config {
    char *listen;            /* "127.0.0.1:9000", "[::1]:9000", "unix:/path";
                                   NULL: use the socket inherited on fd 0 */
    char *api_url_prefix;    /* "" or "/prefix" (no trailing slash) */
    size_t max_body_bytes;   /* larger POST bodies get 413 (default 1 MiB) */
    pvm_log_level log_level; /* default PVM_LOG_INFO */
    pvm_log_level access_log_level; /* level of the per-request line (info) */
    bool access_log_off;            /* access_log = off: never printed */
    size_t max_request_memory;      /* per-request arena cap (default 1 GiB) */
    size_t max_samples;         /* samples one query may load (50,000,000) */
    int64_t lookback_delta_ms;  /* staleness lookback (default 5 m) */
    int workers;                /* worker processes (0 = number of CPUs) */
    int64_t request_timeout_ms; /* kill a worker busy longer (default 60 s) */
    int64_t max_query_timeout_ms; /* upper bound for ?timeout= and any
                                     request's work (default 50 s) */
    int64_t shutdown_timeout_ms;  /* grace for in-flight requests on stop and
                                    reload, then SIGKILL (default 30 s) */
    int64_t request_read_timeout_ms; /* from accept (or the first byte on a
                                    kept connection) to a complete FastCGI
                                    request header; closed after (5 s) */
    int64_t keepalive_timeout_ms;    /* a kept (FCGI_KEEP_CONN) connection idle
                                    longer is closed (default 75 s) */
    char *metrics_path;              /* self-monitoring path below the prefix
                                   ("/metrics"); "": disabled */
    pvm_cidr *trusted_proxies;       /* peers whose X-Forwarded-For/X-Real-IP
                                   give the client address (owned) */
    size_t ntrusted_proxies;         /* ranges in trusted_proxies (0: none) */
    char *trusted_proxies_text;      /* the setting as written, or NULL */
    bool gate_health_checks;         /* /-/healthy, /-/ready pass the plugins'
                                   on_request gates too (default no) */
    int64_t cache_max_age_ms;        /* max-age of cacheable answers
                                   (cache.h; default 5 m, 0: none) */
    size_t cache_max_body_bytes;     /* larger answers are sent no-store
                                   (they would be buffered; 16 MiB) */
} pvm_server_config;

/* Parses a size: digits with an optional suffix k/K (KiB), M (MiB) or G
 * (GiB). 0 or PVM_ERR_BAD_DATA (not a size, or too large). */
int pvm_config_parse_size(const char *s, size_t *out);

/* Sets every [server] field to its default (docs/configuration.md). */
void pvm_server_config_defaults(pvm_server_config *s);

/* Parses value into the [server] field named key. 0, or -1 with why
 * (whylen bytes) saying what is wrong, without the "[server] " prefix:
 * "unknown key 'x' (did you mean 'y'?)" or "max_body_bytes: not a size:
 * 'x'". Strings it stores are owned by s (freed by pvm_config_free). */
int pvm_server_config_set(pvm_server_config *s, const char *key,
                          const char *value, char *why, size_t whylen);

#endif
