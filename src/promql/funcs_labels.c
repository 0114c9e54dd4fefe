/* funcs_labels.c: functions that work on label sets and order:
 * label_replace (RE2 regex through pvm_regex_compile, with Go's $1 /
 * ${name} expansion), label_join, and sort, sort_desc,
 * sort_by_label(_desc) (natural order, as Prometheus' natsort). */

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "goregex.h"
#include "utf8.h"
#include "engine_internal.h"
#include "functions.h"

static const char *str_arg(const pvm_call *call, size_t i)
{
    return pvm_eval_unparen(call->args[i])->u.string.value;
}

/* Label names are valid when non-empty UTF-8 (Prometheus 3.x). */
static bool valid_name(const char *s)
{
    return *s && pvm_utf8_is_valid(s, strlen(s));
}

static bool name_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* Appends the group named (or numbered) name[0..n) of the match. */
static void put_group(const pvm_regex *re, const char *src, const size_t *ov,
                      const char *name, size_t n, char *o, size_t *k)
{
    long num = 0;
    bool numeric = true;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)name[i]) || num >= 100000000)
            numeric = false;
        else
            num = num * 10 + (name[i] - '0');
    }
    if (!numeric) {
        num = pvm_regex_group_index(re, name, n);
        if (num <= 0)
            return;
    }
    if ((size_t)num > pvm_regex_group_count(re) || ov[2 * num] == SIZE_MAX)
        return;
    size_t len = ov[2 * num + 1] - ov[2 * num];
    memcpy(o + *k, src + ov[2 * num], len);
    *k += len;
}

/* Go's Regexp.ExpandString. o must hold enough bytes. */
static void expand(const pvm_regex *re, const char *tmpl, const char *src,
                   const size_t *ov, char *o)
{
    size_t k = 0;
    for (const char *t = tmpl; *t;) {
        if (*t != '$') {
            o[k++] = *t++;
            continue;
        }
        t++;
        if (*t == '$') {
            o[k++] = '$';
            t++;
            continue;
        }
        bool brace = *t == '{';
        const char *s = t + brace;
        size_t n = 0;
        while (name_char((unsigned char)s[n]))
            n++;
        if (n == 0 || (brace && s[n] != '}')) {
            o[k++] = '$';
            continue;
        }
        put_group(re, src, ov, s, n, o, &k);
        t = s + n + brace;
    }
    o[k] = 0;
}

int pvm_eval_label_replace(eval_ctx *c, const pvm_call *call, eval_value *out)
{
    eval_query *q = c->q;
    const char *dst = str_arg(call, 1), *repl = str_arg(call, 2);
    const char *src = str_arg(call, 3), *rx = str_arg(call, 4);
    pvm_error err;
    pvm_regex *re = pvm_regex_compile(q->a, rx, strlen(rx), PVM_REGEX_CAPTURE,
                                      &err);
    if (!re && err.code == PVM_ERR_NOMEM)
        return pvm_eval_nomem(q);
    if (!re)
        return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                             "invalid regular expression "
                             "in label_replace(): %s",
                             rx);
    if (!valid_name(dst))
        return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                             "invalid destination label "
                             "name in label_replace(): %s",
                             dst);
    int r = pvm_eval_node(c, call->args[0], out);
    if (r < 0)
        return r;
    for (size_t i = 0; i < out->m.n; i++) {
        eval_series *s = &out->m.s[i];
        if (eval_tick(q) < 0)
            return q->err->code;
        const char *v = pvm_labels_get_unsorted(s->labels, s->nlabels, src);
        if (!v)
            v = "";
        const size_t *ov;
        int rc = pvm_regex_exec(re, v, strlen(v), &ov);
        if (rc == PVM_ERR_NOMEM)
            return pvm_eval_nomem(q);
        if (rc < 0)
            return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                 "regular expression "
                                 "match limit exceeded in label_replace(): %s",
                                 rx);
        if (rc == 0)
            continue;
        size_t cap = strlen(repl) * (strlen(v) + 1) + 1;
        char *o = pvm_arena_alloc(q->a, cap);
        if (!o)
            return pvm_eval_nomem(q);
        expand(re, repl, v, ov, o);
        if (pvm_eval_labels_set(q, s->labels, s->nlabels, dst, o, &s->labels,
                                &s->nlabels) < 0)
            return PVM_ERR_NOMEM;
        if (strcmp(dst, "__name__") == 0)
            s->drop_name = false;
    }
    return pvm_eval_merge_same_labels(q, &out->m);
}

int pvm_eval_label_join(eval_ctx *c, const pvm_call *call, eval_value *out)
{
    eval_query *q = c->q;
    const char *dst = str_arg(call, 1), *sep = str_arg(call, 2);
    for (size_t i = 3; i < call->nargs; i++)
        if (!valid_name(str_arg(call, i)))
            return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                                 "invalid source label "
                                 "name in label_join(): %s",
                                 str_arg(call, i));
    if (!valid_name(dst))
        return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                             "invalid destination label "
                             "name in label_join(): %s",
                             dst);
    int r = pvm_eval_node(c, call->args[0], out);
    if (r < 0)
        return r;
    for (size_t i = 0; i < out->m.n; i++) {
        eval_series *s = &out->m.s[i];
        size_t len = 1;
        if (eval_work(q, call->nargs) < 0)
            return q->err->code;
        for (size_t j = 3; j < call->nargs; j++) {
            const char *v = pvm_labels_get_unsorted(s->labels, s->nlabels,
                                                    str_arg(call, j));
            len += (v ? strlen(v) : 0) + strlen(sep);
        }
        char *o = pvm_arena_alloc(q->a, len);
        if (!o)
            return pvm_eval_nomem(q);
        size_t k = 0;
        for (size_t j = 3; j < call->nargs; j++) {
            const char *v = pvm_labels_get_unsorted(s->labels, s->nlabels,
                                                    str_arg(call, j));
            if (j > 3) {
                memcpy(o + k, sep, strlen(sep));
                k += strlen(sep);
            }
            if (v) {
                memcpy(o + k, v, strlen(v));
                k += strlen(v);
            }
        }
        o[k] = 0;
        if (pvm_eval_labels_set(q, s->labels, s->nlabels, dst, o, &s->labels,
                                &s->nlabels) < 0)
            return PVM_ERR_NOMEM;
        if (strcmp(dst, "__name__") == 0)
            s->drop_name = false;
    }
    return pvm_eval_merge_same_labels(q, &out->m);
}

/* ---- sorting -------------------------------------------------------- */

/* Next chunk of digits or non-digits of s at *i. */
static size_t chunk(const char *s, size_t i, bool *digits)
{
    size_t j = i;
    *digits = isdigit((unsigned char)s[i]);
    while (s[j] && (bool)isdigit((unsigned char)s[j]) == *digits)
        j++;
    return j - i;
}

/* facette/natsort.Compare: true when a sorts before b. */
static bool natless(const char *a, const char *b)
{
    size_t i = 0, j = 0;
    while (a[i]) {
        if (!b[j])
            return false;
        bool da, db;
        size_t na = chunk(a, i, &da), nb = chunk(b, j, &db);
        bool a_last = !a[i + na], b_last = !b[j + nb];
        if (da && db && na < 19 && nb < 19) {
            long long x = strtoll(a + i, NULL, 10);
            long long y = strtoll(b + j, NULL, 10);
            if (x != y)
                return x < y;
        } else {
            size_t n = na < nb ? na : nb;
            int cmp = memcmp(a + i, b + j, n);
            if (cmp || na != nb)
                return cmp ? cmp < 0 : na < nb;
        }
        if (a_last)
            return true;
        if (b_last)
            return false;
        i += na;
        j += nb;
    }
    return false;
}

typedef struct sort_item {
    eval_series s; /* the series */
    size_t pos;    /* original position (stable ties) */
} sort_item;

typedef struct sort_spec {
    int id;               /* which sort */
    const pvm_call *call; /* for the label arguments */
} sort_spec;

static int cmp_items(const void *x, const void *y, void *arg)
{
    const sort_item *a = x, *b = y;
    const sort_spec *sp = arg;
    int r = 0;
    if (sp->id == PVM_FN_SORT || sp->id == PVM_FN_SORT_DESC) {
        double va = a->s.pts[0].v, vb = b->s.pts[0].v;
        bool desc = sp->id == PVM_FN_SORT_DESC;
        if (isnan(va) || isnan(vb))
            r = isnan(va) ? (isnan(vb) ? 0 : 1) : -1;
        else if (va != vb)
            r = (va < vb) != desc ? -1 : 1;
    } else {
        bool desc = sp->id == PVM_FN_SORT_BY_LABEL_DESC;
        for (size_t i = 1; i < sp->call->nargs && !r; i++) {
            const char *l =
                pvm_eval_unparen(sp->call->args[i])->u.string.value;
            const char *la = pvm_labels_get_unsorted(a->s.labels, a->s.nlabels,
                                                     l);
            const char *lb = pvm_labels_get_unsorted(b->s.labels, b->s.nlabels,
                                                     l);
            la = la ? la : "";
            lb = lb ? lb : "";
            if (strcmp(la, lb) == 0)
                continue;
            r = natless(la, lb) ? -1 : 1;
            if (desc)
                r = -r;
        }
        if (!r) {
            r = pvm_labels_compare(a->s.labels, a->s.nlabels, b->s.labels,
                                   b->s.nlabels);
            if (desc)
                r = -r;
        }
    }
    if (!r)
        r = a->pos < b->pos ? -1 : a->pos > b->pos;
    return r;
}

int pvm_eval_sort(eval_ctx *c, const pvm_expr *e, eval_value *in,
                  eval_value *out)
{
    eval_query *q = c->q;
    *out = *in;
    out->type = PVM_VT_VECTOR;
    if (c->nsteps != 1)
        return pvm_eval_annotate(q, true, e,
                                 "PromQL warning: sort is "
                                 "ineffective for range queries since results "
                                 "are always ordered by labels");
    size_t n = in->m.n;
    sort_item *it = pvm_arena_alloc(q->a, (n + 1) * sizeof(*it));
    if (!it)
        return pvm_eval_nomem(q);
    size_t k = 0;
    if (eval_work(q, n) < 0)
        return q->err->code;
    for (size_t i = 0; i < n; i++)
        if (in->m.s[i].n)
            it[k] = (sort_item){in->m.s[i], k}, k++;
    sort_spec sp = {e->u.call.func->id, &e->u.call};
    qsort_r(it, k, sizeof(*it), cmp_items, &sp);
    if (eval_work(q, k) < 0)
        return q->err->code;
    for (size_t i = 0; i < k; i++)
        out->m.s[i] = it[i].s;
    out->m.n = k;
    return 0;
}
