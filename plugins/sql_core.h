/* sql_core.h: the SQL core shared by the sqlite, postgresql and mysql
 * plugin types. The core owns the settings every SQL source has (the
 * query, its metric(s), timestamp/value/label columns, labels_query,
 * on_bad_row, ...), rewrites the user's named parameters (:start, :end,
 * :step, :lookback) into the driver's placeholders, pushes the selector's
 * exact matchers down as a generated, parameter-bound WHERE around the
 * user's query, turns rows into samples and answers every request hook.
 * A driver only connects, runs a statement with bound parameters and
 * reads the columns of the current row.
 *
 * HOW A DRIVER PLUGS IN (plugins/sqlite.c is the reference):
 *
 *     struct my_plugin {
 *         pvm_sql_core core;   // FIRST member: the key table's offsets
 *         char *host; ...      // the driver's own settings and handles
 *     };
 *     static const pvm_sql_driver my_driver = { ... };
 *     static const pvm_plugin_key my_keys[] = {
 *         {"host", PVM_KEY_STRING, offsetof(struct my_plugin, host), ...},
 *         PVM_SQL_CORE_KEYS,        // query, metric, metrics, ...
 *         PVM_SQL_SERVER_KEYS,      // require_at_startup (servers only)
 *         {NULL},
 *     };
 *     static int my_check(pvm_plugin *self, pvm_error *err)
 *     {   // and check the driver's own keys
 *         return pvm_sql_check(self, &my_driver, err);
 *     }
 *     const pvm_plugin_type pvm_plugin_my = {
 *         .name = "my", .state_size = sizeof(struct my_plugin),
 *         .configure = pvm_sql_configure, .check = my_check,
 *         .destroy = pvm_sql_destroy,
 *         PVM_SQL_HOOKS,            // startup, shutdown, queries, ...
 *         .keys = my_keys,
 *     };
 *
 * Every driver function receives `self` (the instance: pvm_plugin_state
 * gives the driver's struct, whose first member is the core) and runs in
 * one worker, one statement at a time: exec, then step until it returns 0
 * or fails, then finish; describe and exec are never called while a
 * statement is open. Strings a driver reports in err are shown to users
 * and logged: never a password or a connection string holding one. */
#ifndef PVM_SQL_CORE_H
#define PVM_SQL_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/pvm.h>

/* ---- what the driver exchanges with the core ---------------------------- */

/* A bound parameter. The core binds the user's :start, :end, :step and
 * :lookback as NUMBER (seconds, a double: bind it as the database's
 * double precision type) and the values of pushed-down matchers as TEXT
 * (bind as text; may hold any byte but NUL, be empty or up to megabytes
 * long). Parameters are numbered in the order their placeholders appear
 * in the statement text, 1-based: param[i] belongs to placeholder i + 1. */
typedef enum pvm_sql_param_kind {
    PVM_SQL_PARAM_NUMBER, /* num */
    PVM_SQL_PARAM_TEXT,   /* text, len bytes (text[len] == '\0') */
} pvm_sql_param_kind;

typedef struct pvm_sql_param {
    pvm_sql_param_kind kind; /* which field holds the value */
    double num;              /* NUMBER */
    const char *text;        /* TEXT, valid until the statement finishes */
    size_t len;              /* TEXT: bytes */
} pvm_sql_param;

/* A cell of the current row, as the driver can best give it. */
typedef enum pvm_sql_kind {
    PVM_SQL_NULL,   /* SQL NULL */
    PVM_SQL_NUMBER, /* num: integers, reals, decimals, booleans (0/1) */
    PVM_SQL_TEXT,   /* text/len: character data, or any value in its text
                       form (PostgreSQL's text results: numeric "1.50",
                       timestamps "2024-05-01 12:00:00.5+00"); the core
                       parses numbers and ISO timestamps out of it */
    PVM_SQL_TIME,   /* ms: a timestamp type already decoded, ms since the
                       epoch, UTC (MariaDB's MYSQL_TIME) */
} pvm_sql_kind;

typedef struct pvm_sql_value {
    pvm_sql_kind kind; /* which fields are set */
    double num;        /* NUMBER */
    const char *text;  /* TEXT: text[len] == '\0' (NUL bytes inside are
                          allowed and detected by the core); valid until
                          the next step or finish */
    size_t len;        /* TEXT: bytes */
    int64_t ms;        /* TIME */
} pvm_sql_value;

/* A column of a statement's result, as describe reports it. */
typedef struct pvm_sql_column {
    char *name;   /* as the database names it (AS alias), malloc'd */
    bool is_text; /* declared as character data: the core compares it
                      to pushed-down values as it is (indexes help);
                      false: through the driver's text_cast */
} pvm_sql_column;

/* The driver. All functions are required unless said otherwise. */
typedef struct pvm_sql_driver {
    const char *name; /* "sqlite", "postgresql", "mysql": in messages */

    /* How the generated SQL looks. ident_quote quotes column names
     * (label names are [a-zA-Z_][a-zA-Z0-9_]*, so no escaping is ever
     * needed): '"' or '`'. text_cast is an SQL expression in which "%s"
     * (once) stands for the quoted column, giving its value as the text
     * the driver's column() returns for it, to compare with a bound TEXT
     * parameter:
     * "CAST(%s AS TEXT)", "(%s)::text", "CAST(%s AS CHAR)". */
    char ident_quote;
    const char *text_cast;

    /* Writes placeholder number i (1-based) into buf (n bytes, always
     * enough for 16 characters): "$1" (libpq), "?" (MariaDB, positional),
     * "?1" (SQLite). */
    void (*placeholder)(unsigned i, char *buf, size_t n);

    /* Opens the connection (the database, for SQLite) with the
     * instance's settings. The core calls it only when
     * pvm_sql_core.connected is false, and sets that flag itself: from
     * on_startup and validate (timeout_ms 0: the driver's own connect
     * timeout only; validate closes right after), and before a request's
     * statement when the connection is not up (timeout_ms > 0: the
     * request's remaining time, which the attempt must not outlast).
     * 0, or a negative status with err saying why (no secrets); the core
     * calls close after a failure. */
    int (*connect)(pvm_plugin *self, int64_t timeout_ms, pvm_error *err);

    /* Closes the connection and frees its handles; safe to call when not
     * connected or half-connected. Also called before a reconnect. */
    void (*close)(pvm_plugin *self);

    /* True when the last failure of exec/step means the connection is
     * gone (server restarted, socket closed): the core then closes,
     * reconnects once and retries the statement if it had read no row
     * yet. NULL: never (SQLite). */
    bool (*is_broken)(pvm_plugin *self);

    /* Checks sql (the user's query with the core's placeholders, nparams
     * of them, all NUMBER) without running it, and reports its result
     * columns: *cols is a malloc'd array of *ncols columns (the core frees
     * it with pvm_sql_columns_free). Refuses what is not exactly one
     * read-only SELECT when the database can tell (SQLite can; servers
     * run the statements in a read-only transaction instead). 0, or a
     * negative status with err saying what is wrong with the SQL. */
    int (*describe)(pvm_plugin *self, const char *sql, size_t nparams,
                    pvm_sql_column **cols, size_t *ncols, pvm_error *err);

    /* Runs sql with params bound (n of them; never splice them into the
     * text) so that step can read its rows. timeout_ms (> 0) is the time
     * the statement may take: past it the driver stops the statement on
     * the server (statement_timeout, max_statement_time, a cancel request,
     * an interrupt) and exec or step fails with PVM_ERR_TIMEOUT. The
     * result's columns are those describe reported for the same query
     * (the core only wraps it: SELECT * FROM (query) AS pvm_q WHERE ...).
     * 0, or a negative status with err: PVM_ERR_TIMEOUT (timed out), any
     * other (an SQL error, a lost connection: see is_broken). */
    int (*exec)(pvm_plugin *self, const char *sql, const pvm_sql_param *params,
                size_t n, int64_t timeout_ms, pvm_error *err);

    /* Moves to the next row: 1 when there is one, 0 at the end, a
     * negative status with err (as exec) when it fails. */
    int (*step)(pvm_plugin *self, pvm_error *err);

    /* Reads column col (0-based, as described) of the current row into
     * *v. as_text (label columns): TEXT in the value's text form (numbers
     * as the database prints them), or NULL. Otherwise the most exact
     * kind the driver has. Never fails: what the driver cannot decode is
     * TEXT in its text form. */
    void (*column)(pvm_plugin *self, int col, bool as_text, pvm_sql_value *v);

    /* Ends the statement (after the last row, a failure or when the core
     * stops early) and frees its result; the connection stays usable.
     * The core calls it once after every exec, also when exec failed
     * (it asks is_broken before). A driver that finds the connection
     * unusable here may close it itself: its next exec then fails and
     * is_broken says so, and the core reconnects. */
    void (*finish)(pvm_plugin *self);
} pvm_sql_driver;

/* ---- the instance state ------------------------------------------------- */

/* The named parameters of a query, in the order they appear. */
typedef enum pvm_sql_named {
    PVM_SQL_START,    /* :start, seconds */
    PVM_SQL_END,      /* :end, seconds */
    PVM_SQL_STEP,     /* :step, seconds (0 outside range queries) */
    PVM_SQL_LOOKBACK, /* :lookback, seconds ([server] lookback_delta) */
} pvm_sql_named;

/* A query: the user's text with placeholders and what it returns. */
typedef struct pvm_sql_query {
    const char *what;      /* "query" or "labels_query" */
    char *sql;             /* with the driver's placeholders, malloc'd */
    pvm_sql_named *params; /* per placeholder, malloc'd */
    size_t nparams;        /* number of placeholders */
    pvm_sql_column *cols;  /* described columns, or NULL until then */
    size_t ncols;          /* number of columns */
    int ts_col;            /* timestamp column, -1 if none */
    int name_col;          /* metric_column, -1 if none */
    int *val_col;          /* per metric of the core: its column */
    int *label_col;        /* label columns, malloc'd */
    size_t nlabels;        /* number of label columns */
} pvm_sql_query;

/* One metric served from a value column (`metric`/`value_column` or each
 * entry of `metrics = col:name, ...`). */
typedef struct pvm_sql_metric {
    char *column; /* value column, malloc'd */
    char *name;   /* metric name, malloc'd */
} pvm_sql_metric;

enum { PVM_SQL_BAD_ROW_FAIL, PVM_SQL_BAD_ROW_SKIP };

/* The core's part of a plugin's state (its first member). Fields set by
 * the key table are owned by the server; the rest by the core. */
typedef struct pvm_sql_core {
    /* settings (PVM_SQL_CORE_KEYS, PVM_SQL_SERVER_KEYS) */
    char *query;             /* `query =` */
    char *labels_query;      /* `labels_query =`, or NULL */
    char *metric;            /* `metric =`, or NULL */
    char *value_column;      /* `value_column =` (default value) */
    char *metrics_list;      /* `metrics = col:name, ...`, or NULL */
    char *metric_column;     /* `metric_column =`, or NULL */
    char *label_columns;     /* `label_columns = a, b`, or NULL (all) */
    char *timestamp_column;  /* `timestamp_column =` (default timestamp) */
    int on_bad_row;          /* PVM_SQL_BAD_ROW_* */
    int64_t timeout_ms;      /* `statement_timeout =`, 0: the request's */
    int64_t immutable_ms;    /* `immutable_before =`, 0: never declared */
    bool require_at_startup; /* servers: no connection at startup fails */
    char *help;              /* `help =`, or NULL */
    char *unit;              /* `unit =`, or NULL */
    pvm_metric_type type;    /* `metric_type =` (configure) */

    /* derived by pvm_sql_check, owned by the core */
    const pvm_sql_driver *drv; /* the driver */
    pvm_sql_metric *metrics;   /* the value columns served */
    size_t nmetrics;           /* number of them (0 with metric_column) */
    char **labels_only;        /* label_columns split, or NULL */
    size_t nlabels_only;       /* their number */
    pvm_sql_query main;        /* the query */
    pvm_sql_query labels;      /* the labels_query (sql NULL when none) */

    /* per worker */
    bool connected;      /* the driver's connection is up */
    int64_t lookback_ms; /* [server] lookback_delta */
    char *scratch;       /* growing buffer for generated SQL */
    size_t scratch_cap;  /* its size */
} pvm_sql_core;

/* ---- the plugin type's parts --------------------------------------------- */

#define PVM_SQL_KEY(field) offsetof(pvm_sql_core, field)

/* The key table entries every SQL plugin type has. */
#define PVM_SQL_CORE_KEYS                                                     \
    {"query", PVM_KEY_STRING, PVM_SQL_KEY(query), .required = true,           \
     .doc = "one SELECT of the samples; :start, :end, :step and :lookback "   \
            "(seconds) are bound parameters"},                                \
        {"metric", PVM_KEY_METRIC_NAME, PVM_SQL_KEY(metric),                  \
         .doc = "name of the metric served from value_column (or use "        \
                "metrics or metric_column)"},                                 \
        {"value_column", PVM_KEY_LABEL_NAME, PVM_SQL_KEY(value_column),       \
         .def = "value",                                                      \
         .doc = "column of the sample values (with metric or "                \
                "metric_column)"},                                            \
        {"metrics", PVM_KEY_STRING, PVM_SQL_KEY(metrics_list),                \
         .doc = "several metrics from one query: column:metric_name, "        \
                "comma-separated"},                                           \
        {"metric_column", PVM_KEY_LABEL_NAME, PVM_SQL_KEY(metric_column),     \
         .doc = "column holding each row's metric name"},                     \
        {"timestamp_column", PVM_KEY_LABEL_NAME,                              \
         PVM_SQL_KEY(timestamp_column), .def = "timestamp",                   \
         .doc = "column of the sample time (unix seconds or a timestamp "     \
                "type)"},                                                     \
        {"label_columns", PVM_KEY_STRING, PVM_SQL_KEY(label_columns),         \
         .doc = "the label columns, comma-separated (default: every other "   \
                "column)"},                                                   \
        {"labels_query", PVM_KEY_STRING, PVM_SQL_KEY(labels_query),           \
         .doc = "SELECT of the label sets, for discovery (default: query "    \
                "over the request's range)"},                                 \
        {"on_bad_row",                                                        \
         PVM_KEY_ENUM,                                                        \
         PVM_SQL_KEY(on_bad_row),                                             \
         .def = "fail",                                                       \
         .choices = pvm_sql_bad_row_choices,                                  \
         .doc = "a row with a bad value fails the request or is skipped "     \
                "with a warning"},                                            \
        {"statement_timeout", PVM_KEY_DURATION, PVM_SQL_KEY(timeout_ms),      \
         .def = "0s",                                                         \
         .doc = "longest a statement may run (0s: the request's remaining "   \
                "time, which also bounds it)"},                               \
        {"immutable_before", PVM_KEY_DURATION, PVM_SQL_KEY(immutable_ms),     \
         .def = "0s",                                                         \
         .doc = "rows older than this (now minus it) never change, so "       \
                "answers about them may be cached (0s: never)"},              \
        {"help", PVM_KEY_STRING, PVM_SQL_KEY(help),                           \
         .doc = "HELP text of the metric"},                                   \
        {"metric_type", PVM_KEY_CUSTOM, .def = "unknown",                     \
         .doc = "TYPE of the metric: counter, gauge, histogram, summary, "    \
                "unknown, ..."},                                              \
    {                                                                         \
        "unit", PVM_KEY_STRING, PVM_SQL_KEY(unit),                            \
            .doc = "UNIT of the metric"                                       \
    }

/* The entries of plugin types that talk to a server. */
#define PVM_SQL_SERVER_KEYS                                                   \
    {                                                                         \
        "require_at_startup", PVM_KEY_BOOL, PVM_SQL_KEY(require_at_startup),  \
            .def = "no",                                                      \
            .doc = "a server that cannot be reached at startup stops pvm "    \
                   "(no: logged, retried per request)"                        \
    }

extern const char *const pvm_sql_bad_row_choices[]; /* "fail", "skip" */

/* The hooks, all the core's. */
#define PVM_SQL_HOOKS                                                         \
    .on_startup = pvm_sql_startup, .on_shutdown = pvm_sql_shutdown,           \
    .on_instant_query_request = pvm_sql_instant,                              \
    .on_range_query_request = pvm_sql_range,                                  \
    .on_metric_names_request = pvm_sql_metric_names,                          \
    .on_label_names_request = pvm_sql_label_names,                            \
    .on_label_values_request = pvm_sql_label_values,                          \
    .on_metadata_request = pvm_sql_metadata, .validate = pvm_sql_validate

/* configure: metric_type. */
int pvm_sql_configure(pvm_plugin *self, const char *key, const char *value,
                      pvm_error *err);

/* check: sets the driver, checks the metric settings (exactly one of
 * metric, metrics, metric_column), parses metrics and label_columns and
 * rewrites the queries' parameters. */
int pvm_sql_check(pvm_plugin *self, const pvm_sql_driver *drv, pvm_error *err);

/* destroy: what the core holds (closes the driver's connection too). */
void pvm_sql_destroy(pvm_plugin *self);

/* on_startup: connects and describes the queries. A driver with
 * is_broken (a server) that cannot connect logs it and goes on, unless
 * require_at_startup; an SQL error in the queries is fatal. */
int pvm_sql_startup(pvm_plugin *self, pvm_context *ctx, pvm_error *err);
int pvm_sql_shutdown(pvm_plugin *self, pvm_context *ctx, pvm_error *err);
/* --check-config: connects, describes, closes. */
int pvm_sql_validate(pvm_plugin *self, pvm_context *ctx, pvm_error *err);

int pvm_sql_instant(pvm_plugin *self, pvm_request *req, pvm_response *resp);
int pvm_sql_range(pvm_plugin *self, pvm_request *req, pvm_response *resp);
int pvm_sql_metric_names(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp);
int pvm_sql_label_names(pvm_plugin *self, pvm_request *req,
                        pvm_response *resp);
int pvm_sql_label_values(pvm_plugin *self, pvm_request *req,
                         pvm_response *resp);
int pvm_sql_metadata(pvm_plugin *self, pvm_request *req, pvm_response *resp);

/* The core's own (sql_run.c uses them): connects when needed and
 * describes the queries, 0 or a status with err, *down when the
 * connection failed (timeout_ms: as pvm_sql_driver.connect); closes the connection and forgets the
 * descriptions. */
int pvm_sql_ready(pvm_plugin *self, int64_t timeout_ms, bool *down,
                  pvm_error *err);
void pvm_sql_disconnect(pvm_plugin *self);

/* Frees a describe result. */
void pvm_sql_columns_free(pvm_sql_column *cols, size_t n);

/* ---- text helpers (sql_text.c; byte parsers, fuzzed) --------------------- */

/* Rewrites the named parameters :start, :end, :step and :lookback of sql
 * into drv's placeholders, skipping string literals ('...', E'...'),
 * quoted identifiers ("...", `...`, [...]), dollar-quoted strings
 * ($tag$...$tag$), comments (-- and / * * /) and PostgreSQL casts (::).
 * *out (malloc'd) gets the new text, *params (malloc'd, may be NULL) the
 * parameter of each placeholder. A :name not known, or a placeholder the
 * user wrote ($1, ?), is refused: 0 or PVM_ERR_BAD_DATA with err. */
int pvm_sql_rewrite(const char *sql, const pvm_sql_driver *drv, char **out,
                    pvm_sql_named **params, size_t *nparams, pvm_error *err);

/* Reads a regex as a plain alternation of literals ("a|b|c", with
 * \-escaped punctuation as Grafana writes it): up to max alternatives,
 * each unescaped into buf (n bytes, NUL-separated), their starts in
 * alts. Returns the number of alternatives (>= 1), or 0 when the regex
 * is anything else, has an empty alternative, or does not fit. */
size_t pvm_sql_regex_literals(const char *re, char *buf, size_t n,
                              const char **alts, size_t max);

/* Parses `metrics = col:name, col:name` into a malloc'd array. 0, or
 * PVM_ERR_BAD_DATA with err naming the bad entry. */
int pvm_sql_metrics_parse(const char *s, pvm_sql_metric **out, size_t *n,
                          pvm_error *err);

/* Splits a comma-separated list of label names (blanks around names
 * ignored): malloc'd array of malloc'd names. 0 or PVM_ERR_BAD_DATA. */
int pvm_sql_names_parse(const char *s, char ***out, size_t *n, pvm_error *err);

/* Reads a timestamp written as text: unix seconds (a decimal number) or
 * an ISO date-time "YYYY-MM-DD[ T]HH:MM:SS[.fraction][Z|+HH[:MM]|-HH]"
 * (no zone: UTC), or a date "YYYY-MM-DD"; blanks around it ignored.
 * 0 with *ms set (rounded to the millisecond), or -1. */
int pvm_sql_parse_time(const char *s, size_t n, int64_t *ms);

/* Reads a number written as text (pvm_parse_sample_value, blanks
 * around it ignored; NUL bytes refused). 0 with *out set, or -1. */
int pvm_sql_parse_number(const char *s, size_t n, double *out);

#endif
