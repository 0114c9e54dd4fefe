/* config.h: pvm.ini, loaded with inih. [server] keys are parsed into
 * pvm_server_config; [plugin:NAME] sections are kept as ordered key/value
 * lists (with line numbers) for the plugin instances to consume. */
#ifndef PVM_CONFIG_H
#define PVM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/error.h>
#include <pvm/plugin.h>

#include "proxy.h"

/* Longest line of pvm.ini, in bytes (comments and indentation included
 * up to this; the limit applies to the line without them). */
#define PVM_CONFIG_MAX_LINE 16384

/* Largest pvm.ini, in bytes: a configuration is a few kilobytes; a bigger
 * file (or /dev/zero) is refused at once instead of read to the end. */
#define PVM_CONFIG_MAX_BYTES (1024 * 1024)

typedef struct pvm_config_entry {
    char *key;    /* key as written */
    char *value;  /* value, inline comments and surrounding space removed */
    int line;     /* line number in the file */
} pvm_config_entry;

typedef struct pvm_config_section {
    char *name;                 /* "server", "plugin:NAME" */
    int line;                   /* line of the [section] header */
    pvm_config_entry *entries;  /* in file order */
    size_t nentries;            /* number of entries */
} pvm_config_section;

typedef struct pvm_server_config {
    char *listen;               /* "127.0.0.1:9000", "[::1]:9000", "unix:/path";
                                   NULL: use the socket inherited on fd 0 */
    char *api_url_prefix;       /* "" or "/prefix" (no trailing slash) */
    size_t max_body_bytes;      /* larger POST bodies get 413 (default 1 MiB) */
    pvm_log_level log_level;    /* default PVM_LOG_INFO */
    pvm_log_level access_log_level; /* level of the per-request line (info) */
    bool access_log_off;        /* access_log = off: never printed */
    size_t max_request_memory;  /* per-request arena cap (default 1 GiB) */
    size_t max_samples;         /* samples one query may load (50,000,000) */
    int64_t lookback_delta_ms;  /* staleness lookback (default 5 m) */
    int workers;                /* worker processes (0 = number of CPUs) */
    int64_t request_timeout_ms; /* kill a worker busy longer (default 60 s) */
    int64_t max_query_timeout_ms; /* upper bound for ?timeout= and any
                                     request's work (default 50 s) */
    int64_t shutdown_timeout_ms; /* grace for in-flight requests on stop and
                                    reload, then SIGKILL (default 30 s) */
    int64_t request_read_timeout_ms; /* from accept (or the first byte on a
                                    kept connection) to a complete FastCGI
                                    request header; closed after (5 s) */
    int64_t keepalive_timeout_ms; /* a kept (FCGI_KEEP_CONN) connection idle
                                    longer is closed (default 75 s) */
    char *metrics_path;         /* self-monitoring path below the prefix
                                   ("/metrics"); "": disabled */
    pvm_cidr *trusted_proxies;  /* peers whose X-Forwarded-For/X-Real-IP
                                   give the client address (owned) */
    size_t ntrusted_proxies;    /* ranges in trusted_proxies (0: none) */
    char *trusted_proxies_text; /* the setting as written, or NULL */
    bool gate_health_checks;    /* /-/healthy, /-/ready pass the plugins'
                                   on_request gates too (default no) */
} pvm_server_config;

typedef struct pvm_config {
    char *path;                     /* file name used in messages */
    pvm_server_config server;       /* parsed [server] */
    pvm_config_section *sections;   /* all sections, file order */
    size_t nsections;               /* number of sections */
} pvm_config;

/* Loads a file. NULL on error, with err->msg like
 *   "pvm.ini:12: [server] max_body_bytes: not a size: 'x'".
 * Only a regular file of at most PVM_CONFIG_MAX_BYTES is read: a
 * directory, FIFO, socket or device is refused without blocking. Used
 * for the start, --check-config and the SIGHUP reload alike. */
pvm_config *pvm_config_load(const char *path, pvm_error *err);

/* Same from a string; name is used in messages. */
pvm_config *pvm_config_load_string(const char *text, const char *name,
                                   pvm_error *err);

void pvm_config_free(pvm_config *c);

/* The last value of key in section, or NULL. */
const char *pvm_config_get(const pvm_config *c, const char *section,
                           const char *key);

/* The section named name ("server", "plugin:NAME"), or NULL. Valid as
 * long as c. */
const pvm_config_section *pvm_config_section_find(const pvm_config *c,
                                                  const char *name);

/* The default config path (SYSCONFDIR/pvm/pvm.ini). */
const char *pvm_config_default_path(void);

/* Parses a size: digits with an optional suffix k/K (KiB), M (MiB) or G
 * (GiB). 0 or PVM_ERR_BAD_DATA (not a size, or too large). */
int pvm_config_parse_size(const char *s, size_t *out);

#endif
