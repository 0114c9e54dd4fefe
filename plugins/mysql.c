/* mysql.c: charts a MariaDB or MySQL database through MariaDB
 * Connector/C: the `mysql` driver of the SQL core (plugins/sql_core.h),
 * which owns the settings of the query, the pushdown and the hooks. This
 * file connects (host/port or socket, user, password_file, TLS), prepares
 * the statements the core generates (kept in a small cache, so a
 * dashboard's repeated queries are prepared once per worker), binds the
 * parameters (never spliced into the text), bounds each statement by
 * max_statement_time (MariaDB) or max_execution_time (MySQL) and reads
 * the rows in the binary protocol. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <pvm/calendar.h>
#include <pvm/pvm.h>

#include "sql_core.h"

#define STMT_CACHE 8       /* prepared statements kept per worker */
#define TEXT_BUF_START 256 /* first buffer of a text column, grows */

/* MySQL 5.7+: a SELECT past max_execution_time (MariaDB has 1969). */
#ifndef ER_QUERY_TIMEOUT
#define ER_QUERY_TIMEOUT 3024
#endif

/* How a result column is fetched (the binary protocol's types). */
enum col_kind {
    COL_INT,    /* integers and YEAR: long long */
    COL_UINT,   /* unsigned integers: unsigned long long */
    COL_DOUBLE, /* DOUBLE */
    COL_FLOAT,  /* FLOAT: read as float, given as its shortest decimal */
    COL_TIME,   /* DATE, DATETIME, TIMESTAMP: MYSQL_TIME, UTC */
    COL_BITS,   /* BIT(n): big-endian bytes, a number */
    COL_TEXT,   /* everything else (DECIMAL included) as text */
};

/* A result column's buffers. */
struct col {
    enum col_kind kind; /* how it is fetched */
    long long i;        /* INT, UINT */
    double d;           /* DOUBLE */
    float f;            /* FLOAT */
    MYSQL_TIME tm;      /* TIME */
    char *buf;          /* TEXT, BITS: malloc'd, cap bytes */
    unsigned long cap;  /* size of buf */
    unsigned long len;  /* bytes of the current value */
    my_bool is_null;    /* the current value is NULL */
    my_bool error;      /* truncated: buf is too small */
};

/* A prepared statement of the cache. */
struct pstmt {
    char *sql;        /* the text it was prepared from, malloc'd (NULL:
                         the slot is free) */
    MYSQL_STMT *s;    /* prepared */
    unsigned ncols;   /* result columns */
    struct col *cols; /* their buffers, malloc'd */
    MYSQL_BIND *res;  /* their binds, malloc'd */
    uint64_t used;    /* tick of the last use (least recently used goes) */
};

/* Per-instance state; the core's part first (its key offsets). */
struct mysql_plugin {
    pvm_sql_core core;              /* query, metrics, pushdown: the core's */
    char *host;                     /* `host =`, or NULL: the socket */
    int64_t port;                   /* `port =`, 0: 3306 */
    char *socket;                   /* `socket =` path, or NULL */
    char *database;                 /* `database =` */
    char *user;                     /* `user =`, or NULL: the login name */
    char *password_file;            /* `password_file =` path, or NULL */
    int tls;                        /* `tls =`: TLS_* */
    char *tls_ca;                   /* `tls_ca =` path, or NULL */
    char *tls_cert;                 /* `tls_cert =` path, or NULL */
    char *tls_key;                  /* `tls_key =` path, or NULL */
    int64_t connect_ms;             /* `connect_timeout =` */
    int64_t io_ms;                  /* `io_timeout =` */
    MYSQL *db;                      /* the connection, per worker, or NULL */
    bool mariadb;                   /* MariaDB (max_statement_time) or MySQL */
    unsigned last_errno;            /* of the last failure (is_broken) */
    struct pstmt cache[STMT_CACHE]; /* prepared statements */
    uint64_t tick;                  /* use counter of the cache */
    struct pstmt *cur;              /* the statement running, or NULL */
    MYSQL_BIND *pbind;              /* parameter binds, malloc'd */
    unsigned long *plen;            /* their lengths */
    size_t pcap;                    /* room in pbind and plen */
    char num[64];                   /* text form of the current value */
};

enum { TLS_NO, TLS_YES, TLS_VERIFY };
static const char *const tls_choices[] = {"no", "yes", "verify", NULL};

/* ---- connecting ------------------------------------------------------------ */

/* The connection error of db as err (Connector/C's messages name the
 * host or socket and the user, never the password). */
static int db_error(struct mysql_plugin *st, const char *what, pvm_error *err)
{
    st->last_errno = st->db ? mysql_errno(st->db) : CR_SERVER_GONE_ERROR;
    return pvm_error_set(err, PVM_ERR_EXECUTION, "%s: %s", what,
                         st->db ? mysql_error(st->db) : "not connected");
}

/* Closes a cached statement (on the server too, when connected) and
 * frees its buffers; the slot is free again. */
static void pstmt_free(struct pstmt *p)
{
    if (p->s)
        mysql_stmt_close(p->s);
    for (unsigned c = 0; p->cols && c < p->ncols; c++)
        free(p->cols[c].buf);
    free(p->cols);
    free(p->res);
    free(p->sql);
    memset(p, 0, sizeof(*p));
}

static void cache_clear(struct mysql_plugin *st)
{
    for (size_t i = 0; i < STMT_CACHE; i++)
        pstmt_free(&st->cache[i]);
    st->cur = NULL;
}

/* driver close: the statements, then the connection. */
static void mysql_drv_close(pvm_plugin *self)
{
    struct mysql_plugin *st = pvm_plugin_state(self);
    cache_clear(st);
    if (st->db)
        mysql_close(st->db);
    st->db = NULL;
}

/* Options of a connection before it opens: timeouts (the connect
 * timeout at most limit_ms when > 0: Connector/C counts whole seconds, so
 * a request with less than one second left may wait up to one), character
 * set, UTC for TIMESTAMP columns, read-only transactions, TLS. */
static void set_options(struct mysql_plugin *st, int64_t limit_ms)
{
    int64_t c_ms = limit_ms > 0 && limit_ms < st->connect_ms ? limit_ms
                                                             : st->connect_ms;
    unsigned connect_s = (unsigned)((c_ms + 999) / 1000);
    unsigned io_s = (unsigned)((st->io_ms + 999) / 1000);
    mysql_options(st->db, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(st->db, MYSQL_OPT_READ_TIMEOUT, &io_s);
    mysql_options(st->db, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
    mysql_options(st->db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* TIMESTAMP values arrive in the session's zone: UTC; a statement
     * that would write fails (each runs in its own read-only
     * transaction) */
    mysql_options(st->db, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
    mysql_options(st->db, MYSQL_INIT_COMMAND,
                  "SET SESSION TRANSACTION READ ONLY");
    if (st->tls == TLS_NO)
        return;
    my_bool on = 1, verify = st->tls == TLS_VERIFY;
    mysql_options(st->db, MYSQL_OPT_SSL_ENFORCE, &on);
    /* explicit both ways: newer Connector/C versions verify by default */
    mysql_options(st->db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    if (st->tls_ca)
        mysql_options(st->db, MYSQL_OPT_SSL_CA, st->tls_ca);
    if (st->tls_cert)
        mysql_options(st->db, MYSQL_OPT_SSL_CERT, st->tls_cert);
    if (st->tls_key)
        mysql_options(st->db, MYSQL_OPT_SSL_KEY, st->tls_key);
}

/* driver connect: one connection with the instance's settings; the
 * password is read from its file for each connect and wiped at once. */
static int mysql_drv_connect(pvm_plugin *self, int64_t timeout_ms,
                             pvm_error *err)
{
    struct mysql_plugin *st = pvm_plugin_state(self);
    char *password = NULL;
    mysql_drv_close(self);
    if (st->password_file &&
        !(password = pvm_secret_file_read(st->password_file, err)))
        return err->code;
    if (!(st->db = mysql_init(NULL))) {
        pvm_secret_free(password);
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    }
    set_options(st, timeout_ms);
    const char *host = st->socket ? "localhost" : st->host;
    bool ok = mysql_real_connect(st->db, host, st->user, password,
                                 st->database, (unsigned)st->port, st->socket,
                                 0) != NULL;
    pvm_secret_free(password);
    if (!ok) {
        db_error(st, "connect", err);
        mysql_close(st->db);
        st->db = NULL;
        return err->code;
    }
    st->mariadb = strstr(mysql_get_server_info(st->db), "MariaDB") != NULL;
    st->last_errno = 0;
    return 0;
}

/* driver is_broken: the last failure lost the connection. */
static bool mysql_drv_is_broken(pvm_plugin *self)
{
    const struct mysql_plugin *st = pvm_plugin_state(self);
    switch (st->last_errno) {
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SSL_CONNECTION_ERROR: /* a TLS connection cut ("unexpected eof
                                     while reading") */
    case ER_CONNECTION_KILLED:
    case ER_SERVER_SHUTDOWN: return true;
    default: return false;
    }
}

/* driver placeholder: MariaDB's are positional. */
static void mysql_drv_placeholder(unsigned i, char *buf, size_t n)
{
    (void)i;
    snprintf(buf, n, "?");
}

/* ---- statements ------------------------------------------------------------ */

/* The error of statement s as err: a timeout for max_statement_time or
 * a KILL QUERY, the server's message otherwise. */
static int stmt_error(struct mysql_plugin *st, MYSQL_STMT *s, pvm_error *err)
{
    unsigned e = mysql_stmt_errno(s);
    const char *msg = mysql_stmt_error(s);
    if (!e) { /* some failures are recorded on the connection only */
        e = mysql_errno(st->db);
        msg = mysql_error(st->db);
    }
    st->last_errno = e;
    if (e == ER_STATEMENT_TIMEOUT || e == ER_QUERY_TIMEOUT ||
        e == ER_QUERY_INTERRUPTED)
        return pvm_error_set(err, PVM_ERR_TIMEOUT,
                             "the statement was cancelled on the server "
                             "after its time (max_statement_time)");
    return pvm_error_set(err, PVM_ERR_EXECUTION, "%s (error %u)",
                         msg && *msg ? msg : "statement failed", e);
}

static void bind_col(MYSQL_BIND *b, struct col *k)
{
    memset(b, 0, sizeof(*b));
    b->is_null = &k->is_null;
    b->error = &k->error;
    b->length = &k->len;
    switch (k->kind) {
    case COL_INT:
    case COL_UINT:
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->buffer = &k->i;
        b->is_unsigned = k->kind == COL_UINT;
        break;
    case COL_DOUBLE:
        b->buffer_type = MYSQL_TYPE_DOUBLE;
        b->buffer = &k->d;
        break;
    case COL_FLOAT:
        b->buffer_type = MYSQL_TYPE_FLOAT;
        b->buffer = &k->f;
        break;
    case COL_TIME:
        b->buffer_type = MYSQL_TYPE_DATETIME;
        b->buffer = &k->tm;
        break;
    case COL_BITS:
    case COL_TEXT:
        b->buffer_type = MYSQL_TYPE_STRING;
        b->buffer = k->buf;
        b->buffer_length = k->cap - 1; /* room for a NUL */
        break;
    }
}

/* How a column of type f is fetched. */
static enum col_kind col_kind_of(const MYSQL_FIELD *f)
{
    switch (f->type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR:
        return (f->flags & UNSIGNED_FLAG) ? COL_UINT : COL_INT;
    case MYSQL_TYPE_DOUBLE: return COL_DOUBLE;
    case MYSQL_TYPE_FLOAT: return COL_FLOAT;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP: return COL_TIME;
    case MYSQL_TYPE_BIT: return COL_BITS;
    default: return COL_TEXT;
    }
}

/* Prepares sql into slot p: the statement and its column buffers. */
static int pstmt_prepare(struct mysql_plugin *st, struct pstmt *p,
                         const char *sql, pvm_error *err)
{
    MYSQL_RES *md = NULL;
    if (!(p->s = mysql_stmt_init(st->db)))
        return db_error(st, "prepare", err);
    if (mysql_stmt_prepare(p->s, sql, strlen(sql)))
        return stmt_error(st, p->s, err);
    if (!(md = mysql_stmt_result_metadata(p->s)))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "must be a SELECT (the statement returns no "
                             "rows)");
    p->ncols = mysql_num_fields(md);
    const MYSQL_FIELD *f = mysql_fetch_fields(md);
    p->cols = calloc(p->ncols, sizeof(*p->cols));
    p->res = calloc(p->ncols, sizeof(*p->res));
    int rc = p->cols && p->res && (p->sql = strdup(sql)) ? 0 : -1;
    for (unsigned i = 0; rc == 0 && i < p->ncols; i++) {
        struct col *k = &p->cols[i];
        k->kind = col_kind_of(&f[i]);
        if (k->kind == COL_TEXT || k->kind == COL_BITS) {
            k->cap = TEXT_BUF_START;
            if (!(k->buf = malloc(k->cap)))
                rc = -1;
        }
        bind_col(&p->res[i], k);
    }
    mysql_free_result(md);
    if (rc < 0)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    return 0;
}

/* The prepared statement of sql: from the cache, or prepared into the
 * least recently used slot. NULL with err. */
static struct pstmt *pstmt_get(struct mysql_plugin *st, const char *sql,
                               pvm_error *err)
{
    struct pstmt *lru = &st->cache[0];
    for (size_t i = 0; i < STMT_CACHE; i++) {
        struct pstmt *p = &st->cache[i];
        if (p->sql && strcmp(p->sql, sql) == 0) {
            p->used = ++st->tick;
            return p;
        }
        if (p->used < lru->used)
            lru = p;
    }
    pstmt_free(lru); /* evicted, or already free */
    if (pstmt_prepare(st, lru, sql, err) < 0) {
        pstmt_free(lru);
        return NULL;
    }
    lru->used = ++st->tick;
    return lru;
}

/* Whether a column of type t holds character (or byte) strings: the
 * core compares them with bound values as they are (with BINARY on the
 * value: exact, and the column's index still serves). */
static bool is_character_data(enum enum_field_types t)
{
    switch (t) {
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
    case MYSQL_TYPE_ENUM:
    case MYSQL_TYPE_SET:
    case MYSQL_TYPE_JSON: return true;
    default: return false;
    }
}

/* A column's name as MariaDB sends it, and whether it is character data
 * (the core then compares it as it is). */
static int describe_cols(MYSQL_RES *md, pvm_sql_column **cols, size_t *ncols)
{
    unsigned n = mysql_num_fields(md);
    const MYSQL_FIELD *f = mysql_fetch_fields(md);
    *ncols = 0;
    if (!(*cols = calloc(n ? n : 1, sizeof(**cols))))
        return -1;
    for (unsigned i = 0; i < n; i++) {
        if (!((*cols)[i].name = strdup(f[i].name)))
            return -1;
        (*ncols)++;
        (*cols)[i].is_text = is_character_data(f[i].type);
    }
    return 0;
}

/* driver describe: prepares sql (the server checks it, nothing runs) and
 * reports its columns. */
static int mysql_drv_describe(pvm_plugin *self, const char *sql,
                              size_t nparams, pvm_sql_column **cols,
                              size_t *ncols, pvm_error *err)
{
    struct mysql_plugin *st = pvm_plugin_state(self);
    struct pstmt *p = pstmt_get(st, sql, err);
    if (!p)
        return err->code;
    if (mysql_stmt_param_count(p->s) != nparams)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "write parameters as :start, :end, :step or "
                             ":lookback (the statement has %lu '?')",
                             mysql_stmt_param_count(p->s));
    MYSQL_RES *md = mysql_stmt_result_metadata(p->s);
    int rc = md ? describe_cols(md, cols, ncols) : -1;
    if (md)
        mysql_free_result(md);
    if (rc < 0) {
        pvm_sql_columns_free(*cols, *ncols);
        *cols = NULL;
        *ncols = 0;
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    }
    return 0;
}

/* Sets the session's statement time limit before an execute: MariaDB's
 * max_statement_time (seconds, microsecond precision; it stops every
 * statement) or MySQL's max_execution_time (ms, SELECTs). */
static int set_timeout(struct mysql_plugin *st, int64_t timeout_ms,
                       pvm_error *err)
{
    char sql[96];
    if (timeout_ms < 1)
        timeout_ms = 1;
    if (st->mariadb)
        snprintf(sql, sizeof(sql), "SET max_statement_time = %lld.%03lld",
                 (long long)(timeout_ms / 1000),
                 (long long)(timeout_ms % 1000));
    else
        snprintf(sql, sizeof(sql), "SET max_execution_time = %lld",
                 (long long)timeout_ms);
    if (mysql_real_query(st->db, sql, strlen(sql)))
        return db_error(st, "setting the statement timeout", err);
    return 0;
}

/* Makes room for n parameter binds. */
static int params_room(struct mysql_plugin *st, size_t n)
{
    if (n <= st->pcap)
        return 0;
    MYSQL_BIND *b = realloc(st->pbind, n * sizeof(*b));
    if (b)
        st->pbind = b;
    unsigned long *l = realloc(st->plen, n * sizeof(*l));
    if (l)
        st->plen = l;
    if (!b || !l)
        return -1;
    st->pcap = n;
    return 0;
}

/* driver exec: the statement with its parameters bound, bounded by
 * timeout_ms on the server; rows are then streamed by step. */
static int mysql_drv_exec(pvm_plugin *self, const char *sql,
                          const pvm_sql_param *params, size_t n,
                          int64_t timeout_ms, pvm_error *err)
{
    struct mysql_plugin *st = pvm_plugin_state(self);
    st->cur = NULL;
    if (!st->db) {
        st->last_errno = CR_SERVER_GONE_ERROR;
        return pvm_error_set(err, PVM_ERR_EXECUTION, "not connected");
    }
    struct pstmt *p = pstmt_get(st, sql, err);
    if (!p)
        return err->code;
    if (params_room(st, n) < 0)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    if (mysql_stmt_param_count(p->s) != n)
        return pvm_error_set(err, PVM_ERR_INTERNAL,
                             "%zu parameters for %lu placeholders", n,
                             mysql_stmt_param_count(p->s));
    if (n) /* pbind is NULL until a statement has parameters */
        memset(st->pbind, 0, n * sizeof(*st->pbind));
    for (size_t i = 0; i < n; i++) {
        MYSQL_BIND *b = &st->pbind[i];
        if (params[i].kind == PVM_SQL_PARAM_TEXT) {
            b->buffer_type = MYSQL_TYPE_STRING;
            b->buffer = (void *)params[i].text;
            b->buffer_length = st->plen[i] = params[i].len;
            b->length = &st->plen[i];
        } else {
            b->buffer_type = MYSQL_TYPE_DOUBLE;
            b->buffer = (void *)&params[i].num;
        }
    }
    if (set_timeout(st, timeout_ms, err) < 0)
        return err->code;
    if ((n && mysql_stmt_bind_param(p->s, st->pbind)) ||
        mysql_stmt_execute(p->s) || mysql_stmt_bind_result(p->s, p->res)) {
        int rc = stmt_error(st, p->s, err);
        mysql_stmt_free_result(p->s);
        mysql_stmt_reset(p->s);
        return rc;
    }
    st->cur = p;
    return 0;
}

/* Refetches the truncated text columns of the current row into bigger
 * buffers (kept for the next rows). */
static int refetch_truncated(struct mysql_plugin *st, struct pstmt *p,
                             pvm_error *err)
{
    for (unsigned i = 0; i < p->ncols; i++) {
        struct col *k = &p->cols[i];
        if (!k->error || (k->kind != COL_TEXT && k->kind != COL_BITS))
            continue;
        char *nb = realloc(k->buf, k->len + 1);
        if (!nb)
            return pvm_error_set(err, PVM_ERR_NOMEM, PVM_MSG_TOO_MUCH_MEMORY);
        k->buf = nb;
        k->cap = k->len + 1;
        bind_col(&p->res[i], k);
        if (mysql_stmt_fetch_column(p->s, &p->res[i], i, 0))
            return stmt_error(st, p->s, err);
        k->error = 0;
    }
    if (mysql_stmt_bind_result(p->s, p->res))
        return stmt_error(st, p->s, err);
    return 0;
}

/* driver step: the next row, 1; 0 at the end. */
static int mysql_drv_step(pvm_plugin *self, pvm_error *err)
{
    struct mysql_plugin *st = pvm_plugin_state(self);
    struct pstmt *p = st->cur;
    if (!p)
        return 0;
    int rc = mysql_stmt_fetch(p->s);
    if (rc == 0)
        return 1;
    if (rc == MYSQL_NO_DATA)
        return 0;
    if (rc == MYSQL_DATA_TRUNCATED)
        return refetch_truncated(st, p, err) < 0 ? err->code : 1;
    return stmt_error(st, p->s, err);
}

/* driver finish: drops what is left of the result (the server stops
 * sending) and resets the statement for its next run. */
static void mysql_drv_finish(pvm_plugin *self)
{
    struct mysql_plugin *st = pvm_plugin_state(self);
    if (!st->cur)
        return;
    mysql_stmt_free_result(st->cur->s);
    mysql_stmt_reset(st->cur->s);
    st->cur = NULL;
}

/* ---- reading columns ------------------------------------------------------- */

/* The shortest decimal that reads back as f (FLOAT columns: 0.1, not
 * 0.10000000149011612), as a double. */
static double float_value(float f)
{
    char buf[32];
    if (!isfinite(f))
        return (double)f;
    for (int prec = 6; prec < 9; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, (double)f);
        if (strtof(buf, NULL) == f)
            return strtod(buf, NULL);
    }
    return (double)f;
}

/* The current row's column col in the text form the server gives it
 * (CAST(col AS BINARY) prints the same: Connector/C converts as the
 * server does), into st->num. */
static void column_text(struct mysql_plugin *st, int col, pvm_sql_value *v)
{
    unsigned long len = 0;
    my_bool is_null = 0, trunc = 0;
    MYSQL_BIND b = {.buffer_type = MYSQL_TYPE_STRING,
                    .buffer = st->num,
                    .buffer_length = sizeof(st->num) - 1,
                    .length = &len,
                    .is_null = &is_null,
                    .error = &trunc};
    if (mysql_stmt_fetch_column(st->cur->s, &b, (unsigned)col, 0) != 0 ||
        is_null || trunc)
        return; /* NULL */
    st->num[len] = '\0';
    *v = (pvm_sql_value){.kind = PVM_SQL_TEXT, .text = st->num, .len = len};
}

/* driver column: label columns (as_text) as the server prints them;
 * otherwise numbers as NUMBER, dates as TIME (UTC, ms: TIMESTAMP columns
 * arrive in the session's zone, UTC; DATETIME and DATE are taken as UTC)
 * and the rest (text, DECIMAL, JSON, a zero date, ...) as TEXT. */
static void mysql_drv_column(pvm_plugin *self, int col, bool as_text,
                             pvm_sql_value *v)
{
    struct mysql_plugin *st = pvm_plugin_state(self);
    const struct col *k = &st->cur->cols[col];
    *v = (pvm_sql_value){.kind = PVM_SQL_NULL};
    if (k->is_null)
        return;
    if (k->kind == COL_TEXT) {
        k->buf[k->len] = '\0'; /* len < cap (bind_col) */
        *v = (pvm_sql_value){.kind = PVM_SQL_TEXT,
                             .text = k->buf,
                             .len = k->len};
        return;
    }
    if (as_text)
        return column_text(st, col, v);
    v->kind = PVM_SQL_NUMBER;
    switch (k->kind) {
    case COL_INT: v->num = (double)k->i; return;
    case COL_UINT: v->num = (double)(unsigned long long)k->i; return;
    case COL_DOUBLE: v->num = k->d; return;
    case COL_FLOAT: v->num = float_value(k->f); return;
    case COL_BITS: {
        unsigned long long b = 0;
        for (unsigned long i = 0; i < k->len && i < 8; i++)
            b = b << 8 | (unsigned char)k->buf[i];
        v->num = (double)b;
        return;
    }
    case COL_TIME: {
        const MYSQL_TIME *t = &k->tm;
        if (t->month < 1 || t->month > 12 || t->day < 1 || t->day > 31) {
            v->kind = PVM_SQL_NULL; /* '0000-00-00': its text, refused */
            return column_text(st, col, v);
        }
        int64_t d = pvm_days_from_civil(t->year, (int)t->month, (int)t->day);
        v->kind = PVM_SQL_TIME;
        v->ms = ((d * 24 + t->hour) * 60 + t->minute) * 60000 +
                t->second * 1000LL + (int64_t)(t->second_part + 500) / 1000;
        return;
    }
    case COL_TEXT: return;
    }
}

/* ---- the plugin type ------------------------------------------------------- */

static const pvm_sql_driver mysql_driver = {
    .name = "mysql",
    .ident_quote = '`',
    .text_cast = "CAST(%s AS BINARY)", /* exact: no case folding, no
                                          trailing-space padding */
    .placeholder = mysql_drv_placeholder,
    .connect = mysql_drv_connect,
    .close = mysql_drv_close,
    .is_broken = mysql_drv_is_broken,
    .describe = mysql_drv_describe,
    .exec = mysql_drv_exec,
    .step = mysql_drv_step,
    .column = mysql_drv_column,
    .finish = mysql_drv_finish,
};

#define MY(field) offsetof(struct mysql_plugin, field)

/* [plugin:NAME] keys: the connection's, then the core's. */
static const pvm_plugin_key mysql_keys[] = {
    {"host", PVM_KEY_STRING, MY(host),
     .doc = "server host name or address (default: the local socket)"},
    {"port", PVM_KEY_INT, MY(port), .def = "3306", .min = 1, .max = 65535,
     .doc = "TCP port of the server"},
    {"socket", PVM_KEY_PATH, MY(socket),
     .doc = "Unix socket of a local server (instead of host and port)"},
    {"database", PVM_KEY_STRING, MY(database), .required = true,
     .doc = "the database (schema) the queries run in"},
    {"user", PVM_KEY_STRING, MY(user),
     .doc = "account name (default: the login name of pvm-fcgi's user)"},
    {"password_file", PVM_KEY_PATH, MY(password_file),
     .doc = "file holding the account's password (read at each connect, "
            "never logged)"},
    {"tls", PVM_KEY_ENUM, MY(tls), .def = "no", .choices = tls_choices,
     .doc = "TLS: no, yes (required, certificate not checked) or verify "
            "(checked against tls_ca, with the host name)"},
    {"tls_ca", PVM_KEY_PATH, MY(tls_ca),
     .doc = "CA certificate(s) the server's certificate is checked against"},
    {"tls_cert", PVM_KEY_PATH, MY(tls_cert),
     .doc = "client certificate, for accounts that require one"},
    {"tls_key", PVM_KEY_PATH, MY(tls_key),
     .doc = "the client certificate's private key"},
    {"connect_timeout", PVM_KEY_DURATION, MY(connect_ms), .def = "5s",
     .min = 1000, .max = 3600000,
     .doc = "how long a connection attempt may take (whole seconds)"},
    {"io_timeout", PVM_KEY_DURATION, MY(io_ms), .def = "60s", .min = 1000,
     .max = 3600000,
     .doc = "a server that sends nothing for this long is taken as gone "
            "(whole seconds; statements are bounded by the request's "
            "time on the server)"},
    PVM_SQL_CORE_KEYS,
    PVM_SQL_SERVER_KEYS,
    {NULL},
};

/* check: the core's settings, then TLS files only with TLS. */
static int mysql_check(pvm_plugin *self, pvm_error *err)
{
    const struct mysql_plugin *st = pvm_plugin_state(self);
    if (st->tls == TLS_NO && (st->tls_ca || st->tls_cert || st->tls_key))
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "tls_ca, tls_cert and tls_key need tls = yes "
                             "or verify");
    if (st->tls == TLS_VERIFY && !st->tls_ca)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "tls = verify needs tls_ca (the CA that signed "
                             "the server's certificate)");
    if (!st->tls_cert != !st->tls_key)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "tls_cert and tls_key go together");
    if (st->host && st->socket)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "set host (TCP) or socket, not both");
    return pvm_sql_check(self, &mysql_driver, err);
}

/* destroy: the core's part and the connection; the driver's buffers. */
static void mysql_destroy(pvm_plugin *self)
{
    struct mysql_plugin *st = pvm_plugin_state(self);
    pvm_sql_destroy(self);
    mysql_drv_close(self);
    free(st->pbind);
    free(st->plen);
    st->pbind = NULL;
    st->plen = NULL;
    st->pcap = 0;
}

const pvm_plugin_type pvm_plugin_mysql = {
    .name = "mysql", /* `type = mysql` */
    .description = "metrics from SQL queries on a MariaDB or MySQL server",
    .state_size = sizeof(struct mysql_plugin), /* zeroed per instance */
    .configure = pvm_sql_configure,            /* metric_type */
    .check = mysql_check,                      /* TLS, then the core's */
    .destroy = mysql_destroy,                  /* statements, connection */
    PVM_SQL_HOOKS,      /* startup, shutdown, queries, discovery, metadata */
    .keys = mysql_keys, /* host, ..., then the core's query, metrics, ... */
};
