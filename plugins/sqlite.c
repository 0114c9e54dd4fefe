/* sqlite.c: charts an SQLite database: the SQL core (sql_core.h) with a
 * driver that opens the database read-only once per worker, keeps the
 * few statements a worker runs prepared, binds every parameter and
 * interrupts a statement at its deadline (a progress handler). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include <pvm/pvm.h>

#include "sql_core.h"

/* Prepared statements kept per worker (the generated statement differs
 * with the request's matchers). */
#define CACHE 8

struct cached {
    char *sql;       /* the text, malloc'd */
    sqlite3_stmt *s; /* prepared */
    uint64_t used;   /* last use (a counter), for eviction */
};

/* Per-instance state. */
struct sqlite_plugin {
    pvm_sql_core core;          /* first: the core's keys point here */
    char *database;             /* `database =`, resolved */
    sqlite3 *db;                /* read-only connection, per worker */
    struct cached cache[CACHE]; /* prepared statements */
    uint64_t clock;             /* use counter */
    sqlite3_stmt *cur;          /* the running statement, or NULL */
    int64_t deadline;           /* CLOCK_MONOTONIC ms */
    bool interrupted;           /* the deadline stopped it */
};

#define SQ(field) offsetof(struct sqlite_plugin, field)

/* [plugin:NAME] keys (pvm/config.h); `type =` names the plugin type, so
 * the metric's type is `metric_type =`. */
static const pvm_plugin_key sqlite_keys[] = {
    {"database", PVM_KEY_PATH, SQ(database), .required = true,
     .doc = "the SQLite database, opened read-only"},
    PVM_SQL_CORE_KEYS,
    {NULL},
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the driver ---------------------------------------------------------- */

static void sqlite_placeholder(unsigned i, char *buf, size_t n)
{
    snprintf(buf, n, "?%u", i);
}

static int sqlite_connect(pvm_plugin *self, int64_t timeout_ms, pvm_error *err)
{
    (void)timeout_ms; /* opening a file does not wait */
    struct sqlite_plugin *st = pvm_plugin_state(self);
    int rc = sqlite3_open_v2(st->database, &st->db, SQLITE_OPEN_READONLY,
                             NULL);
    if (rc != SQLITE_OK)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "database %s: %s",
                             st->database,
                             st->db ? sqlite3_errmsg(st->db)
                                    : "out of memory");
    sqlite3_busy_timeout(st->db, 1000);
    return 0;
}

static void sqlite_close(pvm_plugin *self)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    for (size_t i = 0; i < CACHE; i++) {
        sqlite3_finalize(st->cache[i].s);
        free(st->cache[i].sql);
        st->cache[i] = (struct cached){0};
    }
    st->cur = NULL;
    sqlite3_close(st->db);
    st->db = NULL;
}

/* Prepares sql (exactly one read-only statement): 0 or an error. */
static int prepare(struct sqlite_plugin *st, const char *sql,
                   sqlite3_stmt **out, pvm_error *err)
{
    const char *tail = NULL;
    *out = NULL;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
                           &tail) != SQLITE_OK)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "%s",
                             sqlite3_errmsg(st->db));
    int rc = 0;
    if (!*out || tail[strspn(tail, " \t\r\n;")])
        rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                           "must be exactly one SELECT statement");
    else if (!sqlite3_stmt_readonly(*out))
        rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                           "must be a SELECT (it would write)");
    if (rc < 0) {
        sqlite3_finalize(*out);
        *out = NULL;
    }
    return rc;
}

/* Columns declared as character data have TEXT affinity (SQLite's
 * rule: the declared type contains CHAR, CLOB or TEXT). */
static bool is_text_type(const char *t)
{
    if (!t)
        return false;
    char up[64];
    size_t i = 0;
    for (; t[i] && i + 1 < sizeof(up); i++)
        up[i] = (char)(t[i] >= 'a' && t[i] <= 'z' ? t[i] - 32 : t[i]);
    up[i] = '\0';
    return strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT");
}

static int sqlite_describe(pvm_plugin *self, const char *sql, size_t nparams,
                           pvm_sql_column **cols, size_t *ncols,
                           pvm_error *err)
{
    (void)nparams;
    struct sqlite_plugin *st = pvm_plugin_state(self);
    sqlite3_stmt *s;
    if (prepare(st, sql, &s, err) < 0)
        return err->code;
    int n = sqlite3_column_count(s);
    *cols = calloc((size_t)n + 1, sizeof(**cols));
    *ncols = 0;
    int rc = *cols ? 0 : pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        const char *name = sqlite3_column_name(s, i);
        if (!name || !((*cols)[i].name = strdup(name))) {
            rc = pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
            break;
        }
        (*cols)[i].is_text = is_text_type(sqlite3_column_decltype(s, i));
        *ncols = (size_t)i + 1;
    }
    sqlite3_finalize(s);
    return rc;
}

/* sqlite3_progress_handler callback: interrupts the statement once the
 * deadline has passed. */
static int past_deadline(void *arg)
{
    struct sqlite_plugin *st = arg;
    if (now_ms() < st->deadline)
        return 0;
    st->interrupted = true;
    return 1;
}

/* The cached statement of sql, prepared when new (evicting the least
 * recently used). */
static sqlite3_stmt *cached(struct sqlite_plugin *st, const char *sql,
                            pvm_error *err)
{
    struct cached *lru = &st->cache[0];
    for (size_t i = 0; i < CACHE; i++) {
        struct cached *c = &st->cache[i];
        if (c->sql && strcmp(c->sql, sql) == 0) {
            c->used = ++st->clock;
            return c->s;
        }
        if (c->used < lru->used)
            lru = c;
    }
    sqlite3_stmt *s;
    char *copy = strdup(sql);
    if (!copy) {
        pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (prepare(st, sql, &s, err) < 0) {
        free(copy);
        return NULL;
    }
    sqlite3_finalize(lru->s);
    free(lru->sql);
    *lru = (struct cached){copy, s, ++st->clock};
    return s;
}

/* SQLite VM steps between two looks at the clock while a statement runs
 * (microseconds of work). */
#define DEADLINE_CHECK_STEPS 10000

static int sqlite_exec(pvm_plugin *self, const char *sql,
                       const pvm_sql_param *p, size_t n, int64_t timeout_ms,
                       pvm_error *err)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    sqlite3_stmt *s = cached(st, sql, err);
    if (!s)
        return err->code;
    for (size_t i = 0; i < n; i++) {
        int rc = p[i].kind == PVM_SQL_PARAM_NUMBER
                     ? sqlite3_bind_double(s, (int)i + 1, p[i].num)
                     : sqlite3_bind_text(s, (int)i + 1, p[i].text,
                                         (int)p[i].len, SQLITE_STATIC);
        if (rc != SQLITE_OK) {
            sqlite3_clear_bindings(s);
            return pvm_error_set(err, PVM_ERR_BAD_DATA, "%s",
                                 sqlite3_errmsg(st->db));
        }
    }
    st->cur = s;
    st->deadline = now_ms() + timeout_ms;
    st->interrupted = false;
    sqlite3_progress_handler(st->db, DEADLINE_CHECK_STEPS, past_deadline, st);
    return 0;
}

static int sqlite_step(pvm_plugin *self, pvm_error *err)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    int rc = sqlite3_step(st->cur);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_INTERRUPT && st->interrupted)
        return pvm_error_set(err, PVM_ERR_TIMEOUT, "interrupted");
    return pvm_error_set(err, PVM_ERR_BAD_DATA, "%s", sqlite3_errmsg(st->db));
}

static void sqlite_column(pvm_plugin *self, int col, bool as_text,
                          pvm_sql_value *v)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    int type = sqlite3_column_type(st->cur, col);
    *v = (pvm_sql_value){.kind = PVM_SQL_NULL};
    if (type == SQLITE_NULL)
        return;
    if (!as_text && (type == SQLITE_INTEGER || type == SQLITE_FLOAT)) {
        v->kind = PVM_SQL_NUMBER;
        v->num = sqlite3_column_double(st->cur, col);
        return;
    }
    const char *t = (const char *)sqlite3_column_text(st->cur, col);
    if (t) {
        v->kind = PVM_SQL_TEXT;
        v->text = t;
        v->len = (size_t)sqlite3_column_bytes(st->cur, col);
    }
}

static void sqlite_finish(pvm_plugin *self)
{
    struct sqlite_plugin *st = pvm_plugin_state(self);
    if (st->db)
        sqlite3_progress_handler(st->db, 0, NULL, NULL);
    if (st->cur) {
        sqlite3_reset(st->cur);
        sqlite3_clear_bindings(st->cur);
    }
    st->cur = NULL;
}

static const pvm_sql_driver sqlite_driver = {
    .name = "sqlite",
    .ident_quote = '"',
    .text_cast = "CAST(%s AS TEXT)",
    .placeholder = sqlite_placeholder,
    .connect = sqlite_connect,
    .close = sqlite_close,
    .is_broken = NULL, /* a file: failures are not the connection's */
    .describe = sqlite_describe,
    .exec = sqlite_exec,
    .step = sqlite_step,
    .column = sqlite_column,
    .finish = sqlite_finish,
};

static int sqlite_check(pvm_plugin *self, pvm_error *err)
{
    return pvm_sql_check(self, &sqlite_driver, err);
}

const pvm_plugin_type pvm_plugin_sqlite = {
    .name = "sqlite", /* `type = sqlite` */
    .description = "metrics from an SQL query on an SQLite database",
    .state_size = sizeof(struct sqlite_plugin), /* zeroed per instance */
    .configure = pvm_sql_configure,             /* metric_type */
    .check = sqlite_check,                      /* the core's settings */
    .destroy = pvm_sql_destroy, /* statements, connection, strings */
    PVM_SQL_HOOKS,              /* the core: queries, discovery, ... */
    .keys = sqlite_keys,        /* database, then the core's keys */
};
