/* http_jq.c: the http plugin's JSON format (see http_jq.h). libjq 1.6
 * binds --arg variables as constants at compile time, so the user's
 * program is compiled inside a wrapper function whose parameters are
 * $start, $end, $step and $matchers, and each run feeds it
 * [answer, {start, end, step, matchers}]. $stop is the end: jq 1.6
 * (Debian 12) reads `$end` as the keyword `end` and refuses it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>
#include <jv.h>

#include "http_jq.h"

struct pvm_http_jq {
    jq_state *jq;  /* the wrapped program, compiled */
    char msg[400]; /* the first message of jq's error callback */
};

static void on_jq_error(void *data, jv msg)
{
    struct pvm_http_jq *j = data;
    if (!j->msg[0]) {
        if (jv_get_kind(msg) == JV_KIND_STRING)
            snprintf(j->msg, sizeof(j->msg), "%s", jv_string_value(msg));
        else
            jv_dump_string_trunc(jv_copy(msg), j->msg, sizeof(j->msg));
    }
    jv_free(msg);
}

/* Compiles text into a fresh jq state with the four variables bound to
 * placeholders (for the syntax check of the user's program alone). */
static jq_state *compile(struct pvm_http_jq *j, const char *text, bool vars)
{
    jq_state *jq = jq_init();
    if (!jq)
        return NULL;
    jq_set_error_cb(jq, on_jq_error, j);
    jv args = jv_object();
    if (vars) {
        args = jv_object_set(args, jv_string("start"), jv_number(0));
        args = jv_object_set(args, jv_string("stop"), jv_number(0));
        args = jv_object_set(args, jv_string("step"), jv_number(0));
        args = jv_object_set(args, jv_string("matchers"), jv_object());
    }
    if (!jq_compile_args(jq, text, args))
        jq_teardown(&jq);
    return jq;
}

pvm_http_jq *pvm_http_jq_compile(const char *program, pvm_error *err)
{
    struct pvm_http_jq *j = calloc(1, sizeof(*j));
    if (!j) {
        pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    static const char head[] =
        "def __pvm_program($start; $stop; $step; $matchers):\n";
    static const char tail[] =
        "\n;\n.[1] as $__pvm_v | .[0] | __pvm_program($__pvm_v.start; "
        "$__pvm_v.end; $__pvm_v.step; $__pvm_v.matchers)";
    size_t n = strlen(program);
    char *text = malloc(sizeof(head) + n + sizeof(tail));
    if (!text) {
        free(j);
        pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    memcpy(text, head, sizeof(head) - 1);
    memcpy(text + sizeof(head) - 1, program, n);
    memcpy(text + sizeof(head) - 1 + n, tail, sizeof(tail));
    j->jq = compile(j, text, false);
    free(text);
    if (j->jq)
        return j;
    /* Compiling costs tens of ms with jq 1.6 (its builtins): the program
     * alone only now, for jq's message with the user's line numbers. */
    j->msg[0] = '\0';
    jq_state *alone = compile(j, program, true);
    pvm_error_set(err, PVM_ERR_BAD_DATA, "%s%s%s",
                  strncmp(j->msg, "jq: ", 4) ? "jq: " : "",
                  j->msg[0] ? j->msg : "the program does not compile",
                  alone ? " (import and include are not supported)" : "");
    jq_teardown(&alone);
    free(j);
    return NULL;
}

void pvm_http_jq_free(pvm_http_jq *j)
{
    if (!j)
        return;
    jq_teardown(&j->jq);
    free(j);
}

/* ---- outputs to samples ------------------------------------------------ */

/* A label value: a string, a number or a boolean as text (into buf);
 * NULL for null (no label), or for other kinds (*bad set). */
static const char *label_text(jv v, char *buf, size_t n, bool *bad)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_STRING: return jv_string_value(v);
    case JV_KIND_NUMBER: {
        double d = jv_number_value(v);
        if (d == (double)(long long)d && d > -1e15 && d < 1e15)
            snprintf(buf, n, "%lld", (long long)d);
        else
            snprintf(buf, n, "%.17g", d);
        return buf;
    }
    case JV_KIND_TRUE: return "true";
    case JV_KIND_FALSE: return "false";
    case JV_KIND_NULL: return NULL;
    default: *bad = true; return NULL;
    }
}

/* What a field holds, for messages ("missing" when absent). */
static const char *kind(jv v)
{
    jv_kind k = jv_get_kind(v);
    return k == JV_KIND_INVALID ? "missing" : jv_kind_name(k);
}

/* Field key of object o (a borrowed view: o keeps it alive). */
static jv field(jv o, const char *key)
{
    jv v = jv_object_get(jv_copy(o), jv_string(key));
    return v;
}

/* One output: 0 (added, or skipped for a null value), or an error. */
static int convert(jv out, size_t idx, bool in_ms, pvm_http_sink *sink,
                   pvm_error *err)
{
    if (jv_get_kind(out) != JV_KIND_OBJECT) {
        int rc = pvm_error_set(err, PVM_ERR_EXECUTION,
                               "jq output #%zu is %s, not an object "
                               "{metric, labels, timestamp, value}",
                               idx, jv_kind_name(jv_get_kind(out)));
        jv_free(out);
        return rc;
    }
    int rc = 0;
    jv metric = field(out, "metric"), labels = field(out, "labels");
    jv ts = field(out, "timestamp"), value = field(out, "value");
    const char *name = jv_get_kind(metric) == JV_KIND_STRING
                           ? jv_string_value(metric)
                           : NULL;
    int64_t t = 0;
    double v = 0;
    if (!name || !pvm_is_metric_name(name) ||
        (size_t)jv_string_length_bytes(jv_copy(metric)) != strlen(name)) {
        rc = pvm_error_set(err, PVM_ERR_EXECUTION,
                           "jq output #%zu: metric must be a metric name "
                           "string, not %s",
                           idx, kind(metric));
        goto out;
    }
    jv_kind vk = jv_get_kind(value);
    if (vk == JV_KIND_NULL)
        goto out; /* a gap */
    if (vk == JV_KIND_NUMBER) {
        v = jv_number_value(value);
    } else if (vk != JV_KIND_STRING ||
               pvm_parse_sample_value(jv_string_value(value), &v) < 0) {
        rc = pvm_error_set(err, PVM_ERR_EXECUTION,
                           "jq output #%zu: value must be a number or a "
                           "numeric string, not %s",
                           idx, kind(value));
        goto out;
    }
    jv_kind tk = jv_get_kind(ts);
    if (tk == JV_KIND_NUMBER
            ? pvm_http_time_number(jv_number_value(ts), in_ms, &t) < 0
        : tk == JV_KIND_STRING
            ? pvm_http_time_text(jv_string_value(ts),
                                 (size_t)jv_string_length_bytes(jv_copy(ts)),
                                 in_ms, &t) < 0
            : true) {
        rc = pvm_error_set(err, PVM_ERR_EXECUTION,
                           "jq output #%zu: timestamp must be a number "
                           "(unix %s) or an RFC 3339 string, not %s",
                           idx, in_ms ? "milliseconds" : "seconds", kind(ts));
        goto out;
    }
    pvm_label lab[PVM_HTTP_MAX_LABELS];
    char nums[PVM_HTTP_MAX_LABELS][32];
    size_t nl = 0;
    jv_kind lk = jv_get_kind(labels);
    if (lk == JV_KIND_INVALID)
        lk = JV_KIND_NULL; /* no labels */
    if (lk != JV_KIND_NULL && lk != JV_KIND_OBJECT) {
        rc = pvm_error_set(err, PVM_ERR_EXECUTION,
                           "jq output #%zu: labels must be an object, not "
                           "%s",
                           idx, kind(labels));
        goto out;
    }
    for (int it = lk == JV_KIND_OBJECT ? jv_object_iter(labels) : -1;
         it >= 0 && jv_object_iter_valid(labels, it);
         it = jv_object_iter_next(labels, it)) {
        jv k = jv_object_iter_key(labels, it);
        jv lv = jv_object_iter_value(labels, it);
        bool bad = false;
        const char *s = label_text(lv, nums[nl % PVM_HTTP_MAX_LABELS],
                                   sizeof(nums[0]), &bad);
        const char *kn = jv_string_value(k);
        const char *why = bad ? "the value must be a string or a number"
                          : !pvm_is_label_name(kn) ? "not a valid label name"
                          : strncmp(kn, "__", 2) == 0
                              ? "names starting with __ are reserved"
                          : nl == PVM_HTTP_MAX_LABELS ? "too many labels"
                          : s && jv_get_kind(lv) == JV_KIND_STRING &&
                                  (size_t)jv_string_length_bytes(
                                      jv_copy(lv)) != strlen(s)
                              ? "a NUL byte in the value"
                              : NULL;
        if (why) {
            rc = pvm_error_set(err, PVM_ERR_EXECUTION,
                               "jq output #%zu: label '%.64s': %s", idx, kn,
                               why);
            jv_free(k);
            jv_free(lv);
            goto out;
        }
        /* k and lv stay alive in labels until the sink has run */
        jv_free(k);
        jv_free(lv);
        if (s && *s)
            lab[nl++] = (pvm_label){kn, s};
    }
    rc = sink->add(sink, name, lab, nl, t, v, err);
out:
    jv_free(metric);
    jv_free(labels);
    jv_free(ts);
    jv_free(value);
    jv_free(out);
    return rc;
}

int pvm_http_jq_convert_text(const char *text, size_t len, bool in_ms,
                             pvm_http_sink *sink, pvm_error *err)
{
    jv_parser *p = jv_parser_new(0);
    if (!p)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    jv_parser_set_buf(p, text, (int)len, 0);
    int rc = 0;
    size_t idx = 0;
    jv v = jv_invalid();
    while (rc == 0 && jv_is_valid(v = jv_parser_next(p)))
        rc = convert(v, ++idx, in_ms, sink, err);
    if (rc == 0)
        jv_free(v); /* the end, or a parse error: not a sample */
    jv_parser_free(p);
    return rc;
}

/* $matchers: label -> value of the selector's equality matchers. */
static jv matchers(const pvm_selector *sel)
{
    jv m = jv_object();
    size_t n = sel ? pvm_selector_matcher_count(sel) : 0;
    for (size_t i = 0; i < n; i++) {
        const char *name, *value;
        pvm_match_op op;
        pvm_selector_matcher(sel, i, &name, &op, &value);
        if (op != PVM_MATCH_EQUAL)
            continue;
        jv have = jv_object_get(jv_copy(m), jv_string(name));
        if (!jv_is_valid(have))
            m = jv_object_set(m, jv_string(name), jv_string(value));
        jv_free(have);
    }
    return m;
}

int pvm_http_jq_run(pvm_http_jq *j, const char *json, size_t len,
                    const pvm_http_jq_vars *vars, bool in_ms,
                    pvm_http_sink *sink, pvm_error *err)
{
    if (len > 0x7fffffff)
        return pvm_error_set(err, PVM_ERR_EXECUTION,
                             "the answer is over 2 GiB");
    jv input = jv_parse_sized(json, (int)len);
    if (!jv_is_valid(input)) {
        jv msg = jv_invalid_get_msg(input);
        int rc = pvm_error_set(err, PVM_ERR_EXECUTION,
                               "the answer is not valid JSON (%s)",
                               jv_get_kind(msg) == JV_KIND_STRING
                                   ? jv_string_value(msg)
                                   : "empty");
        jv_free(msg);
        return rc;
    }
    jv v = jv_object();
    v = jv_object_set(v, jv_string("start"),
                      jv_number((double)vars->start / 1000.0));
    v = jv_object_set(v, jv_string("end"),
                      jv_number((double)vars->end / 1000.0));
    v = jv_object_set(v, jv_string("step"),
                      jv_number((double)vars->step / 1000.0));
    v = jv_object_set(v, jv_string("matchers"), matchers(vars->sel));
    j->msg[0] = '\0';
    jq_start(j->jq, JV_ARRAY(input, v), 0);
    int rc = 0;
    size_t idx = 0;
    jv out;
    while (rc == 0 && jv_is_valid(out = jq_next(j->jq)))
        rc = convert(out, ++idx, in_ms, sink, err);
    if (rc == 0 && jv_invalid_has_msg(jv_copy(out))) {
        jv msg = jv_invalid_get_msg(out);
        char buf[300];
        const char *s = jv_get_kind(msg) == JV_KIND_STRING
                            ? jv_string_value(msg)
                            : jv_dump_string_trunc(jv_copy(msg), buf,
                                                   sizeof(buf));
        rc = pvm_error_set(err, PVM_ERR_EXECUTION, "jq: %s", s);
        jv_free(msg);
    } else if (rc == 0) {
        jv_free(out);
        if (jq_halted(j->jq))
            rc = pvm_error_set(err, PVM_ERR_EXECUTION,
                               "jq: the program halted with an error");
    }
    return rc;
}
