/* response_impl.h: the server side of pvm_response (creation, failure
 * bookkeeping, output). Plugins see only pvm/response.h. */
#ifndef PVM_RESPONSE_IMPL_H
#define PVM_RESPONSE_IMPL_H

#include <pvm/plugin.h>
#include <pvm/response.h>
#include <pvm/wrap.h>

#include "request_impl.h"
#include "series.h"

/* A growable list of strings in the request arena. */
typedef struct pvm_strlist {
    const char **v; /* the strings */
    size_t n;       /* number used */
    size_t cap;     /* capacity */
} pvm_strlist;

int pvm_strlist_add(pvm_arena *a, pvm_strlist *l, const char *s);

/* Sorts a list (byte order) and removes duplicates. */
void pvm_strlist_sort_unique(pvm_strlist *l);

/* A metric name and label array exactly as a plugin passed them (same
 * strings, same order, empty values kept), with what they resolve to: the
 * handle of pvm_response_find_series, and the per-response cache of
 * pvm_response_add_sample*, so that the next sample with the same
 * arguments skips validation, sorting, hashing, the series lookup and the
 * query check. Lives in the request arena. */
struct pvm_series_ref {
    const pvm_response *owner;     /* the response it belongs to */
    const char *name;              /* metric name (arena copy) */
    pvm_label *labels;             /* labels, caller's order (arena copies) */
    size_t nlabels;                /* number of labels */
    uint64_t hash;                 /* hash of name and labels, this order */
    int match;                     /* query check: 1 match, 0 not, -1 not
                                     done yet (PVM_SAMPLE_SKIP_QUERY_CHECK) */
    pvm_series *series;            /* its series; NULL until first needed */
    struct pvm_series_ref *next;   /* next key in the same bucket */
    struct pvm_series_ref *follow; /* the key of the sample added after
                                      this one, the last time */
};

/* The keys of a response: a hash table plus the last key used, whose
 * follow field predicts the next one. */
typedef struct pvm_key_table {
    pvm_series_ref **buckets; /* power-of-two size, NULL until used */
    size_t nbuckets;          /* bucket count */
    size_t n;                 /* keys */
    size_t nrejected;         /* keys that do not match the query */
    pvm_series_ref *last;     /* key of the last sample added */
} pvm_key_table;

/* Most warnings and infos returned (Prometheus caps them the same way). */
#define PVM_MAX_ANNOTATIONS 10

struct pvm_response {
    pvm_response_type type; /* what the response carries */
    pvm_request *req;       /* the request answered */
    pvm_arena *arena;       /* the request's arena */
    pvm_series_set series;  /* samples (VECTOR, MATRIX) or label sets
                                  (SERIES) */
    pvm_key_table keys;     /* label arrays seen (VECTOR, MATRIX) */
    pvm_strlist values;     /* strings (DATA) */
    pvm_strlist infos;      /* "infos" */
    pvm_strlist warnings;   /* "warnings" */
    pvm_kv *headers;        /* extra response headers */
    size_t nheaders;        /* number of headers */
    size_t nresults;        /* samples or values added */
    size_t max_samples;     /* sample limit (0 = none) */
    int error_code;         /* pvm_status of the answer, 0 = success */
    const char *error_msg;  /* message of error_code */
    const char *fail_msg;   /* text of the last pvm_response_fail */
    const pvm_plugin *failed_plugin; /* instance whose hook failed or
                                  chose the error (recorded by the
                                  registry's pvm_response_note_failure;
                                  NULL when no hook did) */
    pvm_metric_metadata *meta;       /* metadata entries (METADATA), arena */
    size_t nmeta;                    /* entries used */
    size_t metacap;                  /* entries allocated */
    int64_t immutable_before;        /* the running instance's declaration
                                  (pvm_response_set_immutable_before) */
    bool immutable_set;              /* it declared (reset before each hook) */
    bool immutable_tainted;          /* a failure was swallowed by a wrapper:
                                  the data may be incomplete */
};

/* Creates a response of type for req in req's arena. NULL when out of
 * memory. */
pvm_response *pvm_response_new(pvm_request *req, pvm_response_type type,
                               size_t max_samples);

/* Called by the registry when hook h of plugin p returned rc < 0 or left
 * an error: records p as failed_plugin. If the
 * hook chose an error with pvm_response_set_error (e.g. 401), that error
 * stands; otherwise the response becomes a 500 plugin error whose message
 * names the plugin, the hook and the pvm_response_fail() text. Returns the
 * status the request will be answered with. */
int pvm_response_note_failure(pvm_response *r, const pvm_plugin *p, pvm_hook h,
                              int rc);

/* Finishes the series the hooks added (pvm_series_set_finish): warns
 * about dropped duplicate samples, or sets PVM_MSG_TOO_MUCH_MEMORY when
 * the request's arena ran out. Returns 0, or a negative status (the
 * response's error then says why). Does nothing to a response that
 * already carries an error. */
int pvm_response_finish(pvm_response *r);

#endif
