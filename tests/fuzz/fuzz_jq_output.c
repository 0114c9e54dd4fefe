/* fuzz_jq_output.c: libFuzzer target for the http plugin's conversion of
 * jq outputs to samples (pvm_http_jq_convert_text, plugins/http_jq.c).
 * The first byte picks seconds or milliseconds; the rest is a sequence of
 * JSON values as a jq program would emit them. Every sample passed on
 * must have a valid metric name, valid non-reserved label names with
 * non-empty values, at most PVM_HTTP_MAX_LABELS labels; a failure must
 * come with a message (abort otherwise). Inputs that are not a sequence
 * of strict JSON values (json-c) are skipped: the target is the
 * conversion, and libjq 1.6's own parser leaks on some invalid texts
 * (`{"a":"b" "c"}`), which LeakSanitizer would report here. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <pvm/pvm.h>

#include "http_jq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_sample(pvm_http_sink *self, const char *name,
                        const pvm_label *labels, size_t n, int64_t t, double v,
                        pvm_error *err)
{
    (void)self, (void)t, (void)v, (void)err;
    if (!pvm_is_metric_name(name) || n > PVM_HTTP_MAX_LABELS)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!pvm_is_label_name(labels[i].name) || !labels[i].value[0] ||
            strncmp(labels[i].name, "__", 2) == 0)
            abort();
    return 0;
}

/* True when text is whitespace-separated strict JSON values. */
static bool is_json_sequence(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    bool ok = tok != NULL;
    size_t at = 0;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    while (ok) {
        while (at < len && strchr(" \t\r\n", text[at]) && text[at])
            at++;
        if (at == len)
            break;
        json_tokener_reset(tok);
        json_object *o = json_tokener_parse_ex(tok, text + at,
                                               (int)(len - at));
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
            ok = false;
        } else {
            at += json_tokener_get_parse_end(tok);
            json_object_put(o);
        }
    }
    json_tokener_free(tok);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 20))
        return 0;
    if (!is_json_sequence((const char *)data + 1, size - 1))
        return 0;
    pvm_http_sink sink = {check_sample};
    pvm_error err = {0};
    int rc = pvm_http_jq_convert_text((const char *)data + 1, size - 1,
                                      data[0] & 1, &sink, &err);
    if (rc < 0 && (err.code == 0 || !err.msg[0]))
        abort();
    if (rc > 0)
        abort();
    return 0;
}
