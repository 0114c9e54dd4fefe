/* eval_labels.c: label-set operations of the PromQL evaluator: metadata
 * labels, keep/drop, signatures, rendering (the hash and comparison are
 * labels.c's). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include "strbuf.h"

#define NAME_LABEL "__name__"

/* Prometheus' schema.IsMetadataLabel: __name__, __type__, __unit__. */
bool pvm_eval_is_metadata(const char *name)
{
    return strcmp(name, NAME_LABEL) == 0 || strcmp(name, "__type__") == 0 ||
           strcmp(name, "__unit__") == 0;
}

int pvm_eval_labels_drop_meta(eval_query *q, const pvm_label *in, size_t n,
                              const pvm_label **out, size_t *nout)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += !pvm_eval_is_metadata(in[i].name);
    if (k == n) {
        *out = in;
        *nout = n;
        return 0;
    }
    pvm_label *l = pvm_arena_alloc(q->a, (k ? k : 1) * sizeof(*l));
    if (!l)
        return pvm_eval_nomem(q);
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (!pvm_eval_is_metadata(in[i].name))
            l[k++] = in[i];
    *out = l;
    *nout = k;
    return 0;
}

/* Sets name=value in a copy (value NULL or "" deletes the label). */
int pvm_eval_labels_set(eval_query *q, const pvm_label *in, size_t n,
                        const char *name, const char *value,
                        const pvm_label **out, size_t *nout)
{
    pvm_label *l = pvm_arena_alloc(q->a, (n + 1) * sizeof(*l));
    if (!l)
        return pvm_eval_nomem(q);
    bool del = !value || !*value;
    size_t k = 0;
    bool done = false;
    for (size_t i = 0; i < n; i++) {
        int c = strcmp(in[i].name, name);
        if (!done && c >= 0) {
            if (!del)
                l[k++] = (pvm_label){in[i].name == name ? name : name, value};
            done = true;
            if (c == 0)
                continue;
        }
        l[k++] = in[i];
    }
    if (!done && !del)
        l[k++] = (pvm_label){name, value};
    *out = l;
    *nout = k;
    return 0;
}

bool pvm_eval_list_has(const pvm_label_list *names, const char *name)
{
    for (size_t i = 0; names && i < names->n; i++)
        if (strcmp(names->names[i], name) == 0)
            return true;
    return false;
}

/* keep: only the labels in names; else all but those in names (and
 * __name__ too when also_name). */
int pvm_eval_labels_filter(eval_query *q, const pvm_label *in, size_t n,
                           const pvm_label_list *names, bool keep,
                           bool also_name, const pvm_label **out, size_t *nout)
{
    pvm_label *l = pvm_arena_alloc(q->a, (n ? n : 1) * sizeof(*l));
    if (!l)
        return pvm_eval_nomem(q);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool in_list = pvm_eval_list_has(names, in[i].name);
        bool take = keep ? in_list
                         : !in_list && !(also_name &&
                                         strcmp(in[i].name, NAME_LABEL) == 0);
        if (take)
            l[k++] = in[i];
    }
    *out = l;
    *nout = k;
    return 0;
}

/* Hash of the matching labels: on: the listed ones; ignoring: all but the
 * listed ones and __name__. */
uint64_t pvm_eval_labels_sig(const pvm_label *l, size_t n,
                             const pvm_label_list *names, bool on)
{
    uint64_t h = PVM_LABELS_HASH_INIT;
    for (size_t i = 0; i < n; i++) {
        bool in_list = pvm_eval_list_has(names, l[i].name);
        bool take = on ? in_list
                       : !in_list && strcmp(l[i].name, NAME_LABEL) != 0;
        if (take)
            h = pvm_labels_hash_add(h, &l[i]);
    }
    return h;
}

/* Go's strconv.Quote of s, in the arena (pvm_strbuf_quote). */
char *pvm_eval_go_quote(eval_query *q, const char *s, size_t len)
{
    pvm_strbuf sb;
    pvm_strbuf_init(&sb, q->a);
    pvm_strbuf_quote(&sb, s, len, 0);
    if (sb.failed) {
        pvm_eval_nomem(q);
        return NULL;
    }
    return sb.buf;
}

/* Prometheus' labels.String(): {a="b", c="d"}. */
char *pvm_eval_labels_str(eval_query *q, const pvm_label *l, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += strlen(l[i].name) + 4 * strlen(l[i].value) + 6;
    char *o = pvm_arena_alloc(q->a, len);
    if (!o) {
        pvm_eval_nomem(q);
        return NULL;
    }
    size_t k = 0;
    o[k++] = '{';
    for (size_t i = 0; i < n; i++) {
        char *v = pvm_eval_go_quote(q, l[i].value, strlen(l[i].value));
        if (!v)
            return NULL;
        k += (size_t)snprintf(o + k, len - k, "%s%s=%s", i ? ", " : "",
                              l[i].name, v);
    }
    o[k++] = '}';
    o[k] = 0;
    return o;
}
