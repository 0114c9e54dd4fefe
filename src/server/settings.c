/* settings.c: the typed setters of declarative plugin settings (see
 * pvm/config.h), and the one yes/no grammar and name validators of the
 * project. The registry applies a plugin type's key table with them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pvm/config.h>
#include <pvm/plugin.h>

#include "config.h"
#include "form.h"
#include "labels.h"
#include "params.h"
#include "registry.h"

int pvm_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, 0;
    }
    return PVM_ERR_BAD_DATA;
}

/* [a-zA-Z_:][a-zA-Z0-9_:]*: a legacy label name where ':' may also be. */
bool pvm_is_metric_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == ':'))
            return false;
    return true;
}

/* The server's own check (form.c), so that settings and requests agree. */
bool pvm_is_label_name(const char *s)
{
    return pvm_label_name_is_legacy(s, strlen(s));
}

char *pvm_path_resolve(const char *base, const char *path)
{
    const char *slash = base ? strrchr(base, '/') : NULL;
    char *out = NULL;
    int rc;
    if (path[0] == '/')
        rc = asprintf(&out, "%s", path);
    else if (!slash && strncmp(path, "file:", 5) == 0)
        rc = asprintf(&out, "./%s", path); /* never read as a URI */
    else if (!slash)
        rc = asprintf(&out, "%s", path);
    else
        rc = asprintf(&out, "%.*s/%s", (int)(slash - base), base, path);
    return rc < 0 ? NULL : out;
}

const pvm_plugin_key *pvm_plugin_key_find(const pvm_plugin_key *keys,
                                          const char *key)
{
    for (; keys && keys->name; keys++)
        if (strcmp(keys->name, key) == 0)
            return keys;
    return NULL;
}

static bool is_string(pvm_key_type t)
{
    return t == PVM_KEY_STRING || t == PVM_KEY_PATH ||
           t == PVM_KEY_METRIC_NAME || t == PVM_KEY_LABEL_NAME;
}

/* "an integer from 1 to 100", "a duration of at least 1ms", ... */
static void range_text(const pvm_plugin_key *k, const char *what, char *buf,
                       size_t n)
{
    char lo[32], hi[32];
    if (k->type == PVM_KEY_DURATION) {
        pvm_format_duration(lo, sizeof(lo), k->min);
        pvm_format_duration(hi, sizeof(hi), k->max);
    } else {
        snprintf(lo, sizeof(lo), "%lld", (long long)k->min);
        snprintf(hi, sizeof(hi), "%lld", (long long)k->max);
    }
    if (k->max > 0)
        snprintf(buf, n, "%s from %s to %s", what, lo, hi);
    else if (k->min > 0)
        snprintf(buf, n, "%s of at least %s", what, lo);
    else
        snprintf(buf, n, "%s", what);
}

static int bad(pvm_error *err, const pvm_plugin_key *k, const char *value)
{
    char what[160];
    switch (k->type) {
    case PVM_KEY_STRING:
        if (k->max > 0)
            snprintf(what, sizeof(what), "a text of 1 to %lld bytes",
                     (long long)k->max);
        else
            snprintf(what, sizeof(what), "a non-empty text");
        break;
    case PVM_KEY_BOOL:
        snprintf(what, sizeof(what), "yes or no (true/false, on/off, 1/0)");
        break;
    case PVM_KEY_INT: range_text(k, "an integer", what, sizeof(what)); break;
    case PVM_KEY_SIZE:
        range_text(k, "a size (digits with k, M or G)", what, sizeof(what));
        break;
    case PVM_KEY_DURATION:
        range_text(k, "a duration (like 1m30s)", what, sizeof(what));
        break;
    case PVM_KEY_ENUM: {
        char list[128];
        snprintf(what, sizeof(what), "one of %s",
                 pvm_plugin_key_type_text(k, list, sizeof(list)) + 7);
        break;
    }
    case PVM_KEY_METRIC_NAME:
        snprintf(what, sizeof(what),
                 "a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
        break;
    case PVM_KEY_LABEL_NAME:
        snprintf(what, sizeof(what), "a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
        break;
    case PVM_KEY_PATH: snprintf(what, sizeof(what), "a file path"); break;
    case PVM_KEY_FLOAT: snprintf(what, sizeof(what), "a number"); break;
    default: snprintf(what, sizeof(what), "a valid value");
    }
    if (k->secret)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "must be %s (value not shown: a secret)", what);
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "must be %s, not '%s'", what,
                         value);
}

/* A signed decimal integer, whole string. 0 or -1. */
static int parse_int(const char *s, int64_t *out)
{
    char *end;
    if (!*s || (*s != '-' && *s != '+' && (*s < '0' || *s > '9')))
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static bool in_range(const pvm_plugin_key *k, int64_t v)
{
    return v >= k->min && (k->max <= 0 || v <= k->max);
}

/* Stores a string (or appends it to the list) at field. */
static int store_string(const pvm_plugin_key *k, void *field, char *s,
                        pvm_error *err)
{
    if (!s)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    if (!k->repeat) {
        char **dst = field;
        free(*dst);
        *dst = s;
        return 0;
    }
    pvm_key_list *l = field;
    char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
    if (!v) {
        free(s);
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    }
    l->v = v;
    l->v[l->n++] = s;
    return 0;
}

int pvm_plugin_key_set(const pvm_plugin_key *k, void *state, const char *value,
                       const char *base, pvm_error *err)
{
    void *field = (char *)state + k->offset;
    int64_t i;
    switch (k->type) {
    case PVM_KEY_CUSTOM: return 0;
    case PVM_KEY_STRING:
        if (!*value || (k->max > 0 && (int64_t)strlen(value) > k->max))
            return bad(err, k, value);
        return store_string(k, field, strdup(value), err);
    case PVM_KEY_METRIC_NAME:
    case PVM_KEY_LABEL_NAME:
        if (k->type == PVM_KEY_METRIC_NAME ? !pvm_is_metric_name(value)
                                           : !pvm_is_label_name(value))
            return bad(err, k, value);
        return store_string(k, field, strdup(value), err);
    case PVM_KEY_PATH:
        if (!*value)
            return bad(err, k, value);
        return store_string(k, field, pvm_path_resolve(base, value), err);
    case PVM_KEY_BOOL:
        if (pvm_parse_bool(value, field) < 0)
            return bad(err, k, value);
        return 0;
    case PVM_KEY_INT:
        if (parse_int(value, &i) < 0 || !in_range(k, i))
            return bad(err, k, value);
        *(int64_t *)field = i;
        return 0;
    case PVM_KEY_SIZE: {
        size_t size;
        if (pvm_config_parse_size(value, &size) < 0 ||
            (size > INT64_MAX ? k->max > 0 : !in_range(k, (int64_t)size)))
            return bad(err, k, value);
        *(size_t *)field = size;
        return 0;
    }
    case PVM_KEY_DURATION:
        if (pvm_parse_prom_duration(value, strlen(value), &i) < 0 ||
            !in_range(k, i))
            return bad(err, k, value);
        *(int64_t *)field = i;
        return 0;
    case PVM_KEY_FLOAT: {
        char *end;
        errno = 0;
        double x = strtod(value, &end);
        if (end == value || *end || errno == ERANGE || !isfinite(x))
            return bad(err, k, value);
        *(double *)field = x;
        return 0;
    }
    case PVM_KEY_ENUM:
        for (int c = 0; k->choices && k->choices[c]; c++)
            if (strcmp(k->choices[c], value) == 0)
                return *(int *)field = c, 0;
        return bad(err, k, value);
    }
    return bad(err, k, value);
}

void pvm_plugin_keys_free(const pvm_plugin_key *keys, void *state)
{
    for (; state && keys && keys->name; keys++) {
        if (!is_string(keys->type))
            continue;
        void *field = (char *)state + keys->offset;
        if (keys->repeat) {
            pvm_key_list *l = field;
            for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
            free(l->v);
            *l = (pvm_key_list){0};
        } else {
            free(*(char **)field);
            *(char **)field = NULL;
        }
    }
}

const char *pvm_plugin_key_type_text(const pvm_plugin_key *k, char *buf,
                                     size_t n)
{
    static const char *const names[] = {
        [PVM_KEY_STRING] = "string",
        [PVM_KEY_BOOL] = "bool",
        [PVM_KEY_INT] = "integer",
        [PVM_KEY_SIZE] = "size",
        [PVM_KEY_DURATION] = "duration",
        [PVM_KEY_ENUM] = "one of",
        [PVM_KEY_METRIC_NAME] = "metric name",
        [PVM_KEY_LABEL_NAME] = "label name",
        [PVM_KEY_PATH] = "path",
        [PVM_KEY_CUSTOM] = "text",
        [PVM_KEY_FLOAT] = "number",
    };
    size_t len = (size_t)snprintf(buf, n, "%s", names[k->type]);
    for (int c = 0; k->type == PVM_KEY_ENUM && k->choices && k->choices[c];
         c++) {
        if (len >= n)
            break;
        len += (size_t)snprintf(buf + len, n - len, "%s%s", c ? "|" : " ",
                                k->choices[c]);
    }
    return buf;
}

/* "(required)", "(default yes)", "(repeatable)", bounds: the part of a
 * --describe line after the type. */
static void describe_key(FILE *f, const pvm_plugin_key *k)
{
    char type[160];
    fprintf(f, "  %s = %s", k->name,
            pvm_plugin_key_type_text(k, type, sizeof(type)));
    if (k->type == PVM_KEY_INT || k->type == PVM_KEY_SIZE ||
        k->type == PVM_KEY_DURATION) {
        char range[160];
        range_text(k, "", range, sizeof(range));
        fputs(range, f);
    } else if (k->type == PVM_KEY_STRING && k->max > 0) {
        fprintf(f, " of at most %lld bytes", (long long)k->max);
    }
    if (k->required)
        fputs(" (required)", f);
    if (k->def && !k->secret)
        fprintf(f, " (default %s)", k->def);
    if (k->secret)
        fputs(" (secret: never logged)", f);
    if (k->repeat)
        fputs(" (repeatable)", f);
    fprintf(f, "\n      %s\n", k->doc ? k->doc : "");
}

void pvm_plugin_describe(FILE *f, const pvm_plugin_type *t)
{
    fprintf(f, "%s: %s\n", t->name, t->description ? t->description : "");
    if (!t->keys && !t->configure)
        fputs("  (no settings)\n", f);
    else if (!t->keys)
        fputs("  (settings not declared: see its documentation)\n", f);
    for (const pvm_plugin_key *k = t->keys; k && k->name; k++)
        describe_key(f, k);
}

char *pvm_secret_file_read(const char *path, pvm_error *err)
{
    enum { MAX_SECRET = 64 * 1024 };
    FILE *f = fopen(path, "rb");
    if (!f) {
        pvm_error_set(err, PVM_ERR_BAD_DATA, "cannot read secret file %s: %s",
                      path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_SECRET + 1);
    if (!buf) {
        fclose(f);
        pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    size_t n = fread(buf, 1, MAX_SECRET + 1, f);
    int failed = ferror(f);
    fclose(f);
    const char *why = failed           ? "read error"
                      : n > MAX_SECRET ? "larger than 64 KiB"
                                       : NULL;
    while (!why && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (!why && n == 0)
        why = "empty";
    if (!why && memchr(buf, '\0', n))
        why = "contains a NUL byte";
    if (why) {
        memset(buf, 0, MAX_SECRET + 1);
        free(buf);
        pvm_error_set(err, PVM_ERR_BAD_DATA, "secret file %s: %s", path, why);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

void pvm_secret_free(char *secret)
{
    if (!secret)
        return;
    /* volatile: the wipe must not be optimised away before free. */
    for (volatile char *p = secret; *p; p++)
        *p = 0;
    free(secret);
}
