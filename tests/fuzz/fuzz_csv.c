/* fuzz_csv.c: libFuzzer target for the http plugin's CSV reader
 * (plugins/csv_reader.c) and its column conversion (plugins/http_csv.c).
 * The first byte picks the delimiter (',', ';', tab or '|') and whether
 * the first row is a header; the rest is the file. Every record must have
 * at least one field, each NUL-terminated inside the reader's buffer and
 * no longer than the input; the conversion must only produce valid
 * metric and label names and never fail on anything but a message (abort
 * otherwise). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/pvm.h>

#include "csv_reader.h"
#include "http_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check_sample(pvm_http_sink *self, const char *name,
                        const pvm_label *labels, size_t n, int64_t t, double v,
                        pvm_error *err)
{
    (void)self, (void)t, (void)v, (void)err;
    if (!name || !pvm_is_metric_name(name) || n > PVM_HTTP_MAX_LABELS)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!pvm_is_label_name(labels[i].name) || !labels[i].value[0] ||
            strncmp(labels[i].name, "__", 2) == 0)
            abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char delims[] = {',', ';', '\t', '|'};
    char delim = delims[data[0] & 3];
    bool header = data[0] & 4;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    pvm_csv r;
    pvm_error err = {0};
    pvm_csv_init(&r, text, len, delim);
    int rc;
    size_t records = 0;
    while ((rc = pvm_csv_next(&r, &err)) > 0) {
        if (r.nf == 0 || r.nf > PVM_CSV_MAX_FIELDS || r.len > len + r.nf)
            abort();
        for (size_t i = 0; i < r.nf; i++) {
            if (r.off[i] >= r.len)
                abort();
            if (strlen(pvm_csv_field(&r, i)) > len)
                abort();
        }
        if (++records > len + 1)
            abort(); /* every record consumes input */
    }
    if (rc < 0 && (err.code == 0 || !err.msg[0]))
        abort();
    pvm_csv_free(&r);

    /* the conversion: time in column 1, values in 2 and 3 */
    pvm_http_csv c;
    pvm_http_sink sink = {check_sample};
    if (pvm_http_csv_setup(&c, delim == '\t' ? "tab" : (char[]){delim, 0},
                           header, data[0] & 8, "1", "2=a, 3=b_c",
                           header ? NULL : "4=l", NULL, NULL, &err) != 0)
        abort();
    rc = pvm_http_csv_run(&c, text, len, &sink, &err);
    if (rc < 0 && (err.code == 0 || !err.msg[0]))
        abort();
    pvm_http_csv_free(&c);
    return 0;
}
