/* postgresql.c: charts a PostgreSQL database: the SQL core (sql_core.h)
 * with a libpq driver. One connection per worker (opened in on_startup,
 * retried per request while the server is down, reconnected once when it
 * breaks); each statement runs in a READ ONLY transaction with SET LOCAL
 * statement_timeout from the request's remaining time, parameters bound
 * with PQsendQueryParams, rows read one at a time (single-row mode) so
 * that a big result never sits in memory; at the deadline a cancel
 * request backs the server's timeout up. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include <pvm/pvm.h>

#include "sql_core.h"

/* Type OIDs (pg_type.dat): what column() reads as a number. */
enum {
    OID_BOOL = 16,
    OID_NAME = 19,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
    OID_NUMERIC = 1700,
};

/* Extra time after the deadline for the server to answer a cancel. */
#define CANCEL_GRACE_MS 2000

static const char *const sslmodes[] = {"prefer",  "disable",   "allow",
                                       "require", "verify-ca", "verify-full",
                                       NULL};

/* Per-instance state. */
struct pg_plugin {
    pvm_sql_core core;    /* first: the core's keys point here */
    char *conninfo;       /* `conninfo =` (secret: may hold a password) */
    char *host;           /* `host =` (a name, an address or a socket
                              directory) */
    int64_t port;         /* `port =`, 0: libpq's default */
    char *dbname;         /* `dbname =` */
    char *user;           /* `user =` */
    char *password_file;  /* `password_file =`, resolved */
    int sslmode;          /* `sslmode =`, index in sslmodes */
    int64_t connect_ms;   /* `connect_timeout =` */
    PGconn *conn;         /* the worker's connection, or NULL */
    PGresult *row;        /* the current row (single-row mode) */
    bool active;          /* a statement's results are not all read */
    bool cancelled;       /* a cancel request was sent */
    int64_t deadline;     /* CLOCK_MONOTONIC ms of the statement */
    char numbers[64][32]; /* NUMBER parameters as text */
};

#define PG(field) offsetof(struct pg_plugin, field)

static const pvm_plugin_key pg_keys[] = {
    {"conninfo", PVM_KEY_STRING, PG(conninfo), .secret = true,
     .doc = "libpq connection string or URI (host=... dbname=...); the "
            "keys below override it"},
    {"host", PVM_KEY_STRING, PG(host),
     .doc = "server host name, address or Unix socket directory"},
    {"port", PVM_KEY_INT, PG(port), .min = 1, .max = 65535,
     .doc = "server port (default 5432)"},
    {"dbname", PVM_KEY_STRING, PG(dbname), .doc = "database name"},
    {"user", PVM_KEY_STRING, PG(user), .doc = "user name"},
    {"password_file", PVM_KEY_PATH, PG(password_file),
     .doc = "file holding the password (never the password itself here)"},
    {"sslmode", PVM_KEY_ENUM, PG(sslmode), .def = "prefer",
     .choices = sslmodes, .doc = "libpq's sslmode"},
    {"connect_timeout", PVM_KEY_DURATION, PG(connect_ms), .def = "5s",
     .min = 100, .doc = "longest a connection attempt may take"},
    PVM_SQL_CORE_KEYS,
    PVM_SQL_SERVER_KEYS,
    {NULL},
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libpq's message without its trailing newline, into err. */
static int pg_error(pvm_error *err, int code, const char *what,
                    const char *msg)
{
    size_t n = msg ? strlen(msg) : 0;
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--;
    return pvm_error_set(err, code, "%s%.*s", what, (int)n,
                         n ? msg : "no message");
}

/* ---- connecting ----------------------------------------------------------- */

static void pg_placeholder(unsigned i, char *buf, size_t n)
{
    snprintf(buf, n, "$%u", i);
}

/* Waits until fd is ready (POLLIN or POLLOUT) or the deadline: 1 ready,
 * 0 timed out. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, events, 0};
        int rc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return 1; /* let libpq see the error */
    }
}

static int pg_connect(pvm_plugin *self, int64_t timeout_ms, pvm_error *err)
{
    struct pg_plugin *st = pvm_plugin_state(self);
    const char *k[12], *v[12];
    char port[16], *password = NULL;
    int n = 0;
    if (st->password_file &&
        !(password = pvm_secret_file_read(st->password_file, err)))
        return err->code;
    if (st->conninfo)
        k[n] = "dbname", v[n++] = st->conninfo; /* expanded */
    if (st->host)
        k[n] = "host", v[n++] = st->host;
    if (st->port) {
        snprintf(port, sizeof(port), "%d", (int)st->port);
        k[n] = "port", v[n++] = port;
    }
    if (st->dbname)
        k[n] = "dbname", v[n++] = st->dbname;
    if (st->user)
        k[n] = "user", v[n++] = st->user;
    if (password)
        k[n] = "password", v[n++] = password;
    k[n] = "sslmode", v[n++] = sslmodes[st->sslmode];
    k[n] = "application_name", v[n++] = "pvm";
    k[n] = NULL, v[n] = NULL;
    st->conn = PQconnectStartParams(k, v, 1);
    pvm_secret_free(password);
    if (!st->conn)
        return pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    int64_t deadline = now_ms() + st->connect_ms;
    if (timeout_ms > 0 && now_ms() + timeout_ms < deadline)
        deadline = now_ms() + timeout_ms;
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED &&
           PQstatus(st->conn) != CONNECTION_BAD) {
        short ev = ps == PGRES_POLLING_READING ? POLLIN : POLLOUT;
        if (!wait_fd(PQsocket(st->conn), ev, deadline))
            return pvm_error_set(err, PVM_ERR_TIMEOUT,
                                 "connecting timed out (connect_timeout or "
                                 "the request's deadline)");
        ps = PQconnectPoll(st->conn);
    }
    if (PQstatus(st->conn) != CONNECTION_OK)
        return pg_error(err, PVM_ERR_EXECUTION,
                        "cannot connect: ", PQerrorMessage(st->conn));
    /* timestamps as ISO text in UTC; floats exact */
    PGresult *r = PQexec(st->conn, "SET TimeZone = 'UTC'; SET DateStyle = "
                                   "'ISO, YMD'; SET extra_float_digits = 3");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pg_error(err, PVM_ERR_EXECUTION,
                      "session setup: ", PQresultErrorMessage(r));
    PQclear(r);
    return rc;
}

static void pg_close(pvm_plugin *self)
{
    struct pg_plugin *st = pvm_plugin_state(self);
    PQclear(st->row);
    st->row = NULL;
    st->active = false;
    PQfinish(st->conn);
    st->conn = NULL;
}

static bool pg_is_broken(pvm_plugin *self)
{
    struct pg_plugin *st = pvm_plugin_state(self);
    return !st->conn || PQstatus(st->conn) == CONNECTION_BAD;
}

/* ---- statements ------------------------------------------------------------ */

static bool is_text_oid(Oid t)
{
    return t == OID_TEXT || t == OID_VARCHAR || t == OID_BPCHAR ||
           t == OID_NAME;
}

/* Prepares the unnamed statement (the :params as double precision) and
 * reads its result columns, running nothing. */
static int pg_describe(pvm_plugin *self, const char *sql, size_t nparams,
                       pvm_sql_column **cols, size_t *ncols, pvm_error *err)
{
    struct pg_plugin *st = pvm_plugin_state(self);
    Oid types[64];
    if (nparams > 64)
        return pvm_error_set(err, PVM_ERR_BAD_DATA, "more than 64 parameters");
    for (size_t i = 0; i < nparams; i++)
        types[i] = OID_FLOAT8;
    PGresult *r = PQprepare(st->conn, "", sql, (int)nparams, types);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = pg_error(err, PVM_ERR_BAD_DATA, "", PQresultErrorMessage(r));
        PQclear(r);
        return rc;
    }
    PQclear(r);
    r = PQdescribePrepared(st->conn, "");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = pg_error(err, PVM_ERR_BAD_DATA, "", PQresultErrorMessage(r));
        PQclear(r);
        return rc;
    }
    int n = PQnfields(r);
    *cols = calloc((size_t)n + 1, sizeof(**cols));
    *ncols = 0;
    int rc = *cols ? 0 : pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        if (!((*cols)[i].name = strdup(PQfname(r, i)))) {
            rc = pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
            break;
        }
        (*cols)[i].is_text = is_text_oid(PQftype(r, i));
        *ncols = (size_t)i + 1;
    }
    PQclear(r);
    return rc;
}

/* Runs a command of ours (no parameters) and checks it. */
static int command(struct pg_plugin *st, const char *sql, pvm_error *err)
{
    PGresult *r = PQexec(st->conn, sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pg_error(err, PVM_ERR_EXECUTION, "",
                      r ? PQresultErrorMessage(r) : PQerrorMessage(st->conn));
    PQclear(r);
    return rc;
}

static int pg_exec(pvm_plugin *self, const char *sql, const pvm_sql_param *p,
                   size_t n, int64_t timeout_ms, pvm_error *err)
{
    struct pg_plugin *st = pvm_plugin_state(self);
    if (!st->conn)
        return pvm_error_set(err, PVM_ERR_EXECUTION, "not connected");
    char begin[128];
    snprintf(begin, sizeof(begin),
             "BEGIN READ ONLY; SET LOCAL statement_timeout = %lld",
             (long long)(timeout_ms > INT32_MAX ? INT32_MAX : timeout_ms));
    if (command(st, begin, err) < 0)
        return err->code;
    const char **values = calloc(n + 1, sizeof(*values));
    int *lengths = calloc(n + 1, sizeof(*lengths));
    Oid *types = calloc(n + 1, sizeof(*types));
    int rc = 0;
    if (!values || !lengths || !types)
        rc = pvm_error_set(err, PVM_ERR_INTERNAL, "out of memory");
    for (size_t i = 0, k = 0; rc == 0 && i < n; i++) {
        if (p[i].kind == PVM_SQL_PARAM_NUMBER) {
            if (k == 64) {
                rc = pvm_error_set(err, PVM_ERR_BAD_DATA,
                                   "more than 64 parameters");
                break;
            }
            snprintf(st->numbers[k], sizeof(st->numbers[k]), "%.17g",
                     p[i].num);
            values[i] = st->numbers[k++];
            types[i] = OID_FLOAT8;
        } else {
            values[i] = p[i].text;
            lengths[i] = (int)p[i].len;
            types[i] = OID_TEXT;
        }
    }
    if (rc == 0 && !PQsendQueryParams(st->conn, sql, (int)n, types, values,
                                      lengths, NULL, 0))
        rc = pg_error(err, PVM_ERR_EXECUTION, "", PQerrorMessage(st->conn));
    free(values);
    free(lengths);
    free(types);
    if (rc < 0) {
        PQclear(PQexec(st->conn, "ROLLBACK"));
        return rc;
    }
    PQsetSingleRowMode(st->conn);
    st->active = true;
    st->cancelled = false;
    st->deadline = now_ms() + timeout_ms;
    return 0;
}

/* Sends a cancel request for the running statement (once). */
static void cancel(struct pg_plugin *st)
{
    if (st->cancelled)
        return;
    st->cancelled = true;
    PGcancel *c = PQgetCancel(st->conn);
    char buf[256];
    if (c) {
        PQcancel(c, buf, sizeof(buf));
        PQfreeCancel(c);
    }
}

/* The next result of the running statement, waiting until the deadline
 * (then cancelling it) and a grace time for the cancel; NULL when there
 * is none, or when the server did not answer at all (*lost). */
static PGresult *next_result(struct pg_plugin *st, bool *lost)
{
    *lost = false;
    while (PQisBusy(st->conn)) {
        int64_t until = st->cancelled ? st->deadline + CANCEL_GRACE_MS
                                      : st->deadline;
        if (!wait_fd(PQsocket(st->conn), POLLIN, until)) {
            if (st->cancelled) {
                *lost = true;
                return NULL;
            }
            cancel(st);
            continue;
        }
        if (!PQconsumeInput(st->conn))
            break; /* the connection broke: PQgetResult says so */
    }
    return PQgetResult(st->conn);
}

/* Reads what is left of the statement's results and ends its
 * transaction; a connection that does not answer is closed. */
static void drain(struct pg_plugin *st)
{
    bool lost = false;
    PGresult *r;
    if (st->active)
        while ((r = next_result(st, &lost)))
            PQclear(r);
    st->active = false;
    if (lost || PQstatus(st->conn) == CONNECTION_BAD) {
        PQfinish(st->conn);
        st->conn = NULL;
        return;
    }
    PQclear(PQexec(st->conn, "ROLLBACK"));
}

static int pg_step(pvm_plugin *self, pvm_error *err)
{
    struct pg_plugin *st = pvm_plugin_state(self);
    PQclear(st->row);
    st->row = NULL;
    if (!st->active)
        return 0;
    bool lost;
    PGresult *r = next_result(st, &lost);
    if (!r) {
        st->active = false;
        if (lost)
            return pvm_error_set(err, PVM_ERR_TIMEOUT,
                                 "the server did not answer the cancel");
        return 0;
    }
    switch (PQresultStatus(r)) {
    case PGRES_SINGLE_TUPLE: st->row = r; return 1;
    case PGRES_TUPLES_OK: /* the end */
    case PGRES_COMMAND_OK: PQclear(r); return 0;
    default: break;
    }
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    int rc;
    if ((state && strcmp(state, "57014") == 0) || st->cancelled)
        rc = pvm_error_set(err, PVM_ERR_TIMEOUT, "statement cancelled");
    else
        rc = pg_error(err, PVM_ERR_EXECUTION, "", PQresultErrorMessage(r));
    PQclear(r);
    return rc;
}

static void pg_column(pvm_plugin *self, int col, bool as_text,
                      pvm_sql_value *v)
{
    struct pg_plugin *st = pvm_plugin_state(self);
    PGresult *r = st->row;
    *v = (pvm_sql_value){.kind = PVM_SQL_NULL};
    if (!r || PQgetisnull(r, 0, col))
        return;
    const char *t = PQgetvalue(r, 0, col);
    if (!as_text) {
        switch (PQftype(r, col)) {
        case OID_BOOL:
            v->kind = PVM_SQL_NUMBER;
            v->num = t[0] == 't';
            return;
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
        case OID_OID:
        case OID_FLOAT4:
        case OID_FLOAT8:
        case OID_NUMERIC:
            v->kind = PVM_SQL_NUMBER;
            v->num = strtod(t, NULL); /* also NaN, Infinity, -Infinity */
            return;
        default: break;
        }
    }
    v->kind = PVM_SQL_TEXT;
    v->text = t;
    v->len = (size_t)PQgetlength(r, 0, col);
}

static void pg_finish(pvm_plugin *self)
{
    struct pg_plugin *st = pvm_plugin_state(self);
    PQclear(st->row);
    st->row = NULL;
    if (!st->conn)
        return;
    if (st->active)
        cancel(st); /* stopped early: do not read the rest */
    drain(st);
}

static const pvm_sql_driver pg_driver = {
    .name = "postgresql",
    .ident_quote = '"',
    .text_cast = "(%s)::text",
    .placeholder = pg_placeholder,
    .connect = pg_connect,
    .close = pg_close,
    .is_broken = pg_is_broken,
    .describe = pg_describe,
    .exec = pg_exec,
    .step = pg_step,
    .column = pg_column,
    .finish = pg_finish,
};

static int pg_check(pvm_plugin *self, pvm_error *err)
{
    const struct pg_plugin *st = pvm_plugin_state(self);
    if (!st->conninfo && !st->host && !st->dbname)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "set conninfo, or host and dbname");
    char *msg = NULL;
    PQconninfoOption *o = st->conninfo ? PQconninfoParse(st->conninfo, &msg)
                                       : NULL;
    PQconninfoFree(o);
    if (st->conninfo && !o) {
        /* libpq's message may quote the string, password included */
        PQfreemem(msg);
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "conninfo: not a libpq connection string or "
                             "URI (key=value ... or postgresql://...)");
    }
    return pvm_sql_check(self, &pg_driver, err);
}

const pvm_plugin_type pvm_plugin_postgresql = {
    .name = "postgresql", /* `type = postgresql` */
    .description = "metrics from an SQL query on a PostgreSQL server",
    .state_size = sizeof(struct pg_plugin), /* zeroed per instance */
    .configure = pvm_sql_configure,         /* metric_type */
    .check = pg_check,          /* connection keys, the core's settings */
    .destroy = pvm_sql_destroy, /* the connection, the core */
    PVM_SQL_HOOKS,              /* the core: queries, discovery, ... */
    .keys = pg_keys,            /* conninfo, host, ..., the core's keys */
};
