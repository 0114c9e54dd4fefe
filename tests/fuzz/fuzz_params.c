/* fuzz_params.c: libFuzzer target for API parameter parsing (params.h):
 * times, durations (float seconds and Prometheus syntax) and limits. Each
 * parser either succeeds or fails with PVM_ERR_BAD_DATA and a message; a
 * parsed Prometheus duration printed with pvm_format_duration must parse
 * back to the same value; a parsed time must survive the sanitizers'
 * overflow checks (abort otherwise). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect(int rc, const pvm_error *err)
{
    if (rc < 0 && (rc != PVM_ERR_BAD_DATA || err->code != rc || !err->msg[0]))
        abort();
    if (rc > 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    pvm_error err;
    int64_t ms;
    size_t limit;

    pvm_error_clear(&err);
    expect(pvm_parse_time(s, &ms, &err), &err);

    pvm_error_clear(&err);
    int rc = pvm_parse_duration(s, &ms, &err);
    expect(rc, &err);

    pvm_error_clear(&err);
    rc = pvm_parse_prom_duration_err(s, size, &ms, &err);
    expect(rc, &err);
    if (rc == 0) {
        if (ms < 0)
            abort(); /* the syntax has no sign */
        char buf[64];
        size_t n = pvm_format_duration(buf, sizeof(buf), ms);
        int64_t back;
        if (n >= sizeof(buf) || strlen(buf) != n ||
            pvm_parse_prom_duration(buf, n, &back) < 0 || back != ms)
            abort();
    }
    if (pvm_parse_prom_duration(s, size, &ms) != (rc < 0 ? rc : 0))
        abort();

    pvm_error_clear(&err);
    expect(pvm_parse_limit(s, &limit, &err), &err);

    /* any ms value prints */
    if (size >= 8) {
        int64_t v;
        memcpy(&v, data, sizeof(v));
        char buf[64];
        size_t n = pvm_format_duration(buf, sizeof(buf), v);
        if (n >= sizeof(buf) || strlen(buf) != n)
            abort();
    }
    free(s);
    return 0;
}
