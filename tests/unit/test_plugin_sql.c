/* test_plugin_sql.c: the SQL core (plugins/sql_core.h): its text parsers
 * (named parameters, literal alternations, the metrics list, timestamps)
 * and, through the sqlite driver and the test kit, what every SQL plugin
 * type does: pushdown (a row the selector does not keep is never
 * computed), several metrics per query, metric_column, label_columns,
 * on_bad_row and ISO timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "kitutil.h"

#include "sql_core.h"

extern const pvm_plugin_type pvm_plugin_sqlite;

static const pvm_plugin_type *const table[] = {&pvm_plugin_sqlite, NULL};

static char dir[64]; /* temporary directory */
static char db[128]; /* the database in it */

/* ---- text parsers ---------------------------------------------------------- */

static void pg_placeholder(unsigned i, char *buf, size_t n)
{
    snprintf(buf, n, "$%u", i);
}

static void my_placeholder(unsigned i, char *buf, size_t n)
{
    (void)i;
    snprintf(buf, n, "?");
}

static const pvm_sql_driver pg = {.name = "pg",
                                  .ident_quote = '"',
                                  .placeholder = pg_placeholder};
static const pvm_sql_driver my = {.name = "my",
                                  .ident_quote = '`',
                                  .placeholder = my_placeholder};

/* Rewrites sql for d: the text (or "ERR: message"), freed by the caller. */
static char *rewrite(const pvm_sql_driver *d, const char *sql, size_t *n)
{
    char *out = NULL;
    pvm_sql_named *p = NULL;
    pvm_error err = {0};
    *n = 0;
    if (pvm_sql_rewrite(sql, d, &out, &p, n, &err) < 0) {
        char *e = malloc(strlen(err.msg) + 8);
        sprintf(e, "ERR: %s", err.msg);
        return e;
    }
    free(p);
    return out;
}

static void expect_rewrite(const pvm_sql_driver *d, const char *sql,
                           const char *want, size_t nwant)
{
    size_t n;
    char *got = rewrite(d, sql, &n);
    if (strncmp(want, "ERR: ", 5) == 0 ? !strstr(got, want + 5)
                                       : strcmp(got, want) != 0)
        fail_msg("%s\n  gave %s\n  want %s", sql, got, want);
    if (strncmp(want, "ERR: ", 5) != 0 && n != nwant)
        fail_msg("%s: %zu parameters, want %zu", sql, n, nwant);
    free(got);
}

static void test_rewrite(void **state)
{
    (void)state;
    expect_rewrite(&pg, "SELECT :start, :end, :start", "SELECT $1, $2, $3", 3);
    expect_rewrite(&my, "SELECT a FROM t WHERE ts > :step - :lookback",
                   "SELECT a FROM t WHERE ts > ? - ?", 2);
    /* literals, identifiers, comments and casts are left alone */
    expect_rewrite(&pg,
                   "SELECT ':start', \"a:end\", x::text, E'\\':end' -- :x\n"
                   ", :end /* :y */",
                   "SELECT ':start', \"a:end\", x::text, E'\\':end' -- :x\n"
                   ", $1 /* :y */",
                   1);
    expect_rewrite(&pg, "SELECT $$:start$$, $q$ ' :end $q$, :end",
                   "SELECT $$:start$$, $q$ ' :end $q$, $1", 1);
    expect_rewrite(&my, "SELECT 'it\\':start', `x:end`, :end",
                   "SELECT 'it\\':start', `x:end`, ?", 1);
    expect_rewrite(&pg, "SELECT a FROM t WHERE a = :room",
                   "ERR: parameter :room is not known", 0);
    expect_rewrite(&pg, "SELECT $1", "ERR: placeholder $1", 0);
    expect_rewrite(&my, "SELECT ?", "ERR: placeholder '?'", 0);
    expect_rewrite(&pg, "SELECT j ? 'k' FROM t", "SELECT j ? 'k' FROM t", 0);
    expect_rewrite(&pg, "SELECT 'unterminated :start",
                   "SELECT 'unterminated :start", 0);
}

static void test_regex_literals(void **state)
{
    (void)state;
    char buf[64];
    const char *alts[4];
    assert_int_equal(pvm_sql_regex_literals("a|bb|c", buf, sizeof(buf), alts,
                                            4),
                     3);
    assert_string_equal(alts[1], "bb");
    assert_int_equal(pvm_sql_regex_literals("a\\.b|c\\|d", buf, sizeof(buf),
                                            alts, 4),
                     2);
    assert_string_equal(alts[0], "a.b");
    assert_string_equal(alts[1], "c|d");
    assert_int_equal(pvm_sql_regex_literals("kitchen", buf, sizeof(buf), alts,
                                            4),
                     1);
    static const char *const not_literal[] = {
        "a|",  "|a",   "a||b", "k.*",       "(a|b)", "[ab]", "a+",
        "\\d", "\\pL", "",     "a|b|c|d|e", "^a",    "a$",   "a\\",
    };
    for (size_t i = 0; i < sizeof(not_literal) / sizeof(*not_literal); i++)
        if (pvm_sql_regex_literals(not_literal[i], buf, sizeof(buf), alts,
                                   4) != 0)
            fail_msg("'%s' read as literals", not_literal[i]);
}

static void test_lists_and_times(void **state)
{
    (void)state;
    pvm_sql_metric *m;
    size_t n;
    pvm_error err = {0};
    assert_int_equal(pvm_sql_metrics_parse(" temp:room_temp , hum : a:b ", &m,
                                           &n, &err),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(m[1].column, "hum");
    assert_string_equal(m[1].name, "a:b");
    for (size_t i = 0; i < n; i++)
        free(m[i].column), free(m[i].name);
    free(m);
    assert_true(pvm_sql_metrics_parse("temp", &m, &n, &err) < 0);
    assert_non_null(strstr(err.msg, "'temp' is not column:metric_name"));
    assert_true(pvm_sql_metrics_parse("a b:x", &m, &n, &err) < 0);
    assert_true(pvm_sql_metrics_parse("a:1x", &m, &n, &err) < 0);
    assert_true(pvm_sql_metrics_parse(" , ", &m, &n, &err) < 0);

    int64_t ms;
    static const struct {
        const char *s;
        int64_t ms;
    } times[] = {
        {"1700000000", 1700000000000},
        {" 1700000000.25 ", 1700000000250},
        {"2023-11-14 22:13:20", 1700000000000},
        {"2023-11-14T22:13:20.123456Z", 1700000000123},
        {"2023-11-14 23:13:20.5+01", 1700000000500},
        {"2023-11-14 20:43:20-01:30", 1700000000000},
        {"1970-01-01", 0},
        {"1969-12-31 23:59:59", -1000},
    };
    for (size_t i = 0; i < sizeof(times) / sizeof(*times); i++) {
        if (pvm_sql_parse_time(times[i].s, strlen(times[i].s), &ms) < 0)
            fail_msg("'%s' refused", times[i].s);
        if (ms != times[i].ms)
            fail_msg("'%s' read as %lld", times[i].s, (long long)ms);
    }
    static const char *const bad[] = {"",
                                      "2023-13-01",
                                      "2023-11-14 25:00",
                                      "yesterday",
                                      "2023-11-14 22:13:20 UTC",
                                      "1e400"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        if (pvm_sql_parse_time(bad[i], strlen(bad[i]), &ms) == 0)
            fail_msg("'%s' read as a time", bad[i]);
    assert_true(pvm_sql_parse_time("1\0002", 3, &ms) < 0);
}

/* ---- the core through sqlite ------------------------------------------------ */

static void exec_sql(const char *sql)
{
    sqlite3 *h;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s", msg);
    sqlite3_close(h);
}

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/pvm-test-sql-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/sql.db", dir);
    /* the bath's row at 60 s overflows when its value is computed */
    exec_sql("CREATE TABLE r (ts, room TEXT, temp REAL, hum REAL, "
             "ok TEXT, kind TEXT);"
             "INSERT INTO r VALUES (0, 'kitchen', 20, 40, '1', 'temp'),"
             "(60, 'kitchen', 21, 41, '1', 'temp'),"
             "(0, 'bath', 22, NULL, '1', 'hum'),"
             "(60, 'bath', -1, 43, 'warm', 'hum'),"
             "(0, 'cellar', 10, 50, '1', 'temp'),"
             "(0.25, 'attic', 5, 5, '1', '1bad');"
             "CREATE TABLE s (t TEXT, v);"
             "INSERT INTO s VALUES ('2023-11-14 22:13:20.250', 1),"
             "('2023-11-14T23:14:20+01:00', 2);");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(db);
    rmdir(dir);
    return 0;
}

static pvm_testkit *kit(const char *keys)
{
    char ini[2048];
    snprintf(ini, sizeof(ini), "[plugin:q]\ntype = sqlite\ndatabase = %s\n%s",
             db, keys);
    return kit_or_fail(ini, table);
}

/* The overflow in the bath's row is in its value, computed only for rows
 * the pushed-down WHERE keeps: room="kitchen" and room=~"kitchen|cellar"
 * never compute it, room=~"k.*" (post-filtered) does. */
static void test_pushdown(void **state)
{
    (void)state;
    pvm_testkit *k = kit(
        "metric = m\nquery = SELECT ts AS timestamp, CASE WHEN temp < 0 "
        "THEN abs(-9223372036854775807 - 1) ELSE temp END AS value, room "
        "FROM r WHERE ts BETWEEN :start AND :end\n");
    pvm_test_response *r = status(pvm_testkit_range(k, "m{room=\"kitchen\"}",
                                                    0, 60, 60),
                                  200);
    assert_non_null(strstr(r->body, "\"21\""));
    pvm_test_response_free(r);
    pvm_test_response_free(
        status(pvm_testkit_range(k, "m{room=~\"kitchen|cellar\"}", 0, 60, 60),
               200));
    pvm_test_response_free(
        status(pvm_testkit_range(k, "m{room!=\"bath\"}", 0, 60, 60), 200));
    r = status(pvm_testkit_range(k, "m{room=~\"k.*\"}", 0, 60, 60), 500);
    assert_non_null(strstr(r->body, "integer overflow"));
    pvm_test_response_free(r);
    /* two selectors: the OR of their conditions */
    pvm_test_response_free(
        status(pvm_testkit_range(k, "m{room=\"kitchen\"} + m{room=\"cellar\"}",
                                 0, 60, 60),
               200));
    pvm_testkit_free(k);
}

static void test_metrics_and_bad_rows(void **state)
{
    (void)state;
    pvm_testkit *k = kit("metrics = temp:t_c, hum:h_pct\n"
                         "label_columns = room\n"
                         "query = SELECT ts AS timestamp, temp, hum, room, ok "
                         "FROM r WHERE ts BETWEEN :start AND :end\n");
    pvm_test_response *r =
        status(pvm_testkit_instant(k, "h_pct{room=\"bath\"}", 60), 200);
    assert_non_null(strstr(r->body, "\"43\""));
    assert_null(strstr(r->body, "\"ok\"")); /* not a label column */
    pvm_test_response_free(r);
    r = status(pvm_testkit_instant(k, "{room=\"bath\"}", 0), 200);
    assert_non_null(strstr(r->body, "t_c")); /* hum NULL: no h_pct */
    assert_null(strstr(r->body, "h_pct"));
    pvm_test_response_free(r);
    pvm_testkit_free(k);

    k = kit("metric = v\non_bad_row = skip\n"
            "query = SELECT ts AS timestamp, ok AS value, room FROM r\n");
    r = status(pvm_testkit_instant(k, "v", 60), 200);
    assert_non_null(strstr(r->body, "skipped a bad row"));
    assert_non_null(strstr(r->body, "column 'value'"));
    pvm_test_response_free(r);
    pvm_testkit_free(k);
    k = kit("metric = v\n"
            "query = SELECT ts AS timestamp, ok AS value, room FROM r\n");
    r = status(pvm_testkit_instant(k, "v{room=\"bath\"}", 60), 500);
    assert_non_null(strstr(r->body, "a value is not a number"));
    pvm_test_response_free(r);
    /* a bad row the selector does not keep fails nothing */
    pvm_test_response_free(
        status(pvm_testkit_instant(k, "v{room=~\"kit.*\"}", 60), 200));
    pvm_testkit_free(k);
}

static void test_metric_column_and_times(void **state)
{
    (void)state;
    pvm_testkit *k = kit("metric_column = kind\nvalue_column = temp\n"
                         "query = SELECT ts AS timestamp, kind, temp, room "
                         "FROM r WHERE ts BETWEEN :start AND :end AND kind "
                         "<> '1bad'\n");
    pvm_test_response *r = status(pvm_testkit_instant(k, "hum", 60), 200);
    assert_non_null(strstr(r->body, "\"bath\""));
    assert_null(strstr(r->body, "kitchen"));
    pvm_test_response_free(r);
    r = status(pvm_testkit_label_values(k, "__name__", NULL), 200);
    assert_non_null(strstr(r->body, "\"temp\""));
    pvm_test_response_free(r);
    pvm_testkit_free(k);

    k = kit("metric = s\nquery = SELECT t AS timestamp, v AS value FROM s\n");
    r = status(pvm_testkit_instant(k, "timestamp(s)", 1700000001), 200);
    assert_non_null(strstr(r->body, "\"1700000000.25\""));
    pvm_test_response_free(r);
    r = status(pvm_testkit_instant(k, "timestamp(s)", 1700000061), 200);
    assert_non_null(strstr(r->body, "\"1700000060\""));
    pvm_test_response_free(r);
    pvm_testkit_free(k);
}

static void test_settings_refused(void **state)
{
    (void)state;
    static const struct {
        const char *keys, *want;
    } cases[] = {
        {"query = SELECT 1\n", "missing key 'metric'"},
        {"metric = a\nmetrics = x:b\nquery = SELECT 1\n", "set one of"},
        {"metrics = x\nquery = SELECT 1\n", "metrics: 'x' is not"},
        {"metric = a\nlabel_columns = a b\nquery = SELECT 1\n",
         "label_columns: 'a b' is not a label name"},
        {"metric = a\nquery = SELECT ts AS timestamp, temp AS value FROM r "
         "WHERE ts > :since\n",
         "query: parameter :since is not known"},
        {"metric = a\nlabel_columns = nope\nquery = SELECT ts AS timestamp, "
         "temp AS value FROM r\n",
         "no column named 'nope'"},
        {"metrics = temp:a, nope:b\nquery = SELECT ts AS timestamp, temp "
         "FROM r\n",
         "no column named 'nope' (set metrics)"},
        {"metric = a\non_bad_row = ignore\nquery = SELECT 1\n", "on_bad_row"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char ini[1024], err[1024] = "";
        snprintf(ini, sizeof(ini),
                 "[plugin:q]\ntype = sqlite\ndatabase = %s\n%s", db,
                 cases[i].keys);
        pvm_testkit *k = pvm_testkit_new(ini, table, err, sizeof(err));
        if (k) {
            pvm_testkit_free(k);
            fail_msg("accepted: %s", cases[i].keys);
        }
        if (!strstr(err, cases[i].want))
            fail_msg("'%s' does not say '%s'", err, cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_regex_literals),
        cmocka_unit_test(test_lists_and_times),
        cmocka_unit_test_setup_teardown(test_pushdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_and_bad_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_metric_column_and_times, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_settings_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
