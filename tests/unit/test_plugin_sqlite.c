/* test_plugin_sqlite.c: the sqlite plugin through the test kit, on a
 * temporary database made here with the SQLite C API: range and instant
 * queries, discovery with and without labels_query, SQL errors (500
 * naming the instance) and configuration errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include <pvm/pvm.h>
#include <pvm/testkit.h>

#include "kitutil.h"

extern const pvm_plugin_type pvm_plugin_sqlite;

static const pvm_plugin_type *const table[] = {&pvm_plugin_sqlite, NULL};

static char dir[64]; /* temporary directory */
static char db[128]; /* the database in it */

#define METRIC "room_temperature_celsius"
#define QUERY                                                                 \
    "SELECT ts AS timestamp, temp AS value, room FROM readings "              \
    "WHERE ts BETWEEN :start AND :end"

/* kitchen every minute 0..600 s (20..30, NULL at 300), bedroom 0..240 s
 * (18), one reading at 1.001 s in the cellar, rooms incl. an empty attic */
static const char *const schema =
    "CREATE TABLE readings (ts, room TEXT, temp REAL);"
    "CREATE TABLE rooms (room TEXT);"
    "WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i "
    "WHERE n < 10) "
    "INSERT INTO readings SELECT n * 60, 'kitchen', "
    "CASE n WHEN 5 THEN NULL ELSE 20 + n END FROM i;"
    "WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i "
    "WHERE n < 4) "
    "INSERT INTO readings SELECT n * 60, 'bedroom', 18 FROM i;"
    "INSERT INTO readings VALUES (1.001, 'cellar', 12.5);"
    "INSERT INTO rooms VALUES ('kitchen'), ('bedroom'), ('cellar'), "
    "('attic');";

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *h;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s", msg);
    sqlite3_close(h);
}

/* The configuration of one sqlite instance `temp`; extra keys appended
 * (a static buffer). */
static const char *ini_with(const char *query, const char *extra)
{
    static char ini[2048];
    snprintf(ini, sizeof(ini),
             "[plugin:temp]\ntype = sqlite\n"
             "database = %s\nmetric = " METRIC "\nquery = %s\n%s",
             db, query, extra ? extra : "");
    return ini;
}

/* A kit with one sqlite instance `temp`; extra keys appended. */
static pvm_testkit *kit_with(const char *query, const char *extra, char *err,
                             size_t errlen)
{
    return pvm_testkit_new(ini_with(query, extra), table, err, errlen);
}

static int setup(void **state)
{
    strcpy(dir, "/tmp/pvm-test-sqlite-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof(db), "%s/readings.db", dir);
    exec_sql(db, schema);
    char err[1024];
    *state = kit_with(QUERY, NULL, err, sizeof(err));
    if (!*state)
        fail_msg("pvm_testkit_new: %s", err);
    return 0;
}

static int teardown(void **state)
{
    pvm_testkit_free(*state);
    unlink(db);
    rmdir(dir);
    return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_range_query(void **state)
{
    /* the raw rows, through a range selector: (0, 600] */
    pvm_test_response *r = ok(
        pvm_testkit_instant(*state, METRIC "[10m]", 600));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 3);
    /* sorted by labels: bedroom, cellar, kitchen */
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[2].metric.room"),
                        "kitchen");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[2].metric.__name__"),
                        METRIC);
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     4);
    /* the NULL value at 300 s is skipped */
    assert_int_equal(pvm_test_json_length(r->json, "data.result[2].values"),
                     9);
    expect_point(r->json, "data.result[2].values[3]", 240, "24");
    expect_point(r->json, "data.result[2].values[4]", 360, "26");
    expect_point(r->json, "data.result[1].values[0]", 1.001, "12.5");
    pvm_test_response_free(r);

    /* a range query: at each step the latest row within 5m; at 300 the
     * kitchen's NULL leaves 240's 24; the bedroom ends 5m after 240 */
    r = ok(pvm_testkit_range(*state, METRIC "{room=\"kitchen\"}", 0, 600, 60));
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     11);
    expect_point(r->json, "data.result[0].values[5]", 300, "24");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_range(*state, METRIC "{room=\"bedroom\"}", 0, 600, 60));
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     9);
    expect_point(r->json, "data.result[0].values[8]", 480, "18");
    pvm_test_response_free(r);

    r = ok(
        pvm_testkit_range(*state, METRIC "{room=\"kitchen\"}", 100, 200, 30));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_int_equal(pvm_test_json_length(r->json, "data.result[0].values"),
                     4);
    expect_point(r->json, "data.result[0].values[0]", 100, "21");
    expect_point(r->json, "data.result[0].values[1]", 130, "22");
    pvm_test_response_free(r);

    r = ok(pvm_testkit_range(*state, "other_metric", 0, 600, 60));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 0);
    pvm_test_response_free(r);
}

/* Instant: per room the latest reading within 5m, answered at `time`. */
static void test_instant_query(void **state)
{
    pvm_test_response *r = ok(pvm_testkit_instant(*state, METRIC, 310));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 2);
    expect_point(r->json, "data.result[0].value", 310, "18");
    expect_point(r->json, "data.result[1].value", 310, "24");
    pvm_test_response_free(r);
    /* (t - 5m, t]: the bedroom's 240 is in at 539.999, out at 540 */
    r = ok(pvm_testkit_instant(*state, METRIC "{room=\"bedroom\"}", 539.999));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(*state, METRIC "{room=\"bedroom\"}", 540));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 0);
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(*state, METRIC, 610));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    expect_point(r->json, "data.result[0].value", 610, "30");
    pvm_test_response_free(r);
}

/* Instant: a row keeps its own timestamp (the answer's point is at the
 * evaluation time): timestamp() gives it, and the staleness alert fires
 * for rooms whose readings stopped. */
static void test_instant_row_time(void **state)
{
    pvm_test_response *r = ok(
        pvm_testkit_instant(*state, "timestamp(" METRIC "{room=\"cellar\"})",
                            100));
    expect_point(r->json, "data.result[0].value", 100, "1.001");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(*state, "time() - timestamp(" METRIC ") > 60",
                               330));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 2);
    expect_point(r->json, "data.result[0].value", 330, "90");
    expect_point(r->json, "data.result[1].value", 330, "90");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_instant(*state, "time() - timestamp(" METRIC ") > 60",
                               390));
    assert_int_equal(pvm_test_json_length(r->json, "data.result"), 1);
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.room"),
                        "bedroom");
    pvm_test_response_free(r);
}

static void test_discovery(void **state)
{
    pvm_test_response *r = ok(
        pvm_testkit_label_values(*state, "__name__", NULL));
    assert_string_equal(joined(r), METRIC);
    pvm_test_response_free(r);
    r = ok(pvm_testkit_label_names(*state, NULL));
    assert_string_equal(joined(r), "__name__,room");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_label_values(*state, "room", NULL));
    assert_string_equal(joined(r), "bedroom,cellar,kitchen");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_label_values(*state, "room", "{room=~\"k.*\"}"));
    assert_string_equal(joined(r), "kitchen");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_label_values(*state, "room", "other_metric"));
    assert_string_equal(joined(r), "");
    pvm_test_response_free(r);
    /* the query's range decides without labels_query */
    r = ok(pvm_testkit_series(*state, METRIC, 400, 1000));
    assert_int_equal(pvm_test_json_length(r->json, "data"), 1);
    assert_string_equal(pvm_test_json_string(r->json, "data[0].room"),
                        "kitchen");
    assert_string_equal(pvm_test_json_string(r->json, "data[0].__name__"),
                        METRIC);
    pvm_test_response_free(r);
}

static void test_labels_query(void **state)
{
    char err[1024];
    pvm_testkit *kit = kit_with(QUERY,
                                "labels_query = SELECT DISTINCT room "
                                "FROM rooms\n",
                                err, sizeof(err));
    if (!kit)
        fail_msg("%s", err);
    pvm_test_response *r = ok(pvm_testkit_label_values(kit, "room", NULL));
    assert_string_equal(joined(r), "attic,bedroom,cellar,kitchen");
    pvm_test_response_free(r);
    r = ok(pvm_testkit_series(kit, METRIC "{room=\"attic\"}", 0, 1));
    assert_int_equal(pvm_test_json_length(r->json, "data"), 1);
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

/* Other column names, and an integer value column. */
static void test_column_names(void **state)
{
    char err[1024];
    pvm_testkit *kit = kit_with(
        "SELECT ts AS t, CAST(temp AS INTEGER) AS v, room, 'x' AS site "
        "FROM readings WHERE room = 'kitchen' AND ts <= :end",
        "timestamp_column = t\nvalue_column = v\n", err, sizeof(err));
    if (!kit)
        fail_msg("%s", err);
    pvm_test_response *r = ok(pvm_testkit_range(kit, METRIC, 60, 60, 1));
    expect_point(r->json, "data.result[0].values[0]", 60, "21");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.site"),
                        "x");
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

/* An SQL error at run time answers 500 naming the instance. */
static void test_sql_error(void **state)
{
    char err[1024];
    pvm_testkit *kit = kit_with(
        "SELECT ts AS timestamp, abs(-9223372036854775807 - (ts > 0)) "
        "AS value "
        "FROM readings WHERE ts BETWEEN :start AND :end",
        NULL, err, sizeof(err));
    if (!kit)
        fail_msg("%s", err);
    for (int i = 0; i < 2; i++) { /* the statement is usable again */
        pvm_test_response *r = pvm_testkit_range(kit, METRIC, 0, 600, 60);
        assert_int_equal(r->status, 500);
        const char *e = pvm_test_json_string(r->json, "error");
        assert_non_null(e);
        assert_non_null(strstr(e, "plugin temp: on_range_query_request "
                                  "failed: query: integer overflow"));
        pvm_test_response_free(r);
    }
    pvm_test_response *r = pvm_testkit_range(kit, METRIC, 0, 0, 60);
    assert_int_equal(r->status, 200); /* ts 0: no overflow */
    pvm_test_response_free(r);
    pvm_testkit_free(kit);

    kit = kit_with("SELECT ts AS timestamp, 'warm' AS value FROM readings",
                   NULL, err, sizeof(err));
    assert_non_null(kit);
    r = pvm_testkit_instant(kit, METRIC, 100);
    assert_int_equal(r->status, 500);
    assert_non_null(strstr(pvm_test_json_string(r->json, "error"),
                           "a value is not a number"));
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
}

static void expect_error(const char *query, const char *extra,
                         const char *want)
{
    expect_kit_error(ini_with(query, extra), table, want);
}

static void test_startup_errors(void **state)
{
    expect_error("SELEC 1", NULL,
                 "plugin temp: on_startup failed: "
                 "query: near \"SELEC\": syntax error");
    expect_error("SELECT ts AS time, temp AS value FROM readings", NULL,
                 "query: no column named 'timestamp' (set "
                 "timestamp_column)");
    expect_error("SELECT ts AS timestamp, temp FROM readings", NULL,
                 "no column named 'value'");
    expect_error(QUERY " AND room = :room", NULL,
                 "query: parameter :room is not known");
    expect_error("SELECT ts AS timestamp, temp AS value, room AS \"a b\" "
                 "FROM readings",
                 NULL, "column 'a b' is not a valid label name");
    expect_error("DELETE FROM readings", NULL, "must be a SELECT");
    expect_error(QUERY "; SELECT 1", NULL, "exactly one SELECT");
    expect_error(QUERY, "labels_query = SELECT nope FROM rooms\n",
                 "labels_query: no such column: nope");
    expect_kit_error("[plugin:temp]\ntype = sqlite\n"
                     "database = /nonexistent/x.db\nmetric = m\n"
                     "query = SELECT 1\n",
                     table,
                     "database /nonexistent/x.db: unable to open database "
                     "file");
    expect_kit_error("[plugin:temp]\ntype = sqlite\n"
                     "database = x.db\nquery = SELECT 1\n",
                     table, "missing key 'metric'");
    expect_kit_error("[plugin:temp]\ntype = sqlite\nmetric = 1bad\n", table,
                     "metric: must be a metric name "
                     "([a-zA-Z_:][a-zA-Z0-9_:]*), not '1bad'");
}

/* The database is opened read-only: the plugin cannot change it, and a
 * write through another connection is seen by the next request. */
static void test_read_only_and_fresh(void **state)
{
    exec_sql(db, "INSERT INTO readings VALUES (660, 'kitchen', 31);");
    pvm_test_response *r = ok(
        pvm_testkit_instant(*state, METRIC "{room=\"kitchen\"}", 660));
    expect_point(r->json, "data.result[0].value", 660, "31");
    pvm_test_response_free(r);
}

/* The instant answer of the `texts` table (one row at 100 s holding
 * value), through a fresh kit; NULL body checks left to the caller. */
static pvm_test_response *text_value(const char *value)
{
    char sql[256], err[1024];
    snprintf(sql, sizeof(sql),
             "DROP TABLE IF EXISTS texts; CREATE TABLE texts (ts, v TEXT);"
             "INSERT INTO texts VALUES (100, '%s');",
             value);
    exec_sql(db, sql);
    pvm_testkit *kit = kit_with("SELECT ts AS timestamp, v AS value FROM "
                                "texts WHERE ts BETWEEN :start AND :end",
                                NULL, err, sizeof(err));
    if (!kit)
        fail_msg("%s", err);
    pvm_test_response *r = pvm_testkit_instant(kit, METRIC, 100);
    pvm_testkit_free(kit);
    assert_non_null(r);
    return r;
}

/* Text values are read as Prometheus' text format reads them (Go's
 * ParseFloat without hex floats and '_'): "0x10" is not 16. */
static void test_text_values(void **state)
{
    static const struct {
        const char *text; /* the TEXT cell */
        const char *want; /* the value answered */
    } good[] = {
        {"42", "42"},     {" 42 ", "42"},        {"-1.5", "-1.5"},
        {".5", "0.5"},    {"1e3", "1000"},       {"1E-3", "0.001"},
        {"+Inf", "+Inf"}, {"-infinity", "-Inf"}, {"NaN", "NaN"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        pvm_test_response *r = ok(text_value(good[i].text));
        const char *v = pvm_test_json_string(r->json,
                                             "data.result[0].value[1]");
        if (!v || strcmp(v, good[i].want) != 0)
            fail_msg("'%s' read as %s, not %s", good[i].text,
                     v ? v : "nothing", good[i].want);
        pvm_test_response_free(r);
    }
    static const char *const bad[] = {"0x10",  "0X1P4", "0x1p-2",
                                      "1_000", "1e400", "12abc",
                                      "",      "1 2",   "--1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pvm_test_response *r = text_value(bad[i]);
        const char *e = pvm_test_json_string(r->json, "error");
        if (r->status != 500 || !e ||
            !strstr(e, "query: row 1: a value is "
                       "not a number"))
            fail_msg("'%s': status %d: %s", bad[i], r->status, r->body);
        pvm_test_response_free(r);
    }
    (void)state;
}

/* A label value with a NUL byte is refused with its row and column, not
 * cut at the NUL; BLOBs without one are read as text. */
static void test_blob_labels(void **state)
{
    char err[1024];
    exec_sql(db, "CREATE TABLE blobs (ts, room, v);"
                 "INSERT INTO blobs VALUES (100, X'6b6974', 1);");
    const char *q = "SELECT ts AS timestamp, v AS value, room FROM blobs "
                    "WHERE ts BETWEEN :start AND :end ORDER BY rowid";
    pvm_testkit *kit = kit_with(q, NULL, err, sizeof(err));
    if (!kit)
        fail_msg("%s", err);
    pvm_test_response *r = ok(pvm_testkit_instant(kit, METRIC, 100));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data.result[0].metric.room"),
                        "kit");
    pvm_test_response_free(r);
    static const char *const cells[] = {"X'6b0061'",
                                        "CAST(X'6b0061' AS TEXT)"};
    for (size_t i = 0; i < 2; i++) {
        char sql[256];
        snprintf(sql, sizeof(sql), "INSERT INTO blobs VALUES (100, %s, 2);",
                 cells[i]);
        exec_sql(db, sql);
        r = pvm_testkit_instant(kit, METRIC, 100);
        assert_int_equal(r->status, 500);
        const char *e = pvm_test_json_string(r->json, "error");
        if (!e || !strstr(e, "query: row 2, column 'room': the value "
                             "contains a NUL byte"))
            fail_msg("%s", r->body);
        pvm_test_response_free(r);
        exec_sql(db, "DELETE FROM blobs WHERE v = 2;");
    }
    pvm_testkit_free(kit);
    (void)state;
}

/* help, metric_type and unit declare the metric's metadata; without
 * them the instance declares none. */
static void test_metadata(void **state)
{
    pvm_test_response *r = ok(
        pvm_testkit_request(*state, "GET", "/api/v1/metadata", NULL, NULL));
    assert_string_equal(r->body, "{\"status\":\"success\",\"data\":{}}");
    pvm_test_response_free(r);
    char err[1024];
    pvm_testkit *k = kit_with(QUERY,
                              "help = Room \"temperature\"\n"
                              "metric_type = gauge\nunit = celsius\n",
                              err, sizeof(err));
    if (!k)
        fail_msg("pvm_testkit_new: %s", err);
    r = ok(pvm_testkit_request(k, "GET", "/api/v1/metadata", NULL, NULL));
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data." METRIC "[0].type"),
                        "gauge");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data." METRIC "[0].help"),
                        "Room \"temperature\"");
    assert_string_equal(pvm_test_json_string(r->json,
                                             "data." METRIC "[0].unit"),
                        "celsius");
    pvm_test_response_free(r);
    pvm_testkit_free(k);
    assert_null(kit_with(QUERY, "metric_type = gauges\n", err, sizeof(err)));
    assert_non_null(strstr(err, "metric_type: 'gauges' is not a metric "
                                "type"));
}

/* A statement still running at the request's deadline is interrupted:
 * the query answers 503 timeout at once, not after the whole scan, and
 * the statement works again for the next request. */
static void test_deadline_interrupts(void **state)
{
    (void)state;
    char err[1024];
    /* counts to 1e8 in a recursive CTE: seconds of work */
    pvm_testkit *kit = kit_with(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
        "WHERE x < 100000000) SELECT :end AS timestamp, count(*) AS value "
        "FROM c WHERE :start < 1e12",
        NULL, err, sizeof(err));
    if (!kit)
        fail_msg("%s", err);
    for (int i = 0; i < 2; i++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pvm_test_response *r =
            pvm_testkit_request(kit, "GET",
                                "/api/v1/query?query=" METRIC "&time=100"
                                "&timeout=200ms",
                                NULL, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double took = (double)(t1.tv_sec - t0.tv_sec) +
                      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        assert_non_null(r);
        if (r->status != 503)
            fail_msg("%d after %.3f s: %s", r->status, took, r->body);
        assert_string_equal(pvm_test_json_string(r->json, "errorType"),
                            "timeout");
        assert_non_null(strstr(pvm_test_json_string(r->json, "error"),
                               "query timed out in query of plugin "
                               "sqlite"));
        if (took > 2.0)
            fail_msg("answered %.3f s after a 0.2 s timeout", took);
        pvm_test_response_free(r);
    }
    pvm_testkit_free(kit);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_range_query),         T(test_instant_query),
        T(test_instant_row_time),    T(test_discovery),
        T(test_labels_query),        T(test_column_names),
        T(test_sql_error),           T(test_startup_errors),
        T(test_read_only_and_fresh), T(test_text_values),
        T(test_blob_labels),         T(test_metadata),
        T(test_deadline_interrupts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
