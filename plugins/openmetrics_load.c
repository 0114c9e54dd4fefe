/* openmetrics_load.c: the loader of the openmetrics_file plugin (see
 * openmetrics_load.h): reads the whole file, parses it line by line into
 * interned label sets and columnar sample arrays, then trims the arrays
 * to their size. Errors carry the line number. */
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pvm/pvm.h>

#include "openmetrics_load.h"

#define POOL_BLOCK (256 * 1024) /* bytes per string pool block */

/* A pool of blocks freed all at once: interned strings, label arrays. */
struct pvm_om_pool_block {
    struct pvm_om_pool_block *next; /* older block */
    size_t used, size;              /* bytes used / usable in data */
    char data[];                    /* the bytes */
};

/* The loader's position, for error messages. */
struct loader {
    pvm_om_data *d;     /* being filled */
    const char *path;   /* for messages */
    int line;           /* current line number */
    bool unit_ms;       /* timestamps in ms instead of seconds */
    char *scratch;      /* unescaped label values, malloc'd */
    size_t scratch_cap; /* its size */
    pvm_error *err;     /* where errors go */
};

/* ---- pool and hash tables ------------------------------------------ */

static void *pool_alloc(struct pvm_om_pool_block **pool, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    struct pvm_om_pool_block *b = *pool;
    if (!b || b->size - b->used < n) {
        size_t size = n > POOL_BLOCK / 4 ? n : POOL_BLOCK;
        b = malloc(sizeof(*b) + size);
        if (!b)
            return NULL;
        b->size = size;
        b->used = 0;
        /* A big private block goes behind the current one, which keeps
         * being filled. */
        if (size == n && *pool) {
            b->next = (*pool)->next;
            (*pool)->next = b;
        } else {
            b->next = *pool;
            *pool = b;
        }
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

static void pool_free(struct pvm_om_pool_block *b)
{
    for (struct pvm_om_pool_block *next; b; b = next) {
        next = b->next;
        free(b);
    }
}

/* The loader's tables, made on first use. 0 or -1 (out of memory). */
static int load_tables(pvm_om_data *d)
{
    if (d->load_arena)
        return 0;
    d->load_arena = pvm_arena_new(0);
    if (!d->load_arena || pvm_hashmap_init(&d->strings, d->load_arena, 512) ||
        pvm_hashmap_init(&d->keys, d->load_arena, 512))
        return -1;
    return 0;
}

/* The interned copy of s[0..n), NULL when out of memory. */
static const char *intern(pvm_om_data *d, const char *s, size_t n)
{
    bool added;
    pvm_hashmap_slot *e = load_tables(d) < 0
                              ? NULL
                              : pvm_hashmap_put(&d->strings, s, n, &added);
    if (!e)
        return NULL;
    if (!added)
        return e->key;
    char *copy = pool_alloc(&d->pool, n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    e->key = copy;
    return copy;
}

/* Maps the key text to series idx. Keys live in the loader's arena,
 * freed with the key table once the file is loaded. */
static int key_add(pvm_om_data *d, const char *s, size_t n, uint32_t idx)
{
    bool added;
    pvm_hashmap_slot *e = load_tables(d) < 0
                              ? NULL
                              : pvm_hashmap_put(&d->keys, s, n, &added);
    if (!e)
        return -1;
    if (added) {
        char *k = pvm_arena_alloc(d->load_arena, n ? n : 1);
        if (!k)
            return -1;
        memcpy(k, s, n);
        e->key = k;
    }
    e->value = (void *)(uintptr_t)((size_t)idx + 1);
    return 0;
}

static pvm_om_series *key_get(pvm_om_data *d, const char *s, size_t n)
{
    if (!d->load_arena)
        return NULL;
    pvm_hashmap_slot *e = pvm_hashmap_get(&d->keys, s, n);
    return e ? &d->series[(uintptr_t)e->value - 1] : NULL;
}

/* ---- numbers ---------------------------------------------------------- */

static int load_error(struct loader *L, const char *fmt, ...) PVM_PRINTF(2, 3);
static int load_error(struct loader *L, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return pvm_error_set(L->err, PVM_ERR_BAD_DATA, "%s:%d: %s", L->path,
                         L->line, msg);
}

/* See openmetrics_load.h. */
int pvm_om_parse_timestamp(const char *s, size_t n, bool ms, int64_t *out)
{
    size_t i = 0, nd = 0;
    long point = -1, exp = 0;
    bool neg = false, any = false;
    char dig[40];
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    for (; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            any = true;
            if (nd == 0 && s[i] == '0' && point < 0)
                continue; /* leading zero */
            if (nd < sizeof(dig))
                dig[nd++] = s[i];
            else if (point < 0)
                return -2; /* too many digits */
        } else if (s[i] == '.' && point < 0 && !ms) {
            point = (long)nd;
        } else {
            break;
        }
    }
    if (!any)
        return -1;
    if (point < 0)
        point = (long)nd;
    if (i < n && (s[i] == 'e' || s[i] == 'E') && !ms) {
        char *end;
        char buf[8];
        if (n - i - 1 == 0 || n - i - 1 >= sizeof(buf))
            return n - i - 1 ? -2 : -1;
        memcpy(buf, s + i + 1, n - i - 1);
        buf[n - i - 1] = '\0';
        exp = strtol(buf, &end, 10);
        if (*end || end == buf)
            return -1;
        i = n;
    }
    if (i != n)
        return -1;
    long shift = point + exp + (ms ? 0 : 3); /* digits left of the ms point */
    int64_t v = 0;
    for (long k = 0; k < shift; k++) {
        int d = k < (long)nd ? dig[k] - '0' : 0;
        if (v > (INT64_MAX - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = neg ? -v : v;
    return 0;
}

/* Parses a sample value as Prometheus' text parser does (decimal floats,
 * NaN, +Inf, -Inf; no hex floats, no '_': pvm_parse_sample_value). */
static int parse_value(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return pvm_parse_sample_value(buf, out) < 0 ? -1 : 0;
}

/* ---- lines ------------------------------------------------------------ */

static bool is_name_char(char c, bool first, bool metric)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (metric && c == ':') || (!first && c >= '0' && c <= '9');
}

static size_t skip_blanks(const char *p, size_t i, size_t n)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i;
}

static int cmp_label(const void *a, const void *b)
{
    return strcmp(((const pvm_label *)a)->name, ((const pvm_label *)b)->name);
}

/* Reads a quoted label value at p[*i] (the opening quote) into the
 * loader's scratch, unescaping \\ \" \n (other escapes stay as they are,
 * as in Prometheus). Returns its length or -1. */
static long read_quoted(struct loader *L, const char *p, size_t *i, size_t n)
{
    size_t k = 0;
    for (size_t j = *i + 1; j < n; j++) {
        if (k + 2 > L->scratch_cap) {
            size_t cap = L->scratch_cap ? L->scratch_cap * 2 : 256;
            char *s = realloc(L->scratch, cap);
            if (!s)
                return load_error(L, "out of memory"), -1;
            L->scratch = s;
            L->scratch_cap = cap;
        }
        if (p[j] == '"') {
            *i = j + 1;
            return (long)k;
        }
        if (p[j] == '\\' && j + 1 < n) {
            char e = p[++j];
            if (e == 'n')
                L->scratch[k++] = '\n';
            else if (e == '\\' || e == '"')
                L->scratch[k++] = e;
            else
                L->scratch[k++] = '\\', L->scratch[k++] = e;
            continue;
        }
        L->scratch[k++] = p[j];
    }
    return load_error(L, "unterminated label value"), -1;
}

/* Parses the label block p[*i] == '{' ... '}' into labels (interned,
 * empty values dropped, sorted). */
static int parse_labels(struct loader *L, const char *p, size_t *i, size_t n,
                        pvm_label *labels, size_t *nl)
{
    size_t j = *i + 1;
    *nl = 0;
    for (;;) {
        j = skip_blanks(p, j, n);
        if (j < n && p[j] == '}')
            break;
        size_t s = j;
        while (j < n && is_name_char(p[j], j == s, false))
            j++;
        if (j == s)
            return load_error(L, "expected a label name or '}'");
        const char *name = intern(L->d, p + s, j - s);
        j = skip_blanks(p, j, n);
        if (j >= n || p[j] != '=')
            return load_error(L, "expected '=' after label name");
        j = skip_blanks(p, j + 1, n);
        if (j >= n || p[j] != '"')
            return load_error(L, "expected '\"' to start a label value");
        long vlen = read_quoted(L, p, &j, n);
        if (vlen < 0)
            return -1;
        const char *value = intern(L->d, L->scratch, (size_t)vlen);
        if (!name || !value)
            return load_error(L, "out of memory");
        if (strcmp(name, "__name__") == 0)
            return load_error(L, "label __name__ inside braces is not "
                                 "supported: write the metric name first");
        for (size_t k = 0; k < *nl; k++)
            if (labels[k].name == name)
                return load_error(L, "duplicate label name '%s'", name);
        if (vlen > 0) {
            if (*nl == PVM_OM_MAX_LABELS)
                return load_error(L, "more than %d labels", PVM_OM_MAX_LABELS);
            labels[(*nl)++] = (pvm_label){name, value};
        }
        j = skip_blanks(p, j, n);
        if (j < n && p[j] == ',')
            j++;
        else if (j >= n || p[j] != '}')
            return load_error(L, "expected ',' or '}' after label value");
    }
    *i = j + 1;
    qsort(labels, *nl, sizeof(*labels), cmp_label);
    return 0;
}

/* Index just past the '}' closing the label block at p[i] == '{', quotes
 * and escapes respected, or 0 when unterminated. */
static size_t block_end(const char *p, size_t i, size_t n)
{
    bool quoted = false;
    for (i++; i < n; i++) {
        if (quoted && p[i] == '\\')
            i++;
        else if (p[i] == '"')
            quoted = !quoted;
        else if (!quoted && p[i] == '}')
            return i + 1;
    }
    return 0;
}

/* Creates the series of a parsed name and label set. */
static pvm_om_series *series_new(struct loader *L, const char *name,
                                 const pvm_label *labels, size_t nl)
{
    pvm_om_data *d = L->d;
    if (d->nseries == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        pvm_om_series *s = realloc(d->series, cap * sizeof(*s));
        if (!s)
            return NULL;
        d->series = s;
        d->cap = cap;
    }
    pvm_label *copy = nl ? pool_alloc(&d->pool, nl * sizeof(*copy)) : NULL;
    if (nl && !copy)
        return NULL;
    if (nl)
        memcpy(copy, labels, nl * sizeof(*copy));
    pvm_om_series *s = &d->series[d->nseries++];
    *s = (pvm_om_series){.name = name, .labels = copy, .nlabels = nl};
    return s;
}

/* The series written as p[0..end) (name and label block): known by its
 * exact text, or by its canonical form (name and sorted labels, so that
 * another label order or spacing finds the same series), or new. */
static pvm_om_series *series_of(struct loader *L, const char *p,
                                size_t name_len, size_t end)
{
    pvm_om_series *s = key_get(L->d, p, end);
    if (s)
        return s;
    pvm_label labels[PVM_OM_MAX_LABELS];
    size_t nl = 0, i = name_len;
    if (i < end && parse_labels(L, p, &i, end, labels, &nl) < 0)
        return NULL;
    const char *name = intern(L->d, p, name_len);
    char canon[8192];
    size_t k = (size_t)snprintf(canon, sizeof(canon), "%c%s", 0, name);
    for (size_t j = 0; j < nl && k < sizeof(canon); j++)
        k += (size_t)snprintf(canon + k, sizeof(canon) - k, "%c%s%c%s", 0,
                              labels[j].name, 0, labels[j].value);
    if (!name || k >= sizeof(canon)) {
        load_error(L, name ? "label set too long" : "out of memory");
        return NULL;
    }
    s = key_get(L->d, canon, k);
    if (!s) {
        s = series_new(L, name, labels, nl);
        if (!s || key_add(L->d, canon, k, (uint32_t)(s - L->d->series)) < 0) {
            load_error(L, "out of memory");
            return NULL;
        }
    }
    if (key_add(L->d, p, end, (uint32_t)(s - L->d->series)) < 0) {
        load_error(L, "out of memory");
        return NULL;
    }
    return s;
}

static int series_append(struct loader *L, pvm_om_series *s, int64_t t,
                         double v)
{
    if (s->n && t <= s->ts[s->n - 1])
        return load_error(L,
                          "timestamp %lld ms is not after the previous "
                          "sample of %s (%lld ms): samples of a series "
                          "must be in increasing time order",
                          (long long)t, s->name, (long long)s->ts[s->n - 1]);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        int64_t *ts = realloc(s->ts, cap * sizeof(*ts));
        if (ts)
            s->ts = ts;
        double *vs = ts ? realloc(s->v, cap * sizeof(*vs)) : NULL;
        if (!vs)
            return load_error(L, "out of memory");
        s->v = vs;
        s->cap = cap;
    }
    s->ts[s->n] = t;
    s->v[s->n++] = v;
    L->d->nsamples++;
    return 0;
}

/* Token end: the next blank or the end of the line. */
static size_t token_end(const char *p, size_t i, size_t n)
{
    while (i < n && p[i] != ' ' && p[i] != '\t')
        i++;
    return i;
}

/* `name{labels} value timestamp [# exemplar]` */
static int parse_sample(struct loader *L, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && is_name_char(p[i], i == 0, true))
        i++;
    if (i == 0)
        return load_error(L, "expected a metric name");
    size_t name_len = i, end = i;
    if (i < n && p[i] == '{' && !(end = block_end(p, i, n)))
        return load_error(L, "unterminated label set");
    pvm_om_series *s = series_of(L, p, name_len, end);
    if (!s)
        return -1;
    i = skip_blanks(p, end, n);
    size_t ve = token_end(p, i, n);
    double v;
    if (i == end || parse_value(p + i, ve - i, &v) < 0)
        return load_error(L,
                          "expected a value after the series, got "
                          "'%.*s'",
                          (int)(ve - i), p + i);
    i = skip_blanks(p, ve, n);
    size_t te = token_end(p, i, n);
    if (i == ve || i == n || p[i] == '#')
        return load_error(L, "sample without a timestamp (this plugin "
                             "serves files with explicit timestamps)");
    int64_t t;
    int rc = pvm_om_parse_timestamp(p + i, te - i, L->unit_ms, &t);
    if (rc < 0)
        return load_error(L, "%s timestamp '%.*s'",
                          rc == -2 ? "out of range" : "invalid", (int)(te - i),
                          p + i);
    i = skip_blanks(p, te, n);
    if (i < n && p[i] != '#')
        return load_error(L, "unexpected '%.*s' after the timestamp",
                          (int)(n - i), p + i);
    return series_append(L, s, t, v);
}

/* The metadata entry of family name (len bytes), created when new. */
static pvm_om_meta *meta_of(struct loader *L, const char *name, size_t len)
{
    pvm_om_data *d = L->d;
    for (size_t i = 0; i < d->nmeta; i++)
        if (strlen(d->meta[i].name) == len &&
            memcmp(d->meta[i].name, name, len) == 0)
            return &d->meta[i];
    pvm_om_meta *v = realloc(d->meta, (d->nmeta + 1) * sizeof(*v));
    if (!v)
        return NULL;
    d->meta = v;
    pvm_om_meta *m = &v[d->nmeta];
    *m = (pvm_om_meta){.name = strndup(name, len)};
    if (!m->name)
        return NULL;
    d->nmeta++;
    return m;
}

/* HELP text unescaped: \\ \n and \" (OpenMetrics; the text format
 * escapes no quotes, which reads the same). */
static char *unescape_help(const char *p, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n &&
            (p[i + 1] == '\\' || p[i + 1] == 'n' || p[i + 1] == '"')) {
            i++;
            *o++ = p[i] == 'n' ? '\n' : p[i];
        } else {
            *o++ = p[i];
        }
    }
    *o = '\0';
    return out;
}

/* `# HELP name text`, `# TYPE name type`, `# UNIT name unit`; other
 * comments are ignored. */
static int parse_metadata(struct loader *L, const char *p, size_t n)
{
    if (n < 7 || (memcmp(p, "# HELP ", 7) && memcmp(p, "# TYPE ", 7) &&
                  memcmp(p, "# UNIT ", 7)))
        return 0;
    char kind = p[2];
    size_t i = 7, name_start = i;
    while (i < n && is_name_char(p[i], i == name_start, true))
        i++;
    if (i == name_start)
        return 0; /* not metadata of a metric: a comment */
    size_t name_len = i - name_start;
    if (i < n && p[i] == ' ')
        i++;
    const char *text = p + i;
    size_t tl = n - i;
    pvm_om_meta *m = meta_of(L, p + name_start, name_len);
    if (!m)
        return load_error(L, "out of memory");
    if (kind == 'T') {
        char word[16];
        /* a type no parser knows: served as unknown */
        m->type = PVM_METRIC_UNKNOWN;
        if (tl && tl < sizeof(word)) {
            memcpy(word, text, tl);
            word[tl] = '\0';
            pvm_metric_type_parse(word, &m->type);
        }
        return 0;
    }
    char *v = kind == 'H' ? unescape_help(text, tl) : strndup(text, tl);
    if (!v)
        return load_error(L, "out of memory");
    char **slot = kind == 'H' ? &m->help : &m->unit;
    free(*slot);
    *slot = v;
    return 0;
}

/* Parses the whole buffer, line by line. */
static int parse_buffer(struct loader *L, const char *buf, size_t len)
{
    bool eof = false;
    const char *p = buf, *end = buf + len;
    for (L->line = 1; p < end; L->line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *next = nl ? nl + 1 : end;
        if (n && p[n - 1] == '\r')
            n--;
        if (memchr(p, '\0', n))
            return load_error(L, "NUL byte in line");
        if (eof && n)
            return load_error(L, "content after # EOF");
        if (n == 5 && memcmp(p, "# EOF", 5) == 0)
            eof = true;
        else if (n && p[0] != '#' && parse_sample(L, p, n) < 0)
            return -1;
        else if (n && p[0] == '#' && parse_metadata(L, p, n) < 0)
            return -1;
        p = next;
    }
    return 0;
}

static int read_file(int fd, char **buf, size_t *len, off_t size)
{
    *buf = malloc((size_t)size + 1);
    if (!*buf)
        return -1;
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t r = read(fd, *buf + got, (size_t)size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    *len = got;
    return 0;
}

/* Once loaded: moves all samples into one timestamp and one value block
 * (16 bytes a sample, no per-array malloc overhead or slack) and frees
 * what only loading needed. Without memory for the blocks the per-series
 * arrays stay. */
static void data_trim(pvm_om_data *d)
{
    size_t n = d->nsamples ? d->nsamples : 1, off = 0;
    d->ts_block = malloc(n * sizeof(*d->ts_block));
    d->v_block = d->ts_block ? malloc(n * sizeof(*d->v_block)) : NULL;
    for (size_t i = 0; d->v_block && i < d->nseries; i++) {
        pvm_om_series *s = &d->series[i];
        memcpy(d->ts_block + off, s->ts, s->n * sizeof(*s->ts));
        memcpy(d->v_block + off, s->v, s->n * sizeof(*s->v));
        free(s->ts);
        free(s->v);
        s->ts = d->ts_block + off;
        s->v = d->v_block + off;
        s->cap = s->n;
        off += s->n;
    }
    if (!d->v_block) {
        free(d->ts_block);
        d->ts_block = NULL;
    }
    pvm_om_series *shrunk = realloc(d->series, (d->nseries ? d->nseries : 1) *
                                                   sizeof(*shrunk));
    if (shrunk) {
        d->series = shrunk;
        d->cap = d->nseries;
    }
    pvm_arena_free(d->load_arena);
    d->load_arena = NULL;
    d->keys = (pvm_hashmap){0};
    d->strings = (pvm_hashmap){0};
#ifdef __GLIBC__
    /* The freed growth arrays sit between live pool blocks: give their
     * pages back instead of leaving them resident. */
    malloc_trim(0);
#endif
}

/* Parses buf[0..len) into new data; NULL with err filled ("WHAT:LINE:
 * ..."). The shared end of pvm_om_load and pvm_om_parse. */
static pvm_om_data *parse_data(const char *buf, size_t len, const char *what,
                               bool unit_ms, pvm_error *err)
{
    pvm_om_data *d = calloc(1, sizeof(*d));
    struct loader L = {.d = d, .path = what, .unit_ms = unit_ms, .err = err};
    int rc = d ? parse_buffer(&L, buf, len) : -1;
    if (!d)
        pvm_error_set(err, PVM_ERR_INTERNAL, "%s: out of memory", what);
    free(L.scratch);
    if (rc < 0) {
        pvm_om_free(d);
        return NULL;
    }
    data_trim(d);
    if (pvm_om_index_names(d) < 0) {
        pvm_error_set(err, PVM_ERR_INTERNAL, "%s: out of memory", what);
        pvm_om_free(d);
        return NULL;
    }
    return d;
}

/* See openmetrics_load.h. */
pvm_om_data *pvm_om_parse(const char *buf, size_t len, const char *what,
                          bool unit_ms, pvm_error *err)
{
    return parse_data(buf, len, what, unit_ms, err);
}

/* See openmetrics_load.h. */
pvm_om_data *pvm_om_load(const char *path, bool unit_ms,
                         struct timespec *mtime, off_t *size, pvm_error *err)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) < 0) {
        pvm_error_set(err, PVM_ERR_BAD_DATA, "cannot open %s: %s", path,
                      strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    *mtime = sb.st_mtim;
    *size = sb.st_size;
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(fd, &buf, &len, sb.st_size);
    close(fd);
    if (rc < 0) {
        pvm_error_set(err, PVM_ERR_INTERNAL, "%s: out of memory", path);
        return NULL;
    }
    pvm_om_data *d = parse_data(buf, len, path, unit_ms, err);
    free(buf);
    return d;
}

void pvm_om_free(pvm_om_data *d)
{
    if (!d)
        return;
    for (size_t i = 0; !d->ts_block && i < d->nseries; i++) {
        free(d->series[i].ts);
        free(d->series[i].v);
    }
    free(d->ts_block);
    free(d->v_block);
    free(d->series);
    pvm_arena_free(d->load_arena);
    pvm_arena_free(d->index_arena);
    free(d->by_name);
    pool_free(d->pool);
    for (size_t i = 0; i < d->nmeta; i++) {
        free(d->meta[i].name);
        free(d->meta[i].help);
        free(d->meta[i].unit);
    }
    free(d->meta);
    free(d);
}

size_t pvm_om_bytes(const pvm_om_data *d)
{
    size_t n = sizeof(*d) + d->cap * sizeof(*d->series);
    for (size_t i = 0; i < d->nseries; i++)
        n += d->series[i].cap * (sizeof(int64_t) + sizeof(double));
    for (const struct pvm_om_pool_block *b = d->pool; b; b = b->next)
        n += sizeof(*b) + b->size;
    n += (d->strings.cap + d->keys.cap) * sizeof(pvm_hashmap_slot);
    n += d->names.cap * sizeof(pvm_hashmap_slot) +
         d->names.n * sizeof(struct pvm_om_name) +
         d->nseries * sizeof(*d->by_name);
    return n;
}
