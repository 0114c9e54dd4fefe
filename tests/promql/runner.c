/* runner.c: runs promqltest scripts (Prometheus promql/promqltest) against
 * the engine: `load` blocks fill an in-memory store served through the
 * engine's fetch callback; `eval` commands (instant with the @-modifier
 * variants and the range-mode cross-check of test.go, range, the legacy
 * pvm_eval_fail/_warn/_info/_ordered forms and `expect` lines) are compared
 * with promqltest's float tolerance.
 *
 * Usage: runner [--experimental] [-v] [--own|--shared] [FILE|DIR]...
 * Without files: every .test file of tests/promql (--own; must all pass)
 * and the shared Prometheus scripts (--shared) in $PVM_PROMQLTEST_DIR,
 * else $PVM_SHARED_DIR/promqltest, else ../shared/promqltest next to the
 * source tree; without --own or --shared both. Any failure fails the exit
 * status. Shared scripts that are missing are reported on a "SKIP:" line
 * and counted as one skipped test; with --shared alone the exit status is
 * then 77 (automake's SKIP). Evals are skipped only for native histograms
 * and, in the shared scripts, experimental (feature-flagged) features. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "functions.h"
#include "runner.h"

#ifndef PVM_PROMQLTEST_DEFAULT_DIR
#define PVM_PROMQLTEST_DEFAULT_DIR "../shared/promqltest"
#endif
#ifndef PVM_PROMQL_OWN_DIR
#define PVM_PROMQL_OWN_DIR "tests/promql"
#endif

bool opt_experimental, opt_verbose;
int printed_failures;

/* ---- running --------------------------------------------------------- */

/* Parses and evaluates text; 0, or -1 with msgbuf holding the error. */
static int run(store *st, pvm_arena *a, const char *text, int64_t start,
               int64_t end, int64_t step, pvm_eval_result *res)
{
    pvm_error err;
    pvm_expr *e = pvm_promql_parse(a, text, strlen(text), &err);
    if (!e)
        return failf("%s", err.msg);
    pvm_eval_opts o = {
        .start = start,
        .end = end,
        .step = step,
        .max_samples = MAX_SAMPLES,
        .fetch = fetch,
        .fetch_ctx = st,
        .query = text,
        .query_len = strlen(text),
    };
    if (pvm_eval(a, e, &o, res, &err) < 0)
        return failf("%s", err.msg);
    return 0;
}

static bool unsafe_fn(int id)
{
    switch (id) {
    case PVM_FN_DAYS_IN_MONTH:
    case PVM_FN_DAY_OF_MONTH:
    case PVM_FN_DAY_OF_WEEK:
    case PVM_FN_DAY_OF_YEAR:
    case PVM_FN_END:
    case PVM_FN_HOUR:
    case PVM_FN_MINUTE:
    case PVM_FN_MONTH:
    case PVM_FN_YEAR:
    case PVM_FN_PREDICT_LINEAR:
    case PVM_FN_RANGE:
    case PVM_FN_START:
    case PVM_FN_STEP:
    case PVM_FN_TIME:
    case PVM_FN_TIMESTAMP: return true;
    default: return false;
    }
}

/* A copy of e with `@ ts` on every selector and outermost subquery that
 * has none (test.go's atModifierTestCases). *unsafe is set when e calls a
 * function whose result depends on the evaluation time. */
static pvm_expr *clone_at(pvm_arena *a, const pvm_expr *e, int64_t ts,
                          bool *unsafe)
{
    pvm_expr *c = pvm_arena_alloc(a, sizeof(*c));
    *c = *e;
    switch (e->kind) {
    case PVM_EXPR_VECTOR_SELECTOR:
        if (c->u.vs.at_kind == PVM_AT_NONE) {
            c->u.vs.at_kind = PVM_AT_TIMESTAMP;
            c->u.vs.at_ms = ts;
        }
        break;
    case PVM_EXPR_MATRIX_SELECTOR:
        c->u.matrix.vs = clone_at(a, e->u.matrix.vs, ts, unsafe);
        break;
    case PVM_EXPR_SUBQUERY:
        if (c->u.subquery.at_kind == PVM_AT_NONE) {
            c->u.subquery.at_kind = PVM_AT_TIMESTAMP;
            c->u.subquery.at_ms = ts;
        }
        break;
    case PVM_EXPR_PAREN:
        c->u.paren.expr = clone_at(a, e->u.paren.expr, ts, unsafe);
        break;
    case PVM_EXPR_UNARY:
        c->u.unary.expr = clone_at(a, e->u.unary.expr, ts, unsafe);
        break;
    case PVM_EXPR_BINARY:
        c->u.binary.lhs = clone_at(a, e->u.binary.lhs, ts, unsafe);
        c->u.binary.rhs = clone_at(a, e->u.binary.rhs, ts, unsafe);
        break;
    case PVM_EXPR_AGGREGATE:
        c->u.aggregate.expr = clone_at(a, e->u.aggregate.expr, ts, unsafe);
        if (e->u.aggregate.param)
            c->u.aggregate.param = clone_at(a, e->u.aggregate.param, ts,
                                            unsafe);
        break;
    case PVM_EXPR_CALL:
        *unsafe |= unsafe_fn(e->u.call.func->id);
        c->u.call.args = pvm_arena_alloc(a, (e->u.call.nargs + 1) *
                                                sizeof(pvm_expr *));
        for (size_t i = 0; i < e->u.call.nargs; i++)
            c->u.call.args[i] = clone_at(a, e->u.call.args[i], ts, unsafe);
        break;
    default: break;
    }
    return c;
}

static bool uses_experimental(const pvm_expr *e)
{
    switch (e->kind) {
    case PVM_EXPR_MATRIX_SELECTOR: return uses_experimental(e->u.matrix.vs);
    case PVM_EXPR_SUBQUERY: return uses_experimental(e->u.subquery.expr);
    case PVM_EXPR_PAREN: return uses_experimental(e->u.paren.expr);
    case PVM_EXPR_UNARY: return uses_experimental(e->u.unary.expr);
    case PVM_EXPR_BINARY:
        return uses_experimental(e->u.binary.lhs) ||
               uses_experimental(e->u.binary.rhs);
    case PVM_EXPR_AGGREGATE:
        return e->u.aggregate.op == PVM_AGGR_LIMITK ||
               e->u.aggregate.op == PVM_AGGR_LIMIT_RATIO ||
               uses_experimental(e->u.aggregate.expr) ||
               (e->u.aggregate.param &&
                uses_experimental(e->u.aggregate.param));
    case PVM_EXPR_CALL:
        if (e->u.call.func->experimental)
            return true;
        for (size_t i = 0; i < e->u.call.nargs; i++)
            if (uses_experimental(e->u.call.args[i]))
                return true;
        return false;
    default: return false;
    }
}

static bool context_fn(const char *s)
{
    static const char *f[] = {"start()", "end()", "range()", "step()"};
    for (size_t i = 0; i < 4; i++)
        if (strstr(s, f[i]))
            return true;
    return false;
}

/* test.go's runInstantQuery: the query at t, then in range mode. */
static int run_instant(store *st, evalcmd *ev, const char *text, int64_t t)
{
    pvm_arena *a = pvm_arena_new(QUERY_ARENA_CAP);
    pvm_eval_result r;
    int rc = run(st, a, text, t, t, 0, &r);
    if (rc < 0) {
        rc = expects_fail(ev) ? check_failure(ev, msgbuf) : -1;
        goto out;
    }
    if (expects_fail(ev)) {
        rc = failf("expected error evaluating query but got none");
        goto out;
    }
    if ((rc = check_annos(ev, &r)) < 0 || (rc = compare_result(ev, &r)) < 0)
        goto out;
    if (ev->exclude_range || context_fn(text) || ev->ordered ||
        has_kind(ev, 'o'))
        goto out;
    pvm_eval_result rr;
    if (run(st, a, text, t - 60000, t + 60000, 60000, &rr) < 0) {
        char tmp[1024];
        snprintf(tmp, sizeof(tmp), "%.1000s", msgbuf);
        rc = failf("range mode: %s", tmp);
        goto out;
    }
    pvm_result_series *v = pvm_arena_calloc(a, rr.nseries + 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < rr.nseries; i++)
        for (size_t j = 0; j < rr.series[i].npoints; j++)
            if (rr.series[i].points[j].t == t) {
                v[n] = rr.series[i];
                v[n].points = &rr.series[i].points[j];
                v[n++].npoints = 1;
                break;
            }
    if (r.type == PVM_VT_SCALAR) {
        if (!n || !almost(ev->exp[0].vals[0], v[0].points[0].v))
            rc = failf("range mode: expected scalar %.17g",
                       ev->exp[0].vals[0]);
    } else {
        rc = compare_vector(ev, v, n, false);
    }
    if (rc < 0) {
        char tmp[1024];
        snprintf(tmp, sizeof(tmp), "%.1000s", msgbuf);
        failf("range mode: %s", tmp);
    }
out:
    pvm_arena_free(a);
    return rc;
}

/* Runs one eval: 0 passed, -1 failed (msgbuf), 1 skipped (native
 * histograms), 2 skipped (experimental). */
static int exec_eval(store *st, evalcmd *ev, bool shared)
{
    if (ev->native)
        return 1;
    pvm_arena *a = pvm_arena_new(QUERY_ARENA_CAP);
    pvm_error err;
    pvm_expr *e = pvm_promql_parse(a, ev->expr, strlen(ev->expr), &err);
    int rc = 0;
    if (!e && shared &&
        (strstr(err.msg, "experimental") ||
         strstr(err.msg, "anchored modifier") ||
         strstr(err.msg, "smoothed modifier"))) {
        rc = 2;
        goto out;
    }
    if (e && shared && !opt_experimental && uses_experimental(e)) {
        rc = 2;
        goto out;
    }
    st->hit_hist = false;
    if (ev->range) {
        pvm_eval_result r;
        rc = run(st, a, ev->expr, ev->start, ev->end, ev->step, &r);
        if (rc < 0)
            rc = expects_fail(ev) ? check_failure(ev, msgbuf) : -1;
        else if (expects_fail(ev))
            rc = failf("expected error evaluating query but got none");
        else if ((rc = check_annos(ev, &r)) == 0)
            rc = compare_result(ev, &r);
        goto out;
    }
    int64_t t = ev->range_vector ? ev->end : ev->start;
    if ((rc = run_instant(st, ev, ev->expr, t)) < 0 || !e)
        goto out;
    bool unsafe = false;
    pvm_expr *c = clone_at(a, e, t, &unsafe);
    if (unsafe)
        goto out;
    char *text = pvm_promql_format(a, c);
    int64_t times[5] = {-10 * t, 0, t / 5, t, 10 * t};
    int64_t zero[3] = {-1000, 0, 1000};
    int64_t *tv = t ? times : zero;
    for (int i = 0; i < (t ? 5 : 3) && text; i++)
        if ((rc = run_instant(st, ev, text, tv[i])) < 0) {
            char tmp[1024];
            snprintf(tmp, sizeof(tmp), "%.1000s", msgbuf);
            failf("%s (as \"%s\" at %lld)", tmp, text, (long long)tv[i]);
            goto out;
        }
out:
    if (st->hit_hist)
        rc = 1;
    pvm_arena_free(a);
    return rc;
}

/* ---- files ----------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static void report_failure(const char *file, const evalcmd *ev)
{
    if (printed_failures++ >= MAX_FAIL_PRINT && !opt_verbose)
        return;
    fprintf(stdout, "  FAIL %s:%d: %.300s\n    %.600s\n", file, ev->line,
            ev->expr, msgbuf);
}

static void run_file(const char *path, bool shared, counts *total)
{
    size_t len;
    char *text = read_file(path, &len);
    counts c = {0};
    if (!text) {
        printf("%s: cannot read\n", path);
        total->failed++;
        return;
    }
    size_t nl = 1;
    for (size_t i = 0; i < len; i++)
        nl += text[i] == '\n';
    char **lines = malloc(nl * sizeof(*lines));
    int n = 0;
    for (char *s = text, *e; s; s = e) {
        e = strchr(s, '\n');
        if (e)
            *e++ = 0;
        char *t = trim(s);
        lines[n++] = *t == '#' ? t + strlen(t) : t;
    }
    store st = {.a = pvm_arena_new(0)};
    pvm_arena *pa = pvm_arena_new(0);
    for (int i = 0; i < n; i++) {
        if (!*lines[i])
            continue;
        char *why = NULL;
        if (!strncasecmp(lines[i], "clear", 5)) {
            pvm_arena_free(st.a);
            st = (store){.a = pvm_arena_new(0)};
        } else if (!strncasecmp(lines[i], "load", 4)) {
            int next = do_load(&st, lines, i, n, &why);
            if (next < 0) {
                printf("  %s:%d: bad load: %.200s\n", path, i + 1, why);
                c.failed++;
                break;
            }
            i = next - 1;
        } else if (!strncasecmp(lines[i], "eval", 4)) {
            evalcmd ev;
            int last = parse_eval(pa, lines, i, n, &ev, &why);
            if (last < 0) {
                printf("  %s:%d: bad eval: %.200s\n", path, i + 1, why);
                c.failed++;
                continue;
            }
            i = last;
            int rc = exec_eval(&st, &ev, shared);
            if (rc == 0)
                c.passed++;
            else if (rc == 1)
                c.skip_native++;
            else if (rc == 2)
                c.skip_exp++;
            else {
                c.failed++;
                report_failure(path, &ev);
            }
        } else {
            printf("  %s:%d: invalid command %.100s\n", path, i + 1, lines[i]);
            c.failed++;
        }
    }
    const char *base = strrchr(path, '/');
    printf("%s: %d passed, %d failed, %d skipped (native histograms: %d, "
           "experimental: %d)\n",
           base ? base + 1 : path, c.passed, c.failed,
           c.skip_native + c.skip_exp, c.skip_native, c.skip_exp);
    total->passed += c.passed;
    total->failed += c.failed;
    total->skip_native += c.skip_native;
    total->skip_exp += c.skip_exp;
    pvm_arena_free(st.a);
    pvm_arena_free(pa);
    free(lines);
    free(text);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs a file, or every *.test of a directory (sorted). Returns -1 when
 * the path does not exist. */
static int run_path(const char *path, bool shared, counts *total)
{
    DIR *d = opendir(path);
    if (!d) {
        FILE *f = fopen(path, "r");
        if (!f)
            return -1;
        fclose(f);
        run_file(path, shared, total);
        return 0;
    }
    char *names[512];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 512) {
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".test"))
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++) {
        char p[4096];
        snprintf(p, sizeof(p), "%s/%s", path, names[i]);
        run_file(p, shared, total);
        free(names[i]);
    }
    return 0;
}

/* Prints the counts; only the total carries the PVM-RESULT prefix that
 * test.sh sums, so the partial lines are not counted twice. */
static void print_result(const char *name, const counts *c, bool total)
{
    printf("%s%s: %d passed, %d failed, %d skipped (%d native histograms, "
           "%d experimental, %d missing)\n",
           total ? "PVM-RESULT: " : "", name, c->passed, c->failed,
           c->skip_native + c->skip_exp + c->skip_missing, c->skip_native,
           c->skip_exp, c->skip_missing);
}

/* The directory of the shared Prometheus scripts: $PVM_PROMQLTEST_DIR,
 * else $PVM_SHARED_DIR/promqltest, else the build's default. */
static const char *shared_dir(char *buf, size_t size)
{
    const char *dir = getenv("PVM_PROMQLTEST_DIR");
    const char *shared = getenv("PVM_SHARED_DIR");
    if (dir && *dir)
        return dir;
    if (shared && *shared) {
        snprintf(buf, size, "%s/promqltest", shared);
        return buf;
    }
    return PVM_PROMQLTEST_DEFAULT_DIR;
}

int main(int argc, char **argv)
{
    counts own = {0}, shared = {0};
    int nfiles = 0;
    bool want_own = false, want_shared = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--experimental"))
            opt_experimental = true;
        else if (!strcmp(argv[i], "-v"))
            opt_verbose = true;
        else if (!strcmp(argv[i], "--own"))
            want_own = true;
        else if (!strcmp(argv[i], "--shared"))
            want_shared = true;
        else {
            nfiles++;
            if (run_path(argv[i], false, &own) < 0) {
                printf("%s: not found\n", argv[i]);
                own.failed++;
            }
        }
    }
    if (!nfiles && !want_own && !want_shared)
        want_own = want_shared = true;
    if (want_own) {
        const char *own_dir = getenv("PVM_PROMQL_OWN_DIR");
        if (!own_dir || !*own_dir)
            own_dir = PVM_PROMQL_OWN_DIR;
        if (run_path(own_dir, false, &own) < 0) {
            printf("own tests: %s not found\n", own_dir);
            own.failed++;
        }
        print_result("promqltest-own", &own, false);
    }
    if (want_shared) {
        char buf[4096];
        const char *dir = shared_dir(buf, sizeof(buf));
        printf("-- shared promqltest scripts (%s) --\n", dir);
        if (run_path(dir, true, &shared) < 0) {
            printf("SKIP: shared promqltest scripts: %s not found (set "
                   "PVM_SHARED_DIR to the shared directory or "
                   "PVM_PROMQLTEST_DIR to the scripts)\n",
                   dir);
            shared.skip_missing++;
        }
        print_result("promqltest-shared", &shared, false);
    }
    counts all = own;
    all.passed += shared.passed;
    all.failed += shared.failed;
    all.skip_native += shared.skip_native;
    all.skip_exp += shared.skip_exp;
    all.skip_missing += shared.skip_missing;
    print_result("promqltest", &all, true);
    if (own.failed || shared.failed)
        return 1;
    return want_shared && !want_own && !nfiles && shared.skip_missing ? 77 : 0;
}
