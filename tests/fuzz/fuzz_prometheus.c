/* fuzz_prometheus.c: libFuzzer target for the prometheus plugin's byte
 * parsers (plugins/prometheus_core.h). The first byte picks what the rest
 * is: 0 an /api/v1/query answer, 1 a /labels answer, 2 a /series answer
 * (each read with pvm_prom_parse_answer: 0 with consistent callbacks, or
 * a negative status with a message), 3 a selector of the `match` setting
 * (pvm_prom_selector_parse: when it parses, printing it and parsing the
 * print gives the same matchers, byte for byte). Aborts otherwise. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prometheus_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    bool in_series; /* a series was announced */
    size_t points;  /* points delivered */
};

static int on_series(void *arg, const char *name, const pvm_label *l, size_t n)
{
    struct seen *s = arg;
    for (size_t i = 0; i < n; i++)
        if (!l[i].name || !l[i].value || !l[i].name[0] ||
            (name && strcmp(l[i].name, "__name__") == 0))
            abort();
    s->in_series = true;
    return 0;
}

static int on_point(void *arg, int64_t t, double v)
{
    struct seen *s = arg;
    (void)t;
    (void)v;
    if (!s->in_series)
        abort();
    s->points++;
    return 0;
}

static int on_value(void *arg, const char *v)
{
    (void)arg;
    return v ? 0 : (abort(), 0);
}

static int on_labelset(void *arg, const pvm_label *l, size_t n)
{
    (void)arg;
    for (size_t i = 0; i < n; i++)
        if (!l[i].name || !l[i].value)
            abort();
    return 0;
}

static int on_warning(void *arg, const char *msg, bool info)
{
    (void)arg;
    (void)info;
    return msg ? 0 : (abort(), 0);
}

static void answer(const char *body, size_t len, pvm_prom_answer kind)
{
    struct seen s = {0};
    pvm_prom_sink sink = {on_series,  on_point, on_value, on_labelset,
                          on_warning, &s,       0};
    pvm_error err = {0};
    int rc = pvm_prom_parse_answer(body, len, kind, &sink, &err);
    if (rc > 0 || (rc < 0 && (err.code != rc || !err.msg[0])))
        abort();
}

static void selector(const char *text, size_t len)
{
    pvm_prom_selector a, b;
    pvm_error err = {0};
    int rc = pvm_prom_selector_parse(text, len, &a, &err);
    if (rc < 0) {
        if (err.code != rc || !err.msg[0])
            abort();
        return;
    }
    pvm_prom_buf buf = {0};
    pvm_prom_print_selector(&buf, a.m, a.n);
    if (buf.failed)
        abort();
    if (pvm_prom_selector_parse(buf.p, buf.len, &b, &err) < 0 || b.n != a.n)
        abort();
    for (size_t i = 0; i < a.n; i++)
        if (strcmp(a.m[i].name, b.m[i].name) || a.m[i].op != b.m[i].op ||
            strcmp(a.m[i].value, b.m[i].value))
            abort();
    pvm_prom_buf_free(&buf);
    pvm_prom_selector_free(&a);
    pvm_prom_selector_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 4) {
    case 0: answer(rest, n, PVM_PROM_ANSWER_QUERY); break;
    case 1: answer(rest, n, PVM_PROM_ANSWER_STRINGS); break;
    case 2: answer(rest, n, PVM_PROM_ANSWER_SERIES); break;
    default: selector(rest, n); break;
    }
    return 0;
}
