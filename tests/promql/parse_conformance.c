/* parse_conformance.c: parses every query of the promqltest scripts
 * (the .test files of Prometheus promql/promqltest/testdata) with our
 * parser. Each
 * eval line (eval, pvm_eval_fail, eval_warn, eval_info, eval_ordered; instant
 * and range forms) must parse, except when its expected failure message or
 * regexp mentions a parse error: then it must fail to parse. Queries that
 * use language features behind Prometheus feature flags are skipped and
 * counted with the reason.
 *
 * Directory: $PVM_PROMQLTEST_DIR, else $PVM_SHARED_DIR/promqltest, else
 * PVM_PROMQLTEST_DEFAULT_DIR (../shared/promqltest next to the source
 * tree). Prints one line per file and ends with
 *   PVM-RESULT: promql-parse-conformance: P passed, F failed, S skipped
 * Exits 1 when something failed. A missing directory is reported on a
 * "SKIP:" line, counted as one skipped test, and exits 77 (automake's
 * SKIP). */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvm/arena.h>

#include "ast.h"

#ifndef PVM_PROMQLTEST_DEFAULT_DIR
#define PVM_PROMQLTEST_DEFAULT_DIR "../shared/promqltest"
#endif

/* Counts of one file or of the whole run. */
typedef struct counts {
    int passed;  /* parsed as expected */
    int failed;  /* parsed when it should not, or the reverse */
    int skipped; /* uses an unsupported (feature-flagged) construct */
} counts;

/* Reasons for skipping: a parser message fragment and its label. */
static const struct {
    const char *fragment; /* part of our error message */
    const char *reason;   /* printed reason */
} skip_reasons[] = {
    {"experimental duration expression", "duration expressions"},
    {"fill modifiers are experimental", "binop fill modifiers"},
    {"anchored modifier", "anchored modifier"},
    {"smoothed modifier", "smoothed modifier"},
};

/* The query of an eval line, or NULL when line is not one. */
static const char *eval_query(const char *line)
{
    static const char *const prefixes[] = {"eval ", "pvm_eval_fail ",
                                           "eval_warn ", "eval_info ",
                                           "eval_ordered "};
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(line, prefixes[i], strlen(prefixes[i])) == 0)
            rest = line + strlen(prefixes[i]);
    if (!rest)
        return NULL;
    char w[5][64];
    int n = 0;
    /* instant at T Q | range from T to T step D Q */
    if (sscanf(rest, "instant %63s %63s %n", w[0], w[1], &n) == 2 &&
        strcmp(w[0], "at") == 0)
        return rest + n;
    if (sscanf(rest, "range %63s %63s %63s %63s %63s %63s %n", w[0], w[1],
               w[2], w[3], w[4], w[4], &n) == 6)
        return rest + n;
    return NULL;
}

/* True when an expectation line after an eval says it fails to parse. */
static bool expects_parse_error(const char *line)
{
    while (*line == ' ' || *line == '\t')
        line++;
    bool fail_line = strncmp(line, "expect fail", 11) == 0 ||
                     strncmp(line, "expected_fail_message", 21) == 0 ||
                     strncmp(line, "expected_fail_regexp", 20) == 0;
    return fail_line && strstr(line, "parse error") != NULL;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Parses one query; updates c. */
static void run_query(const char *file, int lineno, const char *q,
                      bool want_fail, counts *c)
{
    pvm_arena *a = pvm_arena_new(0);
    pvm_error err;
    pvm_error_clear(&err);
    pvm_expr *e = a ? pvm_promql_parse(a, q, strlen(q), &err) : NULL;
    if (!e && !want_fail) {
        for (size_t i = 0; i < sizeof(skip_reasons) / sizeof(skip_reasons[0]);
             i++) {
            if (strstr(err.msg, skip_reasons[i].fragment)) {
                printf("%s:%d: skipped (%s): %s\n", file, lineno,
                       skip_reasons[i].reason, q);
                c->skipped++;
                pvm_arena_free(a);
                return;
            }
        }
    }
    if ((e != NULL) == !want_fail) {
        c->passed++;
    } else {
        c->failed++;
        printf("%s:%d: FAIL: %s\n    %s\n", file, lineno, q,
               e ? "parsed, but a parse error was expected" : err.msg);
    }
    pvm_arena_free(a);
}

/* Reads all lines of path (NULL-terminated array, caller frees). */
static char **read_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char **lines = NULL, buf[65536];
    size_t cap = 0;
    *n = 0;
    while (fgets(buf, sizeof(buf), f)) {
        if (*n + 1 >= cap) {
            cap = cap ? cap * 2 : 256;
            char **nl = realloc(lines, cap * sizeof(*nl));
            if (!nl)
                break;
            lines = nl;
        }
        chomp(buf);
        lines[(*n)++] = strdup(buf);
    }
    fclose(f);
    return lines;
}

static counts run_file(const char *dir, const char *name)
{
    counts c = {0, 0, 0};
    char path[4096];
    size_t n = 0;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    char **lines = read_lines(path, &n);
    if (!lines) {
        printf("%s: cannot read\n", name);
        c.failed++;
        return c;
    }
    for (size_t i = 0; i < n; i++) {
        const char *q = eval_query(lines[i]);
        if (!q)
            continue;
        bool want_fail = false;
        for (size_t j = i + 1;
             j < n && lines[j][0] != '\0' && strncmp(lines[j], "eval", 4) != 0;
             j++)
            want_fail |= expects_parse_error(lines[j]);
        run_query(name, (int)i + 1, q, want_fail, &c);
    }
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    printf("%s: %d parsed, %d failed, %d skipped\n", name, c.passed, c.failed,
           c.skipped);
    return c;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *dir = getenv("PVM_PROMQLTEST_DIR");
    const char *shared = getenv("PVM_SHARED_DIR");
    char buf[2048];
    if ((!dir || !*dir) && shared && *shared) {
        snprintf(buf, sizeof(buf), "%s/promqltest", shared);
        dir = buf;
    }
    if (!dir || !*dir)
        dir = PVM_PROMQLTEST_DEFAULT_DIR;
    DIR *d = opendir(dir);
    if (!d) {
        printf("SKIP: promqltest directory %s not found (set "
               "PVM_SHARED_DIR to the shared directory or "
               "PVM_PROMQLTEST_DIR to the scripts)\n",
               dir);
        printf("PVM-RESULT: promql-parse-conformance: 0 passed, 0 failed, "
               "1 skipped\n");
        return 77;
    }
    char *names[1024];
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d)) && nn < 1024) {
        size_t l = strlen(de->d_name);
        if (l > 5 && strcmp(de->d_name + l - 5, ".test") == 0)
            names[nn++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof(*names), cmp_names);
    counts total = {0, 0, 0};
    for (size_t i = 0; i < nn; i++) {
        counts c = run_file(dir, names[i]);
        total.passed += c.passed;
        total.failed += c.failed;
        total.skipped += c.skipped;
        free(names[i]);
    }
    printf("PVM-RESULT: promql-parse-conformance: %d passed, %d failed, %d "
           "skipped\n",
           total.passed, total.failed, total.skipped);
    return total.failed ? 1 : 0;
}
