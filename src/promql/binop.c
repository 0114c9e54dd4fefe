/* binop.c: binary operators: scalar/scalar, vector/scalar (element-wise
 * over each series), and vector/vector with Prometheus' vector matching
 * (on, ignoring, group_left, group_right), bool, and the set operators
 * and, or, unless, evaluated step by step on join signatures. */

#include <math.h>
#include <string.h>

#include "engine_internal.h"

/* Per step state of a vector/vector operation. */
/* The key of the signature tables: sample i of v has signature
 * sig[v[i].series]. */
typedef struct sig_ctx {
    const eval_sample *v;
    const uint64_t *sig;
} sig_ctx;

static bool sig_eq(const void *ctx, size_t i, const void *probe)
{
    const sig_ctx *c = ctx;
    return c->sig[c->v[i].series] == *(const uint64_t *)probe;
}

/* A (match group, result label hash) pair of group_left/right. */
typedef struct vv_pair {
    size_t group;
    uint64_t hash;
} vv_pair;

static bool pair_eq(const void *ctx, size_t i, const void *probe)
{
    const vv_pair *a = (const vv_pair *)ctx + i, *b = probe;
    return a->group == b->group && a->hash == b->hash;
}

typedef struct vv_state {
    eval_ctx *c;                   /* evaluator */
    const pvm_binary *b;           /* the operation */
    const pvm_vector_matching *vm; /* its matching */
    eval_matrix *lm, *rm;          /* operands */
    uint64_t *lsig, *rsig;         /* join signature per series */
    size_t *lcur, *rcur;           /* gather cursors */
    eval_sample *lv, *rv;          /* samples of the step */
    eval_out out;                  /* result */
    /* Step tables, allocated once for all steps and emptied at each:
     * the samples of one side by join signature (arith: the matching
     * side's; set ops: the side whose presence is asked). */
    pvm_idxmap tab;  /* signature -> sample index */
    sig_ctx tab_ctx; /* the samples and signatures tab indexes */
    size_t *hits;    /* arith one-to-one: matches per sample of tab */
    /* group_left/right: result label hashes seen per match group, as
     * (group, hash) pairs in one table (a list per group was quadratic:
     * x * on() group_left y over 100k x). */
    pvm_idxmap ptab; /* (group, hash) -> index in pairs */
    vv_pair *pairs;  /* the pairs of this step */
    /* Result label sets, per series of the matching side (the `ls` of
     * arith_step): the same pair of series gives the same labels at every
     * step, so they are built once, not once per step. */
    const pvm_label **rl; /* labels, NULL until built */
    size_t *rl_n;         /* their counts */
    size_t *rl_other;     /* the other side's series + 1 */
} vv_state;

/* Allocates the step tables for operands of nl and nr series. */
static int step_tables_init(vv_state *st, size_t nl, size_t nr)
{
    eval_query *q = st->c->q;
    size_t ns = (nl > nr ? nl : nr) + 1;
    st->hits = pvm_arena_calloc(q->a, ns, sizeof(*st->hits));
    st->pairs = pvm_arena_alloc(q->a, ns * sizeof(*st->pairs));
    st->rl = pvm_arena_calloc(q->a, ns, sizeof(*st->rl));
    st->rl_n = pvm_arena_calloc(q->a, ns, sizeof(*st->rl_n));
    st->rl_other = pvm_arena_calloc(q->a, ns, sizeof(*st->rl_other));
    if (pvm_idxmap_init(&st->tab, q->a, ns) < 0 ||
        pvm_idxmap_init(&st->ptab, q->a, ns) < 0 || !st->hits || !st->pairs ||
        !st->rl || !st->rl_n || !st->rl_other)
        return pvm_eval_nomem(q);
    return 0;
}

/* Fills the signature table with the n samples of v (sig: their series'
 * signatures), emptying it first. Returns the index of the first sample
 * whose signature an earlier one has (*dup_of: that earlier one), or
 * PVM_IDXMAP_NONE; -2 when out of memory. */
static size_t fill_sig_table(vv_state *st, const eval_sample *v, size_t n,
                             const uint64_t *sig, size_t *dup_of,
                             bool stop_at_dup)
{
    pvm_idxmap_clear(&st->tab);
    if (st->ptab.n)
        pvm_idxmap_clear(&st->ptab);
    st->tab_ctx = (sig_ctx){v, sig};
    for (size_t i = 0; i < n; i++) {
        uint64_t h = sig[v[i].series];
        size_t at = pvm_idxmap_put(&st->tab, h, sig_eq, &st->tab_ctx, &h, i);
        if (at == PVM_IDXMAP_NONE)
            return (size_t)-2;
        if (at != i && stop_at_dup) {
            *dup_of = at;
            return i;
        }
    }
    return PVM_IDXMAP_NONE;
}

/* The sample of the table with signature h, or PVM_IDXMAP_NONE. */
static inline size_t sig_find(const vv_state *st, uint64_t h)
{
    return pvm_idxmap_get(&st->tab, h, sig_eq, &st->tab_ctx, &h);
}

static bool is_arith(pvm_binop op)
{
    switch (op) {
    case PVM_OP_ADD:
    case PVM_OP_SUB:
    case PVM_OP_MUL:
    case PVM_OP_DIV:
    case PVM_OP_POW:
    case PVM_OP_MOD:
    case PVM_OP_ATAN2: return true;
    default: return false;
    }
}

/* Applies op; *keep is the comparison result (true for arithmetic). */
static double apply(pvm_binop op, double l, double r, bool *keep)
{
    *keep = true;
    switch (op) {
    case PVM_OP_ADD: return l + r;
    case PVM_OP_SUB: return l - r;
    case PVM_OP_MUL: return l * r;
    case PVM_OP_DIV: return l / r;
    case PVM_OP_POW: return pow(l, r);
    case PVM_OP_MOD: return fmod(l, r);
    case PVM_OP_ATAN2: return atan2(l, r);
    case PVM_OP_EQLC: *keep = l == r; return l;
    case PVM_OP_NEQ: *keep = l != r; return l;
    case PVM_OP_GTR: *keep = l > r; return l;
    case PVM_OP_LSS: *keep = l < r; return l;
    case PVM_OP_GTE: *keep = l >= r; return l;
    case PVM_OP_LTE: *keep = l <= r; return l;
    default: *keep = false; return 0;
    }
}

static int scalar_scalar(eval_ctx *c, const pvm_binary *b, eval_value *l,
                         eval_value *r, eval_value *out)
{
    out->type = PVM_VT_SCALAR;
    eval_series *s = pvm_eval_matrix_add(c->q, &out->m, NULL, 0, false);
    if (!s || !l->m.n || !r->m.n)
        return s ? 0 : PVM_ERR_NOMEM;
    const eval_series *ls = &l->m.s[0], *rs = &r->m.s[0];
    if (eval_work(c->q, ls->n) < 0)
        return c->q->err->code;
    for (size_t k = 0; k < ls->n && k < rs->n; k++) {
        bool keep;
        double v = apply(b->op, ls->pts[k].v, rs->pts[k].v, &keep);
        if (pvm_binop_is_comparison(b->op))
            v = keep ? 1 : 0;
        if (pvm_eval_series_push(c->q, s, ls->pts[k].t, v) < 0)
            return PVM_ERR_NOMEM;
    }
    return 0;
}

/* vector op scalar (swap: scalar op vector), series by series. */
static int vector_scalar(eval_ctx *c, const pvm_binary *b, eval_value *vec,
                         eval_value *sc, bool swap, eval_value *out)
{
    double *sv = pvm_arena_alloc(c->q->a, c->nsteps * sizeof(*sv));
    if (!sv)
        return pvm_eval_nomem(c->q);
    if (eval_work(c->q, c->nsteps) < 0)
        return c->q->err->code;
    for (size_t k = 0; k < c->nsteps; k++)
        sv[k] = NAN;
    if (sc->m.n)
        for (size_t j = 0; j < sc->m.s[0].n; j++) {
            const pvm_point *p = &sc->m.s[0].pts[j];
            sv[(p->t - c->start) / c->interval] = p->v;
        }
    out->type = PVM_VT_VECTOR;
    bool cmp = pvm_binop_is_comparison(b->op);
    bool drop = is_arith(b->op) || b->return_bool;
    for (size_t i = 0; i < vec->m.n; i++) {
        const eval_series *s = &vec->m.s[i];
        eval_series *d = NULL;
        if (eval_work(c->q, s->n + 1) < 0)
            return c->q->err->code;
        for (size_t j = 0; j < s->n; j++) {
            double x = s->pts[j].v;
            double y = sv[(s->pts[j].t - c->start) / c->interval];
            bool keep;
            double v = swap ? apply(b->op, y, x, &keep)
                            : apply(b->op, x, y, &keep);
            if (cmp && swap)
                v = x;
            if (b->return_bool) {
                v = keep ? 1 : 0;
                keep = true;
            }
            if (!keep)
                continue;
            if (!d &&
                !(d = pvm_eval_matrix_add(c->q, &out->m, s->labels, s->nlabels,
                                          drop || s->drop_name)))
                return PVM_ERR_NOMEM;
            if (pvm_eval_series_push(c->q, d, s->pts[j].t, v) < 0)
                return PVM_ERR_NOMEM;
        }
    }
    return 0;
}

static int set_op_step(vv_state *st, size_t nl, size_t nr, int64_t ts)
{
    eval_query *q = st->c->q;
    pvm_binop op = st->b->op;
    /* Signatures present on the other side. */
    eval_sample *fill = op == PVM_OP_OR ? st->lv : st->rv;
    uint64_t *fsig = op == PVM_OP_OR ? st->lsig : st->rsig;
    size_t nfill = op == PVM_OP_OR ? nl : nr;
    size_t dup;
    if (fill_sig_table(st, fill, nfill, fsig, &dup, false) == (size_t)-2)
        return pvm_eval_nomem(q);
    for (size_t i = 0; i < nl; i++) {
        const eval_sample *s = &st->lv[i];
        bool present = sig_find(st, st->lsig[s->series]) != PVM_IDXMAP_NONE;
        if ((op == PVM_OP_AND && nr && present) || op == PVM_OP_OR ||
            (op == PVM_OP_UNLESS && (!nr || !present)))
            if (pvm_eval_out_add(&st->out, s->labels, s->nlabels, s->drop_name,
                                 ts, s->v) < 0)
                return q->err->code;
    }
    if (op == PVM_OP_OR)
        for (size_t i = 0; i < nr; i++) {
            const eval_sample *s = &st->rv[i];
            if (nl && sig_find(st, st->rsig[s->series]) != PVM_IDXMAP_NONE)
                continue;
            if (pvm_eval_out_add(&st->out, s->labels, s->nlabels, s->drop_name,
                                 ts, s->v) < 0)
                return q->err->code;
        }
    return 0;
}

/* The labels Prometheus' MatchLabels gives, as text, for errors. */
static char *match_labels_str(vv_state *st, const eval_sample *s)
{
    const pvm_label *l;
    size_t n;
    if (pvm_eval_labels_filter(st->c->q, s->labels, s->nlabels,
                               &st->vm->labels, st->vm->on, true, &l, &n) < 0)
        return NULL;
    return pvm_eval_labels_str(st->c->q, l, n);
}

/* The labels of the result of ls and rs (built once per pair of series,
 * see vv_state.rl). */
static int result_labels(vv_state *st, const eval_sample *ls,
                         const eval_sample *rs, const pvm_label **out,
                         size_t *nout)
{
    eval_query *q = st->c->q;
    const pvm_vector_matching *vm = st->vm;
    size_t i = ls->series;
    if (st->rl[i] && st->rl_other[i] == rs->series + 1) {
        *out = st->rl[i];
        *nout = st->rl_n[i];
        return 0;
    }
    const pvm_label *l = ls->labels;
    size_t n = ls->nlabels;
    if (is_arith(st->b->op) && pvm_eval_labels_drop_meta(q, l, n, &l, &n) < 0)
        return PVM_ERR_NOMEM;
    if (vm->card == PVM_CARD_ONE_TO_ONE &&
        pvm_eval_labels_filter(q, l, n, &vm->labels, vm->on, false, &l, &n) <
            0)
        return PVM_ERR_NOMEM;
    for (size_t k = 0; k < vm->include.n; k++) {
        const char *name = vm->include.names[k];
        const char *v = pvm_labels_get_unsorted(rs->labels, rs->nlabels, name);
        if (pvm_eval_labels_set(q, l, n, name, v, &l, &n) < 0)
            return PVM_ERR_NOMEM;
    }
    st->rl[i] = l;
    st->rl_n[i] = n;
    st->rl_other[i] = rs->series + 1;
    *out = l;
    *nout = n;
    return 0;
}

/* Records result label hash rh in match group g for this step; fails
 * when the group already produced it (at most one pair per left sample,
 * so the pairs fit in st->pairs). */
static int seen_once(vv_state *st, size_t g, uint64_t rh)
{
    vv_pair p = {g, rh};
    size_t n = st->ptab.n;
    size_t at = pvm_idxmap_put(&st->ptab,
                               rh ^ ((uint64_t)g * 0x9e3779b97f4a7c15ULL),
                               pair_eq, st->pairs, &p, n);
    if (at == PVM_IDXMAP_NONE)
        return pvm_eval_nomem(st->c->q);
    if (at != n)
        return pvm_eval_fail(st->c->q, PVM_ERR_EXECUTION,
                             "multiple matches for labels: grouping "
                             "labels must ensure unique matches");
    st->pairs[n] = p;
    return 0;
}

/* Prometheus' error for two samples x and o of the matching side with one
 * signature. */
static int duplicate_error(vv_state *st, const eval_sample *x,
                           const eval_sample *o, bool swapped)
{
    eval_query *q = st->c->q;
    char *a = pvm_eval_labels_str(q, x->labels, x->nlabels);
    char *b2 = pvm_eval_labels_str(q, o->labels, o->nlabels);
    char *ml = match_labels_str(st, x);
    if (!a || !b2 || !ml)
        return PVM_ERR_NOMEM;
    if (strcmp(a, b2) > 0) {
        char *t = a;
        a = b2;
        b2 = t;
    }
    return pvm_eval_fail(q, PVM_ERR_EXECUTION,
                         "found duplicate series for the match group %s "
                         "on the %s hand-side of the operation: [%s, %s]"
                         ";many-to-many matching not allowed: matching "
                         "labels must be unique on one side",
                         ml, swapped ? "left" : "right", a, b2);
}

/* Arithmetic and comparisons between two vectors at one step. */
static int arith_step(vv_state *st, eval_sample *lv, size_t nl, uint64_t *lsig,
                      eval_sample *rv, size_t nr, uint64_t *rsig, bool swapped,
                      int64_t ts)
{
    eval_query *q = st->c->q;
    const pvm_vector_matching *vm = st->vm;
    if (!nl || !nr)
        return 0;
    size_t *hits = st->hits;
    size_t dup_of = 0;
    size_t i = fill_sig_table(st, rv, nr, rsig, &dup_of, true);
    if (i == (size_t)-2)
        return pvm_eval_nomem(q);
    if (i != PVM_IDXMAP_NONE)
        return duplicate_error(st, &rv[i], &rv[dup_of], swapped);
    if (vm->card == PVM_CARD_ONE_TO_ONE)
        memset(hits, 0, nr * sizeof(*hits));
    bool cmp = pvm_binop_is_comparison(st->b->op);
    for (i = 0; i < nl; i++) {
        size_t k = sig_find(st, lsig[lv[i].series]);
        if (k == PVM_IDXMAP_NONE)
            continue;
        const eval_sample *ls = &lv[i], *rs = &rv[k];
        double fl = swapped ? rs->v : ls->v, fr = swapped ? ls->v : rs->v;
        bool keep;
        double v = apply(st->b->op, fl, fr, &keep);
        if (st->b->return_bool) {
            v = keep ? 1 : 0;
        }
        const pvm_label *rl;
        size_t rn;
        if (result_labels(st, ls, rs, &rl, &rn) < 0)
            return PVM_ERR_NOMEM;
        if (vm->card == PVM_CARD_ONE_TO_ONE) {
            if (hits[k]++)
                return pvm_eval_fail(
                    q, PVM_ERR_EXECUTION,
                    "multiple matches for labels: many-to-one "
                    "matching must be explicit "
                    "(group_left/group_right)");
        } else {
            uint64_t rh = pvm_labels_hash(rl, rn);
            int r = seen_once(st, k, rh);
            if (r < 0)
                return r;
        }
        if (cmp && !keep && !st->b->return_bool)
            continue;
        if (pvm_eval_out_add(&st->out, rl, rn, st->b->return_bool, ts, v) < 0)
            return q->err->code;
    }
    return 0;
}

static uint64_t *signatures(eval_query *q, const eval_matrix *m,
                            const pvm_vector_matching *vm)
{
    uint64_t *s = pvm_arena_alloc(q->a, (m->n + 1) * sizeof(*s));
    if (!s) {
        pvm_eval_nomem(q);
        return NULL;
    }
    if (eval_work(q, m->n) < 0)
        return NULL;
    for (size_t i = 0; i < m->n; i++)
        s[i] = pvm_eval_labels_sig(m->s[i].labels, m->s[i].nlabels,
                                   &vm->labels, vm->on);
    return s;
}

static int vector_vector(eval_ctx *c, const pvm_binary *b, eval_value *l,
                         eval_value *r, eval_value *out)
{
    eval_query *q = c->q;
    static const pvm_vector_matching none = {.card = PVM_CARD_ONE_TO_ONE};
    vv_state st = {.c = c,
                   .b = b,
                   .vm = b->matching ? b->matching : &none,
                   .lm = &l->m,
                   .rm = &r->m};
    st.lsig = signatures(q, &l->m, st.vm);
    st.rsig = signatures(q, &r->m, st.vm);
    st.lcur = pvm_arena_calloc(q->a, l->m.n + 1, sizeof(size_t));
    st.rcur = pvm_arena_calloc(q->a, r->m.n + 1, sizeof(size_t));
    st.lv = pvm_arena_alloc(q->a, (l->m.n + 1) * sizeof(eval_sample));
    st.rv = pvm_arena_alloc(q->a, (r->m.n + 1) * sizeof(eval_sample));
    if (!st.lsig || !st.rsig || !st.lcur || !st.rcur || !st.lv || !st.rv)
        return pvm_eval_nomem(q);
    if (pvm_eval_out_init(c, &st.out, l->m.n + r->m.n) < 0 ||
        step_tables_init(&st, l->m.n, r->m.n) < 0)
        return PVM_ERR_NOMEM;
    bool set = pvm_binop_is_set(b->op);
    for (size_t k = 0; k < c->nsteps; k++) {
        int64_t ts = pvm_eval_step_ts(c, k);
        size_t nl, nr;
        if (pvm_eval_gather(c, &l->m, st.lcur, ts, st.lv, &nl) < 0 ||
            pvm_eval_gather(c, &r->m, st.rcur, ts, st.rv, &nr) < 0)
            return q->err->code;
        int rc;
        if (set)
            rc = set_op_step(&st, nl, nr, ts);
        else if (st.vm->card == PVM_CARD_ONE_TO_MANY)
            rc = arith_step(&st, st.rv, nr, st.rsig, st.lv, nl, st.lsig, true,
                            ts);
        else
            rc = arith_step(&st, st.lv, nl, st.lsig, st.rv, nr, st.rsig, false,
                            ts);
        if (rc < 0 || pvm_eval_check(c) < 0)
            return q->err->code;
    }
    out->type = PVM_VT_VECTOR;
    out->m = st.out.m;
    return 0;
}

int pvm_eval_binary(eval_ctx *c, const pvm_expr *e, eval_value *out)
{
    const pvm_binary *b = &e->u.binary;
    eval_value l, r;
    int rc = pvm_eval_node(c, b->lhs, &l);
    if (rc < 0)
        return rc;
    rc = pvm_eval_node(c, b->rhs, &r);
    if (rc < 0)
        return rc;
    bool ls = l.type == PVM_VT_SCALAR, rs = r.type == PVM_VT_SCALAR;
    if (ls && rs)
        return scalar_scalar(c, b, &l, &r, out);
    if (rs)
        return vector_scalar(c, b, &l, &r, false, out);
    if (ls)
        return vector_scalar(c, b, &r, &l, true, out);
    return vector_vector(c, b, &l, &r, out);
}
