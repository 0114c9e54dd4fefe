/* pvm/error.h: status codes and the error record shared by the server and plugins.
 * Functions return 0 (PVM_OK) or a negative pvm_status; pointer-returning
 * functions return NULL and fill a pvm_error. */
#ifndef PVM_ERROR_H
#define PVM_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define PVM_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PVM_PRINTF(fmt, args)
#endif

/* Status codes. Each maps to one Prometheus errorType and HTTP status
 * (see docs/plugin-api.md, "Errors"). */
typedef enum pvm_status {
    PVM_OK = 0,
    PVM_ERR_BAD_DATA =
        -1, /* bad_data, 400: the client sent something invalid */
    PVM_ERR_EXECUTION =
        -2, /* execution, 422: valid request that cannot be answered */
    PVM_ERR_TIMEOUT = -3,   /* timeout, 503 */
    PVM_ERR_CANCELED = -4,  /* canceled, 499 */
    PVM_ERR_INTERNAL = -5,  /* internal, 500 */
    PVM_ERR_NOT_FOUND = -6, /* not_found, 404 */
    PVM_ERR_NOMEM = -7, /* execution, 422: the request's memory cap was hit */
    PVM_ERR_FORBIDDEN = -8, /* HTTP 401: a plugin refused the credentials */
    PVM_ERR_TOO_LARGE = -9, /* bad_data, 413: request body over the limit */
    PVM_ERR_METHOD = -10,   /* bad_data, 405: method not allowed */
    PVM_ERR_PLUGIN = -11,   /* internal, 500: a plugin hook failed */
    PVM_ERR_TOO_LONG = -12, /* bad_data, 414: request line too long */
    PVM_ERR_UNAVAILABLE =
        -13, /* unavailable, 503: a data source (database, upstream) cannot
                be reached now; the client may retry later */
} pvm_status;

/* Position range in the input (byte offsets, end exclusive) for parse
 * errors; both 0 when the error has no position. */
typedef struct pvm_error {
    int code;      /* a pvm_status, 0 when no error was recorded */
    size_t pos;    /* byte offset where the error starts */
    size_t end;    /* byte offset one past where it ends */
    char msg[512]; /* human-readable message, NUL-terminated */
} pvm_error;

/* Records code and a printf-style message in err (NULL err is allowed and
 * ignored). Returns code, so callers can write `return pvm_error_set(...)`. */
int pvm_error_set(pvm_error *err, int code, const char *fmt, ...)
    PVM_PRINTF(3, 4);

/* Same, with a position range. */
int pvm_error_set_pos(pvm_error *err, int code, size_t pos, size_t end,
                      const char *fmt, ...) PVM_PRINTF(5, 6);

/* The message of a request stopped by its memory cap ([server]
 * max_request_memory; PVM_ERR_NOMEM, answered as 422): one text wherever
 * a request runs out. */
#define PVM_MSG_TOO_MUCH_MEMORY                                               \
    "query processing would use too much memory (see [server] "               \
    "max_request_memory)"

/* Clears err to "no error". */
void pvm_error_clear(pvm_error *err);

/* The Prometheus errorType string ("bad_data", ...) and HTTP status of a
 * status code. */
const char *pvm_status_error_type(int code);
int pvm_status_http(int code);

#endif
