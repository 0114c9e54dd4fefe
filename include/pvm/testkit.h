/* pvm/testkit.h: test kit for plugin authors (the C counterpart of the
 * original's pytest fixture). It runs the server's request pipeline
 * in-process: plugin instances are created from an INI string and a
 * plugin table, requests go through routing, parameter parsing, the
 * hooks and the JSON writer exactly as behind a web server, and answers
 * come back parsed with json-c. See docs/testing.md. */
#ifndef PVM_TESTKIT_H
#define PVM_TESTKIT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include <pvm/plugin.h>

typedef struct pvm_testkit pvm_testkit;

/* One answer. Owned by the caller: free with pvm_test_response_free. */
typedef struct pvm_test_response {
    int status;        /* HTTP status */
    char *head;        /* the CGI header block, NUL-terminated */
    char *body;        /* the body, NUL-terminated */
    size_t body_len;   /* bytes in body */
    json_object *json; /* body parsed, or NULL when it is not JSON */
} pvm_test_response;

/* Creates instances from ini (a pvm.ini text; [server] keys apply too)
 * and table (NULL-terminated), and runs their on_startup hooks. NULL on
 * error, with the message in errbuf (may be NULL). */
pvm_testkit *pvm_testkit_new(const char *ini,
                             const pvm_plugin_type *const *table, char *errbuf,
                             size_t errlen);

/* Runs on_shutdown hooks and frees everything. NULL ok. */
void pvm_testkit_free(pvm_testkit *kit);

/* The context (plugins, configuration). */
pvm_context *pvm_testkit_context(pvm_testkit *kit);

/* A raw request: method, target (path and query string, already
 * encoded, e.g. "/api/v1/query?query=up"), body (urlencoded, or NULL) and
 * extra header lines "Name: value" (NULL-terminated list, may be NULL). */
pvm_test_response *pvm_testkit_request(pvm_testkit *kit, const char *method,
                                       const char *target, const char *body,
                                       const char *const *headers);

/* The same with a binary body of body_len bytes (e.g. a remote-read
 * protobuf; pass its Content-Type in headers). The answer's body is
 * binary-safe too: body_len bytes, NUL-terminated for convenience. */
pvm_test_response *pvm_testkit_request_bytes(pvm_testkit *kit,
                                             const char *method,
                                             const char *target,
                                             const char *body, size_t body_len,
                                             const char *const *headers);

/* Typed requests (GET; parameters are encoded for you), sent below the
 * configuration's [server] api_url_prefix like a client would. Times are
 * unix seconds; match may be NULL. */
pvm_test_response *pvm_testkit_instant(pvm_testkit *kit, const char *query,
                                       double time);
pvm_test_response *pvm_testkit_range(pvm_testkit *kit, const char *query,
                                     double start, double end, double step);
pvm_test_response *pvm_testkit_series(pvm_testkit *kit, const char *match,
                                      double start, double end);
pvm_test_response *pvm_testkit_label_names(pvm_testkit *kit,
                                           const char *match);
pvm_test_response *pvm_testkit_label_values(pvm_testkit *kit,
                                            const char *label,
                                            const char *match);

/* The optional arguments of the typed requests, as the original
 * fixture's keyword arguments (start, end, auth). Zero-initialise and set
 * what you need; NULL options are all unset. */
typedef struct pvm_test_options {
    const char *match;          /* a match[] selector, NULL: none */
    bool range;                 /* send start and end (discovery requests) */
    double start, end;          /* unix seconds, when range */
    const char *user;           /* HTTP Basic credentials (Authorization
                              header), NULL: none */
    const char *password;       /* with user ("" when NULL) */
    const char *const *headers; /* more header lines "Name: value",
                                   NULL-terminated, or NULL */
} pvm_test_options;

/* The typed requests with options. A discovery request without a
 * range sends no start/end (the server's widest range); instant and
 * range take their times as arguments (start/end/match of the options
 * are not used there). */
pvm_test_response *pvm_testkit_instant_opt(pvm_testkit *kit, const char *query,
                                           double time,
                                           const pvm_test_options *o);
pvm_test_response *pvm_testkit_range_opt(pvm_testkit *kit, const char *query,
                                         double start, double end, double step,
                                         const pvm_test_options *o);
/* /api/v1/series (needs o->match) */
pvm_test_response *pvm_testkit_series_opt(pvm_testkit *kit,
                                          const pvm_test_options *o);
/* /api/v1/label/__name__/values: the metric names */
pvm_test_response *pvm_testkit_metric_names_opt(pvm_testkit *kit,
                                                const pvm_test_options *o);
pvm_test_response *pvm_testkit_label_names_opt(pvm_testkit *kit,
                                               const pvm_test_options *o);
pvm_test_response *pvm_testkit_label_values_opt(pvm_testkit *kit,
                                                const char *label,
                                                const pvm_test_options *o);

void pvm_test_response_free(pvm_test_response *r);

/* A header of the answer (case-insensitive), in a static buffer, or NULL. */
const char *pvm_test_response_header(const pvm_test_response *r,
                                     const char *name);

/* Navigates JSON: "data.result[0].metric.type". NULL when absent. */
json_object *pvm_test_json_get(json_object *root, const char *path);

/* The string at path (NULL when absent or not a string). */
const char *pvm_test_json_string(json_object *root, const char *path);

/* Number of elements of the array at path, -1 when not an array. */
int pvm_test_json_length(json_object *root, const char *path);

/* Standard base64 (with padding) of s, malloc'd, or NULL when out of
 * memory: for hand-built Authorization headers. */
char *pvm_test_base64(const char *s);

/* Percent-encodes s for a query string into a malloc'd string. */
char *pvm_test_urlencode(const char *s);

#endif
