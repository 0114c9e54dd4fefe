/* runner_store.c: the runner's in-memory store (runner.h): `load` blocks
 * add series to it, native histogram series are only marked, and fetch()
 * serves it to the engine like a plugin would. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "functions.h"
#include "runner.h"

/* ---- store and fetch ------------------------------------------------- */

static stored *store_get(store *st, const pvm_label *l, size_t n)
{
    for (size_t i = 0; i < st->n; i++)
        if (pvm_labels_equal(st->s[i].labels, st->s[i].n, l, n))
            return &st->s[i];
    if (st->n == st->cap) {
        size_t nc = st->cap ? st->cap * 2 : 64;
        st->s = pvm_arena_realloc(st->a, st->s, st->cap * sizeof(stored),
                                  nc * sizeof(stored));
        st->cap = nc;
    }
    stored *s = &st->s[st->n++];
    memset(s, 0, sizeof(*s));
    s->labels = pvm_labels_copy(st->a, l, n);
    s->n = n;
    return s;
}

int fetch(void *ctx, const pvm_fetch_request *req, pvm_series_set *out,
          pvm_error *err)
{
    store *st = ctx;
    const pvm_vector_selector *vs = req->vs;
    for (size_t i = 0; i < st->n; i++) {
        stored *s = &st->s[i];
        bool ok = true;
        for (size_t j = 0; j < vs->nmatchers && ok; j++) {
            const char *v = pvm_labels_get(s->labels, s->n,
                                           vs->matchers[j].name);
            ok = pvm_matcher_match(&vs->matchers[j], v ? v : "",
                                   v ? strlen(v) : 0) == 1;
        }
        if (!ok)
            continue;
        if (s->has_hist)
            st->hit_hist = true;
        pvm_series *ser = NULL;
        for (size_t j = 0; j < s->npts; j++) {
            if (s->pts[j].t < req->mint || s->pts[j].t > req->maxt)
                continue;
            if (!ser)
                ser = pvm_series_set_get(out, s->labels, s->n,
                                         pvm_labels_hash(s->labels, s->n));
            if (!ser ||
                pvm_series_append(out, ser, s->pts[j].t, s->pts[j].v) < 0)
                return pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
        }
    }
    return 0;
}

/* load_with_nhcb also creates native histograms with custom buckets
 * from classic ones (x_bucket, x_count, x_sum -> x): we store an empty
 * series flagged as a histogram, so that queries touching it are skipped
 * as native-histogram evals. */
static void add_nhcb_placeholder(store *st, const pvm_label *l, size_t n)
{
    static const char *suffix[] = {"_bucket", "_count", "_sum"};
    pvm_label out[MAX_LABELS];
    size_t k = 0;
    bool ok = false;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(l[i].name, "le"))
            continue;
        out[k] = l[i];
        if (!strcmp(l[i].name, "__name__")) {
            size_t len = strlen(l[i].value);
            for (size_t j = 0; j < 3 && !ok; j++) {
                size_t sl = strlen(suffix[j]);
                if (len > sl && !strcmp(l[i].value + len - sl, suffix[j])) {
                    out[k].value = pvm_arena_strndup(st->a, l[i].value,
                                                     len - sl);
                    ok = true;
                }
            }
        }
        k++;
    }
    if (ok)
        store_get(st, out, k)->has_hist = true;
}

/* load <interval> and its series lines; returns the next line index. */
int do_load(store *st, char **lines, int i, int nlines, char **why)
{
    int64_t gap;
    char *arg = trim(lines[i] + 4);
    bool nhcb = strncmp(arg, "_with_nhcb", 10) == 0;
    if (nhcb)
        arg = trim(arg + 10);
    if (parse_duration(arg, &gap) < 0) {
        *why = "invalid load command";
        return -1;
    }
    for (i++; i < nlines && *lines[i]; i++) {
        pvm_label l[MAX_LABELS];
        size_t n;
        const char *p = lines[i];
        double *vals;
        bool *om, hist = false;
        size_t nv;
        if (parse_metric(st->a, &p, l, &n) < 0 ||
            parse_values(st->a, p, &vals, &om, &nv, &hist) < 0) {
            *why = lines[i];
            return -1;
        }
        stored *s = store_get(st, l, n);
        s->has_hist |= hist;
        if (nhcb)
            add_nhcb_placeholder(st, l, n);
        for (size_t k = 0; k < nv; k++) {
            if (om[k])
                continue;
            if (s->npts == s->cap) {
                size_t nc = s->cap ? s->cap * 2 : 16;
                s->pts = pvm_arena_realloc(st->a, s->pts,
                                           s->cap * sizeof(pvm_point),
                                           nc * sizeof(pvm_point));
                s->cap = nc;
            }
            s->pts[s->npts++] = (pvm_point){(int64_t)k * gap, vals[k]};
        }
    }
    return i;
}
