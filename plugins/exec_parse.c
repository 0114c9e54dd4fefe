/* exec_parse.c: the byte parsers of the exec plugin (see exec.h): the
 * command line split into words without a shell, env_file, and the value
 * lines of discovery answers. Each is fuzzed (tests/fuzz/fuzz_exec.c). */
#include <stdlib.h>
#include <string.h>

#include <pvm/pvm.h>

#include "exec.h"

/* A growing word. */
struct word {
    char *s;       /* malloc'd */
    size_t n, cap; /* bytes used / allocated */
};

static int word_put(struct word *w, char c)
{
    if (w->n + 2 > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        char *s = realloc(w->s, cap);
        if (!s)
            return -1;
        w->s = s;
        w->cap = cap;
    }
    w->s[w->n++] = c;
    w->s[w->n] = '\0';
    return 0;
}

void pvm_exec_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}

static int split_fail(char **argv, struct word *w, pvm_error *err,
                      const char *msg)
{
    free(w->s);
    pvm_exec_argv_free(argv);
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "%s", msg);
}

/* Ends the current word: moves it into argv. */
static int word_end(char **argv, size_t *argc, struct word *w)
{
    if (*argc == PVM_EXEC_MAX_ARGS)
        return -2;
    if (!w->s && word_put(w, 'x') == 0)
        w->n = 0, w->s[0] = '\0'; /* an empty word ('' or "") */
    if (!w->s)
        return -1;
    argv[(*argc)++] = w->s;
    argv[*argc] = NULL;
    *w = (struct word){0};
    return 0;
}

/* See exec.h. */
int pvm_exec_split_command(const char *cmd, size_t len, char ***out,
                           pvm_error *err)
{
    char **argv = calloc(PVM_EXEC_MAX_ARGS + 1, sizeof(*argv));
    struct word w = {0};
    size_t argc = 0;
    bool in_word = false;
    if (!argv)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0; i < len; i++) {
        char c = cmd[i];
        int rc = 0;
        if (c == '\0')
            return split_fail(argv, &w, err, "NUL byte in command");
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word && (rc = word_end(argv, &argc, &w)) < 0)
                return split_fail(argv, &w, err,
                                  rc == -2 ? "more than 256 words"
                                           : "out of memory");
            in_word = false;
            continue;
        }
        in_word = true;
        if (c == '\'') {
            const char *q = memchr(cmd + i + 1, '\'', len - i - 1);
            if (!q)
                return split_fail(argv, &w, err, "unterminated ' quote");
            if (!w.s && word_put(&w, 'x') == 0)
                w.n = 0, w.s[0] = '\0';
            for (i++; rc == 0 && cmd + i < q; i++)
                rc = cmd[i] ? word_put(&w, cmd[i]) : -3;
        } else if (c == '"') {
            if (!w.s && word_put(&w, 'x') == 0)
                w.n = 0, w.s[0] = '\0';
            for (i++; rc == 0 && i < len && cmd[i] != '"'; i++) {
                if (cmd[i] == '\\' && i + 1 < len &&
                    (cmd[i + 1] == '"' || cmd[i + 1] == '\\'))
                    i++;
                rc = cmd[i] ? word_put(&w, cmd[i]) : -3;
            }
            if (rc == 0 && i >= len)
                return split_fail(argv, &w, err, "unterminated \" quote");
        } else if (c == '\\') {
            if (i + 1 >= len)
                return split_fail(argv, &w, err, "trailing backslash");
            i++;
            rc = cmd[i] ? word_put(&w, cmd[i]) : -3;
        } else {
            rc = word_put(&w, c);
        }
        if (rc < 0 || (!w.s))
            return split_fail(argv, &w, err,
                              rc == -3 ? "NUL byte in command"
                                       : "out of memory");
    }
    int rc = in_word ? word_end(argv, &argc, &w) : 0;
    if (rc < 0)
        return split_fail(argv, &w, err,
                          rc == -2 ? "more than 256 words" : "out of memory");
    if (argc == 0 || argv[0][0] == '\0')
        return split_fail(argv, &w, err, "empty command");
    *out = argv;
    return (int)argc;
}

/* See exec.h. */
bool pvm_exec_is_env_name(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* See exec.h. */
int pvm_exec_parse_env(const char *text, size_t len, const char *what,
                       int (*add)(void *arg, char *entry), void *arg,
                       pvm_error *err)
{
    const char *p = text, *end = text + len;
    for (int line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *next = nl ? nl + 1 : end;
        if (n && p[n - 1] == '\r')
            n--;
        size_t b = 0;
        while (b < n && (p[b] == ' ' || p[b] == '\t'))
            b++;
        if (b == n || p[b] == '#') {
            p = next;
            continue;
        }
        if (memchr(p, '\0', n))
            return pvm_error_set(err, PVM_ERR_BAD_DATA, "%s:%d: NUL byte",
                                 what, line);
        const char *eq = memchr(p, '=', n);
        if (!eq || !pvm_exec_is_env_name(p, (size_t)(eq - p)))
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "%s:%d: expected NAME=VALUE with NAME "
                                 "of letters, digits and _",
                                 what, line);
        char *entry = strndup(p, n);
        if (!entry)
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        if (add(arg, entry) < 0)
            return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        p = next;
    }
    return 0;
}

/* See exec.h. */
int pvm_exec_parse_values(const char *buf, size_t len,
                          int (*fn)(void *arg, const char *value), void *arg,
                          pvm_error *err)
{
    const char *p = buf, *end = buf + len;
    char small[256], *scratch = small;
    size_t cap = sizeof(small);
    bool eof = false;
    int rc = 0;
    for (int line = 1; p < end && rc >= 0; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *next = nl ? nl + 1 : end;
        if (n && p[n - 1] == '\r')
            n--;
        if (memchr(p, '\0', n))
            rc = pvm_error_set(err, PVM_ERR_BAD_DATA, "line %d: NUL byte",
                               line);
        else if (eof && n)
            rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                               "line %d: content after # EOF", line);
        else if (n == strlen(PVM_EXEC_TERMINATOR) &&
                 memcmp(p, PVM_EXEC_TERMINATOR, n) == 0)
            eof = true;
        else if (n) {
            if (n + 1 > cap) {
                char *s = malloc(n + 1);
                if (!s) {
                    rc = pvm_error_set(err, PVM_ERR_NOMEM, "out of memory");
                    break;
                }
                if (scratch != small)
                    free(scratch);
                scratch = s;
                cap = n + 1;
            }
            memcpy(scratch, p, n);
            scratch[n] = '\0';
            rc = fn(arg, scratch);
        }
        p = next;
    }
    if (scratch != small)
        free(scratch);
    return rc;
}
