/* error.c: the error record and the one table mapping status codes to
 * Prometheus error types and HTTP statuses. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <pvm/error.h>

static const struct {
    int code;         /* pvm_status */
    const char *type; /* Prometheus errorType */
    int http;         /* HTTP status */
} status_table[] = {
    {PVM_ERR_BAD_DATA, "bad_data", 400},
    {PVM_ERR_EXECUTION, "execution", 422},
    {PVM_ERR_TIMEOUT, "timeout", 503},
    {PVM_ERR_CANCELED, "canceled", 499},
    {PVM_ERR_INTERNAL, "internal", 500},
    {PVM_ERR_NOT_FOUND, "not_found", 404},
    {PVM_ERR_NOMEM, "execution", 422},
    {PVM_ERR_FORBIDDEN, "unauthorized", 401},
    {PVM_ERR_TOO_LARGE, "bad_data", 413},
    {PVM_ERR_METHOD, "bad_data", 405},
    {PVM_ERR_PLUGIN, "internal", 500},
    {PVM_ERR_TOO_LONG, "bad_data", 414},
    {PVM_ERR_UNAVAILABLE, "unavailable", 503},
};

static void set_v(pvm_error *err, int code, const char *fmt, va_list ap)
    PVM_PRINTF(3, 0);
static void set_v(pvm_error *err, int code, const char *fmt, va_list ap)
{
    err->code = code;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int pvm_error_set(pvm_error *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    set_v(err, code, fmt, ap);
    va_end(ap);
    err->pos = err->end = 0;
    return code;
}

int pvm_error_set_pos(pvm_error *err, int code, size_t pos, size_t end,
                      const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    set_v(err, code, fmt, ap);
    va_end(ap);
    err->pos = pos;
    err->end = end;
    return code;
}

void pvm_error_clear(pvm_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

const char *pvm_status_error_type(int code)
{
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].code == code)
            return status_table[i].type;
    return "internal";
}

int pvm_status_http(int code)
{
    if (code == PVM_OK)
        return 200;
    for (size_t i = 0; i < sizeof(status_table) / sizeof(status_table[0]); i++)
        if (status_table[i].code == code)
            return status_table[i].http;
    return 500;
}
