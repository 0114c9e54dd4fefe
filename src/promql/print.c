/* print.c: the pretty-printer: an AST back to canonical PromQL text, as
 * Prometheus' String() methods write it (printer.go): `sum by (a) (x)`,
 * `rate(x[5m])`, durations as model.Duration (`1h30m`), numbers in the
 * shortest form that reads back exactly, matchers sorted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "labels.h"
#include "gofloat.h"
#include "strbuf.h"

static void print_expr(pvm_strbuf *sb, const pvm_expr *e);

/* model.Duration.String() of ms (>= 0): 1y, 2w, 3d4h5m6s7ms, 0s. */
static void put_duration(pvm_strbuf *sb, int64_t ms)
{
    static const struct {
        const char *unit; /* suffix */
        int64_t ms;       /* its length */
        bool exact;       /* only when it divides the rest */
    } units[] = {
        {"y", 365LL * 86400000, true},
        {"w", 7LL * 86400000, true},
        {"d", 86400000, false},
        {"h", 3600000, false},
        {"m", 60000, false},
        {"s", 1000, false},
        {"ms", 1, false},
    };
    if (ms == 0) {
        pvm_strbuf_puts(sb, "0s");
        return;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (units[i].exact && ms % units[i].ms != 0)
            continue;
        int64_t v = ms / units[i].ms;
        if (v > 0) {
            pvm_strbuf_printf(sb, "%lld%s", (long long)v, units[i].unit);
            ms -= v * units[i].ms;
        }
    }
}

/* A signed duration: "-" for negative values. */
static void put_signed_duration(pvm_strbuf *sb, int64_t ms)
{
    if (ms < 0) {
        pvm_strbuf_putc(sb, '-');
        ms = -ms;
    }
    put_duration(sb, ms);
}

/* Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits that
 * read back as v, written without an exponent. */
static void put_float(pvm_strbuf *sb, double v)
{
    char buf[PVM_FLOAT_F_BUFSIZE];
    pvm_strbuf_add(sb, buf, pvm_format_float_f(buf, sizeof(buf), v));
}

static void put_label_name(pvm_strbuf *sb, const char *name)
{
    if (pvm_label_name_is_legacy(name, strlen(name)))
        pvm_strbuf_puts(sb, name);
    else
        pvm_strbuf_quote(sb, name, strlen(name), 0);
}

static void put_labels(pvm_strbuf *sb, const pvm_label_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (i > 0)
            pvm_strbuf_puts(sb, ", ");
        put_label_name(sb, l->names[i]);
    }
}

/* " @ 123.456", " @ start()", " @ end()" (ms printed exactly). */
static void put_at(pvm_strbuf *sb, int kind, int64_t ms)
{
    if (kind == PVM_AT_START) {
        pvm_strbuf_puts(sb, " @ start()");
    } else if (kind == PVM_AT_END) {
        pvm_strbuf_puts(sb, " @ end()");
    } else if (kind == PVM_AT_TIMESTAMP) {
        uint64_t abs = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
        pvm_strbuf_printf(sb, " @ %s%llu.%03llu", ms < 0 ? "-" : "",
                          (unsigned long long)(abs / 1000),
                          (unsigned long long)(abs % 1000));
    }
}

static void put_offset(pvm_strbuf *sb, int64_t ms)
{
    if (ms != 0) {
        pvm_strbuf_puts(sb, " offset ");
        put_signed_duration(sb, ms);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True for the matcher implied by the metric name written before braces. */
static bool is_implicit_name(const pvm_vector_selector *vs,
                             const pvm_matcher *m)
{
    return vs->name && vs->name[0] && m->op == PVM_MATCH_EQUAL &&
           strcmp(m->name, "__name__") == 0 &&
           m->value_len == strlen(vs->name) &&
           memcmp(m->value, vs->name, m->value_len) == 0;
}

/* name{sorted matchers} without modifiers. */
static void put_selector_body(pvm_strbuf *sb, const pvm_vector_selector *vs)
{
    char **strs = NULL;
    size_t n = 0;
    if (vs->nmatchers) {
        strs = pvm_arena_alloc(sb->arena, vs->nmatchers * sizeof(*strs));
        if (!strs) {
            sb->failed = true;
            return;
        }
    }
    for (size_t i = 0; i < vs->nmatchers; i++) {
        const pvm_matcher *m = &vs->matchers[i];
        if (is_implicit_name(vs, m))
            continue;
        pvm_strbuf ms;
        pvm_strbuf_init(&ms, sb->arena);
        put_label_name(&ms, m->name);
        pvm_strbuf_puts(&ms, pvm_match_op_str(m->op));
        pvm_strbuf_quote(&ms, m->value, m->value_len, 0);
        if (ms.failed) {
            sb->failed = true;
            return;
        }
        strs[n++] = ms.buf;
    }
    if (vs->name)
        pvm_strbuf_puts(sb, vs->name);
    if (n == 0 && vs->name)
        return;
    qsort(strs, n, sizeof(*strs), cmp_str);
    pvm_strbuf_putc(sb, '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            pvm_strbuf_putc(sb, ',');
        pvm_strbuf_puts(sb, strs[i]);
    }
    pvm_strbuf_putc(sb, '}');
}

static void print_matching(pvm_strbuf *sb, const pvm_vector_matching *m)
{
    bool group = m->card == PVM_CARD_MANY_TO_ONE ||
                 m->card == PVM_CARD_ONE_TO_MANY;
    if (m->labels.n > 0 || m->on || group) {
        pvm_strbuf_puts(sb, m->on ? " on (" : " ignoring (");
        put_labels(sb, &m->labels);
        pvm_strbuf_putc(sb, ')');
    }
    if (group) {
        pvm_strbuf_puts(sb, m->card == PVM_CARD_MANY_TO_ONE
                                ? " group_left ("
                                : " group_right (");
        put_labels(sb, &m->include);
        pvm_strbuf_putc(sb, ')');
    }
}

static void print_binary(pvm_strbuf *sb, const pvm_binary *b)
{
    /* "+Inf ^ 2" would read back as +(Inf ^ 2): drop the sign there. */
    if (b->op == PVM_OP_POW && b->lhs->kind == PVM_EXPR_NUMBER &&
        isinf(b->lhs->u.number.value) && b->lhs->u.number.value > 0)
        pvm_strbuf_puts(sb, "Inf");
    else
        print_expr(sb, b->lhs);
    pvm_strbuf_putc(sb, ' ');
    pvm_strbuf_puts(sb, pvm_binop_str(b->op));
    if (b->return_bool)
        pvm_strbuf_puts(sb, " bool");
    if (b->matching)
        print_matching(sb, b->matching);
    pvm_strbuf_putc(sb, ' ');
    print_expr(sb, b->rhs);
}

static void print_aggregate(pvm_strbuf *sb, const pvm_aggregate *ag)
{
    pvm_strbuf_puts(sb, pvm_aggr_op_str(ag->op));
    if (ag->without || ag->grouping.n > 0) {
        pvm_strbuf_puts(sb, ag->without ? " without (" : " by (");
        put_labels(sb, &ag->grouping);
        pvm_strbuf_puts(sb, ") ");
    }
    pvm_strbuf_putc(sb, '(');
    if (ag->param) {
        print_expr(sb, ag->param);
        pvm_strbuf_puts(sb, ", ");
    }
    print_expr(sb, ag->expr);
    pvm_strbuf_putc(sb, ')');
}

static void print_call(pvm_strbuf *sb, const pvm_call *c)
{
    pvm_strbuf_puts(sb, c->func->name);
    pvm_strbuf_putc(sb, '(');
    for (size_t i = 0; i < c->nargs; i++) {
        if (i > 0)
            pvm_strbuf_puts(sb, ", ");
        print_expr(sb, c->args[i]);
    }
    pvm_strbuf_putc(sb, ')');
}

static void print_subquery(pvm_strbuf *sb, const pvm_subquery *s)
{
    print_expr(sb, s->expr);
    pvm_strbuf_putc(sb, '[');
    put_duration(sb, s->range_ms);
    pvm_strbuf_putc(sb, ':');
    if (s->step_ms)
        put_duration(sb, s->step_ms);
    pvm_strbuf_putc(sb, ']');
    put_at(sb, s->at_kind, s->at_ms);
    put_offset(sb, s->offset_ms);
}

static void print_number(pvm_strbuf *sb, const pvm_expr *e)
{
    double v = e->u.number.value;
    if (e->u.number.is_duration && isfinite(v)) {
        if (v == 0 && signbit(v))
            pvm_strbuf_putc(sb, '-'); /* -0s */
        put_signed_duration(sb, llround(v * 1000.0));
    } else
        put_float(sb, v);
}

static void print_expr(pvm_strbuf *sb, const pvm_expr *e)
{
    const pvm_vector_selector *vs;
    switch (e->kind) {
    case PVM_EXPR_NUMBER: print_number(sb, e); break;
    case PVM_EXPR_STRING:
        pvm_strbuf_quote(sb, e->u.string.value, e->u.string.len, 0);
        break;
    case PVM_EXPR_VECTOR_SELECTOR:
    case PVM_EXPR_MATRIX_SELECTOR:
        vs = pvm_expr_vector_selector(e);
        put_selector_body(sb, vs);
        if (e->kind == PVM_EXPR_MATRIX_SELECTOR) {
            pvm_strbuf_putc(sb, '[');
            put_duration(sb, e->u.matrix.range_ms);
            pvm_strbuf_putc(sb, ']');
        }
        put_at(sb, vs->at_kind, vs->at_ms);
        put_offset(sb, vs->offset_ms);
        break;
    case PVM_EXPR_SUBQUERY: print_subquery(sb, &e->u.subquery); break;
    case PVM_EXPR_PAREN:
        pvm_strbuf_putc(sb, '(');
        print_expr(sb, e->u.paren.expr);
        pvm_strbuf_putc(sb, ')');
        break;
    case PVM_EXPR_UNARY:
        pvm_strbuf_puts(sb, pvm_binop_str(e->u.unary.op));
        print_expr(sb, e->u.unary.expr);
        break;
    case PVM_EXPR_BINARY: print_binary(sb, &e->u.binary); break;
    case PVM_EXPR_AGGREGATE: print_aggregate(sb, &e->u.aggregate); break;
    case PVM_EXPR_CALL: print_call(sb, &e->u.call); break;
    }
}

char *pvm_promql_format(pvm_arena *a, const pvm_expr *e)
{
    pvm_strbuf sb;
    pvm_strbuf_init(&sb, a);
    if (e)
        print_expr(&sb, e);
    else
        pvm_strbuf_puts(&sb, "");
    pvm_strbuf_puts(&sb, "");
    return sb.failed ? NULL : sb.buf;
}
