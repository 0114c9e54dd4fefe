/* plugins/http_state.h: the state of an `http` plugin instance, shared
 * by http.c (settings, startup) and http_hooks.c (fetching, hooks). */
#ifndef PVM_PLUGINS_HTTP_STATE_H
#define PVM_PLUGINS_HTTP_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <pvm/pvm.h>

#include "http_client.h"
#include "http_csv.h"
#include "http_jq.h"
#include "http_plugin.h"

enum { FORMAT_JSON, FORMAT_CSV };
enum { UNIT_SECONDS, UNIT_MS };

/* A comma-separated list setting, split. */
struct list {
    char **v; /* malloc'd strings */
    size_t n; /* count */
};

/* Per-instance state. */
struct http_plugin {
    pvm_http_settings http; /* url, auth, TLS, limits (http_client.h) */
    char *path;             /* `path =`: a local file instead of url */
    char *body;             /* `body =` template (POST) */
    int format;             /* `format =` json | csv */
    char *jq, *jq_file;     /* `jq =` program or `jq_file =` */
    int unit;               /* `timestamp_unit =` seconds | milliseconds */
    char *metrics, *labels; /* `metrics =`, `labels =` (discovery) */
    int64_t window_ms;      /* `discovery_window =` */
    int64_t step_ms;        /* `default_step =` */
    char *delimiter;        /* CSV settings, see http_csv.h */
    bool header;
    char *ts_col, *value_cols, *label_cols, *metric, *metric_col;

    const char *name;         /* the instance */
    const char *file;         /* path, or the path of a file:// url */
    struct list mlist, llist; /* metrics and labels, split */
    pvm_http_jq *prog;        /* compiled jq program (json) */
    pvm_http_csv csv;         /* column settings (csv) */
    pvm_http_client *client;  /* per worker (http, https) */
    int64_t lookback;         /* [server] lookback_delta, ms */
    char *fdata;              /* the file's content, malloc'd */
    size_t flen;              /* its bytes */
    struct stat fst;          /* its stat when read */
};

/* The request hooks (http_hooks.c). */
int pvm_http_range(pvm_plugin *self, pvm_request *req, pvm_response *resp);
int pvm_http_instant(pvm_plugin *self, pvm_request *req, pvm_response *resp);
int pvm_http_metric_names(pvm_plugin *self, pvm_request *req,
                          pvm_response *resp);
int pvm_http_label_names(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp);
int pvm_http_label_values(pvm_plugin *self, pvm_request *req,
                          pvm_response *resp);

#endif
