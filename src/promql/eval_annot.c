/* eval_annot.c: the annotations of a query (warnings and infos), kept once
 * per text through a hash table, with their positions. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_internal.h"
#include <pvm/hashmap.h>

/* The kind and text of an annotation, hashed (FNV-1a, as the hash map). */
static uint64_t anno_hash(bool warn, const char *msg)
{
    return pvm_hash_bytes(msg, strlen(msg)) ^ (warn ? 1 : 2);
}

static bool anno_eq(const void *stored, const void *probe)
{
    const eval_anno *a = stored, *b = probe;
    return a->warn == b->warn && strcmp(a->msg, b->msg) == 0;
}

/* The annotation with this text, through a hash table: a query over many
 * series may add one per series (rate over differently named metrics). */
static eval_anno *anno_find(eval_query *q, bool warn, const char *msg)
{
    if (!q->anno_map.slots)
        return NULL;
    eval_anno probe = {.warn = warn, .msg = msg};
    pvm_hashmap_slot *s = pvm_hashmap_get_hashed(&q->anno_map,
                                                 anno_hash(warn, msg), &probe,
                                                 anno_eq);
    return s ? (eval_anno *)s->key : NULL;
}

static int anno_index(eval_query *q, eval_anno *a)
{
    if (!q->anno_map.slots && pvm_hashmap_init(&q->anno_map, q->a, 0) < 0)
        return -1;
    bool added;
    return pvm_hashmap_put_hashed(&q->anno_map, anno_hash(a->warn, a->msg), a,
                                  anno_eq, &added)
               ? 0
               : -1;
}

static eval_anno *anno_new(eval_query *q, bool warn, const char *msg,
                           const pvm_expr *at)
{
    eval_anno *a = pvm_arena_calloc(q->a, 1, sizeof(*a));
    if (!a)
        return NULL;
    a->warn = warn;
    a->msg = msg;
    if (at) {
        a->pos = at->pos;
        a->has_pos = true;
    }
    a->next = q->annos;
    q->annos = a;
    return anno_index(q, a) < 0 ? NULL : a;
}

int pvm_eval_annotate(eval_query *q, bool warn, const pvm_expr *at,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = pvm_arena_vsprintf(q->a, fmt, ap);
    va_end(ap);
    if (!msg)
        return pvm_eval_nomem(q);
    if (anno_find(q, warn, msg))
        return 0;
    return anno_new(q, warn, msg, at) ? 0 : pvm_eval_nomem(q);
}

int pvm_eval_annotate_mono(eval_query *q, const char *metric,
                           const pvm_expr *at, int64_t ts, double min_b,
                           double max_b, double max_diff)
{
    char *msg;
    const char *base = "PromQL info: input to histogram_quantile needed to "
                       "be fixed for monotonicity (see https://prometheus."
                       "io/docs/prometheus/latest/querying/functions/#"
                       "histogram_quantile)";
    if (metric && *metric) {
        char *qn = pvm_eval_go_quote(q, metric, strlen(metric));
        if (!qn)
            return PVM_ERR_NOMEM;
        msg = pvm_arena_sprintf(q->a, "%s for metric name %s", base, qn);
    } else {
        msg = pvm_arena_sprintf(q->a, "%s", base);
    }
    if (!msg)
        return pvm_eval_nomem(q);
    eval_anno *a = anno_find(q, false, msg);
    if (a) {
        a->min_ts = ts < a->min_ts ? ts : a->min_ts;
        a->max_ts = ts > a->max_ts ? ts : a->max_ts;
        a->min_b = min_b < a->min_b ? min_b : a->min_b;
        a->max_b = max_b > a->max_b ? max_b : a->max_b;
        a->max_diff = max_diff > a->max_diff ? max_diff : a->max_diff;
        a->count++;
        return 0;
    }
    a = anno_new(q, false, msg, at);
    if (!a)
        return pvm_eval_nomem(q);
    a->mono = true;
    a->min_ts = a->max_ts = ts;
    a->min_b = min_b;
    a->max_b = max_b;
    a->max_diff = max_diff;
    return 0;
}
