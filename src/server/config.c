/* config.c: loads pvm.ini with inih (see config.h). [server] keys are
 * checked and parsed into pvm_server_config as they are read; every
 * section is also kept as an ordered key/value list with line numbers for
 * the plugin instances (registry.c). Errors name the file and the line:
 *     pvm.ini:12: [server] max_body_bytes: not a size: 'x'              */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <ini.h>

#include "config_server.h"
#include <pvm/hashmap.h>
#include "log.h"

#ifndef PVM_SYSCONFDIR
#define PVM_SYSCONFDIR "/etc"
#endif

/* Longest message part a setter writes ("not a size: '...'"). */
#define CONFIG_WHY_MAX 320

/* State of one parse, shared by the inih reader and handler. */
struct parse_state {
    pvm_config *cfg;  /* the config being built */
    const char *text; /* whole input */
    size_t len;       /* bytes in text */
    size_t pos;       /* offset of the next line to hand to inih */
    int line;         /* number of the line last handed to inih */
    long cur;         /* index of the current section, -1 before any */
    bool failed;      /* an error was recorded: stop reading */
    pvm_error err;    /* the first error */
    pvm_arena *arena; /* the parse's own memory (names) */
    pvm_idxmap names; /* the section names so far -> section index
                           (the duplicate check in O(1), not
                           O(sections)) */
};


/* Arrays of sections and entries grow by doubling without a capacity
 * field: an array of n elements has room for the next power of two (at
 * least 4), so it grows when n is 0, 4, 8, 16, ... (amortised O(1) per
 * key, not a copy of the whole array per key). */
static bool needs_growth(size_t n)
{
    return n == 0 || (n >= 4 && (n & (n - 1)) == 0);
}

static size_t grown(size_t n)
{
    return n ? 2 * n : 4;
}

static int parse_fail(struct parse_state *st, int code, const char *fmt, ...)
    PVM_PRINTF(3, 4);

/* Public functions */

const char *pvm_config_default_path(void)
{
    return PVM_SYSCONFDIR "/pvm/pvm.ini";
}

static pvm_config *config_parse(const char *text, size_t len, const char *name,
                                pvm_error *err);

/* Reads the whole file, then parses it as a string: config files are
 * small, and one reader serves both entry points. The file is opened
 * without blocking (a FIFO would wait for a writer) and must be a
 * regular file of at most PVM_CONFIG_MAX_BYTES (it may grow while read:
 * the read stops one byte past the cap). */
pvm_config *pvm_config_load(const char *path, pvm_error *err)
{
    pvm_config *c = NULL;
    char *buf = NULL;
    size_t len = 0;
    struct stat sb;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 || fstat(fd, &sb) < 0) {
        pvm_error_set(err, PVM_ERR_BAD_DATA, "cannot open %s: %s", path,
                      strerror(errno));
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        pvm_error_set(err, PVM_ERR_BAD_DATA,
                      "%s: not a regular file (it is a %s); give the path "
                      "of an INI file",
                      path,
                      S_ISDIR(sb.st_mode)    ? "directory"
                      : S_ISFIFO(sb.st_mode) ? "FIFO"
                      : S_ISSOCK(sb.st_mode) ? "socket"
                      : S_ISCHR(sb.st_mode)  ? "character device"
                      : S_ISBLK(sb.st_mode)  ? "block device"
                                             : "special file");
        goto out;
    }
    if (sb.st_size > PVM_CONFIG_MAX_BYTES)
        goto too_big;
    if (!(buf = malloc(PVM_CONFIG_MAX_BYTES + 1))) {
        pvm_error_set(err, PVM_ERR_INTERNAL, "cannot read %s: %s", path,
                      strerror(ENOMEM));
        goto out;
    }
    while (len <= PVM_CONFIG_MAX_BYTES) {
        ssize_t n = read(fd, buf + len, PVM_CONFIG_MAX_BYTES + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            pvm_error_set(err, PVM_ERR_BAD_DATA, "cannot read %s: %s", path,
                          strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > PVM_CONFIG_MAX_BYTES)
        goto too_big;
    c = config_parse(buf, len, path, err);
    goto out;
too_big:
    pvm_error_set(err, PVM_ERR_BAD_DATA,
                  "%s: too large (more than %d bytes): a configuration file "
                  "is a few kilobytes",
                  path, PVM_CONFIG_MAX_BYTES);
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return c;
}

pvm_config *pvm_config_load_string(const char *text, const char *name,
                                   pvm_error *err)
{
    return config_parse(text, strlen(text), name, err);
}

void pvm_config_free(pvm_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nsections; i++) {
        pvm_config_section *sec = &c->sections[i];
        for (size_t j = 0; j < sec->nentries; j++) {
            free(sec->entries[j].key);
            free(sec->entries[j].value);
        }
        free(sec->entries);
        free(sec->name);
    }
    free(c->sections);
    free(c->server.listen);
    free(c->server.api_url_prefix);
    free(c->server.metrics_path);
    free(c->server.trusted_proxies);
    free(c->server.trusted_proxies_text);
    free(c->path);
    free(c);
}

const pvm_config_section *pvm_config_section_find(const pvm_config *c,
                                                  const char *name)
{
    for (size_t i = 0; c && i < c->nsections; i++)
        if (strcmp(c->sections[i].name, name) == 0)
            return &c->sections[i];
    return NULL;
}

const char *pvm_config_get(const pvm_config *c, const char *section,
                           const char *key)
{
    const pvm_config_section *sec = pvm_config_section_find(c, section);
    if (!sec)
        return NULL;
    for (size_t j = sec->nentries; j-- > 0;)
        if (strcmp(sec->entries[j].key, key) == 0)
            return sec->entries[j].value;
    return NULL;
}

/* Digits, then at most one suffix. Overflow is an error. */

/* Parsing */

/* Records the first error as "FILE:LINE: message" and stops the parse. */
static int parse_fail(struct parse_state *st, int code, const char *fmt, ...)
{
    char msg[sizeof(st->err.msg)];
    va_list ap;
    if (st->failed)
        return -1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pvm_error_set(&st->err, code, "%s:%d: %s", st->cfg->path, st->line, msg);
    st->failed = true;
    return -1;
}

/* [A-Za-z0-9_.-]+ */
static bool is_plugin_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
            return false;
    return true;
}

/* pvm_idxmap equality: is section i of ctx (pvm_config_section[]) named
 * probe? */
static bool section_name_eq(const void *ctx, size_t i, const void *probe)
{
    return strcmp(((const pvm_config_section *)ctx)[i].name, probe) == 0;
}

/* Starts a section from a header line "[...]" (len bytes, no newline):
 * checks the name and that it is not a duplicate, appends it. */
static int section_start(struct parse_state *st, const char *hdr, size_t len)
{
    pvm_config *c = st->cfg;
    const char *close = memchr(hdr, ']', len);
    if (!close)
        return parse_fail(st, PVM_ERR_BAD_DATA,
                          "unterminated section header '%.*s' (missing ']')",
                          (int)len, hdr);
    if (close + 1 != hdr + len)
        return parse_fail(st, PVM_ERR_BAD_DATA,
                          "unexpected text after section header: '%.*s'",
                          (int)(hdr + len - close - 1), close + 1);
    size_t nlen = (size_t)(close - hdr - 1);
    char *name = strndup(hdr + 1, nlen);
    if (!name)
        return parse_fail(st, PVM_ERR_INTERNAL, "out of memory");
    if (strncmp(name, "plugin:", 7) == 0) {
        if (!is_plugin_name(name + 7)) {
            parse_fail(st, PVM_ERR_BAD_DATA,
                       "invalid plugin name '%s' in [%s] (use letters, "
                       "digits, '_', '.' and '-')",
                       name + 7, name);
            goto fail;
        }
    } else if (strcmp(name, "server") != 0) {
        parse_fail(st, PVM_ERR_BAD_DATA,
                   "unknown section [%s] (expected [server] or "
                   "[plugin:NAME])",
                   name);
        goto fail;
    }
    size_t at = pvm_idxmap_put(&st->names, pvm_hash_bytes(name, strlen(name)),
                               section_name_eq, c->sections, name,
                               c->nsections);
    if (at == PVM_IDXMAP_NONE) {
        parse_fail(st, PVM_ERR_INTERNAL, "out of memory");
        goto fail;
    }
    if (at != c->nsections) {
        parse_fail(st, PVM_ERR_BAD_DATA,
                   "duplicate section [%s] (first on line %d)", name,
                   c->sections[at].line);
        goto fail;
    }
    pvm_config_section *secs = c->sections;
    if (needs_growth(c->nsections)) {
        secs = realloc(secs, grown(c->nsections) * sizeof(*secs));
        if (!secs) {
            parse_fail(st, PVM_ERR_INTERNAL, "out of memory");
            goto fail;
        }
        c->sections = secs;
    }
    secs[c->nsections] = (pvm_config_section){.name = name, .line = st->line};
    st->cur = (long)c->nsections++;
    return 0;
fail:
    free(name);
    return -1;
}

/* The inih reader, fgets style: hands out one line of the input per call
 * and counts them, so st->line is the line inih parses next and the
 * handler runs for. It also does what Debian's libinih cannot be told to:
 *  - strips `;` and `#` comments (at the start or after whitespace) and
 *    leading whitespace, so indented lines are never continuation lines
 *    (multi-line values are not supported: such a line is a syntax error);
 *  - records section headers with their line (inih does not report
 *    sections, and empty ones must exist too);
 *  - rejects syntax errors and overlong lines at once, with a message.
 * Returns NULL at the end of input or after an error. */
static char *config_read_line(char *str, int num, void *stream)
{
    struct parse_state *st = stream;
    if (st->failed || st->pos >= st->len)
        return NULL;
    const char *p = st->text + st->pos;
    size_t avail = st->len - st->pos;
    const char *nl = memchr(p, '\n', avail);
    size_t len = nl ? (size_t)(nl - p) : avail;
    st->pos += nl ? len + 1 : len;
    st->line++;

    if (len && p[len - 1] == '\r')
        len--;
    if (memchr(p, '\0', len)) {
        parse_fail(st, PVM_ERR_BAD_DATA, "NUL byte in line");
        return NULL;
    }
    if (st->line == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3; /* UTF-8 byte order mark */
        len -= 3;
    }
    bool indented = len && (*p == ' ' || *p == '\t');
    while (len && (*p == ' ' || *p == '\t' || *p == '\f' || *p == '\v')) {
        p++;
        len--;
    }
    for (size_t i = 0; i < len; i++) {
        if ((p[i] == ';' || p[i] == '#') &&
            (i == 0 || p[i - 1] == ' ' || p[i - 1] == '\t')) {
            len = i;
            break;
        }
    }
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
        len--;
    if (num < 3 || len > (size_t)num - 3) {
        parse_fail(st, PVM_ERR_BAD_DATA,
                   "line too long (at most %d characters without comments)",
                   num - 3);
        return NULL;
    }
    if (len && *p == '[') {
        if (section_start(st, p, len) < 0)
            return NULL;
    } else if (len && !memchr(p, '=', len) && !memchr(p, ':', len)) {
        /* Only the first word: the line may be a `user NAME PASSWORD`
         * that lacks its '=', and messages must not show secrets. */
        size_t w = 0;
        while (w < len && p[w] != ' ' && p[w] != '\t')
            w++;
        parse_fail(st, PVM_ERR_BAD_DATA,
                   "syntax error: expected 'KEY = VALUE' or '[SECTION]', "
                   "got '%.*s%s'%s",
                   (int)w, p, w < len ? " ..." : "",
                   indented ? " (multi-line values are not supported)" : "");
        return NULL;
    }
    memcpy(str, p, len);
    str[len] = '\n';
    str[len + 1] = '\0';
    return str;
}

/* Sets one [server] key, or fails naming it. */
static int server_set(struct parse_state *st, const char *key,
                      const char *value)
{
    char why[CONFIG_WHY_MAX + 128];
    if (pvm_server_config_set(&st->cfg->server, key, value, why, sizeof(why)) <
        0)
        return parse_fail(st, PVM_ERR_BAD_DATA, "[server] %s", why);
    return 0;
}

/* Stores one KEY = VALUE of the current section (and applies it if the
 * section is [server]). 0 or -1 with the error recorded. */
static int config_entry(struct parse_state *st, const char *key,
                        const char *value)
{
    if (st->failed)
        return -1;
    /* A key with a blank is a line that lacks its '=' ("user alice
     * pw:x"): name only its first word, the rest may be a password. */
    size_t w = strcspn(key, " \t");
    if (st->cur < 0)
        return parse_fail(st, PVM_ERR_BAD_DATA,
                          "'%.*s%s' outside of a section (keys belong in "
                          "[server] or [plugin:NAME])",
                          (int)w, key, key[w] ? " ..." : "");
    pvm_config_section *sec = &st->cfg->sections[st->cur];
    if (!*key)
        return parse_fail(st, PVM_ERR_BAD_DATA, "[%s] empty key", sec->name);
    if (key[w])
        return parse_fail(st, PVM_ERR_BAD_DATA,
                          "[%s] '%.*s ...' is not a key (a key has no "
                          "blanks: is the '=' missing?)",
                          sec->name, (int)w, key);
    pvm_config_entry *e = sec->entries;
    if (needs_growth(sec->nentries)) {
        e = realloc(e, grown(sec->nentries) * sizeof(*e));
        if (!e)
            return parse_fail(st, PVM_ERR_INTERNAL, "out of memory");
        sec->entries = e;
    }
    e = &sec->entries[sec->nentries];
    e->key = strdup(key);
    e->value = strdup(value);
    e->line = st->line;
    if (!e->key || !e->value) {
        free(e->key);
        free(e->value);
        return parse_fail(st, PVM_ERR_INTERNAL, "out of memory");
    }
    sec->nentries++;
    if (strcmp(sec->name, "server") == 0)
        return server_set(st, key, value);
    return 0;
}

/* The inih handler: the one place where inih's "nonzero is success"
 * meets our "0 is success". Sections are tracked by the reader, so the
 * section argument (which inih truncates to 49 bytes) is not used. */
static int config_handler(void *user, const char *section, const char *name,
                          const char *value)
{
    (void)section;
    return config_entry(user, name, value) == 0;
}

static pvm_config *config_parse(const char *text, size_t len, const char *name,
                                pvm_error *err)
{
    struct parse_state st = {.text = text, .len = len, .cur = -1};
    int rc;
    pvm_config *c = calloc(1, sizeof(*c));
    if (!c)
        goto oom;
    st.cfg = c;
    st.arena = pvm_arena_new(0);
    if (!st.arena || pvm_idxmap_init(&st.names, st.arena, 16) < 0)
        goto oom;
    pvm_server_config_defaults(&c->server);
    c->path = strdup(name);
    c->server.api_url_prefix = strdup("");
    c->server.metrics_path = strdup("/metrics");
    if (!c->path || !c->server.api_url_prefix || !c->server.metrics_path)
        goto oom;

    /* Debian's libinih takes its line buffer settings at run time: a heap
     * buffer of PVM_CONFIG_MAX_LINE bytes, so long values (SQL queries of
     * the sqlite plugin) fit. */
    ini_use_stack = false;
    ini_initial_alloc = PVM_CONFIG_MAX_LINE;
    ini_max_line = PVM_CONFIG_MAX_LINE;
    rc = ini_parse_stream(config_read_line, &st, config_handler, &st);
    if (!st.failed && rc > 0) {
        /* Not expected: the reader rejects what inih would. */
        st.line = rc;
        parse_fail(&st, PVM_ERR_BAD_DATA, "syntax error");
    } else if (!st.failed && rc < 0) {
        goto oom;
    }
    pvm_arena_free(st.arena);
    if (st.failed) {
        if (err)
            *err = st.err;
        pvm_config_free(c);
        return NULL;
    }
    return c;
oom:
    pvm_arena_free(st.arena);
    pvm_config_free(c);
    pvm_error_set(err, PVM_ERR_INTERNAL, "cannot load %s: %s", name,
                  strerror(ENOMEM));
    return NULL;
}
